"""Embedded metadata: ONNX metadata_props (no onnx at runtime) and TFLite zip/flatbuffer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeui.engine.modelcard import build_card
from edgeui.engine.modelcard.onnx_meta import interpret_onnx, parse_model_proto, read_onnx_header
from edgeui.engine.modelcard.tflite_meta import parse_model_metadata, read_tflite_metadata
from edgeui.engine.runtimes.base import load_runtime
from edgeui.errors import ModelLoadError
from tests.helpers.modelgen import make_onnx_model, make_tflite_model

COCO_NAMES = {i: f"name{i}" for i in range(80)}


def _cells(size: int, strides=(8, 16, 32)) -> int:
    return sum((size // s) ** 2 for s in strides)


# --- ONNX ------------------------------------------------------------------------------------
def test_onnx_header_reads_top_level_fields_without_parsing_the_graph(tmp_path: Path):
    path = make_onnx_model(tmp_path / "m.onnx", metadata={"author": "me", "k": "v"}, opset=13)
    header = read_onnx_header(path)
    assert header["producer_name"] == "edgeui-tests"
    assert header["ir_version"] >= 7
    assert {"domain": "", "version": 13} in header["opset_import"]
    assert header["metadata_props"] == {"author": "me", "k": "v"}
    assert header["graph_bytes"] > 0


@pytest.mark.parametrize("cut", [3, 20, 0.5, 0.99])
def test_truncated_onnx_header_is_a_model_load_error(tmp_path: Path, cut):
    data = make_onnx_model(tmp_path / "m.onnx", metadata={"names": "{0: 'a'}"}).read_bytes()
    n = cut if isinstance(cut, int) else int(len(data) * cut)
    with pytest.raises(ModelLoadError, match="truncated or corrupt"):
        parse_model_proto(data[:n], "m.onnx")


def test_garbage_is_a_model_load_error():
    with pytest.raises(ModelLoadError):
        parse_model_proto(b"\x08\x07\x3f\xff\xff", "x.onnx")


def test_ultralytics_props_give_names_task_imgsz_kpt_shape_and_strides():
    props = {
        "author": "Ultralytics",
        "task": "pose",
        "names": "{0: 'person', 2: 'car'}",
        "imgsz": "[480, 640]",
        "kpt_shape": "[17, 3]",
        "stride": "32",
        "batch": "1",
    }
    facts = interpret_onnx({"metadata_props": props}).facts
    assert facts["labels"][0] == ("person", "", "car")  # dict gaps keep their positions
    assert facts["task"][0] == "pose"
    assert facts["size"][0] == (480, 640)
    assert facts["kpt_shape"][0] == (17, 3)
    assert facts["strides"][0] == (8, 16, 32)
    assert facts["color"][0] == "RGB" and facts["std"][0] == (255.0,) * 3
    assert "Ultralytics" in facts["labels"][1]


def test_yolov5_props_give_stride_and_names_list():
    facts = interpret_onnx({"metadata_props": {"stride": "64", "names": "['a', 'b']"}}).facts
    assert facts["labels"][0] == ("a", "b")
    assert facts["strides"][0] == (8, 16, 32, 64)


def test_bad_names_literal_is_a_warning_not_an_error():
    result = interpret_onnx({"metadata_props": {"names": "{0: person"}})
    assert "labels" not in result.facts
    assert any("names" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("fmt", "rng", "color", "mean", "std"),
    [
        ("Bgr8", "NominalRange_0_255", "BGR", 0.0, 1.0),
        ("Rgb8", "Normalized_0_1", "RGB", 0.0, 255.0),
        ("Rgb8", "Normalized_1_1", "RGB", 127.5, 127.5),
        ("Gray8", "NominalRange_16_235", "GRAY", -16 * 255 / 219, 255 / 219),
    ],
)
def test_onnx_image_keys(fmt, rng, color, mean, std):
    props = {"Image.BitmapPixelFormat": fmt, "Image.NominalPixelRange": rng,
             "Image.ColorSpaceGamma": "SRGB"}  # fmt: skip
    facts = interpret_onnx({"metadata_props": props}).facts
    assert facts["color"][0] == color
    assert facts["mean"][0] == pytest.approx((mean,) * 3)
    assert facts["std"][0] == pytest.approx((std,) * 3)
    # x = (pixel - mean) / std maps 255 to the top of the documented range
    top = (255 - facts["mean"][0][0]) / facts["std"][0][0]
    assert top == pytest.approx({"NominalRange_0_255": 255, "Normalized_0_1": 1,
                                 "Normalized_1_1": 1, "NominalRange_16_235": 235}[rng])


def test_openvino_model_info_keys():
    props = {
        "model_info/labels": "cat dog",
        "('model_info', 'mean_values')": "123.675 116.28 103.53",
        "model_info.scale_values": "58.395 57.12 57.375",
        "model_info/reverse_input_channels": "True",
        "model_info/resize_type": "fit_to_window_letterbox",
        "model_info/pad_value": "0",
        "model_info/confidence_threshold": "0.4",
        "model_info/iou_threshold": "0.5",
        "model_info/model_type": "Classification",
    }
    facts = interpret_onnx({"metadata_props": props}).facts
    assert facts["labels"][0] == ("cat", "dog")
    assert facts["mean"][0] == pytest.approx((123.675, 116.28, 103.53))
    assert facts["std"][0] == pytest.approx((58.395, 57.12, 57.375))
    assert facts["color"][0] == "RGB"
    assert facts["resize"][0] == "letterbox" and facts["align"][0] == "center"
    assert facts["pad"][0] == 0 and facts["conf"][0] == 0.4 and facts["iou"][0] == 0.5
    assert facts["task"][0] == "classification"


def test_ultralytics_onnx_detector_card_takes_metadata(tmp_path: Path):
    out = np.zeros((1, 84, _cells(96)), np.float32)
    meta = {"author": "Ultralytics", "task": "detect", "names": str(COCO_NAMES),
            "imgsz": "[96, 96]", "stride": "32"}  # fmt: skip
    path = make_onnx_model(tmp_path / "y.onnx", (1, 3, 96, 96), outputs=[out], metadata=meta)
    card = build_card(load_runtime(path))
    assert card.decoder_kind == "anchor_free"
    assert card.task == "detection" and card.why("task").source == "ONNX metadata"
    assert card.labels.name(3) == "name3" and card.why("labels").source == "ONNX metadata"
    assert card.preprocess.color == "RGB" and card.why("color").source == "ONNX metadata"
    assert card.preprocess.resize == "letterbox" and card.preprocess.std == (255.0,) * 3
    assert card.metadata["metadata_props"]["author"] == "Ultralytics"


def test_dynamic_input_size_comes_from_imgsz(tmp_path: Path):
    out = np.zeros((1, 84, _cells(96)), np.float32)
    meta = {"author": "Ultralytics", "task": "detect", "imgsz": "[96, 96]"}
    path = make_onnx_model(tmp_path / "d.onnx", (1, 3, 96, 96), outputs=[out], metadata=meta,
                           dynamic_dims={2: "height", 3: "width"})  # fmt: skip
    card = build_card(load_runtime(path))
    assert (card.preprocess.height, card.preprocess.width) == (96, 96)
    assert card.why("size").source == "ONNX metadata"
    assert len(card.labels) == 80 and card.why("labels").source == "default"  # COCO-80


def test_ultralytics_pose_kpt_shape_reaches_the_decoder(tmp_path: Path):
    out = np.zeros((1, 5 + 17 * 3, _cells(96)), np.float32)
    meta = {"author": "Ultralytics", "task": "pose", "kpt_shape": "[17, 3]",
            "names": "{0: 'person'}"}  # fmt: skip
    path = make_onnx_model(tmp_path / "p.onnx", (1, 3, 96, 96), outputs=[out], metadata=meta)
    card = build_card(load_runtime(path))
    assert card.task == "pose" and card.decoder_kind == "anchor_free_pose"
    assert tuple(card.decoder_params["kpt_shape"]) == (17, 3)
    assert card.labels.name(0) == "person"


def test_onnx_image_metadata_sets_colour_and_range_of_a_classifier(tmp_path: Path):
    meta = {"Image.BitmapPixelFormat": "Bgr8", "Image.NominalPixelRange": "Normalized_0_1"}
    out = np.zeros((1, 5), np.float32)
    path = make_onnx_model(tmp_path / "c.onnx", (1, 3, 32, 32), outputs=[out], metadata=meta)
    card = build_card(load_runtime(path))
    assert card.task == "classification"
    assert card.preprocess.color == "BGR" and card.why("color").source == "ONNX metadata"
    assert card.preprocess.std == (255.0,) * 3 and card.why("std").source == "ONNX metadata"


def test_corrupt_onnx_metadata_is_a_warning_not_a_failure(tmp_path: Path):
    class Fake:
        path = tmp_path / "broken.onnx"
        from edgeui.engine.types import TensorSpec

        inputs = (TensorSpec("x", (1, 3, 8, 8), "float32"),)
        outputs = (TensorSpec("y", (1, 4), "float32"),)

    Fake.path.write_bytes(b"\x08\x07\x12\xff\x7f")  # producer_name longer than the file
    card = build_card(Fake())
    assert card.task == "classification"
    assert any("truncated or corrupt" in w for w in card.metadata["warnings"])


# --- TFLite ----------------------------------------------------------------------------------
def build_model_metadata(
    mean=(127.5,), std=(127.5,), label_file: str | None = "labels.txt", name="Flower model",
    color_space: int = 1, threshold: float | None = None,
) -> bytes:
    """A ModelMetadata flatbuffer written field by field from metadata_schema.fbs."""
    import flatbuffers

    b = flatbuffers.Builder(512)

    def floats(values):
        b.StartVector(4, len(values), 4)
        for v in reversed(values):
            b.PrependFloat32(float(v))
        return b.EndVector()

    def tables(offsets):
        b.StartVector(4, len(offsets), 4)
        for off in reversed(offsets):
            b.PrependUOffsetTRelative(off)
        return b.EndVector()

    # input: NormalizationOptions inside a ProcessUnit, ImageProperties inside Content
    mean_v, std_v = floats(mean), floats(std)
    b.StartObject(2)
    b.PrependUOffsetTRelativeSlot(0, mean_v, 0)
    b.PrependUOffsetTRelativeSlot(1, std_v, 0)
    norm = b.EndObject()
    b.StartObject(2)
    b.PrependUint8Slot(0, 1, 0)  # ProcessUnitOptions.NormalizationOptions
    b.PrependUOffsetTRelativeSlot(1, norm, 0)
    unit = b.EndObject()
    b.StartObject(2)
    b.PrependInt8Slot(0, color_space, 0)
    image_props = b.EndObject()
    b.StartObject(3)
    b.PrependUint8Slot(0, 2, 0)  # ContentProperties.ImageProperties
    b.PrependUOffsetTRelativeSlot(1, image_props, 0)
    content = b.EndObject()
    in_name = b.CreateString("image")
    units = tables([unit])
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(0, in_name, 0)
    b.PrependUOffsetTRelativeSlot(3, content, 0)
    b.PrependUOffsetTRelativeSlot(4, units, 0)
    tensor_in = b.EndObject()
    # output: the label file as an associated file of type TENSOR_AXIS_LABELS
    out_units = None
    if threshold is not None:
        b.StartObject(1)
        b.PrependFloat32Slot(0, threshold, 0.0)
        thr = b.EndObject()
        b.StartObject(2)
        b.PrependUint8Slot(0, 3, 0)  # ScoreThresholdingOptions
        b.PrependUOffsetTRelativeSlot(1, thr, 0)
        out_units = tables([b.EndObject()])
    files = None
    if label_file:
        fname = b.CreateString(label_file)
        b.StartObject(4)
        b.PrependUOffsetTRelativeSlot(0, fname, 0)
        b.PrependInt8Slot(2, 2, 0)  # TENSOR_AXIS_LABELS
        files = tables([b.EndObject()])
    out_name = b.CreateString("probability")
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(0, out_name, 0)
    if out_units is not None:
        b.PrependUOffsetTRelativeSlot(4, out_units, 0)
    if files is not None:
        b.PrependUOffsetTRelativeSlot(6, files, 0)
    tensor_out = b.EndObject()
    ins, outs = tables([tensor_in]), tables([tensor_out])
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(2, ins, 0)
    b.PrependUOffsetTRelativeSlot(3, outs, 0)
    subgraph = b.EndObject()
    sgs = tables([subgraph])
    model_name, author = b.CreateString(name), b.CreateString("edgeui tests")
    b.StartObject(8)
    b.PrependUOffsetTRelativeSlot(0, model_name, 0)
    b.PrependUOffsetTRelativeSlot(3, sgs, 0)
    b.PrependUOffsetTRelativeSlot(4, author, 0)
    b.Finish(b.EndObject(), file_identifier=b"M001")
    return bytes(b.Output())


def test_model_metadata_flatbuffer_is_parsed_by_field_id():
    meta = parse_model_metadata(build_model_metadata((0.0, 10.0, 20.0), (1.0, 2.0, 3.0)))
    assert meta["name"] == "Flower model" and meta["author"] == "edgeui tests"
    first_in = meta["subgraphs"][0]["inputs"][0]
    assert first_in["mean"] == [0.0, 10.0, 20.0] and first_in["std"] == [1.0, 2.0, 3.0]
    assert first_in["color_space"] == "RGB"
    label = meta["subgraphs"][0]["outputs"][0]["associated_files"][0]
    assert label == {"name": "labels.txt", "description": "", "type": "TENSOR_AXIS_LABELS",
                     "locale": ""}  # fmt: skip


def test_tflite_metadata_gives_mean_std_labels_name_and_threshold(tmp_path: Path):
    path = make_tflite_model(
        tmp_path / "flowers.tflite", (1, 32, 32, 3), outputs=[np.zeros((1, 3), np.float32)],
        metadata_buffers={"TFLITE_METADATA": build_model_metadata((0.0,), (255.0,),
                                                                  threshold=0.6)},
        associated_files={"labels.txt": b"daisy\nrose\ntulip\n"},
    )  # fmt: skip
    card = build_card(load_runtime(path))
    assert card.task == "classification"
    assert card.preprocess.mean == (0.0,) * 3 and card.preprocess.std == (255.0,) * 3
    assert card.why("mean").source == "TFLite metadata"
    assert card.labels.name(1) == "rose" and card.why("labels").source == "TFLite metadata"
    assert card.name == "Flower model" and card.why("name").source == "TFLite metadata"
    assert card.conf_threshold == pytest.approx(0.6)
    assert card.metadata["schema_version"] == 3


def test_tflite_zip_appended_labels_without_flatbuffer_metadata(tmp_path: Path):
    path = make_tflite_model(
        tmp_path / "cls.tflite", (1, 16, 16, 3), outputs=[np.zeros((1, 2), np.float32)],
        associated_files={"my_labels.txt": b"yes\nno\n"},
    )
    card = build_card(load_runtime(path))
    assert card.labels.names == ("yes", "no")
    assert "packed in the model" in card.why("labels").reason


def test_tflite_ultralytics_metadata_json(tmp_path: Path):
    import json

    meta = {"author": "Ultralytics", "task": "detect", "imgsz": [96, 96], "stride": 32,
            "names": {str(i): f"n{i}" for i in range(80)}}  # fmt: skip
    out = np.zeros((1, 84, _cells(96)), np.float32)
    path = make_tflite_model(tmp_path / "y.tflite", (1, 96, 96, 3), outputs=[out],
                             associated_files={"metadata.json": json.dumps(meta).encode()})
    card = build_card(load_runtime(path))
    assert card.decoder_kind == "anchor_free"
    assert card.labels.name(5) == "n5" and card.why("labels").source == "TFLite metadata"
    assert card.preprocess.resize == "letterbox"


def test_corrupt_tflite_metadata_buffer_is_a_warning(tmp_path: Path):
    path = make_tflite_model(
        tmp_path / "bad.tflite", (1, 16, 16, 3), outputs=[np.zeros((1, 2), np.float32)],
        metadata_buffers={"TFLITE_METADATA": b"\x08\x00\x00\x00M001\xff\xff\xff\x7f"},
    )
    result = read_tflite_metadata(path)
    assert any("TFLITE_METADATA" in w for w in result.warnings)
    card = build_card(load_runtime(path))
    assert card.task == "classification" and card.metadata["warnings"]
