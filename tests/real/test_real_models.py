"""Real pre-trained models from ../shared: the answers users check first.

Skipped with a reason where the shared folder is absent (a fresh clone elsewhere).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeui.cli import main

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("EDGEUI_TEST_DATA", REPO.parent / "shared"))
MODELS = SHARED / "models"
IMAGES = SHARED / "images"

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(
        not (MODELS / "yolox_nano.onnx").exists(),
        reason=f"real models not found in {MODELS} (set EDGEUI_TEST_DATA to the shared folder)",
    ),
]


def infer_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = main(["infer", *args, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, "exactly one JSON object on stdout"
    return json.loads(lines[0])


def iou(a: list[float], b: list[float]) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area > 0 else 0.0


@pytest.mark.parametrize(
    ("image", "index", "label", "min_score"),
    [("cat.bmp", 286, "Egyptian cat", 0.6), ("grace_hopper.bmp", 653, "military uniform", 0.6)],
)
def test_mobilenet_top1(capsys, image, index, label, min_score):
    out = infer_json(capsys, str(MODELS / "mobilenet_v2_1.0_224_quant.tflite"), str(IMAGES / image))
    assert out["task"] == "classification"
    top = out["classes"][0]
    assert (top["index"], top["label"]) == (index, label)
    assert min_score <= top["score"] <= 1.0
    scores = [c["score"] for c in out["classes"]]
    # At most top-k (5); classes the quantised softmax rounded to 0 are left out.
    assert scores == sorted(scores, reverse=True) and 1 <= len(scores) <= 5
    assert all(s > 0 for s in scores)


# Reference boxes read off 000000000139.jpg (640x426): x1, y1, x2, y2 in source pixels.
TV = [5, 167, 155, 263]
PERSON = [412, 157, 467, 297]


@pytest.mark.parametrize("model", ["yolox_nano.onnx", "yolox_nano_float16_quantize.tflite"])
def test_yolox_finds_tv_person_chairs(capsys, model):
    out = infer_json(capsys, str(MODELS / model), str(IMAGES / "000000000139.jpg"))
    assert out["task"] == "detection"
    assert out["image"] == {"width": 640, "height": 426}
    dets = out["detections"]
    by_label: dict[str, list[dict]] = {}
    for d in dets:
        by_label.setdefault(d["label"], []).append(d)
        assert 0.25 <= d["score"] <= 1.0
        x1, y1, x2, y2 = d["box"]
        assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 426
    assert max(iou(d["box"], TV) for d in by_label.get("tvmonitor", by_label.get("tv", []))) > 0.7
    assert max(iou(d["box"], PERSON) for d in by_label["person"]) > 0.6
    chairs = by_label["chair"]
    assert len(chairs) >= 2
    for c in chairs:  # the chairs stand around the dining table, left of the kitchen
        cx, cy = (c["box"][0] + c["box"][2]) / 2, (c["box"][1] + c["box"][3]) / 2
        assert 280 < cx < 460 and 200 < cy < 330


def test_deeplab_labels_the_dog(capsys, tmp_path):
    mask_path = tmp_path / "mask.png"
    out = infer_json(
        capsys,
        str(MODELS / "deeplabv3_mnv2_dm05_pascal_quant.tflite"),
        str(IMAGES / "dog_segmentation.bmp"),
        "--mask-out",
        str(mask_path),
    )
    assert out["task"] == "segmentation"
    seg = out["segmentation"]
    assert (seg["width"], seg["height"]) == (128, 128)
    shares = seg["classes"]
    assert shares.get("dog", 0) > 0.15
    assert abs(sum(shares.values()) - 1.0) < 1e-3
    mask = cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (128, 128) and mask.dtype == np.uint8
    assert (mask == 12).mean() == pytest.approx(shares["dog"], abs=1e-3)  # 12 = dog in VOC


def test_movenet_keypoints_on_the_person(capsys):
    out = infer_json(
        capsys, str(MODELS / "movenet_single_pose_lightning_ptq.tflite"), str(IMAGES / "squat.bmp")
    )
    assert out["task"] == "pose"
    pose = out["poses"][0]
    kps = {k["name"]: k for k in pose["keypoints"]}
    assert len(kps) == 17
    # The person spans x 100..370, y 130..605 in the 500x610 photo.
    for k in kps.values():
        if k["score"] > 0.3:
            assert 90 < k["x"] < 380 and 120 < k["y"] < 610, k
    nose = kps["nose"]
    assert nose["score"] > 0.3 and 230 < nose["x"] < 320 and 180 < nose["y"] < 250
    assert kps["left_ankle"]["y"] > 480 and kps["right_ankle"]["y"] > 480
    assert kps["nose"]["y"] < kps["left_hip"]["y"] < kps["left_ankle"]["y"]
    # Padded like Google's reference (not stretched): the whole body is found confidently.
    assert pose["score"] > 0.65


def test_invoking_error_model_gives_clear_error(capsys):
    code = main(["infer", str(MODELS / "model_invoking_error.tflite"), str(IMAGES / "cat.bmp")])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "model_invoking_error.tflite" in lines[0]
    assert "fake-op-double" in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("model", "task", "decoder"),
    [
        ("mobilenet_v2_1.0_224_quant.tflite", "classification", "classification"),
        ("yolox_nano.onnx", "detection", "yolox"),
        ("yolox_nano_float16_quantize.tflite", "detection", "yolox"),
        ("deeplabv3_mnv2_dm05_pascal_quant.tflite", "segmentation", "segmentation"),
        ("movenet_single_pose_lightning_ptq.tflite", "pose", "movenet"),
    ],
)
def test_inspect_explains_real_models(capsys, model, task, decoder):
    assert main(["inspect", str(MODELS / model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["card"]["task"] == task
    assert info["card"]["decoder"]["kind"] == decoder
    assert info["card"]["provenance"]["task"]["source"] in (
        "shape heuristic", "TFLite metadata", "ONNX metadata", "label file"
    )
    assert info["inputs"] and info["outputs"]
    # the readable report names every input and the decoder
    assert main(["inspect", str(MODELS / model)]) == 0
    text = capsys.readouterr().out
    assert decoder in text and info["inputs"][0]["name"] in text
