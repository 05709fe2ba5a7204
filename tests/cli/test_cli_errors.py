"""Argument errors in one line, and a reader that leaves the pipe early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeui.cli import main
from tests.helpers.modelgen import make_onnx_model


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["infer", "m.onnx", "i.png", "--iou", "abc"],
         "edgeui: error: --iou: 'abc' is not a number between 0 and 1 "
         "(see `edgeui infer --help`)"),
        (["infer", "m.onnx", "i.png", "--conf", "1.5"],
         "edgeui: error: --conf: '1.5' is not a number between 0 and 1"),
        (["infer", "m.onnx", "i.png", "--top-k", "0"],
         "edgeui: error: --top-k: '0' is not a whole number of 1 or more"),
        (["infer", "m.onnx", "i.png", "--threads", "x"],
         "edgeui: error: --threads: 'x' is not a whole number of 1 or more"),
        (["run", "m.onnx", "--source", "synthetic", "--frames", "0"],
         "edgeui: error: --frames: '0' is not a whole number of 1 or more "
         "(see `edgeui run --help`)"),
        (["run", "m.onnx", "--source", "synthetic", "--duration", "-1"],
         "edgeui: error: --duration: '-1' is not a number above 0"),
        (["infer", "m.onnx", "i.png", "--task", "foo"],
         "edgeui: error: --task: 'foo' is not one of classification, detection, "
         "segmentation, pose"),
        (["bench", "m.onnx", "--frames", "0"],
         "edgeui: error: --frames: '0' is not a whole number of 1 or more"),
        (["bench", "m.onnx", "--warmup", "-1"],
         "edgeui: error: --warmup: '-1' is not a whole number of 0 or more "
         "(see `edgeui bench --help`)"),
        (["bench", "m.onnx", "--warmup", "2.5"],
         "edgeui: error: --warmup: '2.5' is not a whole number of 0 or more"),
    ],
)
def test_argument_errors_are_one_line(capsys, args, expected):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and err.startswith(expected), err
    assert "usage:" not in err and "_unit_interval" not in err and "invalid" not in err


def test_closed_pipe_ends_quietly(tmp_path: Path):
    """`edgeui infer ... --json | head -c 300`: no BrokenPipe traceback."""
    # 3000 equal logits: every class scores 1/3000, so --top-k 5000 prints them all (~200 kB,
    # more than a pipe buffer holds).
    model = make_onnx_model(tmp_path / "wide.onnx", (1, 3, 32, 32),
                            outputs=[np.zeros((1, 3000), np.float32)])
    image = tmp_path / "i.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from edgeui.cli import main; sys.exit(main())",
         "infer", str(model), str(image), "--top-k", "5000", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(300)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    rc = proc.wait(timeout=60)
    assert head.startswith(b'{"model"')
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert rc in (0, 141)


def test_provider_warning_is_printed_once(tmp_path: Path):
    model = make_onnx_model(tmp_path / "c.onnx", (1, 3, 32, 32),
                            outputs=[np.array([[0.0, 1.0, 2.0]], np.float32)])
    image = tmp_path / "i.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from edgeui.cli import main; sys.exit(main())",
         "infer", str(model), str(image), "--provider", "rknpu"],  # known, not in this build
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0
    lines = [line for line in proc.stderr.splitlines() if "not available" in line]
    assert len(lines) == 1 and lines[0].startswith("edgeui: warning: c.onnx: "), proc.stderr


def test_mask_out_must_be_png_and_write_errors_are_one_sentence(tmp_path: Path, capsys):
    seg = np.zeros((1, 16, 16), np.int64)
    model = make_onnx_model(tmp_path / "seg.onnx", input_shape=(1, 3, 16, 16), outputs=[seg])
    image = tmp_path / "i.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    jpg = tmp_path / "m.jpg"
    code = main(["infer", str(model), str(image), "--task", "segmentation", "--mask-out", str(jpg)])
    err = capsys.readouterr().err
    assert code == 2 and not jpg.exists()
    assert err.count("\n") == 1 and "give a file name ending in .png" in err
    missing = tmp_path / "nope" / "m.png"
    code = main(["infer", str(model), str(image), "--task", "segmentation",
                 "--mask-out", str(missing)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "[Errno" not in err and "(no such file or directory)" in err


def test_counts_are_singular_for_one():
    from edgeui.commands.infer import format_table
    from edgeui.commands.run import summary_line
    from edgeui.engine.pipeline import PipelineStats

    line = summary_line(PipelineStats(processed=1, errors=1, skipped=3), 1.0)
    assert "1 frame in" in line and "1 error" in line and "errors" not in line
    assert "3 skipped by --fps-limit" in line
    payload = {"model": "m", "runtime": "r", "task": "detection",
               "image": {"width": 4, "height": 4},
               "detections": [{"label": "cat", "score": 0.9, "box": [0, 0, 1, 1]}],
               "timings_ms": {"preprocess": 0, "inference": 0, "postprocess": 0}}
    assert "\n1 detection\n" in format_table(payload)


def test_inspect_text_shows_runtime_once_untruncated_and_keypoints_for_pose(tmp_path, capsys):
    long_doc = "a model description " * 12  # 240 characters: the report prints all of it
    model = make_onnx_model(tmp_path / "pose.onnx", input_shape=(1, 3, 192, 192),
                            outputs=[np.zeros((1, 1, 17, 3), np.float32)],
                            metadata={"note": long_doc.strip()})
    code = main(["inspect", str(model)])
    text = capsys.readouterr().out
    assert code == 0
    assert long_doc.strip() in text and "…" not in text.split("model card")[0]
    assert text.count("runtime_version") == 1  # the format line only
    assert "no labels found" not in text and "0 labels" not in text
    assert "keypoints        17 (COCO names)" in text


@pytest.mark.parametrize("command", ["infer", "inspect", "run", "bench"])
def test_a_model_that_crashes_its_runtime_is_one_error_not_a_dead_process(
        tmp_path: Path, capsys, command: str):
    from tests.helpers.modelgen import make_crashing_tflite

    model = make_crashing_tflite(tmp_path / "crash.tflite")
    image = tmp_path / "i.png"
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    extra = {"infer": [str(image)], "inspect": [],
             "run": ["--source", "synthetic", "--frames", "1"], "bench": ["--frames", "2"]}[command]
    code = main([command, str(model), *extra])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "LiteRT crashed while loading this model" in err, err
    if command == "inspect":  # what the file says is still shown, as for any refused model
        assert "input  [1x8x8x3]  uint8" in out


def test_help_shows_the_apps_options_too(capsys):
    with pytest.raises(SystemExit) as top:
        main(["--help"])
    out = capsys.readouterr().out
    assert top.value.code == 0 and "infer" in out and "--display-fps" in out
    with pytest.raises(SystemExit) as app:
        main(["--display-fps", "15", "--help"])  # the app's own help, not "COMMAND: '15'..."
    out = capsys.readouterr().out
    assert app.value.code == 0 and "--kiosk" in out and "--display-fps" in out
