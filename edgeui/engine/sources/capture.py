"""Shared plumbing for sources read through ``cv2.VideoCapture`` (files, streams, cameras)."""

from __future__ import annotations

import logging
import os
from typing import Any

import cv2

from edgeui.engine.imageio import as_bgr
from edgeui.engine.sources.base import FrameMaker, SourceUnavailable
from edgeui.engine.types import Frame

log = logging.getLogger(__name__)


def quiet_native_logs(quiet: bool = True) -> None:
    """Keep OpenCV's and FFmpeg's own log lines ("[tcp @ 0x…] Connection refused",
    "[ WARN:0@0.1] global cap.cpp…") off stderr: edgeui reports the same failure in one
    sentence. ``quiet=False`` (--debug) lets OpenCV log everything again.

    FFmpeg's level is read from the environment when the first capture opens, so call this
    before opening one; a level the user set in the environment is kept.
    """
    if quiet:
        os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
        level = cv2.utils.logging.LOG_LEVEL_ERROR
    else:
        level = cv2.utils.logging.LOG_LEVEL_VERBOSE
        os.environ.setdefault("OPENCV_LOG_LEVEL", "VERBOSE")
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "32")  # AV_LOG_INFO
    try:
        cv2.utils.logging.setLogLevel(level)
    except (AttributeError, cv2.error):  # an OpenCV build without the logging module
        log.debug("cv2.utils.logging.setLogLevel unavailable")


class CaptureReader:
    """Owns one ``cv2.VideoCapture``: reads BGR frames and spots repeated buffers.

    Some drivers and demuxers keep returning the last frame when the device or stream is
    gone; when the capture reports a position (POS_MSEC) that does not advance, the frame
    is not new and ``read()`` returns None — the pipeline's stall timer then takes over.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.cap: Any = None
        self.make = FrameMaker(label)
        self._last_pos = -1.0
        self.frames_since_open = 0

    def attach(self, cap: Any) -> None:
        self.release()
        self.cap = cap
        self._last_pos = -1.0
        self.frames_since_open = 0

    def grab(self, check_position: bool = True) -> tuple[bool, Frame | None]:
        """(ok, frame): ok False when the capture failed; frame None when it repeated."""
        if self.cap is None:
            raise SourceUnavailable(f"{self.label}: not open.")
        try:
            ok, image = self.cap.read()
        except cv2.error as exc:
            raise SourceUnavailable(f"{self.label}: read failed ({exc}).") from exc
        if not ok or image is None or image.size == 0:
            return False, None
        if check_position:
            pos = float(self.cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0)
            if pos > 0 and pos == self._last_pos:
                return True, None
            self._last_pos = pos
        self.frames_since_open += 1
        return True, self.make(as_bgr(image))

    def release(self) -> None:
        cap, self.cap = self.cap, None
        if cap is not None:
            try:
                cap.release()
            except cv2.error as exc:  # a dying device may complain; we are closing anyway
                log.debug("%s: release: %s", self.label, exc)
