"""A probe child never outlives its parent: stopped by its owner, at a normal exit, and on
Linux when the parent is killed outright."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edgeui.engine import probe

ROOT = Path(__file__).resolve().parents[2]


def _child_script(pid_file: Path, die_with_parent: bool = False) -> str:
    """A 'probe child' that notes its pid, then hangs far longer than any test."""
    first = "from edgeui.engine.probe import die_with_parent; die_with_parent(); " \
        if die_with_parent else ""  # fmt: skip
    return (f"{first}import os, time, pathlib; "
            f"pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); time.sleep(120)")


def _wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        tick.wait(0.02)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie nobody reaped yet counts as ended)."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():  # Linux: a zombie still answers os.kill
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _model(tmp_path: Path) -> Path:
    path = tmp_path / "m.tflite"  # only its existence matters: the child is scripted
    path.write_bytes(b"TFL3 not a real model")
    return path


def test_a_running_probe_child_is_gone_after_stop_children(tmp_path, monkeypatch) -> None:
    pid_file = tmp_path / "child.pid"
    monkeypatch.setattr(probe, "self_command",
                        lambda: [sys.executable, "-c", _child_script(pid_file)])  # fmt: skip
    results: list[probe.ProbeResult] = []
    thread = threading.Thread(target=lambda: results.append(probe.probe_model(_model(tmp_path))))
    thread.start()
    try:
        _wait_until(lambda: pid_file.exists() and pid_file.read_text() and probe._children)
        pid = int(pid_file.read_text())
        assert _alive(pid)
        assert probe.stop_children() == 1
        assert not _alive(pid)
    finally:
        probe.stop_children()
        thread.join(30)
    assert not thread.is_alive()
    [result] = results
    assert not result.ok and not result.checked and not result.crashed  # no SIGKILL "crash"
    assert "stopping" in result.message
    assert probe.cached(_model(tmp_path)) is None
    assert not probe._children and not probe._stopped


def _parent(tmp_path: Path, child: str) -> subprocess.Popen[bytes]:
    """A Python process that probes a model in a background thread and then waits."""
    code = (
        "import sys, threading\n"
        "from edgeui.engine import probe\n"
        f"probe.self_command = lambda: [sys.executable, '-c', {child!r}]\n"
        f"threading.Thread(target=probe.probe_model, args=({str(_model(tmp_path))!r},),\n"
        "                 daemon=True).start()\n"
        "sys.stdin.read()  # until the test closes stdin (or kills us)\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, cwd=ROOT)


@contextlib.contextmanager
def _parent_with_child(tmp_path, **script_options):
    """(parent process, its probe child's pid); both are killed afterwards, whatever
    happened, so a failing test leaves no process behind."""
    pid_file = tmp_path / "child.pid"
    parent = _parent(tmp_path, _child_script(pid_file, **script_options))
    try:
        _wait_until(lambda: pid_file.exists() and pid_file.read_text())
        yield parent, int(pid_file.read_text())
    finally:
        parent.kill()
        parent.wait()
        if pid_file.exists() and pid_file.read_text():
            with contextlib.suppress(OSError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_a_probe_child_ends_when_its_parent_exits_normally(tmp_path) -> None:
    with _parent_with_child(tmp_path) as (parent, pid):
        parent.stdin.close()  # the parent's main thread ends: a normal interpreter exit
        assert parent.wait(30) == 0
        _wait_until(lambda: not _alive(pid), timeout=10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_probe_child_ends_when_its_parent_is_killed_outright(tmp_path) -> None:
    with _parent_with_child(tmp_path, die_with_parent=True) as (parent, pid):
        parent.kill()  # SIGKILL: no atexit, no finally
        parent.wait(30)
        _wait_until(lambda: not _alive(pid), timeout=10)
