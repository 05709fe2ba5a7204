"""Asking a camera for a frame size, rate and pixel format, and saying when it gives another."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import cv2
import pytest

from edgeui.engine.sources import camera as camera_module
from edgeui.engine.sources import open_source
from edgeui.engine.sources.camera import (
    camera_request,
    check_pixel_format,
    fourcc_text,
    parse_camera_size,
)
from edgeui.errors import SourceError


class ModeCamera:
    """A camera with a few modes: like a driver, it snaps each request to the nearest mode of
    the pixel format asked for (or its first format) and reports what it gives."""

    modes: ClassVar[dict[str, list[tuple[int, int, float]]]] = {
        "YUYV": [(640, 480, 30.0), (1280, 720, 10.0)],
        "MJPG": [(640, 480, 30.0), (1280, 720, 30.0)],
    }
    made: ClassVar[list[ModeCamera]] = []

    def __init__(self, target: Any, api: int, params: Any = None) -> None:
        self.format, self.asked = "YUYV", {}
        self.sets: list[int] = []
        ModeCamera.made.append(self)

    def isOpened(self) -> bool:
        return True

    def set(self, prop: int, value: float) -> bool:
        self.sets.append(prop)
        if prop == cv2.CAP_PROP_FOURCC:
            name = fourcc_text(value)
            if name in self.modes:
                self.format = name
            return name in self.modes
        self.asked[prop] = value
        return True

    def _mode(self) -> tuple[int, int, float]:
        w = self.asked.get(cv2.CAP_PROP_FRAME_WIDTH, 640)
        h = self.asked.get(cv2.CAP_PROP_FRAME_HEIGHT, 480)
        fps = self.asked.get(cv2.CAP_PROP_FPS, 30.0)
        return min(self.modes[self.format],
                   key=lambda m: (abs(m[0] - w) + abs(m[1] - h), abs(m[2] - fps)))

    def get(self, prop: int) -> float:
        w, h, fps = self._mode()
        return {cv2.CAP_PROP_FRAME_WIDTH: w, cv2.CAP_PROP_FRAME_HEIGHT: h, cv2.CAP_PROP_FPS: fps,
                cv2.CAP_PROP_FOURCC: cv2.VideoWriter_fourcc(*self.format)}.get(prop, 0.0)

    def grab(self) -> bool:
        return False

    def release(self) -> None:
        pass


@pytest.fixture
def mode_camera(monkeypatch: pytest.MonkeyPatch) -> type[ModeCamera]:
    ModeCamera.made = []
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", ModeCamera)
    monkeypatch.setattr(camera_module.devices, "backend", lambda: cv2.CAP_V4L2)
    monkeypatch.setattr(camera_module.sys, "platform", "win32")  # an index needs no /dev node
    return ModeCamera


def test_sizes_rates_and_formats_are_checked_with_one_clear_message() -> None:
    assert parse_camera_size("1280x720") == (1280, 720)
    assert parse_camera_size(" 640X480 ") == (640, 480)
    for bad in ("1280", "1280x", "x720", "1280*720", "-640x480"):
        with pytest.raises(SourceError, match="WIDTHxHEIGHT, like 1280x720"):
            parse_camera_size(bad)
    for bad in ("0x0", "99999x1", "8x8"):
        with pytest.raises(SourceError, match="between 16x16 and 16384x16384"):
            parse_camera_size(bad)
    assert check_pixel_format("MJPG") == "MJPG"
    assert check_pixel_format("mjpg") == "MJPG"  # V4L2's codes are case-sensitive
    assert check_pixel_format("Y16") == "Y16 "  # as the driver pads it (IR, depth cameras)
    for bad in ("MJPEG", "é123", "", "M JP"):
        with pytest.raises(SourceError, match="four characters"):
            check_pixel_format(bad)
    assert camera_request("1280x720", 30, "MJPG") == {
        "width": 1280, "height": 720, "fps": 30.0, "fourcc": "MJPG"}
    assert camera_request() == {}
    with pytest.raises(SourceError, match="frame rate"):
        camera_request(fps=-5)


def test_a_camera_is_asked_for_the_format_first_then_size_and_rate(mode_camera) -> None:
    source = open_source("0", **camera_request("1280x720", 30, "MJPG"))
    source.open()
    cam = mode_camera.made[-1]
    assert cam.format == "MJPG" and cam._mode() == (1280, 720, 30.0)
    # The driver picks the sizes and rates the format allows: FOURCC must come first.
    assert cam.sets.index(cv2.CAP_PROP_FOURCC) < cam.sets.index(cv2.CAP_PROP_FRAME_WIDTH)
    source.close()


def test_a_camera_that_gives_another_mode_says_so_once(mode_camera, caplog) -> None:
    caplog.set_level(logging.WARNING)
    # YUYV at 1280x720 only runs at 10 fps over this camera's link; H264 it has not at all.
    source = open_source("0", **camera_request("1920x1080", 30, "H264"))
    source.open()
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning == ("0: the camera gives 1280x720 instead of 1920x1080, 10 fps instead of "
                       "30, YUYV instead of H264: it does not offer what was asked (`edgeui "
                       "sources` lists what it offers where the platform tells).")
    source.close()
    source.open()  # a reconnect: the same news is not repeated
    assert len(caplog.records) == 1
    caplog.clear()
    fine = open_source("0", **camera_request("640x480", 30, "YUYV"))
    fine.open()
    assert caplog.records == []


class MediaFoundationLike(ModeCamera):
    """Media Foundation and AVFoundation: a pixel format cannot be set (set() is False) and
    the read-back is their RGB output type, not a camera format."""

    def set(self, prop: int, value: float) -> bool:
        if prop == cv2.CAP_PROP_FOURCC:
            return False
        return super().set(prop, value)

    def get(self, prop: int) -> float:
        return 20.0 if prop == cv2.CAP_PROP_FOURCC else super().get(prop)


def test_a_backend_that_cannot_take_a_pixel_format_says_so(monkeypatch, caplog) -> None:
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", MediaFoundationLike)
    monkeypatch.setattr(camera_module.devices, "backend", lambda: cv2.CAP_MSMF)
    monkeypatch.setattr(camera_module.sys, "platform", "win32")
    caplog.set_level(logging.WARNING)
    source = open_source("0", **camera_request("640x480", 30, "MJPG"))
    source.open()
    assert [r.getMessage() for r in caplog.records] == [
        "0: this camera backend cannot be asked for a pixel format (MJPG ignored): it picks "
        "one for the size and rate asked for (--camera-size, --camera-fps)."]
