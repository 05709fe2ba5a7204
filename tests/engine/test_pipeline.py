"""Pipeline semantics with fake models and fake sources: latest frame, recovery, control."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edgeui.engine.pipeline import STAGES, FrameResult, Pipeline
from edgeui.engine.sources import SourceEnded, SourceEvent, SourceUnavailable
from edgeui.engine.sources.base import FrameMaker
from edgeui.engine.stats import Percentiles
from edgeui.errors import ModelLoadError, SourceError
from tests.helpers.fake_model import FakeModel

FAST = {"backoff_initial": 0.01, "backoff_max": 0.04}


class Recorder:
    """Collects results and events; lets a test wait for a condition without sleeping."""

    def __init__(self) -> None:
        self.results: list[FrameResult] = []
        self.events: list[SourceEvent] = []
        self.errors: list[Exception] = []
        self.models: list[object] = []
        self.cond = threading.Condition()

    def on_result(self, fr: FrameResult) -> None:
        with self.cond:
            self.results.append(fr)
            self.cond.notify_all()

    def on_event(self, ev: SourceEvent) -> None:
        with self.cond:
            self.events.append(ev)
            self.cond.notify_all()

    def on_error(self, exc: Exception) -> None:
        with self.cond:
            self.errors.append(exc)
            self.cond.notify_all()

    def on_model(self, model: object) -> None:
        with self.cond:
            self.models.append((model, threading.get_ident()))
            self.cond.notify_all()

    def wait(self, predicate, timeout: float = 5.0) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), "timed out waiting"

    def states(self) -> list[str]:
        return [e.state for e in self.events]

    def callbacks(self) -> dict:
        return {"on_result": self.on_result, "on_event": self.on_event,
                "on_error": self.on_error, "on_model": self.on_model}


class ScriptedSource:
    """A live fake source: open() fails ``unavailable`` times; then frames, or a stall."""

    live = True

    def __init__(self, unavailable: int = 0, frames_then_stall: int | None = None,
                 permanent: bool = False, fps: float = 200.0) -> None:
        self.uri = "fake://cam"
        self.unavailable = unavailable
        self.frames_then_stall = frames_then_stall
        self.permanent = permanent
        self.period = 1.0 / fps
        self.opens = 0
        self.closes = 0
        self.served_since_open = 0
        self.make = FrameMaker(self.uri)
        self.image = np.zeros((24, 32, 3), np.uint8)

    def open(self) -> None:
        self.opens += 1
        if self.permanent:
            raise SourceError("fake://cam: permanently broken.")
        if self.opens <= self.unavailable:
            raise SourceUnavailable("fake://cam: not plugged in.")
        self.served_since_open = 0

    def read(self):
        time.sleep(self.period)  # the device's frame clock
        if self.frames_then_stall is not None and self.served_since_open >= self.frames_then_stall:
            return None
        self.served_since_open += 1
        return self.make(self.image)

    def close(self) -> None:
        self.closes += 1


def test_slow_model_gets_the_newest_frame_and_drops_are_counted() -> None:
    rec = Recorder()
    delay = 0.05
    p = Pipeline(FakeModel(delay), "synthetic:64x48@200", on_result=rec.on_result)
    p.run(frames=8)
    stats = p.stats()
    assert stats.processed == 8 and len(rec.results) == 8
    assert stats.dropped > 8  # ~10 frames arrive per inference at 200 fps
    ids = [r.frame.frame_id for r in rec.results]
    assert all(b - a > 1 for a, b in itertools.pairwise(ids))  # stale frames skipped
    # No queueing: a frame waits at most one inference before its own inference starts.
    e2e = [r.timings.end_to_end_ms for r in rec.results[1:]]
    assert max(e2e) < (2 * delay + 0.04) * 1e3
    assert stats.stages["end_to_end"].p50 >= delay * 1e3
    assert set(stats.stages) == set(STAGES)
    assert stats.capture_fps > 50
    assert stats.runtime.startswith("fake runtime")


def test_frames_passed_over_by_fps_limit_are_skipped_not_dropped() -> None:
    p = Pipeline(FakeModel(0.0), "synthetic:64x48@200", fps_limit=20)
    p.run(frames=4)
    stats = p.stats()
    # ~10 frames arrive in each 50 ms wait; inference itself is instant, so none are lost.
    assert stats.processed == 4 and stats.skipped >= 10
    assert stats.dropped < stats.skipped // 4
    assert stats.to_dict()["skipped"] == stats.skipped


def test_on_demand_source_drops_nothing() -> None:
    rec = Recorder()
    p = Pipeline(FakeModel(0.002), "synthetic:64x48@0", on_result=rec.on_result)
    p.run(frames=30)
    assert p.stats().dropped == 0
    assert [r.frame.frame_id for r in rec.results] == list(range(30))
    assert all(r.error is None and r.result is not None for r in rec.results)
    t = rec.results[-1].timings
    assert t.end_to_end_ms >= t.inference_ms >= 2.0
    assert rec.results[-1].result.timings.inference == pytest.approx(t.inference_ms)


class ThreadRecordingModel(FakeModel):
    """Records which thread prepared each frame."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prepare_threads: list[str] = []

    def prepare(self, image):
        self.prepare_threads.append(threading.current_thread().name)
        return super().prepare(image)


class OnDemandSource:
    """An unpaced fake source (like a file read as fast as inference goes) that records the
    thread of each read; ``fail_at`` makes those reads raise SourceUnavailable once each,
    ``stall_after`` makes it return None forever after that many frames."""

    live = False

    def __init__(self, fail_at: tuple[int, ...] = (), stall_after: int | None = None,
                 uri: str = "fake://file") -> None:
        self.uri = uri
        self.fail_at = set(fail_at)
        self.stall_after = stall_after
        self.reads = 0
        self.read_threads: list[str] = []
        self.opens = self.closes = 0
        self.make = FrameMaker(self.uri)
        self.image = np.zeros((24, 32, 3), np.uint8)

    def open(self) -> None:
        self.opens += 1

    def read(self):
        self.read_threads.append(threading.current_thread().name)
        self.reads += 1
        if self.reads in self.fail_at:
            raise SourceUnavailable("fake://file: the disk went away.")
        if self.stall_after is not None and self.reads > self.stall_after:
            return None
        return self.make(self.image)

    def close(self) -> None:
        self.closes += 1


def test_on_demand_source_is_read_by_inference_itself_and_waits_for_nothing() -> None:
    """No hand-off between threads: the frame is read, prepared and inferred in one go, so
    end-to-end latency is one inference plus the plumbing, never two inferences."""
    rec = Recorder()
    src = OnDemandSource()
    model = ThreadRecordingModel(0.02)
    p = Pipeline(model, src, on_result=rec.on_result)
    p.run(frames=20)
    assert set(src.read_threads) == {threading.current_thread().name}
    assert set(model.prepare_threads) == {threading.current_thread().name}
    assert p.stats().dropped == 0 and p.stats().capture_fps > 0
    steady = [r.timings for r in rec.results[5:]]
    median_e2e = float(np.median([t.end_to_end_ms for t in steady]))
    median_inf = float(np.median([t.inference_ms for t in steady]))
    assert median_inf <= median_e2e < median_inf + 10.0


def test_on_demand_source_that_fails_is_reopened_and_goes_on() -> None:
    rec = Recorder()
    src = OnDemandSource(fail_at=(5,))
    p = Pipeline(FakeModel(0.001), src, backoff_initial=0.01, **rec.callbacks())
    p.start()
    rec.wait(lambda: rec.states().count("live") == 2 and len(rec.results) >= 12)
    p.stop()
    states = rec.states()
    assert states[:4] == ["connecting", "live", "disconnected", "reconnecting"]
    assert any("the disk went away" in e.message for e in rec.events)
    assert src.opens == 2 and src.closes == 2
    assert not rec.errors


def test_on_demand_source_that_stops_giving_frames_counts_as_stalled() -> None:
    rec = Recorder()
    src = OnDemandSource(stall_after=3)
    p = Pipeline(FakeModel(0.0), src, stall_timeout=0.2, retry=False, **rec.callbacks())
    p.run(duration=5.0)
    assert len(rec.results) == 3
    assert any("no new frame for 0.2 s" in str(e) for e in rec.errors)


def test_switching_away_from_an_on_demand_source_while_it_is_read() -> None:
    rec = Recorder()
    first, second = OnDemandSource(), OnDemandSource(uri="fake://second")
    p = Pipeline(FakeModel(0.005), first, **rec.callbacks())
    p.start()
    rec.wait(lambda: len(rec.results) >= 5)
    p.set_source(second)
    rec.wait(lambda: any(r.frame.source == "fake://second" for r in rec.results))
    p.stop()
    with rec.cond:
        results = list(rec.results)
    switched = next(i for i, r in enumerate(results) if r.frame.source == "fake://second")
    assert all(r.frame.source == "fake://second" for r in results[switched:])
    assert first.closes == 1 and second.closes == 1


def test_frames_prepared_for_a_replaced_model_are_prepared_again() -> None:
    rec = Recorder()
    first, second = ThreadRecordingModel(0.005, name="a"), ThreadRecordingModel(0.005, name="b")
    p = Pipeline(first, "synthetic:64x48@0", on_result=rec.on_result)
    p.run(frames=5)
    p.set_model(second)
    p.run(frames=5)
    assert {r.model_name for r in rec.results[-5:]} == {"b"}
    assert second.prepare_threads  # the new model prepared its own inputs
    assert second.calls == 5


def test_stop_returns_within_one_inference_and_releases_the_source() -> None:
    rec = Recorder()
    src = ScriptedSource()
    p = Pipeline(FakeModel(0.2), src, on_result=rec.on_result)
    p.start()
    rec.wait(lambda: len(rec.results) >= 1)
    t0 = time.monotonic()
    p.stop()
    assert time.monotonic() - t0 < 0.2 + 0.3
    assert not p.running
    assert src.closes >= 1
    assert p._capture_thread is not None and not p._capture_thread.is_alive()


def test_duration_bounds_a_run() -> None:
    p = Pipeline(FakeModel(0.0), "synthetic:32x32@100")
    t0 = time.monotonic()
    p.run(duration=0.3)
    assert 0.25 < time.monotonic() - t0 < 1.5
    assert p.stats().processed > 5


def test_video_end_ends_the_run(tmp_path: Path) -> None:
    from tests.engine.test_sources import write_avi

    path = write_avi(tmp_path / "c.avi", n=6)
    rec = Recorder()
    p = Pipeline(FakeModel(), str(path), source_options={"realtime": False}, **rec.callbacks())
    p.run(duration=10)
    assert [r.frame.frame_id for r in rec.results] == list(range(6))
    assert rec.states()[-1] == "ended"


def test_unavailable_at_start_retries_with_doubling_backoff_then_goes_live() -> None:
    rec = Recorder()
    src = ScriptedSource(unavailable=3)
    p = Pipeline(FakeModel(), src, **rec.callbacks(), **FAST)
    p.run(frames=3)
    retries = [e.retry_in for e in rec.events if e.state == "reconnecting"]
    assert retries == [0.01, 0.02, 0.04]
    assert rec.states()[0] == "connecting" and "live" in rec.states()
    assert "not plugged in" in rec.events[1].message
    assert len(rec.results) == 3


def test_no_retry_fails_at_once() -> None:
    p = Pipeline(FakeModel(), ScriptedSource(unavailable=5), retry=False, **FAST)
    with pytest.raises(SourceUnavailable):
        p.run(duration=5)


def test_missing_file_raises_without_handler_and_reports_with_one(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        Pipeline(FakeModel(), str(tmp_path / "nope.mp4")).run(duration=5)
    rec = Recorder()
    p = Pipeline(FakeModel(), str(tmp_path / "nope.mp4"), **rec.callbacks())
    p.start()
    rec.wait(lambda: rec.errors)
    assert rec.states() == ["failed"]
    # The app keeps the loop alive for the next source the user picks.
    p.set_source("synthetic:32x32@0")
    rec.wait(lambda: len(rec.results) >= 2)
    p.stop()
    assert len(rec.errors) == 1


def test_stall_is_detected_by_timestamps_and_recovered() -> None:
    rec = Recorder()
    src = ScriptedSource(frames_then_stall=3)
    p = Pipeline(FakeModel(), src, stall_timeout=0.15, **rec.callbacks(), **FAST)
    p.start()
    rec.wait(lambda: rec.states().count("live") >= 2)
    p.stop()
    disconnected = [e for e in rec.events if e.state == "disconnected"]
    assert disconnected and "no new frame for 0.15 s" in disconnected[0].message
    assert src.opens >= 2 and src.closes >= 1


def test_model_errors_raise_or_go_to_on_error_once() -> None:
    with pytest.raises(RuntimeError, match="fake inference failure"):
        Pipeline(FakeModel(fail_after=2), "synthetic:32x32@0").run(frames=10)
    rec = Recorder()
    p = Pipeline(FakeModel(fail_after=2), "synthetic:32x32@0", **rec.callbacks())
    p.run(frames=6)
    assert [r.error is None for r in rec.results] == [True, True, False, False, False, False]
    assert len(rec.errors) == 1  # the same message is not repeated every frame
    assert p.stats().errors == 4


def test_set_model_loads_in_the_inference_thread_and_survives_a_bad_loader() -> None:
    rec = Recorder()
    first = FakeModel(name="first")
    p = Pipeline(first, "synthetic:32x32@0", **rec.callbacks())
    p.start()
    rec.wait(lambda: len(rec.results) >= 1)
    run_thread = p._run_thread.ident

    def bad_loader():
        raise ModelLoadError("broken.onnx: file not found; check the path.")

    p.set_model(bad_loader)
    rec.wait(lambda: rec.errors)
    n = len(rec.results)
    rec.wait(lambda: len(rec.results) >= n + 2)
    assert rec.results[-1].model_name == "first"  # the previous model keeps running
    second = FakeModel(name="first")  # a same-named model from another folder
    p.set_model(lambda: second)
    rec.wait(lambda: any(r.model is second for r in rec.results[-3:]))
    p.stop()
    assert {id(r.model) for r in rec.results} == {id(first), id(second)}  # says which made it
    assert rec.models[-1] == (second, run_thread)
    assert second.thread_ids == {run_thread}


def test_set_source_switches_while_running_and_no_model_means_preview() -> None:
    rec = Recorder()
    p = Pipeline(None, "synthetic:32x24@0", **rec.callbacks())
    p.start()
    rec.wait(lambda: len(rec.results) >= 2)
    assert rec.results[0].result is None and rec.results[0].frame.width == 32
    p.set_source("synthetic:48x36@0")
    rec.wait(lambda: rec.results[-1].frame.width == 48)
    p.stop()
    assert p.stats().source == "synthetic:48x36@0"


def test_pause_holds_inference_and_resume_continues() -> None:
    rec = Recorder()
    p = Pipeline(FakeModel(0.005), "synthetic:32x32@100", **rec.callbacks())
    p.start()
    rec.wait(lambda: len(rec.results) >= 2)
    p.pause()
    with rec.cond:
        n = len(rec.results)
    resumed = threading.Event()
    assert not resumed.wait(0.2)  # a window in which no result must arrive
    assert len(rec.results) <= n + 1  # at most the frame already in flight
    paused_count = len(rec.results)
    p.resume()
    rec.wait(lambda: len(rec.results) >= paused_count + 2)
    p.stop()


def test_results_iterator_yields_and_stops() -> None:
    p = Pipeline(FakeModel(), "synthetic:32x32@0")
    got = [fr.frame.frame_id for fr in p.results(frames=5)]
    assert got == [0, 1, 2, 3, 4]
    it = p.results()
    first = next(it)
    it.close()
    assert first.frame is not None and not p.running


def test_source_that_ends_mid_read_reports_ended() -> None:
    class TwoFrames(ScriptedSource):
        def read(self):
            if self.served_since_open >= 2:
                raise SourceEnded("fake://cam: done.")
            return super().read()

    rec = Recorder()
    Pipeline(FakeModel(), TwoFrames(), **rec.callbacks()).run(duration=5)
    assert len(rec.results) >= 1 and rec.states()[-1] == "ended"


def test_preview_without_a_model_is_not_counted_as_inference() -> None:
    rec = Recorder()
    p = Pipeline(None, "synthetic:64x48@0", on_result=rec.on_result)
    p.run(frames=20)
    stats = p.stats()
    assert len(rec.results) == 20 and all(r.result is None for r in rec.results)
    assert stats.inference_fps == 0.0
    assert stats.stages["inference"].p50 == 0.0 and stats.stages["end_to_end"].p50 == 0.0


class MisuseRecordingSource(OnDemandSource):
    """Counts reads of a closed source and close()/open() calls during a read."""

    def __init__(self, uri: str = "fake://file", read_s: float = 0.0) -> None:
        super().__init__(uri=uri)
        self.read_s = read_s
        self.lock = threading.Lock()
        self.is_open = False
        self.busy = 0
        self.reads_closed = self.close_during_read = self.open_during_read = 0
        self.closed, self.read_after_close = threading.Event(), threading.Event()

    def open(self) -> None:
        with self.lock:
            self.open_during_read += self.busy
            self.is_open = True
        super().open()

    def read(self):
        with self.lock:
            self.busy += 1
            self.reads_closed += not self.is_open
            if self.closed.is_set():
                self.read_after_close.set()
        try:
            if self.read_s:
                threading.Event().wait(self.read_s)  # a slow disk
            return super().read()
        finally:
            with self.lock:
                self.busy -= 1

    def close(self) -> None:
        with self.lock:
            self.close_during_read += self.busy
            self.is_open = False
        super().close()
        self.closed.set()

    def misuse(self) -> tuple[int, int, int]:
        return self.reads_closed, self.close_during_read, self.open_during_read


def test_switching_while_live_is_announced_never_reads_a_closed_source() -> None:
    """set_source() while the capture thread is still inside on_event("live") (a slow
    display handler): the source must be taken back from the inference thread before it
    is closed, and never read again."""
    first = MisuseRecordingSource("fake://a")
    in_live, go = threading.Event(), threading.Event()

    def on_event(ev: SourceEvent) -> None:
        if ev.state == "live" and ev.source == "fake://a":
            in_live.set()
            go.wait(2.0)

    p = Pipeline(FakeModel(0.0), first, on_event=on_event)
    p.start()
    try:
        assert in_live.wait(5)
        p.set_source(None)
        go.set()
        assert first.closed.wait(5)
        reads_at_close = first.reads
        # No source now: the inference loop idles. Any read of the closed one shows here.
        assert not first.read_after_close.wait(0.3)
        assert first.reads == reads_at_close
        assert first.misuse() == (0, 0, 0)
    finally:
        p.stop()


def test_many_switches_and_restarts_never_misuse_a_source() -> None:
    sources = [MisuseRecordingSource(f"fake://{i}", read_s=0.001) for i in range(3)]
    rec = Recorder()
    p = Pipeline(FakeModel(0.001), sources[0], **rec.callbacks())
    for cycle in range(30):
        p.start()
        for i in range(1, 4):
            target = sources[(cycle + i) % 3]
            p.set_source(target)
            rec.wait(lambda t=target: any(r.frame.source == t.uri for r in rec.results[-3:]))
        p.stop()
    for s in sources:
        assert s.misuse() == (0, 0, 0), s.uri
        assert s.opens == s.closes
    assert not rec.errors


class BlockingOpenSource(ScriptedSource):
    """A camera whose open() hangs until released, then finds nothing plugged in."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def open(self) -> None:
        self.entered.set()
        self.release.wait(10)
        raise SourceUnavailable("fake://cam: not plugged in.")


def test_a_capture_thread_left_in_a_blocking_open_says_nothing_after_its_run() -> None:
    rec = Recorder()
    src = BlockingOpenSource()
    p = Pipeline(FakeModel(), src, **rec.callbacks(), **FAST)
    p.start()
    assert src.entered.wait(5)
    p.stop()  # ends while open() still hangs (a CLI prints its summary now)
    capture_thread = p._capture_thread
    src.release.set()
    capture_thread.join(5)
    assert not capture_thread.is_alive()
    assert rec.states() == ["connecting"]  # no "reconnecting…" after the run's end


def test_a_source_that_cannot_even_be_made_never_shows_its_password() -> None:
    rec = Recorder()
    p = Pipeline(FakeModel(), "rtspx://admin:s3cret@cam.lan/live", **rec.callbacks(), **FAST)
    p.start()
    rec.wait(lambda: rec.events and rec.errors)
    p.stop()
    assert rec.states() == ["failed"] and "unknown source scheme" in rec.events[0].message
    said = [str(e) for e in rec.events] + [str(e) for e in rec.errors]
    assert said and not any("s3cret" in text for text in said), said


def test_frames_whose_model_raises_are_errors_not_inferences_and_never_negative() -> None:
    rec = Recorder()
    src = ScriptedSource()
    p = Pipeline(FakeModel(fail_after=0), src, **rec.callbacks(), **FAST)
    p.start()
    rec.wait(lambda: len(rec.results) >= 5)
    p.stop()
    stats = p.stats()
    assert stats.processed == 0 and stats.errors >= 5 and stats.inference_fps == 0.0
    assert stats.stages.get("inference", Percentiles()).p50 == 0.0
    for fr in rec.results:
        t = fr.timings
        assert fr.error and min(t.preprocess_ms, t.inference_ms, t.postprocess_ms) >= 0.0
        assert t.postprocess_ms == 0.0  # decode never ran
