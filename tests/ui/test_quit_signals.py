"""Ctrl-C and SIGTERM (systemd stopping a kiosk) quit the app through its normal quit
path: exit code 0, the worker stopped and the settings saved, not a dead process."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.modelgen import make_onnx_model

REPO = Path(__file__).resolve().parents[2]
READY = "ready: the window is up"


def _start(tmp_path: Path) -> tuple[subprocess.Popen, queue.Queue]:
    logits = np.zeros((1, 10), np.float32)
    logits[0, 3] = 8.0
    model = make_onnx_model(tmp_path / "tiny.onnx", input_shape=(1, 3, 32, 32),
                            outputs=[logits])  # fmt: skip
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "EDGEUI_CONFIG_DIR": str(tmp_path / "cfg"),
           "EDGEUI_DATA_DIR": str(tmp_path / "data"),
           "EDGEUI_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgeui.cli", "--source", "synthetic", "--model", str(model),
         "--debug"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()

    def drain() -> None:  # --debug writes a lot: never let the pipe fill up
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    return proc, lines


def _wait_ready(proc: subprocess.Popen, lines: queue.Queue) -> list[str]:
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=60)
        except queue.Empty:
            proc.kill()
            pytest.fail("the app did not come up within 60 s:\n" + "".join(seen[-20:]))
        if line is None:
            pytest.fail(f"the app exited ({proc.wait()}) before it was up:\n"
                        + "".join(seen[-20:]))  # fmt: skip
        seen.append(line)
        if READY in line:
            return seen


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_quits_the_app_cleanly(tmp_path: Path, name: str) -> None:
    if sys.platform == "win32":
        pytest.skip("POSIX signals: Windows delivers no SIGTERM and Ctrl-C differently")
    proc, lines = _start(tmp_path)
    try:
        _wait_ready(proc, lines)
        proc.send_signal(getattr(signal, name))
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the app ignored {name} for 15 s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rest = []
    while (line := lines.get(timeout=10)) is not None:
        rest.append(line)
    assert code == 0, "".join(rest[-20:])
    assert any(f"{name} received" in line for line in rest)
    # The normal quit path ran: the window's close saved the settings.
    assert list((tmp_path / "cfg").glob("*.toml")), "settings not saved"
