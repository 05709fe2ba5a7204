"""QA pass 5: a stream host that DNS cannot find is named; cameras follow the stall timeout."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import ClassVar

import cv2
import numpy as np
import pytest

from edgeui.engine.pipeline import Pipeline
from edgeui.engine.sources import camera as camera_module
from edgeui.engine.sources import open_source
from edgeui.engine.sources import stream as stream_module
from edgeui.engine.sources.base import SourceUnavailable
from edgeui.engine.sources.camera import CameraSource
from tests.helpers.fake_capture import UnopenedCapture

# --- streams: a host name that does not resolve ----------------------------------------------


def _open_error(monkeypatch, url: str) -> str:
    monkeypatch.setattr("edgeui.engine.sources.stream.cv2.VideoCapture", UnopenedCapture)
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
                       "'no-such-host.invalid' could not be found (DNS); check the spelling, "
                       "or give the camera's IP address instead.")
    assert "refused" not in message


def test_the_dns_message_keeps_the_credentials_hidden(monkeypatch):
    # Offline: no lookup and no FFmpeg open happen for real.
    monkeypatch.setattr(socket, "getaddrinfo", _no_such_name)
    message = _open_error(monkeypatch, "rtsp://user:secret@no-such-host.invalid:554/live")
    assert message == ("rtsp://***@no-such-host.invalid:554/live: cannot connect: the "
                       "host name 'no-such-host.invalid' could not be found (DNS); check the "
                       "spelling, or give the camera's IP address instead.")


@pytest.mark.parametrize("url", ["rtsp://admin:p#ss@cam.lan/live",
                                 "rtsp://admin:p?ss@cam.lan/live",
                                 "rtsp://admin:ab/cd@cam.lan/live",
                                 "http://ad#min@cam.lan:8080/mjpeg"])
def test_a_password_with_an_unencoded_reserved_character_is_named_not_looked_up(
        monkeypatch, url):
    # urlsplit (and FFmpeg) end the host at the first # ? or /: the "host" would be the
    # user name, which the message must neither look up nor show.
    def boom(*_a, **_k):
        raise AssertionError("no lookup of a host name that is really the user name")

    monkeypatch.setattr(socket, "getaddrinfo", boom)
    message = _open_error(monkeypatch, url)
    assert "admin" not in message and "ad#min" not in message
    assert "p#ss" not in message and "ab/cd" not in message and "p?ss" not in message
    assert message.endswith(": cannot connect: the user name or password holds a character "
                            "that must be percent-encoded (%23 for #, %3F for ?, %2F for /).")
    assert "@cam.lan" in message


@pytest.mark.parametrize(("url", "shown"), [
    ("rtsp://admin:ab/cd@host/live", "rtsp://***@host/live"),
    ("rtsp://admin:p#ss@cam.lan/live", "rtsp://***@cam.lan/live"),
    ("rtsp://admin:p?ss@cam.lan:554/live", "rtsp://***@cam.lan:554/live"),
    ("rtsp://admin:secret@10.0.0.5:554/h264", "rtsp://***@10.0.0.5:554/h264"),
    ("rtsp://viewer@cam.lan/live", "rtsp://***@cam.lan/live"),
    ("http://cam.lan/snap/a@b.jpg", "http://cam.lan/snap/a@b.jpg"),
    # Reads the same as user "cam.lan", password "8080/snap/a": hidden, the safe side.
    ("http://cam.lan:8080/snap/a@b.jpg", "http://***@b.jpg"),
    ("http://cam.lan/mjpeg", "http://cam.lan/mjpeg"),
    # FFmpeg and urlsplit end the credentials at the last '@': the whole password is hidden.
    ("rtsp://admin:p@ss@cam/live", "rtsp://***@cam/live"),
    ("rtsp://admin:p@ss@cam", "rtsp://***@cam"),
    ("rtsp://admin:p@ss:12@10.0.0.5:554/h264", "rtsp://***@10.0.0.5:554/h264"),
    ("rtsp://a@dmin:p@ss@cam.lan/live", "rtsp://***@cam.lan/live"),
    ("rtsp://admin:p@ss/x@cam/live", "rtsp://***@cam/live"),
    ("rtsp://admin:my pass@cam/live", "rtsp://***@cam/live"),
    ("rtsp://my user@cam/live", "rtsp://***@cam/live"),
    ("rtsp://u:p@[::1]:554/x", "rtsp://***@[::1]:554/x"),
    ("rtsp://u:p@ss@", "rtsp://***@"),
    # An '@' after a path is not a credential.
    ("http://cam.lan/video?mail=a@b.com", "http://cam.lan/video?mail=a@b.com"),
    ("http://u:pw@cam.lan:8080/video", "http://***@cam.lan:8080/video"),
    # Both readings fit (password "pw@cam/x?mail=a"): hidden.
    ("rtsp://u:pw@cam/x?mail=a@b.com", "rtsp://***@b.com"),
    ("http://cam.lan?mail=a@b.com", "http://***@b.com"),
    # A URL inside a query keeps its password hidden too.
    ("http://cam/r?to=rtsp://u:p@x/y", "http://cam/r?to=rtsp://***@x/y"),
    ("camera:0", "camera:0"),
    # A host name in any script, and a URL inside a message, end the credentials too.
    ("rtsp://admin:geheim@kamera-büro/live", "rtsp://***@kamera-büro/live"),
    ("rtsp://admin:1234/ab@kamera-büro/live", "rtsp://***@kamera-büro/live"),
    ("rtsp://admin:pw@cam.lan: cannot connect", "rtsp://***@cam.lan: cannot connect"),
    ("x rtsp://admin:pw@cam.lan, retrying", "x rtsp://***@cam.lan, retrying"),
    ("rtsp://admin:pw@cam;x", "rtsp://***@cam;x"),
    # An IPv6 zone id, a stray ']', a list's repr: hidden (a host hidden beats a password shown).
    ("rtsp://admin:pw@[fe80::1%br-lan]:554/live", "rtsp://***@[fe80::1%br-lan]:554/live"),
    ("rtsp://admin:pw@cam]/live", "rtsp://***@cam]/live"),
    ("['rtsp://admin:pw@cam']", "['rtsp://***@cam']"),
    # Nothing after the '@' reads as a host at all: hidden up to the last '@' even so.
    ("rtsp://admin:pw@cam[", "rtsp://***@cam["),
    ("rtsp://u:p@[a b]/x", "rtsp://***@[a b]/x"),
])
def test_redact_hides_the_whole_password_and_nothing_after_a_path(url, shown):
    from edgeui.engine.sources.base import redact

    assert redact(url) == shown


@pytest.mark.parametrize("url", ["http://cam.example/video?mail=a@b.com",
                                 "http://cam.example?mail=a@b.com",
                                 "http://cam.example:8080/snap/a@b.jpg",
                                 "rtsp://cam.example/live@2"])
def test_an_at_sign_after_the_host_is_not_taken_for_a_password(monkeypatch, url):
    # Not plausibly credentials: the host is looked up and its failure named as usual.
    looked_up: list[str] = []

    def fake(host, *args, **kw):
        looked_up.append(host)
        return _no_such_name(host)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    message = _open_error(monkeypatch, url)
    assert looked_up == ["cam.example"]
    assert message.endswith(": cannot connect: the host name 'cam.example' could not be found "
                            "(DNS); check the spelling, or give the camera's IP address "
                            "instead.")


@pytest.mark.parametrize("url", ["rtsp://admin:p@ss/x@cam.lan/live",
                                 "rtsp://admin:1234#@cam.lan/live",
                                 "http://admin:8080?x@cam.lan/mjpeg",
                                 # digits then '/' read like a port, then a camera's address
                                 "rtsp://admin:1234/ab@cam.lan/live",
                                 "rtsp://admin:2024/Cam@192.168.1.5:554/h264",
                                 "rtsp://admin:1234/ab@[fe80::1]:554/live"])
def test_a_password_cut_short_is_still_named(monkeypatch, url):
    monkeypatch.setattr(socket, "getaddrinfo", _no_such_name)
    message = _open_error(monkeypatch, url)
    assert "admin" not in message and "ss/x" not in message
    assert message.endswith("must be percent-encoded (%23 for #, %3F for ?, %2F for /).")


# --- streams: FFmpeg's options without writing the environment from the capture thread -------


class _RecordingEnviron(dict):
    """os.environ stand-in that records every write (setenv from a capture thread races
    with getenv in C code on other threads)."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.writes: list[tuple[str, str | None]] = []  # of OPENCV_FFMPEG_CAPTURE_OPTIONS

    def __setitem__(self, key, value) -> None:
        if key == stream_module._ENV:
            self.writes.append((key, value))
        super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        if key == stream_module._ENV:
            self.writes.append((key, None))
        super().__delitem__(key)

    def pop(self, key, *default):
        if key == stream_module._ENV:
            self.writes.append((key, None))
        return super().pop(key, *default)


def _record_env(monkeypatch) -> _RecordingEnviron:
    env = _RecordingEnviron(os.environ)
    dict.pop(env, stream_module._ENV, None)
    monkeypatch.setattr(os, "environ", env)
    monkeypatch.setattr(stream_module, "_env_written", None)
    return env


@pytest.fixture
def recorded_env(monkeypatch):
    env = _record_env(monkeypatch)
    seen: list[str | None] = []

    class Capture(UnopenedCapture):
        def __init__(self, *args) -> None:
            seen.append(os.environ.get(stream_module._ENV))

    monkeypatch.setattr("edgeui.engine.sources.stream.cv2.VideoCapture", Capture)
    env.seen = seen
    return env


def _fail_open(url: str, **options) -> None:
    with pytest.raises(SourceUnavailable):
        open_source(url, **options).open()


def test_a_default_stream_open_leaves_the_environment_alone(recorded_env):
    _fail_open("rtsp://127.0.0.1:9/live")
    _fail_open("http://127.0.0.1:9/mjpeg")
    assert recorded_env.writes == [] and recorded_env.seen == [None, None]


def test_another_transport_is_written_only_when_the_value_changes(recorded_env):
    env = stream_module._ENV
    _fail_open("rtsp://127.0.0.1:9/live", transport="udp")
    _fail_open("rtsp://127.0.0.1:9/live", transport="udp")
    assert recorded_env.writes == [(env, "rtsp_transport;udp")]
    _fail_open("rtsp://127.0.0.1:9/live")  # TCP again: ours taken back, once
    _fail_open("rtsp://127.0.0.1:9/live")
    assert recorded_env.writes == [(env, "rtsp_transport;udp"), (env, None)]
    assert recorded_env.seen == ["rtsp_transport;udp"] * 2 + [None] * 2


def test_the_users_own_ffmpeg_options_are_never_overwritten(recorded_env):
    dict.__setitem__(recorded_env, stream_module._ENV, "rtsp_transport;http")
    _fail_open("rtsp://127.0.0.1:9/live", transport="udp")
    _fail_open("rtsp://127.0.0.1:9/live")
    assert recorded_env.writes == []
    assert recorded_env.seen == ["rtsp_transport;http"] * 2


def _rtsp_setups(server: socket.socket, transports: list[str]) -> None:
    """A local RTSP server that answers OPTIONS and DESCRIBE, records what transport each
    SETUP asks for and refuses it (461), one connection after another."""
    sdp = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=video 0 RTP/AVP 26\r\na=control:track1\r\n")
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
                while b"\r\n\r\n" in data:
                    head, data = data.split(b"\r\n\r\n", 1)
                    lines = head.decode().split("\r\n")
                    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                    reply = f"RTSP/1.0 200 OK\r\nCSeq: {fields.get('CSeq', '1')}\r\n"
                    method = lines[0].split()[0]
                    if method == "DESCRIBE":
                        reply += (f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}"
                                  f"\r\n\r\n{sdp}")
                    elif method == "SETUP":
                        transports.append(fields.get("Transport", ""))
                        reply = reply.replace("200 OK", "461 Unsupported Transport") + "\r\n"
                    else:
                        reply += "\r\n"
                    conn.sendall(reply.encode())


def test_real_opencv_rtsp_goes_over_tcp_first_and_udp_when_asked(monkeypatch):
    # FFmpeg for real against a local RTSP server: OpenCV's own default (no variable set)
    # asks for TCP first; transport="udp" travels in the variable.
    monkeypatch.delenv(stream_module._ENV, raising=False)
    monkeypatch.setattr(stream_module, "_env_written", None)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(2)
    transports: list[str] = []
    threading.Thread(target=_rtsp_setups, args=(server, transports), daemon=True).start()
    url = f"rtsp://127.0.0.1:{server.getsockname()[1]}/live"
    try:
        # TCP first (FFmpeg falls back to UDP when the server refuses TCP, as this one does)
        assert _first_setup(url, transports).startswith("RTP/AVP/TCP;")
        assert stream_module._ENV not in os.environ
        assert _first_setup(url, transports, transport="udp").startswith("RTP/AVP/UDP;")
        assert os.environ[stream_module._ENV] == "rtsp_transport;udp"
        assert _first_setup(url, transports).startswith("RTP/AVP/TCP;")
        assert stream_module._ENV not in os.environ
    finally:
        server.close()
        os.environ.pop(stream_module._ENV, None)


def _first_setup(url: str, transports: list[str], **options) -> str:
    """The transport the first SETUP of a (failing) open asked for."""
    before = len(transports)
    with pytest.raises(SourceUnavailable):
        open_source(url, open_timeout=3, **options).open()
    return transports[before]


def test_real_opencv_a_stream_open_takes_its_timeouts_as_parameters(tmp_path, monkeypatch):
    # The parameters StreamSource passes are ones OpenCV 5's FFmpeg backend accepts (an
    # unknown one fails the open): a local file opens through the same call and reads.
    recorded_env = _record_env(monkeypatch)
    source = stream_module.StreamSource(_mjpeg_avi(tmp_path / "clip.avi"), open_timeout=3)
    source.open()
    try:
        frame = source.read()
    finally:
        source.close()
    assert frame is not None and frame.image.shape == (48, 64, 3)
    assert recorded_env.writes == []


def test_a_dns_server_that_does_not_answer_is_said_so(monkeypatch):
    def again(host, *_args, **_kw):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", again)
    message = _open_error(monkeypatch, "rtsp://cam.example/live")
    assert message == ("rtsp://cam.example/live: cannot connect: the host name 'cam.example' "
                       "could not be looked up (DNS did not answer); check the spelling, or "
                       "give the camera's IP address instead.")


def test_a_host_that_resolves_keeps_the_connection_wording(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                          ("192.0.2.1", 0))])
    message = _open_error(monkeypatch, "http://cam.example/mjpeg")
    assert message == ("http://cam.example/mjpeg: cannot connect (refused or not reachable); "
                       "check the address and port, and that the camera is on and on this "
                       "network.")


def test_an_address_is_not_looked_up(monkeypatch):
    def boom(*_a, **_k):
        raise AssertionError("an IP address needs no lookup")

    monkeypatch.setattr(socket, "getaddrinfo", boom)
    for url in ("http://127.0.0.1:9/x", "rtsp://[::1]:9/x"):
        assert _open_error(monkeypatch, url) == (
            f"{url}: cannot connect (refused or not reachable); check the address and port, "
            "and that the camera is on and on this network.")


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
    assert message.startswith("http://slow-dns.example/x: cannot connect (refused or not "
                              "reachable); check the address and port")


def test_the_lookup_happens_only_after_a_failed_open(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: calls.append(host))

    class OpenCapture(UnopenedCapture):
        def isOpened(self) -> bool:
            return True

    monkeypatch.setattr("edgeui.engine.sources.stream.cv2.VideoCapture", OpenCapture)
    source = open_source("http://cam.example/mjpeg")
    source.open()
    source.close()
    assert calls == []


# --- cameras: the read timeout follows the stall timeout ----------------------------------------


class FakeCamera:
    """cv2.VideoCapture stand-in for a camera; records what it was asked. Like real OpenCV, a
    backend that takes no open parameters never raises: the open fails (OpenCV only logs it)
    and an unopened capture comes back."""

    made: ClassVar[list[FakeCamera]] = []
    takes_params = True  # False: open parameters make the open fail (applyParametersFallback)
    takes_read_timeout = True  # whether set(CAP_PROP_READ_TIMEOUT_MSEC) is supported
    present = True  # False: no camera there, every open fails

    def __init__(self, target, api, params=None) -> None:
        self.target, self.api, self.params = target, api, params
        self.opened = self.present and (params is None or self.takes_params)
        self.props: dict[int, float] = {}
        self.released = False
        FakeCamera.made.append(self)

    def isOpened(self) -> bool:
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        if prop == cv2.CAP_PROP_READ_TIMEOUT_MSEC and not self.takes_read_timeout:
            return False
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.props.get(prop, 0.0)

    def release(self) -> None:
        self.released = True

    def read_timeout_ms(self) -> float | None:
        if self.params is not None and cv2.CAP_PROP_READ_TIMEOUT_MSEC in self.params[::2]:
            i = self.params.index(cv2.CAP_PROP_READ_TIMEOUT_MSEC)
            return self.params[i + 1]
        return self.props.get(cv2.CAP_PROP_READ_TIMEOUT_MSEC)


@pytest.fixture
def isolated_v4l_env(monkeypatch):
    """OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT unset for the test and restored after it, whatever
    the code under test writes (setenv first, so monkeypatch records the value to restore),
    and camera.py's once-per-process flag reset."""
    monkeypatch.setenv(camera_module.V4L_SELECT_TIMEOUT_ENV, "placeholder")
    monkeypatch.delenv(camera_module.V4L_SELECT_TIMEOUT_ENV)
    monkeypatch.setattr(camera_module, "_v4l_select_configured", False)


@pytest.fixture
def fake_camera(monkeypatch, isolated_v4l_env):
    FakeCamera.made = []
    monkeypatch.setattr(FakeCamera, "takes_params", True)
    monkeypatch.setattr(FakeCamera, "takes_read_timeout", True)
    monkeypatch.setattr(FakeCamera, "present", True)
    monkeypatch.setattr(camera_module, "_takes_open_parameters", set())
    monkeypatch.setattr("edgeui.engine.sources.camera.cv2.VideoCapture", FakeCamera)
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


@pytest.mark.parametrize("backend", ["CAP_V4L2", "CAP_AVFOUNDATION", "CAP_DSHOW", "CAP_MSMF",
                                     "CAP_ANY"])
def test_platform_camera_backends_open_without_open_parameters(fake_camera, backend):
    # They take none: OpenCV would fail the open (V4L2, AVFoundation, DirectShow) or ignore
    # them. The read timeout is set after the open where the backend has one.
    fake_camera.takes_params = False
    source = CameraSource("0", backend=getattr(cv2, backend))
    source.stall_timeout = 12
    source.open()
    source.close()
    assert [cap.params for cap in FakeCamera.made] == [None]
    assert FakeCamera.made[0].props[cv2.CAP_PROP_READ_TIMEOUT_MSEC] == 12000


def test_a_backend_without_a_read_timeout_still_opens(fake_camera):
    fake_camera.takes_params = False
    fake_camera.takes_read_timeout = False
    cap = _open(CameraSource("0", backend=cv2.CAP_V4L2))
    assert cap.isOpened() and cap.params is None


def test_ffmpeg_gets_the_timeouts_as_open_parameters(fake_camera):
    source = CameraSource("0", backend=cv2.CAP_FFMPEG)
    source.stall_timeout = 7
    cap = _open(source)
    assert cap.params is not None and cap.read_timeout_ms() == 7000
    assert len(FakeCamera.made) == 1


def test_an_open_that_fails_with_parameters_is_tried_again_without(fake_camera):
    fake_camera.takes_params = False  # e.g. an FFmpeg build without the interrupt callback
    source = CameraSource("0", backend=cv2.CAP_FFMPEG)
    source.stall_timeout = 9
    cap = _open(source)
    first, second = FakeCamera.made
    assert first.params is not None and first.released
    assert cap is second and second.params is None and second.isOpened()
    assert second.props[cv2.CAP_PROP_READ_TIMEOUT_MSEC] == 9000


def test_an_absent_camera_fails_within_the_open_timeout(fake_camera, monkeypatch):
    # The open with parameters ran into its 5 s open timeout: the parameters were taken, so
    # no retry without them (no open timeout: FFmpeg ~30 s more, GStreamer without end).
    fake_camera.present = False
    monkeypatch.setattr(camera_module, "monotonic", iter([0.0, 5.0]).__next__)
    with pytest.raises(SourceUnavailable, match="cannot open the camera"):
        CameraSource("0", backend=cv2.CAP_FFMPEG).open()
    assert [cap.params is not None for cap in FakeCamera.made] == [True]


def test_a_backend_that_took_the_parameters_is_not_retried_without(fake_camera):
    _open(CameraSource("0", backend=cv2.CAP_GSTREAMER))  # opened with them: it takes them
    fake_camera.present = False  # unplugged: fails at once
    with pytest.raises(SourceUnavailable):
        CameraSource("0", backend=cv2.CAP_GSTREAMER).open()
    assert [cap.params is not None for cap in FakeCamera.made] == [True, True]


def test_real_opencv_an_unanswering_device_fails_within_the_open_timeout(monkeypatch):
    # FFmpeg for real, a local server that accepts and never answers standing in for a device
    # that hangs: the open gives up at the open timeout; without parameters it would wait
    # until the server hung up.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    url = f"http://127.0.0.1:{server.getsockname()[1]}/video"
    monkeypatch.setattr(camera_module, "OPEN_TIMEOUT", 0.5)
    monkeypatch.setattr(camera_module, "_takes_open_parameters", set())
    monkeypatch.setattr(CameraSource, "_target", lambda self: url)
    outcome: list[BaseException | None] = []

    def open_it() -> None:
        try:
            CameraSource("0", backend=cv2.CAP_FFMPEG).open()
        except SourceUnavailable as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    accepted: list[socket.socket] = []
    acceptor = threading.Thread(target=lambda: _accept_all(server, accepted), daemon=True)
    acceptor.start()
    opener = threading.Thread(target=open_it, daemon=True)
    started = time.monotonic()
    opener.start()
    opener.join(10)
    took = time.monotonic() - started
    server.close()
    for conn in accepted:
        conn.close()  # lets an open without a timeout end
    opener.join(10)
    assert took < 5, f"the open took {took:.1f} s"
    assert len(outcome) == 1 and isinstance(outcome[0], SourceUnavailable)


def _accept_all(server: socket.socket, accepted: list[socket.socket]) -> None:
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        accepted.append(conn)


def _mjpeg_avi(path) -> str:
    writer = cv2.VideoWriter(str(path), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter_fourcc(*"MJPG"),
                             10, (64, 48))
    assert writer.isOpened()
    for i in range(3):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    return str(path)


def _first_frame(source: CameraSource):
    source.open()
    try:
        return source.read()
    finally:
        source.close()


def test_real_opencv_a_backend_without_open_parameters_opens_the_device(tmp_path):
    # The real mechanism, with OpenCV's own MJPEG reader standing in for V4L2: given open
    # parameters it cannot take, OpenCV logs and returns an unopened capture, no exception.
    path = _mjpeg_avi(tmp_path / "cam.avi")
    refused = cv2.VideoCapture(path, cv2.CAP_OPENCV_MJPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000])
    assert not refused.isOpened()
    refused.release()
    frame = _first_frame(CameraSource(path, backend=cv2.CAP_OPENCV_MJPEG))
    assert frame is not None and frame.image.shape == (48, 64, 3)


def test_real_opencv_an_open_refusing_parameters_is_retried_without(tmp_path, monkeypatch):
    path = _mjpeg_avi(tmp_path / "cam.avi")
    monkeypatch.setattr(camera_module, "OPEN_PARAMETER_BACKENDS",
                        frozenset({cv2.CAP_OPENCV_MJPEG}))
    assert _first_frame(CameraSource(path, backend=cv2.CAP_OPENCV_MJPEG)) is not None


# --- V4L2's select() timeout: set once, early, on the main thread -----------------------------


def test_opening_a_v4l2_camera_leaves_the_environment_alone(fake_camera):
    before = dict(os.environ)
    source = CameraSource("0", backend=cv2.CAP_V4L2)
    source.stall_timeout = 7.5
    _open(source)
    assert dict(os.environ) == before


def test_v4l2_select_timeout_is_set_once_in_whole_seconds_on_linux(isolated_v4l_env):
    camera_module.configure_v4l_select_timeout(7.5, platform="linux")
    assert os.environ[camera_module.V4L_SELECT_TIMEOUT_ENV] == "8"
    camera_module.configure_v4l_select_timeout(20, platform="linux")  # OpenCV read it: no-op
    assert os.environ[camera_module.V4L_SELECT_TIMEOUT_ENV] == "8"


def test_v4l2_select_timeout_keeps_the_users_value(isolated_v4l_env, monkeypatch):
    monkeypatch.setenv(camera_module.V4L_SELECT_TIMEOUT_ENV, "3")
    camera_module.configure_v4l_select_timeout(20, platform="linux")
    assert os.environ[camera_module.V4L_SELECT_TIMEOUT_ENV] == "3"


def test_v4l2_select_timeout_is_linux_only(isolated_v4l_env):
    for platform in ("win32", "darwin"):
        camera_module.configure_v4l_select_timeout(7, platform=platform)
    assert camera_module.V4L_SELECT_TIMEOUT_ENV not in os.environ


def test_v4l2_select_timeout_is_never_written_from_another_thread(isolated_v4l_env):
    worker = threading.Thread(
        target=camera_module.configure_v4l_select_timeout, args=(7,), kwargs={"platform": "linux"})
    worker.start()
    worker.join()
    assert camera_module.V4L_SELECT_TIMEOUT_ENV not in os.environ
