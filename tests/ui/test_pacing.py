"""Inference first: the live view repaints less often while inference runs flat out."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
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


# --- from the review of the gate, the pacing, LiveText and the row hold -------------


def _frame_result(i: int = 1):
    from edgeui.engine.types import Frame

    image = np.zeros((48, 64, 3), np.uint8)
    return SimpleNamespace(frame=Frame(image, i, time.time(), time.monotonic(), "fake"),
                           result=None, timings=None, model_name="m", error=None)  # fmt: skip


def test_a_source_slower_than_two_fps_is_measured_and_gets_the_screen_rate(window) -> None:
    """A 1 fps slideshow (or a 2 fps model) has a second between every two results: that is
    its rate, not a pause. The view was paced while a file ran flat out; after the switch the
    display rate must be measured again and go back to the screen's."""
    _one_second_of(window, 40, 0.10)
    window._pace_display(_stats(95, 9.2))
    assert window._display_rate is not None  # paced
    for i in range(4):  # one picture a second, its stats with it
        window._last_result_t = time.perf_counter() - 1.0
        _one_second_of(window, 1, 0.002)
        window.on_result(_frame_result(i))
        window._pace_display(_stats(1.0, 9.2))
    assert window._display_rate is None
    assert window.results.stat_text("display_fps") == "1.0"


def test_results_after_a_pause_are_measured_afresh(window) -> None:
    """Still true: results that resume after a pause start a new measurement."""
    window._last_result_t = time.perf_counter() - 0.03  # a fast source
    window.on_result(_frame_result(1))
    window._last_result_t = time.perf_counter() - 5.0  # paused 5 s
    _one_second_of(window, 1, 0.002)
    window.on_result(_frame_result(2))
    assert time.perf_counter() - window._pace_mark[0] < 0.5


def test_pacing_does_not_flip_back_to_the_screen_rate_at_the_busy_threshold(window) -> None:
    """Pacing frees CPU, so inference works a little less per frame: a model just above the
    'flat out' line falls just below it once paced. Without hysteresis the view would jump
    between paced and the screen's rate every second."""
    from edgeui.ui import pacing

    _one_second_of(window, 40, 0.10)
    window._pace_display(_stats(30, 0.85 / 30 * 1000 - 0.8))  # busy 0.85
    paced = window._display_rate
    assert paced is not None
    _one_second_of(window, round(paced), 0.10 * paced / 40)
    window._pace_display(_stats(30, (pacing.BUSY - 0.03) / 30 * 1000 - 0.8))  # busy 0.77
    assert window._display_rate is not None  # still paced
    _one_second_of(window, round(paced), 0.10 * paced / 40)
    window._pace_display(_stats(30, 0.3 / 30 * 1000 - 0.8))  # a camera: waits for frames
    assert window._display_rate is None


def test_live_text_is_read_by_screen_readers(qtbot) -> None:
    """A QLabel's text is its accessible name; a LiveText must say its text too, not its
    group box's title."""
    from PySide6.QtGui import QAccessible

    from edgeui.ui.widgets.results_panel import ResultsPanel

    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_display_rate(23.5)
    value = panel._values["display_fps"]
    iface = QAccessible.queryAccessibleInterface(value)
    assert iface.text(QAccessible.Text.Name) == "23.5"
    panel.summary.setText("2 objects · 1 class")
    iface = QAccessible.queryAccessibleInterface(panel.summary)
    assert iface.text(QAccessible.Text.Name) == "2 objects · 1 class"


def test_rows_left_blank_go_away_even_when_no_new_result_comes(qtbot, monkeypatch) -> None:
    """Rows held blank (a count that dropped) are removed after the hold even when results
    stop (pause, a source that ended): not left as blank space for ever."""
    from PySide6.QtGui import QColor

    from edgeui.ui.widgets import results_panel

    monkeypatch.setattr(results_panel, "ROW_HOLD_S", 0.1)
    panel = results_panel.ResultsPanel()
    qtbot.addWidget(panel)
    panel.show()
    c = QColor("red")
    panel._set_rows([("a", 1.0, "3", c), ("b", 0.5, "2", c), ("c", 0.2, "1", c)])
    assert [r.isHidden() for r in panel.rows[:3]] == [False, False, False]
    panel._set_rows([("a", 1.0, "3", c)])  # fewer: blanked, held
    assert not panel.rows[1].isHidden() and panel.rows[1].is_blank()
    qtbot.waitUntil(lambda: panel.rows[1].isHidden() and panel.rows[2].isHidden(),
                    timeout=3000)  # fmt: skip
    assert not panel.rows[0].isHidden()
    assert panel.row_texts() == [("a", "3")]
    panel._set_rows([("a", 1.0, "3", c), ("b", 0.5, "2", c)])  # more again: shown at once
    assert panel.row_texts() == [("a", "3"), ("b", "2")]


def _simulate_gate(w, monkeypatch, period_s: float, n: int) -> list[tuple[float, float]]:
    """Feed the worker ``n`` results ``period_s`` apart on a fake clock, running its gate and
    stale timers by that clock too. Returns (made, delivered) times of delivered results."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from edgeui.ui import worker as worker_mod

    clock = [100.0]
    monkeypatch.setattr(worker_mod, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    timers = {"gate": None, "stale": None}  # when each fake timer fires
    shown: list[tuple[float, float]] = []

    def take_timers() -> None:
        for name in ("gate", "stale"):
            timer = getattr(w, f"_{name}")
            if timer.isActive():
                timers[name] = clock[0] + timer.interval() / 1000.0
                timer.stop()

    def delivered(made: float) -> None:
        shown.append((made, clock[0]))
        take_timers()

    w.result_ready.connect(delivered)
    for k in range(n):
        t = k * period_s + 100.0
        while True:  # the timers due before this result, in time order
            due = [(at, name) for name, at in timers.items() if at is not None and at <= t]
            if not due:
                break
            at, name = min(due)
            timers[name] = None
            clock[0] = at
            (w._reopen if name == "gate" else w._deliver_stale)()
            take_timers()
        clock[0] = t
        w._on_result(t)
        QCoreApplication.sendPostedEvents(w, QEvent.Type.MetaCall.value)  # the poke
        take_timers()
    w.result_ready.disconnect(delivered)
    return shown


@pytest.mark.parametrize("period_ms", [18.0, 20.0, 24.0])
def test_the_refresh_gate_never_delivers_more_often_than_the_cap(
        qtbot, fake_pipeline_factory, monkeypatch, period_ms) -> None:
    """--display-fps 40 with a 50 fps model: at most 40 results a second reach the GUI (the
    gate opening half a result early must not let every result through), and still close
    to 40 (a gate that waits for the next result after a whole interval gives 25)."""
    from edgeui.ui.worker import InferenceWorker

    w = InferenceWorker(source=None, pipeline_factory=fake_pipeline_factory)
    w.set_max_delivery_rate(40)
    shown = _simulate_gate(w, monkeypatch, period_ms / 1000.0, 200)
    span = 200 * period_ms / 1000.0
    assert 0.85 * 40 * span <= len(shown) <= 40 * span + 1
    assert all(delivered - made < 0.0005 for made, delivered in shown[1:])  # fresh ones


def test_a_slow_model_is_delivered_at_once(qtbot, fake_pipeline_factory, monkeypatch) -> None:
    from edgeui.ui.worker import InferenceWorker

    w = InferenceWorker(source=None, pipeline_factory=fake_pipeline_factory)
    w.set_max_delivery_rate(60)
    shown = _simulate_gate(w, monkeypatch, 0.5, 10)  # a 2 fps model
    assert [made for made, _ in shown] == [100.0 + 0.5 * k for k in range(10)]
    assert all(delivered == made for made, delivered in shown)
