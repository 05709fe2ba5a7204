"""Result sinks: one JSON line per processed frame (the `edgeui run` contract), or CSV rows."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from edgeui.engine.pipeline import FrameResult
from edgeui.errors import EdgeUIError


class RecordError(EdgeUIError):
    """A results file cannot be written."""


def frame_record(fr: FrameResult, model: str = "", runtime: str = "") -> dict[str, Any]:
    """The JSON object for one frame: ids and capture time, the `infer --json` fields, then
    model, runtime, per-stage timings (capture included) and end-to-end latency."""
    out: dict[str, Any] = {
        "frame_id": int(fr.frame.frame_id),
        "timestamp": round(float(fr.frame.timestamp), 6),
        "source": fr.frame.source,
    }
    if fr.result is not None:
        out.update(fr.result.to_dict())
    out["model"] = model or fr.model_name
    out["runtime"] = runtime or fr.runtime
    t = fr.timings
    out["timings_ms"] = {
        "capture": round(t.capture_ms, 3),
        "preprocess": round(t.preprocess_ms, 3),
        "inference": round(t.inference_ms, 3),
        "postprocess": round(t.postprocess_ms, 3),
    }
    out["end_to_end_ms"] = round(t.end_to_end_ms, 3)
    if fr.error is not None:
        out["error"] = fr.error
    return out


def _open(target: str | Path, append: bool = False) -> tuple[TextIO, bool]:
    """(stream, whether we own it). A file starts empty unless ``append``: mixing two runs
    in one file makes frame ids jump back and counts wrong."""
    if str(target) == "-":
        return sys.stdout, False
    path = Path(target)
    try:
        return path.open("a" if append else "w", encoding="utf-8", newline=""), True
    except OSError as exc:
        raise RecordError(f"{path}: cannot write results here ({exc.strerror}); "
                          "choose another file.") from exc


class JsonlSink:
    """One JSON object per line, flushed line by line (tail -f and journald see it).

    A file is started anew; ``append=True`` adds to it (a service that restarts)."""

    def __init__(self, target: str | Path, model: str = "", runtime: str = "", *,
                 append: bool = False) -> None:
        self.stream, self._owned = _open(target, append)
        self.model, self.runtime = model, runtime
        self.lines = 0

    def write(self, fr: FrameResult) -> None:
        self.stream.write(json.dumps(frame_record(fr, self.model, self.runtime),
                                     separators=(",", ":")) + "\n")
        self.stream.flush()
        self.lines += 1

    def close(self) -> None:
        if self._owned:
            self.stream.close()


CSV_COLUMNS = (
    "frame_id", "timestamp", "source", "task", "count", "top_label", "top_score",
    "capture_ms", "preprocess_ms", "inference_ms", "postprocess_ms", "end_to_end_ms", "error",
)  # fmt: skip


def csv_row(fr: FrameResult) -> dict[str, Any]:
    """A flat summary of one frame: how many things, the best one, the timings."""
    row: dict[str, Any] = {
        "frame_id": fr.frame.frame_id, "timestamp": f"{fr.frame.timestamp:.6f}",
        "source": fr.frame.source, "task": "", "count": 0, "top_label": "", "top_score": "",
        "error": fr.error or "",
    }
    r = fr.result
    if r is not None:
        row["task"] = r.task
        items: list[tuple[str, float]] = []
        if r.classes:
            items = [(c.label, float(c.score)) for c in r.classes]
        elif r.detections is not None and len(r.detections):
            labels = r.detections.labels or tuple(
                f"class {i}" for i in r.detections.class_ids.tolist())
            items = list(zip(labels, r.detections.scores.tolist(), strict=True))
        elif r.poses is not None and len(r.poses):
            items = [("person", float(s)) for s in r.poses.scores.tolist()]
        row["count"] = len(items)
        if items:
            label, score = max(items, key=lambda x: x[1])
            row["top_label"], row["top_score"] = label, f"{score:.4f}"
    for key, value in fr.timings.as_dict().items():
        row[f"{key}_ms"] = f"{value:.3f}"
    return row


class CsvSink:
    """One CSV row per frame (header written once for a new or empty file).

    A file is started anew; ``append=True`` adds rows to it (no second header)."""

    def __init__(self, target: str | Path, *, append: bool = False) -> None:
        self.stream, self._owned = _open(target, append)
        self._writer = csv.DictWriter(self.stream, CSV_COLUMNS)
        if not self._owned or self.stream.tell() == 0:
            self._writer.writeheader()

    def write(self, fr: FrameResult) -> None:
        self._writer.writerow(csv_row(fr))
        self.stream.flush()

    def close(self) -> None:
        if self._owned:
            self.stream.close()
