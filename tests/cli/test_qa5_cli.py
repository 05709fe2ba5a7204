"""QA pass 5: `run` on a source that never delivered a frame, `inspect`'s error said once."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from edgeui.cli import main
from edgeui.engine.sources.base import FrameMaker, SourceUnavailable
from tests.helpers.modelgen import make_custom_op_onnx


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def test_run_on_a_stream_that_never_connected_fails_with_the_reason(det_model, capsys):
    url = f"http://127.0.0.1:{_closed_port()}/x"
    code, out, err = run_cli(capsys, "run", str(det_model), "--source", url,
                             "--duration", "0.5")
    assert code == 2, err
    assert out == ""
    lines = err.splitlines()
    assert lines[-2].startswith("edgeui: 0 frames in ")  # the summary still comes first
    assert lines[-1] == (f"edgeui: error: {url}: never delivered a frame in 0.5 s; last "
                         "attempt: cannot connect (refused or not reachable).")


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
    assert err.splitlines()[-1] == ("edgeui: fake://cam: never delivered a frame; last attempt: "
                                    "cannot connect (refused or not reachable).")


def test_run_without_a_frame_and_without_a_reason_says_it_was_still_connecting(
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
                                    "0.3 s; still connecting when the run ended.")


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
