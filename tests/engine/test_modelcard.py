"""build_card: precedence with provenance, heuristics per family and dtype, real models."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from edgeui.engine.modelcard import build_card
from edgeui.engine.modelcard.card import SOURCES
from edgeui.engine.runtimes.base import load_runtime
from edgeui.engine.types import TensorSpec
from edgeui.errors import SidecarError, UnsupportedModelError
from tests.helpers.modelgen import make_onnx_model

_REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("EDGEUI_TEST_DATA", _REPO / ".." / "shared"))
MODELS = DATA / "models"
CELLS_96 = 12 * 12 + 6 * 6 + 3 * 3  # anchor-free / YOLOX grid cells at 96x96


@dataclass
class FakeRuntime:
    path: Path
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    warnings: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)

    def metadata(self) -> dict:
        return self.meta


def fake(tmp_path: Path, in_shape, out_shapes, dtype="float32", name="m.bin", quant=(0.0, 0)):
    inputs = (TensorSpec("in", tuple(in_shape), dtype, *quant),)
    outputs = tuple(TensorSpec(f"out{i}", tuple(s), "float32") for i, s in enumerate(out_shapes))
    return FakeRuntime(tmp_path / name, inputs, outputs)


def detector(tmp_path: Path, metadata=None, name="det.onnx") -> Path:
    out = np.zeros((1, 84, CELLS_96), np.float32)
    return make_onnx_model(tmp_path / name, (1, 3, 96, 96), outputs=[out], metadata=metadata)


# --- precedence ------------------------------------------------------------------------------
NAMES_META = str({i: f"meta{i}" for i in range(80)})


@pytest.mark.parametrize("level", ["override", "sidecar", "label file", "ONNX metadata", "default"])
def test_labels_precedence(tmp_path: Path, level: str):
    levels = ["override", "sidecar", "label file", "ONNX metadata", "default"]
    below = levels[levels.index(level) :]
    path = detector(tmp_path, {"names": NAMES_META} if "ONNX metadata" in below else None)
    if "sidecar" in below:
        (tmp_path / "det.yaml").write_text(
            "labels: [" + ", ".join(f"side{i}" for i in range(80)) + "]\n"
        )
    if "label file" in below:
        (tmp_path / "labels.txt").write_text("\n".join(f"file{i}" for i in range(80)))
    overrides = {"labels": [f"over{i}" for i in range(80)]} if level == "override" else None
    card = build_card(load_runtime(path), overrides=overrides)
    expected = {"override": "over7", "sidecar": "side7", "label file": "file7",
                "ONNX metadata": "meta7", "default": "tv"}[level]
    probe = 62 if level == "default" else 7  # COCO-80 index 62 is "tv"
    assert card.labels.name(probe) == expected
    assert card.why("labels").source == level
    if level == "label file":
        assert card.label_path == str(tmp_path / "labels.txt")


@pytest.mark.parametrize("level", ["override", "sidecar", "ONNX metadata", "default"])
def test_conf_precedence(tmp_path: Path, level: str):
    levels = ["override", "sidecar", "ONNX metadata", "default"]
    below = levels[levels.index(level) :]
    meta = {"model_info/confidence_threshold": "0.3"} if "ONNX metadata" in below else None
    path = detector(tmp_path, meta)
    if "sidecar" in below:
        (tmp_path / "det.toml").write_text("conf = 0.2\n")
    overrides = {"conf": 0.1} if level == "override" else None
    card = build_card(load_runtime(path), overrides=overrides)
    assert card.conf_threshold == {"override": 0.1, "sidecar": 0.2, "ONNX metadata": 0.3,
                                   "default": 0.25}[level]  # fmt: skip
    assert card.why("conf").source == level


@pytest.mark.parametrize("level", ["override", "sidecar", "ONNX metadata", "shape heuristic"])
def test_mean_std_precedence(tmp_path: Path, level: str):
    levels = ["override", "sidecar", "ONNX metadata", "shape heuristic"]
    below = levels[levels.index(level) :]
    meta = {"Image.NominalPixelRange": "Normalized_1_1"} if "ONNX metadata" in below else None
    path = detector(tmp_path, meta)
    if "sidecar" in below:
        (tmp_path / "det.yml").write_text("input:\n  mean: [1, 2, 3]\n  scale: 0.5\n")
    overrides = {"mean": "10,20,30", "std": 4} if level == "override" else None
    card = build_card(load_runtime(path), overrides=overrides)
    mean, std = {"override": ((10, 20, 30), (4,) * 3), "sidecar": ((1, 2, 3), (2,) * 3),
                 "ONNX metadata": ((127.5,) * 3, (127.5,) * 3),
                 "shape heuristic": ((0,) * 3, (255,) * 3)}[level]  # fmt: skip
    assert card.preprocess.mean == pytest.approx(mean)
    assert card.preprocess.std == pytest.approx(std)
    assert card.why("mean").source == level and card.why("std").source == level


def test_every_field_has_a_known_source_and_a_reason(tmp_path: Path):
    card = build_card(load_runtime(detector(tmp_path)))
    for key in ("task", "decoder_kind", "labels", "size", "layout", "color", "resize", "pad",
                "align", "mean", "std", "raw_pixels", "conf", "iou", "top_k", "name"):
        prov = card.why(key)
        assert prov.source in SOURCES, key
        assert key in card.provenance and prov.reason, key
    # the same choices under the card's field names, which `inspect` shows
    assert card.why("decoder") == card.why("decoder_kind")
    assert card.why("input_size") == card.why("size")
    assert card.why("letterbox_align") == card.why("align")
    assert card.why("pad_value") == card.why("pad")


def test_explicit_sidecar_and_decoder_table(tmp_path: Path):
    path = detector(tmp_path)
    side = tmp_path / "elsewhere" / "custom.yaml"
    side.parent.mkdir()
    (side.parent / "names.txt").write_text("\n".join(f"n{i}" for i in range(80)))
    side.write_text(
        "name: Parcels\ntask: detection\n"
        "decoder: {kind: anchor_free, normalized: false}\n"
        "labels: names.txt\nlabel_offset: 0\n"
        "input: {color: BGR, resize: stretch, interpolation: nearest}\n"
        "iou: 0.6\ntop_k: 3\nmax_detections: 50\n"
    )
    card = build_card(load_runtime(path), sidecar=side)
    assert card.name == "Parcels" and card.why("name").source == "sidecar"
    assert card.decoder_kind == "anchor_free" and card.why("decoder_kind").source == "sidecar"
    assert card.decoder_params["normalized"] is False
    assert card.decoder_params["num_classes"] == 80  # still inferred from the shapes
    assert card.labels.name(4) == "n4" and card.label_path == str(side.parent / "names.txt")
    assert card.preprocess.color == "BGR" and card.preprocess.resize == "stretch"
    assert card.preprocess.interpolation == "nearest"
    assert (card.iou_threshold, card.top_k, card.max_detections) == (0.6, 3, 50)
    assert card.sidecar_path == str(side)


def test_override_beats_sidecar_for_decoder_kind(tmp_path: Path):
    path = detector(tmp_path)
    (tmp_path / "det.yaml").write_text("decoder: yolov5\n")
    card = build_card(load_runtime(path), overrides={"decoder": "anchor_free"})
    assert card.decoder_kind == "anchor_free" and card.why("decoder_kind").source == "override"


@pytest.mark.parametrize(
    ("kind", "layout"),
    [("classification", "score vector"), ("movenet", r"\[1, 1, 17, 3\]"),
     ("segmentation", "class map")],
)
def test_forced_decoder_that_does_not_fit_is_refused(tmp_path: Path, kind: str, layout: str):
    rt = fake(tmp_path, (1, 3, 416, 416), [(1, 3549, 85)], name="yolox.onnx")
    with pytest.raises(UnsupportedModelError) as err:
        build_card(rt, overrides={"decoder": kind})
    message = str(err.value)
    assert message.startswith(f"--decoder {kind} does not fit yolox.onnx")
    assert re.search(layout, message) and "[1, 3549, 85]" in message
    (tmp_path / "yolox.yaml").write_text(f"decoder: {kind}\n")
    with pytest.raises(UnsupportedModelError, match=rf"yolox\.yaml: decoder '{kind}'"):
        build_card(rt)


def test_unknown_decoder_on_the_command_line_names_the_flag(tmp_path: Path):
    rt = fake(tmp_path, (1, 3, 416, 416), [(1, 3549, 85)], name="yolox.onnx")
    with pytest.raises(SidecarError) as err:
        build_card(rt, overrides={"decoder": "bogus"})
    assert str(err.value).startswith("--decoder: unknown decoder kind 'bogus'; known kinds: ")
    assert "command-line option" not in str(err.value)


def test_forced_decoder_that_fits_still_gets_sniffed_params(tmp_path: Path):
    # anchor_free_pose only claims a layout when the task is pose: naming it implies that.
    rt = fake(tmp_path, (1, 3, 96, 96), [(1, 56, CELLS_96)])
    card = build_card(rt, overrides={"decoder": "anchor_free_pose"})
    assert card.task == "pose" and card.decoder_params["kpt_shape"] == [17, 3]


def test_forced_task_the_outputs_cannot_be_says_so(tmp_path: Path):
    rt = fake(tmp_path, (1, 3, 416, 416), [(1, 3549, 85)], name="yolox.onnx")
    with pytest.raises(
        UnsupportedModelError,
        match=r"^--task segmentation: the outputs of yolox\.onnx, \[1, 3549, 85\], are not a "
        r"segmentation layout \(they read as detection\); leave --task out",
    ):
        build_card(rt, overrides={"task": "segmentation"})


# --- heuristics --------------------------------------------------------------------------------
def test_uint8_input_feeds_raw_pixels(tmp_path: Path):
    card = build_card(fake(tmp_path, (1, 32, 32, 3), [(1, 10)], "uint8", quant=(1 / 128, 128)))
    assert card.preprocess.raw_pixels and card.preprocess.dtype == "uint8"
    assert card.preprocess.layout == "NHWC"
    assert "quantisation" in card.why("raw_pixels").reason


def test_int8_input_uses_the_float_path_scaled_to_its_range(tmp_path: Path):
    card = build_card(fake(tmp_path, (1, 96, 96, 3), [(1, 84, CELLS_96)], "int8",
                           quant=(1 / 255, -128)))  # fmt: skip
    p = card.preprocess
    assert not p.raw_pixels and p.mean == (0.0,) * 3 and p.std == (255.0,) * 3
    assert "0..1" in card.why("std").reason
    card = build_card(fake(tmp_path, (1, 32, 32, 3), [(1, 10)], "int8", quant=(1 / 128, 0)))
    assert card.preprocess.mean == (127.5,) * 3  # -1..1 quantisation range


def test_yolo_family_float_input(tmp_path: Path):
    card = build_card(fake(tmp_path, (1, 3, 96, 96), [(1, 84, CELLS_96)]))
    p = card.preprocess
    assert card.decoder_kind == "anchor_free" and p.layout == "NCHW"
    assert (p.color, p.resize, p.pad_value, p.letterbox_align) == ("RGB", "letterbox", 114,
                                                                   "center")  # fmt: skip
    assert p.std == (255.0,) * 3
    assert card.labels.name(0) == "person" and card.why("labels").source == "default"


def test_yolox_family_float_input(tmp_path: Path):
    card = build_card(fake(tmp_path, (1, 3, 96, 96), [(1, CELLS_96, 85)]))
    p = card.preprocess
    assert card.decoder_kind == "yolox"
    assert (p.color, p.resize, p.letterbox_align, p.pad_value) == ("BGR", "letterbox", "topleft",
                                                                   114)  # fmt: skip
    assert p.mean == (0.0,) * 3 and p.std == (1.0,) * 3


def test_mediapipe_blazeface_float_input_without_sidecar(tmp_path: Path):
    outs = [(1, 896, 16), (1, 896, 1)]
    card = build_card(fake(tmp_path, (1, 128, 128, 3), outs, name="f.tflite"))
    p = card.preprocess
    assert card.decoder_kind == "blazeface" and card.task == "detection"
    assert (p.color, p.resize, p.letterbox_align) == ("RGB", "letterbox", "center")
    assert p.mean == (127.5,) * 3 and p.std == (127.5,) * 3
    assert "MediaPipe" in card.why("mean").reason


def test_float_classifiers_by_layout(tmp_path: Path):
    keras = build_card(fake(tmp_path, (1, 224, 224, 3), [(1, 1001)], name="k.tflite"))
    assert keras.preprocess.mean == (127.5,) * 3 and keras.preprocess.resize == "stretch"
    torch = build_card(fake(tmp_path, (1, 3, 224, 224), [(1, 1000)], name="t.onnx"))
    assert torch.preprocess.mean == pytest.approx((123.675, 116.28, 103.53))
    assert torch.preprocess.std == pytest.approx((58.395, 57.12, 57.375))
    assert "torchvision" in torch.why("mean").reason


def test_dynamic_size_defaults_by_task(tmp_path: Path):
    card = build_card(fake(tmp_path, (1, 3, None, None), [(1, 1000)]))
    assert (card.preprocess.height, card.preprocess.width) == (224, 224)
    assert card.why("size").source == "default"


def test_one_channel_input_is_gray(tmp_path: Path):
    card = build_card(fake(tmp_path, (1, 1, 28, 28), [(1, 10)]))
    assert card.preprocess.channels == 1 and card.preprocess.color == "GRAY"


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        ([(1, 128)], r"not an image"),
        ([(1, 64, 64, 7)], r"not an image"),
        ([(1, 3, 64, 64), (1, 3, 32, 32)], r"several image-like inputs"),
    ],
)
def test_non_image_inputs_are_unsupported(tmp_path: Path, inputs, match):
    rt = FakeRuntime(
        tmp_path / "x.bin",
        tuple(TensorSpec(f"i{n}", s, "float32") for n, s in enumerate(inputs)),
        (TensorSpec("o", (1, 10), "float32"),),
    )
    with pytest.raises(UnsupportedModelError, match=match):
        build_card(rt)


def test_unknown_output_layout_names_the_shapes(tmp_path: Path):
    with pytest.raises(UnsupportedModelError, match=r"x\.bin.*\[1, 7, 9, 11, 13\]"):
        build_card(fake(tmp_path, (1, 3, 64, 64), [(1, 7, 9, 11, 13)], name="x.bin"))


def test_ssd_label_map_with_placeholder_first_gets_offset_one(tmp_path: Path):
    rt = fake(tmp_path, (1, 300, 300, 3), [(1, 10, 4), (1, 10), (1, 10), (1,)], "uint8",
              name="ssd.tflite", quant=(1 / 128, 128))  # fmt: skip
    (tmp_path / "labelmap.txt").write_text("???\nperson\nbicycle\n")
    card = build_card(rt)
    assert card.decoder_kind == "ssd_postprocess"
    assert card.labels.offset == 1 and card.labels.name(0) == "person"
    assert card.preprocess.raw_pixels and card.preprocess.resize == "stretch"


# --- real models (../shared/models) ------------------------------------------------------------
def real(name: str) -> Path:
    path = MODELS / name
    if not path.is_file():
        pytest.skip(f"{path} not present (set EDGEUI_TEST_DATA to the shared test data)")
    return path


@pytest.mark.real
def test_real_mobilenet():
    card = build_card(load_runtime(real("mobilenet_v2_1.0_224_quant.tflite")))
    assert card.task == "classification"
    assert len(card.labels) == 1001 and card.labels.offset == 0
    assert card.labels.name(286) == "Egyptian cat"
    assert card.preprocess.raw_pixels and card.preprocess.color == "RGB"
    assert card.metadata["TFLITE_METADATA"]["subgraphs"][0]["inputs"][0]["mean"] == [127.5]


@pytest.mark.real
def test_real_yolox_onnx():
    card = build_card(load_runtime(real("yolox_nano.onnx")))
    p = card.preprocess
    assert card.decoder_kind == "yolox" and card.task == "detection"
    assert (p.color, p.resize, p.letterbox_align, p.pad_value) == ("BGR", "letterbox", "topleft",
                                                                   114)  # fmt: skip
    assert p.mean == (0.0,) * 3 and p.std == (1.0,) * 3
    assert (p.height, p.width, p.layout) == (416, 416, "NCHW")
    if (MODELS / "coco_classes.txt").is_file():
        assert card.why("labels").source == "label file"
        assert card.label_path.endswith("coco_classes.txt")
        assert card.labels.name(0) == "person" and card.labels.name(62) == "tvmonitor"


@pytest.mark.real
def test_real_deeplab():
    card = build_card(load_runtime(real("deeplabv3_mnv2_dm05_pascal_quant.tflite")))
    assert card.task == "segmentation"
    if (MODELS / "pascal_voc_segmentation_labels.txt").is_file():
        assert card.labels.name(12) == "dog" and len(card.labels) == 21


@pytest.mark.real
def test_real_movenet():
    card = build_card(load_runtime(real("movenet_single_pose_lightning_ptq.tflite")))
    assert card.task == "pose" and card.decoder_kind == "movenet"
    # Google's reference: tf.image.resize_with_pad (person score on squat.bmp 0.54 -> 0.73).
    pre = card.preprocess
    assert pre.raw_pixels and (pre.resize, pre.letterbox_align, pre.pad_value) == (
        "letterbox", "center", 0)


def test_embedded_labels_far_too_few_fall_back_with_a_reason(tmp_path: Path):
    card = build_card(load_runtime(detector(tmp_path, metadata={"names": "{0: 'only'}"})))
    assert card.labels.name(0) == "person"  # COCO-80 for an 80-class detector
    assert "1 names (ONNX metadata) cannot label 80 classes" in card.why("labels").reason


def test_sidecar_labels_of_a_count_that_cannot_fit_are_an_error(tmp_path: Path):
    model = detector(tmp_path)
    (tmp_path / "det.yaml").write_text("labels: [a, b]\n")
    with pytest.raises(SidecarError, match=r"det\.yaml: labels: 2 names cannot label the "
                       r"model's 80 classes; give 80 names, 81 with 'background' first"):
        build_card(load_runtime(model))


def test_nchw_onnx_segmenter_uses_imagenet_mean_std(tmp_path: Path):
    card = build_card(fake(tmp_path, (1, 3, 64, 64), [(1, 21, 64, 64)], name="seg.onnx"))
    assert card.task == "segmentation"
    assert card.preprocess.mean == pytest.approx((123.675, 116.28, 103.53))
