"""Shared fixtures of the CLI tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.modelgen import make_onnx_model


@pytest.fixture(scope="module")
def det_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 64x64 anchor-free detector that always sees one 'dog' at the input's centre."""
    out = np.zeros((1, 7, 84), np.float32)  # 4 + 3 classes, 8x8 + 4x4 + 2x2 anchors
    out[0, :4, 10] = (32.0, 32.0, 16.0, 16.0)
    out[0, 4 + 1, 10] = 0.9
    path = tmp_path_factory.mktemp("models") / "det.onnx"
    return make_onnx_model(path, input_shape=(1, 3, 64, 64), outputs=[out],
                           metadata={"task": "detect", "names": "{0: 'cat', 1: 'dog', 2: 'bird'}"})



@pytest.fixture(autouse=True)
def _v4l_select_timeout_left_as_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` and `bench` set OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT once per process; in-process
    CLI tests must not leave it (nor the once-flag) behind for the tests that follow."""
    from edgeui.engine.sources import camera

    name = camera.V4L_SELECT_TIMEOUT_ENV
    before = os.environ.get(name)
    monkeypatch.setenv(name, before if before is not None else "unset")  # restored after
    if before is None:
        monkeypatch.delenv(name)
    monkeypatch.setattr(camera, "_v4l_select_configured", camera._v4l_select_configured)
