"""A capture thread stuck in a source call that never returns (a driver or network that does
not answer) is retired: the user is told, a fresh thread opens the source anew, and the stuck
one leaves, closing its source, when its call returns."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from edgeui.engine import pipeline as pipeline_module
from edgeui.engine.pipeline import Pipeline
from edgeui.engine.sources.base import FrameMaker
from tests.engine.test_pipeline import FAST, Recorder
from tests.helpers.fake_model import FakeModel


class HangingCamera:
    """A live source whose read blocks after ``frames`` frames until ``release`` is set;
    ``None`` frames: it never hangs. Each frame's pixels are its camera's ``mark``."""

    live = True

    def __init__(self, mark: int, frames: int | None, release: threading.Event) -> None:
        self.uri = "fake://cam"
        self.mark, self.frames, self.release = mark, frames, release
        self.served = 0
        self.closed = threading.Event()
        self.hanging = threading.Event()
        self.make = FrameMaker(self.uri)

    def open(self) -> None:
        pass

    def read(self):
        if self.frames is not None and self.served >= self.frames:
            self.hanging.set()
            self.release.wait()  # the driver call that does not come back
        self.served += 1
        return self.make(np.full((8, 8, 3), self.mark, np.uint8))

    def close(self) -> None:
        self.closed.set()


@pytest.fixture
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stuck = a read longer than 2 x the stall timeout (0.05 s here), with no extra margin.
    monkeypatch.setattr(pipeline_module, "STUCK_READ_MARGIN_S", 0.0)


def test_a_read_that_never_returns_is_reported_and_the_camera_opened_afresh(
        monkeypatch: pytest.MonkeyPatch, quick_watch: None) -> None:
    release = threading.Event()
    cameras = [HangingCamera(1, 3, release), HangingCamera(2, None, release)]
    made: list[HangingCamera] = []

    def open_source(uri: str, **_options):
        made.append(cameras[len(made)])
        return made[-1]

    monkeypatch.setattr(pipeline_module, "open_source", open_source)
    rec = Recorder()
    p = Pipeline(FakeModel(), "fake://cam", stall_timeout=0.05, **FAST, **rec.callbacks())
    p.start()
    try:
        rec.wait(lambda: any(r.frame.image[0, 0, 0] == 2 for r in rec.results))
        (told,) = [e for e in rec.events if e.state == "disconnected"]
        assert told.message.startswith("fake://cam: a read has not returned for ")
        assert told.message.endswith(" s (the device or the network does not answer); "
                                     "opening it again.")
        assert rec.states()[-2:] == ["connecting", "live"]  # the fresh thread's
        assert not cameras[0].closed.is_set()  # a thread is still inside it
        at_event = len(rec.results)
        release.set()  # the driver answers at last
        assert cameras[0].closed.wait(5)  # the stuck thread closes its camera and leaves
        rec.wait(lambda: len(rec.results) >= at_event + 3)
        with rec.cond:
            late = [r for r in rec.results if r.frame.image[0, 0, 0] == 1]
        assert len(late) <= 3  # only frames from before the hang: its late one is dropped
        assert [e.state for e in rec.events].count("disconnected") == 1
        rec.wait(lambda: p._stuck_threads == 0)
    finally:
        release.set()
        p.stop()


def test_a_source_object_cannot_be_opened_twice_so_the_stuck_read_is_only_reported(
        quick_watch: None) -> None:
    release = threading.Event()
    camera = HangingCamera(1, 2, release)
    rec = Recorder()
    p = Pipeline(FakeModel(), camera, stall_timeout=0.05, **FAST, **rec.callbacks())
    p.start()
    try:
        rec.wait(lambda: "disconnected" in rec.states())
        (told,) = [e for e in rec.events if e.state == "disconnected"]
        assert told.message.endswith("; waiting for it.")
        assert p._stuck_threads == 0  # no second thread inside the same object
        release.set()
        rec.wait(lambda: rec.states()[-1] == "live")  # it carries on once the read returns
        n = len(rec.results)
        rec.wait(lambda: len(rec.results) >= n + 2)
    finally:
        release.set()
        p.stop()


class SlowOpeningStream(HangingCamera):
    """A stream whose open waits (a dead host, no open timeout) until ``release`` is set."""

    def open(self) -> None:
        self.hanging.set()
        self.release.wait()


def test_switching_away_from_a_source_whose_open_hangs_takes_seconds_not_its_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_module, "SWITCH_WAIT_S", 0.05)
    release = threading.Event()
    stuck = SlowOpeningStream(1, None, release)
    fine = HangingCamera(2, None, release)

    def open_source(uri: str, **_options):
        return stuck if uri == "rtsp://dead/x" else fine

    monkeypatch.setattr(pipeline_module, "open_source", open_source)
    rec = Recorder()
    p = Pipeline(FakeModel(), "rtsp://dead/x", **FAST, **rec.callbacks())
    p.start()
    try:
        assert stuck.hanging.wait(5)
        p.set_source("fake://cam")  # the user picks another source meanwhile
        rec.wait(lambda: any(r.frame.image[0, 0, 0] == 2 for r in rec.results))
        assert "disconnected" not in rec.states()  # nothing to report of a source left
        release.set()
        assert stuck.closed.wait(5)  # its open returned: the left thread closes it
    finally:
        release.set()
        p.stop()
