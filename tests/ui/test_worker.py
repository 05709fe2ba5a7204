"""The inference worker: its own thread, newest result only, errors routed, clean stop."""

from __future__ import annotations

import threading

import pytest

from edgeui.errors import ModelLoadError
from edgeui.ui.worker import InferenceWorker
from tests.ui.conftest import FakeModel, FakePipeline


def _loader_for(models: dict[str, FakeModel]):
    def load(path, options=None):
        if path not in models:
            raise ModelLoadError(f"{path}: not a model file; pick an .onnx or .tflite file.")
        models[path].loaded_in_thread = threading.get_ident()
        return models[path]

    return load


@pytest.fixture
def worker(qtbot, fake_pipeline_factory):
    models = {"a.onnx": FakeModel("A"), "b.onnx": FakeModel("B")}
    w = InferenceWorker(
        source="synthetic", pipeline_factory=fake_pipeline_factory, model_loader=_loader_for(models)
    )
    w.models = models  # type: ignore[attr-defined]
    yield w
    w.stop()


def test_model_loads_and_runs_in_the_inference_thread(qtbot, worker):
    with qtbot.waitSignal(worker.model_changed, timeout=5000) as changed:
        worker.set_model_path("a.onnx")
        worker.start()
    assert changed.args[0].name == "A"
    with qtbot.waitSignal(worker.result_ready, timeout=5000) as got:
        pass
    assert got.args[0].result.classes[0].label == "A"
    pipeline = FakePipeline.instances[0]
    main = threading.get_ident()
    assert pipeline.run_thread != main
    assert worker.models["a.onnx"].loaded_in_thread == pipeline.run_thread


def test_a_slow_gui_gets_the_newest_result_not_a_backlog(qtbot, worker):
    with qtbot.waitSignal(worker.model_changed, timeout=5000):
        worker.set_model_path("a.onnx")
        worker.start()
    pipeline = FakePipeline.instances[0]
    # Keep the GUI thread busy (no event processing) while 50+ results are produced.
    assert pipeline.produced_50.wait(10)
    before = worker.results_delivered
    with qtbot.waitSignal(worker.result_ready, timeout=5000) as got:
        pass
    assert got.args[0].frame.frame_id >= 50  # the newest, not the first one queued
    # Dozens were produced while the GUI was blocked; at most one notification was waiting.
    assert worker.results_delivered - before <= 2
    assert worker.results_coalesced >= 40


def test_bad_model_reports_and_previous_model_keeps_running(qtbot, worker):
    with qtbot.waitSignal(worker.model_changed, timeout=5000):
        worker.set_model_path("a.onnx")
        worker.start()
    busy: list[bool] = []
    worker.busy.connect(busy.append)
    with qtbot.waitSignal(worker.model_failed, timeout=5000) as failed:
        worker.set_model_path("broken.onnx")
    assert failed.args[0] == "broken.onnx"
    assert "not a model file" in failed.args[1]
    assert busy[0] is True
    qtbot.waitUntil(lambda: busy[-1] is False, timeout=5000)
    with qtbot.waitSignal(worker.result_ready, timeout=5000) as got:
        pass
    assert got.args[0].result.classes[0].label == "A"
    assert worker.current_model().name == "A"


def test_switching_model_under_load(qtbot, worker):
    with qtbot.waitSignal(worker.model_changed, timeout=5000):
        worker.set_model_path("a.onnx")
        worker.start()
    with qtbot.waitSignal(worker.model_changed, timeout=5000) as changed:
        worker.set_model_path("b.onnx")
    assert changed.args[0].name == "B"
    labels: list[str] = []
    worker.result_ready.connect(lambda fr: labels.append(fr.result.classes[0].label))
    qtbot.waitUntil(lambda: bool(labels) and labels[-1] == "B", timeout=5000)
    assert "A" not in labels[1:]  # once B has produced a result, A never comes back


def test_errors_are_one_sentence_and_not_repeated(qtbot, worker):
    worker.start()
    messages: list[str] = []
    worker.errored.connect(messages.append)
    with qtbot.waitSignal(worker.errored, timeout=5000):
        worker.set_source("bad://")
    worker.set_source("bad://")  # the same failure again right away: not shown twice
    with qtbot.waitSignal(worker.errored, timeout=300, raising=False):
        pass
    # Checked by the worker before the pipeline sees it: the current source runs on.
    assert messages == ["bad://: unknown source scheme 'bad:'; use a camera, a file, a folder, "
                        "rtsp://, http(s):// or synthetic."]


def test_thresholds_reach_the_running_model(qtbot, worker):
    with qtbot.waitSignal(worker.model_changed, timeout=5000):
        worker.set_model_path("a.onnx")
        worker.start()
    worker.set_thresholds(conf=0.6, iou=0.3)
    assert worker.models["a.onnx"].thresholds == {"conf": 0.6, "iou": 0.3}


def test_pause_resume_and_stop_join_the_thread(qtbot, worker):
    with qtbot.waitSignal(worker.model_changed, timeout=5000):
        worker.set_model_path("a.onnx")
        worker.start()
    worker.pause()
    assert worker.is_paused()
    worker.resume()
    with qtbot.waitSignal(worker.result_ready, timeout=5000):
        pass
    assert worker.stop(timeout=5.0)
    assert not worker.is_running()


def test_stop_before_the_thread_started_is_clean(qtbot, fake_pipeline_factory):
    w = InferenceWorker(source="synthetic", pipeline_factory=fake_pipeline_factory)
    assert w.stop()
    w.start()  # after stop: refuses to start
    assert not w.is_running()


def test_after_a_pause_in_delivery_the_fresh_result_is_shown_not_the_stale_one(
        qtbot, fake_pipeline_factory):
    """When the refresh gate opens, a result made during the shut interval waits for the
    next one, which is delivered the moment it is made: the GUI paints while inference
    prepares its next frame, and shows a newer picture. With none coming, the waiting one
    still goes out (a slow model is never held back)."""
    w = InferenceWorker(source=None, pipeline_factory=fake_pipeline_factory)
    w.set_max_delivery_rate(5)  # a 200 ms gate; a waiting result waits 100 ms more
    shown: list[str] = []
    w.result_ready.connect(shown.append)
    with qtbot.waitSignal(w.result_ready, timeout=2000):
        w._on_result("a")  # the inference thread's callback, called here directly
    w._on_result("b")  # made while the gate is shut
    qtbot.waitUntil(lambda: not w._gate.isActive(), timeout=2000)
    assert shown == ["a"]  # "b" waits: a fresher result is due
    with qtbot.waitSignal(w.result_ready, timeout=2000):
        w._on_result("c")
    assert shown == ["a", "c"]
    w._on_result("d")
    qtbot.waitUntil(lambda: not w._gate.isActive(), timeout=2000)
    with qtbot.waitSignal(w.result_ready, timeout=2000):
        pass  # nothing fresher comes: "d" goes out after half an interval
    assert shown == ["a", "c", "d"]
    w.stop()
