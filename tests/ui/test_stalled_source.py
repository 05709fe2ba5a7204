"""A live source that stops delivering (disconnected, reconnecting, failed) must not leave
its last rates on screen: on a kiosk the header is all an operator sees."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from edgeui.engine.pipeline import PipelineStats
from edgeui.engine.sources.base import SourceEvent
from edgeui.engine.stats import Percentiles
from edgeui.ui.main_window import MainWindow
from edgeui.ui.worker import InferenceWorker

URI = "rtsp://cam/1"
RATES = ("capture_fps", "inference_fps", "display_fps")


@pytest.fixture
def window(qtbot, tmp_path):
    from edgeui.config import Settings

    worker = InferenceWorker(source=URI)  # never started: the window's own logic
    win = MainWindow(worker, Settings(path=tmp_path / "edgeui.toml"))
    qtbot.addWidget(win)
    yield win
    worker.stop()


def _stats(fps: float = 14.7, inference_ms: float = 10.2) -> PipelineStats:
    stages = {"inference": Percentiles(inference_ms, inference_ms * 1.5),
              "end_to_end": Percentiles(26.0, 31.0), "capture": Percentiles(3.0, 4.0)}
    return PipelineStats(capture_fps=fps, inference_fps=fps, processed=100, stages=stages,
                         source_state="live", runtime="onnxruntime · CPU", source=URI)


def _live_numbers(window, qtbot, fps: str, ms: str) -> None:
    window.worker.stats.emit(_stats(float(fps), float(ms)))
    window.results.show_display_rate(float(fps))
    qtbot.waitUntil(lambda: window.results.stat_text("inference_fps") == fps)
    assert window.header.fps.text() == f"{float(fps):.0f}"
    assert window.header.latency.text() == f"inference {ms} ms"
    assert window.results.stat_text("display_fps") == fps
    assert window.results.stat_text("inference").startswith(f"{ms} / ")


@pytest.mark.parametrize("state", ["disconnected", "reconnecting", "failed"])
def test_a_dead_stream_shows_no_rates_until_frames_return(window, qtbot, state) -> None:
    window.worker.state_changed.emit(SourceEvent("live", "live", URI))
    _live_numbers(window, qtbot, "14.7", "10.2")

    window.worker.state_changed.emit(SourceEvent(state, f"{URI}: gone", URI, 2.0))
    assert window.header.fps.text() == "–"
    assert "inference" not in window.header.latency.text()
    assert window.header.latency.text()  # it says why (no signal, reconnecting)
    for key in RATES:
        assert window.results.stat_text(key) == "–", key
    for key in ("inference", "end_to_end", "capture"):
        assert window.results.stat_text(key) == "– / –", key
    # Stats of the last frames before the stall, delivered late, change nothing.
    window.worker.stats.emit(_stats())
    window.results.show_display_rate(14.7)
    window.results.flush()
    assert window.header.fps.text() == "–"
    assert window.results.stat_text("inference_fps") == "–"
    assert window.results.stat_text("display_fps") == "–"

    # Frames are back: the source says "live" and live numbers return.
    window.worker.state_changed.emit(SourceEvent("live", "live", URI))
    _live_numbers(window, qtbot, "12.5", "11.4")


def test_pause_during_a_stall_still_says_paused(window, qtbot) -> None:
    window.worker.state_changed.emit(SourceEvent("live", "live", URI))
    _live_numbers(window, qtbot, "14.7", "10.2")
    window.worker.state_changed.emit(SourceEvent("disconnected", "gone", URI))
    window.toggle_pause()
    assert window.header.latency.text() == "paused"
    window.toggle_pause()
    assert window.header.fps.text() == "–"
    assert window.header.latency.text() == "no signal"
    window.worker.state_changed.emit(SourceEvent("live", "live", URI))
    _live_numbers(window, qtbot, "12.5", "11.4")
