"""Cameras: an index (``0``), a device path (``/dev/video0``) or ``camera:<name or serial>``.

Opened with the platform's backend (V4L2, Media Foundation, AVFoundation), the requested
size / fps / FOURCC, and a one-frame driver buffer so what we read is what is in front
of the lens now. A camera that is not there is a transient failure: kiosks boot before
their cameras, and cables get pulled.

A read waits for the next frame as long as the stall timeout, like a stream's: unless
``read_timeout`` is given it follows ``stall_timeout``, which the pipeline sets to its own
before opening. Backends that take ``CAP_PROP_READ_TIMEOUT_MSEC`` get it at open (or
through ``set()`` when they refuse open parameters); V4L2 has no such property, only
OpenCV's select() timeout, read from ``OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT`` (whole seconds)
once per process, at the first V4L2 read: it is set before each open unless the user set it.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from pathlib import Path

import cv2

from edgeui.engine.sources import devices
from edgeui.engine.sources.base import SourceUnavailable
from edgeui.engine.sources.capture import CaptureReader
from edgeui.engine.types import Frame
from edgeui.errors import SourceError

log = logging.getLogger(__name__)

_V4L_SELECT_TIMEOUT = "OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT"
_v4l_select_ours: str | None = None  # the value edgeui set (None: untouched)


class CameraSource:
    """A local camera (live: frames inference cannot keep up with are dropped)."""

    live = True

    def __init__(self, uri: str, *, width: int | None = None, height: int | None = None,
                 fps: float | None = None, fourcc: str | None = None,
                 read_timeout: float | None = None, stall_timeout: float = 5.0,
                 backend: int | None = None) -> None:
        self.uri = str(uri)
        self.width, self.height, self.fps = width, height, fps
        if fourcc is not None and len(fourcc) != 4:
            raise SourceError(f"{fourcc}: a pixel format is four characters, like MJPG or YUYV.")
        self.fourcc = fourcc
        # None: follow stall_timeout (the pipeline sets it to its own before each open).
        self.read_timeout = None if read_timeout is None else float(read_timeout)
        self.stall_timeout = float(stall_timeout)
        self.backend = backend
        self._reader = CaptureReader(self.uri)

    @property
    def effective_read_timeout(self) -> float:
        """Seconds a read waits for the next frame: ``read_timeout``, else the stall timeout."""
        return self.stall_timeout if self.read_timeout is None else self.read_timeout

    def _target(self) -> int | str:
        """The index or device path to open now (a name is resolved at every open)."""
        text = self.uri
        if text.isdigit():
            return int(text)
        if text.startswith("camera:"):
            query = text[len("camera:"):]
            if query.isdigit():
                return int(query)
            cam = devices.find_camera(query)
            if cam is None:
                raise SourceUnavailable(f"{text}: no camera with this name or serial is "
                                        "connected (see `edgeui sources`).")
            return cam.index if not sys.platform.startswith("linux") else cam.path
        if sys.platform.startswith("linux") and not Path(text).exists():
            raise SourceUnavailable(f"{text}: the device is not connected.")
        return text

    def open(self) -> None:
        target = self._target()
        api = self.backend if self.backend is not None else devices.backend()
        read_ms = int(self.effective_read_timeout * 1000)
        if api == getattr(cv2, "CAP_V4L2", None):
            _set_v4l_select_timeout(self.effective_read_timeout)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_ms]
        try:
            cap = cv2.VideoCapture(target, api, params)
        except cv2.error:  # a backend that takes no open parameters: set what it can after
            cap = cv2.VideoCapture(target, api)
            if cap.isOpened() and not cap.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_ms):
                log.debug("%s: the backend has no read timeout", self.uri)
        if not cap.isOpened():
            cap.release()
            raise SourceUnavailable(f"{self.uri}: cannot open the camera (unplugged, or "
                                    "in use by another program).")
        # FOURCC first: the driver picks the sizes and rates the format allows.
        if self.fourcc:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*self.fourcc))
        if self.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        if self.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        if self.fps:
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # minimal driver queue: newest frame, least lag
        got = (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if self.width and self.height and got != (self.width, self.height):
            log.warning("%s: asked for %dx%d, the camera gives %dx%d", self.uri,
                        self.width, self.height, *got)
        self._reader.attach(cap)

    def read(self) -> Frame | None:
        ok, frame = self._reader.grab()
        if not ok:
            raise SourceUnavailable(f"{self.uri}: the camera stopped sending frames "
                                    "(unplugged?).")
        return frame

    def close(self) -> None:
        self._reader.release()


def _set_v4l_select_timeout(seconds: float) -> None:
    """Let V4L2 wait ``seconds`` (rounded up to whole seconds) for a frame, unless the user
    chose their own wait in the environment. OpenCV reads it at the first V4L2 read of the
    process, so the stall timeout in force then is the one that counts."""
    global _v4l_select_ours
    current = os.environ.get(_V4L_SELECT_TIMEOUT)
    if current is not None and current != _v4l_select_ours:
        return  # the user's
    _v4l_select_ours = str(max(1, math.ceil(seconds)))
    os.environ[_V4L_SELECT_TIMEOUT] = _v4l_select_ours
