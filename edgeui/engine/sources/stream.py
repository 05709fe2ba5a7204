"""Network streams (rtsp://, http(s):// MJPEG or HLS, ...) through OpenCV's FFmpeg backend.

The backend is named explicitly and given open and read timeouts: without them a dead
server makes ``VideoCapture.read()`` block forever. The read timeout is how long a read may
wait for the next frame, so it is the stall timeout: unless ``read_timeout`` is given, it
follows ``stall_timeout``, which the pipeline sets to its own before opening (a camera
sending a frame every 7 s with a 20 s stall timeout must not fail its read after 5 s).
RTSP goes over TCP by default (UDP loses packets and smears frames on busy Wi-Fi).

FFmpeg says only that an open failed. After a failure (never before: a good open costs
nothing more) the host name is looked up once, for at most ``DNS_CHECK_TIMEOUT`` s, so a
name DNS cannot find is reported as that, not as a refused connection. A URL whose user name
or password holds an unencoded ``#``, ``?`` or ``/`` (``rtsp://admin:p#ss@cam/live``) has
the user name where the host should be: that is said instead, with no lookup.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from urllib.parse import urlsplit

import cv2

from edgeui.engine.sources.base import SourceUnavailable, redact
from edgeui.engine.sources.capture import CaptureReader
from edgeui.engine.types import Frame

_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_env_lock = threading.Lock()  # the FFmpeg options travel in a process-wide variable
DNS_CHECK_TIMEOUT = 2.0  # seconds a failed open waits for the host name's lookup


def open_failure(waited: float, timeout: float) -> str:
    """Word a failed open after what was seen: a quick "no" or a wait that ran out."""
    if waited < min(1.0, timeout / 2):
        return "cannot connect (refused or not reachable)"
    if waited >= timeout * 0.9:
        return f"cannot connect (no answer within {timeout:g} s)"
    return f"cannot connect or no video after {waited:.1f} s"


CREDENTIALS_NEED_ENCODING = ("the user name or password holds a character that must be "
                             "percent-encoded (%23 for #, %3F for ?, %2F for /)")


def misplaced_credentials(url: str) -> bool:
    """Whether an '@' comes after the authority as a URL parser reads it: a user name or
    password holding an unencoded '#', '?' or '/' (which end the authority), so the parsed
    "host" is really the user name."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return False
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    return "@" not in rest[:end] and "@" in rest[end:]


def host_name(url: str) -> str | None:
    """The host name of a URL, or None when it has none or it is an address (1.2.3.4, [::1])."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return None


def name_failure(host: str, timeout: float = DNS_CHECK_TIMEOUT) -> str | None:
    """Why ``host`` cannot be resolved, or None when it resolves, fails otherwise, or its
    lookup takes longer than ``timeout`` (it is then left to finish in the background)."""
    outcome: list[Exception | None] = []

    def look_up() -> None:
        try:
            socket.getaddrinfo(host, None)
        except Exception as exc:  # classified below (a bad name can raise UnicodeError)
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=look_up, name="edgeui-dns-check", daemon=True)
    worker.start()
    worker.join(timeout)
    exc = outcome[0] if outcome else None
    if not isinstance(exc, socket.gaierror):
        return None
    if exc.errno == socket.EAI_AGAIN:
        return f"the host name '{host}' could not be looked up (DNS did not answer)"
    if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
        return f"the host name '{host}' could not be found (DNS)"
    return None


class StreamSource:
    """A network stream; every failure is transient (the pipeline retries with backoff)."""

    live = True

    def __init__(self, uri: str, *, open_timeout: float = 10.0,
                 read_timeout: float | None = None, stall_timeout: float = 5.0,
                 transport: str = "tcp") -> None:
        self.url = str(uri)
        self.uri = redact(self.url)
        self.open_timeout = float(open_timeout)
        # None: follow stall_timeout (the pipeline sets it to its own before each open).
        self.read_timeout = None if read_timeout is None else float(read_timeout)
        self.stall_timeout = float(stall_timeout)
        self.transport = transport
        self._reader = CaptureReader(self.uri)

    def _ffmpeg_options(self) -> str | None:
        user = os.environ.get(_ENV)
        if user is not None:  # the user's own options win
            return user
        if self.url.lower().startswith(("rtsp://", "rtsps://")) and self.transport:
            return f"rtsp_transport;{self.transport}"
        return None

    @property
    def effective_read_timeout(self) -> float:
        """Seconds a read waits for the next frame: ``read_timeout``, else the stall timeout."""
        return self.stall_timeout if self.read_timeout is None else self.read_timeout

    def open(self) -> None:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.effective_read_timeout * 1000),
        ]  # fmt: skip
        options = self._ffmpeg_options()
        with _env_lock:
            previous = os.environ.get(_ENV)
            try:
                if options is not None:
                    os.environ[_ENV] = options
                started = time.monotonic()
                cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
                waited = time.monotonic() - started
            finally:
                if previous is None:
                    os.environ.pop(_ENV, None)
                else:
                    os.environ[_ENV] = previous
        if not cap.isOpened():
            cap.release()
            if misplaced_credentials(self.url):  # the parsed host is the user name
                raise SourceUnavailable(f"{self.uri}: cannot connect: "
                                        f"{CREDENTIALS_NEED_ENCODING}.")
            host = host_name(self.url)
            dns = name_failure(host, min(DNS_CHECK_TIMEOUT, self.open_timeout)) if host else None
            why = f"cannot connect: {dns}" if dns else open_failure(waited, self.open_timeout)
            raise SourceUnavailable(f"{self.uri}: {why}.")
        self._reader.attach(cap)

    def read(self) -> Frame | None:
        ok, frame = self._reader.grab()
        if not ok:
            raise SourceUnavailable(f"{self.uri}: the stream stopped sending frames.")
        return frame

    def close(self) -> None:
        self._reader.release()
