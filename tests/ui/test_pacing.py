"""Inference first: the live view repaints less often while inference runs flat out."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from edgeui.ui import pacing


def _stats(fps: float, inference_ms: float, runtime: str = "onnxruntime · CPU"):
    pct = SimpleNamespace
    return SimpleNamespace(
        inference_fps=fps, runtime=runtime,
        stages={"preprocess": pct(p50=0.5), "inference": pct(p50=inference_ms),
                "postprocess": pct(p50=0.3), "capture": pct(p50=30.0)},
    )  # fmt: skip


def test_busy_is_the_share_of_time_the_inference_thread_works() -> None:
    assert pacing.inference_busy(_stats(95, 9.2)) == pytest.approx(0.95)
    # A 30 fps camera and a fast model: the thread waits for frames most of the time (the
    # capture stage's wait for the device is not work).
    assert pacing.inference_busy(_stats(30, 9.2)) == pytest.approx(0.3)
    assert pacing.inference_busy(_stats(30, 9.2, runtime="")) == 0.0  # preview, no model


def test_flat_out_inference_lowers_the_rate_towards_the_gui_budget() -> None:
    # 40 frames painted a second took 10 % of a core: the budget allows 18.
    first = pacing.next_display_rate(40.0, 0.10, busy=0.95, ceiling=60.0)
    assert 18.0 < first < 40.0  # half way (in log terms): no overshoot, no hunting
    rate = 40.0
    for _ in range(12):  # the GUI's cost follows the rate it paints at
        rate = pacing.next_display_rate(rate, rate * 0.0025, busy=0.95, ceiling=60.0)
    assert rate == pytest.approx(pacing.GUI_SHARE / 0.0025, rel=0.02)


def test_the_rate_never_drops_below_the_floor_nor_rises_above_the_screen() -> None:
    assert pacing.next_display_rate(20.0, 0.5, busy=1.0, ceiling=60.0) == pacing.MIN_FPS
    assert pacing.next_display_rate(30.0, 0.001, busy=1.0, ceiling=60.0) == 60.0
    assert pacing.next_display_rate(10.0, 0.5, busy=1.0, ceiling=10.0) == 10.0


def test_a_model_that_waits_for_frames_gets_the_screen_rate() -> None:
    assert pacing.next_display_rate(20.0, 0.2, busy=0.3, ceiling=60.0) == 60.0


@pytest.fixture
def window(qtbot, fake_pipeline_factory):
    from edgeui.ui.main_window import MainWindow
    from edgeui.ui.worker import InferenceWorker

    worker = InferenceWorker(source=None, pipeline_factory=fake_pipeline_factory)
    w = MainWindow(worker)
    qtbot.addWidget(w)
    w.show()
    yield w
    worker.stop()


def _one_second_of(window, painted: int, gui_cpu_s: float) -> None:
    """As if the last second painted ``painted`` frames for ``gui_cpu_s`` of GUI CPU."""
    window._pace_mark = (time.perf_counter() - 1.0, time.thread_time() - gui_cpu_s,
                         window.view.frames_painted - painted)  # fmt: skip


def test_the_window_paces_its_view_and_says_so(window) -> None:
    _one_second_of(window, 40, 0.10)
    window._pace_display(_stats(95, 9.2))
    rate = window._display_rate
    assert rate is not None and 18.0 < rate < 40.0
    assert window.worker._delivery_ms == pytest.approx(1000.0 / rate, abs=1.0)
    assert window.view._min_interval == pytest.approx(1.0 / rate)
    assert window.results.stat_text("display_fps") == "40.0 · paced"
    # The model now waits for frames (a camera): back to the screen's rate.
    _one_second_of(window, 20, 0.05)
    window._pace_display(_stats(30, 9.2))
    assert window._display_rate is None
    assert window.view._min_interval == pytest.approx(1.0 / window.view.refresh_rate())
    assert window.results.stat_text("display_fps") == "20.0"


def test_a_display_rate_the_user_set_is_never_overridden(window) -> None:
    window.set_display_fps(50)
    _one_second_of(window, 50, 0.15)
    window._pace_display(_stats(95, 9.2))
    assert window._display_rate == 50
    assert window.results.stat_text("display_fps") == "50.0"
