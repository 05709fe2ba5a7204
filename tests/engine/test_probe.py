"""Loading a TFLite model in a child process first: a model that aborts LiteRT is one error."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from edgeui.engine import catalog, probe
from edgeui.engine.model import ModelOptions
from edgeui.engine.runtimes.base import RuntimeOptions
from edgeui.errors import ModelLoadError, SidecarError
from tests.helpers.modelgen import (
    make_crashing_tflite,
    make_onnx_model,
    make_tflite_model,
    write_garbage,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    probe.clear_cache()
    catalog.clear_cache()
    yield
    probe.clear_cache()
    catalog.clear_cache()


def _classifier_tflite(path: Path, best: int = 4) -> Path:
    logits = np.zeros((1, 10), np.float32)
    logits[0, best] = 5.0
    return make_tflite_model(path, input_shape=(1, 32, 32, 3), outputs=[logits])


def _count_children(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record every child process the probe starts (they still run)."""
    calls: list[object] = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(probe.subprocess, "Popen",
                        lambda *a, **k: (calls.append(a), real_popen(*a, **k))[1])
    return calls


def _scripted_child(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Make the 'child' a Python one-liner instead of edgeui, to test the protocol."""
    monkeypatch.setattr(probe, "self_command", lambda: [sys.executable, "-c", script])


def test_the_crashing_model_really_kills_a_process_that_loads_it(tmp_path):
    # The premise of the probe: without it, this model takes the whole app down.
    model = make_crashing_tflite(tmp_path / "crash.tflite")
    code = f"from edgeui.engine.model import Model; Model.load({str(model)!r}); print('survived')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode != 0 and "survived" not in done.stdout


def test_a_crashing_model_becomes_one_clear_error_and_we_survive(tmp_path):
    model = make_crashing_tflite(tmp_path / "crash.tflite")
    result = probe.probe_model(model)
    assert not result.ok and result.crashed
    assert result.message.startswith("crash.tflite: LiteRT crashed while loading this model")
    if sys.platform != "win32":
        assert "(SIGABRT)" in result.message
    with pytest.raises(ModelLoadError, match="crashed"):
        probe.load_model(model)


def test_a_good_model_loads_and_reports_what_the_picker_lists(tmp_path):
    path = _classifier_tflite(tmp_path / "cls.tflite")
    result = probe.probe_model(path)
    assert result.ok and result.checked, result.message
    assert (result.task, result.input_size) == ("classification", "32x32")
    assert result.runtime.startswith("LiteRT")
    model = probe.load_model(path)
    assert model.predict(np.zeros((32, 32, 3), np.uint8)).classes[0].index == 4


def test_the_childs_error_is_the_same_sentence_as_in_process(tmp_path):
    from edgeui.engine.model import Model

    garbage = write_garbage(tmp_path / "junk.tflite", prefix=b"\x1c\x00\x00\x00TFL3")
    with pytest.raises(ModelLoadError) as direct:
        Model.load(garbage)
    with pytest.raises(ModelLoadError) as probed:
        probe.load_model(garbage)
    assert str(probed.value) == str(direct.value)


def test_onnx_models_and_delegates_are_not_probed(tmp_path, monkeypatch):
    """onnxruntime raises instead of aborting; an Edge TPU is opened by one process at a
    time, so a second process must not open it while the app runs a model on it."""
    monkeypatch.setattr(probe.subprocess, "run",
                        lambda *a, **k: pytest.fail("no child process expected"))
    onnx = make_onnx_model(tmp_path / "m.onnx", input_shape=(1, 3, 32, 32),
                           outputs=[np.zeros((1, 10), np.float32)])
    assert probe.load_model(onnx).task == "classification"
    tpu = ModelOptions(runtime=RuntimeOptions(delegate="libedgetpu.so.1"))
    assert not probe.should_probe(tmp_path / "m_edgetpu.tflite", tpu)
    assert probe.should_probe(tmp_path / "m.tflite", ModelOptions())


def test_successes_are_cached_until_the_file_changes(tmp_path, monkeypatch):
    path = _classifier_tflite(tmp_path / "m.tflite")
    calls = _count_children(monkeypatch)
    assert probe.probe_model(path).ok
    assert probe.probe_model(path).ok
    assert len(calls) == 1
    make_crashing_tflite(path)  # same name, new content
    assert probe.probe_model(path).crashed
    assert probe.probe_model(path).crashed
    assert len(calls) == 2


def test_a_refusal_with_a_reason_is_not_cached_so_fixing_the_sidecar_is_enough(tmp_path):
    path = _classifier_tflite(tmp_path / "cls.tflite")
    sidecar = tmp_path / "cls.yaml"
    sidecar.write_text("task: [unclosed\n")
    with pytest.raises(SidecarError):
        probe.load_model(path)
    sidecar.write_text("task: classification\n")
    assert probe.load_model(path).task == "classification"


def test_two_threads_asking_about_one_file_share_one_child(tmp_path, monkeypatch):
    path = _classifier_tflite(tmp_path / "m.tflite")
    calls = _count_children(monkeypatch)
    results: list[probe.ProbeResult] = []
    threads = [threading.Thread(target=lambda: results.append(probe.probe_model(path)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 3 and all(r.ok for r in results)
    assert len(calls) == 1


def test_native_junk_before_the_answer_does_not_hide_it(tmp_path, monkeypatch):
    path = _classifier_tflite(tmp_path / "m.tflite")
    _scripted_child(monkeypatch, "import sys; sys.stdout.write('INFO: native chatter'"
                                 " + 'EDGEUI-PROBE ' + '{\"ok\": true, \"task\": \"pose\"}\\n')")
    result = probe.probe_model(path)
    assert result.ok and result.task == "pose"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_child_that_answers_then_crashes_is_a_crash(tmp_path, monkeypatch):
    """A model whose interpreter crashes when it is freed would crash the app at the next
    model switch."""
    path = _classifier_tflite(tmp_path / "m.tflite")
    _scripted_child(monkeypatch, "import os, signal; print('EDGEUI-PROBE {\"ok\": true}', "
                                 "flush=True); os.kill(os.getpid(), signal.SIGSEGV)")
    result = probe.probe_model(path)
    assert not result.ok and "(SIGSEGV)" in result.message


def test_a_child_that_cannot_run_at_all_leaves_the_model_to_load_in_process(tmp_path,
                                                                             monkeypatch):
    path = _classifier_tflite(tmp_path / "m.tflite")
    _scripted_child(monkeypatch, "import sys; sys.exit('ImportError: no module named edgeui')")
    result = probe.probe_model(path)
    assert result.ok and not result.checked
    assert "no module named edgeui" in result.message
    assert probe.cached(path) is None  # not remembered: next time it is tried again
    assert probe.load_model(path).task == "classification"


def test_a_child_that_hangs_is_stopped_with_a_sentence(tmp_path, monkeypatch):
    path = _classifier_tflite(tmp_path / "slow.tflite")
    _scripted_child(monkeypatch, "import time; time.sleep(60)")
    result = probe.probe_model(path, timeout=0.5)
    assert not result.ok
    assert "loading took longer than 0.5 s" in result.message
    assert probe.cached(path) is None


def test_options_that_cannot_be_sent_are_not_an_exception(tmp_path):
    path = _classifier_tflite(tmp_path / "m.tflite")
    result = probe.probe_model(path, options=(x for x in ()))  # a generator: not picklable
    assert result.ok and not result.checked


def test_probing_can_be_turned_off(tmp_path, monkeypatch):
    path = _classifier_tflite(tmp_path / "m.tflite")
    monkeypatch.setenv("EDGEUI_NO_PROBE", "1")
    monkeypatch.setattr(probe.subprocess, "Popen",
                        lambda *a, **k: pytest.fail("no child process when probing is off"))
    assert probe.load_model(path).task == "classification"


def test_the_model_picker_scan_survives_a_crashing_model(tmp_path):
    make_crashing_tflite(tmp_path / "crash.tflite")
    _classifier_tflite(tmp_path / "ok.tflite")
    make_onnx_model(tmp_path / "net.onnx", input_shape=(1, 3, 32, 32),
                    outputs=[np.zeros((1, 10), np.float32)])
    entries = {e.name: e for e in catalog.scan_models([tmp_path])}
    assert entries["ok"].status_ok and entries["ok"].task == "classification"
    assert entries["net"].status_ok and entries["net"].input_size == "32x32"
    assert not entries["crash"].status_ok
    assert "LiteRT crashed" in entries["crash"].message


def test_a_tflite_model_with_another_suffix_is_probed_by_its_content(tmp_path):
    crash = make_crashing_tflite(tmp_path / "crash.tflite")
    renamed = crash.rename(tmp_path / "weights.bin")
    assert probe.should_probe(renamed)
    with pytest.raises(ModelLoadError, match=r"weights\.bin: LiteRT crashed"):
        probe.load_model(renamed)
    assert catalog.quick_entry(renamed).format == "TFLite"


def test_a_folder_named_edgeui_in_the_working_folder_does_not_disable_the_check(
        tmp_path, monkeypatch):
    """`python -m edgeui` would import ./edgeui first: a clone in the home folder, with the
    app started from home, turned the crash check off and the app died (QA re-test)."""
    (tmp_path / "edgeui").mkdir()
    monkeypatch.chdir(tmp_path)
    model = make_crashing_tflite(tmp_path / "crash.tflite")
    result = probe.probe_model(model)
    assert result.checked and result.crashed, result.message
