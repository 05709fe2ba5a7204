"""Cameras: an index (``0``), a device path (``/dev/video0``) or ``camera:<name or serial>``.

Opened with the platform's backend (V4L2, Media Foundation, AVFoundation), the requested
size / fps / FOURCC, and a one-frame driver buffer so what we read is what is in front
of the lens now. A camera that is not there is a transient failure: kiosks boot before
their cameras, and cables get pulled.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import cv2

from edgeui.engine.sources import devices
from edgeui.engine.sources.base import SourceUnavailable
from edgeui.engine.sources.capture import CaptureReader
from edgeui.engine.types import Frame
from edgeui.errors import SourceError

log = logging.getLogger(__name__)


class CameraSource:
    """A local camera (live: frames inference cannot keep up with are dropped)."""

    live = True

    def __init__(self, uri: str, *, width: int | None = None, height: int | None = None,
                 fps: float | None = None, fourcc: str | None = None,
                 read_timeout: float = 5.0, backend: int | None = None) -> None:
        self.uri = str(uri)
        self.width, self.height, self.fps = width, height, fps
        if fourcc is not None and len(fourcc) != 4:
            raise SourceError(f"{fourcc}: a pixel format is four characters, like MJPG or YUYV.")
        self.fourcc = fourcc
        self.read_timeout = float(read_timeout)
        self.backend = backend
        self._reader = CaptureReader(self.uri)

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
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000,
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout * 1000)]
        try:
            cap = cv2.VideoCapture(target, api, params)
        except cv2.error:
            cap = cv2.VideoCapture(target, api)
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
