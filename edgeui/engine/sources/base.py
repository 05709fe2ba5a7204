"""The FrameSource protocol, source events, and the ``open_source(uri)`` registry.

A source knows how to open, read and close one kind of input. Recovery (retry, backoff,
stall detection) is not its job: the pipeline's capture thread does that for every kind
alike, driven by two exceptions — ``SourceError`` (permanent: a missing file, a bad URI)
and ``SourceUnavailable`` (transient: a camera not plugged in yet, a dropped stream).
"""

from __future__ import annotations

import importlib
import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from edgeui.engine.types import Frame
from edgeui.errors import SourceError

SOURCE_STATES: tuple[str, ...] = (
    "connecting", "live", "disconnected", "reconnecting", "ended", "failed",
)  # fmt: skip


class SourceUnavailable(SourceError):
    """A transient failure: the device or stream is not there right now; retrying may help."""


class SourceEnded(Exception):
    """Raised by ``read()`` when a finite source (a file, a folder) has nothing more to give."""


@dataclass(frozen=True)
class SourceEvent:
    """A change of a source's state, for the app's status line and the CLI's stderr."""

    state: str  # one of SOURCE_STATES
    message: str
    source: str
    retry_in: float | None = None

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@runtime_checkable
class FrameSource(Protocol):
    """One input of frames. ``read()`` never blocks longer than the source's read timeout.

    ``live`` sources (cameras, streams, paced files) produce frames on their own clock and
    the pipeline drops the ones inference cannot keep up with; sources that are not live
    (an unpaced file or test pattern) are read on demand, so nothing is dropped.
    """

    uri: str
    live: bool

    def open(self) -> None:
        """Open (or reopen) the input; raises SourceError or SourceUnavailable."""
        ...

    def read(self) -> Frame | None:
        """The next frame, or None when nothing new arrived yet (raises SourceUnavailable
        when the input broke, SourceEnded at the end of a finite input)."""
        ...

    def close(self) -> None:
        """Release the device, file or connection; safe to call twice."""
        ...


class FrameMaker:
    """Stamps images into Frames with an id that keeps increasing across reconnects.

    A frame's source is the maker's URI, or ``source`` when given: a folder's frames name
    their own image file, so results can be traced back to it.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self._ids = itertools.count()

    def __call__(self, image: np.ndarray, source: str | None = None) -> Frame:
        return Frame(image, next(self._ids), time.time(), time.monotonic(),
                     self.source if source is None else source)  # fmt: skip


class Pacer:
    """Releases frames at a fixed rate without ever sleeping more than ``max_wait``.

    ``due()`` returns True when the next frame may be produced; otherwise it sleeps a short
    slice and returns False, so a reader can return None and stay responsive to stop().
    """

    def __init__(self, fps: float | None, max_wait: float = 0.05) -> None:
        self.period = 1.0 / fps if fps and fps > 0 else 0.0
        self.max_wait = max_wait
        self._next = 0.0

    def due(self) -> bool:
        if not self.period:
            return True
        now = time.monotonic()
        if now >= self._next:
            # Keep to the ideal times, but never try to catch up a backlog: after a start or
            # a stall the next frame is a whole period away (it was due at once, so a paced
            # source handed out two frames back to back).
            ideal = self._next + self.period
            self._next = ideal if ideal > now else now + self.period
            return True
        time.sleep(min(self._next - now, self.max_wait))
        return False

    def reset(self) -> None:
        self._next = 0.0


# kind -> "module:Class", imported on first use (a registry, not an if/elif chain).
SOURCES: dict[str, str] = {
    "camera": "edgeui.engine.sources.camera:CameraSource",
    "video": "edgeui.engine.sources.video:VideoSource",
    "images": "edgeui.engine.sources.images:ImageSource",
    "stream": "edgeui.engine.sources.stream:StreamSource",
    "synthetic": "edgeui.engine.sources.synthetic:SyntheticSource",
}

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pnm"}
)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
GLOB_CHARS = "*?["


# What may follow the '@' that ends the credentials: a host name (any letters, IDN ones too)
# or address, or an [IPv6] literal, with an optional port, then the end, the path, query or
# fragment, or - in a message - a space or punctuation ("…@cam.lan: cannot connect").
_HOST_AFTER_AT = re.compile(r"(?:\[[^\]\s]+\]|[^/?#@\s:\[\],;]*)(?::\d*)?(?=[/?#\s,;:\]'\")]|$)")


def credentials_end(rest: str) -> int:
    """Where the credentials of a URL end: the index of their closing '@' in ``rest`` (the
    URL after ``://``), or -1 when it holds none. The rule ``redact`` follows, documented
    there."""
    at = last = rest.rfind("@")
    while at > 0:
        before = rest[:at]
        end = min((i for i in (before.find(c) for c in "/?#") if i >= 0), default=len(before))
        if _HOST_AFTER_AT.match(rest, at + 1) and (":" in before[:end] or "/" not in before):
            return at
        at = rest.rfind("@", 0, at)
    # No '@' is followed by a host we can read, but "user:…@" is there: hide up to the last
    # '@' all the same (a password shown is worse than a host hidden).
    if last > 0 and ":" in rest[:min((i for i in (rest.find(c) for c in "/?#") if i >= 0),
                                     default=last)]:
        return last
    return -1


def redact(uri: str) -> str:
    """The URI with any user:password replaced by ``***``, safe for logs, events and JSON lines.

    The credentials are everything from ``://`` up to the last '@' that is followed by a
    host (a name or address, an optional port, then the end, ``/``, ``?`` or ``#``) and
    comes before the host part: the text before that '@' has a ':' before its first ``/``,
    ``?`` or ``#`` (user:password; the password may then hold anything, an unencoded '@',
    '/', '?', '#' or a space included), or it has no ':' and no '/' (a bare user name,
    which may hold '#', '?' or '@'). So ``rtsp://admin:p@ss@cam/live`` shows as
    ``rtsp://***@cam/live`` (FFmpeg and urlsplit split at the last '@' too), and an '@'
    after a path (``http://cam.lan/video?mail=a@b.com``, ``http://cam/snap/a@b.jpg``) is
    left as it is. Where both readings fit, the text is hidden rather than risk a password:
    ``http://cam.lan:8080/snap/a@b.jpg`` reads as user ``cam.lan`` with password
    ``8080/snap/a`` and shows as ``http://***@b.jpg``; so does an '@' in the query of a URL
    with no path (``http://cam.lan?mail=a@b.com``) or after credentials
    (``rtsp://u:pw@cam/x?mail=a@b.com`` shows as ``rtsp://***@b.com``). Every ``://`` in
    the text is handled this way (a URL inside a query keeps its password hidden too).
    """
    out: list[str] = []
    pos = 0
    while (mark := uri.find("://", pos)) >= 0:
        start = mark + 3
        at = credentials_end(uri[start:])
        out.append(uri[pos:start])
        if at >= 0:
            out.append("***")
            start += at
        pos = start
    out.append(uri[pos:])
    return "".join(out)


def strip_file_scheme(uri: str) -> str:
    """``file:clip.mp4`` and ``file:///data/clip.mp4`` as the plain path they name (any
    letter case of ``file:``); any other text unchanged."""
    text = str(uri).strip()
    if text[:5].lower() == "file:":
        return text[5:].removeprefix("//")
    return text


def file_not_found(uri: str) -> str:
    """"URI: file not found; ..." for a local file that is not there. A name that starts like
    the test pattern (``synthetic@5``, ``Synthetic``) is most likely a mistyped one."""
    if str(uri).strip().lower().startswith("synthetic"):
        return (f"{uri}: file not found; for the test pattern write synthetic or "
                "synthetic:WIDTHxHEIGHT@FPS, like synthetic:640x480@5.")
    return f"{uri}: file not found; check the path."


def is_pattern(path: str) -> bool:
    """Whether a local path is a glob pattern: it has glob characters (``*?[``) and no file
    or folder has that very name. An existing ``clip[1].mp4`` or ``run[3]/`` is always the
    file or folder itself."""
    return any(ch in path for ch in GLOB_CHARS) and not Path(path).expanduser().exists()


def is_synthetic(uri: str) -> bool:
    """Whether ``uri`` names the test pattern: ``synthetic``, ``synthetic:WxH[@FPS]`` or
    ``synthetic@FPS``."""
    return uri == "synthetic" or uri.startswith(("synthetic:", "synthetic@"))


def source_kind(uri: str) -> str:
    """Which registry entry handles ``uri`` (raises SourceError when none does)."""
    text = str(uri).strip()
    if not text:
        raise SourceError("empty source; give a camera index, a file, a folder or a URL.")
    if text.isdigit() or text.startswith(("camera:", "/dev/video", "/dev/v4l/")):
        return "camera"
    if is_synthetic(text):
        return "synthetic"
    m = _SCHEME.match(text)
    if m and len(m.group(1)) > 1:  # "C:\..." is a Windows drive, not a scheme
        scheme = m.group(1).lower()
        if scheme in STREAM_SCHEMES:
            return "stream"
        if scheme == "file":
            return source_kind(strip_file_scheme(text))
        raise SourceError(
            f"{redact(text)}: unknown source scheme '{scheme}:'; use a camera, a file, a folder, "
            "rtsp://, http(s):// or synthetic."
        )
    if is_pattern(text) or Path(text).expanduser().is_dir():
        return "images"
    if Path(text).suffix.lower() in IMAGE_SUFFIXES:
        return "images"
    return "video"


def open_source(uri: str | int, **options: Any) -> FrameSource:
    """Make the source for a URI or path; it is not opened yet (``open()`` does that).

    A local file or folder that does not exist raises SourceError here, at once.
    Options are passed to the source's constructor (e.g. ``loop=True``, ``fps=10``,
    ``width=1280``, ``read_timeout=5``); unknown options raise SourceError.
    """
    text = strip_file_scheme(str(uri))
    kind = source_kind(text)
    module_name, cls_name = SOURCES[kind].split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    try:
        return cls(text, **options)
    except TypeError as exc:
        raise SourceError(f"{redact(text)}: unsupported option for a {kind} source ({exc}).") \
            from exc
