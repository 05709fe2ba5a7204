"""Frames overwritten while no model runs (preview) or while one loads are not 'dropped'."""

from __future__ import annotations

import threading

from edgeui.engine.pipeline import Pipeline
from tests.engine.test_pipeline import Recorder, ScriptedSource
from tests.helpers.fake_model import FakeModel


class CountingSource(ScriptedSource):
    """A 200 fps live fake source whose reads a test can wait on."""

    def __init__(self) -> None:
        super().__init__(fps=200.0)
        self.reads = 0
        self.cond = threading.Condition()

    def read(self):
        frame = super().read()
        with self.cond:
            self.reads += 1
            self.cond.notify_all()
        return frame

    def wait_reads(self, more: int, timeout: float = 5.0) -> None:
        with self.cond:
            target = self.reads + more
            assert self.cond.wait_for(lambda: self.reads >= target, timeout), "no frames"


def test_frames_overwritten_while_a_model_loads_are_not_dropped() -> None:
    source = CountingSource()
    rec = Recorder()
    entered, release = threading.Event(), threading.Event()
    dropped_when_applied: list[int] = []

    def loader() -> FakeModel:
        entered.set()
        assert release.wait(10)
        return FakeModel()

    def on_model(model: object) -> None:
        dropped_when_applied.append(p.stats().dropped)

    p = Pipeline(None, source, on_result=rec.on_result, on_model=on_model)
    p.start()
    try:
        rec.wait(lambda: len(rec.results) >= 1)  # previewing
        p.set_model(loader)
        assert entered.wait(5)
        source.wait_reads(20)  # the capture thread overwrites the slot all along
        release.set()
        rec.wait(lambda: any(r.model_name == "fake" for r in rec.results))
    finally:
        release.set()
        p.stop()
    assert dropped_when_applied == [0]


def test_frames_overwritten_while_previewing_are_not_dropped() -> None:
    source = CountingSource()
    shown, go_on = threading.Event(), threading.Event()

    def on_result(fr) -> None:
        if not shown.is_set():  # the preview's first frame is slow to show
            shown.set()
            assert go_on.wait(10)

    p = Pipeline(None, source, on_result=on_result)
    p.start()
    try:
        assert shown.wait(5)
        source.wait_reads(20)
        go_on.set()
    finally:
        go_on.set()
        p.stop()
    assert p.stats().dropped == 0 and p.stats().processed >= 1


def test_a_slow_model_still_counts_its_drops() -> None:
    source = CountingSource()
    rec = Recorder()
    p = Pipeline(FakeModel(0.05), source, on_result=rec.on_result)
    p.start()
    try:
        rec.wait(lambda: len(rec.results) >= 3)
    finally:
        p.stop()
    assert p.stats().dropped > 5  # ~10 frames arrive per 50 ms inference
