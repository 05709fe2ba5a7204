"""Review of `edgeui bench`'s rounds: what the report says when no round is steady, live
sources the pipeline waits for, the first frames of a reopened source, dropped frames."""

from __future__ import annotations

import pytest

from edgeui.engine import bench
from tests.helpers.fake_model import FakeModel


def _pipeline_slower_than_bare(monkeypatch, model: FakeModel, slow_from_round: int = 1):
    """Bare halves at 1 ms; from round ``slow_from_round`` on the pipeline's at 6 ms."""
    real_bare_loop = bench.bare_loop
    rounds = []

    def bare_loop(m, frames, warmup=5):
        model.delay = 0.001
        out = real_bare_loop(m, frames, warmup)
        rounds.append(frames)
        if len(rounds) >= slow_from_round:
            model.delay = 0.006
        return out

    monkeypatch.setattr(bench, "bare_loop", bare_loop)
    return rounds


def test_no_steady_round_is_said_and_not_counted_as_steady(monkeypatch) -> None:
    model = FakeModel(0.001)
    _pipeline_slower_than_bare(monkeypatch, model)
    report = bench.run_bench(lambda: model, source="synthetic:64x48@0", frames=16, rounds=4,
                             warmup=0)
    # Figures from all rounds (nothing better), but not claimed steady, and said.
    assert (report.rounds, report.rounds_counted) == (4, 0)
    assert "changed speed in every round" in report.note
    assert report.pipeline_fps > 0 and report.bare_fps > 0
    assert report.to_dict()["rounds_counted"] == 0


def test_a_live_source_the_pipeline_waits_for_is_not_judged_by_its_inference_time(
        monkeypatch) -> None:  # fmt: skip
    # Waiting for frames, inference runs after idle gaps (parked threads, a lower clock):
    # slower than the bare loop's back-to-back calls without the machine changing speed.
    model = FakeModel(0.001)
    _pipeline_slower_than_bare(monkeypatch, model, slow_from_round=3)
    report = bench.run_bench(lambda: model, source="synthetic:64x48@40", frames=16, rounds=4,
                             warmup=0)
    assert report.source_limited
    assert (report.rounds, report.rounds_counted) == (4, 4)
    assert "rounds not counted" not in report.note
    assert "changed speed" not in report.note


def test_a_live_source_is_not_measured_faster_than_it_delivers() -> None:
    # Each round reopens the source; a paced pattern hands over its first two frames back
    # to back, which is no frame interval of the pipeline.
    report = bench.run_bench(lambda: FakeModel(0.0), source="synthetic:64x48@50", frames=8,
                             warmup=0)
    assert report.source_limited
    assert report.pipeline_fps == pytest.approx(50.0, rel=0.1)
    assert report.pipeline_fps <= 1.1 * report.capture_fps


class _SlowWarmup(FakeModel):
    """Calls ``slow`` (numbered from 1) take 100 ms, the others no time."""

    def __init__(self, slow: range) -> None:
        super().__init__(0.0)
        self.slow = slow

    def infer(self, feeds):
        self.delay = 0.1 if self.calls + 1 in self.slow else 0.0
        return super().infer(feeds)


def test_frames_dropped_while_warming_up_are_not_reported() -> None:
    # 1 first inference + 5 bare warm-up + 2 bare calls, then the pipeline's 5 warm-up
    # frames (calls 9-13) at 100 ms each from a 100 fps source: ~45 frames dropped there.
    model = _SlowWarmup(range(9, 14))
    report = bench.run_bench(lambda: model, source="synthetic:64x48@100", frames=16,
                             rounds=8, warmup=5)
    assert report.dropped < 20
