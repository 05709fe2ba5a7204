"""What the app opens at start: the command line, then what the user last ran, then the demo;
and how a scripted run (--screenshot/--quit-after) reports a model that failed."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from edgeui.engine import demo
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
    assert plan == (str(model), None, str(clip), {}, "")  # no demo, no "Demo" note


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
    gone = str(tmp_path / "deleted.mp4")
    got_model, _options, source, source_options, message = _start_plan(
        args(), remembered(str(model), gone))
    assert (got_model, source) == (str(model), fake_demo.source_uri)
    assert source_options["hold"] > 0
    assert message == ""  # the user's own model runs: nothing says "Demo"


def test_first_run_is_the_demo_and_says_so(fake_demo) -> None:
    model, options, source, _, message = _start_plan(args(), remembered())
    assert (model, options, source) == (str(fake_demo.model_path), DEMO_OPTIONS,
                                        fake_demo.source_uri)
    assert message == fake_demo.message and "sample photos" in message


def test_a_chosen_source_with_the_demo_model_does_not_claim_sample_photos(fake_demo,
                                                                          tmp_path: Path) -> None:
    cat = tmp_path / "cat.png"
    cat.write_bytes(b"x")
    model, options, source, _, message = _start_plan(args(source=str(cat)), remembered())
    assert (model, options, source) == (str(fake_demo.model_path), DEMO_OPTIONS, str(cat))
    assert message.startswith("Demo: face detection") and "sample photos" not in message


def test_the_command_line_wins_over_what_was_remembered(fake_demo, tmp_path: Path) -> None:
    old, new = tmp_path / "old.onnx", tmp_path / "new.onnx"
    for f in (old, new):
        f.write_bytes(b"x")
    plan = _start_plan(args(model=str(new), source="synthetic"), remembered(str(old), "0"))
    assert plan == (str(new), None, "synthetic", {}, "")
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
         "--screenshot", str(shot), "--quit-after", "3"],
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
