"""Loading a model in a child process first: a model that crashes its runtime is one error."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from edgeui.engine import catalog, probe
from edgeui.errors import ModelLoadError, UnsupportedModelError
from tests.helpers.modelgen import make_crashing_tflite, make_onnx_model, write_garbage


@pytest.fixture(autouse=True)
def _fresh_cache():
    probe.clear_cache()
    catalog.clear_cache()
    yield
    probe.clear_cache()
    catalog.clear_cache()


def test_the_crashing_model_really_kills_a_process_that_loads_it(tmp_path):
    # The premise of the probe: without it, this model takes the whole app down.
    model = make_crashing_tflite(tmp_path / "crash.tflite")
    code = ("from edgeui.engine.model import Model; import sys; "
            f"Model.load({str(model)!r}).infer; print('survived')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode != 0 and "survived" not in done.stdout


def test_a_crashing_model_becomes_one_clear_error_and_we_survive(tmp_path):
    model = make_crashing_tflite(tmp_path / "crash.tflite")
    result = probe.probe_model(model)
    assert not result.ok
    assert result.message.startswith("crash.tflite: LiteRT crashed while loading this model")
    if sys.platform != "win32":
        assert "(SIGABRT)" in result.message
    with pytest.raises(ModelLoadError, match="crashed"):
        probe.load_model(model)


def test_a_good_model_loads_and_reports_what_the_picker_lists(tmp_path):
    logits = np.zeros((1, 10), np.float32)
    logits[0, 4] = 5.0
    path = make_onnx_model(tmp_path / "cls.onnx", input_shape=(1, 3, 32, 32), outputs=[logits])
    result = probe.probe_model(path)
    assert result.ok, result.message
    assert (result.task, result.input_size) == ("classification", "32x32")
    assert result.runtime.startswith("onnxruntime")
    model = probe.load_model(path)
    assert model.predict(np.zeros((32, 32, 3), np.uint8)).classes[0].index == 4


def test_the_childs_error_is_the_same_sentence_and_type_as_in_process(tmp_path):
    from edgeui.engine.model import Model

    garbage = write_garbage(tmp_path / "junk.onnx")
    with pytest.raises(ModelLoadError) as direct:
        Model.load(garbage)
    with pytest.raises(ModelLoadError) as probed:
        probe.load_model(garbage)
    assert str(probed.value) == str(direct.value)
    # A model that loads but whose outputs fit no decoder keeps its own error type.
    odd = make_onnx_model(tmp_path / "odd.onnx", input_shape=(1, 3, 32, 32),
                          outputs=[np.zeros((1, 7, 7, 7, 7), np.float32)])
    with pytest.raises(UnsupportedModelError):
        probe.load_model(odd)


def test_results_are_cached_until_the_file_changes(tmp_path, monkeypatch):
    path = make_onnx_model(tmp_path / "m.onnx", input_shape=(1, 3, 32, 32),
                           outputs=[np.zeros((1, 10), np.float32)])
    calls: list[object] = []
    real_run = subprocess.run
    monkeypatch.setattr(probe.subprocess, "run",
                        lambda *a, **k: (calls.append(a), real_run(*a, **k))[1])
    assert probe.probe_model(path).ok
    assert probe.probe_model(path).ok
    assert len(calls) == 1
    write_garbage(path)  # same name, new content
    assert not probe.probe_model(path).ok
    assert len(calls) == 2


def test_a_child_that_hangs_is_stopped_with_a_sentence(tmp_path, monkeypatch):
    path = write_garbage(tmp_path / "slow.onnx")
    monkeypatch.setattr(probe, "self_command",
                        lambda: [sys.executable, "-c", "import time; time.sleep(60)"])
    result = probe.probe_model(path, timeout=0.5)
    assert not result.ok
    assert "loading took longer than 0.5 s" in result.message


def test_probing_can_be_turned_off(tmp_path, monkeypatch):
    path = make_onnx_model(tmp_path / "m.onnx", input_shape=(1, 3, 32, 32),
                           outputs=[np.zeros((1, 10), np.float32)])
    monkeypatch.setenv("EDGEUI_NO_PROBE", "1")
    monkeypatch.setattr(probe.subprocess, "run",
                        lambda *a, **k: pytest.fail("no child process when probing is off"))
    assert probe.load_model(path).task == "classification"


def test_the_model_picker_scan_survives_a_crashing_model(tmp_path):
    make_crashing_tflite(tmp_path / "crash.tflite")
    make_onnx_model(tmp_path / "ok.onnx", input_shape=(1, 3, 32, 32),
                    outputs=[np.zeros((1, 10), np.float32)])
    entries = {e.name: e for e in catalog.scan_models([tmp_path])}
    assert entries["ok"].status_ok and entries["ok"].task == "classification"
    assert not entries["crash"].status_ok
    assert "LiteRT crashed" in entries["crash"].message
