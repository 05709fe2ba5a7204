"""Result sinks: one JSON line per processed frame (the `edgeui run` contract), or CSV rows."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

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


# How far back from a results file's end to look for the start of its last line (lines are a
# few kB; a file can be gigabytes, and only its end is read).
TAIL_LIMIT = 8 * 2**20
_TAIL_BLOCK = 64 * 1024


def _complete(line: bytes, kind: str) -> bool:
    """Whether an unterminated last line still holds a whole record: a JSON object, or a CSV
    row (or header) with every column."""
    try:
        if kind == "jsonl":
            return isinstance(json.loads(line), dict)
        rows = list(csv.reader([line.decode("utf-8").rstrip("\r")], strict=True))
    except (ValueError, csv.Error):  # UnicodeDecodeError is a ValueError
        return False
    if len(rows) != 1 or len(rows[0]) != len(CSV_COLUMNS):
        return False
    return tuple(rows[0]) == CSV_COLUMNS if rows[0][0] == "frame_id" else rows[0][0].isdigit()


_JSONL_START = b'{"frame_id":'
_CSV_ROW_START = re.compile(rb"\d+(?:,|$)")


def _ours(line: bytes, kind: str) -> bool:
    """Whether an unterminated last line can only be the start of a line we wrote: a JSON
    object opening with "frame_id", a row opening with a frame id, or a piece of our CSV
    header. Anything else (another tool's data, classic-Mac \r line ends, UTF-16) is not
    ours to cut."""
    if b"\r" in line.rstrip(b"\r"):
        return False
    if kind == "jsonl":
        squeezed = line.replace(b" ", b"")
        return squeezed.startswith(_JSONL_START) or (
            bool(squeezed) and _JSONL_START.startswith(squeezed))
    header = ",".join(CSV_COLUMNS).encode()
    return bool(_CSV_ROW_START.match(line)) or (bool(line) and header.startswith(line))


def _ours_file(head: bytes, kind: str) -> bool:
    """Whether a file starts as ours does: our CSV header, or a JSON line opening with
    "frame_id" (a file another tool wrote is never cut)."""
    if kind == "jsonl":
        return head.replace(b" ", b"").startswith(_JSONL_START)
    return head.startswith(",".join(CSV_COLUMNS).encode())


def check_appendable(path: str | Path, kind: str) -> None:
    """Before ``--append``: a file that is not empty must be one of ours (our CSV header, or a
    JSON line opening with "frame_id"), else RecordError: appending would spoil another tool's
    file (a mistyped path in a service unit) and read its first column as frame ids."""
    try:
        with Path(path).open("rb") as f:
            head = f.read(len(",".join(CSV_COLUMNS)) + 2)
    except OSError:
        return  # missing or unreadable: the sink says so when it opens the file
    if not head.strip() or _ours_file(head.lstrip(b"\xef\xbb\xbf"), kind):
        return
    what = "the edgeui CSV header" if kind == "csv" else 'a JSON line with "frame_id"'
    raise RecordError(f"{path}: not an edgeui results file (it does not start with {what}), "
                      "so --append would spoil it; give another file, or leave out --append "
                      "to replace it.")


def _lines_from_end(f: BinaryIO, end: int) -> Iterator[tuple[bytes, int]]:
    """The lines of an open file, last first, each with the offset it starts at (the first
    is what follows the last newline, b"" when the file ends with one). Only the last
    :data:`TAIL_LIMIT` bytes are read; a line whose start lies further back is not given."""
    pos, partial = end, b""
    while pos > 0 and end - pos < TAIL_LIMIT:
        step = min(_TAIL_BLOCK, pos)
        pos -= step
        f.seek(pos)
        parts = (f.read(step) + partial).split(b"\n")
        starts, offset = [], pos
        for part in parts:
            starts.append(offset)
            offset += len(part) + 1
        if pos > 0:  # the first part's start lies further back: read with the next block
            partial, parts, starts = parts[0], parts[1:], starts[1:]
        yield from zip(reversed(parts), reversed(starts), strict=True)


def last_frame_id(path: str | Path, kind: str) -> int | None:
    """The frame id of the last good line of a ``--jsonl`` (kind "jsonl") or ``--csv`` file,
    reading backwards from its end (at most :data:`TAIL_LIMIT` bytes); None when the file is
    missing or holds none. A torn last line is passed over (``--append`` cuts it off first:
    :func:`cut_torn_last_line`)."""
    try:
        with Path(path).open("rb") as f:
            for line, _ in _lines_from_end(f, f.seek(0, 2)):
                if line.strip() and (found := _frame_id_of(line, kind)) is not None:
                    return found
    except OSError:
        pass
    return None


def _frame_id_of(line: bytes, kind: str) -> int | None:
    """The frame id of one complete JSONL or CSV line (None: a header, a torn line)."""
    try:
        if kind == "csv":
            return int(line.split(b",", 1)[0].strip())
        value = json.loads(line).get("frame_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def cut_torn_last_line(path: str | Path, kind: str) -> bool:
    """Before appending to a ``--jsonl`` (kind "jsonl") or ``--csv`` results file: a last line
    with no newline is our own write cut short by a killed run (``{"frame_id": 10, "timest``);
    the file is cut back to its last complete line, so that it stays valid JSONL / CSV. Only
    the end is read (:data:`TAIL_LIMIT`). An unterminated line that still holds a whole record,
    or one too long to be ours, is kept and ended with a newline. True when a line was removed
    (the caller says so); a missing or unwritable file is left to the sink to report. Only a
    line that can only be the start of ours is cut (:func:`_ours`): never another tool's."""
    try:
        with Path(path).open("rb+") as f:
            end = f.seek(0, 2)
            last = next(_lines_from_end(f, end), None)  # None: longer than we read back
            if end == 0 or (last is not None and not last[0]):
                return False  # empty, or it ends with a newline
            f.seek(0)
            head = f.read(len(",".join(CSV_COLUMNS)) + 2)  # the file's own first line
            if last is None or _complete(last[0], kind) or not (
                    _ours(last[0], kind) and (last[1] == 0 or _ours_file(head, kind))):
                # Kept: a whole record missing its newline, or a line that is not ours.
                f.seek(0, 2)
                f.write(b"\n")
                return False
            tail, pos = last
            f.truncate(pos)
            return bool(tail.strip())
    except OSError:
        return False


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
        try:
            empty = self.stream.tell() == 0
        except OSError:  # a pipe or FIFO (io.UnsupportedOperation): no position to ask
            empty = not append
        if not self._owned or empty:
            self._writer.writeheader()

    def write(self, fr: FrameResult) -> None:
        self._writer.writerow(csv_row(fr))
        self.stream.flush()

    def close(self) -> None:
        if self._owned:
            self.stream.close()
