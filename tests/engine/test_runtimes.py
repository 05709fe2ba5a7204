"""The ONNX Runtime and LiteRT backends: provider choice, quantisation, dims, every error path."""

from __future__ import annotations

import ctypes.util
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from edgeui.engine.runtimes.base import Runtime, RuntimeOptions, load_runtime
from edgeui.engine.types import TensorSpec
from edgeui.errors import ConfigError, InferenceError, ModelLoadError
from tests.helpers.modelgen import (
    OutputSpec,
    make_custom_op_onnx,
    make_custom_op_tflite,
    make_onnx_model,
    make_tflite_model,
    write_garbage,
    write_truncated,
)

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("ai_edge_litert.interpreter")

from edgeui.engine.runtimes import litert as litert_mod  # noqa: E402
from edgeui.engine.runtimes import onnx as onnx_mod  # noqa: E402

RNG = np.random.default_rng(3)
BOXES = RNG.random((1, 6, 5)).astype(np.float32)
CLASS_MAP = RNG.integers(0, 21, (1, 8, 8)).astype(np.int64)
CPU = "CPUExecutionProvider"
REAL_SESSION = ort.InferenceSession

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("EDGEUI_TEST_DATA", REPO.parent / "shared"))
MODELS = DATA / "models"


def one_line(msg: str) -> bool:
    return "\n" not in msg and "Traceback" not in msg and msg.endswith(".")


@pytest.fixture
def onnx_model(tmp_path):
    return make_onnx_model(tmp_path / "det.onnx", outputs={"boxes": BOXES, "cls": CLASS_MAP})


# =========================================================================== ONNX


class RecordingSession:
    """Stands in for ort.InferenceSession: records the arguments, runs on CPU."""

    calls: ClassVar[list[dict]] = []

    def __new__(cls, path, sess_options=None, providers=None):
        cls.calls.append({"providers": list(providers or []), "options": sess_options})
        return REAL_SESSION(path, sess_options, providers=[CPU])


@pytest.fixture
def recorded(monkeypatch):
    RecordingSession.calls = []
    monkeypatch.setattr(ort, "InferenceSession", RecordingSession)
    return RecordingSession.calls


def test_onnx_specs_and_constants(onnx_model):
    rt = load_runtime(onnx_model, RuntimeOptions(providers=("cpu",)))
    assert isinstance(rt, onnx_mod.OnnxRuntime) and isinstance(rt, Runtime)
    assert rt.inputs == (TensorSpec("images", (1, 3, 64, 64), "float32"),)
    assert rt.outputs == (
        TensorSpec("boxes", (1, 6, 5), "float32"),
        TensorSpec("cls", (1, 8, 8), "int64"),
    )
    boxes, cls = rt.run({"images": np.zeros((1, 3, 64, 64), np.float32)})
    np.testing.assert_array_equal(boxes, BOXES)
    np.testing.assert_array_equal(cls, CLASS_MAP)
    assert cls.dtype == np.int64
    assert rt.warnings == ()


def test_onnx_automatic_provider_order(onnx_model, recorded, monkeypatch):
    available = [
        CPU, "AzureExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider",
        "DmlExecutionProvider",
    ]  # fmt: skip
    monkeypatch.setattr(ort, "get_available_providers", lambda: available)
    rt = onnx_mod.OnnxRuntime(onnx_model, RuntimeOptions())
    assert recorded[0]["providers"] == [
        "TensorrtExecutionProvider", "CUDAExecutionProvider", "DmlExecutionProvider", CPU,
    ]  # fmt: skip
    # The stand-in only runs on CPU: each chosen-but-not-running provider is reported.
    assert len(rt.warnings) == 3
    assert "TensorrtExecutionProvider was chosen but could not start" in rt.warnings[0]
    assert rt.providers == (CPU,)


def test_onnx_short_names_override(onnx_model, recorded, monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CPU, "OpenVINOExecutionProvider"])
    onnx_mod.OnnxRuntime(onnx_model, RuntimeOptions(providers=("cpu", "openvino")))
    assert recorded[0]["providers"] == [CPU, "OpenVINOExecutionProvider"]


def test_onnx_missing_provider_warns(onnx_model, caplog):
    with caplog.at_level("WARNING"):
        rt = load_runtime(onnx_model, RuntimeOptions(providers=("cuda", "cpu")))
    assert rt.providers == (CPU,)
    assert len(rt.warnings) == 1
    assert "CUDAExecutionProvider is not available" in rt.warnings[0]
    assert "det.onnx" in rt.warnings[0]
    assert "CUDAExecutionProvider is not available" in caplog.text
    assert rt.warnings[0].endswith(f"; using the next one, {CPU}.")


def test_onnx_only_missing_providers_falls_back_to_cpu(onnx_model, recorded):
    rt = onnx_mod.OnnxRuntime(onnx_model, RuntimeOptions(providers=("TensorRT",)))
    assert recorded[0]["providers"] == [CPU]
    assert "TensorrtExecutionProvider" in rt.warnings[0]
    # No other provider was asked for: the warning names the one that runs, not "the next".
    assert rt.warnings[0].endswith(f"; falling back to {CPU}.")


def test_onnx_missing_provider_after_one_asked_for_names_that_one(onnx_model, recorded):
    rt = onnx_mod.OnnxRuntime(onnx_model, RuntimeOptions(providers=("cpu", "cuda")))
    assert recorded[0]["providers"] == [CPU]
    assert len(rt.warnings) == 1
    assert rt.warnings[0].endswith(f"; using {CPU}.")


def test_onnx_strict_providers_raise(onnx_model):
    with pytest.raises(ModelLoadError, match="CUDAExecutionProvider is not available") as e:
        load_runtime(onnx_model, RuntimeOptions(providers=("cuda", "cpu"), strict_providers=True))
    assert one_line(str(e.value))
    # The sentence says what happens: it stops, it does not go on to the next provider.
    assert str(e.value).endswith("; stopping because --strict-providers is set.")
    assert "using the next one" not in str(e.value)


def test_onnx_strict_raises_when_chosen_provider_does_not_start(onnx_model, recorded, monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", CPU])
    with pytest.raises(ModelLoadError, match="CUDAExecutionProvider was chosen but could not"):
        onnx_mod.OnnxRuntime(onnx_model, RuntimeOptions(strict_providers=True))


def test_onnx_threads_and_graph_optimisation(onnx_model, recorded):
    rt = onnx_mod.OnnxRuntime(onnx_model, RuntimeOptions(threads=2, graph_optimization="basic"))
    so = recorded[0]["options"]
    assert so.intra_op_num_threads == 2
    assert so.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    assert rt.describe() == f"onnxruntime {ort.__version__} · CPUExecutionProvider · 2 threads"
    auto = onnx_mod.OnnxRuntime(onnx_model, RuntimeOptions(graph_optimization="disable"))
    assert recorded[1]["options"].intra_op_num_threads == 0
    assert recorded[1]["options"].graph_optimization_level == (
        ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    assert auto.describe().endswith("· auto threads")


def test_onnx_pool_threads_do_not_spin_between_runs(onnx_model):
    """Between camera frames onnxruntime's threads would spin, burning a core or more."""
    rt = onnx_mod.OnnxRuntime(onnx_model, RuntimeOptions())
    options = rt.session.get_session_options()
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"


def test_onnx_bad_settings(onnx_model):
    with pytest.raises(ConfigError, match="graph optimisation level 'fast'"):
        load_runtime(onnx_model, RuntimeOptions(graph_optimization="fast"))
    with pytest.raises(ConfigError, match="threads must be 1 or more"):
        load_runtime(onnx_model, RuntimeOptions(threads=0))


def test_onnx_dynamic_dims_are_none(tmp_path):
    p = make_onnx_model(tmp_path / "d.onnx", outputs=[BOXES], dynamic_dims={0: "n", 2: "h", 3: "w"})
    rt = load_runtime(p)
    assert rt.inputs[0].shape == (None, 3, None, None)
    out = rt.run({"images": np.zeros((2, 3, 32, 48), np.float32)})
    np.testing.assert_array_equal(out[0], BOXES)


def test_onnx_float16_input_accepts_float32(tmp_path):
    rt = load_runtime(make_onnx_model(tmp_path / "h.onnx", input_dtype="float16", outputs=[BOXES]))
    assert rt.inputs[0].dtype == "float16"
    out = rt.run({"images": np.ones((1, 3, 64, 64), np.float32)})
    np.testing.assert_array_equal(out[0], BOXES)


def test_onnx_feed_errors_are_one_sentence(onnx_model):
    rt = load_runtime(onnx_model)
    with pytest.raises(InferenceError, match=r"'images' expects shape 1x3x64x64, got 1x3x10x10"):
        rt.run({"images": np.zeros((1, 3, 10, 10), np.float32)})
    # a single unnamed feed for a single-input model is accepted
    assert len(rt.run({"x": np.zeros((1, 3, 64, 64), np.float32)})) == 2


def test_onnx_runtime_failure_becomes_inference_error(onnx_model, monkeypatch):
    rt = load_runtime(onnx_model)

    def boom(*_a, **_k):
        raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status\ncode")

    monkeypatch.setattr(rt.session, "run", boom)
    with pytest.raises(InferenceError) as e:
        rt.run({"images": np.zeros((1, 3, 64, 64), np.float32)})
    assert str(e.value) == "det.onnx: inference failed (Non-zero status code)."


def test_onnx_provider_chatter_stays_off_stdout(onnx_model, monkeypatch, capsys, caplog):
    def chatty(path, sess_options=None, providers=None):
        print("*************** EP Error ***************")  # what onnxruntime does on fallback
        return REAL_SESSION(path, sess_options, providers=[CPU])

    monkeypatch.setattr(ort, "InferenceSession", chatty)
    with caplog.at_level("INFO", logger="edgeui.engine.runtimes.onnx"):
        load_runtime(onnx_model)
    assert capsys.readouterr().out == ""
    assert "EP Error" in caplog.text


class EPFail(Exception):
    """Same name as onnxruntime's pybind exception for a provider failing mid-run."""


@pytest.mark.parametrize("strict", [False, True])
def test_onnx_provider_failing_mid_run_falls_back_to_cpu(onnx_model, monkeypatch, strict):
    rt = load_runtime(onnx_model, RuntimeOptions(strict_providers=strict))
    real_run, calls = rt.session.run, []

    def flaky(*args):
        calls.append(args)
        if len(calls) == 1:
            raise EPFail("CUDA failure 700: an illegal memory access")
        return real_run(*args)

    monkeypatch.setattr(rt.session, "run", flaky)
    rt.providers = ("CUDAExecutionProvider", CPU)  # pretend it started on a GPU
    feed = {"images": np.zeros((1, 3, 64, 64), np.float32)}
    if strict:
        with pytest.raises(InferenceError, match="CUDAExecutionProvider failed while running"):
            rt.run(feed)
        return
    np.testing.assert_array_equal(rt.run(feed)[0], BOXES)
    assert rt.providers == (CPU,)
    assert "continuing on CPUExecutionProvider" in rt.warnings[-1]


def test_onnx_metadata(tmp_path):
    p = make_onnx_model(tmp_path / "m.onnx", metadata={"task": "detect", "stride": "32"}, opset=13)
    meta = load_runtime(p).metadata()
    assert meta["custom"] == {"task": "detect", "stride": "32"}
    assert meta["producer_name"] == "edgeui-tests"
    assert meta["graph_name"] == "edgeui_test_graph"
    assert meta["opset"] == {"ai.onnx": 13}
    assert meta["ir_version"] == 8
    assert set(meta) >= {"domain", "description", "version"}


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d, src: write_truncated(src, d / "t.onnx"), "not a valid ONNX model (corrupt"),
        (lambda d, src: write_garbage(d / "g.onnx", prefix=b"\x08"), "not a valid ONNX model"),
        (lambda d, src: make_custom_op_onnx(d / "c.onnx"), "operator 'com.example:FooOp'"),
        (
            lambda d, src: make_custom_op_onnx(d / "s.onnx", "NoSuchOp", ""),
            "'NoSuchOp' at opset 17",
        ),
    ],
    ids=["truncated", "garbage", "custom-domain-op", "unknown-standard-op"],
)
def test_onnx_load_errors(tmp_path, onnx_model, make, expected):
    bad = make(tmp_path, onnx_model)
    with pytest.raises(ModelLoadError) as e:
        load_runtime(bad)
    msg = str(e.value)
    assert expected in msg and str(bad) in msg and one_line(msg), msg


def test_onnx_error_message_parsing():
    class Fail(Exception):
        pass

    raw = ("[ONNXRuntimeError] : 1 : FAIL : Load model from m.onnx failed:/src/model.cc:256 "
           "onnxruntime::Model::Model(x&&) Unsupported model IR version: 99, max supported IR "
           "version: 14\n")  # fmt: skip
    msg = onnx_mod.describe_load_error(Path("m.onnx"), Fail(raw), "1.0")
    assert msg == (
        "m.onnx: uses ONNX IR version 99 but onnxruntime 1.0 reads up to 14; upgrade "
        "onnxruntime or export with an older opset."
    )
    other = onnx_mod.describe_load_error(
        Path("m.onnx"), Fail("[ONNXRuntimeError] : 1 : FAIL : Load model from m.onnx failed:Bad\n"),
        "1.0",
    )  # fmt: skip
    assert other == "m.onnx: onnxruntime could not load the model (Bad)."


# =========================================================================== LiteRT


def _spy_set_tensor(rt, monkeypatch):
    seen: list[np.ndarray] = []
    original = rt.interpreter.set_tensor

    def spy(index, value):
        seen.append(np.array(value))
        return original(index, value)

    monkeypatch.setattr(rt.interpreter, "set_tensor", spy)
    return seen


def test_litert_says_providers_are_for_onnx(tmp_path, caplog):
    p = make_tflite_model(tmp_path / "m.tflite", outputs=[BOXES])
    with caplog.at_level("WARNING"):
        rt = load_runtime(p, RuntimeOptions(providers=("cuda",)))
    assert len(rt.warnings) == 1 and "apply to ONNX models" in rt.warnings[0]
    assert "--delegate" in rt.warnings[0] and "m.tflite" in caplog.text
    assert load_runtime(p, RuntimeOptions()).warnings == ()
    with pytest.raises(ModelLoadError, match=r"apply to ONNX models.*--strict-providers") as e:
        load_runtime(p, RuntimeOptions(providers=("cuda",), strict_providers=True))
    assert one_line(str(e.value))


def test_litert_specs_and_constants(tmp_path):
    p = make_tflite_model(tmp_path / "m.tflite", outputs=[BOXES, CLASS_MAP],
                          output_names=["boxes", "class_map"])  # fmt: skip
    rt = load_runtime(p, RuntimeOptions(threads=2))
    assert isinstance(rt, litert_mod.LiteRTRuntime) and isinstance(rt, Runtime)
    assert rt.inputs == (TensorSpec("input", (1, 64, 64, 3), "float32"),)
    assert rt.outputs == (
        TensorSpec("boxes", (1, 6, 5), "float32"),
        TensorSpec("class_map", (1, 8, 8), "int64"),
    )
    boxes, cmap = rt.run({"input": np.zeros((1, 64, 64, 3), np.float32)})
    np.testing.assert_array_equal(boxes, BOXES)
    np.testing.assert_array_equal(cmap, CLASS_MAP)
    assert cmap.dtype == np.int64  # not a quantised output: keeps its dtype
    assert re.fullmatch(r"LiteRT \d+\.\d+\S* · XNNPACK · 2 threads", rt.describe())
    assert rt.warnings == ()


def test_litert_load_keeps_stderr_clean(tmp_path):
    # A fresh process: TFLite prints its "INFO: Created ... XNNPACK delegate" line only once.
    good = make_tflite_model(tmp_path / "m.tflite")
    bad = make_custom_op_tflite(tmp_path / "c.tflite")
    code = (
        "import sys; from edgeui.engine.runtimes.base import load_runtime\n"
        "load_runtime(sys.argv[1])\n"
        "try:\n    load_runtime(sys.argv[2])\nexcept Exception as e:\n    print(e)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(good), str(bad)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # native INFO lines go to the debug log instead
    assert "needs the custom operator 'fake-op'" in proc.stdout


def test_litert_outputs_are_copies(tmp_path):
    rt = load_runtime(make_tflite_model(tmp_path / "m.tflite", outputs=[BOXES]))
    feed = {"input": np.zeros((1, 64, 64, 3), np.float32)}
    first = rt.run(feed)[0]
    first[...] = -1.0
    np.testing.assert_array_equal(rt.run(feed)[0], BOXES)


@pytest.mark.parametrize(
    ("dtype", "quant"), [("uint8", (1 / 128, 128)), ("int8", (0.05, -10))], ids=["uint8", "int8"]
)
def test_litert_quantised_input_boundary(tmp_path, monkeypatch, dtype, quant):
    p = make_tflite_model(tmp_path / "q.tflite", input_dtype=dtype, input_quant=quant)
    rt = load_runtime(p)
    spec = rt.inputs[0]
    assert (spec.dtype, spec.quantized) == (dtype, True)
    assert (spec.scale, spec.zero_point) == pytest.approx(quant)
    seen = _spy_set_tensor(rt, monkeypatch)

    native = RNG.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, (1, 64, 64, 3)).astype(dtype)
    rt.run({"input": native})
    np.testing.assert_array_equal(seen[-1], native)  # own dtype: passed as it is

    info = np.iinfo(dtype)
    lo, hi = (info.min - quant[1]) * quant[0], (info.max - quant[1]) * quant[0]
    x = RNG.uniform(lo - 1, hi + 1, (1, 64, 64, 3)).astype(np.float32)
    rt.run({"input": x})
    q = seen[-1]
    assert q.dtype == np.dtype(dtype)
    expected = np.clip(np.round(x / quant[0] + quant[1]), info.min, info.max)
    np.testing.assert_array_equal(q, expected.astype(dtype))
    # round trip: inside the representable range, within half a step
    back = (q.astype(np.float32) - quant[1]) * quant[0]
    inside = (x >= lo) & (x <= hi)
    assert np.abs(back - x)[inside].max() <= quant[0] / 2 + 1e-6


@pytest.mark.parametrize(
    ("dtype", "quant", "raw"),
    [("uint8", (1 / 256, 0), [[0, 1, 128, 255]]), ("int8", (0.5, -3), [[-128, -3, 0, 127]])],
    ids=["uint8", "int8"],
)
def test_litert_quantised_outputs_are_dequantised(tmp_path, dtype, quant, raw):
    raw_q = np.array(raw, dtype)
    p = make_tflite_model(
        tmp_path / "q.tflite", outputs=[OutputSpec(raw_q, quant=quant, dtype=dtype)]
    )
    rt = load_runtime(p)
    assert rt.outputs[0].dtype == dtype and rt.outputs[0].quantized
    (out,) = rt.run({"input": np.zeros((1, 64, 64, 3), np.float32)})
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, (raw_q.astype(np.float64) - quant[1]) * quant[0], rtol=1e-6)


def test_litert_dynamic_batch_is_resized(tmp_path):
    p = make_tflite_model(tmp_path / "d.tflite", outputs=[BOXES], dynamic_dims=[0])
    rt = load_runtime(p)
    assert rt.inputs[0].shape == (None, 64, 64, 3)
    for batch in (3, 1, 2):
        out = rt.run({"input": np.zeros((batch, 64, 64, 3), np.float32)})
        np.testing.assert_array_equal(out[0], BOXES)
    with pytest.raises(InferenceError, match=r"'input' expects shape \?x64x64x3, got 1x32x32x3"):
        rt.run({"input": np.zeros((1, 32, 32, 3), np.float32)})


def test_litert_missing_feed_and_invoke_failure(tmp_path, monkeypatch):
    rt = load_runtime(make_tflite_model(tmp_path / "m.tflite"))
    with pytest.raises(InferenceError, match="no data for model input 'input'"):
        rt.run({})

    def boom():
        raise RuntimeError("Node number 3 (ADD) failed to invoke.\n")

    monkeypatch.setattr(rt.interpreter, "invoke", boom)
    with pytest.raises(InferenceError) as e:
        rt.run({"input": np.zeros((1, 64, 64, 3), np.float32)})
    assert str(e.value) == "m.tflite: inference failed (Node number 3 (ADD) failed to invoke)."


def test_litert_metadata(tmp_path):
    p = make_tflite_model(
        tmp_path / "m.tflite",
        metadata_buffers={"TFLITE_METADATA": b"fbmeta", "min_runtime_version": b"1.5.0\0\0"},
        associated_files={"labels.txt": b"a\nb\n"},
    )
    rt = load_runtime(p)
    meta = rt.metadata()
    assert meta["runtime"] == "LiteRT" and meta["version"] == rt.backend.version
    assert meta["schema_version"] == 3
    assert meta["metadata_names"] == ["TFLITE_METADATA", "min_runtime_version"]
    assert meta["min_runtime_version"] == "1.5.0"
    assert rt.metadata_buffer("TFLITE_METADATA") == b"fbmeta"
    assert rt.metadata_buffer("nope") is None


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d, src: write_truncated(src, d / "t.tflite", 0.5), "corrupt or truncated"),
        (lambda d, src: write_truncated(src, d / "t.tflite", 0.05), "corrupt or truncated"),
        (lambda d, src: write_garbage(d / "g.tflite"), "no TFL3 identifier"),
        (lambda d, src: write_garbage(d / "g.tflite", prefix=b"\x10\0\0\0TFL3"), "corrupt or"),
        (lambda d, src: write_garbage(d / "g.tflite", prefix=b"\xff\xff\0\0TFL3", size=8),
         "corrupt or truncated"),
        (lambda d, src: make_custom_op_tflite(d / "c.tflite", "fake-op"),
         "needs the custom operator 'fake-op', which this LiteRT"),
    ],
    ids=["truncated-half", "truncated-header", "garbage", "garbage-with-identifier",
         "root-offset-outside", "custom-op"],
)  # fmt: skip
def test_litert_load_errors(tmp_path, make, expected):
    src = make_tflite_model(tmp_path / "good.tflite", outputs=[BOXES, CLASS_MAP])
    bad = make(tmp_path, src)
    with pytest.raises(ModelLoadError) as e:
        load_runtime(bad)
    msg = str(e.value)
    assert expected in msg and str(bad) in msg and one_line(msg), msg


@pytest.mark.parametrize("suffix", [".onnx", ".tflite"])
def test_load_runtime_file_errors(tmp_path, suffix):
    with pytest.raises(ModelLoadError, match="file not found"):
        load_runtime(tmp_path / f"missing{suffix}")
    (tmp_path / f"empty{suffix}").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="the file is empty"):
        load_runtime(tmp_path / f"empty{suffix}")
    (tmp_path / f"dir{suffix}").mkdir()
    with pytest.raises(ModelLoadError, match="is a folder"):
        load_runtime(tmp_path / f"dir{suffix}")


def test_litert_delegate_errors(tmp_path):
    p = make_tflite_model(tmp_path / "m.tflite")
    with pytest.raises(ModelLoadError) as e:
        load_runtime(p, RuntimeOptions(delegate="libedgetpu-not-here.so.1"))
    msg = str(e.value)
    assert "could not load delegate libedgetpu-not-here.so.1" in msg
    assert msg.count("libedgetpu-not-here.so.1") == 1, msg  # not again from the loader
    assert "check the library path and that the device is plugged in" in msg and one_line(msg)
    libm = ctypes.util.find_library("m")
    if libm:
        with pytest.raises(ModelLoadError, match="not a TFLite external delegate"):
            load_runtime(p, RuntimeOptions(delegate=libm))


def test_litert_threads_validation_and_auto_describe(tmp_path):
    p = make_tflite_model(tmp_path / "m.tflite")
    with pytest.raises(ConfigError, match="threads must be 1 or more"):
        load_runtime(p, RuntimeOptions(threads=0))
    assert load_runtime(p).describe().endswith("· XNNPACK · auto threads")
    assert load_runtime(p, RuntimeOptions(threads=1)).describe().endswith("· 1 thread")


def test_litert_backend_import_order(tmp_path, monkeypatch):
    real = litert_mod.import_backend()
    assert real.name == "LiteRT"
    fake = types.ModuleType("tflite_runtime.interpreter")
    fake.Interpreter = real.module.Interpreter
    fake.load_delegate = real.module.load_delegate
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    monkeypatch.setitem(sys.modules, "tflite_runtime", types.ModuleType("tflite_runtime"))
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", fake)
    rt = load_runtime(make_tflite_model(tmp_path / "m.tflite", outputs=[BOXES]))
    assert rt.describe().startswith("tflite-runtime ")
    np.testing.assert_array_equal(rt.run({"input": np.zeros((1, 64, 64, 3), np.float32)})[0], BOXES)

    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", None)
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    with pytest.raises(ModelLoadError, match=r"pip install ai-edge-litert"):
        load_runtime(tmp_path / "m.tflite")


# =========================================================================== real models

REAL = [
    # file, input (shape, dtype, quant), output (shape, dtype, quant)
    ("mobilenet_v2_1.0_224_quant.tflite", (1, 224, 224, 3), "uint8", (1 / 128, 128),
     (1, 1001), "uint8", (1 / 256, 0)),
    ("deeplabv3_mnv2_dm05_pascal_quant.tflite", (1, 513, 513, 3), "uint8", None,
     (1, 513, 513), "int64", None),
    ("movenet_single_pose_lightning_ptq.tflite", (1, 192, 192, 3), "uint8", None,
     (1, 1, 17, 3), "float32", None),
    ("yolox_nano.onnx", (1, 3, 416, 416), "float32", None, (1, 3549, 85), "float32", None),
    ("yolox_nano_float16_quantize.tflite", (1, 3, 416, 416), "float32", None,
     (1, 3549, 85), "float32", None),
]  # fmt: skip


def _real(name: str) -> Path:
    p = MODELS / name
    if not p.is_file():
        pytest.skip(f"real model {p} not present (set EDGEUI_TEST_DATA to the shared folder)")
    return p


@pytest.mark.real
@pytest.mark.parametrize("row", REAL, ids=[r[0] for r in REAL])
def test_real_model_specs(row):
    name, in_shape, in_dtype, in_q, out_shape, out_dtype, out_q = row
    rt = load_runtime(_real(name), RuntimeOptions(threads=2))
    (inp,), (out,) = rt.inputs, rt.outputs
    assert (inp.shape, inp.dtype) == (in_shape, in_dtype)
    assert (out.shape, out.dtype) == (out_shape, out_dtype)
    if in_q:
        assert (inp.scale, inp.zero_point) == pytest.approx(in_q)
    if out_q:
        assert (out.scale, out.zero_point) == pytest.approx(out_q)
    (y,) = rt.run({inp.name: np.zeros(in_shape, in_dtype)})
    assert y.shape == out_shape
    assert y.dtype == (np.float32 if out.quantized else np.dtype(out_dtype))


@pytest.mark.real
def test_real_mobilenet_cat():
    cv2 = pytest.importorskip("cv2")
    rt = load_runtime(_real("mobilenet_v2_1.0_224_quant.tflite"))
    img_path = DATA / "images" / "cat.bmp"
    if not img_path.is_file():
        pytest.skip(f"{img_path} not present")
    img = cv2.cvtColor(cv2.imread(str(img_path)), cv2.COLOR_BGR2RGB)
    x = cv2.resize(img, (224, 224), interpolation=cv2.INTER_LINEAR)[None]
    (probs,) = rt.run({rt.inputs[0].name: x})
    assert int(probs.argmax()) == 286  # "Egyptian cat"
    assert 0.6 < float(probs.max()) <= 1.0  # dequantised probability


@pytest.mark.real
def test_real_yolox_onnx_and_tflite_agree():
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 416, 416)).astype(np.float32)
    a = load_runtime(_real("yolox_nano.onnx")).run({"images": x})[0]
    b = load_runtime(_real("yolox_nano_float16_quantize.tflite")).run({"x": x})[0]
    # float16 weights: the objectness logits agree closely, not bit for bit
    assert np.abs(a[..., 4] - b[..., 4]).max() < 0.5
    assert np.corrcoef(a[..., 4].ravel(), b[..., 4].ravel())[0, 1] > 0.99


@pytest.mark.real
def test_real_model_invoking_error_is_clear():
    p = _real("model_invoking_error.tflite")
    with pytest.raises(ModelLoadError) as e:
        load_runtime(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: needs the custom operator 'fake-op-double'")
    assert one_line(msg)


def test_litert_messages_glued_together_are_separated():
    from edgeui.engine.runtimes.litert import clean_message

    raw = ("unsupported scale value (0.000000) in channel 0 for UINT8 tensor 0 in XNNPACK "
           "delegateunsupported datatype (UINT8) of tensor 0 in XNNPACK delegatefailed to "
           "create XNNPACK Value for tensor 0Node number 1 (TfLiteXNNPackDelegate) failed to "
           "prepare. See instructions: https://www.tensorflow.org/lite/guide/ops_custom")
    assert clean_message(raw) == (
        "unsupported scale value (0.000000) in channel 0 for UINT8 tensor 0 in XNNPACK "
        "delegate; unsupported datatype (UINT8) of tensor 0 in XNNPACK delegate; failed to "
        "create XNNPACK Value for tensor 0; Node number 1 (TfLiteXNNPackDelegate) failed to "
        "prepare")
