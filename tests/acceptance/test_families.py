"""Acceptance: public model families, imitated faithfully, through the CLI exactly as written.

The real files (Ultralytics YOLOv8/YOLO11/YOLOv5/YOLOv10 exports, TF1/TF2 SSDs, MobileNet and
DeepLab variants) cannot be downloaded here, so ``fixtures.py`` builds each family's documented
export format: tensor names, shapes, dtypes, quantisation and metadata conventions. Every test
runs ``edgeui infer MODEL IMAGE --json`` and ``edgeui inspect MODEL --json`` and checks what a
user would: the task, the decoder, the label names, boxes in SOURCE pixels (a 1280x720 photo,
so letterbox and stretch mapping both matter), scores in 0..1 and why each choice was made.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeui.cli import main
from tests.acceptance.fixtures import (
    COCO80,
    PASCAL_VOC,
    AssocFile,
    OutputSpec,
    SsdBox,
    TensorMeta,
    coral_coco_labels_txt,
    imagenet_like_names,
    make_onnx_model,
    make_ssd_postprocess_tflite,
    make_symbolic_outputs,
    make_tflite_model,
    model_metadata,
    onnx_props,
    tf_labelmap_txt,
    ultralytics_metadata,
    yolo_4c,
    zip_append,
)

SRC_W, SRC_H = 1280, 720


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("img") / "street.jpg"
    img = np.full((SRC_H, SRC_W, 3), 90, np.uint8)
    cv2.rectangle(img, (440, 260), (840, 460), (30, 160, 220), -1)
    cv2.imwrite(str(path), img)
    return path


def cli_json(capsys, *args: str) -> dict:
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, f"edgeui {' '.join(args)} failed: {err}"
    return json.loads(out)


def readable(capsys, *args: str) -> str:
    """The same command without --json: a table on stdout, nothing on stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0 and out.strip() and "Traceback" not in err, err
    return out


def infer(capsys, model: Path, image: Path, *extra: str) -> dict:
    payload = cli_json(capsys, "infer", str(model), str(image), *extra)
    table = readable(capsys, "infer", str(model), str(image),
                     *(a for a in extra if a != "--mask-out" and not a.endswith(".png")))
    assert payload["task"] in table
    assert payload["image"] == {"width": SRC_W, "height": SRC_H}
    for key in ("detections", "classes"):
        for item in payload.get(key, []):
            assert 0.0 <= item["score"] <= 1.0, item
    return payload


def inspect(capsys, model: Path) -> dict:
    card = cli_json(capsys, "inspect", str(model))["card"]
    assert card["decoder"]["kind"] in readable(capsys, "inspect", str(model))
    return card


def letterbox_to_source(xyxy, size: int = 640) -> list[float]:
    """Input-pixel box of a centre letterbox (Ultralytics LetterBox) back to source pixels."""
    r = min(size / SRC_W, size / SRC_H)
    px = (size - round(SRC_W * r)) / 2
    py = (size - round(SRC_H * r)) / 2
    x1, y1, x2, y2 = xyxy
    return [(x1 - px) / r, (y1 - py) / r, (x2 - px) / r, (y2 - py) / r]


def xywh_to_xyxy(b) -> list[float]:
    cx, cy, w, h = b
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def by_label(dets: list[dict]) -> dict[str, dict]:
    out = {d["label"]: d for d in dets}
    assert len(out) == len(dets), f"duplicate labels in {dets}"
    return out


def assert_yolo_preprocess(card: dict, dtype: str = "float32") -> None:
    pre = card["preprocess"]
    assert pre["color"] == "RGB"
    assert pre["resize"] == "letterbox" and pre["letterbox_align"] == "center"
    assert pre["pad_value"] == 114
    assert (pre["height"], pre["width"]) == (640, 640)
    assert pre["dtype"] == dtype
    # pixels / 255 -> 0..1 (an int8 input gets the same values, quantised by the runtime)
    assert pre["mean"] == [0.0, 0.0, 0.0] and pre["std"] == [255.0, 255.0, 255.0]


# --------------------------------------------------------------------------- 1. YOLOv8/11 ONNX

PERSON_PX = (320.0, 320.0, 200.0, 100.0)  # cx, cy, w, h in 640x640 input pixels
DOG_PX = (500.0, 250.0, 80.0, 60.0)


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_ultralytics_onnx_detect(tmp_path, photo, capsys, dynamic):
    out = yolo_4c([PERSON_PX, DOG_PX, (323.0, 322.0, 198.0, 101.0)], [0, 16, 0],
                  [0.91, 0.76, 0.80], scale=640.0)  # fmt: skip
    kwargs = {"dynamic_dims": {0: "batch", 2: "height", 3: "width"}} if dynamic else {}
    model = make_onnx_model(
        tmp_path / "yolo11n.onnx", input_shape=(1, 3, 640, 640), outputs={"output0": out},
        metadata=onnx_props(ultralytics_metadata()), producer_name="pytorch", **kwargs,
    )  # fmt: skip
    if dynamic:
        make_symbolic_outputs(model, {"output0": ("batch", 84, "anchors")})

    payload = infer(capsys, model, photo)
    assert payload["task"] == "detection"
    dets = by_label(payload["detections"])
    assert set(dets) == {"person", "dog"}  # the near-duplicate person is suppressed by NMS
    assert dets["person"]["index"] == 0 and dets["dog"]["index"] == 16
    assert dets["person"]["score"] == pytest.approx(0.91, abs=1e-4)
    assert dets["person"]["box"] == pytest.approx(
        letterbox_to_source(xywh_to_xyxy(PERSON_PX)), abs=0.6)  # [440, 260, 840, 460]
    assert dets["dog"]["box"] == pytest.approx(letterbox_to_source(xywh_to_xyxy(DOG_PX)), abs=0.6)
    assert payload["detections"][0]["label"] == "person"  # best first

    card = inspect(capsys, model)
    assert card["task"] == "detection" and card["decoder"]["kind"] == "anchor_free"
    assert card["decoder"]["params"]["num_classes"] == 80
    assert card["labels"]["count"] == 80 and card["labels"]["offset"] == 0
    prov = card["provenance"]
    assert prov["labels"]["source"] == "ONNX metadata"
    assert prov["task"]["source"] == "ONNX metadata"
    assert_yolo_preprocess(card)
    if dynamic:
        assert prov["size"]["source"] == "ONNX metadata"  # imgsz "[640, 640]"


# --------------------------------------------------------------------------- 2. YOLO TFLite float

HELMET_NAMES = ("helmet", "vest", "person")  # a custom-trained model: labels can only come
# from the model's own metadata (COCO defaults would be wrong)
BOX_N = (0.5, 0.5, 200 / 640, 100 / 640)  # normalised cx, cy, w, h
VEST_N = (500 / 640, 250 / 640, 80 / 640, 60 / 640)


def _ultra_tflite_meta(style: str, meta: dict) -> tuple[dict, dict]:
    """(zip-appended files, model.metadata buffers) the way each Ultralytics era wrote them."""
    if style == "metadata.json":  # Ultralytics >= 8.3: json.dumps(metadata) in a zip
        return {"metadata.json": json.dumps(meta, indent=2).encode()}, {}
    # Older: tflite_support MetadataPopulator with temp_meta.txt = str(metadata), tagged
    # TENSOR_AXIS_LABELS on the output, plus an RGB image input.
    buf = model_metadata(
        name=meta["description"], description="", version=meta["version"],
        author=meta["author"], license=meta["license"],
        inputs=[TensorMeta("image", "Input image to be detected.", color_space=1)],
        outputs=[TensorMeta("output", "Coordinates of detected objects, class labels, and "
                            "confidence score", files=[AssocFile("temp_meta.txt")])],
    )  # fmt: skip
    return {"temp_meta.txt": str(meta).encode()}, {"TFLITE_METADATA": buf}


@pytest.mark.parametrize("style", ["metadata.json", "temp_meta.txt"])
def test_ultralytics_tflite_float(tmp_path, photo, capsys, style):
    out = yolo_4c([BOX_N, VEST_N], [2, 1], [0.88, 0.66], nc=3)
    files, buffers = _ultra_tflite_meta(style, ultralytics_metadata(names=HELMET_NAMES))
    model = make_tflite_model(
        tmp_path / "best_float32.tflite", input_shape=(1, 640, 640, 3), input_name="images",
        outputs=[out], output_names=["Identity"], metadata_buffers=buffers,
    )  # fmt: skip
    zip_append(model, files, deflate=style == "metadata.json")

    payload = infer(capsys, model, photo)
    assert payload["task"] == "detection"
    dets = by_label(payload["detections"])
    assert set(dets) == {"person", "vest"}
    assert dets["person"]["index"] == 2 and dets["vest"]["index"] == 1
    assert dets["person"]["score"] == pytest.approx(0.88, abs=1e-4)
    # normalised boxes: x 640 into the letterboxed input, then back to source pixels
    assert dets["person"]["box"] == pytest.approx([440, 260, 840, 460], abs=0.6)
    assert dets["vest"]["box"] == pytest.approx(
        letterbox_to_source(xywh_to_xyxy(DOG_PX)), abs=0.6)

    card = inspect(capsys, model)
    assert card["decoder"]["kind"] == "anchor_free" and card["task"] == "detection"
    assert card["labels"]["count"] == 3 and card["labels"]["first"] == list(HELMET_NAMES)
    assert card["provenance"]["labels"]["source"] == "TFLite metadata"
    assert "Ultralytics" in card["provenance"]["labels"]["reason"]
    assert card["provenance"]["task"]["source"] == "TFLite metadata"
    assert_yolo_preprocess(card)


# --------------------------------------------------------------------------- 3. YOLO TFLite int8


def test_ultralytics_tflite_int8_full_integer(tmp_path, photo, capsys):
    out_q = (0.0047, -128)  # int8 covers 0..1.2: normalised boxes and scores
    out = yolo_4c([BOX_N, VEST_N], [0, 16], [0.9, 0.7])
    meta = ultralytics_metadata()
    meta["args"] = {"batch": 1, "half": False, "int8": True, "nms": False}
    model = make_tflite_model(
        tmp_path / "yolov8n_full_integer_quant.tflite", input_shape=(1, 640, 640, 3),
        input_dtype="int8", input_quant=(1 / 255, -128), input_name="images",
        outputs=[OutputSpec(out, "Identity", out_q, "int8")],
    )  # fmt: skip
    zip_append(model, {"metadata.json": json.dumps(meta).encode()}, deflate=True)

    payload = infer(capsys, model, photo)
    dets = by_label(payload["detections"])
    assert set(dets) == {"person", "dog"}
    step = out_q[0]
    assert dets["person"]["score"] == pytest.approx(0.9, abs=step)
    assert dets["dog"]["score"] == pytest.approx(0.7, abs=step)
    tol = 640 * step / 0.5  # one quantisation step in input pixels, x2 into the source
    assert dets["person"]["box"] == pytest.approx([440, 260, 840, 460], abs=tol)
    assert dets["dog"]["box"] == pytest.approx(
        letterbox_to_source(xywh_to_xyxy(DOG_PX)), abs=tol)

    card = inspect(capsys, model)
    assert card["decoder"]["kind"] == "anchor_free"
    assert card["provenance"]["labels"]["source"] == "TFLite metadata"
    assert_yolo_preprocess(card, dtype="int8")


# --------------------------------------------------------------------------- 4. pose, YOLOv5


def test_ultralytics_onnx_pose(tmp_path, photo, capsys):
    n = 8400
    out = np.zeros((1, 56, n), np.float32)
    out[0, 4] = 0.01
    k = 4321
    out[0, :5, k] = (*PERSON_PX, 0.87)
    kpts = np.zeros((17, 3), np.float32)
    kpts[:, 0] = np.linspace(240, 400, 17)  # x in input pixels
    kpts[:, 1] = np.linspace(275, 365, 17)  # y
    kpts[:, 2] = 0.95
    kpts[3, 2] = 0.1  # an occluded ear
    out[0, 5:, k] = kpts.ravel()
    meta = ultralytics_metadata(task="pose", names=("person",), kpt_shape=(17, 3))
    model = make_onnx_model(tmp_path / "yolov8n-pose.onnx", input_shape=(1, 3, 640, 640),
                            outputs={"output0": out}, metadata=onnx_props(meta))

    payload = infer(capsys, model, photo)
    assert payload["task"] == "pose"
    [pose] = payload["poses"]
    assert pose["score"] == pytest.approx(0.87, abs=1e-4)
    kp = pose["keypoints"]
    assert len(kp) == 17 and kp[0]["name"] == "nose" and kp[16]["name"] == "right_ankle"
    want = np.array([letterbox_to_source((x, y, x, y))[:2] for x, y in kpts[:, :2]])
    got = np.array([[p["x"], p["y"]] for p in kp])
    np.testing.assert_allclose(got, want, atol=0.6)
    assert kp[3]["score"] == pytest.approx(0.1, abs=1e-3) and kp[0]["score"] > 0.9

    card = inspect(capsys, model)
    assert card["task"] == "pose"
    assert card["decoder"]["params"].get("kpt_shape") == [17, 3]
    assert card["provenance"]["task"]["source"] == "ONNX metadata"
    assert_yolo_preprocess(card)


def test_yolov5_onnx_with_objectness(tmp_path, photo, capsys):
    out = np.zeros((1, 25200, 85), np.float32)
    out[0, :, 4] = 0.001
    out[0, 500, :5] = (*DOG_PX, 0.9)
    out[0, 500, 5 + 16] = 0.8  # dog: 0.9 * 0.8 = 0.72
    out[0, 900, :5] = (*PERSON_PX, 0.2)
    out[0, 900, 5 + 0] = 0.95  # confident class but low objectness: 0.19 < 0.25
    meta = {"stride": "32", "names": str(dict(enumerate(COCO80)))}
    model = make_onnx_model(tmp_path / "yolov5s.onnx", input_shape=(1, 3, 640, 640),
                            outputs={"output0": out}, metadata=meta)

    payload = infer(capsys, model, photo)
    [det] = payload["detections"]
    assert det["label"] == "dog" and det["index"] == 16
    assert det["score"] == pytest.approx(0.72, abs=1e-4)
    assert det["box"] == pytest.approx(letterbox_to_source(xywh_to_xyxy(DOG_PX)), abs=0.6)

    card = inspect(capsys, model)
    assert card["decoder"]["kind"] == "yolov5"
    assert card["provenance"]["labels"]["source"] == "ONNX metadata"
    assert_yolo_preprocess(card)


# --------------------------------------------------------------------------- 5. end-to-end


def test_end_to_end_onnx_yolov10_style(tmp_path, photo, capsys):
    out = np.zeros((1, 300, 6), np.float32)
    out[0, 0] = (*xywh_to_xyxy(PERSON_PX), 0.93, 0)
    out[0, 1] = (*xywh_to_xyxy(DOG_PX), 0.61, 16)
    out[0, 2] = (10, 10, 50, 50, 0.1, 2)  # below the default 0.25
    model = make_onnx_model(tmp_path / "yolov10n.onnx", input_shape=(1, 3, 640, 640),
                            outputs={"output0": out},
                            metadata=onnx_props(ultralytics_metadata(version="8.2.0")))

    payload = infer(capsys, model, photo)
    dets = by_label(payload["detections"])
    assert set(dets) == {"person", "dog"}
    assert dets["person"]["box"] == pytest.approx([440, 260, 840, 460], abs=0.6)
    assert dets["dog"]["score"] == pytest.approx(0.61, abs=1e-4)
    assert dets["dog"]["index"] == 16

    card = inspect(capsys, model)
    assert card["decoder"]["kind"] == "end_to_end"
    assert card["provenance"]["labels"]["source"] == "ONNX metadata"
    assert_yolo_preprocess(card)


# --------------------------------------------------------------------------- 6. SSD


# Box edges on a 1/64 grid so that quantised uint8 anchors (scale 1/256) hold them exactly.
SSD_DETS = (
    SsdBox((0.125, 0.1875, 0.875, 0.5), 0, 0.9),  # person
    SsdBox((0.1875, 0.625, 0.5, 0.8125), 12, 0.7),  # COCO id 13, after the "???" at 12
    SsdBox((0.5625, 0.5625, 0.9375, 0.9375), 71, 0.6),  # COCO id 72: tv
)


def _stretch(box) -> list[float]:
    y1, x1, y2, x2 = box
    return [x1 * SRC_W, y1 * SRC_H, x2 * SRC_W, y2 * SRC_H]


def _check_ssd(payload: dict, score_tol: float) -> None:
    assert payload["task"] == "detection"
    dets = by_label(payload["detections"])
    assert set(dets) == {"person", "stop sign", "tv"}
    for want, label in zip(SSD_DETS, ("person", "stop sign", "tv"), strict=True):
        d = dets[label]
        assert d["index"] == want.cls
        assert d["score"] == pytest.approx(want.score, abs=score_tol)
        assert d["box"] == pytest.approx(_stretch(want.box), abs=1.0)  # stretch, not letterbox


def test_tf1_ssd_quant_with_labelmap_beside(tmp_path, photo, capsys):
    # coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.zip: detect.tflite + labelmap.txt
    model = make_ssd_postprocess_tflite(tmp_path / "detect.tflite", SSD_DETS)
    (tmp_path / "labelmap.txt").write_text(tf_labelmap_txt())

    _check_ssd(infer(capsys, model, photo), score_tol=1 / 256 + 1e-6)

    card = inspect(capsys, model)
    assert card["decoder"]["kind"] == "ssd_postprocess"
    assert card["labels"]["offset"] == 1 and card["labels"]["count"] == 91
    assert card["labels"]["file"].endswith("labelmap.txt")
    assert card["provenance"]["labels"]["source"] == "label file"
    pre = card["preprocess"]
    assert pre["resize"] == "stretch" and pre["color"] == "RGB"
    assert pre["dtype"] == "uint8" and pre["raw_pixels"] is True
    assert (pre["height"], pre["width"]) == (300, 300)


def test_coral_ssd_with_coco_labels_among_other_label_files(tmp_path, photo, capsys):
    # Coral's test_data folder: several models and their label files side by side.
    model = make_ssd_postprocess_tflite(
        tmp_path / "ssd_mobilenet_v2_coco_quant_postprocess.tflite", SSD_DETS)
    (tmp_path / "coco_labels.txt").write_text(coral_coco_labels_txt())
    (tmp_path / "imagenet_labels.txt").write_text(
        "\n".join(["background", *imagenet_like_names()]) + "\n")
    (tmp_path / "pascal_voc_segmentation_labels.txt").write_text("\n".join(PASCAL_VOC) + "\n")

    _check_ssd(infer(capsys, model, photo), score_tol=1 / 256 + 1e-6)

    card = inspect(capsys, model)
    assert card["labels"]["file"].endswith("coco_labels.txt")
    assert card["labels"]["offset"] == 0


def test_tf2_ssd_outputs_in_scores_boxes_count_classes_order(tmp_path, photo, capsys):
    # TF2 OD API -> TFLite: float input, the op's outputs listed as scores, boxes, count,
    # classes under StatefulPartitionedCall names.
    model = make_ssd_postprocess_tflite(
        tmp_path / "ssd_mobilenet_v2_320x320.tflite", SSD_DETS, input_shape=(1, 320, 320, 3),
        input_dtype="float32", input_quant=None, quantized_head=False,
        input_name="serving_default_input_tensor:0", output_order=(2, 0, 3, 1),
        output_names=[f"StatefulPartitionedCall:{i}" for i in (1, 3, 0, 2)],
    )  # fmt: skip
    (tmp_path / "labelmap.txt").write_text(tf_labelmap_txt())

    _check_ssd(infer(capsys, model, photo), score_tol=1e-4)

    card = inspect(capsys, model)
    assert card["decoder"]["kind"] == "ssd_postprocess"
    pre = card["preprocess"]
    assert pre["resize"] == "stretch"
    assert pre["mean"] == [127.5] * 3 and pre["std"] == [127.5] * 3  # -1..1


# --------------------------------------------------------------------------- 7. MobileNet


def _peaked(n: int, peak: int, p: float) -> np.ndarray:
    probs = np.full((1, n), (1 - p) / (n - 1), np.float32)
    probs[0, peak] = p
    return probs


def test_mobilenet_float_with_tflite_metadata_and_packed_labels(tmp_path, photo, capsys):
    labels = ["background", *imagenet_like_names()]
    buf = model_metadata(
        name="MobileNetV1 image classifier",
        description="Identify the most prominent object in the image from a set of 1,001 "
        "categories such as trees, animals, food, vehicles, person etc.",
        inputs=[TensorMeta("image", "Input image to be classified.", color_space=1,
                           mean=[127.5], std=[127.5])],
        outputs=[TensorMeta("probability", "Probabilities of the 1001 labels respectively.",
                            files=[AssocFile("labels.txt", "Labels for objects that the "
                                             "model can recognize.")])],
    )  # fmt: skip
    model = make_tflite_model(
        tmp_path / "mobilenet_v1_1.0_224.tflite", input_shape=(1, 224, 224, 3),
        input_name="input", outputs=[_peaked(1001, 286, 0.82)],
        output_names=["MobilenetV1/Predictions/Reshape_1"],
        metadata_buffers={"TFLITE_METADATA": buf},
        associated_files={"labels.txt": ("\n".join(labels) + "\n").encode()},
    )  # fmt: skip

    payload = infer(capsys, model, photo, "--top-k", "3")
    assert payload["task"] == "classification"
    top = payload["classes"]
    assert len(top) == 3
    assert top[0] == {"index": 286, "label": "Egyptian cat", "score": pytest.approx(0.82, 1e-4)}

    card = inspect(capsys, model)
    assert card["decoder"]["kind"] == "classification"
    assert card["labels"]["count"] == 1001 and card["labels"]["offset"] == 0
    prov = card["provenance"]
    assert prov["labels"]["source"] == "TFLite metadata"
    assert prov["mean"]["source"] == "TFLite metadata"
    pre = card["preprocess"]
    assert pre["mean"] == [127.5] * 3 and pre["std"] == [127.5] * 3
    assert pre["resize"] == "stretch" and pre["color"] == "RGB"


def test_torchvision_onnx_classifier_with_labels_beside(tmp_path, photo, capsys):
    logits = np.zeros((1, 1000), np.float32)
    logits[0, 285], logits[0, 281] = 9.0, 7.0  # Egyptian cat, then tabby-ish
    model = make_onnx_model(
        tmp_path / "mobilenet_v3_small.onnx", input_shape=(1, 3, 224, 224), input_name="input",
        outputs={"output": logits}, dynamic_dims={0: "batch_size"}, producer_name="pytorch",
    )  # fmt: skip
    (tmp_path / "labels.txt").write_text("\n".join(imagenet_like_names()) + "\n")

    payload = infer(capsys, model, photo)
    top = payload["classes"]
    expect = np.exp(logits[0] - logits.max()) / np.exp(logits[0] - logits.max()).sum()
    assert top[0]["index"] == 285 and top[0]["label"] == "Egyptian cat"
    assert top[0]["score"] == pytest.approx(float(expect[285]), abs=1e-4)  # softmax of logits
    assert top[1]["index"] == 281

    card = inspect(capsys, model)
    assert card["labels"]["count"] == 1000 and card["labels"]["offset"] == 0
    assert card["provenance"]["labels"]["source"] == "label file"
    pre = card["preprocess"]
    assert pre["layout"] == "NCHW" and pre["color"] == "RGB"
    assert pre["mean"] == pytest.approx([123.675, 116.28, 103.53])
    assert pre["std"] == pytest.approx([58.395, 57.12, 57.375])


def test_mobilenet_quant_1001_outputs_with_1000_labels(tmp_path, photo, capsys):
    raw = np.full((1, 1001), 0, np.uint8)
    raw[0, 286], raw[0, 0], raw[0, 282] = 210, 3, 20  # Egyptian cat, background, tabby
    model = make_tflite_model(
        tmp_path / "mobilenet_v2_1.0_224_quant.tflite", input_shape=(1, 224, 224, 3),
        input_dtype="uint8", input_quant=(0.0078125, 128), input_name="input",
        outputs=[OutputSpec(raw, "output", (1 / 256, 0), "uint8")],
    )  # fmt: skip
    (tmp_path / "labels.txt").write_text("\n".join(imagenet_like_names()) + "\n")

    payload = infer(capsys, model, photo)
    top = payload["classes"]
    assert top[0]["index"] == 286 and top[0]["label"] == "Egyptian cat"
    assert top[0]["score"] == pytest.approx(210 / 256, abs=1e-4)
    assert top[1]["index"] == 282 and top[1]["label"] == "imagenet class 281"

    card = inspect(capsys, model)
    assert card["labels"]["offset"] == -1
    pre = card["preprocess"]
    assert pre["dtype"] == "uint8" and pre["raw_pixels"] is True


# --------------------------------------------------------------------------- 8. DeepLab


def _seg_scores(h: int, w: int) -> np.ndarray:
    """[h, w, 21] scores: background, a dog block and a person block (input pixels)."""
    s = np.zeros((h, w, 21), np.float32)
    s[..., 0] = 1.0
    s[h // 4 : 3 * h // 4, w // 8 : w // 2, 12] = 5.0  # dog
    s[h // 8 : 7 * h // 8, 5 * w // 8 : 15 * w // 16, 15] = 5.0  # person
    return s


def _check_segmentation(payload: dict, mask_path: Path) -> None:
    assert payload["task"] == "segmentation"
    seg = payload["segmentation"]
    assert (seg["width"], seg["height"]) == (SRC_W, SRC_H)
    fr = seg["classes"]
    assert fr["dog"] == pytest.approx(0.5 * 0.375, abs=0.01)
    assert fr["person"] == pytest.approx(0.75 * 0.3125, abs=0.01)
    assert fr["background"] == pytest.approx(1 - 0.5 * 0.375 - 0.75 * 0.3125, abs=0.01)
    mask = cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (SRC_H, SRC_W) and mask.dtype == np.uint8
    # stretch: input fractions are source fractions
    assert mask[SRC_H // 2, int(SRC_W * 0.3)] == 12
    assert mask[SRC_H // 2, int(SRC_W * 0.78)] == 15
    assert mask[20, 20] == 0 and mask[SRC_H - 20, SRC_W // 2] == 0


def test_deeplabv3_257_float_tflite_with_metadata(tmp_path, photo, capsys):
    buf = model_metadata(
        name="ImageSegmenter", description="Semantic image segmentation predicts whether "
        "each pixel of an image is associated with a certain class.",
        inputs=[TensorMeta("image", "Input image to be segmented.", color_space=1,
                           mean=[127.5], std=[127.5])],
        outputs=[TensorMeta("segmentation_masks", "Masks over the target objects with high "
                            "accuracy.", files=[AssocFile("labelmap.txt", "Labels for "
                                                          "categories that the model can "
                                                          "recognize.")])],
    )  # fmt: skip
    model = make_tflite_model(
        tmp_path / "deeplabv3_257_mv_gpu.tflite", input_shape=(1, 257, 257, 3),
        input_name="sub_7", outputs=[_seg_scores(257, 257)[None]],
        output_names=["ResizeBilinear_3"], metadata_buffers={"TFLITE_METADATA": buf},
        associated_files={"labelmap.txt": ("\n".join(PASCAL_VOC) + "\n").encode()},
    )  # fmt: skip
    mask = tmp_path / "mask.png"
    _check_segmentation(infer(capsys, model, photo, "--mask-out", str(mask)), mask)

    card = inspect(capsys, model)
    assert card["decoder"]["kind"].startswith("segmentation")
    assert card["labels"]["count"] == 21 and card["labels"]["offset"] == 0
    assert card["provenance"]["labels"]["source"] == "TFLite metadata"
    assert card["provenance"]["mean"]["source"] == "TFLite metadata"
    assert card["preprocess"]["resize"] == "stretch"


def test_torchvision_style_onnx_segmenter_nchw(tmp_path, photo, capsys):
    scores = _seg_scores(128, 128).transpose(2, 0, 1)[None].copy()  # [1, 21, H, W]
    model = make_onnx_model(tmp_path / "lraspp_mobilenet_v3.onnx", input_shape=(1, 3, 128, 128),
                            input_name="input", outputs={"out": scores})
    (tmp_path / "labels.txt").write_text("\n".join(PASCAL_VOC) + "\n")
    mask = tmp_path / "mask.png"
    _check_segmentation(infer(capsys, model, photo, "--mask-out", str(mask)), mask)

    card = inspect(capsys, model)
    assert card["task"] == "segmentation"
    assert card["labels"]["count"] == 21 and card["labels"]["offset"] == 0
    assert card["preprocess"]["layout"] == "NCHW"


# --------------------------------------------------------------------------- more variants


def test_ultralytics_onnx_half_precision(tmp_path, photo, capsys):
    # `yolo export format=onnx half=True`: float16 input and output.
    out = yolo_4c([PERSON_PX], [0], [0.9], scale=640.0).astype(np.float16)
    model = make_onnx_model(tmp_path / "yolov8n.onnx", input_shape=(1, 3, 640, 640),
                            input_dtype="float16", outputs={"output0": out},
                            metadata=onnx_props(ultralytics_metadata()))
    payload = infer(capsys, model, photo)
    [det] = payload["detections"]
    assert det["label"] == "person"
    assert det["score"] == pytest.approx(0.9, abs=1e-3)
    assert det["box"] == pytest.approx([440, 260, 840, 460], abs=1.0)


def test_ultralytics_onnx_segment_export_gives_boxes(tmp_path, photo, capsys):
    # yolov8n-seg: output0 [1, 116, 8400] (4 + 80 + 32 mask coefficients), output1 protos.
    out0 = yolo_4c([PERSON_PX], [0], [0.9], extra=32, scale=640.0)
    protos = np.zeros((1, 32, 160, 160), np.float32)
    model = make_onnx_model(tmp_path / "yolov8n-seg.onnx", input_shape=(1, 3, 640, 640),
                            outputs={"output0": out0, "output1": protos},
                            metadata=onnx_props(ultralytics_metadata(task="segment")))
    payload = infer(capsys, model, photo)
    [det] = payload["detections"]
    assert det["label"] == "person" and det["index"] == 0
    assert det["box"] == pytest.approx([440, 260, 840, 460], abs=0.6)
    card = inspect(capsys, model)
    assert card["decoder"]["params"]["num_classes"] == 80


def test_ultralytics_onnx_classify(tmp_path, photo, capsys):
    # yolov8n-cls: [1, 1000] softmax, names in metadata, pixels 0..1 (no ImageNet mean/std).
    probs = _peaked(1000, 285, 0.7)
    meta = ultralytics_metadata(task="classify", names=imagenet_like_names(), imgsz=(224, 224))
    model = make_onnx_model(tmp_path / "yolov8n-cls.onnx", input_shape=(1, 3, 224, 224),
                            outputs={"output0": probs}, metadata=onnx_props(meta))
    payload = infer(capsys, model, photo)
    top = payload["classes"]
    assert top[0]["index"] == 285 and top[0]["label"] == "Egyptian cat"
    assert top[0]["score"] == pytest.approx(0.7, abs=1e-4)  # already a distribution
    card = inspect(capsys, model)
    assert card["provenance"]["labels"]["source"] == "ONNX metadata"
    pre = card["preprocess"]
    assert pre["mean"] == [0.0, 0.0, 0.0] and pre["std"] == [255.0, 255.0, 255.0]


def test_ultralytics_tflite_pose_normalised(tmp_path, photo, capsys):
    n = 8400
    out = np.zeros((1, 56, n), np.float32)
    out[0, 4] = 0.01
    k = 777
    out[0, :5, k] = (*BOX_N, 0.85)
    kpts = np.zeros((17, 3), np.float32)
    kpts[:, 0] = np.linspace(240, 400, 17) / 640
    kpts[:, 1] = np.linspace(275, 365, 17) / 640
    kpts[:, 2] = 0.9
    out[0, 5:, k] = kpts.ravel()
    meta = ultralytics_metadata(task="pose", names=("person",), kpt_shape=(17, 3))
    model = make_tflite_model(tmp_path / "yolov8n-pose_float32.tflite",
                              input_shape=(1, 640, 640, 3), input_name="images", outputs=[out])
    zip_append(model, {"metadata.json": json.dumps(meta).encode()}, deflate=True)
    payload = infer(capsys, model, photo)
    [pose] = payload["poses"]
    want = np.array([letterbox_to_source((x * 640, y * 640, 0, 0))[:2] for x, y in kpts[:, :2]])
    got = np.array([[p["x"], p["y"]] for p in pose["keypoints"]])
    np.testing.assert_allclose(got, want, atol=0.6)


def test_yolov5_tflite_normalised_with_meta_txt(tmp_path, photo, capsys):
    # YOLOv5 export.py --include tflite: [1, 25200, 85] with xywh normalised 0..1, and
    # add_tflite_metadata packs meta.txt = str({'stride': 32, 'names': {...}}).
    out = np.zeros((1, 25200, 85), np.float32)
    out[0, :, 4] = 0.001
    out[0, 321, :5] = (*BOX_N, 0.95)
    out[0, 321, 5 + 2] = 0.9  # car
    # ModelMetadata lists meta.txt as a model-level associated file (type UNKNOWN).
    buf = model_metadata(name="", description="", inputs=[TensorMeta("")],
                         outputs=[TensorMeta("")], files=[AssocFile("meta.txt", type=0)],
                         version="", author="", license="")  # fmt: skip
    model = make_tflite_model(tmp_path / "yolov5s-fp16.tflite", input_shape=(1, 640, 640, 3),
                              input_name="input_1", outputs=[out],
                              metadata_buffers={"TFLITE_METADATA": buf})
    zip_append(model, {"meta.txt": str({"stride": 32, "names": dict(enumerate(COCO80))})
                       .encode()})  # fmt: skip
    payload = infer(capsys, model, photo)
    [det] = payload["detections"]
    assert det["label"] == "car"
    assert det["score"] == pytest.approx(0.855, abs=1e-4)
    assert det["box"] == pytest.approx([440, 260, 840, 460], abs=0.6)


def test_efficientdet_lite_model_maker_labels_in_metadata(tmp_path, photo, capsys):
    # TF Lite Model Maker EfficientDet-Lite0: uint8 input 320x320, TF2 output order, labels
    # packed as labelmap.txt (person first, "???" in the gaps) named TENSOR_VALUE_LABELS.
    labels = tf_labelmap_txt().splitlines()[1:]  # 90 lines: person .. toothbrush
    buf = model_metadata(
        name="ObjectDetector", description="Identify which of a known set of objects might be "
        "present and provide information about their positions within the given image or a "
        "video stream.",
        inputs=[TensorMeta("image", "Input image to be detected.", color_space=1,
                           mean=[127.0], std=[128.0])],
        outputs=[TensorMeta("location"),
                 TensorMeta("category", files=[AssocFile("labelmap.txt", "", type=3)]),
                 TensorMeta("score"), TensorMeta("number of detections")],
    )  # fmt: skip
    model = make_ssd_postprocess_tflite(
        tmp_path / "efficientdet_lite0.tflite", SSD_DETS, input_shape=(1, 320, 320, 3),
        input_quant=(0.0078125, 127), quantized_head=False,
        input_name="serving_default_images:0", output_order=(2, 0, 3, 1),
        output_names=[f"StatefulPartitionedCall:{i}" for i in (1, 3, 0, 2)],
    )  # fmt: skip
    _insert_metadata(model, buf)
    zip_append(model, {"labelmap.txt": ("\n".join(labels) + "\n").encode()})
    _check_ssd(infer(capsys, model, photo), score_tol=1e-4)
    card = inspect(capsys, model)
    assert card["labels"]["offset"] == 0
    assert card["provenance"]["labels"]["source"] == "TFLite metadata"


def _insert_metadata(path: Path, buf: bytes) -> None:
    """Add a TFLITE_METADATA entry to an existing .tflite (what MetadataPopulator does)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(bytearray(path.read_bytes()), 0)
    b = s.BufferT()
    b.data = np.frombuffer(buf, np.uint8)
    model.buffers.append(b)
    m = s.MetadataT()
    m.name, m.buffer = "TFLITE_METADATA", len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), m]
    fb = flatbuffers.Builder(1024)
    fb.Finish(model.Pack(fb), file_identifier=b"TFL3")
    path.write_bytes(bytes(fb.Output()))


def test_ultralytics_onnx_rectangular_imgsz(tmp_path, photo, capsys):
    # `yolo export imgsz=480,640`: input [1, 3, 480, 640], 6300 anchors; letterbox pads 60 px.
    out = yolo_4c([(320.0, 240.0, 200.0, 100.0)], [0], [0.9], n=6300, scale=640.0)
    model = make_onnx_model(
        tmp_path / "yolo11n.onnx", input_shape=(1, 3, 480, 640), outputs={"output0": out},
        metadata=onnx_props(ultralytics_metadata(imgsz=(480, 640))),
    )  # fmt: skip
    payload = infer(capsys, model, photo)
    [det] = payload["detections"]
    assert det["label"] == "person"
    # input y 190..290 -> minus 60 pad -> 130..230 -> /0.5 -> 260..460
    assert det["box"] == pytest.approx([440, 260, 840, 460], abs=0.6)


def test_end_to_end_tflite_normalised_boxes(tmp_path, photo, capsys):
    # YOLOv10 / YOLO26 TFLite: [1, 300, 6] with x1, y1, x2, y2 normalised 0..1.
    out = np.zeros((1, 300, 6), np.float32)
    out[0, 0] = (*(np.array(xywh_to_xyxy(PERSON_PX)) / 640), 0.93, 0)
    out[0, 1] = (*(np.array(xywh_to_xyxy(DOG_PX)) / 640), 0.61, 16)
    meta = ultralytics_metadata()
    meta["end2end"] = True
    model = make_tflite_model(tmp_path / "yolo26n_float32.tflite", input_shape=(1, 640, 640, 3),
                              input_name="images", outputs=[out])
    zip_append(model, {"metadata.json": json.dumps(meta).encode()}, deflate=True)
    payload = infer(capsys, model, photo)
    dets = by_label(payload["detections"])
    assert set(dets) == {"person", "dog"}
    assert dets["person"]["box"] == pytest.approx([440, 260, 840, 460], abs=0.6)
    assert dets["dog"]["box"] == pytest.approx(
        letterbox_to_source(xywh_to_xyxy(DOG_PX)), abs=0.6)


def test_tf1_ssd_with_label_map_pbtxt_beside(tmp_path, photo, capsys):
    # TF OD API's mscoco_label_map.pbtxt: ids 1..90 with gaps; the op's class 0 is id 1.
    items = "".join(
        f'item {{\n  name: "/m/0{cid:04d}"\n  id: {cid}\n  display_name: "{name}"\n}}\n'
        for cid, name in zip([i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68,
                                                                      69, 71, 83)], COCO80,
                             strict=True)
    )  # fmt: skip
    model = make_ssd_postprocess_tflite(tmp_path / "ssd_mobilenet_v1_coco.tflite", SSD_DETS)
    (tmp_path / "mscoco_label_map.pbtxt").write_text(items)
    _check_ssd(infer(capsys, model, photo), score_tol=1 / 256 + 1e-6)


def test_ssd_with_nothing_detected(tmp_path, photo, capsys):
    model = make_ssd_postprocess_tflite(tmp_path / "detect.tflite", [])
    (tmp_path / "labelmap.txt").write_text(tf_labelmap_txt())
    payload = infer(capsys, model, photo)
    assert payload["task"] == "detection" and payload["detections"] == []
