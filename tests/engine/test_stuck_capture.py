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
    ``None`` frames: it never hangs. Each frame's pixels are its camera's ``mark``. Options:
    the read then raises (an unplugged device), open or close waits for an event, close
    raises."""

    live = True

    def __init__(self, mark: int, frames: int | None, release: threading.Event | None = None,
                 *, uri: str = "fake://cam", raise_after: bool = False,
                 open_hang: threading.Event | None = None,
                 close_hang: threading.Event | None = None, close_raises: bool = False) -> None:
        self.uri = uri
        self.mark, self.frames, self.release = mark, frames, release
        self.raise_after, self.open_hang, self.close_hang = raise_after, open_hang, close_hang
        self.close_raises = close_raises
        self.served = self.opens = 0
        self.closed = threading.Event()
        self.hanging = threading.Event()
        self.make = FrameMaker(self.uri)

    def open(self) -> None:
        self.opens += 1
        if self.open_hang is not None:
            self.hanging.set()
            self.open_hang.wait()

    def read(self):
        if self.frames is not None and self.served >= self.frames:
            self.hanging.set()
            assert self.release is not None
            self.release.wait()  # the driver call that does not come back
            if self.raise_after:
                raise RuntimeError("device gone")
        self.served += 1
        return self.make(np.full((8, 8, 3), self.mark, np.uint8))

    def close(self) -> None:
        if self.close_hang is not None:
            self.close_hang.wait()
        self.closed.set()
        if self.close_raises:
            raise RuntimeError("release failed")


def marks(rec: Recorder) -> set[int]:
    with rec.cond:
        return {int(r.frame.image[0, 0, 0]) for r in rec.results}


def opened_in_turn(monkeypatch: pytest.MonkeyPatch, cameras: list[HangingCamera]) -> Pipeline:
    """A pipeline on "fake://cam" whose every (re)open gives the next of ``cameras`` (the
    last one again once they run out), with a Recorder as ``p.rec``; not started."""
    made: list[HangingCamera] = []

    def open_source(uri: str, **_options):
        made.append(cameras[min(len(made), len(cameras) - 1)])
        return made[-1]

    monkeypatch.setattr(pipeline_module, "open_source", open_source)
    rec = Recorder()
    p = Pipeline(FakeModel(), "fake://cam", stall_timeout=0.05, **FAST, **rec.callbacks())
    p.rec = rec  # type: ignore[attr-defined]
    return p


@pytest.fixture
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stuck = a read longer than 2 x the stall timeout (0.05 s here), with no extra margin.
    monkeypatch.setattr(pipeline_module, "STUCK_READ_MARGIN_S", 0.0)


def test_a_read_that_never_returns_is_reported_and_the_camera_opened_afresh(
        monkeypatch: pytest.MonkeyPatch, quick_watch: None) -> None:
    release = threading.Event()
    cameras = [HangingCamera(1, 3, release), HangingCamera(2, None, release)]
    p = opened_in_turn(monkeypatch, cameras)
    rec = p.rec
    p.start()
    try:
        rec.wait(lambda: any(r.frame.image[0, 0, 0] == 2 for r in rec.results))
        rec.wait(lambda: rec.states()[-1] == "live")  # "live" follows the first frame
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


def test_switches_during_an_open_that_hangs_pile_up_no_opens_and_take_the_newest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenCV's FFmpeg backend opens one file or stream at a time: a fresh thread per switch
    would queue one more open behind the one that hangs (a user trying four dead stream
    addresses waited 31 s for a local video). The open that hangs is waited out (it times
    out by itself); then the newest source asked for is opened, and only that one."""
    timed_out = threading.Event()
    dead = HangingCamera(1, None, uri="rtsp://dead/1", open_hang=timed_out)
    opened: list[str] = []

    def open_source(uri: str, **_options):
        opened.append(uri)
        return dead if uri == "rtsp://dead/1" else HangingCamera(2, None, uri=uri)

    monkeypatch.setattr(pipeline_module, "open_source", open_source)
    rec = Recorder()
    p = Pipeline(FakeModel(), "rtsp://dead/1", **FAST, **rec.callbacks())
    p.start()
    try:
        assert dead.hanging.wait(5)
        for uri in ("rtsp://dead/2", "rtsp://dead/3", "clip.avi"):  # the user tries others
            p.set_source(uri)
        with p._cond:  # as if the open had hung for 10 s: past SWITCH_WAIT_S, not STUCK_OPEN_S
            since, *rest = p._capture_call
            p._capture_call = (since - 10.0, *rest)
        p._watch_capture()
        assert p._stuck_threads == 0 and opened == ["rtsp://dead/1"]  # no open queued up
        timed_out.set()  # the open times out, as FFmpeg's does after 10 s
        rec.wait(lambda: 2 in marks(rec))
        assert opened == ["rtsp://dead/1", "clip.avi"]  # the newest only
        assert "disconnected" not in rec.states()
    finally:
        timed_out.set()
        p.stop()


def test_a_source_whose_password_is_in_its_url_is_named_without_it() -> None:
    p = Pipeline(FakeModel(), None)
    p.set_source("rtsp://admin:hunter2@cam.lan/live")
    assert p.stats().source == "rtsp://***@cam.lan/live"


def test_a_switch_after_a_stuck_read_was_only_reported_still_takes_effect(
        monkeypatch: pytest.MonkeyPatch, quick_watch: None) -> None:
    monkeypatch.setattr(pipeline_module, "SWITCH_WAIT_S", 0.05)
    release = threading.Event()
    first = HangingCamera(1, 2, release)  # an object: it cannot be opened afresh
    rec = Recorder()
    p = Pipeline(FakeModel(), first, stall_timeout=0.05, **FAST, **rec.callbacks())
    p.start()
    try:
        rec.wait(lambda: "disconnected" in rec.states())  # "waiting for it"
        p.set_source(HangingCamera(2, None))  # the user picks another camera
        rec.wait(lambda: 2 in marks(rec))
    finally:
        release.set()
        p.stop()


def test_a_retired_threads_late_close_does_not_hide_the_fresh_threads_stuck_open(
        monkeypatch: pytest.MonkeyPatch, quick_watch: None) -> None:
    monkeypatch.setattr(pipeline_module, "STUCK_OPEN_S", 0.3)
    read_back, open_back = threading.Event(), threading.Event()
    cameras = [HangingCamera(1, 3, read_back, raise_after=True),
               HangingCamera(2, None, open_hang=open_back), HangingCamera(3, None)]
    p = opened_in_turn(monkeypatch, cameras)
    rec = p.rec
    p.start()
    try:
        assert cameras[1].hanging.wait(5)  # the fresh thread is inside the second's open
        read_back.set()  # the first read returns (unplugged): its thread closes the first
        assert cameras[0].closed.wait(5)
        rec.wait(lambda: 3 in marks(rec))  # the open that hangs is still seen, and left
    finally:
        read_back.set()
        open_back.set()
        p.stop()


@pytest.mark.parametrize("by_uri", [True, False])
def test_switching_away_from_a_source_whose_close_hangs_takes_seconds(
        monkeypatch: pytest.MonkeyPatch, by_uri: bool) -> None:
    monkeypatch.setattr(pipeline_module, "SWITCH_WAIT_S", 0.05)
    close_back = threading.Event()
    old = HangingCamera(1, None, uri="fake://a", close_hang=close_back)
    new = HangingCamera(2, None, uri="fake://b")
    monkeypatch.setattr(pipeline_module, "open_source",
                        lambda uri, **_o: old if uri == "fake://a" else new)
    rec = Recorder()
    p = Pipeline(FakeModel(), "fake://a", stall_timeout=2.0, **FAST, **rec.callbacks())
    p.start()
    try:
        rec.wait(lambda: 1 in marks(rec))
        p.set_source("fake://b" if by_uri else new)
        rec.wait(lambda: 2 in marks(rec), timeout=1.5)  # not the 6 s a stuck read waits
        assert "disconnected" not in rec.states()  # nothing to say of a source left
    finally:
        close_back.set()
        p.stop()


def test_a_retired_threads_close_that_raises_ends_nothing(
        monkeypatch: pytest.MonkeyPatch, quick_watch: None) -> None:
    read_back = threading.Event()
    cameras = [HangingCamera(1, 3, read_back, raise_after=True, close_raises=True),
               HangingCamera(2, None)]
    p = opened_in_turn(monkeypatch, cameras)
    rec = p.rec
    p.start()
    try:
        rec.wait(lambda: 2 in marks(rec))
        read_back.set()
        assert cameras[0].closed.wait(5)
        rec.wait(lambda: p._stuck_threads == 0)  # the retired thread has left
        n = len(rec.results)
        rec.wait(lambda: len(rec.results) >= n + 3)  # and inference goes on
        assert not p._ended
    finally:
        read_back.set()
        p.stop()


def test_a_source_named_by_uri_with_options_is_opened_with_them_each_time(
        monkeypatch: pytest.MonkeyPatch, quick_watch: None) -> None:
    """The app's cameras come with options (--camera-size): given as URI and options, not
    as a built object, a stuck one can still be opened afresh, with the same options."""
    release = threading.Event()
    cameras = [HangingCamera(1, 3, release), HangingCamera(2, None)]
    calls: list[tuple[str, dict]] = []

    def open_source(uri: str, **options):
        calls.append((uri, options))
        return cameras[min(len(calls) - 1, 1)]

    monkeypatch.setattr(pipeline_module, "open_source", open_source)
    rec = Recorder()
    p = Pipeline(FakeModel(), None, stall_timeout=0.05, **FAST, **rec.callbacks())
    p.set_source("0", {"width": 1280, "height": 720})
    p.start()
    try:
        rec.wait(lambda: 2 in marks(rec))
        assert calls == [("0", {"width": 1280, "height": 720})] * 2
    finally:
        release.set()
        p.stop()
