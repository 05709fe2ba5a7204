"""Side widgets: notifier, results panel, latency chart (pytest-qt, offscreen)."""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject

from edgeui.engine.types import (
    Classification,
    Detections,
    Labels,
    Poses,
    Result,
    SegmentationMap,
)
from edgeui.ui.widgets import notifier as notifier_module
from edgeui.ui.widgets.latency_chart import LatencyChart, nice_ceiling
from edgeui.ui.widgets.notifier import Notifier
from edgeui.ui.widgets.results_panel import MAX_ROWS, ResultsPanel

# --------------------------------------------------------------------------- notifier


def test_notifier_dedupes_with_a_counter(qtbot) -> None:
    n = Notifier()
    qtbot.addWidget(n)
    n.notify("cam.mp4: file not found; check the path.")
    n.notify("cam.mp4: file not found; check the path.")
    n.notify("Another problem.", "warning")
    n.notify("cam.mp4: file not found; check the path.")
    assert n.count() == 2
    assert n.messages()[0] == ("error", "cam.mp4: file not found; check the path.", 3)
    assert n.cards()[0].counter.text() == "×3"
    assert not n.isHidden()


def test_info_dismisses_itself_errors_stay(qtbot, monkeypatch) -> None:
    monkeypatch.setitem(notifier_module.AUTO_DISMISS_MS, "info", 30)
    n = Notifier()
    qtbot.addWidget(n)
    n.notify("Snapshot saved.", "info")
    n.notify("Model failed to load.", "error")
    qtbot.waitUntil(lambda: n.count() == 1, timeout=2000)
    assert n.messages() == [("error", "Model failed to load.", 1)]
    n.cards()[0].dismiss()
    assert n.count() == 0 and n.isHidden()


def test_notify_from_another_thread_is_queued(qtbot) -> None:
    n = Notifier()
    qtbot.addWidget(n)
    with qtbot.waitSignal(n.changed, timeout=2000):
        t = threading.Thread(target=n.notify, args=("from a worker", "warning"))
        t.start()
        t.join()
    assert n.messages() == [("warning", "from a worker", 1)]


def test_notifier_keeps_a_bounded_stack_and_errors_last(qtbot) -> None:
    n = Notifier()
    qtbot.addWidget(n)
    n.notify("first error", "error")
    for i in range(10):
        n.notify(f"note {i}", "info")
    assert n.count() == notifier_module.MAX_VISIBLE
    assert ("error", "first error", 1) in n.messages()
    assert n.messages()[0][1] == "note 9"


# --------------------------------------------------------------------------- results panel


def fr(result, model_name="m", e2e=20.0, inf=12.0):
    timings = SimpleNamespace(capture_ms=1.0, preprocess_ms=2.0, inference_ms=inf,
                              postprocess_ms=1.0, end_to_end_ms=e2e)  # fmt: skip
    return SimpleNamespace(result=result, timings=timings, model_name=model_name, error=None)


@pytest.fixture
def panel(qtbot):
    p = ResultsPanel()
    qtbot.addWidget(p)
    p.resize(360, 700)
    p.show()
    return p


def test_classification_top_k(panel) -> None:
    classes = tuple(Classification(i, f"label{i}", s) for i, s in
                    enumerate([0.82, 0.1, 0.05, 0.02, 0.01]))  # fmt: skip
    panel.show_result(fr(Result("classification", 10, 10, classes=classes), "mobilenet"))
    panel.flush()
    assert panel.row_texts()[:2] == [("label0", "82.0%"), ("label1", "10.0%")]
    assert len(panel.row_texts()) == 5
    assert "mobilenet" in panel.title.text() and "label0" in panel.summary.text()
    assert panel.rows[0].fraction == pytest.approx(0.82)


def test_detection_counts_per_class(panel) -> None:
    ids = np.array([0, 2, 0, 0, 2, 5])
    names = {0: "person", 2: "car", 5: "bus"}
    dets = Detections(np.zeros((6, 4), np.float32), np.linspace(0.9, 0.4, 6).astype(np.float32),
                      ids, tuple(names[i] for i in ids))  # fmt: skip
    panel.show_result(fr(Result("detection", 640, 480, detections=dets)))
    panel.flush()
    assert panel.row_texts() == [("person", "3"), ("car", "2"), ("bus", "1")]
    assert panel.summary.text().startswith("6 objects · 3 classes")
    # The next frame with nothing in it reuses the same row widgets.
    rows_before = list(panel.rows)
    panel.show_result(fr(Result("detection", 640, 480, detections=Detections.empty())))
    panel.flush()
    assert panel.row_texts() == [] and panel.summary.text() == "Nothing detected."
    assert panel.rows == rows_before


def test_segmentation_shares(panel) -> None:
    cmap = np.zeros((10, 10), np.int64)
    cmap[:, :3] = 12  # 30 % dog
    cmap[0, 9] = 15  # 1 % person
    seg = SegmentationMap(cmap, Labels(tuple(f"c{i}" for i in range(21))))
    panel.show_result(fr(Result("segmentation", 10, 10, segmentation=seg)))
    panel.flush()
    assert panel.row_texts() == [("c0", "69.0%"), ("c12", "30.0%"), ("c15", "1.0%")]
    # Background (class 0) is untinted in the overlay: a neutral bar, not a class colour.
    from edgeui.ui.overlay import class_color
    from edgeui.ui.widgets.style import MUTED

    assert panel.rows[0].color == MUTED and panel.rows[1].color == class_color(12)


def test_pose_people_and_keypoints(panel) -> None:
    kps = np.zeros((2, 17, 3), np.float32)
    kps[0, :10, 2] = 0.9
    kps[1, :4, 2] = 0.5
    poses = Poses(kps, np.array([0.8, 0.6], np.float32))
    panel.show_result(fr(Result("pose", 100, 100, poses=poses)))
    panel.flush()
    assert panel.summary.text() == "2 people · 14 keypoints visible"
    assert panel.row_texts()[0] == ("person 1 · 10/17 keypoints", "80%")


def test_many_classes_show_a_more_line(panel) -> None:
    classes = tuple(Classification(i, f"l{i}", 1 / (i + 2)) for i in range(12))
    panel.show_result(fr(Result("classification", 1, 1, classes=classes)))
    panel.flush()
    assert len(panel.row_texts()) == MAX_ROWS and panel.more.text() == "+ 4 more"


def test_result_text_is_throttled_newest_wins(panel, qtbot) -> None:
    def cls(label):
        return Result("classification", 1, 1, classes=(Classification(0, label, 0.5),))

    panel.show_result(fr(cls("first")))
    renders = panel.renders
    for i in range(50):
        panel.show_result(fr(cls(f"frame {i}")))
    assert panel.renders == renders  # 50 frames in a burst: no re-render yet
    assert panel.chart.sample_count() == 51  # but every frame reaches the chart
    qtbot.waitUntil(lambda: panel.renders == renders + 1, timeout=2000)
    assert panel.row_texts()[0][0] == "frame 49"


def test_stats_text(panel) -> None:
    pct = SimpleNamespace
    stats = SimpleNamespace(
        capture_fps=30.04, inference_fps=24.5, processed=1200, dropped=37,
        stages={"end_to_end": pct(p50=41.26, p95=55.0, p99=60.0),
                "inference": pct(p50=30.0, p95=33.3, p99=40.0)},
        source_state="running", source="0", runtime="onnxruntime 1.20 · CPUExecutionProvider",
    )  # fmt: skip
    panel.show_stats(stats)
    panel.flush()
    assert panel.stat_text("capture_fps") == "30.0"
    assert panel.stat_text("inference_fps") == "24.5"
    assert panel.stat_text("end_to_end") == "41.3 / 55.0"
    assert panel.stat_text("preprocess") == "– / –"
    assert panel.stat_text("frames") == "1200 / 37"
    # Short forms in the narrow column; the whole runtime in the tooltip.
    assert panel.stat_text("runtime") == "onnxruntime 1.20\nCPU"
    assert "CPUExecutionProvider" in panel._values["runtime"].toolTip()
    assert panel.stat_text("source_state") == "running · 0"


def test_the_frame_size_shown_is_what_the_source_gives(panel) -> None:
    """A camera asked for 1280x720 may give 640x480: the panel shows what came."""
    f = fr(None, "yolox")
    f.frame = SimpleNamespace(image=np.zeros((480, 640, 3), np.uint8))
    panel.show_result(f)
    panel.flush()
    assert panel.stat_text("frame_size") == "640 x 480"


def test_no_result_yet_shows_the_reason(panel) -> None:
    f = fr(None, "yolox")
    f.error = "yolox.onnx: inference failed: bad input."
    panel.show_result(f)
    panel.flush()
    assert panel.summary.text() == "yolox.onnx: inference failed: bad input."


# --------------------------------------------------------------------------- latency chart


def test_latency_chart_window_and_paint(qtbot) -> None:
    chart = LatencyChart(window_s=10.0)
    qtbot.addWidget(chart)
    chart.resize(300, 120)
    chart.show()
    for i in range(100):
        chart.add_sample(20.0 + i % 5, 10.0, t=1000.0 + i * 0.2)
    visible = chart.visible(now=1000.0 + 99 * 0.2)
    assert len(visible) == 51  # the last 10 s at 5 samples/s
    chart.add_sample(30.0, 15.0)
    image = chart.grab().toImage()
    assert image.width() == 300
    colours = {image.pixel(x, y) for x in range(0, 300, 7) for y in range(0, 120, 7)}
    assert len(colours) > 3  # something was drawn besides the background
    assert chart.latest() == (30.0, 15.0)


def test_nice_ceiling() -> None:
    assert [nice_ceiling(v) for v in (0.0, 3.2, 7.0, 10.0, 12.0, 260.0)] == [
        1.0, 5.0, 10.0, 10.0, 20.0, 500.0,
    ]  # fmt: skip


# ------------------------------------------------------- live numbers without relayouts


class _LayoutRequests(QObject):
    """Counts LayoutRequest events anywhere in the application."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def _stats(i: int) -> SimpleNamespace:
    pct = SimpleNamespace(p50=10.0 + i, p95=20.0 + i, p99=30.0)
    return SimpleNamespace(
        capture_fps=30.0 + i, inference_fps=24.0 + i, processed=100 * i, dropped=i,
        stages={"end_to_end": pct, "inference": pct, "preprocess": pct, "postprocess": pct},
        source_state="running", source="synthetic", runtime="onnxruntime 1.20 · CPU",
    )  # fmt: skip


def _detections(n: int) -> Result:
    dets = Detections(np.zeros((n, 4), np.float32), np.full(n, 0.5, np.float32),
                      np.arange(n), tuple(f"c{i}" for i in range(n)))  # fmt: skip
    return Result("detection", 640, 480, detections=dets)


def test_changing_numbers_and_results_never_re_lay_out_the_window(qtbot) -> None:
    """Several times a second, every relayout of the window is CPU taken from inference."""
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    from edgeui.ui.widgets.status_header import StatusHeader

    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    header, panel = StatusHeader(), ResultsPanel()
    layout.addWidget(header)
    layout.addWidget(panel)
    window.resize(400, 800)
    window.show()
    panel.show_stats(_stats(0))
    panel.show_result(fr(_detections(2)))
    header.show_stats(_stats(0))
    panel.flush()
    qtbot.waitExposed(window)
    for _ in range(5):  # the first layout settles (requests post further requests)
        QApplication.processEvents()
    counter = _LayoutRequests()
    QApplication.instance().installEventFilter(counter)
    try:
        for i in range(1, 9):  # new numbers, a flickering object count
            panel.show_stats(_stats(i))
            header.show_stats(_stats(i))
            panel.show_result(fr(_detections(2 if i % 2 else 1)))
            panel.flush()
            QApplication.processEvents()
    finally:
        QApplication.instance().removeEventFilter(counter)
    assert panel.stat_text("inference_fps") == "32.0" and header.fps.text() == "32"
    assert panel.row_texts() == [("c0", "1")]  # the second row is blank, not removed
    assert counter.count == 0


def test_fewer_rows_are_removed_once_the_count_stays_lower(panel, monkeypatch) -> None:
    from edgeui.ui.widgets import results_panel

    panel.show_result(fr(_detections(3)))
    panel.flush()
    panel.show_result(fr(_detections(1)))
    panel.flush()
    assert [r.isHidden() for r in panel.rows[:3]] == [False, False, False]  # held
    assert panel.rows[1].is_blank() and panel.row_texts() == [("c0", "1")]
    monkeypatch.setattr(results_panel, "ROW_HOLD_S", 0.0)
    panel.show_result(fr(_detections(1)))
    panel.flush()
    assert [r.isHidden() for r in panel.rows[:3]] == [False, True, True]
    panel.show_result(fr(_detections(3)))  # more rows: shown at once
    panel.flush()
    assert not any(r.isHidden() for r in panel.rows[:3]) and len(panel.row_texts()) == 3
