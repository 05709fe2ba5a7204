"""A video file: played at its own frame rate (``realtime``) or read on demand, looped or not."""

from __future__ import annotations

from pathlib import Path

import cv2

from edgeui.engine.sources.base import Pacer, SourceEnded, SourceUnavailable, file_not_found
from edgeui.engine.sources.capture import CaptureReader
from edgeui.engine.types import Frame
from edgeui.errors import SourceError


class VideoSource:
    """A local video file (anything OpenCV's FFmpeg backend decodes).

    ``realtime=True`` releases frames at the file's fps like a camera would (a live source:
    frames inference cannot keep up with are dropped); ``realtime=False`` reads every frame
    on demand as fast as inference takes them. ``loop`` restarts at the end instead of ending.
    """

    def __init__(self, uri: str, *, loop: bool = False, realtime: bool = True,
                 fps: float | None = None) -> None:
        self.path = Path(uri).expanduser()
        if not self.path.exists():
            raise SourceError(file_not_found(uri))
        if self.path.is_dir():
            raise SourceError(f"{uri}: is a folder without images; give a video file.")
        self.uri = str(uri)
        self.loop = loop
        self.realtime = realtime
        self.live = realtime
        self._fps_option = fps
        self._reader = CaptureReader(self.uri)
        self._pacer = Pacer(None)
        self.fps = 0.0

    def _open_capture(self) -> None:
        cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            if not self.path.exists():
                raise SourceUnavailable(f"{self.uri}: the file has disappeared.")
            raise SourceError(f"{self.uri}: cannot decode this file as video; "
                              "check that it is a video OpenCV/FFmpeg can read.")
        self._reader.attach(cap)

    def open(self) -> None:
        self._open_capture()
        native = float(self._reader.cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = self._fps_option or (native if 1.0 <= native <= 240.0 else 30.0)
        self._pacer = Pacer(self.fps if self.realtime else None)

    def read(self) -> Frame | None:
        if self._reader.cap is None:
            raise SourceUnavailable(f"{self.uri}: not open.")
        if not self._pacer.due():
            return None
        ok, frame = self._reader.grab(check_position=False)
        if ok:
            return frame
        if self._reader.frames_since_open == 0:
            raise SourceError(f"{self.uri}: holds no readable frames; "
                              "check that it is a complete video file.")
        if not self.loop:
            raise SourceEnded(f"{self.uri}: end of file.")
        # Reopening is more reliable than seeking to 0 across containers and codecs.
        self._open_capture()
        ok, frame = self._reader.grab(check_position=False)
        if not ok:
            raise SourceUnavailable(f"{self.uri}: cannot restart the file.")
        return frame

    def close(self) -> None:
        self._reader.release()
