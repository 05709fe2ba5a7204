"""QA round 8, model card: extra non-image inputs are refused at load, sizes read width x
height, and the raw_pixels reason agrees with mean/std."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeui.cli import main
from edgeui.commands.inspect import format_report
from edgeui.engine.inspect import inspect_loaded
from edgeui.engine.model import Model
from edgeui.engine.modelcard import build_card
from edgeui.engine.runtimes.base import load_runtime
from edgeui.errors import UnsupportedModelError
from tests.helpers.modelgen import make_onnx_model


def two_input_onnx(path: Path, z_initializer: bool = False) -> Path:
    """x [1, 3, 32, 32] image and z [1, 3]: y [1, 3] = mean(x over H, W) + z. With
    ``z_initializer`` z has a default value (an overridable initializer), so only x is needed."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=0),
             helper.make_node("Add", ["m", "z"], ["y"])]  # fmt: skip
    inits = [numpy_helper.from_array(np.array([[0.0, 1.0, 0.0]], np.float32), "z")] \
        if z_initializer else []  # fmt: skip
    graph = helper.make_graph(nodes, "two_inputs", [x, z], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


SENTENCE = ("two.onnx: edgeui runs models with one image input; this one also needs 'z' [1x3] "
            "(float32), which a camera frame cannot give.")  # fmt: skip


def test_second_required_input_is_refused_at_load(tmp_path: Path):
    model = two_input_onnx(tmp_path / "two.onnx")
    with pytest.raises(UnsupportedModelError) as info:
        Model.load(model)
    assert str(info.value) == SENTENCE


def test_inspect_lists_tensors_then_cannot_run_exit_2(tmp_path: Path, capsys):
    model = two_input_onnx(tmp_path / "two.onnx")
    code = main(["inspect", str(model)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.strip() == f"edgeui: error: {SENTENCE}"
    lines = out.splitlines()
    assert "  x  [1x3x32x32]  float32" in lines and "  z  [1x3]  float32" in lines
    assert "model card" not in out
    code = main(["infer", str(model), str(tmp_path / "none.png")])
    assert code == 2 and SENTENCE in capsys.readouterr().err


def test_input_with_a_default_value_still_runs(tmp_path: Path):
    model = Model.load(two_input_onnx(tmp_path / "two.onnx", z_initializer=True))
    assert [s.name for s in model.runtime.inputs] == ["x"]
    result = model.predict(np.zeros((40, 50, 3), np.uint8))
    assert result.classes and result.classes[0].index == 1


def test_sizes_read_width_x_height(tmp_path: Path):
    model = make_onnx_model(tmp_path / "odd.onnx", (1, 3, 97, 131),
                            outputs=[np.linspace(0, 1, 7, dtype=np.float32).reshape(1, 7)])
    card = build_card(load_runtime(model))
    assert (card.preprocess.width, card.preprocess.height) == (131, 97)
    assert "131x97 (width x height)" in card.why("size").reason
    assert "97x131" not in card.why("size").reason
    report = format_report(inspect_loaded(Model.load(model)))
    row = next(ln for ln in report.splitlines() if ln.lstrip().startswith("input size"))
    assert row.split()[2] == "131x97", row
    assert "97x131" not in report.split("model card", 1)[1]  # the tensor list keeps NCHW


def test_size_override_mismatch_names_width_x_height(tmp_path: Path):
    model = make_onnx_model(tmp_path / "odd.onnx", (1, 3, 97, 131))
    from edgeui.errors import SidecarError

    with pytest.raises(SidecarError, match=r"fixed input 131x97 \(width x height\)") as info:
        build_card(load_runtime(model), overrides={"size": 32})
    assert "97x131" not in str(info.value)


def test_raw_pixels_reason_agrees_with_mean_std(tmp_path: Path):
    # A YOLOX-shaped float model: mean 0 / std 1 ("no normalisation").
    yolox = make_onnx_model(tmp_path / "yolox_nano.onnx", (1, 3, 416, 416),
                            outputs=[np.zeros((1, 3549, 85), np.float32)])
    card = build_card(load_runtime(yolox))
    assert card.decoder_kind == "yolox"
    assert card.preprocess.mean == (0.0,) * 3 and card.preprocess.std == (1.0,) * 3
    reason = card.why("raw_pixels").reason
    assert "normalised" not in reason and "mean/std" in reason
    # Any float model: the reason points at mean/std instead of claiming a normalisation.
    clf = build_card(load_runtime(make_onnx_model(tmp_path / "c.onnx", (1, 3, 32, 32))))
    assert clf.why("raw_pixels").reason == card.why("raw_pixels").reason
