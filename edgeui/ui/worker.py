"""InferenceWorker: the engine Pipeline running in a dedicated QThread.

The worker is a QObject moved to its own QThread. When the thread starts, the worker
builds the engine :class:`~edgeui.engine.pipeline.Pipeline` there and calls its blocking
``run()``, so runtime sessions are created and used in that one thread. Models are handed
to the pipeline as zero-argument loaders, so ``Model.load`` also runs in the inference
thread between frames — the GUI thread never loads or runs a model.

The GUI talks to the worker only through signals (out) and the small thread-safe methods
below (in). Results are coalesced: the inference thread overwrites one "latest" slot and
posts at most one notification at a time; the GUI thread takes whatever is newest when
it runs. However slow the GUI, at most one result is ever waiting (never a queue of them).

Deliveries are also paced at the screen's refresh rate: after one, the GUI thread keeps
the notification gate shut for a refresh interval. A model faster than the screen thus
wakes the GUI thread once per refresh (a result nobody could see is never delivered), not
once per frame — on a 2-core machine every GUI wake-up pre-empts an inference thread. When
the gate opens, the next result is delivered the moment it is made (so the GUI paints
while the inference thread prepares the next frame, not mid-inference); a result waiting
from before goes out if none comes within a result interval (half a refresh interval at least,
a whole one at most). A result arriving after a quiet
interval is delivered at once, so a slow model's results are never held back long.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from edgeui.errors import EdgeUIError, ImageReadError, SourceError

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 0.25  # ~4 Hz: the panel is read by people, not machines
DEFAULT_DELIVERY_HZ = 60.0  # without a screen to ask (offscreen)
FAILING_S = 1.0  # no frame inferred for this long, the newest one failed: the model fails
# The stages a failed frame never completes: while a model fails, the stats have none.
INFERENCE_STAGES = ("preprocess", "inference", "postprocess", "end_to_end")
ERROR_REPEAT_S = 3.0  # the same message at most this often (a dead runtime fails per frame)

PipelineFactory = Callable[..., Any]


def error_message(exc: BaseException) -> str:
    """The one sentence to show a user for an exception."""
    if isinstance(exc, EdgeUIError):
        return str(exc)
    return f"Unexpected {type(exc).__name__}: {exc} (see the log; run with --debug for details)."


def source_label(source: Any) -> str:
    """How the engine's events name a source chosen as ``source`` (a URI, path or
    FrameSource), in one form whichever way they name it: a SourceEvent's ``source`` is
    the opened source's ``uri`` (the ``file:`` prefix stripped, a stream's password
    redacted), or the URI as requested when it could not even be made. Two names of one
    source give the same label; "" for none."""
    if source is None:
        return ""
    text = str(getattr(source, "uri", source))
    try:
        from edgeui.engine.sources.base import redact, strip_file_scheme
    except ImportError:  # a build without the sources: the URI as typed
        return text.strip()
    return redact(strip_file_scheme(text))


def _default_pipeline_factory(**kwargs: Any) -> Any:
    from edgeui.engine.pipeline import Pipeline

    return Pipeline(**kwargs)


def _default_model_loader(path: str, options: Any = None) -> Any:
    # Probed in a child process first: a model that aborts its runtime must not end the app.
    from edgeui.engine.probe import load_model

    return load_model(path, options)


def _share_cores_with_the_gui() -> None:
    """OpenCV at one thread in the app: its work then runs where it is called (the GUI
    thread scaling frames, the inference thread between inferences), instead of waking a
    pool thread on a core the runtime is using — where a parallel operator waits for it.
    Measured on 2 cores with YOLOX-nano: the engine's own rate is the same either way
    (paired ratio 0.99-1.03), the app's rises from 0.94 to 0.96 of it."""
    try:
        import cv2

        cv2.setNumThreads(1)
    except Exception:  # OpenCV missing or odd: only a speed matter
        log.debug("cv2.setNumThreads failed", exc_info=True)


class _Runner(QObject):
    """The QObject moved to the inference QThread; its slot runs the pipeline loop there."""

    def __init__(self, worker: InferenceWorker) -> None:
        super().__init__()
        self._worker = worker

    @Slot()
    def run(self) -> None:
        self._worker._run()


class InferenceWorker(QObject):
    """Runs the engine pipeline in its own QThread and reports through signals.

    This object itself stays in the GUI thread, so every signal reaches GUI slots and
    lambdas queued into the GUI thread whichever engine thread emitted it; the loop runs
    in a private QObject moved to the dedicated QThread.
    """

    _poke = Signal()  # inference thread -> GUI thread: "a newer result is waiting"

    result_ready = Signal(object)  # FrameResult (newest only), emitted in the GUI thread
    stats = Signal(object)  # PipelineStats, ~4 Hz
    state_changed = Signal(object)  # SourceEvent
    errored = Signal(str)  # one user-facing sentence
    model_changed = Signal(object)  # the newly running Model
    model_failed = Signal(str, str)  # path, message (the previous model keeps running)
    busy = Signal(bool)  # a model is loading
    finished = Signal()  # the pipeline loop has returned

    def __init__(
        self,
        *,
        source: Any = None,
        model_path: str | None = None,
        model_options: Any = None,
        fps_limit: float | None = None,
        retry: bool = True,
        pipeline_factory: PipelineFactory | None = None,
        model_loader: Callable[[str, Any], Any] | None = None,
    ) -> None:
        super().__init__()
        self._factory = pipeline_factory or _default_pipeline_factory
        self._loader = model_loader or _default_model_loader
        self._source = source
        self._source_options: dict[str, Any] = {}
        self._fps_limit = fps_limit
        self._retry = retry
        self._lock = threading.Lock()
        self._pipeline: Any = None
        self._pending: list[Callable[[Any], None]] = []  # calls made before the pipeline exists
        self._stopping = False
        self._model: Any = None
        self._paused = False
        # The single "latest" slot between the inference thread and the GUI thread.
        self._latest: Any = None
        self._latest_stats: Any = None
        self._poked = False
        self._last_stats_t = 0.0
        self._last_result_t = 0.0
        self._result_interval = 0.0  # seconds between results, smoothed (inference thread)
        # When a frame last inferred / last raised (inference thread): while the newest ones
        # fail, the stats shown leave out the last good rate and latencies.
        self._last_ok_t = 0.0
        self._last_failed_t = 0.0
        self._due = 0.0  # when the next delivery is due on the refresh schedule (GUI thread)
        self._last_error: tuple[str, float] = ("", 0.0)
        self._reported: BaseException | None = None
        self._model_errors: list[str] = []  # the newest messages about a model, not a source
        self.results_delivered = 0
        self.results_coalesced = 0

        self._poke.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        # Shut after each delivery for one refresh interval; see the module docstring.
        self._gate = QTimer(self)
        self._gate.setSingleShot(True)
        self._gate.setTimerType(Qt.TimerType.PreciseTimer)
        self._gate.timeout.connect(self._reopen)
        # After the gate opens, how long a waiting result waits for a fresher one.
        self._stale = QTimer(self)
        self._stale.setSingleShot(True)
        self._stale.setTimerType(Qt.TimerType.PreciseTimer)
        self._stale.timeout.connect(self._deliver_stale)
        self.set_max_delivery_rate(None)
        self._thread = QThread()
        self._thread.setObjectName("edgeui-inference")
        self._runner = _Runner(self)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        if model_path:
            self.set_model_path(model_path, model_options)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the inference thread (returns at once)."""
        if not self._thread.isRunning() and not self._stopping:
            self._thread.start()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def thread_handle(self) -> QThread:
        return self._thread

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the pipeline and join the thread; True when the thread has ended."""
        with self._lock:
            self._stopping = True
            pipeline = self._pipeline
        if pipeline is not None:
            try:
                pipeline.stop(timeout=timeout)
            except Exception:  # stopping must never raise into a close handler
                log.exception("pipeline.stop failed")
        self._thread.quit()
        ended = self._thread.wait(int(timeout * 1000)) if self._thread.isRunning() else True
        if not ended:
            log.error("the inference thread did not stop within %.1f s", timeout)
        return bool(ended)

    def _run(self) -> None:
        """Runs in the inference thread: build the pipeline, then loop until stopped."""
        _share_cores_with_the_gui()
        try:
            pipeline = self._factory(
                model=None,
                source=None,
                fps_limit=self._fps_limit,
                retry=self._retry,
                on_result=self._on_result,
                on_event=self._on_event,
                on_error=self._on_error,
                on_model=self._on_model,
            )
            with self._lock:
                if self._stopping:
                    return
                self._pipeline = pipeline
                pending, self._pending = self._pending, []
            if self._source is not None:
                self._safe(pipeline.set_source, self._source, self._source_options)
            for call in pending:
                self._safe(call, pipeline)
            pipeline.run()
        except Exception as exc:
            log.exception("the inference loop failed")
            self._emit_error(error_message(exc))
        finally:
            with self._lock:
                self._pipeline = None
            self.finished.emit()
            QThread.currentThread().quit()

    def _safe(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:
            log.debug("worker call failed", exc_info=True)
            self._emit_error(error_message(exc))

    def _with_pipeline(self, call: Callable[[Any], None]) -> None:
        """Run ``call(pipeline)`` now, or as soon as the pipeline exists."""
        with self._lock:
            pipeline = self._pipeline
            if pipeline is None:
                self._pending.append(call)
                return
        self._safe(call, pipeline)

    # --- commands from the GUI thread (thread-safe) ---------------------------------------
    def set_model_path(self, path: str | Path, options: Any = None) -> None:
        """Load a model in the inference thread; the current one runs until it is ready."""
        path = str(path)
        self.busy.emit(True)
        loader = functools.partial(self._load_model, path, options)
        self._with_pipeline(lambda p: p.set_model(loader))

    def set_model(self, model_or_loader: Any) -> None:
        """Hand the pipeline a ready model (tests, benchmarks) or a zero-argument loader."""
        self._with_pipeline(lambda p: p.set_model(model_or_loader))

    def set_source(self, source: Any, options: dict[str, Any] | None = None) -> bool:
        """Switch the input (a URI, path or FrameSource) without stopping.

        ``options`` go to ``open_source`` (e.g. a slideshow's fps). A URI is built here to
        check it, and again by the pipeline (so that it can open it afresh if a driver leaves
        a read hanging), opened in the capture thread, so this never blocks on a device. A
        source that cannot even be built (a folder with no images, a missing file, an
        unknown scheme) is reported at once, as the "failed" event the pipeline would send
        (and on ``errored``): False is returned and the current source runs on.
        """
        if isinstance(source, str):
            try:
                from edgeui.engine.sources import open_source

                open_source(source, **(options or {}))  # a folder with no images: said now
            except Exception as exc:
                message = error_message(exc)
                try:
                    from edgeui.engine.sources.base import SourceEvent

                    self.state_changed.emit(SourceEvent("failed", message,
                                                        source_label(source)))
                except ImportError:
                    pass
                self._emit_error(message)
                return False
        self._source, self._source_options = source, dict(options or {})
        self._with_pipeline(lambda p: p.set_source(source, options or None))
        return True

    def pause(self) -> None:
        self._paused = True
        self._with_pipeline(lambda p: p.pause())

    def resume(self) -> None:
        self._paused = False
        self._with_pipeline(lambda p: p.resume())

    def is_paused(self) -> bool:
        return self._paused

    def set_thresholds(self, **changes: Any) -> None:
        """conf / iou / top_k for the running model; applied from the next frame."""
        model = self._model
        if model is not None and hasattr(model, "set_thresholds"):
            # Model.set_thresholds swaps one frozen dataclass: an atomic attribute store.
            self._safe(lambda: model.set_thresholds(**changes))

    def set_max_delivery_rate(self, hz: float | None) -> None:
        """Deliver results at most ``hz`` times a second (None: the primary screen's rate)."""
        if hz is None:
            from PySide6.QtGui import QGuiApplication

            screen = QGuiApplication.primaryScreen()
            rate = float(screen.refreshRate()) if screen is not None else 0.0
            hz = rate if rate >= 20.0 else DEFAULT_DELIVERY_HZ
        self._delivery_ms = max(1, math.ceil(1000.0 / max(1.0, float(hz))))

    def current_model(self) -> Any:
        return self._model

    def pipeline_stats(self) -> Any:
        with self._lock:
            pipeline = self._pipeline
        return pipeline.stats() if pipeline is not None else None

    # --- callbacks from the engine threads ------------------------------------------------
    def _load_model(self, path: str, options: Any) -> Any:
        """Runs in the inference thread (the pipeline calls the loader between frames)."""
        try:
            model = self._loader(path, options)
        except Exception as exc:
            # model_failed carries it to the user; the pipeline also hands the same
            # exception to on_error, which must not show it a second time.
            self._reported = exc
            self.model_failed.emit(path, error_message(exc))
            self.busy.emit(False)
            raise
        self.busy.emit(False)
        return model

    def _on_result(self, frame_result: Any) -> None:
        now = time.monotonic()
        if self._last_result_t:
            gap = now - self._last_result_t
            self._result_interval += 0.2 * (gap - self._result_interval) if \
                self._result_interval else gap
        self._last_result_t = now
        if getattr(frame_result, "error", None) is not None:
            self._last_failed_t = now
        elif getattr(frame_result, "result", None) is not None:
            self._last_ok_t = now
        stats = None
        if now - self._last_stats_t >= STATS_INTERVAL_S:
            self._last_stats_t = now
            pipeline = self._pipeline
            if pipeline is not None:
                try:
                    stats = self._without_failures(pipeline.stats(), now)
                except Exception:
                    log.debug("pipeline.stats failed", exc_info=True)
        with self._lock:
            if self._latest is not None:
                self.results_coalesced += 1
            self._latest = frame_result
            if stats is not None:
                self._latest_stats = stats
            if self._poked:
                return
            self._poked = True
        self._poke.emit()

    def _without_failures(self, stats: Any, now: float) -> Any:
        """The pipeline's stats while the model fails (the newest frame failed, none
        inferred for FAILING_S): the rate is 0 and the inference stages are left out, so the
        panel and the header say "–" rather than the last good frames' numbers. (The engine
        counts a frame whose model raised as an error, never as processed or inferred.)"""
        failing = self._last_failed_t > self._last_ok_t and now - self._last_ok_t >= FAILING_S
        if not failing or not dataclasses.is_dataclass(stats):
            return stats
        changes: dict[str, Any] = {
            "inference_fps": 0.0,
            "stages": {k: v for k, v in (getattr(stats, "stages", {}) or {}).items()
                       if k not in INFERENCE_STAGES},
        }  # fmt: skip
        try:
            return dataclasses.replace(stats, **changes)
        except TypeError:  # another kind of stats: as they are
            return stats

    @Slot()
    def _deliver(self) -> None:
        """GUI thread: take the newest result and stats; the gate stays shut a while."""
        with self._lock:
            result, self._latest = self._latest, None
            stats, self._latest_stats = self._latest_stats, None
            if result is None and stats is None:
                self._poked = False  # taken meanwhile (by _deliver_stale): stay open
                return
        # _poked stays True: results meanwhile only overwrite the slot, with no wake-up.
        self._stale.stop()
        # Deliveries keep to a schedule one refresh interval apart, and the gate opens half
        # a result interval before the next slot: the fresh result it waits for comes
        # nearest that slot, so results go out at the cap on average and never above it
        # (opened half a result early after each delivery instead, every result of a model
        # up to 1.5 times faster than the cap went through). A delivery away from its slot
        # (a slow model, a pause) starts the schedule afresh.
        interval = self._delivery_ms / 1000.0
        half = self._result_interval / 2.0
        now = time.monotonic()
        if 2.0 * half < interval:
            self._due = self._due + interval if now - self._due <= half else now + interval
            wait = self._due - half - now
        else:
            self._due, wait = now + interval, interval
        self._gate.start(max(1, round(wait * 1000.0)))
        if result is not None:
            self.results_delivered += 1
            self.result_ready.emit(result)
        if stats is not None:
            self.stats.emit(stats)

    @Slot()
    def _reopen(self) -> None:
        """GUI thread, one refresh interval after a delivery: open the gate.

        A result that came meanwhile is not delivered at once: a fast model's next one is
        due within moments, and it is delivered the instant it is made. The GUI thread then
        paints while the inference thread reads and prepares the next frame, with a core
        to spare, not in the middle of an inference (where every millisecond the GUI takes
        stalls the runtime's threads). A waiting result goes out when no fresher one came
        within a result interval (:meth:`_deliver_stale`).
        """
        with self._lock:
            waiting = self._latest is not None or self._latest_stats is not None
            self._poked = False
        if waiting:
            # The fresh one is due within a result interval (the gate may open just after
            # a result): waiting less would deliver the stale one just before it comes.
            fresh_ms = math.ceil(self._result_interval * 1250.0)
            self._stale.start(max(1, self._delivery_ms // 2, min(self._delivery_ms, fresh_ms)))

    @Slot()
    def _deliver_stale(self) -> None:
        """GUI thread: no fresher result came; deliver the one waiting."""
        with self._lock:
            if self._poked:
                return  # a fresh one is already on its way
            self._poked = True
        self._deliver()

    def _on_event(self, event: Any) -> None:
        self.state_changed.emit(event)

    def _on_error(self, exc: BaseException) -> None:
        if exc is self._reported:  # a model load failure, already sent as model_failed
            self._reported = None
            return
        if not isinstance(exc, EdgeUIError):
            log.error("engine error", exc_info=(type(exc), exc, exc.__traceback__))
        message = error_message(exc)
        if not isinstance(exc, SourceError | ImageReadError):  # the model's (its inference)
            self._model_errors = [*self._model_errors[-15:], message]
        self._emit_error(message)

    def is_model_error(self, message: str) -> bool:
        """Whether ``errored`` said this about the model (its inference failed), not about
        the source: a model that loads later closes its card."""
        return message in self._model_errors

    def _emit_error(self, message: str) -> None:
        now = time.monotonic()
        last, t = self._last_error
        if message == last and now - t < ERROR_REPEAT_S:
            return
        self._last_error = (message, now)
        self.errored.emit(message)

    def _on_model(self, model: Any) -> None:
        self._model = model
        self.model_changed.emit(model)
