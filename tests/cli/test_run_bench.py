"""`edgeui run`, `edgeui bench`, `edgeui sources`: JSON contracts, errors, clean shutdown."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgeui.cli import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_line(rec: dict) -> None:
    """The `run` JSON-lines schema."""
    assert isinstance(rec["frame_id"], int)
    assert isinstance(rec["timestamp"], float) and abs(rec["timestamp"] - time.time()) < 120
    assert isinstance(rec["source"], str) and rec["source"]
    assert rec["task"] == "detection"
    assert set(rec["image"]) == {"width", "height"}
    assert isinstance(rec["detections"], list)
    assert rec["model"].endswith("det.onnx") and isinstance(rec["runtime"], str)
    t = rec["timings_ms"]
    assert set(t) == {"capture", "preprocess", "inference", "postprocess"}
    assert all(isinstance(v, float | int) and v >= 0 for v in t.values())
    assert rec["end_to_end_ms"] >= t["inference"]
    assert "error" not in rec


def test_run_jsonl_file_lines_follow_the_schema(tmp_path, det_model, capsys) -> None:
    out = tmp_path / "results.jsonl"
    code, stdout, stderr = run_cli(capsys, "run", str(det_model), "--source",
                                   "synthetic:128x96@0", "--frames", "5", "--jsonl", str(out))
    assert code == 0 and stdout == ""
    lines = out.read_text().splitlines()
    assert len(lines) == 5
    recs = [json.loads(line) for line in lines]
    for rec in recs:
        check_line(rec)
    assert [r["frame_id"] for r in recs] == [0, 1, 2, 3, 4]
    det = recs[0]["detections"][0]
    assert det["label"] == "dog" and det["score"] == pytest.approx(0.9, abs=1e-3)
    # Box in source pixels: the 64x64 input's centre square, mapped back to 128x96.
    x1, y1, x2, y2 = det["box"]
    assert 40 < (x1 + x2) / 2 < 88 and 30 < (y1 + y2) / 2 < 66
    assert recs[0]["image"] == {"width": 128, "height": 96}
    assert "edgeui: 5 frames" in stderr and "latency p50" in stderr
    assert "live" in stderr


def test_run_to_stdout_and_csv(tmp_path, det_model, capsys) -> None:
    csv_path = tmp_path / "r.csv"
    code, stdout, _ = run_cli(capsys, "run", str(det_model), "--source", "synthetic:64x64@0",
                              "--frames", "3", "--csv", str(csv_path))
    assert code == 0
    lines = stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        check_line(json.loads(line))
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("frame_id,timestamp,source,task,count,top_label")
    assert len(rows) == 4 and ",dog," in rows[1]


def test_run_video_file_every_frame(tmp_path, det_model, capsys) -> None:
    from tests.engine.test_sources import write_avi

    video = write_avi(tmp_path / "clip.avi", n=7)
    code, stdout, stderr = run_cli(capsys, "run", str(det_model), "--source", str(video),
                                   "--every-frame")
    assert code == 0
    assert [json.loads(x)["frame_id"] for x in stdout.splitlines()] == list(range(7))
    assert "end of file" in stderr


def test_run_missing_source_exits_2_before_loading_the_model(tmp_path, capsys) -> None:
    code, stdout, stderr = run_cli(capsys, "run", str(tmp_path / "nomodel.onnx"),
                                   "--source", str(tmp_path / "gone.mp4"))
    assert code == 2 and stdout == ""
    assert stderr.strip().splitlines() == [f"edgeui: error: {tmp_path / 'gone.mp4'}: "
                                           "file not found; check the path."]


def test_run_no_retry_on_a_dead_stream_exits_2(det_model, capsys) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, stdout, stderr = run_cli(capsys, "run", str(det_model), "--source",
                                   f"http://127.0.0.1:{port}/x.mjpg", "--no-retry")
    assert code == 2 and stdout == ""
    assert "edgeui: error:" in stderr and "cannot connect" in stderr
    assert "Traceback" not in stderr


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM semantics are POSIX")
def test_sigterm_ends_cleanly_with_a_summary(det_model) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgeui.cli", "run", str(det_model), "--source",
         "synthetic:64x64@50"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO,
    )
    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(timeout=30), "no JSON line within 30 s"
        first = proc.stdout.readline()
        check_line(json.loads(first))
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    for line in out.decode().splitlines():  # no half-written line at the end
        json.loads(line)
    assert re.search(r"\d+ frames? in", err.decode()) and "Traceback" not in err.decode()


def test_bench_json_keys(det_model, capsys) -> None:
    code, stdout, _ = run_cli(capsys, "bench", str(det_model), "--source", "synthetic:128x96@0",
                              "--frames", "12", "--json")
    assert code == 0
    data = json.loads(stdout)
    assert {"bare_fps", "pipeline_fps", "ratio", "load_ms", "first_inference_ms",
            "peak_rss_mb", "stages_ms"} <= set(data)
    assert set(data["stages_ms"]) == {"capture", "preprocess", "inference", "postprocess",
                                      "end_to_end"}
    for p in data["stages_ms"].values():
        assert set(p) == {"p50", "p95", "p99"} and p["p50"] <= p["p95"] <= p["p99"]
    assert data["bare_fps"] > 0 and data["pipeline_fps"] > 0
    assert data["ratio"] == pytest.approx(data["pipeline_fps"] / data["bare_fps"], rel=0.01)
    assert data["peak_rss_mb"] > 10 and data["load_ms"] > 0


def test_bench_text_report(det_model, capsys) -> None:
    code, stdout, _ = run_cli(capsys, "bench", str(det_model), "--frames", "8")
    assert code == 0 and "ratio" in stdout and "end_to_end" in stdout


def test_sources_json_is_a_list(capsys) -> None:
    code, stdout, _ = run_cli(capsys, "sources", "--json")
    assert code == 0
    cams = json.loads(stdout)
    assert isinstance(cams, list)
    for cam in cams:
        assert {"name", "path", "source", "formats"} <= set(cam)
