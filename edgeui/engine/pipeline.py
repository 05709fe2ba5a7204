"""The live pipeline: capture thread -> one "latest frame" slot -> inference loop -> results.

Nothing queues: the capture thread overwrites a single slot, inference always takes the
newest frame, and frames overwritten before a running model took them are counted as dropped
(as skipped instead while inference waits out ``fps_limit``: those are passed over by design;
not at all while there is no model yet, a preview, or one is being loaded).
Sources that are not live (unpaced files, the unpaced test pattern) are read on demand by the
inference thread itself, right before each inference: they drop nothing, and no thread
hand-off sits between a frame and its result (on 2 cores the runtime already uses both; a
capture thread working ahead only competes with it).

Recovery lives here, once, for every kind of source: a transient failure (``SourceUnavailable``,
a stall — no new frame for ``stall_timeout`` seconds — or any read exception) closes the
source, reports ``disconnected``, and reopens it with backoff (1 s doubling to 30 s, forever
unless ``retry=False``). A permanent failure (``SourceError``: missing file) is reported once.

A capture thread stuck inside a source's open, read or close (a driver or network that
never answers: OpenCV backends without a timeout block for ever on some unplugs) is retired
by the inference loop, which watches it: ``disconnected`` is reported and a fresh capture
thread opens the source anew (only for a source named by URI: a source object cannot be
opened twice); the stuck thread leaves, closing its source, whenever its call returns.
On-demand sources are read in the inference thread itself, so a read of theirs that never
returns (a file on a network share that hangs) stops inference until it does.

Threads: ``run()`` runs the inference loop in the calling thread (the GUI worker's QThread,
or the CLI's main thread) and owns a capture thread, which opens, reads (live sources) and
recovers the source; it lends an on-demand source to the inference thread and takes it back
when a read fails. ``on_event`` is called from the capture
thread (and, for a stuck capture thread, from the inference loop's watch, one event at a
time); ``on_result``, ``on_error`` and ``on_model`` from the inference thread.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, is_dataclass, replace
from typing import Any

from edgeui.engine.sources.base import (
    FrameSource,
    SourceEnded,
    SourceEvent,
    SourceUnavailable,
    open_source,
    redact,
)
from edgeui.engine.stats import Percentiles, RateMeter, RollingWindow
from edgeui.engine.types import Frame, Result, Timings
from edgeui.errors import SourceError

log = logging.getLogger(__name__)

# A capture thread inside one source call longer than this is stuck (seconds; reads and
# closes: beyond the read timeout a stream or camera takes, which is the stall timeout).
STUCK_OPEN_S = 30.0  # a stream's open times out at 10 s, its DNS check at 2 s more
STUCK_READ_FACTOR, STUCK_READ_MARGIN_S = 2.0, 2.0
# Stuck capture threads left waiting at once; beyond, a stuck one is reported, not replaced.
MAX_STUCK_THREADS = 4
# A switch to another source waits at most this long for the capture thread to come out of
# the old source's read or close before a fresh thread opens the new source (an open that
# hangs is waited out: see _watch_limit).
SWITCH_WAIT_S = 2.0

STAGES: tuple[str, ...] = ("capture", "preprocess", "inference", "postprocess", "end_to_end")
_NOTHING: Any = object()


__all__ = ["STAGES", "FrameResult", "Percentiles", "Pipeline", "PipelineStats", "StageTimings"]


@dataclass(frozen=True)
class StageTimings:
    """Milliseconds spent on one frame per stage; end_to_end runs from capture to result."""

    capture_ms: float = 0.0
    preprocess_ms: float = 0.0
    inference_ms: float = 0.0
    postprocess_ms: float = 0.0
    end_to_end_ms: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """Stage name (see STAGES) -> milliseconds."""
        return {"capture": self.capture_ms, "preprocess": self.preprocess_ms,
                "inference": self.inference_ms, "postprocess": self.postprocess_ms,
                "end_to_end": self.end_to_end_ms}


@dataclass(frozen=True, eq=False)
class FrameResult:
    """A frame with the result the current model gave for it (``result`` None: no model yet,
    or ``error`` says why it failed)."""

    frame: Frame
    result: Result | None
    timings: StageTimings
    model_name: str
    error: str | None = None
    runtime: str = ""
    # The model object that made it: two models may share a name (two folders' best.onnx), so
    # "is this a late result of the model before?" is asked of the object, not the name.
    model: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class PipelineStats:
    """A snapshot for status bars and summaries; percentiles over the recent window."""

    capture_fps: float = 0.0
    inference_fps: float = 0.0
    processed: int = 0
    dropped: int = 0
    # Frames passed over on purpose while fps_limit paces inference (not counted as dropped).
    skipped: int = 0
    stages: dict[str, Percentiles] = field(default_factory=dict)
    source_state: str = "idle"
    runtime: str = ""
    source: str = ""
    errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "capture_fps": round(self.capture_fps, 3),
            "inference_fps": round(self.inference_fps, 3),
            "processed": self.processed, "dropped": self.dropped, "skipped": self.skipped,
            "errors": self.errors,
            "stages_ms": {k: v.to_dict() for k, v in self.stages.items()},
            "source_state": self.source_state, "source": self.source, "runtime": self.runtime,
        }


def _is_loader(obj: Any) -> bool:
    return callable(obj) and not hasattr(obj, "infer")


def _label_of(source: FrameSource | str | None) -> str:
    """How stats and messages name a source: its URI with any password shown as ***."""
    return "" if source is None else redact(str(getattr(source, "uri", source)))


def _describe_runtime(model: Any) -> str:
    try:
        return str(model.runtime.describe())
    except Exception:  # a fake or half-built model: the name is enough
        return ""


class Pipeline:
    """Runs a model on the newest frames of a source; see the module docstring."""

    def __init__(
        self,
        model: Any = None,
        source: FrameSource | str | None = None,
        *,
        fps_limit: float | None = None,
        retry: bool = True,
        on_result: Callable[[FrameResult], None] | None = None,
        on_event: Callable[[SourceEvent], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        on_model: Callable[[object], None] | None = None,
        stall_timeout: float = 5.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        window: int = 300,
        source_options: dict[str, Any] | None = None,
    ) -> None:
        self.fps_limit = fps_limit if fps_limit and fps_limit > 0 else None
        self.retry = retry
        self.on_result, self.on_event, self.on_error, self.on_model = (
            on_result, on_event, on_error, on_model)
        self.stall_timeout = stall_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.source_options = dict(source_options or {})

        self._cond = threading.Condition()  # guards everything below marked (cond)
        self._slot: tuple[Frame, float] | None = None  # (cond) newest frame, capture ms
        # (cond) an on-demand source the inference thread reads itself: (source, gen, label)
        self._lent: tuple[FrameSource, int, str] | None = None
        # (cond) why reading it stopped: (gen, outcome, detail)
        self._lent_outcome: tuple[int, str, Any] | None = None
        self._lent_got_frame = False  # (cond) it gave a frame since it was lent
        # inference thread: when the lent source began returning nothing (None: it gives frames)
        self._lent_empty_since: float | None = None
        self._read_lock = threading.Lock()  # held by the inference thread while it reads
        self._paused = False  # (cond)
        self._source_request: FrameSource | str | None = source  # (cond)
        self._request_options: dict[str, Any] = {}  # (cond) open_source options of a URI
        self._source_gen = 0  # (cond) bumped by set_source
        self._ended = False  # (cond) the current source has nothing more to give
        self._fatal: Exception | None = None  # (cond) why it failed for good, to report once
        self._pending_model: Any = _NOTHING  # (cond)

        self._stop = threading.Event()
        self._capture_stop = threading.Event()
        self._finished = threading.Event()
        self._finished.set()
        self._running = False
        self._run_thread: threading.Thread | None = None
        self._bg_thread: threading.Thread | None = None
        self._capture_thread: threading.Thread | None = None
        # (cond) the capture thread's source call in progress: (since, gen, what, label, thread)
        self._capture_call: tuple[float, int, str, str, threading.Thread] | None = None
        self._stuck_threads = 0  # (cond) retired capture threads still inside a call
        self._stuck_told: int | None = None  # (cond) gen told stuck and not replaced: "live" due
        # (cond) the source generation wanted when the call in _capture_call was told stuck
        self._call_told: int | None = None
        # One event at a time, state and callback together: the inference loop's watch and
        # the capture thread both report, and "live" must not overtake "disconnected".
        self._event_lock = threading.RLock()

        self._model: Any = None
        self._runtime = ""
        self._source_state = "idle"
        self._source_label = _label_of(source)
        self._processed = 0
        self._dropped = 0
        self._skipped = 0
        self._throttled = False  # the run loop is waiting out fps_limit
        self._loading = False  # (cond) the inference thread is loading or applying a model
        self._errors = 0
        self._last_error = ""
        self._windows = {k: RollingWindow(window) for k in STAGES}
        self._capture_rate = RateMeter()
        self._inference_rate = RateMeter()
        if model is not None:
            self.set_model(model)

    # --- control (thread-safe) ------------------------------------------------------------
    @property
    def model(self) -> Any:
        return self._model

    @property
    def running(self) -> bool:
        return self._running

    def set_model(self, model_or_loader: Any) -> None:
        """Use another model from the next frame on. A zero-argument callable is called in
        the inference thread to load it; if that raises, ``on_error`` gets the error and the
        current model keeps running."""
        with self._cond:
            self._pending_model = model_or_loader
            self._cond.notify_all()

    def set_source(self, source: FrameSource | str | None,
                   options: dict[str, Any] | None = None) -> None:
        """Switch to another source (closed and opened in the capture thread). ``options``
        go to ``open_source`` with a URI: a source named by URI (not built by the caller)
        can be opened afresh when a driver leaves its capture thread stuck."""
        with self._cond:
            self._source_request = source
            self._request_options = dict(options or {})
            self._source_gen += 1
            self._ended = False
            self._fatal = None
            self._slot = None
            self._source_label = _label_of(source)
            self._cond.notify_all()

    def pause(self) -> None:
        """Stop running inference (capture goes on, so the source stays connected)."""
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        """Run the pipeline in a background thread (``stop()`` ends it)."""
        if self._running or (self._bg_thread and self._bg_thread.is_alive()):
            raise RuntimeError("the pipeline is already running")
        self._finished.clear()
        self._stop.clear()
        self._bg_thread = threading.Thread(target=self._run_background, name="edgeui-inference",
                                           daemon=True)
        self._bg_thread.start()

    def _run_background(self) -> None:
        try:
            self._run(None, None)
        except Exception as exc:
            log.debug("pipeline ended with an error", exc_info=True)
            self._report(exc, raise_without_handler=False)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait (up to ``timeout``) until it has, unless called from
        the inference thread itself (a callback or a signal handler)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        me = threading.current_thread()
        if self._run_thread is me:
            return
        if self._bg_thread is not None and self._bg_thread is not me:
            self._bg_thread.join(timeout)
        else:
            self._finished.wait(timeout)

    def stats(self) -> PipelineStats:
        """A consistent snapshot of rates, counts and percentiles."""
        with self._cond:
            processed, dropped, errors = self._processed, self._dropped, self._errors
            skipped = self._skipped
            state, label = self._source_state, self._source_label
        return PipelineStats(
            capture_fps=self._capture_rate.rate(),
            inference_fps=self._inference_rate.rate(),
            processed=processed, dropped=dropped, skipped=skipped,
            stages={k: w.percentiles() for k, w in self._windows.items()},
            source_state=state, runtime=self._runtime, source=label, errors=errors,
        )

    def reset_stats(self) -> None:
        with self._cond:
            self._processed = self._dropped = self._skipped = self._errors = 0
        for w in self._windows.values():
            w.clear()
        self._capture_rate.clear()
        self._inference_rate.clear()

    # --- the inference loop ---------------------------------------------------------------
    def run(self, *, frames: int | None = None, duration: float | None = None) -> None:
        """Run the inference loop in this thread until stop(), the limits, or the source's
        end. A permanent source failure or a model error is raised when no ``on_error``
        handler was given."""
        self._stop.clear()
        self._run(frames, duration)

    def _run(self, frames: int | None, duration: float | None) -> None:
        if self._running:
            raise RuntimeError("the pipeline is already running")
        old = self._capture_thread
        if old is not None and old.is_alive():
            old.join(30.0)  # a previous capture thread still inside a blocking read
        self._running = True
        self._finished.clear()
        self._run_thread = threading.current_thread()
        self._capture_stop.clear()
        with self._cond:
            self._source_gen += 1  # (re)open the requested source in the new capture thread
            self._ended = False
            self._fatal = None
            self._slot = None
        self._capture_thread = threading.Thread(target=self._capture_loop, name="edgeui-capture",
                                                daemon=True)
        self._capture_thread.start()
        deadline = time.monotonic() + duration if duration is not None else None
        done = 0
        try:
            while not self._stop.is_set():
                self._apply_model()
                self._watch_capture()
                timeout = 0.1
                if deadline is not None:
                    timeout = deadline - time.monotonic()
                    if timeout <= 0:
                        break
                    timeout = min(timeout, 0.1)
                item, finished = self._take(timeout)
                if item is None:
                    if finished:
                        break
                    continue
                started = time.monotonic()
                self._deliver(self._process(*item))
                done += 1
                if frames is not None and done >= frames:
                    break
                if self.fps_limit:
                    with self._cond:
                        self._throttled = True
                    self._stop.wait(max(0.0, started + 1.0 / self.fps_limit - time.monotonic()))
                    with self._cond:
                        self._throttled = False
        finally:
            self._capture_stop.set()
            with self._cond:
                self._cond.notify_all()
            self._capture_thread.join(1.0)
            self._running = False
            self._run_thread = None
            self._finished.set()

    def _take(self, timeout: float) -> tuple[tuple[Frame, float] | None, bool]:
        """(newest frame or None, whether the loop should end)."""
        with self._cond:
            self._cond.wait_for(
                lambda: ((self._slot is not None or self._lent is not None) and not self._paused)
                or self._stop.is_set() or self._ended or self._fatal is not None
                or self._pending_model is not _NOTHING,
                timeout,
            )
            if self._slot is not None and not self._paused:
                item, self._slot = self._slot, None
                return item, False
            lent = self._lent
            if lent is not None and (self._paused or self._stop.is_set()
                                     or lent[1] != self._source_gen):
                lent = None
            fatal, self._fatal = self._fatal, None
            ended = self._ended and self._slot is None
        if lent is not None and fatal is None:
            return self._read_lent(*lent), False
        if fatal is not None:
            self._report(fatal)
            # With a handler (the app), wait for another source; without (the CLI), raised.
            return None, False
        return None, ended

    def _apply_model(self) -> None:
        with self._cond:
            pending, self._pending_model = self._pending_model, _NOTHING
            if pending is not _NOTHING:
                self._loading = True  # frames overwritten meanwhile are not the model's drops
        if pending is _NOTHING:
            return
        try:
            self._load_model(pending)
        finally:
            with self._cond:
                self._loading = False

    def _load_model(self, pending: Any) -> None:
        if pending is None:
            self._model, self._runtime = None, ""
            return
        try:
            model = pending() if _is_loader(pending) else pending
        except Exception as exc:
            self._report(exc, raise_without_handler=self._model is None)
            return
        self._model = model
        self._runtime = _describe_runtime(model)
        for w in self._windows.values():  # old model's timings would mislead
            w.clear()
        if self.on_model is not None:
            self.on_model(model)

    def _read_lent(self, source: FrameSource, gen: int, label: str) -> tuple[Frame, float] | None:
        """Read the lent on-demand source in the inference thread: (frame, capture ms), or
        None after handing a failure back to the capture thread (or with nothing new yet)."""
        with self._read_lock:
            with self._cond:
                if self._lent is None or self._lent[1] != gen or self._source_gen != gen \
                        or self._capture_stop.is_set():  # fmt: skip
                    return None  # taken back meanwhile (switched, stopped)
            t0 = time.perf_counter()
            outcome: tuple[str, Any]
            try:
                frame = source.read()
            except SourceEnded as exc:
                outcome = ("ended", exc)
            except SourceUnavailable as exc:
                outcome = ("unavailable", str(exc))
            except SourceError as exc:
                outcome = ("fatal", exc)
            except Exception as exc:  # OpenCV and friends: treat as a dropped connection
                outcome = ("unavailable", f"{label}: read failed ({exc}).")
            else:
                now = time.monotonic()
                if frame is not None:
                    capture_ms = (time.perf_counter() - t0) * 1e3
                    self._capture_rate.tick()
                    self._lent_empty_since = None
                    with self._cond:
                        if self._source_gen != gen:
                            return None  # a frame of the source just switched away from
                        if not self._lent_got_frame:
                            self._lent_got_frame = True
                            self._cond.notify_all()
                    return frame, capture_ms
                if self._lent_empty_since is None:
                    self._lent_empty_since = now  # a pause or a model load never counts
                if now - self._lent_empty_since < self.stall_timeout:
                    with self._cond:  # nothing new yet: don't spin
                        self._cond.wait(0.002)
                    return None
                outcome = ("unavailable", f"{label}: no new frame for {self.stall_timeout:g} s.")
            with self._cond:
                if self._lent is not None and self._lent[1] == gen:
                    self._lent, self._lent_outcome = None, (gen, *outcome)
                    self._cond.notify_all()
        return None

    def _process(self, frame: Frame, capture_ms: float) -> FrameResult:
        model = self._model
        if model is None:
            e2e = (time.monotonic() - frame.monotonic) * 1e3
            return FrameResult(frame, None, StageTimings(capture_ms, end_to_end_ms=e2e), "")
        name = str(getattr(model, "name", ""))
        t0 = time.perf_counter()
        t1 = t2 = 0.0  # the ends of prepare and infer (0.0: not reached)
        try:
            feeds, transform = model.prepare(frame.image)
            t1 = time.perf_counter()
            outputs = model.infer(feeds)
            t2 = time.perf_counter()
            result = model.decode(outputs, transform)
            t3 = time.perf_counter()
        except Exception as exc:
            self._report(exc, raise_without_handler=True)
            t3 = time.perf_counter()
            # The stage that raised took until now; those after it never ran (0, never a
            # negative time).
            pre = ((t1 or t3) - t0) * 1e3
            inf = ((t2 or t3) - t1) * 1e3 if t1 else 0.0
            post = (t3 - t2) * 1e3 if t2 else 0.0
            e2e = (time.monotonic() - frame.monotonic) * 1e3
            timings = StageTimings(capture_ms, pre, inf, post, e2e)
            return FrameResult(frame, None, timings, name, str(exc), self._runtime, model)
        pre, inf, post = (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3
        if is_dataclass(result):
            result = replace(result, timings=Timings(pre, inf, post))
        e2e = (time.monotonic() - frame.monotonic) * 1e3
        return FrameResult(frame, result, StageTimings(capture_ms, pre, inf, post, e2e), name,
                           None, self._runtime, model)

    def _deliver(self, fr: FrameResult) -> None:
        preview = fr.result is None and fr.error is None and not fr.model_name
        if preview:  # no model: the frame is shown, but nothing was inferred or timed
            self._windows["capture"].add(fr.timings.capture_ms)
        elif fr.error is None:
            self._inference_rate.tick()
        if fr.error is None and not preview:
            for key, value in fr.timings.as_dict().items():
                self._windows[key].add(value)
            self._last_error = ""
        with self._cond:
            if fr.error is None:  # a frame whose model raised was not inferred: an error
                self._processed += 1
        if self.on_result is not None:
            self.on_result(fr)

    def _report(self, exc: Exception, raise_without_handler: bool = True) -> None:
        """Route an error to on_error (once per distinct message in a row) or raise it."""
        with self._cond:
            self._errors += 1
        if self.on_error is None:
            if raise_without_handler:
                raise exc
            log.error("%s", exc)
            return
        message = str(exc)
        if message != self._last_error:
            self._last_error = message
            self.on_error(exc)

    # --- the capture thread ---------------------------------------------------------------
    def _emit(self, state: str, message: str, label: str, gen: int,
              retry_in: float | None = None) -> None:
        with self._event_lock:
            self._emit_now(state, message, label, gen, retry_in)

    def _emit_now(self, state: str, message: str, label: str, gen: int,
                  retry_in: float | None) -> None:
        with self._cond:
            if self._source_gen != gen or (self._capture_stop.is_set() and state != "live"):
                # A capture thread outliving its run (left inside a blocking open) or its
                # source: what it says now would describe another run or source. "live"
                # still counts: a short run's frame came before the run ended.
                return
            self._source_state = state
        log.info("%s: %s", label, message)
        if self.on_event is not None:
            try:
                self.on_event(SourceEvent(state, message, label, retry_in))
            except Exception:  # a display bug must not stop capture
                log.exception("on_event callback failed")

    def _should_leave(self, gen: int) -> bool:
        return self._capture_stop.is_set() or self._stop.is_set() or self._source_gen != gen

    def _wait(self, seconds: float, gen: int) -> None:
        """Sleep, waking early on stop or a source switch."""
        with self._cond:
            self._cond.wait_for(lambda: self._should_leave(gen), seconds)

    def _capture_loop(self) -> None:
        source: FrameSource | None = None
        gen = -1
        me = threading.current_thread()
        try:
            while not (self._capture_stop.is_set() or self._stop.is_set()):
                with self._cond:
                    if self._capture_thread is not me:
                        break  # retired while stuck in a call: a fresh thread took over
                    if self._source_gen == gen:
                        # ended/failed or no source: idle until something changes
                        self._cond.wait_for(lambda g=gen: self._should_leave(g), 0.5)
                        continue
                    new_gen, request = self._source_gen, self._source_request
                    options = self._request_options
                if source is not None:
                    # Closed as the old source (its generation): a close that hangs is a
                    # switch kept waiting, and a fresh thread opens the new one.
                    self._close(source, gen)
                    source = None
                    continue  # retired meanwhile, or switched again: look again
                gen = new_gen
                if request is None:
                    with self._cond:
                        self._source_state = "idle"
                    continue
                source = self._make_source(request, gen, options)
                if source is not None:
                    self._run_source(source, gen)
        except Exception:  # never die silently: the app would freeze on its last frame
            log.exception("the capture thread failed")
            with self._cond:
                if self._capture_thread is me and self._source_gen == gen:
                    self._ended = True  # a retired thread's failure ends nothing
                    self._cond.notify_all()
        finally:
            if source is not None:
                self._close(source, gen)
            with self._cond:
                if self._capture_thread is not me:
                    self._stuck_threads = max(0, self._stuck_threads - 1)

    def _close(self, source: FrameSource, gen: int) -> None:
        """Close a source in the capture thread; a close that raises is logged, not fatal."""
        try:
            with self._source_call("close", gen, str(getattr(source, "uri", source))):
                source.close()
        except Exception:
            log.debug("closing the source failed", exc_info=True)

    @contextlib.contextmanager
    def _source_call(self, what: str, gen: int, label: str) -> Iterator[None]:
        """Mark the capture thread as inside a source's ``what`` call (for _watch_capture)."""
        me = threading.current_thread()
        with self._cond:
            if self._capture_thread is me:  # a retired thread's calls are watched no more
                self._capture_call = (time.monotonic(), gen, what, label, me)
                self._call_told = None
        try:
            yield
        finally:
            with self._cond:
                if self._capture_call is not None and self._capture_call[4] is me:
                    self._capture_call = None

    def _watch_limit(self, what: str, gen: int) -> float:
        """(cond) How long the capture thread may stay in a ``what`` call of source ``gen``."""
        if what == "open":
            # Not shortened on a switch: OpenCV's FFmpeg backend opens one file or stream at a
            # time, so a fresh thread's open would only queue behind the one that hangs (which
            # times out by itself, a stream's in 10 s); the old thread then opens the newest
            # source asked for.
            return max(STUCK_OPEN_S, self.stall_timeout)
        if gen != self._source_gen:  # switched away: the new source need not wait
            return SWITCH_WAIT_S
        return STUCK_READ_FACTOR * self.stall_timeout + STUCK_READ_MARGIN_S

    def _watch_capture(self) -> None:
        """Inference thread: retire a capture thread stuck in a source call and start a fresh
        one that opens the source anew (see the module docstring)."""
        with self._cond:  # per frame: only this, unless a call is overdue
            call = self._capture_call
            if call is None or self._call_told == self._source_gen:
                return
            if time.monotonic() - call[0] < self._watch_limit(call[2], call[1]):
                return
        # Under the event lock: its "disconnected" is never overtaken by the "live" of the
        # call returning meanwhile.
        with self._event_lock:
            with self._cond:
                call = self._capture_call
                if call is None or call[4] is not self._capture_thread or self._stop.is_set() \
                        or self._capture_stop.is_set():  # fmt: skip
                    return
                since, gen, what, label, _thread = call
                wanted = self._source_gen  # the source the user wants now
                same_source = gen == wanted  # else the user switched away meanwhile
                if self._call_told == wanted:
                    return  # said already; a later switch is looked at afresh
                waited = time.monotonic() - since
                if waited < self._watch_limit(what, gen):
                    return
                # A source given as an object cannot be opened while a thread is inside it.
                reopen = (not same_source or isinstance(self._source_request, str)) \
                    and self._stuck_threads < MAX_STUCK_THREADS
                if reopen:
                    self._capture_call = None
                    self._stuck_threads += 1
                    if same_source:
                        self._source_gen += 1  # what the stuck thread still says is old
                        self._slot = None
                    wanted = self._source_gen
                    fresh = threading.Thread(target=self._capture_loop, name="edgeui-capture",
                                             daemon=True)
                    self._capture_thread = fresh
                else:
                    self._call_told = wanted
                    if same_source:
                        self._stuck_told = gen  # its next frame says "live" again
                new_label = self._source_label
            doing = {"open": "opening it", "read": "a read", "close": "closing it"}[what]
            stuck = (f"{label}: {doing} has not returned for {waited:.0f} s (the device or "
                     "the network does not answer)")
            if reopen:
                if same_source:
                    self._emit("disconnected", f"{stuck}; opening it again.", label, wanted)
                fresh.start()
            elif same_source:
                self._emit("disconnected", f"{stuck}; waiting for it.", label, gen)
            else:  # switched away, and no thread can be spared for the new source
                self._emit("disconnected", f"{new_label}: cannot open it yet: "
                           f"{MAX_STUCK_THREADS} capture threads wait for drivers that do not "
                           "answer; restart edgeui if this lasts.", new_label, wanted)

    def _make_source(self, request: FrameSource | str, gen: int,
                     options: dict[str, Any] | None = None) -> FrameSource | None:
        if isinstance(request, str):
            try:
                source = open_source(request, **{**self.source_options, **(options or {})})
            except SourceError as exc:
                self._fail(exc, redact(request), gen)
                return None
        else:
            source = request
        # A source whose reads wait for the next frame (a stream) must wait as long as the
        # stall timeout says, not a read timeout of its own (unless one was given).
        if hasattr(source, "stall_timeout"):
            source.stall_timeout = float(self.stall_timeout)
        return source

    def _fail(self, exc: Exception, label: str, gen: int) -> None:
        self._emit("failed", str(exc), label, gen)
        with self._cond:
            if self._source_gen == gen:
                self._fatal = exc
                self._cond.notify_all()

    def _run_source(self, source: FrameSource, gen: int) -> None:
        """Open, read and recover one source until it ends, fails, or is switched away."""
        try:
            self._read_source(source, gen)
        finally:  # however it ends, the inference thread stops reading before it is closed
            self._take_back(gen)

    def _read_source(self, source: FrameSource, gen: int) -> None:
        label = str(getattr(source, "uri", source))
        live = bool(getattr(source, "live", True))
        backoff = self.backoff_initial
        opened = False
        got_frame = False
        last_frame = time.monotonic()
        self._emit("connecting", "connecting…", label, gen)
        while not self._should_leave(gen):
            if not opened:
                try:
                    with self._source_call("open", gen, label):
                        source.open()
                except SourceUnavailable as exc:
                    if not self.retry:
                        self._fail(exc, label, gen)
                        return
                    self._emit("reconnecting", f"{exc} Retrying in {backoff:g} s…", label,
                               gen, backoff)
                    self._wait(backoff, gen)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
                except SourceError as exc:
                    self._fail(exc, label, gen)
                    return
                opened, got_frame, last_frame = True, False, time.monotonic()
                continue  # an open that outlasted the run or the source reads nothing
            kind, detail = (self._read_live(source, gen, label) if live
                            else self._lend(source, gen, label, got_frame))
            if kind == "frame":
                last_frame = time.monotonic()
                if self._stuck_told == gen:  # the call told stuck has returned after all
                    with self._cond:
                        self._stuck_told = None
                    got_frame = False
                if not got_frame:
                    got_frame = True
                    backoff = self.backoff_initial
                    self._emit("live", "live", label, gen)
                continue
            if kind == "leave":
                continue
            if kind == "nothing":
                if time.monotonic() - last_frame < self.stall_timeout:
                    continue
                detail = f"{label}: no new frame for {self.stall_timeout:g} s."
            elif kind == "ended":
                self._emit("ended", str(detail) or "ended", label, gen)
                with self._cond:
                    if self._source_gen == gen:
                        self._ended = True
                        self._cond.notify_all()
                return
            elif kind == "fatal":
                self._fail(detail, label, gen)
                return
            # Transient failure: close, tell, wait, reopen (forever unless retry is off).
            self._take_back(gen)
            with self._source_call("close", gen, label):
                source.close()
            opened = False
            self._emit("disconnected", str(detail), label, gen)
            if not self.retry:
                self._fail(SourceUnavailable(str(detail)), label, gen)
                return
            self._emit("reconnecting", f"reconnecting in {backoff:g} s…", label, gen, backoff)
            self._wait(backoff, gen)
            backoff = min(backoff * 2, self.backoff_max)

    def _read_live(self, source: FrameSource, gen: int, label: str) -> tuple[str, Any]:
        """Read one frame of a live source into the slot: (outcome, detail)."""
        t0 = time.perf_counter()
        try:
            with self._source_call("read", gen, label):
                frame = source.read()
        except SourceEnded as exc:
            return "ended", exc
        except SourceUnavailable as exc:
            return "unavailable", str(exc)
        except SourceError as exc:
            return "fatal", exc
        except Exception as exc:  # OpenCV and friends: treat as a dropped connection
            return "unavailable", f"{label}: read failed ({exc})."
        if frame is None:
            return "nothing", None
        self._publish(frame, (time.perf_counter() - t0) * 1e3, gen)
        return "frame", None

    def _lend(self, source: FrameSource, gen: int, label: str,
              reported_frame: bool) -> tuple[str, Any]:
        """Let the inference thread read an on-demand source until a read fails, the source
        gives its first frame (reported once), or the capture thread must leave."""
        with self._cond:
            if self._lent_outcome is not None and self._lent_outcome[0] != gen:
                self._lent_outcome = None  # left over from a source switched away from
            if self._lent_outcome is None and (self._lent is None or self._lent[1] != gen):
                self._lent, self._lent_got_frame = (source, gen, label), False
                self._lent_empty_since = None
                self._cond.notify_all()
            self._cond.wait_for(
                lambda: self._lent_outcome is not None or self._should_leave(gen)
                or (self._lent_got_frame and not reported_frame),
                0.5,
            )
            leaving = self._should_leave(gen)
            if self._lent_got_frame and not reported_frame:
                # First, even when leaving: "live" comes before any failure that followed,
                # and a short run still says it went live (the caller takes the loan back).
                return "frame", None
            if self._lent_outcome is not None and not leaving:
                _, kind, detail = self._lent_outcome
                self._lent_outcome = None
                return kind, detail
            if not leaving:
                return "leave", None  # only the timeout: keep lending
        self._take_back(gen)
        return "leave", None

    def _take_back(self, gen: int) -> None:
        """End a loan of generation ``gen``'s source; returns once no read of it is running,
        so the caller may close it."""
        with self._cond:
            if self._lent is not None and self._lent[1] == gen:
                self._lent = None
                self._cond.notify_all()
        with self._read_lock:
            pass

    def _publish(self, frame: Frame, capture_ms: float, gen: int) -> None:
        self._capture_rate.tick()
        with self._cond:
            if self._source_gen != gen:
                return
            # A frame overwritten before inference took it is dropped only when a model
            # was running and too slow: not while paused, previewing (no model) or loading
            # one, and passed over on purpose (skipped) while fps_limit paces inference.
            if self._slot is not None and not self._paused:
                if self._throttled:
                    self._skipped += 1
                elif self._model is not None and not self._loading:
                    self._dropped += 1
            self._slot = (frame, capture_ms)
            self._cond.notify_all()

    # --- iterator convenience --------------------------------------------------------------
    def results(self, *, frames: int | None = None, duration: float | None = None,
                maxsize: int = 2) -> Iterator[FrameResult]:
        """Run in a background thread and yield results; a slow consumer holds inference back
        (the bounded hand-off), never piles results up. Closing the iterator stops the run."""
        handoff: queue.Queue[Any] = queue.Queue(maxsize)
        end = object()
        errors: list[BaseException] = []
        previous = self.on_result

        def put(fr: FrameResult) -> None:
            if previous is not None:
                previous(fr)
            while not self._stop.is_set():
                try:
                    handoff.put(fr, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def target() -> None:
            try:
                self._run(frames, duration)
            except BaseException as exc:
                errors.append(exc)
            finally:
                while True:
                    try:
                        handoff.put(end, timeout=0.1)
                        break
                    except queue.Full:
                        if self._stop.is_set():
                            with contextlib.suppress(queue.Empty):
                                handoff.get_nowait()

        self.on_result = put
        self._stop.clear()
        thread = threading.Thread(target=target, name="edgeui-inference", daemon=True)
        thread.start()
        try:
            while True:
                item = handoff.get()
                if item is end:
                    break
                yield item
        finally:
            self.stop()
            thread.join(5.0)
            self.on_result = previous
        if errors:
            raise errors[0]
