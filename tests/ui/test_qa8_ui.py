"""The eighth QA pass: added model folders that come back at the next start, error cards
that go once a model loads (and stay short), a Performance tab that does not count failed
frames as inferences, and an inspector whose "Why" column can be read in full."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from edgeui.config import Settings
from edgeui.engine.pipeline import FrameResult, PipelineStats, StageTimings
from edgeui.engine.stats import Percentiles
from edgeui.engine.types import Classification, Frame, Result
from edgeui.errors import InferenceError, SourceError
from edgeui.ui.main_window import MainWindow
from edgeui.ui.worker import InferenceWorker

MODELS = Path("/work/shared/models")
MOBILENET = MODELS / "mobilenet_v2_1.0_224_quant.tflite"
LONG_ERROR = (
    "weird_rank5.onnx: edgeui does not recognise the model's output layout (outputs: "
    "[1, 2, 3, 4, 5] float32); describe it in a sidecar file beside the model, e.g. "
    "model.yaml with 'task: detection' and 'decoder: <kind>', where kind is one of: "
    "anchor_free, anchor_free_pose, blazeface, classification, end_to_end, movenet, "
    "movenet_multipose, segmentation, ssd_postprocess, yolov5, yolox.")


def _window(qtbot, settings: Settings) -> tuple[MainWindow, InferenceWorker]:
    worker = InferenceWorker()  # never started: the window's own logic
    win = MainWindow(worker, settings)
    qtbot.addWidget(win)
    return win, worker


@pytest.fixture
def window(qtbot, tmp_path):
    win, worker = _window(qtbot, Settings(path=tmp_path / "edgeui.toml"))
    yield win
    win.model_picker.wait_idle()
    worker.stop()


def _model(name: str = "m", path: str = "/tmp/m.onnx") -> SimpleNamespace:
    return SimpleNamespace(name=name, task="classification", path=path, thresholds=None,
                           runtime=None)  # fmt: skip


def _frame() -> Frame:
    return Frame(np.zeros((8, 8, 3), np.uint8), 0, time.time(), time.monotonic(), "x.jpg")


def _failed(inference_ms: float = -0.4) -> FrameResult:
    return FrameResult(_frame(), None, StageTimings(1.0, 0.5, inference_ms, 0.0, 2.0), "m",
                       "boom", "onnxruntime")  # fmt: skip


def _ok() -> FrameResult:
    result = Result("classification", 8, 8, (Classification(0, "cat", 0.9),))
    return FrameResult(_frame(), result, StageTimings(1.0, 0.5, 4.0, 0.2, 6.0), "m", None,
                       "onnxruntime")  # fmt: skip


# --- 1: added model folders are remembered -------------------------------------------------
def test_an_added_models_folder_is_saved_and_listed_at_the_next_start(qtbot, tmp_path):
    folder = tmp_path / "more-models"
    folder.mkdir()
    shutil.copy(MOBILENET, folder / "extra_model.tflite")
    config = tmp_path / "edgeui.toml"
    win, worker = _window(qtbot, Settings.load(config))
    with qtbot.waitSignal(win.model_picker.folders_changed):
        win.model_picker.add_folder(str(folder))
    win.model_picker.wait_idle()
    worker.stop()
    win.close()
    assert str(folder) in Settings.load(config).model_folders

    again, worker2 = _window(qtbot, Settings.load(config))
    try:
        assert folder in again.model_picker.folders()
        key = str(folder / "extra_model.tflite")
        qtbot.waitUntil(lambda: again.model_picker.entry(key) is not None, timeout=10000)
    finally:
        again.model_picker.wait_idle()
        worker2.stop()


# --- 2: error cards ------------------------------------------------------------------------
def test_a_model_that_loads_closes_the_cards_of_earlier_model_failures(window):
    window.on_state(SimpleNamespace(state="disconnected", message="cam: no signal.",
                                    source="", retry_in=None))  # fmt: skip
    window.on_model_failed("/tmp/a.onnx", "a.onnx: cannot be loaded.")
    window.on_model_failed("/tmp/b.onnx", "b.onnx: cannot be loaded.")
    # Through the worker, as the pipeline reports them: a model's error and a source's.
    window.worker._on_error(InferenceError("c.onnx: inference failed."))
    window.worker._on_error(SourceError("clip.mp4: cannot be opened."))
    assert window.notifier.count() == 5
    window.on_model_changed(_model())
    assert window.notifier.messages() == [("error", "clip.mp4: cannot be opened.", 1),
                                          ("warning", "cam: no signal.", 1)]


def test_a_long_error_card_is_short_and_keeps_the_whole_text_in_its_tooltip(window):
    window.on_model_failed("/tmp/qa/weird_rank5.onnx", LONG_ERROR)
    (card,) = window.notifier.cards()
    shown = card.text.text()
    assert shown.startswith("weird_rank5.onnx: edgeui does not recognise the model's output")
    assert "edgeui inspect" in shown
    assert "ssd_postprocess" not in shown
    assert len(shown) < len(LONG_ERROR) // 2
    assert card.toolTip() == LONG_ERROR
    assert card.message == LONG_ERROR  # one card per problem, as before


# --- 3: failed frames are not inferences ---------------------------------------------------
def test_failed_frames_are_not_charted_nor_counted_as_inferences(window, qtbot):
    panel = window.results
    window.on_model_changed(_model())
    for _ in range(5):
        window.on_result(_failed())
    assert panel.chart.sample_count() == 0  # no "inference -0.4 ms"
    assert panel.chart._idle_text == "the model fails on these frames"  # not "waiting"
    # As the worker passes them on (the engine's rate and empty windows; the failed frames
    # taken out of the processed ones, see the next test).
    stats = PipelineStats(capture_fps=30.0, inference_fps=30.0, processed=0, errors=1182,
                          stages={k: Percentiles() for k in ("inference", "end_to_end")},
                          runtime="onnxruntime")  # fmt: skip
    panel.show_stats(stats)
    panel.flush()
    assert panel.stat_text("inference_fps") == "–"
    assert panel.stat_text("inference") == "– / –"
    assert panel.stat_text("end_to_end") == "– / –"
    assert panel.stat_text("frames").startswith("0 / 0")
    assert "1182 errors" in panel.stat_text("frames")
    # The model list says it fails.
    entry_ok, message = window.model_picker._overrides["/tmp/m.onnx"]
    assert not entry_ok and "boom" in message
    # Frames that work again bring the numbers and the green mark back.
    window.on_result(_ok())
    panel.show_stats(PipelineStats(capture_fps=30.0, inference_fps=30.0, processed=1190,
                                   errors=1182, stages={"inference": Percentiles(4.0, 5.0)},
                                   runtime="onnxruntime"))  # fmt: skip
    panel.flush()
    assert panel.stat_text("inference_fps") == "30.0"
    assert panel.stat_text("inference") == "4.0 / 5.0"
    assert panel.chart.latest() == (6.0, 4.0)
    assert window.model_picker._overrides["/tmp/m.onnx"][0]


def test_the_worker_takes_failed_frames_out_of_the_stats(qtbot):
    class Pipe:  # failed frames are errors, not processed; the rate is the last good one's
        n = 0

        def stats(self) -> PipelineStats:
            return PipelineStats(capture_fps=30.0, inference_fps=30.0, processed=0,
                                 errors=self.n, stages={"inference": Percentiles()},
                                 runtime="ort")  # fmt: skip

    worker = InferenceWorker()
    worker._pipeline = pipe = Pipe()
    try:
        with qtbot.waitSignal(worker.stats) as got:
            for _ in range(10):
                pipe.n += 1
                worker._on_result(_failed())
        stats = got.args[0]
        assert stats.processed == 0 and stats.inference_fps == 0.0
        assert "inference" not in stats.stages
        header = MainWindow(worker).header
        qtbot.addWidget(header)
        header.show_stats(stats)
        assert "-" not in header.latency.text()
    finally:
        worker._pipeline = None
        worker.stop()


# --- 4: the inspector's "Why" ---------------------------------------------------------------
def test_the_inspectors_why_column_wraps_long_reasons(qtbot):
    from PySide6.QtWidgets import QApplication

    from edgeui.ui.widgets.inspector import InspectorDialog

    dialog = InspectorDialog(str(MOBILENET))
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=20000):
        dialog.show()
    QApplication.processEvents()
    tree = dialog.tree
    why = tree.topLevelItem(1)  # "Choices and why"
    longest = max((why.child(i) for i in range(why.childCount())),
                  key=lambda it: len(it.text(3)))  # fmt: skip
    reason = longest.text(3)
    room = tree.columnWidth(3)
    needed = tree.fontMetrics().horizontalAdvance(reason)
    assert needed > room, "the test needs a reason wider than its column"
    rect = tree.visualItemRect(longest)
    lines = -(-needed // max(1, room - 12))
    assert rect.height() >= lines * tree.fontMetrics().lineSpacing()
    dialog.close()
