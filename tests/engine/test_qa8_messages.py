"""qa8 §2/§5: source, sidecar and runtime errors say what went wrong and what to do."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import pytest

from edgeui.engine.sources import camera as camera_module
from edgeui.engine.sources import open_source
from edgeui.engine.sources.base import SourceError, SourceUnavailable
from edgeui.engine.sources.camera import CameraSource
from edgeui.engine.sources.images import list_images


class _AbsentCamera:
    """A cv2.VideoCapture whose device never opens."""

    def __init__(self, *_args) -> None:
        pass

    def isOpened(self) -> bool:
        return False

    def release(self) -> None:
        pass


def test_a_camera_that_does_not_open_says_what_to_check(monkeypatch):
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", _AbsentCamera)
    with pytest.raises(SourceUnavailable) as e:
        CameraSource("0", backend=cv2.CAP_ANY).open()
    assert str(e.value) == (
        "0: cannot open the camera (unplugged, or in use by another program); check its cable "
        "and close any other program using it (`edgeui sources` lists the cameras).")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="device paths are Linux's")
def test_a_device_path_that_is_not_there_points_to_sources():
    path = "/dev/video97"
    assert not Path(path).exists()
    with pytest.raises(SourceUnavailable) as e:
        CameraSource(path).open()
    assert str(e.value) == f"{path}: the device is not connected (see `edgeui sources`)."


def test_a_folder_without_images_says_what_to_do(tmp_path):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "a.jpg").write_bytes(b"")
    with pytest.raises(SourceError) as e:
        list_images(str(empty))
    below = str(empty / "**" / "*.jpg")
    assert str(e.value) == (f"{empty}: the folder holds no images (.jpg, .png, .bmp, ...); "
                            f"check the path (images in subfolders need a pattern, like "
                            f"'{below}').")


def test_a_pattern_without_images_says_what_to_do(tmp_path):
    (tmp_path / "notes1.txt").write_text("x")
    pattern = str(tmp_path / "notes*")
    with pytest.raises(SourceError) as e:
        list_images(pattern)
    assert str(e.value) == (f"{pattern}: the pattern matches no images (.jpg, .png, .bmp, "
                            "...); check the pattern's names and extensions.")


@pytest.mark.parametrize("uri", ["synthetic_640x480", "Synthetic", "synthetic.png"])
def test_a_mistyped_test_pattern_names_the_form(uri, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no such file here
    with pytest.raises(SourceError) as e:
        open_source(uri)
    assert str(e.value) == (f"{uri}: file not found; for the test pattern write synthetic or "
                            "synthetic:WIDTHxHEIGHT@FPS, like synthetic:640x480@5.")


def test_the_test_pattern_at_a_rate_needs_no_size() -> None:
    from edgeui.engine.sources import source_kind

    assert source_kind("synthetic@5") == "synthetic"  # a file before: "file not found"
    source = open_source("synthetic@0")
    assert (source.width, source.height, source.live) == (640, 480, False)


def test_other_missing_files_still_say_check_the_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for uri in ("clip.mp4", "shot.png"):
        with pytest.raises(SourceError) as e:
            open_source(uri)
        assert str(e.value) == f"{uri}: file not found; check the path."
