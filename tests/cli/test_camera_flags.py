"""--camera-size / --camera-fps / --camera-format on `run`, `bench` and the app."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeui.cli import main
from edgeui.commands import run as run_command
from tests.helpers.modelgen import make_onnx_model


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "m.onnx", "--source", "0", "--camera-size", "1280"],
         "edgeui: error: --camera-size: '1280': a camera frame size is WIDTHxHEIGHT, like "
         "1280x720 (see `edgeui run --help`)"),
        (["run", "m.onnx", "--source", "0", "--camera-size", "99999x1"],
         "edgeui: error: --camera-size: '99999x1': a camera frame size is between 16x16 and "
         "16384x16384"),
        (["run", "m.onnx", "--source", "0", "--camera-format", "MJPEG"],
         "edgeui: error: --camera-format: 'MJPEG' is not a pixel format of up to four "
         "characters, like MJPG or YUYV"),
        (["bench", "m.onnx", "--source", "0", "--camera-fps", "0"],
         "edgeui: error: --camera-fps: '0' is not a frame rate above 0 and at most 1000, "
         "like 30"),
    ],
)
def test_camera_flag_typos_fail_before_anything_loads(capsys, args, expected) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and err.startswith(expected), err


@pytest.mark.parametrize("command", ["run", "bench"])
def test_camera_flags_for_a_source_that_is_no_camera_are_an_error_not_ignored(
        tmp_path: Path, capsys, command: str) -> None:
    model = make_onnx_model(tmp_path / "m.onnx", (1, 3, 32, 32),
                            outputs=[np.zeros((1, 10), np.float32)])
    code = main([command, str(model), "--source", "synthetic", "--camera-size", "1280x720",
                 "--camera-format", "MJPG", "--frames", "1"])
    assert code == 2
    assert capsys.readouterr().err == (
        "edgeui: error: --camera-size, --camera-format apply to cameras, and synthetic is not "
        "one; give a camera as --source or leave the camera options out.\n")


def test_run_asks_the_camera_for_what_the_flags_say() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    run_command.add_arguments(parser)
    args = parser.parse_args(["m.onnx", "--source", "camera:C920", "--camera-size", "1280x720",
                              "--camera-fps", "30", "--camera-format", "MJPG", "--loop"])
    assert run_command.source_options(args) == {
        "width": 1280, "height": 720, "fps": 30.0, "fourcc": "MJPG", "loop": True}


def test_a_missing_file_is_said_before_the_camera_options_do_not_fit(tmp_path, capsys) -> None:
    model = make_onnx_model(tmp_path / "m.onnx", (1, 3, 32, 32),
                            outputs=[np.zeros((1, 10), np.float32)])
    missing = tmp_path / "nope.mp4"
    code = main(["run", str(model), "--source", str(missing), "--camera-format", "MJPG"])
    assert code == 2
    assert capsys.readouterr().err.startswith(f"edgeui: error: {missing}: file not found")
