"""`edgeui run`'s stderr: one clear line per event, no native library chatter."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

from edgeui.engine.sources.stream import open_failure
from tests.helpers.modelgen import make_onnx_model


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_stream_is_reported_once_without_native_logs(tmp_path: Path):
    model = make_onnx_model(tmp_path / "c.onnx", (1, 3, 32, 32),
                            outputs=[np.array([[0.0, 1.0, 2.0]], np.float32)])
    url = f"rtsp://127.0.0.1:{_closed_port()}/x"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from edgeui.cli import main; sys.exit(main())",
         "run", str(model), "--source", url, "--no-retry"],
        capture_output=True, text=True, timeout=60,
    )
    err = proc.stderr
    assert proc.returncode == 2
    assert "[tcp @" not in err and "WARN" not in err and "cap.cpp" not in err, err
    assert err.count("refused or not reachable") == 1, err
    assert f"{url}: {url}" not in err
    last = err.splitlines()[-1]
    assert last == (f"edgeui: error: {url}: cannot connect (refused or not reachable); check "
                    "the address and port, and that the camera is on and on this network.")


def test_open_failure_words_what_was_seen():
    assert open_failure(0.01, 10) == "cannot connect (refused or not reachable)"
    assert open_failure(10.0, 10) == "cannot connect (no answer within 10 s)"
    assert "after 4.0 s" in open_failure(4.0, 10)
