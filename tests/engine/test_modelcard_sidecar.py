"""Sidecar files and command-line overrides: formats, validation, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeui.engine.modelcard import build_card
from edgeui.engine.modelcard.sidecar import find_sidecar, load_sidecar, validate
from edgeui.engine.runtimes.base import load_runtime
from edgeui.errors import SidecarError
from tests.helpers.modelgen import make_onnx_model


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_full_yaml_example_from_the_docstring_validates(tmp_path: Path):
    from edgeui.engine.modelcard import sidecar

    doc = sidecar.__doc__ or ""
    example = doc.split("::", 1)[1].split("The same in TOML", 1)[0]
    text = "\n".join(line[4:] for line in example.splitlines())
    (tmp_path / "labels.txt").write_text("a\nb\n")
    facts = load_sidecar(_write(tmp_path, "detector.yaml", text))
    assert facts["task"] == "detection" and facts["decoder"] == "anchor_free"
    assert facts["decoder_params"] == {"strides": (8, 16, 32), "normalized": False,
                                       "kpt_shape": (17, 3)}  # fmt: skip
    assert facts["size"] == (640, 640) and facts["layout"] == "NCHW"
    assert facts["std"] == (255.0,) * 3 and facts["labels"] == ("a", "b")


def test_toml_sidecar(tmp_path: Path):
    path = _write(tmp_path, "m.toml", 'task = "classification"\nconf = 0.5\n'
                  "[input]\nsize = 192\nscale = [0.5, 0.25, 0.125]\nalign = \"topleft\"\n")
    facts = load_sidecar(path)
    assert facts["size"] == (192, 192)
    assert facts["std"] == (2.0, 4.0, 8.0)
    assert facts["align"] == "topleft" and facts["conf"] == 0.5


def test_scale_accepts_a_fraction_string(tmp_path: Path):
    facts = validate({"input": {"scale": "1/255"}}, "x.yaml", tmp_path)
    assert facts["std"] == pytest.approx((255.0,) * 3)


def test_find_sidecar_order(tmp_path: Path):
    model = tmp_path / "det.onnx"
    assert find_sidecar(model) is None
    _write(tmp_path, "det.toml", "")
    assert find_sidecar(model).name == "det.toml"
    _write(tmp_path, "det.yaml", "")
    assert find_sidecar(model).name == "det.yaml"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("colour: RGB\n", r"bad\.yaml: unknown key 'colour'; allowed keys: name, task"),
        ("input:\n  sise: 3\n", r"unknown key 'input\.sise'; allowed input keys: size"),
        ("input:\n  layout: NWHC\n", r"'layout' must be one of NHWC, NCHW \(got 'NWHC'\)"),
        ("task: detect-things\n", r"'task' must be one of classification, detection"),
        ("conf: high\n", r"'conf' must be a number"),
        ("conf: 1.5\n", r"'conf' must be a number between 0 and 1"),
        ("top_k: 2.5\n", r"'top_k' must be an integer"),
        ("input:\n  mean: [1, 2]\n", r"'input\.mean' must be one number or a list of three"),
        ("input:\n  std: 0\n", r"'input\.std' must be positive"),
        ("input:\n  raw_pixels: maybe\n", r"'input\.raw_pixels' must be true or false"),
        ("input:\n  std: 1\n  scale: 1\n", r"either 'input\.std' or 'input\.scale'"),
        ("labels: missing.txt\n", r"label file 'missing\.txt' not found"),
        ("decoder: {strides: [8]}\n", r"'decoder' must be a decoder kind"),
        ("decoder: {kind: yolox, kpt_shape: [17, 4]}\n", r"'decoder\.kpt_shape' must be"),
        ("- a\n- b\n", r"must be a mapping"),
        ("input: [1, 2]\n", r"'input' must be a table"),
        ("task: [\n", r"bad\.yaml: not valid YAML at line"),
    ],
)
def test_sidecar_errors_name_file_key_and_allowed_values(tmp_path: Path, text: str, match: str):
    with pytest.raises(SidecarError, match=match):
        load_sidecar(_write(tmp_path, "bad.yaml", text))


def test_bad_toml_is_a_sidecar_error(tmp_path: Path):
    with pytest.raises(SidecarError, match=r"bad\.toml: not valid TOML"):
        load_sidecar(_write(tmp_path, "bad.toml", "conf = = 1\n"))


def test_missing_explicit_sidecar(tmp_path: Path):
    model = make_onnx_model(tmp_path / "m.onnx", (1, 3, 16, 16))
    with pytest.raises(SidecarError, match=r"nope\.yaml: sidecar file not found"):
        build_card(load_runtime(model), sidecar=tmp_path / "nope.yaml")


def test_sidecar_beside_the_model_is_used_and_validated(tmp_path: Path):
    model = make_onnx_model(tmp_path / "m.onnx", (1, 3, 16, 16),
                            outputs=[np.zeros((1, 3), np.float32)])  # fmt: skip
    _write(tmp_path, "m.yaml", "labels: [a, b, c]\ninput: {color: BGR}\n")
    card = build_card(load_runtime(model))
    assert card.labels.name(2) == "c" and card.preprocess.color == "BGR"
    assert card.why("color").source == "sidecar" and card.why("color").reason == "m.yaml"
    _write(tmp_path, "m.yaml", "input: {color: purple}\n")
    with pytest.raises(SidecarError, match=r"m\.yaml: key 'color' must be one of RGB, BGR, GRAY"):
        build_card(load_runtime(model))


def test_unknown_decoder_kind_names_the_sidecar_and_known_kinds(tmp_path: Path):
    model = make_onnx_model(tmp_path / "m.onnx", (1, 3, 16, 16))
    _write(tmp_path, "m.yaml", "decoder: yolo99\n")
    with pytest.raises(SidecarError, match=r"m\.yaml: unknown decoder kind 'yolo99'; known.*yolox"):
        build_card(load_runtime(model))


def test_size_that_contradicts_a_fixed_input_is_an_error(tmp_path: Path):
    model = make_onnx_model(tmp_path / "m.onnx", (1, 3, 16, 16))
    with pytest.raises(SidecarError, match=r"does not match the model's fixed input 16x16"):
        build_card(load_runtime(model), overrides={"size": 32})


def test_overrides_accept_cli_strings_and_skip_unset_options(tmp_path: Path):
    model = make_onnx_model(tmp_path / "m.onnx", (1, 3, 16, 16),
                            outputs=[np.zeros((1, 3), np.float32)])  # fmt: skip
    card = build_card(load_runtime(model), overrides={
        "conf": "0.4", "top_k": "2", "color": "bgr", "mean": "1,2,3", "iou": None,
        "raw_pixels": "false", "layout": "nchw",
    })  # fmt: skip
    assert card.conf_threshold == 0.4 and card.top_k == 2
    assert card.preprocess.color == "BGR" and card.preprocess.mean == (1.0, 2.0, 3.0)
    assert card.iou_threshold == 0.45 and card.why("iou").source == "default"
    assert card.why("top_k").source == "override"
    with pytest.raises(SidecarError, match=r"command-line options: unknown key 'colr'"):
        build_card(load_runtime(model), overrides={"colr": "BGR"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x = 1\n[input\nk = 1\n",
         "not valid TOML at line 2 ([input), column 7: expected ']' at the end of a table "
         "declaration; check the keys, brackets and quotes there."),
        ('[input]\nsize = [1, 2\n',
         "not valid TOML at the end of the file: unclosed array; check that every bracket and "
         "quote is closed."),
    ],
)
def test_bad_toml_says_where_and_what_to_check(tmp_path: Path, text: str, expected: str):
    path = _write(tmp_path, "bad.toml", text)
    with pytest.raises(SidecarError) as e:
        load_sidecar(path)
    assert str(e.value) == f"{path}: {expected}"


def test_a_binary_sidecar_says_it_is_not_text(tmp_path: Path):
    path = tmp_path / "cat.yaml"
    path.write_bytes(b"BM\x8a\x00\xff\xfe")
    with pytest.raises(SidecarError) as e:
        load_sidecar(path)
    assert str(e.value) == (f"{path}: is not a UTF-8 text file; give a sidecar file (YAML or "
                            "TOML text, like model.yaml or model.toml).")
    assert "codec" not in str(e.value)
