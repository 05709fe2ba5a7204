"""QA pass 5: a stream host that DNS cannot find is named; cameras follow the stall timeout."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import ClassVar

import cv2
import pytest

from edgeui.engine.pipeline import Pipeline
from edgeui.engine.sources import open_source
from edgeui.engine.sources import stream as stream_module
from edgeui.engine.sources.base import SourceUnavailable
from edgeui.engine.sources.camera import CameraSource

# --- streams: a host name that does not resolve ----------------------------------------------


class ClosedCapture:
    """cv2.VideoCapture stand-in that fails to open at once, like FFmpeg on a bad host."""

    def __init__(self, *_args: object) -> None:
        pass

    def isOpened(self) -> bool:
        return False

    def release(self) -> None:
        pass


def _open_error(monkeypatch, url: str) -> str:
    monkeypatch.setattr("edgeui.engine.sources.stream.cv2.VideoCapture", ClosedCapture)
    source = open_source(url)
    with pytest.raises(SourceUnavailable) as info:
        source.open()
    return str(info.value)


def _no_such_name(host, *_args, **_kw):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_a_host_that_dns_cannot_find_is_named(monkeypatch):
    looked_up: list[str] = []

    def fake(host, *args, **kw):
        looked_up.append(host)
        return _no_such_name(host)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    message = _open_error(monkeypatch, "http://no-such-host.invalid/stream")
    assert looked_up == ["no-such-host.invalid"]
    assert message == ("http://no-such-host.invalid/stream: cannot connect: the host name "
                       "'no-such-host.invalid' could not be found (DNS).")
    assert "refused" not in message


def test_a_real_invalid_name_is_reported_as_not_found():
    # `.invalid` never resolves (RFC 6761); the lookup answers without the network.
    try:
        socket.getaddrinfo("no-such-host.invalid", None)
    except socket.gaierror as exc:
        if exc.errno != socket.EAI_NONAME:
            pytest.skip(f"this resolver answers {exc!r} for .invalid")
    else:
        pytest.skip("this resolver resolves .invalid")
    source = open_source("rtsp://user:secret@no-such-host.invalid:554/live", open_timeout=3)
    with pytest.raises(SourceUnavailable) as info:
        source.open()
    assert str(info.value) == ("rtsp://***@no-such-host.invalid:554/live: cannot connect: the "
                               "host name 'no-such-host.invalid' could not be found (DNS).")


def test_a_dns_server_that_does_not_answer_is_said_so(monkeypatch):
    def again(host, *_args, **_kw):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", again)
    message = _open_error(monkeypatch, "rtsp://cam.example/live")
    assert message == ("rtsp://cam.example/live: cannot connect: the host name 'cam.example' "
                       "could not be looked up (DNS did not answer).")


def test_a_host_that_resolves_keeps_the_connection_wording(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                          ("192.0.2.1", 0))])
    message = _open_error(monkeypatch, "http://cam.example/mjpeg")
    assert message == "http://cam.example/mjpeg: cannot connect (refused or not reachable)."


def test_an_address_is_not_looked_up(monkeypatch):
    def boom(*_a, **_k):
        raise AssertionError("an IP address needs no lookup")

    monkeypatch.setattr(socket, "getaddrinfo", boom)
    for url in ("http://127.0.0.1:9/x", "rtsp://[::1]:9/x"):
        assert _open_error(monkeypatch, url) == f"{url}: cannot connect (refused or not reachable)."


def test_a_lookup_that_hangs_is_not_waited_for(monkeypatch):
    release = threading.Event()
    started = threading.Event()

    def hang(*_a, **_k):
        started.set()
        release.wait(30)
        raise socket.gaierror(socket.EAI_NONAME, "too late")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    monkeypatch.setattr(stream_module, "DNS_CHECK_TIMEOUT", 0.05)
    t0 = time.monotonic()
    try:
        message = _open_error(monkeypatch, "http://slow-dns.example/x")
    finally:
        release.set()
    assert started.is_set()
    assert time.monotonic() - t0 < 5
    assert message == "http://slow-dns.example/x: cannot connect (refused or not reachable)."


def test_the_lookup_happens_only_after_a_failed_open(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: calls.append(host))

    class OpenCapture(ClosedCapture):
        def isOpened(self) -> bool:
            return True

    monkeypatch.setattr("edgeui.engine.sources.stream.cv2.VideoCapture", OpenCapture)
    source = open_source("http://cam.example/mjpeg")
    source.open()
    source.close()
    assert calls == []


# --- cameras: the read timeout follows the stall timeout ----------------------------------------


class FakeCamera:
    """cv2.VideoCapture stand-in for a camera; records what it was asked."""

    made: ClassVar[list[FakeCamera]] = []
    takes_params = True  # False: a backend that refuses open parameters (cv2.error)
    takes_read_timeout = True  # whether set(CAP_PROP_READ_TIMEOUT_MSEC) is supported

    def __init__(self, target, api, params=None) -> None:
        if params is not None and not self.takes_params:
            raise cv2.error("VIDEOIO: unsupported parameters")
        self.target, self.api, self.params = target, api, params
        self.props: dict[int, float] = {}
        FakeCamera.made.append(self)

    def isOpened(self) -> bool:
        return True

    def set(self, prop: int, value: float) -> bool:
        if prop == cv2.CAP_PROP_READ_TIMEOUT_MSEC and not self.takes_read_timeout:
            return False
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.props.get(prop, 0.0)

    def release(self) -> None:
        pass

    def read_timeout_ms(self) -> float | None:
        if self.params is not None and cv2.CAP_PROP_READ_TIMEOUT_MSEC in self.params[::2]:
            i = self.params.index(cv2.CAP_PROP_READ_TIMEOUT_MSEC)
            return self.params[i + 1]
        return self.props.get(cv2.CAP_PROP_READ_TIMEOUT_MSEC)


@pytest.fixture
def fake_camera(monkeypatch):
    FakeCamera.made = []
    monkeypatch.setattr(FakeCamera, "takes_params", True)
    monkeypatch.setattr(FakeCamera, "takes_read_timeout", True)
    monkeypatch.setattr("edgeui.engine.sources.camera.cv2.VideoCapture", FakeCamera)
    monkeypatch.delenv("OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT", raising=False)
    return FakeCamera


def _open(source: CameraSource) -> FakeCamera:
    source.open()
    source.close()
    return FakeCamera.made[-1]


def test_pipeline_gives_a_camera_its_stall_timeout_as_read_timeout(fake_camera):
    source = open_source("0", backend=cv2.CAP_ANY)
    p = Pipeline(None, source, stall_timeout=20)
    assert p._make_source(source, 0) is source
    assert source.stall_timeout == 20
    assert _open(source).read_timeout_ms() == 20000


def test_camera_read_timeout_defaults_to_five_seconds_and_an_explicit_one_wins(fake_camera):
    assert _open(CameraSource("0", backend=cv2.CAP_ANY)).read_timeout_ms() == 5000
    source = CameraSource("0", backend=cv2.CAP_ANY, read_timeout=2.5)
    source.stall_timeout = 20
    assert _open(source).read_timeout_ms() == 2500


def test_a_backend_refusing_open_parameters_gets_the_timeout_set_after(fake_camera):
    fake_camera.takes_params = False
    source = CameraSource("0", backend=cv2.CAP_ANY)
    source.stall_timeout = 12
    cap = _open(source)
    assert cap.params is None
    assert cap.props[cv2.CAP_PROP_READ_TIMEOUT_MSEC] == 12000


def test_v4l2_waits_for_a_frame_as_long_as_the_stall_timeout(fake_camera):
    # V4L2 has no read-timeout property: OpenCV's select() timeout (whole seconds, from the
    # environment) is the knob; a user's own setting is kept.
    fake_camera.takes_params = False
    fake_camera.takes_read_timeout = False
    source = CameraSource("0", backend=cv2.CAP_V4L2)
    source.stall_timeout = 7.5
    _open(source)
    assert os.environ["OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT"] == "8"


def test_v4l2_keeps_the_users_select_timeout(fake_camera, monkeypatch):
    monkeypatch.setenv("OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT", "3")
    source = CameraSource("0", backend=cv2.CAP_V4L2)
    source.stall_timeout = 20
    _open(source)
    assert os.environ["OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT"] == "3"
