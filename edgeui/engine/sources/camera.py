"""Cameras: an index (``0``), a device path (``/dev/video0``) or ``camera:<name or serial>``.

Opened with the platform's backend (V4L2, Media Foundation, AVFoundation), the requested
size / fps / FOURCC, and a one-frame driver buffer so what we read is what is in front
of the lens now. A camera that is not there is a transient failure: kiosks boot before
their cameras, and cables get pulled.

A read waits for the next frame as long as the stall timeout, like a stream's: unless
``read_timeout`` is given it follows ``stall_timeout``, which the pipeline sets to its own
before opening. The platforms' camera backends (V4L2, AVFoundation, DirectShow, Media
Foundation) take no open parameters: OpenCV does not raise when given some, it fails the open
(logging "can't be used to capture by index") and returns an unopened capture. So cameras
are opened without them, and the read timeout is ``set()`` afterwards, where the backend has
one; only backends whose open reads them (``OPEN_PARAMETER_BACKENDS``) get them at open.
A build of such a backend that cannot take them (FFmpeg without its interrupt callback)
refuses the open at once, before touching the device; so an open with parameters that fails
is tried once more without them only when it failed that fast (well inside the open timeout)
on a backend that has not yet opened a camera with them in this process. A camera that is
not there therefore fails within the open timeout: the retry without parameters would have
no timeout at all (FFmpeg waits about 30 s, GStreamer without end).

V4L2 has no read-timeout property, only OpenCV's select() timeout, read from
``OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT`` (whole seconds) once per process: the entry points
(``edgeui run``/``bench``, the app) call ``configure_v4l_select_timeout`` once, on the main
thread, before any capture thread starts (setenv races with C code reading the environment
in other threads); a value the user set is kept, and a stall timeout changed later does not
change V4L2's wait.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import threading
from pathlib import Path
from time import monotonic
from typing import Any

import cv2

from edgeui.engine.sources import devices
from edgeui.engine.sources.base import SourceUnavailable
from edgeui.engine.sources.capture import CaptureReader
from edgeui.engine.types import Frame
from edgeui.errors import SourceError

log = logging.getLogger(__name__)

V4L_SELECT_TIMEOUT_ENV = "OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT"
_v4l_select_configured = False  # configure_v4l_select_timeout ran (it acts once per process)

# Backends whose open() reads CAP_PROP_OPEN_TIMEOUT_MSEC / CAP_PROP_READ_TIMEOUT_MSEC. Any
# other gets no open parameters: OpenCV would fail its open rather than raise.
OPEN_PARAMETER_BACKENDS = frozenset({cv2.CAP_FFMPEG, cv2.CAP_GSTREAMER})
OPEN_TIMEOUT = 5.0  # seconds an open with parameters may take
# An open refused for its parameters returns before any I/O; one that failed later than this
# (or at OPEN_TIMEOUT) reached the device with its timeout in force.
PARAMETER_REFUSAL_S = 0.5
_takes_open_parameters: set[int] = set()  # backends that opened a camera with parameters
# A frame rate read back within this of the one asked for is the one asked for (drivers
# report 29.97 for 30, or the nearest interval they can time).
_FPS_TOLERANCE = 0.5
_SIZE = re.compile(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*")
_SIZE_LIMITS = (16, 16384)
_FPS_MAX = 1000.0
# Formats drivers name in capitals: "mjpg" means MJPG (V4L2 codes are case-sensitive).
_CAPITAL_FORMATS = frozenset({"MJPG", "YUYV", "UYVY", "NV12", "NV21", "YU12", "YV12", "GREY",
                              "H264", "H265", "HEVC", "RGB3", "BGR3", "Y16", "Z16", "BA81"})


def parse_camera_size(text: str) -> tuple[int, int]:
    """``1280x720`` -> (1280, 720); one clear error for anything else."""
    low, high = _SIZE_LIMITS
    m = _SIZE.fullmatch(str(text))
    if not m:
        raise SourceError(f"{text}: a camera frame size is WIDTHxHEIGHT, like 1280x720.")
    if not all(low <= int(v) <= high for v in m.groups()):
        raise SourceError(f"{text}: a camera frame size is between {low}x{low} and "
                          f"{high}x{high}.")
    return int(m.group(1)), int(m.group(2))


def check_camera_fps(value: float) -> float:
    """A frame rate above 0 and at most 1000, else one clear error."""
    fps = float(value)
    if not 0 < fps <= _FPS_MAX:  # NaN fails this too
        raise SourceError(f"{value}: a camera frame rate is above 0 and at most {_FPS_MAX:g}, "
                          "like 30.")
    return fps


def check_pixel_format(text: str) -> str:
    """A FOURCC as drivers name pixel formats (MJPG, YUYV, NV12; "Y16" for "Y16 "), else one
    clear error."""
    code = str(text).strip()
    if not 1 <= len(code) <= 4 or not code.isascii() or not code.isprintable() \
            or " " in code:  # fmt: skip
        raise SourceError(f"{text}: a pixel format is up to four characters, like MJPG or "
                          "YUYV.")
    if code.upper() in _CAPITAL_FORMATS:
        code = code.upper()
    return code.ljust(4)  # drivers pad short codes with spaces


def camera_request(size: str | None = None, fps: float | None = None,
                   pixel_format: str | None = None) -> dict[str, Any]:
    """``open_source`` options that ask a camera for a frame size, rate and pixel format
    (only those given)."""
    options: dict[str, Any] = {}
    if size:
        options["width"], options["height"] = parse_camera_size(size)
    if fps:
        options["fps"] = check_camera_fps(fps)
    if pixel_format:
        options["fourcc"] = check_pixel_format(pixel_format)
    return options


def fourcc_text(value: float) -> str:
    """CAP_PROP_FOURCC's number as its characters ("" when the backend does not say)."""
    return devices.fourcc_name(int(value))


class CameraSource:
    """A local camera (live: frames inference cannot keep up with are dropped)."""

    live = True

    def __init__(self, uri: str, *, width: int | None = None, height: int | None = None,
                 fps: float | None = None, fourcc: str | None = None,
                 read_timeout: float | None = None, stall_timeout: float = 5.0,
                 backend: int | None = None) -> None:
        self.uri = str(uri)
        self.width, self.height, self.fps = width, height, fps
        self.fourcc = None if fourcc is None else check_pixel_format(fourcc)
        self._told_mismatch = False  # a camera that reconnects says it once, not every open
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
            raise SourceUnavailable(f"{text}: the device is not connected (see `edgeui "
                                    "sources`).")
        return text

    def open(self) -> None:
        target = self._target()
        api = self.backend if self.backend is not None else devices.backend()
        read_ms = int(self.effective_read_timeout * 1000)
        cap = None
        if api in OPEN_PARAMETER_BACKENDS:
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(OPEN_TIMEOUT * 1000),
                      cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_ms]  # fmt: skip
            started = monotonic()
            cap = cv2.VideoCapture(target, api, params)
            waited = monotonic() - started
            if cap.isOpened():
                _takes_open_parameters.add(api)
            else:
                cap.release()
                # Maybe the parameters (OpenCV only logs why): only a refusal that came at
                # once, from a backend not known to take them, is tried again without them.
                refused = (api not in _takes_open_parameters
                           and waited < min(PARAMETER_REFUSAL_S, OPEN_TIMEOUT / 2))
                if not refused:
                    raise SourceUnavailable(self._not_open())
                cap = None
        if cap is None:
            cap = cv2.VideoCapture(target, api)
            if cap.isOpened() and not cap.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_ms):
                log.debug("%s: the backend has no read timeout", self.uri)
        if not cap.isOpened():
            cap.release()
            raise SourceUnavailable(self._not_open())
        # FOURCC first: the driver picks the sizes and rates the format allows.
        format_taken = True
        if self.fourcc:
            format_taken = bool(cap.set(cv2.CAP_PROP_FOURCC,
                                        cv2.VideoWriter_fourcc(*self.fourcc)))
        if self.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        if self.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        if self.fps:
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # minimal driver queue: newest frame, least lag
        self._tell_mismatch(cap, format_taken)
        self._reader.attach(cap)

    def _tell_mismatch(self, cap: Any, format_taken: bool = True) -> None:
        """Warn once when the camera does not give the size, rate or format asked for (the
        driver picks the nearest it has, silently)."""
        if self._told_mismatch:
            return
        differs: list[str] = []
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if w and h and (self.width or self.height) and \
                (w != (self.width or w) or h != (self.height or h)):  # fmt: skip
            asked = f"{self.width or w}x{self.height or h}"
            differs.append(f"{w}x{h} instead of {asked}")
        rate = cap.get(cv2.CAP_PROP_FPS)
        if self.fps and rate > 0 and abs(rate - self.fps) > _FPS_TOLERANCE:
            differs.append(f"{rate:g} fps instead of {self.fps:g}")
        asked_format = (self.fourcc or "").strip()
        got_format = fourcc_text(cap.get(cv2.CAP_PROP_FOURCC))
        if asked_format and got_format and got_format != asked_format:
            # V4L2 refuses a format the camera lacks and keeps the one it had.
            differs.append(f"{got_format} instead of {asked_format}")
        said = []
        if differs:
            said.append(f"{self.uri}: the camera gives {', '.join(differs)}: it does not offer "
                        "what was asked (`edgeui sources` lists what it offers where the "
                        "platform tells).")
        if asked_format and not format_taken and not got_format:
            # Media Foundation and AVFoundation choose the format themselves, by size and rate
            # (their read-back is their own RGB output, or nothing).
            said.append(f"{self.uri}: this camera backend cannot be asked for a pixel format "
                        f"({asked_format} ignored): it picks one for the size and rate asked "
                        "for (--camera-size, --camera-fps).")
        if said:
            self._told_mismatch = True
            for sentence in said:
                log.warning("%s", sentence)

    def _not_open(self) -> str:
        return (f"{self.uri}: cannot open the camera (unplugged, or in use by another "
                "program); check its cable and close any other program using it (`edgeui "
                "sources` lists the cameras).")

    def read(self) -> Frame | None:
        ok, frame = self._reader.grab()
        if not ok:
            raise SourceUnavailable(f"{self.uri}: the camera stopped sending frames "
                                    "(unplugged?).")
        return frame

    def close(self) -> None:
        self._reader.release()


def configure_v4l_select_timeout(seconds: float = 5.0, platform: str = sys.platform) -> None:
    """Let V4L2 cameras wait ``seconds`` (rounded up to whole seconds; 5 is the pipeline's
    default stall timeout) for a frame, through OpenCV's select() timeout.

    Linux only, once per process, and only from the main thread: call it at startup, before
    any capture thread exists (setenv is not safe against getenv in C code running in other
    threads, such as an FFmpeg open or a DNS lookup). OpenCV reads the variable once, so later
    calls change nothing and do nothing. A value the user set in the environment is kept."""
    global _v4l_select_configured
    if _v4l_select_configured or not platform.startswith("linux"):
        return
    if threading.current_thread() is not threading.main_thread():
        log.debug("V4L2 select timeout not set: not on the main thread")
        return
    _v4l_select_configured = True
    if V4L_SELECT_TIMEOUT_ENV not in os.environ:
        os.environ[V4L_SELECT_TIMEOUT_ENV] = str(max(1, math.ceil(seconds)))
