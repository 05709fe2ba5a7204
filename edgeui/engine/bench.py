"""`edgeui bench`: the bare runtime against the full pipeline, in one process.

(a) bare: only ``model.infer`` on a pre-made input — the ceiling nobody can beat;
(b) pipeline: source -> capture thread -> preprocess -> inference -> decode, as `run` does.
Their ratio says what our plumbing costs. Also: load time, first inference, peak RSS.

Files (videos, images, folders, globs) are read unpaced and looped: a 30 fps clip played at
its own rate would measure the clip, not the pipeline. A live source (a camera, a stream, a
paced synthetic pattern) cannot be sped up; the report says when its rate was the limit.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeui.engine.pipeline import STAGES, Pipeline
from edgeui.engine.sources import open_source, source_kind
from edgeui.engine.stats import Percentiles

DEFAULT_SOURCE = "synthetic:640x480@0"  # unpaced: frames on demand, as fast as inference
# A live source whose rate the pipeline reaches within this fraction was the limit.
SOURCE_LIMIT_MARGIN = 0.9
DEFAULT_ROUNDS = 8
# Fewer measured frames than this, and the report says its figures mean little: p99 of fewer
# than 100 frames is about the slowest one, p95 of fewer than 20 too, and a round of under
# 10 frames cannot show that the machine changed speed within it (see _one_speed).
MIN_FRAMES = 100
# A round whose pipeline inference p50 differs from its own bare p50 by more than this ran
# on a machine that changed speed in between (turbo, thermal limits, a shared host that
# switches clock): comparing its two halves would compare two machines.
SAME_CLOCK = 0.25
# ... or by more than this: a tiny model's time varies more than a quarter with the caches.
SAME_CLOCK_MS = 1.0


def bench_source_options(uri: str) -> dict[str, Any]:
    """Source options for a benchmark: files unpaced (as fast as the pipeline takes them)
    and looped (a short clip must not end the run); live sources as they are."""
    kind = source_kind(str(uri))
    if kind == "video":
        return {"realtime": False, "loop": True}
    if kind == "images":
        return {"fps": None, "loop": True}
    return {}


def source_limit_note(capture_fps: float) -> str:
    """The sentence for a run that the live source's frame rate held back."""
    return (f"the source delivers {capture_fps:.1f} fps: the pipeline cannot go faster; use an "
            f"unpaced source such as {DEFAULT_SOURCE} or a file to measure the plumbing")


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MiB."""
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)
    except ImportError:  # Windows
        import psutil

        info = psutil.Process().memory_info()
        return float(getattr(info, "peak_wset", info.rss)) / 2**20


def current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def percentiles(values_ms: list[float]) -> Percentiles:
    if not values_ms:
        return Percentiles()
    p50, p95, p99 = np.percentile(np.asarray(values_ms, np.float64), (50, 95, 99))
    return Percentiles(float(p50), float(p95), float(p99))


@dataclass(frozen=True)
class BenchReport:
    model: str
    runtime: str
    source: str
    frames: int
    load_ms: float
    first_inference_ms: float
    bare_fps: float
    pipeline_fps: float
    bare_inference_ms: Percentiles
    stages_ms: dict[str, Percentiles] = field(default_factory=dict)
    dropped: int = 0
    peak_rss_mb: float = 0.0
    source_live: bool = False  # paced by the source (camera, stream, synthetic@N)
    capture_fps: float = 0.0  # frames a second the source delivered while measured
    rounds: int = 1  # bare/pipeline round pairs run
    # ... and counted (the machine kept its speed within them). 0: none was, and the
    # figures are from all of them (the note says so).
    rounds_counted: int = 1

    @property
    def ratio(self) -> float:
        return self.pipeline_fps / self.bare_fps if self.bare_fps else 0.0

    @property
    def source_limited(self) -> bool:
        """Whether a live source slower than the model set the pipeline's rate."""
        return (self.source_live and self.capture_fps > 0
                and self.pipeline_fps >= SOURCE_LIMIT_MARGIN * self.capture_fps
                and (not self.bare_fps or self.capture_fps < self.bare_fps))

    @property
    def note(self) -> str | None:
        notes = []
        if self.rounds_counted == 0:
            notes.append("the machine changed speed in every round (its inference time moved "
                         "by more than a quarter): the figures are from all of them and may "
                         "compare two machines")
        elif self.rounds_counted < self.rounds:
            notes.append(f"{self.rounds - self.rounds_counted} of {self.rounds} rounds not "
                         "counted: the machine changed speed during them (its inference time "
                         "moved by more than a quarter)")
        if self.source_limited:
            notes.append(source_limit_note(self.capture_fps))
        if self.frames < MIN_FRAMES:
            notes.append(f"only {self.frames} frames measured, in {self.rounds} rounds: too "
                         "few for p95/p99 or the per-round speed check to mean much; measure "
                         f"{MIN_FRAMES} or more (--frames {MIN_FRAMES})")
        return "; ".join(notes) or None

    def to_dict(self) -> dict[str, Any]:
        pre = self.stages_ms.get("preprocess", Percentiles()).p50
        post = self.stages_ms.get("postprocess", Percentiles()).p50
        frame_ms = 1e3 / self.pipeline_fps if self.pipeline_fps else 0.0
        e2e = self.stages_ms.get("end_to_end", Percentiles()).p50
        return {
            "model": self.model, "runtime": self.runtime, "source": self.source,
            "frames": self.frames,
            "bare_fps": round(self.bare_fps, 2), "pipeline_fps": round(self.pipeline_fps, 2),
            "ratio": round(self.ratio, 4),
            "load_ms": round(self.load_ms, 2),
            "first_inference_ms": round(self.first_inference_ms, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "dropped": self.dropped,
            "bare_inference_ms": self.bare_inference_ms.to_dict(),
            "stages_ms": {k: self.stages_ms.get(k, Percentiles()).to_dict() for k in STAGES},
            # The goals, computed: plumbing share of a frame and latency over bare inference.
            "pre_post_share": round((pre + post) / frame_ms, 4) if frame_ms else 0.0,
            "end_to_end_over_bare": round(e2e / self.bare_inference_ms.p50, 3)
            if self.bare_inference_ms.p50 else 0.0,
            "source_live": self.source_live,
            "capture_fps": round(self.capture_fps, 2),
            "source_limited": self.source_limited,
            "rounds": self.rounds, "rounds_counted": self.rounds_counted,
            "note": self.note,
        }


def bare_loop(model: Any, frames: int, warmup: int = 5) -> tuple[float, list[float]]:
    """(fps, per-call ms) of ``model.infer`` on one pre-made input."""
    feeds = model.dummy_feeds()
    for _ in range(warmup):
        model.infer(feeds)
    times = []
    start = time.perf_counter()
    for _ in range(frames):
        t0 = time.perf_counter()
        model.infer(feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    elapsed = time.perf_counter() - start
    return (frames / elapsed if elapsed > 0 else 0.0), times


@dataclass
class _Round:
    bare_ms: list[float]  # per bare call
    bare_seconds: float
    frames: int  # pipeline frame intervals measured
    seconds: float
    timings: list[Any]  # the pipeline's StageTimings per frame
    capture_fps: float
    dropped: int = 0  # frames the pipeline dropped in this round
    live: bool = False  # the source is paced

    @property
    def waited(self) -> bool:
        """Whether the pipeline waited for a live source's frames: its inference ran after
        idle gaps (parked threads, cold caches, a lower clock), so its time need not match
        the bare loop's back-to-back calls, on the steadiest machine too."""
        return (self.live and self.capture_fps > 0 and self.seconds > 0
                and self.frames / self.seconds >= SOURCE_LIMIT_MARGIN * self.capture_fps)

    @property
    def steady(self) -> bool:
        """Whether the machine kept one speed through the round: within each half (a switch
        part way through moves a half's mean, not its median) and between the two."""
        inf = [t.inference_ms for t in self.timings]
        if not self.bare_ms or not inf or self.waited:
            return True
        if not (_one_speed(self.bare_ms) and _one_speed(inf)):
            return False
        bare, piped = float(np.median(self.bare_ms)), float(np.median(inf))
        return _same_speed(bare, piped)


def _same_speed(a_ms: float, b_ms: float) -> bool:
    return abs(b_ms - a_ms) <= max(SAME_CLOCK * min(a_ms, b_ms), SAME_CLOCK_MS)


def _one_speed(times_ms: list[float]) -> bool:
    """Whether a run of inference times came from one machine speed: its 10th and 90th
    percentiles agree as two halves must. A host that switches speed part way through
    (a shared cloud core here: about 8.4 or 16 ms per YOLOX frame, every few seconds) gives
    a mixture whose mean says nothing about either speed."""
    if len(times_ms) < 10:
        return True
    p10, p90 = np.percentile(np.asarray(times_ms, np.float64), (10, 90))
    return _same_speed(float(p10), float(p90))


class _PipelineRounds:
    """One pipeline run several times, each round measured on its own."""

    def __init__(self, model: Any, source: str, window: int,
                 on_event: Callable[[Any], None] | None,
                 source_options: dict[str, Any] | None = None) -> None:
        self.marks: list[float] = []
        self.timings: list[Any] = []
        self.captured: list[tuple[int, float]] = []  # (frame id, capture time) per result
        self.pipeline = Pipeline(model, source, on_result=self._on_result, on_event=on_event,
                                 window=window, retry=False, source_options=source_options)

    def _on_result(self, fr: Any) -> None:
        self.marks.append(time.perf_counter())
        self.timings.append(fr.timings)
        frame = fr.frame
        self.captured.append((int(getattr(frame, "frame_id", 0)),
                              float(getattr(frame, "monotonic", 0.0))))

    def _capture_fps(self) -> float:
        """Frames the source made a second over this round, from the ids and capture times
        of the frames processed (precise over a few frames, where a rate meter is not)."""
        if len(self.captured) < 2:
            return 0.0
        (id0, t0), (id1, t1) = self.captured[0], self.captured[-1]
        return (id1 - id0) / (t1 - t0) if t1 > t0 and id1 > id0 else 0.0

    def run(self, frames: int, warmup: int = 0) -> tuple[int, float, list[Any], float, int]:
        """(frame intervals, seconds, their timings, the source's rate meanwhile, frames
        dropped meanwhile)."""
        if warmup:
            self.pipeline.run(frames=warmup)
        self.marks.clear()
        self.timings.clear()
        self.captured.clear()
        dropped = self.pipeline.stats().dropped
        # n+1 marks span n frame intervals, from the second result on: a source (re)opened
        # for the round may hand over its first two frames back to back (a paced pattern, a
        # camera's buffer), and that burst is no frame interval of the pipeline.
        self.pipeline.run(frames=frames + 2)
        dropped = self.pipeline.stats().dropped - dropped
        marks, timings = self.marks[1:], self.timings[2:]
        self.captured = self.captured[1:]
        if len(marks) < 2:
            return 0, 0.0, [], 0.0, dropped
        return len(marks) - 1, marks[-1] - marks[0], list(timings), self._capture_fps(), dropped


def _stage_percentiles(timings: list[Any]) -> dict[str, Percentiles]:
    columns: dict[str, list[float]] = {k: [] for k in STAGES}
    for t in timings:
        for k, v in t.as_dict().items():
            columns[k].append(v)
    return {k: percentiles(v) for k, v in columns.items()}


def run_bench(model_loader: Callable[[], Any], source: str = DEFAULT_SOURCE,
              frames: int = 200, warmup: int = 5, rounds: int = DEFAULT_ROUNDS,
              on_event: Callable[[Any], None] | None = None,
              source_options: dict[str, Any] | None = None) -> BenchReport:
    """Load the model (timed), then measure the bare loop and the full pipeline.

    The two are interleaved in ``rounds`` chunks, so a change of machine load or clock
    speed during the benchmark affects both sides of the ratio alike; a round in which the
    machine changed speed between its two halves is not counted (see :data:`SAME_CLOCK`).
    ``source_options`` default to :func:`bench_source_options` (files unpaced and looped).
    """
    if source_options is None:
        source_options = bench_source_options(source)
    # Constructing a source opens nothing; it only says whether it is paced.
    source_live = bool(getattr(open_source(source, **source_options), "live", True))
    t0 = time.perf_counter()
    model = model_loader()
    load_ms = (time.perf_counter() - t0) * 1e3
    feeds = model.dummy_feeds()
    t0 = time.perf_counter()
    model.infer(feeds)
    first_ms = (time.perf_counter() - t0) * 1e3
    rounds = max(1, min(rounds, frames))
    chunk = [frames // rounds + (1 if i < frames % rounds else 0) for i in range(rounds)]
    piped = _PipelineRounds(model, source, max(frames, 10), on_event, source_options)
    measured: list[_Round] = []
    for i, n in enumerate(chunk):
        fps, times = bare_loop(model, n, warmup if i == 0 else 0)
        measured.append(_Round(times, n / fps if fps else 0.0,
                               *piped.run(n, warmup if i == 0 else 0), live=source_live))
    steady = [r for r in measured if r.steady]
    counted = steady or measured  # none steady: all, and the note says so
    bare_times = [ms for r in counted for ms in r.bare_ms]
    bare_seconds = sum(r.bare_seconds for r in counted)
    bare_fps = len(bare_times) / bare_seconds if bare_seconds > 0 else 0.0
    piped_frames = sum(r.frames for r in counted)
    piped_seconds = sum(r.seconds for r in counted)
    pipeline_fps = piped_frames / piped_seconds if piped_seconds > 0 else 0.0
    capture_fps = (sum(r.capture_fps * r.frames for r in counted) / piped_frames
                   if piped_frames else 0.0)
    try:
        runtime = model.runtime.describe()
    except Exception:
        runtime = ""
    return BenchReport(
        model=str(getattr(model, "path", getattr(model, "name", ""))), runtime=runtime,
        source=source, frames=frames, load_ms=load_ms, first_inference_ms=first_ms,
        bare_fps=bare_fps, pipeline_fps=pipeline_fps,
        bare_inference_ms=percentiles(bare_times),
        stages_ms=_stage_percentiles([t for r in counted for t in r.timings]),
        dropped=sum(r.dropped for r in counted), peak_rss_mb=peak_rss_mb(),
        source_live=source_live, capture_fps=capture_fps,
        rounds=len(measured), rounds_counted=len(steady),
    )
