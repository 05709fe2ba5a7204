"""Recovery end to end: a loopback MJPEG server killed mid-stream, restarted, and stalled."""

from __future__ import annotations

from edgeui.engine.pipeline import Pipeline
from tests.engine.test_pipeline import Recorder
from tests.helpers.fake_model import FakeModel
from tests.helpers.mjpeg_server import MJPEGServer

STREAM = {"open_timeout": 2, "read_timeout": 0.5}


def test_stream_killed_mid_stream_reconnects_when_the_server_returns() -> None:
    server = MJPEGServer(fps=50).start()
    rec = Recorder()
    p = Pipeline(FakeModel(), server.url, source_options=STREAM, stall_timeout=2,
                 backoff_initial=0.05, backoff_max=0.2, **rec.callbacks())
    p.start()
    try:
        rec.wait(lambda: len(rec.results) >= 3)
        server.stop()  # crash: connections dropped, port closed
        rec.wait(lambda: "reconnecting" in rec.states()[rec.states().index("live"):])
        assert "disconnected" in rec.states()
        with rec.cond:
            before = len(rec.results)
            last_id = rec.results[-1].frame.frame_id
        server.start()  # same port
        rec.wait(lambda: rec.states().count("live") >= 2, timeout=10)
        rec.wait(lambda: len(rec.results) >= before + 3, timeout=10)
    finally:
        p.stop()
        server.stop()
    after = rec.results[before:]
    assert after[0].frame.frame_id > last_id  # ids keep increasing across the reconnect
    assert p.stats().source_state == "live"
    retries = [e for e in rec.events if e.state == "reconnecting"]
    assert retries[0].retry_in == 0.05 and "reconnecting in" in retries[0].message


def test_stalled_stream_is_reported_disconnected() -> None:
    server = MJPEGServer(fps=50)
    server.stall = True  # connection stays open, frames stop after 3
    server.start()
    rec = Recorder()
    p = Pipeline(FakeModel(), server.url, source_options=STREAM, stall_timeout=0.5,
                 backoff_initial=0.05, **rec.callbacks())
    p.start()
    try:
        rec.wait(lambda: "disconnected" in rec.states(), timeout=5)
    finally:
        p.stop()
        server.stop()
    assert "live" in rec.states()
    msg = next(e.message for e in rec.events if e.state == "disconnected")
    assert "stopped sending" in msg or "no new frame" in msg
