"""`edgeui inspect` on a model the runtime refuses: what the file says, then why it can't run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from edgeui.cli import main
from tests.helpers.modelgen import (
    _GraphBuilder,
    make_custom_op_onnx,
    make_custom_op_tflite,
    make_tflite_model,
    write_truncated,
)

SHARED = Path(os.environ.get("EDGEUI_TEST_DATA", Path(__file__).parents[2] / ".." / "shared"))
BROKEN = SHARED / "models" / "model_invoking_error.tflite"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def infer_sentence(capsys, model: Path, tmp_path: Path) -> str:
    """The one sentence `edgeui infer` gives for this model."""
    image = tmp_path / "img.png"
    import cv2

    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    code, out, err = run_cli(capsys, "infer", str(model), str(image))
    assert code == 2 and out == ""
    line = err.strip()
    assert line.startswith("edgeui: error: ") and "\n" not in line
    return line.removeprefix("edgeui: error: ")


def quantised_custom_model(path: Path) -> Path:
    """uint8 input 1x?x?x3 (quantised), a DEQUANTIZE and two uses of the custom op 'vendor-nms'."""
    g = _GraphBuilder()
    s = g.s
    x = g.tensor("image", (1, 1, 1, 3), "uint8", quant=(0.5, 128), signature=(1, -1, -1, 3))
    y = g.tensor("pixels", (1, 1, 1, 3), "float32", signature=(1, -1, -1, 3))
    z = g.tensor("boxes", (1, 10, 4), "float32")
    w = g.tensor("scores", (1, 10), "float32")
    g.op(s.BuiltinOperator.DEQUANTIZE, [x], [y])
    g.op(s.BuiltinOperator.CUSTOM, [y], [z], custom="vendor-nms")
    g.op(s.BuiltinOperator.CUSTOM, [y], [w], custom="vendor-nms")
    return g.finish(path, [x], [z, w], None)


def test_custom_op_text_shows_tensors_operators_and_the_infer_sentence(tmp_path, capsys):
    model = quantised_custom_model(tmp_path / "det.tflite")
    sentence = infer_sentence(capsys, model, tmp_path)
    assert "vendor-nms" in sentence

    code, out, err = run_cli(capsys, "inspect", str(model))
    assert code == 2
    assert err.strip() == f"edgeui: error: {sentence}"  # scripts still get one line
    lines = out.splitlines()
    assert lines[0].startswith("det.tflite  ·  TFLite  ·  ")
    assert "schema_version=3" in out
    assert "  image  [1x?x?x3]  uint8  quant scale=0.5 zero_point=128" in lines
    assert "  boxes  [1x10x4]  float32" in lines
    assert "  scores  [1x10]  float32" in lines
    assert out.index("inputs") < out.index("image") < out.index("outputs") < out.index("boxes")
    ops = [ln.split() for ln in lines if ln.startswith("  ") and "×" in ln]
    assert ops == [["DEQUANTIZE", "×1", "v1"], ["vendor-nms", "×2", "v1", "custom"]]
    assert "operators (2 kinds, 3 uses)" in lines
    assert lines[-1] == f"cannot run: {sentence}"
    assert "model card" not in out and "Traceback" not in out + err


def test_custom_op_json_keeps_fillable_keys_and_says_why(tmp_path, capsys):
    model = quantised_custom_model(tmp_path / "det.tflite")
    sentence = infer_sentence(capsys, model, tmp_path)
    code, out, err = run_cli(capsys, "inspect", str(model), "--json")
    assert code == 2
    assert err.strip() == f"edgeui: error: {sentence}"
    info = json.loads(out)
    assert info["loadable"] is False
    assert info["error"] == sentence
    assert info["model"] == str(model)
    assert info["file"] == {"name": "det.tflite", "size_bytes": model.stat().st_size,
                            "format": "TFLite"}  # fmt: skip
    assert info["format_info"]["schema_version"] == 3
    assert info["inputs"] == [{"name": "image", "shape": [1, None, None, 3], "dtype": "uint8",
                               "quantization": {"scale": 0.5, "zero_point": 128}}]  # fmt: skip
    assert [o["name"] for o in info["outputs"]] == ["boxes", "scores"]
    assert [o["shape"] for o in info["outputs"]] == [[1, 10, 4], [1, 10]]
    assert info["operators"] == [
        {"name": "DEQUANTIZE", "builtin": "DEQUANTIZE", "version": 1, "count": 1},
        {"name": "vendor-nms", "builtin": "CUSTOM", "version": 1, "count": 2, "custom": True},
    ]
    assert "card" not in info and "runtime" not in info


def test_helper_custom_op_model(tmp_path, capsys):
    model = make_custom_op_tflite(tmp_path / "custom.tflite", op_name="my-secret-op")
    code, out, _ = run_cli(capsys, "inspect", str(model), "--json")
    info = json.loads(out)
    assert code == 2
    assert [t["name"] for t in info["inputs"]] == ["input"]
    assert [o["name"] for o in info["operators"]] == ["my-secret-op"]


def test_onnx_custom_op_shows_header_and_exits_2(tmp_path, capsys):
    model = make_custom_op_onnx(tmp_path / "foo.onnx")
    sentence = infer_sentence(capsys, model, tmp_path)
    code, out, err = run_cli(capsys, "inspect", str(model))
    assert code == 2 and err.strip() == f"edgeui: error: {sentence}"
    assert out.splitlines()[0].startswith("foo.onnx  ·  ONNX  ·  ")
    assert "ir_version=8" in out
    assert "ai.onnx 17" in out and "com.example 1" in out
    assert out.splitlines()[-1] == f"cannot run: {sentence}"

    code, out, _ = run_cli(capsys, "inspect", str(model), "--json")
    info = json.loads(out)
    assert code == 2 and info["loadable"] is False and info["error"] == sentence
    assert info["format_info"]["opset"] == {"ai.onnx": 17, "com.example": 1}


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated", "garbage_tfl3"])
@pytest.mark.parametrize("json_flag", [False, True])
def test_nothing_readable_keeps_the_one_line_error(tmp_path, capsys, kind, json_flag):
    path = tmp_path / "m.tflite"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(b"hello, not a model" * 10)
    elif kind == "garbage_tfl3":
        path.write_bytes(b"\x10\x00\x00\x00TFL3" + b"\xff" * 200)
    else:
        full = make_tflite_model(tmp_path / "full.tflite", outputs=[np.zeros((1, 10), np.float32)])
        write_truncated(full, path)
    code, out, err = run_cli(capsys, "inspect", str(path), *(["--json"] if json_flag else []))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "m.tflite" in err


def test_loadable_model_json_is_unchanged(tmp_path, capsys):
    model = make_tflite_model(tmp_path / "ok.tflite", outputs=[np.zeros((1, 10), np.float32)])
    code, out, _ = run_cli(capsys, "inspect", str(model), "--json")
    info = json.loads(out)
    assert code == 0
    assert "loadable" not in info and "error" not in info and "operators" not in info
    assert "card" in info


@pytest.mark.skipif(not BROKEN.is_file(), reason=f"shared model {BROKEN} not present")
def test_real_broken_model(tmp_path, capsys):
    sentence = infer_sentence(capsys, BROKEN, tmp_path)
    code, out, err = run_cli(capsys, "inspect", str(BROKEN))
    assert code == 2 and err.strip() == f"edgeui: error: {sentence}"
    assert "fake-op-double" in out and "custom" in out
    assert "  tensor 0  [1x3]  uint8" in out.splitlines()  # unnamed tensors get their index
    assert out.splitlines()[-1] == f"cannot run: {sentence}"
    code, out, _ = run_cli(capsys, "inspect", str(BROKEN), "--json")
    info = json.loads(out)
    assert code == 2 and info["error"] == sentence and info["loadable"] is False
    assert info["format_info"]["description"] == "programmatic model"
    assert [o["name"] for o in info["operators"]] == ["fake-op-double"]
