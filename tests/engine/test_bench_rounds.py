"""`edgeui bench` on a machine that changes speed: such rounds compare two machines."""

from __future__ import annotations

import pytest

from edgeui.engine import bench
from tests.helpers.fake_model import FakeModel


def test_a_round_where_the_machine_changed_speed_is_not_counted(monkeypatch) -> None:
    model = FakeModel(0.002)
    bare_rounds = []
    real_bare_loop = bench.bare_loop

    def bare_then_slow_down(m, frames, warmup=5):
        model.delay = 0.002
        out = real_bare_loop(m, frames, warmup)
        bare_rounds.append(frames)
        if len(bare_rounds) == 2:  # the machine slows down right after round 2's bare half
            model.delay = 0.008
        return out

    monkeypatch.setattr(bench, "bare_loop", bare_then_slow_down)
    report = bench.run_bench(lambda: model, source="synthetic:64x48@0", frames=40, rounds=4,
                             warmup=0)
    assert len(bare_rounds) == 4
    assert (report.rounds, report.rounds_counted) == (4, 3)
    assert report.note.startswith("1 of 4 rounds not counted: the machine changed speed")
    # The slow half is in no figure: the pipeline ran ~2 ms frames in the counted rounds.
    assert report.stages_ms["inference"].p99 < 6.0
    assert report.to_dict()["rounds_counted"] == 3


def test_a_steady_machine_counts_every_round() -> None:
    report = bench.run_bench(lambda: FakeModel(0.002), source="synthetic:64x48@0", frames=40,
                             rounds=4, warmup=0)
    assert (report.rounds, report.rounds_counted) == (4, 4)
    assert report.note.startswith("only 40 frames measured")
    assert "changed speed" not in report.note
    assert report.ratio == pytest.approx(report.pipeline_fps / report.bare_fps)


def test_a_round_where_the_machine_changed_speed_part_way_through_a_half_is_not_counted(
        monkeypatch) -> None:
    # The median of that half stays at the fast speed, so comparing medians cannot see it;
    # its mean (and so the round's fps) mixes two machines.
    model = FakeModel(0.002)
    rounds: list[int] = []
    real_bare_loop, real_infer = bench.bare_loop, model.infer
    piped = {"calls": 0, "bare": False}

    def count_rounds(m, frames, warmup=5):
        rounds.append(frames)
        model.delay, piped["bare"] = 0.002, True
        out = real_bare_loop(m, frames, warmup)
        piped["calls"], piped["bare"] = 0, False  # from here on, the round's pipeline half
        return out

    def infer(feeds):
        if not piped["bare"]:
            piped["calls"] += 1
            if len(rounds) == 3 and piped["calls"] > 16:  # round 3's last ~30 % of frames
                model.delay = 0.008
        return real_infer(feeds)

    monkeypatch.setattr(bench, "bare_loop", count_rounds)
    monkeypatch.setattr(model, "infer", infer)
    report = bench.run_bench(lambda: model, source="synthetic:64x48@0", frames=80, rounds=4,
                             warmup=0)
    assert (report.rounds, report.rounds_counted) == (4, 3)
    assert report.stages_ms["inference"].p99 < 6.0
