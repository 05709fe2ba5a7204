"""QA pass 5: `run` on a source that never delivered a frame, `inspect`'s error said once."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

from edgeui.cli import main
from edgeui.engine.sources.base import FrameMaker, SourceUnavailable
from tests.helpers.fake_capture import UnopenedCapture
from tests.helpers.modelgen import make_custom_op_onnx


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class FlakySource:
    """A live source that gives ``frames`` frames, then drops out and never comes back."""

    live = True

    def __init__(self, uri: str = "fake://cam", frames: int = 2, on_open=None) -> None:
        self.uri = uri
        self.left = frames
        self.opens = 0
        self.on_open = on_open
        self.make = FrameMaker(uri)

    def open(self) -> None:
        self.opens += 1
        if self.on_open is not None:
            self.on_open(self.opens)
        if self.opens > 1 or self.left == 0:
            raise SourceUnavailable(f"{self.uri}: cannot connect (refused or not reachable).")

    def read(self):
        if self.left == 0:
            raise SourceUnavailable(f"{self.uri}: the stream stopped sending frames.")
        self.left -= 1
        return self.make(np.zeros((64, 64, 3), np.uint8))

    def close(self) -> None:
        pass


def test_run_on_a_stream_that_never_connected_fails_with_the_reason(det_model, capsys,
                                                                    monkeypatch):
    monkeypatch.setattr("edgeui.engine.sources.stream.cv2.VideoCapture", UnopenedCapture)
    url = "http://127.0.0.1:9/x"
    code, out, err = run_cli(capsys, "run", str(det_model), "--source", url,
                             "--duration", "0.5")
    assert code == 2, err
    assert out == ""
    lines = err.splitlines()
    assert lines[-2].startswith("edgeui: 0 frames in ")  # the summary still comes first
    assert lines[-1] == (f"edgeui: error: {url}: never delivered a frame in 0.5 s; last "
                         "attempt: cannot connect (refused or not reachable); check the "
                         "address and port, and that the camera is on and on this network.")


def test_run_that_had_frames_and_then_lost_the_source_still_exits_0(det_model, capsys,
                                                                     monkeypatch):
    source = FlakySource(frames=2)
    monkeypatch.setattr("edgeui.engine.sources.open_source", lambda *a, **k: source)
    code, out, err = run_cli(capsys, "run", str(det_model), "--source", "fake://cam",
                             "--duration", "0.5")
    assert code == 0, err
    assert out  # at least one result (a live source's frames may be dropped)
    assert "never delivered" not in err and "error:" not in err
    summary = err.splitlines()[-1]
    assert summary.startswith(("edgeui: 1 frame in ", "edgeui: 2 frames in ")), summary


@pytest.mark.skipif(os.name != "posix", reason="os.kill(SIGTERM) ends the process outright "
                    "on Windows")
def test_run_stopped_by_a_signal_before_any_frame_exits_0_and_says_so(det_model, capsys,
                                                                      monkeypatch):
    # systemd stopping a service whose camera never came is a clean stop, not a failure.
    def stop_at_the_second_try(opens: int) -> None:  # the first failure was reported by then
        if opens == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    source = FlakySource(frames=0, on_open=stop_at_the_second_try)
    monkeypatch.setattr("edgeui.engine.sources.open_source", lambda *a, **k: source)
    code, out, err = run_cli(capsys, "run", str(det_model), "--source", "fake://cam",
                             "--duration", "60")
    assert code == 0, err
    assert out == ""
    assert "error:" not in err
    assert err.splitlines()[-1] == ("edgeui: fake://cam: stopped by SIGTERM before the source "
                                    "delivered a frame; last attempt: cannot connect (refused "
                                    "or not reachable).")


def test_run_without_a_frame_and_without_a_reason_words_it_neutrally(
        det_model, capsys, monkeypatch):
    opened = threading.Event()
    release = threading.Event()

    class Hanging(FlakySource):
        def open(self) -> None:  # an open that takes longer than the run (a slow server)
            opened.set()
            release.wait(30)
            raise SourceUnavailable(f"{self.uri}: cannot connect (no answer within 10 s).")

    monkeypatch.setattr("edgeui.engine.sources.open_source", lambda *a, **k: Hanging())
    try:
        code, out, err = run_cli(capsys, "run", str(det_model), "--source", "fake://cam",
                                 "--duration", "0.3")
    finally:
        release.set()
        # The capture thread outlived the run inside open(); let it finish (and say its
        # last words) here rather than into the next test's output.
        for thread in threading.enumerate():
            if thread.name == "edgeui-capture":
                thread.join(30)
    assert opened.is_set()
    assert code == 2, err
    assert out == ""
    assert err.splitlines()[-1] == ("edgeui: error: fake://cam: never delivered a frame in "
                                    "0.3 s; it gave no frame before the run ended.")


class OnDemandSource(FlakySource):
    """An on-demand source (a file or folder read as fast as inference goes)."""

    live = False


def test_run_that_processed_frames_succeeds_even_if_the_live_event_comes_late(
        det_model, capsys, monkeypatch):
    # For an on-demand source the capture thread says "live" after the inference thread has
    # read (and may have processed) the frame; here it never gets to say it before the end.
    from edgeui.engine.pipeline import Pipeline

    emit = Pipeline._emit

    def no_live(self, state, *args, **kwargs):
        if state != "live":
            emit(self, state, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "_emit", no_live)
    source = OnDemandSource(frames=2)
    monkeypatch.setattr("edgeui.engine.sources.open_source", lambda *a, **k: source)
    code, out, err = run_cli(capsys, "run", str(det_model), "--source", "fake://file",
                             "--frames", "2")
    assert code == 0, err
    assert len(out.splitlines()) == 2
    assert "never delivered" not in err and "error:" not in err


def test_run_sets_the_v4l2_wait_from_the_stall_timeout_on_the_main_thread(det_model, capsys,
                                                                         monkeypatch):
    calls: list[tuple[float, bool]] = []

    def record(seconds: float = 5.0) -> None:
        calls.append((seconds, threading.current_thread() is threading.main_thread()))

    monkeypatch.setattr("edgeui.engine.sources.camera.configure_v4l_select_timeout", record)
    opened: list[int] = []
    source = FlakySource(frames=1, on_open=opened.append)

    def make_source(*_a, **_k):
        assert calls, "the V4L2 wait must be set before a source exists"
        return source

    monkeypatch.setattr("edgeui.engine.sources.open_source", make_source)
    code, _out, err = run_cli(capsys, "run", str(det_model), "--source", "fake://cam",
                              "--frames", "1", "--stall-timeout", "7.5")
    assert code == 0, err
    assert calls == [(7.5, True)]


def test_inspect_treats_inode_0_as_unknown_not_as_one_destination(monkeypatch):
    # Windows: fstat of any pipe gives st_ino == st_dev == 0, so two pipes would look alike.
    from edgeui.commands import inspect as inspect_command

    class Stream:
        def __init__(self, fd: int, tty: bool) -> None:
            self.fd, self.tty = fd, tty

        def fileno(self) -> int:
            return self.fd

        def isatty(self) -> bool:
            return self.tty

    zero = os.stat_result((0o10600, 0, 0, 1, 0, 0, 0, 0, 0, 0))
    monkeypatch.setattr(inspect_command.os, "fstat", lambda fd: zero)
    same = inspect_command._same_destination
    assert not same(Stream(1, False), Stream(2, False))  # two pipes: keep both lines
    assert not same(Stream(1, True), Stream(2, False))
    assert same(Stream(1, True), Stream(2, True))  # one console


@pytest.fixture
def custom_op_model(tmp_path: Path) -> Path:
    return make_custom_op_onnx(tmp_path / "custom.onnx")


def test_inspect_says_why_a_model_cannot_run_once_on_a_shared_terminal(custom_op_model,
                                                                       tmp_path, monkeypatch):
    # A terminal (or `2>&1`): stdout and stderr are one destination, so the reason is said once.
    log = tmp_path / "both.txt"
    with open(log, "w", encoding="utf-8") as both:
        monkeypatch.setattr("sys.stdout", both)
        monkeypatch.setattr("sys.stderr", both)
        code = main(["inspect", str(custom_op_model)])
    text = log.read_text(encoding="utf-8")
    assert code == 2
    assert text.count("com.example:FooOp") == 1, text
    assert text.splitlines()[0].startswith("custom.onnx  ·  ONNX  ·  ")
    assert text.splitlines()[-1].startswith(f"edgeui: error: {custom_op_model}: uses the "
                                            "operator 'com.example:FooOp'")


def test_inspect_with_separate_streams_keeps_the_report_line_and_the_error_line(
        custom_op_model, capsys):
    code, out, err = run_cli(capsys, "inspect", str(custom_op_model))
    assert code == 2
    assert out.splitlines()[-1].startswith("cannot run: ") and "FooOp" in out
    assert err.count("FooOp") == 1 and err.startswith("edgeui: error: ")
