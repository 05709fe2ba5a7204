"""`edgeui infer` / `edgeui inspect`: the JSON contract and every error path a user can hit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeui.cli import main
from tests.helpers.modelgen import (
    make_custom_op_tflite,
    make_onnx_model,
    make_tflite_model,
    write_garbage,
    write_truncated,
)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "scene.png"
    img = np.zeros((480, 640, 3), np.uint8)
    img[100:300, 200:400] = (0, 200, 0)
    cv2.imwrite(str(path), img)
    return path


def anchor_free_output(n_classes: int = 3, box=(320.0, 320.0, 100.0, 200.0), cls=1, score=0.9):
    """A [1, 4+C, 8400] output (640 input) holding one confident box in input pixels."""
    out = np.zeros((1, 4 + n_classes, 8400), np.float32)
    out[0, :4, 100] = box
    out[0, 4 + cls, 100] = score
    out[0, :4, 101] = (box[0] + 2, box[1] + 2, box[2], box[3])  # a near duplicate, NMS drops it
    out[0, 4 + cls, 101] = score - 0.1
    return out


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_infer_json_detection_maps_boxes_to_source_pixels(tmp_path, image, capsys):
    model = make_onnx_model(
        tmp_path / "det.onnx", input_shape=(1, 3, 640, 640), outputs=[anchor_free_output()],
        metadata={"task": "detect", "names": "{0: 'cat', 1: 'dog', 2: 'bird'}",
                  "imgsz": "[640, 640]"},
    )
    code, out, err = run_cli(capsys, "infer", str(model), str(image), "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert set(payload) >= {"model", "runtime", "task", "image", "detections", "timings_ms"}
    assert payload["task"] == "detection"
    assert payload["image"] == {"width": 640, "height": 480}
    [det] = payload["detections"]
    assert det["label"] == "dog" and det["index"] == 1
    assert det["score"] == pytest.approx(0.9, abs=1e-5)
    # letterbox 640x480 -> 640x640 pads 80 px on top: input y 220..420 -> source 140..340
    assert det["box"] == pytest.approx([270, 140, 370, 340], abs=0.5)
    assert set(payload["timings_ms"]) == {"preprocess", "inference", "postprocess"}


def test_infer_readable_table_and_conf_flag(tmp_path, image, capsys):
    model = make_onnx_model(tmp_path / "det.onnx", input_shape=(1, 3, 640, 640),
                            outputs=[anchor_free_output(score=0.5)])
    code, out, _ = run_cli(capsys, "infer", str(model), str(image))
    assert code == 0 and "\n1 detection\n" in out
    code, out, _ = run_cli(capsys, "infer", str(model), str(image), "--conf", "0.6", "--json")
    assert code == 0 and json.loads(out)["detections"] == []


def test_infer_classification_top_k(tmp_path, image, capsys):
    logits = np.array([[0.1, 3.0, -1.0, 2.0, 0.5]], np.float32)
    model = make_tflite_model(tmp_path / "cls.tflite", input_shape=(1, 32, 32, 3), outputs=[logits])
    (tmp_path / "labels.txt").write_text("a\nb\nc\nd\ne\n")
    code, out, err = run_cli(capsys, "infer", str(model), str(image), "--json", "--top-k", "3")
    assert code == 0, err
    classes = json.loads(out)["classes"]
    assert [c["label"] for c in classes] == ["b", "d", "e"]
    scores = [c["score"] for c in classes]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    assert sum(scores) < 1.0  # softmax over all five, top three reported


def test_mask_out_writes_source_resolution_png(tmp_path, image, capsys):
    seg = np.zeros((1, 16, 16), np.int64)
    seg[0, 4:12, 4:12] = 2
    model = make_onnx_model(tmp_path / "seg.onnx", input_shape=(1, 3, 16, 16), outputs=[seg])
    mask = tmp_path / "mask.png"
    code, out, err = run_cli(capsys, "infer", str(model), str(image), "--json",
                             "--task", "segmentation", "--mask-out", str(mask))
    assert code == 0, err
    written = cv2.imread(str(mask), cv2.IMREAD_UNCHANGED)
    assert written.shape == (480, 640) and written.dtype == np.uint8
    assert set(np.unique(written).tolist()) == {0, 2}
    shares = json.loads(out)["segmentation"]["classes"]
    assert sum(shares.values()) == pytest.approx(1.0)


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_model_file(tmp_path, image, capsys):
    code, _, err = run_cli(capsys, "infer", str(tmp_path / "nope.onnx"), str(image))
    assert_one_line_error(code, err, "nope.onnx", "not found")


def test_missing_image(tmp_path, capsys):
    model = make_onnx_model(tmp_path / "det.onnx", input_shape=(1, 3, 640, 640),
                            outputs=[anchor_free_output()])
    code, _, err = run_cli(capsys, "infer", str(model), str(tmp_path / "nope.jpg"))
    assert_one_line_error(code, err, "nope.jpg")


@pytest.mark.parametrize("kind", ["empty", "garbage_onnx", "garbage_tflite", "truncated_onnx",
                                  "truncated_tflite", "text", "folder"])
def test_broken_model_files(tmp_path, image, capsys, kind):
    if kind == "empty":
        path = tmp_path / "m.onnx"
        path.write_bytes(b"")
    elif kind == "garbage_onnx":
        path = write_garbage(tmp_path / "m.onnx")
    elif kind == "garbage_tflite":
        path = write_garbage(tmp_path / "m.tflite")
    elif kind == "truncated_onnx":
        full = make_onnx_model(tmp_path / "full.onnx", input_shape=(1, 3, 640, 640),
                               outputs=[anchor_free_output()])
        path = write_truncated(full, tmp_path / "m.onnx")
    elif kind == "truncated_tflite":
        full = make_tflite_model(tmp_path / "full.tflite", outputs=[np.zeros((1, 10), np.float32)])
        path = write_truncated(full, tmp_path / "m.tflite")
    elif kind == "text":
        path = tmp_path / "m.txt"
        path.write_text("hello")
    else:
        path = tmp_path / "models"
        path.mkdir()
    code, _, err = run_cli(capsys, "infer", str(path), str(image))
    assert_one_line_error(code, err, path.name)


def test_custom_op_model(tmp_path, image, capsys):
    path = make_custom_op_tflite(tmp_path / "custom.tflite", op_name="my-secret-op")
    code, _, err = run_cli(capsys, "inspect", str(path))
    assert_one_line_error(code, err, "custom.tflite", "my-secret-op")


def test_input_that_is_not_an_image(tmp_path, image, capsys):
    path = make_onnx_model(tmp_path / "tab.onnx", input_shape=(1, 10),
                           outputs=[np.zeros((1, 2), np.float32)])
    code, _, err = run_cli(capsys, "infer", str(path), str(image))
    assert_one_line_error(code, err, "tab.onnx", "[1, 10]")


def test_unknown_output_layout_names_shapes_and_sidecar(tmp_path, image, capsys):
    path = make_onnx_model(tmp_path / "odd.onnx", input_shape=(1, 3, 64, 64),
                           outputs=[np.zeros((1, 7, 3, 2), np.float32), np.zeros((5,), np.float32)])
    code, _, err = run_cli(capsys, "inspect", str(path))
    assert_one_line_error(code, err, "odd.onnx", "[1, 7, 3, 2]", "sidecar")


def test_debug_shows_traceback(tmp_path, image, capsys):
    with pytest.raises(Exception, match="not found"):
        main(["infer", str(tmp_path / "nope.onnx"), str(image), "--debug"])


def test_inspect_json_has_card_with_provenance(tmp_path, capsys):
    model = make_onnx_model(
        tmp_path / "det.onnx", input_shape=(1, 3, 640, 640), outputs=[anchor_free_output()],
        metadata={"task": "detect", "names": "{0: 'cat', 1: 'dog', 2: 'bird'}"},
    )
    code, out, err = run_cli(capsys, "inspect", str(model), "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["file"]["format"] == "ONNX" and info["file"]["size_bytes"] > 0
    assert info["inputs"][0]["shape"] == [1, 3, 640, 640]
    card = info["card"]
    assert card["task"] == "detection" and card["decoder"]["kind"] == "anchor_free"
    assert card["labels"]["count"] == 3
    assert card["provenance"]["labels"]["source"] == "ONNX metadata"
    assert card["provenance"]["resize"]["source"] in ("shape heuristic", "default")
    code, text, _ = run_cli(capsys, "inspect", str(model))
    assert code == 0 and "anchor_free" in text and "ONNX metadata" in text


def test_console_script_runs_without_qt(tmp_path, image):
    """`python -m edgeui.cli infer` in a fresh process: exit 2 for a bad file, Qt never loaded."""
    code = (
        "import sys; from edgeui.cli import main; rc = main(sys.argv[1:]); "
        "assert 'PySide6' not in sys.modules; sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "infer", str(tmp_path / "nope.onnx"), str(image)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "nope.onnx" in proc.stderr and proc.stdout == ""
