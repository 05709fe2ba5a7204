"""Network streams (rtsp://, http(s):// MJPEG or HLS, ...) through OpenCV's FFmpeg backend.

The backend is named explicitly and given open and read timeouts: without them a dead
server makes ``VideoCapture.read()`` block forever. The read timeout is how long a read may
wait for the next frame, so it is the stall timeout: unless ``read_timeout`` is given, it
follows ``stall_timeout``, which the pipeline sets to its own before opening (a camera
sending a frame every 7 s with a 20 s stall timeout must not fail its read after 5 s).
RTSP goes over TCP by default (UDP loses packets and smears frames on busy Wi-Fi): that is
OpenCV's own default (``rtsp_flags=prefer_tcp``: TCP first, UDP only if the server refuses
TCP), so a default open writes nothing. OpenCV's FFmpeg backend takes no open parameter for
the transport (only timeouts, thread count and hardware decoding); another ``transport``
(``udp``, ``http``, ...) can only travel in ``OPENCV_FFMPEG_CAPTURE_OPTIONS``, which FFmpeg
reads at every open. Only such a source writes it, under a lock and only when its value
changes, and never over a value the user set; as any setenv from a worker thread, that write
can race with C code reading the environment in other threads, which a default source never
risks.

FFmpeg says only that an open failed. After a failure (never before: a good open costs
nothing more) the host name is looked up once, for at most ``DNS_CHECK_TIMEOUT`` s, so a
name DNS cannot find is reported as that, not as a refused connection. A URL whose password
holds an unencoded ``#``, ``?`` or ``/`` (``rtsp://admin:p#ss@cam/live``) has the user name
where the host should be: that is said instead, with no lookup (see ``misplaced_credentials``
for when an '@' after the host reads as that).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import threading
import time
from urllib.parse import urlsplit

import cv2

from edgeui.engine.sources.base import SourceUnavailable, credentials_end, redact
from edgeui.engine.sources.capture import CaptureReader
from edgeui.engine.types import Frame

_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_env_lock = threading.Lock()  # held by the opens that need the variable to hold our value
_env_written: str | None = None  # what this module last wrote there (None: nothing of ours)
DNS_CHECK_TIMEOUT = 2.0  # seconds a failed open waits for the host name's lookup


def open_failure(waited: float, timeout: float) -> str:
    """Word a failed open after what was seen: a quick "no" or a wait that ran out."""
    if waited < min(1.0, timeout / 2):
        return "cannot connect (refused or not reachable)"
    if waited >= timeout * 0.9:
        return f"cannot connect (no answer within {timeout:g} s)"
    return f"cannot connect or no video after {waited:.1f} s"


# What to do after a failed open that was not a name lookup (refused, no answer, no video).
CONNECT_HINT = "check the address and port, and that the camera is on and on this network"
DNS_HINT = "check the spelling, or give the camera's IP address instead"
CREDENTIALS_NEED_ENCODING = ("the user name or password holds a character that must be "
                             "percent-encoded (%23 for #, %3F for ?, %2F for /)")


_HOST_PORT = re.compile(r"[A-Za-z0-9._~%-]+:\d+")
_HOST_THEN_PATH = re.compile(r"(?:\[[^\]\s]+\]|[^/?#@\s:]+)(?::\d+|/)")


def misplaced_credentials(url: str) -> bool:
    """Whether the URL plausibly has credentials past the authority a URL parser reads: a
    password holding an unencoded '#', '?' or '/' (which end the authority), so the parsed
    "host" is really the user name.

    Plausible means: the credentials ``redact`` finds end past the authority (so an '@' in a
    path or in the query of ``http://cam.lan/video?mail=a@b.com`` never counts, and what
    follows the '@' looks like a host), and the parsed authority holds a ':' that is not a
    port before a path (``admin:p#ss``, not ``cam.lan:8080/``), or it is a bare user name cut
    at a '#' (a fragment never reaches a server; ``cam.lan?mail=a@b.com`` is a query)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return False
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    at = credentials_end(rest)
    if at < end:  # none, or inside the authority: FFmpeg reads them right
        return False
    authority = rest[:end]
    if ":" in authority:
        if _HOST_PORT.fullmatch(authority) and rest[end] == "/":
            # "cam:8080/snap/a@b.jpg" or "admin:1234/ab@cam/live"? The second only when a
            # host with a port or a path follows the '@' (a camera's address, not a file).
            return bool(_HOST_THEN_PATH.match(rest, at + 1))
        return True
    return rest[end] == "#"


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


def _put_options(options: str | None) -> None:
    """Make ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` hold ``options`` (None: not hold ours), writing
    only when that changes it; a value the user set is left alone. Call with _env_lock held."""
    global _env_written
    current = os.environ.get(_ENV)
    if current is not None and current != _env_written:
        return  # the user's own options win
    if current == options:
        return
    if options is None:
        os.environ.pop(_ENV, None)
    else:
        os.environ[_ENV] = options
    _env_written = options


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
        """The FFmpeg options this open needs in the environment, or None where OpenCV's own
        default serves (TCP first, or no RTSP at all)."""
        if (self.url.lower().startswith(("rtsp://", "rtsps://"))
                and self.transport and self.transport != "tcp"):
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
        if options is None and _env_written is None:  # the common case: nothing to write
            started = time.monotonic()
            cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
            waited = time.monotonic() - started
        else:
            with _env_lock:  # the variable holds this open's value until FFmpeg has read it
                _put_options(options)
                started = time.monotonic()
                cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
                waited = time.monotonic() - started
        if not cap.isOpened():
            cap.release()
            if misplaced_credentials(self.url):  # the parsed host is the user name
                raise SourceUnavailable(f"{self.uri}: cannot connect: "
                                        f"{CREDENTIALS_NEED_ENCODING}.")
            host = host_name(self.url)
            dns = name_failure(host, min(DNS_CHECK_TIMEOUT, self.open_timeout)) if host else None
            why = (f"cannot connect: {dns}; {DNS_HINT}" if dns
                   else f"{open_failure(waited, self.open_timeout)}; {CONNECT_HINT}")
            raise SourceUnavailable(f"{self.uri}: {why}.")
        self._reader.attach(cap)

    def read(self) -> Frame | None:
        ok, frame = self._reader.grab()
        if not ok:
            raise SourceUnavailable(f"{self.uri}: the stream stopped sending frames.")
        return frame

    def close(self) -> None:
        self._reader.release()
