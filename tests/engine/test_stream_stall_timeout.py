"""A stream's read waits as long as the pipeline's stall timeout, not a fixed 5 s."""

from __future__ import annotations

import time

import cv2

from edgeui.engine.pipeline import Pipeline
from edgeui.engine.sources import open_source
from tests.engine.test_pipeline import Recorder
from tests.helpers.fake_model import FakeModel
from tests.helpers.mjpeg_server import MJPEGServer


def _read_timeout_ms(monkeypatch, source) -> int:
    """Open ``source`` with cv2.VideoCapture stubbed out; the read timeout it was given."""
    seen: list[list[int]] = []

    class Cap:
        def __init__(self, _url, _backend, params) -> None:
            seen.append(list(params))

        def isOpened(self) -> bool:
            return True

        def release(self) -> None:
            pass

    monkeypatch.setattr("edgeui.engine.sources.stream.cv2.VideoCapture", Cap)
    source.open()
    source.close()
    params = seen[-1]
    return params[params.index(cv2.CAP_PROP_READ_TIMEOUT_MSEC) + 1]


def test_pipeline_gives_a_stream_its_stall_timeout_as_read_timeout(monkeypatch) -> None:
    source = open_source("rtsp://127.0.0.1:9/cam")
    p = Pipeline(None, source, stall_timeout=20)
    assert p._make_source(source, 0) is source
    assert _read_timeout_ms(monkeypatch, source) == 20_000
    # a URL the pipeline opens itself gets it too; the open timeout stays its own
    made = Pipeline(None, "http://127.0.0.1:9/x.mjpg", stall_timeout=7)._make_source(
        "http://127.0.0.1:9/x.mjpg", 0)
    assert made.open_timeout == 10.0
    assert _read_timeout_ms(monkeypatch, made) == 7_000


def test_an_explicit_read_timeout_still_wins(monkeypatch) -> None:
    source = open_source("rtsp://127.0.0.1:9/cam", read_timeout=2)
    Pipeline(None, source, stall_timeout=20)._make_source(source, 0)
    assert _read_timeout_ms(monkeypatch, source) == 2_000


def test_a_stalled_stream_is_declared_stalled_after_the_stall_timeout_not_5_s() -> None:
    server = MJPEGServer(fps=50)
    server.stall = True  # the connection stays open, frames stop after 3
    server.start()
    rec = Recorder()
    p = Pipeline(FakeModel(), server.url, source_options={"open_timeout": 3},
                 stall_timeout=1, backoff_initial=0.05, **rec.callbacks())
    p.start()
    try:
        rec.wait(lambda: len(rec.results) >= 1, timeout=5)
        last = time.monotonic()
        rec.wait(lambda: "disconnected" in rec.states(), timeout=4)
        waited = time.monotonic() - last
    finally:
        p.stop()
        server.stop()
    assert waited < 3.5  # ~1 s, not FFmpeg's former fixed 5 s


def test_a_slow_stream_stays_live_within_its_stall_timeout() -> None:
    server = MJPEGServer(fps=50).start()  # quick to open (FFmpeg probes a few frames)
    rec = Recorder()
    p = Pipeline(FakeModel(), server.url, source_options={"open_timeout": 3},
                 stall_timeout=4, backoff_initial=0.05, **rec.callbacks())
    p.start()
    try:
        rec.wait(lambda: "live" in rec.states() and len(rec.results) >= 1, timeout=5)
        server.fps = 1 / 1.5  # from now on a frame every 1.5 s
        served = server.served
        rec.wait(lambda: server.served >= served + 3, timeout=6)  # two 1.5 s gaps
        with rec.cond:
            count = len(rec.results)
        rec.wait(lambda: len(rec.results) > count, timeout=3)  # still delivering
    finally:
        p.stop()
        server.stop()
    assert "disconnected" not in rec.states() and "reconnecting" not in rec.states()
    assert p.stats().source_state == "live"
