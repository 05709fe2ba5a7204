"""The tiny-model generators return exactly their constants through the real runtimes."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from tests.helpers.modelgen import (
    OutputSpec,
    make_custom_op_onnx,
    make_custom_op_tflite,
    make_onnx_model,
    make_tflite_model,
    write_garbage,
    write_truncated,
    zip_append,
)

ort = pytest.importorskip("onnxruntime")
litert = pytest.importorskip("ai_edge_litert.interpreter")

RNG = np.random.default_rng(7)
BOXES = RNG.random((1, 6, 5)).astype(np.float32)
CLASS_MAP = RNG.integers(0, 21, (1, 8, 8)).astype(np.int64)


def _ort_run(path, feed):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess, sess.run(None, {sess.get_inputs()[0].name: feed})


def _tfl_run(path, feed):
    it = litert.Interpreter(model_path=str(path))
    it.allocate_tensors()
    d = it.get_input_details()[0]
    if tuple(feed.shape) != tuple(d["shape"]):
        it.resize_tensor_input(d["index"], list(feed.shape), strict=True)
        it.allocate_tensors()
    it.set_tensor(d["index"], feed)
    it.invoke()
    return it, [it.get_tensor(o["index"]) for o in it.get_output_details()]


def test_onnx_outputs_are_the_constants_whatever_the_input(tmp_path):
    p = make_onnx_model(tmp_path / "m.onnx", outputs={"boxes": BOXES, "classes": CLASS_MAP})
    for feed in (np.zeros((1, 3, 64, 64), np.float32), RNG.random((1, 3, 64, 64), np.float32)):
        sess, (boxes, classes) = _ort_run(p, feed)
        np.testing.assert_array_equal(boxes, BOXES)
        np.testing.assert_array_equal(classes, CLASS_MAP)
        assert classes.dtype == np.int64
    assert [o.name for o in sess.get_outputs()] == ["boxes", "classes"]


def test_onnx_sequence_outputs_metadata_and_dynamic_dims(tmp_path):
    p = make_onnx_model(
        tmp_path / "m.onnx",
        outputs=[BOXES, np.array([1.5, -2], np.float16), np.array([0, 255], np.uint8)],
        metadata={"task": "detect", "names": "{0: 'cat'}"},
        dynamic_dims={0: "batch", 2: "height", 3: "width"},
    )
    sess, outs = _ort_run(p, np.ones((2, 3, 32, 48), np.float32))
    assert sess.get_inputs()[0].shape == ["batch", 3, "height", "width"]
    assert [o.name for o in sess.get_outputs()] == ["output0", "output1", "output2"]
    assert [o.dtype for o in outs] == [np.float32, np.float16, np.uint8]
    np.testing.assert_array_equal(outs[1], [1.5, -2])
    np.testing.assert_array_equal(outs[2], [0, 255])
    assert sess.get_modelmeta().custom_metadata_map == {"task": "detect", "names": "{0: 'cat'}"}


@pytest.mark.parametrize("dtype", ["float16", "uint8"])
def test_onnx_non_float32_inputs(tmp_path, dtype):
    p = make_onnx_model(tmp_path / "m.onnx", input_dtype=dtype, outputs=[BOXES])
    sess, outs = _ort_run(p, np.ones((1, 3, 64, 64), dtype))
    assert sess.get_inputs()[0].type == f"tensor({'float16' if dtype == 'float16' else dtype})"
    np.testing.assert_array_equal(outs[0], BOXES)


def test_onnx_custom_op_model_is_refused(tmp_path):
    with pytest.raises(Exception, match="FooOp"):
        ort.InferenceSession(
            str(make_custom_op_onnx(tmp_path / "c.onnx")), providers=["CPUExecutionProvider"]
        )


def test_tflite_float_and_int_outputs(tmp_path):
    p = make_tflite_model(
        tmp_path / "m.tflite",
        outputs=[BOXES, CLASS_MAP, np.array([[-3, 7]], np.int32), np.array([1.5], np.float16)],
        output_names=["boxes", "class_map", "neg", "half"],
    )
    for feed in (np.zeros((1, 64, 64, 3), np.float32), RNG.random((1, 64, 64, 3), np.float32)):
        it, outs = _tfl_run(p, feed)
        np.testing.assert_array_equal(outs[0], BOXES)
        np.testing.assert_array_equal(outs[1], CLASS_MAP)
        np.testing.assert_array_equal(outs[2], [[-3, 7]])
        np.testing.assert_array_equal(outs[3], [1.5])
    assert [o.dtype for o in outs] == [np.float32, np.int64, np.int32, np.float16]
    assert [d["name"] for d in it.get_output_details()] == ["boxes", "class_map", "neg", "half"]


@pytest.mark.parametrize(
    ("in_dtype", "in_quant", "out_dtype", "out_quant"),
    [("uint8", (1 / 128, 128), "uint8", (1 / 256, 0)), ("int8", (0.02, -5), "int8", (0.5, -3))],
)
def test_tflite_quantised_input_and_outputs(tmp_path, in_dtype, in_quant, out_dtype, out_quant):
    raw = np.array([[-128, -3, 0, 9, 127]] if out_dtype == "int8" else [[0, 3, 128, 255]])
    p = make_tflite_model(
        tmp_path / "q.tflite",
        input_dtype=in_dtype,
        input_quant=in_quant,
        outputs=[OutputSpec(raw.astype(out_dtype), quant=out_quant, dtype=out_dtype)],
    )
    it, outs = _tfl_run(p, np.full((1, 64, 64, 3), 7, in_dtype))
    din, dout = it.get_input_details()[0], it.get_output_details()[0]
    assert din["dtype"] == np.dtype(in_dtype)
    assert din["quantization"] == pytest.approx(in_quant)
    assert dout["quantization"] == pytest.approx(out_quant)
    np.testing.assert_array_equal(outs[0], raw.astype(out_dtype))


def test_tflite_float_values_are_quantised_for_quantised_outputs(tmp_path):
    p = make_tflite_model(
        tmp_path / "q.tflite",
        outputs=[np.array([[0.0, 0.5, 0.999]], np.float32)],
        output_quant=[(1 / 256, 0)],
    )
    _, outs = _tfl_run(p, np.zeros((1, 64, 64, 3), np.float32))
    np.testing.assert_array_equal(outs[0], [[0, 128, 256 - 1]])


def test_tflite_dynamic_batch(tmp_path):
    p = make_tflite_model(tmp_path / "d.tflite", outputs=[BOXES], dynamic_dims=[0])
    it, outs = _tfl_run(p, np.zeros((3, 64, 64, 3), np.float32))
    assert list(it.get_input_details()[0]["shape_signature"]) == [-1, 64, 64, 3]
    np.testing.assert_array_equal(outs[0], BOXES)


def test_tflite_associated_files_and_metadata_buffers(tmp_path):
    from edgeui.engine.runtimes.litert import read_tflite_metadata_buffers

    p = make_tflite_model(
        tmp_path / "m.tflite",
        associated_files={"labels.txt": b"cat\ndog\n"},
        metadata_buffers={"TFLITE_METADATA": b"\x01\x02meta", "min_runtime_version": b"1.5.0"},
    )
    with zipfile.ZipFile(p) as zf:
        assert zf.read("labels.txt") == b"cat\ndog\n"
    assert read_tflite_metadata_buffers(p)["TFLITE_METADATA"] == b"\x01\x02meta"
    _tfl_run(p, np.zeros((1, 64, 64, 3), np.float32))  # still a loadable model


def test_tflite_custom_op_model_needs_the_op(tmp_path):
    p = make_custom_op_tflite(tmp_path / "c.tflite", op_name="my-op")
    it = litert.Interpreter(model_path=str(p))
    with pytest.raises(RuntimeError, match="unresolved custom op: my-op"):
        it.allocate_tensors()


def test_file_damage_helpers(tmp_path):
    src = make_tflite_model(tmp_path / "m.tflite")
    t = write_truncated(src, tmp_path / "t.tflite", 0.25)
    assert t.read_bytes() == src.read_bytes()[: len(t.read_bytes())]
    assert 0 < t.stat().st_size < src.stat().st_size
    g = write_garbage(tmp_path / "g.bin", 100, prefix=b"ab")
    assert g.stat().st_size == 102 and g.read_bytes()[:2] == b"ab"
    z = zip_append(tmp_path / "g.bin", {"a.txt": b"x"})
    with zipfile.ZipFile(z) as zf:
        assert zf.namelist() == ["a.txt"]
