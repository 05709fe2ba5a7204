"""The desktop app end to end (offscreen): real engine pipeline, tiny generated models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QThread

from edgeui.ui.main_window import MainWindow
from edgeui.ui.worker import InferenceWorker
from tests.helpers.modelgen import make_crashing_tflite, make_onnx_model, write_garbage

REPO = Path(__file__).resolve().parents[2]


def _classifier(path: Path, best: int) -> Path:
    logits = np.zeros((1, 10), np.float32)
    logits[0, best] = 8.0
    return make_onnx_model(path, input_shape=(1, 3, 32, 32), outputs=[logits])


@pytest.fixture
def models(tmp_path):
    return {
        "a": str(_classifier(tmp_path / "a.onnx", 3)),
        "b": str(_classifier(tmp_path / "b.onnx", 7)),
        "bad": str(write_garbage(tmp_path / "bad.onnx")),
        "crash": str(make_crashing_tflite(tmp_path / "crash.tflite")),
    }


@pytest.fixture
def window(qtbot, tmp_path):
    from edgeui.config import Settings

    settings = Settings(snapshots_dir=str(tmp_path / "snaps"), path=tmp_path / "edgeui.toml")
    worker = InferenceWorker(source="synthetic")
    win = MainWindow(worker, settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    worker.stop()


def _top_index(frame_result) -> int:
    return frame_result.result.classes[0].index


def test_window_opens_with_view_side_panel_and_controls(qtbot, window):
    qtbot.waitExposed(window)
    assert window.view.isVisible() and window.side_panel.isVisible()
    for action in (window.pause_action, window.snapshot_action, window.fullscreen_action):
        assert action.shortcuts(), action.text()
    assert window.conf_slider.slider.minimumHeight() >= 44  # touch-friendly


def test_model_and_source_produce_results_on_screen(qtbot, window, models):
    window.set_source("synthetic")
    with qtbot.waitSignal(window.worker.model_changed, timeout=10000):
        window.load_model(models["a"])
        window.worker.start()
    with qtbot.waitSignal(window.worker.result_ready, timeout=10000) as got:
        pass
    assert _top_index(got.args[0]) == 3
    qtbot.waitUntil(lambda: window.view.frames_painted > 0, timeout=5000)
    assert window.view.has_frame()
    assert window.windowTitle().startswith("edgeui — ")


def test_switching_model_under_load(qtbot, window, models):
    with qtbot.waitSignal(window.worker.model_changed, timeout=10000):
        window.load_model(models["a"])
        window.worker.start()
    with qtbot.waitSignal(window.worker.result_ready, timeout=10000):
        pass
    seen: list[int] = []
    window.worker.result_ready.connect(lambda fr: seen.append(_top_index(fr)))
    with qtbot.waitSignal(window.worker.model_changed, timeout=10000):
        window.load_model(models["b"])
    qtbot.waitUntil(lambda: bool(seen) and seen[-1] == 7, timeout=10000)
    assert 3 not in seen[seen.index(7):]  # never back to the old model once switched


@pytest.mark.parametrize(("bad", "says"), [("bad", "bad.onnx"),
                                           ("crash", "LiteRT crashed while loading")])
def test_bad_model_shows_error_and_previous_model_keeps_running(qtbot, window, models, bad, says):
    with qtbot.waitSignal(window.worker.model_changed, timeout=10000):
        window.load_model(models["a"])
        window.worker.start()
    shown: list[tuple[str, str]] = []
    orig = window.notifier.notify
    window.notifier.notify = lambda m, level="error": (shown.append((m, level)), orig(m, level))
    with qtbot.waitSignal(window.worker.model_failed, timeout=10000):
        window.load_model(models[bad])
    qtbot.waitUntil(lambda: not window.busy_action.isVisible(), timeout=5000)
    assert any(says in m and level == "error" for m, level in shown), shown
    assert all("Traceback" not in m for m, _ in shown)
    with qtbot.waitSignal(window.worker.result_ready, timeout=10000) as got:
        pass
    assert _top_index(got.args[0]) == 3
    assert window.model_path == models["a"]


def test_snapshot_writes_png_with_overlay_and_json(qtbot, window, models, tmp_path):
    with qtbot.waitSignal(window.worker.model_changed, timeout=10000):
        window.load_model(models["a"])
        window.worker.start()
    with qtbot.waitSignal(window.worker.result_ready, timeout=10000):
        pass
    with qtbot.waitSignal(window.snapshot_saved, timeout=5000) as saved:
        window.snapshot_action.trigger()
    png, js = Path(saved.args[0]), Path(saved.args[1])
    assert png.parent == tmp_path / "snaps" and png.stat().st_size > 1000
    data = json.loads(js.read_text())
    assert data["task"] == "classification" and data["classes"][0]["index"] == 3
    assert isinstance(data["frame_id"], int) and data["source"]


def test_close_stops_and_joins_the_inference_thread(qtbot, window, models):
    with qtbot.waitSignal(window.worker.model_changed, timeout=10000):
        window.load_model(models["a"])
        window.worker.start()
    thread: QThread = window.worker.thread_handle()
    assert thread.isRunning()
    window.close()
    assert not thread.isRunning()
    assert (window.settings.path).exists()  # settings saved on close


def test_pause_stops_results_until_resumed(qtbot, window, models):
    with qtbot.waitSignal(window.worker.model_changed, timeout=10000):
        window.load_model(models["a"])
        window.worker.start()
    window.toggle_pause()
    assert window.worker.is_paused()
    window.toggle_pause()
    with qtbot.waitSignal(window.worker.result_ready, timeout=10000):
        pass


def test_screenshot_and_quit_after_exit_zero(tmp_path, models):
    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "EDGEUI_CONFIG_DIR": str(tmp_path / "cfg")}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "edgeui.cli", "--model", models["a"], "--source", "synthetic",
         "--screenshot", str(shot), "--quit-after", "1.5"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert shot.stat().st_size > 5000
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() >= 640 and image.height() >= 400


def test_dropping_a_model_file_loads_it(qtbot, window, models):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    window.worker.start()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(models["b"])])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    with qtbot.waitSignal(window.worker.model_changed, timeout=10000) as changed:
        window.dropEvent(event)
    assert Path(str(changed.args[0].path)).name == "b.onnx"


def test_display_fps_caps_how_often_results_are_shown(qtbot, tmp_path, models):
    """A small device shows fewer frames and gives the CPU to inference: with a 10 fps cap,
    results are delivered and painted at most 10 times a second while inference runs on."""
    import time

    from edgeui.config import Settings

    settings = Settings(snapshots_dir=str(tmp_path / "snaps"), path=tmp_path / "edgeui.toml",
                        display_fps=10.0)
    worker = InferenceWorker(source="synthetic:64x48@0")
    win = MainWindow(worker, settings)
    qtbot.addWidget(win)
    win.show()
    try:
        with qtbot.waitSignal(worker.model_changed, timeout=10000):
            win.load_model(models["a"])
            worker.start()
        with qtbot.waitSignal(worker.result_ready, timeout=10000):
            pass
        start, delivered0 = time.monotonic(), worker.results_delivered
        processed0 = worker.pipeline_stats().processed
        qtbot.waitUntil(lambda: worker.results_delivered - delivered0 >= 5, timeout=10000)
        elapsed = time.monotonic() - start
        assert elapsed >= 0.39  # 5 deliveries at most 10/s apart: at least 4 intervals
        # Inference itself is not capped: far more frames were processed than shown.
        assert worker.pipeline_stats().processed - processed0 > 10
    finally:
        worker.stop()


def test_display_fps_option_is_checked():
    from edgeui.ui.app import main as app_main

    with pytest.raises(SystemExit) as info:
        app_main(["--display-fps", "0"])
    assert info.value.code == 2
