"""Settings: TOML round trip, validation, system + user layering, atomic save."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeui.config import MAX_RECENT, ModelSettings, Settings, dumps_toml, read_toml
from edgeui.errors import ConfigError


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEUI_CONFIG_DIR", str(tmp_path / "user"))
    monkeypatch.setenv("EDGEUI_SYSTEM_CONFIG", str(tmp_path / "etc" / "edgeui.toml"))
    monkeypatch.setenv("EDGEUI_DATA_DIR", str(tmp_path / "data"))


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    s = Settings.load()
    s.model_folders = ["/opt/models", 'C:\\odd "quoted" folder']
    s.last_model = "/opt/models/yolox.onnx"
    s.add_recent_source("0")
    s.add_recent_source("rtsp://cam.local/stream?x=1&y=2")
    s.snapshots_dir = "/tmp/shots"
    s.window_geometry = "AdnQywADAAA="
    s.fullscreen = True
    s.display_fps = 30.0
    s.update_model_settings("/opt/models/yolox.onnx", conf=0.4, iou=0.5, threads=2,
                            provider="CPUExecutionProvider")  # fmt: skip
    s.update_model_settings("/m/ünï côdé.tflite", top_k=3, delegate="libedgetpu.so.1")
    path = s.save()
    assert path == tmp_path / "user" / "edgeui.toml"
    again = Settings.load()
    assert again.error is None
    assert again.to_dict() == s.to_dict()
    assert again.recent_sources == ["rtsp://cam.local/stream?x=1&y=2", "0"]
    assert again.display_fps == 30.0
    assert again.model_settings("/opt/models/yolox.onnx") == ModelSettings(
        conf=0.4, iou=0.5, threads=2, provider="CPUExecutionProvider"
    )
    assert again.model_settings("/not/known.onnx") == ModelSettings()


def test_recent_sources_dedup_and_cap() -> None:
    s = Settings()
    for i in range(15):
        s.add_recent_source(f"video{i}.mp4")
    s.add_recent_source("video3.mp4")
    assert len(s.recent_sources) == MAX_RECENT
    assert s.recent_sources[0] == "video3.mp4"
    assert s.recent_sources.count("video3.mp4") == 1
    assert s.last_source == "video3.mp4"


def test_bad_toml_keeps_defaults_and_says_why(tmp_path: Path) -> None:
    user = tmp_path / "user" / "edgeui.toml"
    user.parent.mkdir(parents=True)
    user.write_text("last_model = [unclosed\n")
    s = Settings.load()
    assert isinstance(s.error, ConfigError)
    assert str(user) in str(s.error) and "TOML" in str(s.error)
    assert s.last_model == "" and s.recent_sources == []
    with pytest.raises(ConfigError):
        Settings.read(user)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("last_model = 3\n", "'last_model' must be text"),
        ("colour = 'red'\n", "unknown setting 'colour'"),
        ('[models."/a.onnx"]\nconf = 1.5\n', "between 0 and 1"),
        ('[models."/a.onnx"]\ntop_k = "five"\n', "whole number"),
        ('[models."/a.onnx"]\nfoo = 1\n', "unknown setting 'foo'"),
        ("[window]\nfullscreen = 1\n", "true or false"),
        ("[window]\ndisplay_fps = -5\n", "display_fps must be a number from 0"),
        ("[window]\ndisplay_fps = 'fast'\n", "display_fps must be a number from 0"),
    ],
)
def test_invalid_values_are_one_clear_sentence(tmp_path: Path, text: str, words: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=words) as info:
        Settings.read(f)
    assert str(f) in str(info.value)
    loaded = Settings.load(f)  # the app path: never raises, keeps defaults
    assert loaded.error is not None and loaded.models == {}


def test_user_file_overrides_system_file(tmp_path: Path) -> None:
    system = tmp_path / "etc" / "edgeui.toml"
    system.parent.mkdir(parents=True)
    system.write_text(
        'model_folders = ["/srv/models"]\nlast_source = "0"\n[window]\nfullscreen = true\n'
    )
    user = tmp_path / "user" / "edgeui.toml"
    user.parent.mkdir(parents=True)
    user.write_text('last_source = "1"\n')
    s = Settings.load()
    assert s.model_folders == ["/srv/models"]
    assert s.fullscreen is True
    assert s.last_source == "1"
    assert s.path == user


def test_a_bad_system_file_does_not_hide_the_user_file(tmp_path: Path) -> None:
    system = tmp_path / "etc" / "edgeui.toml"
    system.parent.mkdir(parents=True)
    system.write_text("= nonsense")
    user = tmp_path / "user" / "edgeui.toml"
    user.parent.mkdir(parents=True)
    user.write_text('last_model = "/m.onnx"\n')
    s = Settings.load()
    assert s.last_model == "/m.onnx"
    assert s.error is not None and str(system) in str(s.error)


def test_save_is_atomic_and_reports_unwritable_folder(tmp_path: Path) -> None:
    s = Settings.load()
    s.last_model = "/x.onnx"
    target = s.save()
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot save settings"):
        s.save(blocker / "sub" / "edgeui.toml")


def test_folders_start_with_the_default_models_folder(tmp_path: Path) -> None:
    s = Settings()
    s.add_model_folder("/extra")
    s.add_model_folder("/extra")
    assert s.folders() == [tmp_path / "data" / "models", Path("/extra")]


def test_writer_output_is_valid_toml(tmp_path: Path) -> None:
    data = {"a": 'q"\\\n\t\x01', "b": [1, 2.5, True], "t": {"x.y": {"k": "v"}, "n": 1}}
    f = tmp_path / "w.toml"
    f.write_text(dumps_toml(data))
    assert read_toml(f) == data


def test_per_model_settings_follow_the_file_however_its_path_is_written(tmp_path,
                                                                       monkeypatch) -> None:
    from edgeui.config import Settings

    monkeypatch.chdir(tmp_path)
    s = Settings(path=tmp_path / "edgeui.toml")
    s.update_model_settings("models/det.onnx", conf=0.6)  # --model as typed, relative
    full = str(tmp_path / "models" / "det.onnx")  # as last_model keeps it
    assert s.model_settings(full).conf == 0.6
    s.save()
    assert Settings.load(tmp_path / "edgeui.toml").model_settings(full).conf == 0.6


def test_per_model_settings_ignore_letter_case_where_the_file_system_does(tmp_path,
                                                                         monkeypatch) -> None:
    import edgeui.config as config

    monkeypatch.setattr(config.os.path, "normcase", lambda p: p.lower())  # as on Windows
    s = config.Settings(path=tmp_path / "edgeui.toml")
    s.update_model_settings(tmp_path / "Models" / "Det.onnx", conf=0.7)
    assert s.model_settings(tmp_path / "models" / "det.onnx").conf == 0.7


def test_settings_saved_under_an_older_letter_case_are_found_after_the_upgrade(
        tmp_path, monkeypatch) -> None:  # fmt: skip
    import edgeui.config as config

    monkeypatch.setattr(config.os.path, "normcase", lambda p: p.lower())  # as on Windows
    saved = tmp_path / "Models" / "Det.onnx"
    (tmp_path / "edgeui.toml").write_text(f'[models."{saved.as_posix()}"]\nconf = 0.7\n')
    s = config.Settings.load(tmp_path / "edgeui.toml")
    monkeypatch.chdir(tmp_path)
    assert s.model_settings("Models/Det.onnx").conf == 0.7  # a relative --model finds it
