"""`edgeui run MODEL --source SRC`: headless live inference, one JSON line per frame.

Lines go to stdout (or ``--jsonl FILE``, started anew unless ``--append``, which continues
the frame ids after the file's last complete line, cutting off a line torn by a killed run),
flushed one by one; source events and the final summary go to stderr. Ctrl-C and SIGTERM
(systemd's stop) end the run cleanly, summary included, with exit code 0; stdout closed by its
reader (``| head``) ends it with 141. A run that reached its ``--duration`` without the source
ever delivering a frame (a stream or camera that never connected) fails like ``--no-retry``
would have: exit 2, with the last reason it gave.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

from edgeui.commands.camera_options import add_camera_arguments, camera_options_from_args
from edgeui.commands.common import (
    add_model_arguments,
    model_options_from_args,
    plural,
    positive_float,
    positive_int,
    print_source_event,
)
from edgeui.errors import ConfigError, SourceError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="a .onnx or .tflite file")
    parser.add_argument("--source", required=True,
                        help="camera index or /dev/videoN or camera:<name or serial>, a video "
                        "file, an image, a folder or glob of images, rtsp:// or http(s):// "
                        "URL, or synthetic[:WxH@FPS]")
    parser.add_argument("--frames", type=positive_int, help="stop after N processed frames")
    parser.add_argument("--duration", type=positive_float, help="stop after S seconds")
    parser.add_argument("--jsonl", default="-", metavar="FILE|-",
                        help="where to write JSON lines (default: - for stdout); an existing "
                        "file is replaced unless --append")
    parser.add_argument("--csv", metavar="FILE", help="also write one CSV row per frame "
                        "(an existing file is replaced unless --append)")
    parser.add_argument("--append", action="store_true",
                        help="add to existing --jsonl/--csv files instead of starting them "
                        "anew (for a service that restarts)")
    parser.add_argument("--fps-limit", type=positive_float, metavar="F",
                        help="run inference at most F times per second")
    parser.add_argument("--no-retry", action="store_true",
                        help="fail at once when the camera or stream is not available")
    parser.add_argument("--loop", action="store_true",
                        help="play a video file or image folder again from the start")
    parser.add_argument("--every-frame", action="store_true",
                        help="read a video file as fast as inference goes, dropping nothing "
                        "(default: at the file's own frame rate, like a camera)")
    parser.add_argument("--stall-timeout", type=positive_float, default=5.0, metavar="S",
                        help="reconnect when no new frame came for S seconds (default 5); a "
                        "camera's or stream's read waits this long for the next frame")
    add_camera_arguments(parser)
    add_model_arguments(parser)


def source_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = camera_options_from_args(args, args.source)
    if args.loop:
        options["loop"] = True
    if args.every_frame:
        options["realtime"] = False
    return options


def summary_line(stats: Any, elapsed: float) -> str:
    fps = stats.processed / elapsed if elapsed > 0 else 0.0
    e2e = stats.stages.get("end_to_end")
    inf = stats.stages.get("inference")
    parts = [f"{plural(stats.processed, 'frame')} in {elapsed:.1f} s ({fps:.1f} fps)",
             f"{stats.dropped} dropped"]
    skipped = int(getattr(stats, "skipped", 0))
    if skipped:
        parts.append(f"{skipped} skipped by --fps-limit")
    if stats.errors:
        parts.append(plural(stats.errors, "error"))
    if e2e is not None and stats.processed:
        parts.append(f"latency p50 {e2e.p50:.1f} ms p95 {e2e.p95:.1f} ms")
    if inf is not None and stats.processed:
        parts.append(f"inference p50 {inf.p50:.1f} ms")
    return "edgeui: " + ", ".join(parts)


class SourceWatch:
    """Prints source events (``print_source_event``) and remembers what a summary needs:
    whether the source said it went live (a hint only: for an on-demand source the capture
    thread may say so after the run ended; the results decide), and the last reason it gave
    for not delivering."""

    _RETRY = re.compile(r"\s*Retrying in [^ ]+ s…?$")

    def __init__(self) -> None:
        self.delivered = False
        self.ended = False
        self.reason = ""

    def __call__(self, ev: Any) -> None:
        if ev.state == "live":
            self.delivered = True
        elif ev.state == "ended":
            self.ended = True
        elif ev.state in ("disconnected", "reconnecting", "failed"):
            message = self._RETRY.sub("", str(ev.message)).strip()
            prefix = f"{ev.source}: "
            if message.startswith(prefix):
                message = message[len(prefix):]
            if message and not message.startswith("reconnecting in "):
                self.reason = message
        print_source_event(ev)

    def never_delivered(self, source: str, within: float | None = None,
                        stopped_by: str = "") -> str:
        """"SOURCE: never delivered a frame in S s; last attempt: REASON." (or, with no
        reason given, "it gave no frame before the run ended"); ``stopped_by`` a signal:
        "SOURCE: stopped by SIGTERM before the source delivered a frame; last attempt: ..."."""
        if stopped_by:
            text = f"{source}: stopped by {stopped_by} before the source delivered a frame"
        else:
            text = f"{source}: never delivered a frame"
        if within is not None:
            text += f" in {within:g} s"
        if self.reason:
            return f"{text}; last attempt: {self.reason.rstrip('.')}."
        return f"{text}; it gave no frame before the run ended."


_STDOUT_NAMES = ("-", "/dev/stdout", "/dev/fd/1")


def _same_output(a: str, b: str) -> bool:
    """Whether two result targets are one file (the rows would interleave): the same path
    however written (``..``, a link), or stdout under two names. ``--csv -`` with
    ``--jsonl -`` has its own message."""
    if a in _STDOUT_NAMES and b in _STDOUT_NAMES:
        return a != b or a != "-"
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.resolve() == pb.resolve()


def append_offset(args: argparse.Namespace) -> int:
    """With ``--append``, the first frame id of this run: one after the last one in the
    ``--jsonl``/``--csv`` files (so ids stay unique and increasing across restarts, and one
    frame has one id in both files); 0 otherwise. A torn last line (a run killed mid-write)
    is cut off first, and said so on stderr."""
    if not args.append:
        return 0
    from edgeui.engine.record import check_appendable, cut_torn_last_line, last_frame_id

    # Only regular files are read back: opening a FIFO (a log shipper's pipe) for reading
    # would wait for ever for a writer, and a device has no end to read.
    files = [(f, kind) for f, kind in ((args.jsonl, "jsonl"), (args.csv, "csv"))
             if f and f != "-" and Path(f).is_file()]
    for f, kind in files:
        check_appendable(f, kind)  # never another tool's file
    for f, kind in files:
        if cut_torn_last_line(f, kind):
            print(f"edgeui: {f}: removed an incomplete last line left by an interrupted run",
                  file=sys.stderr)
    last = [i for f, kind in files if (i := last_frame_id(f, kind)) is not None]
    if not last:
        return 0
    offset = max(last) + 1
    names = ", ".join(str(f) for f, _ in files)
    print(f"edgeui: appending to {names}; frame ids continue from {offset}", file=sys.stderr)
    return offset


def main(args: argparse.Namespace) -> int:
    from edgeui.engine.pipeline import Pipeline
    from edgeui.engine.probe import load_model
    from edgeui.engine.record import CsvSink, JsonlSink
    from edgeui.engine.sources import open_source

    if args.csv == "-" and args.jsonl == "-":
        raise ConfigError("--csv - and the JSON lines would both go to stdout and mix; give "
                          "--jsonl FILE (or --csv FILE).")
    if args.jsonl and args.csv and _same_output(args.jsonl, args.csv):
        raise ConfigError(f"--jsonl {args.jsonl} and --csv {args.csv} are one file; give them "
                          "two files.")
    if args.append and args.jsonl == "-" and not args.csv:
        raise ConfigError("--append needs --jsonl FILE or --csv FILE; results on stdout "
                          "cannot be appended to.")
    # A missing file fails here, before the model is even loaded.
    source = open_source(args.source, **source_options(args))
    model = load_model(args.model, model_options_from_args(args))
    # Runtime warnings (a missing execution provider) were logged once as they happened.
    first_id = append_offset(args)
    sink = JsonlSink(args.jsonl, model=str(model.path), runtime=model.runtime.describe(),
                     append=args.append)
    csv_sink = CsvSink(args.csv, append=args.append) if args.csv else None

    reader_left = False

    def on_result(fr: Any) -> None:
        nonlocal reader_left
        if first_id:
            fr = dataclasses.replace(
                fr, frame=dataclasses.replace(fr.frame, frame_id=fr.frame.frame_id + first_id))
        try:
            sink.write(fr)
            if csv_sink is not None:
                csv_sink.write(fr)
        except BrokenPipeError:  # `edgeui run ... | head`: the reader is gone
            reader_left = True
            pipeline.stop()

    watch = SourceWatch()
    pipeline = Pipeline(model, source, fps_limit=args.fps_limit, retry=not args.no_retry,
                        on_result=on_result, on_event=watch, stall_timeout=args.stall_timeout)
    signalled = ""  # the signal that stopped the run, as a user knows it

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal signalled
        signalled = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        pipeline.stop()
        # A second Ctrl-C interrupts whatever is still blocking.
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    elapsed = 0.0
    try:
        pipeline.run(frames=args.frames, duration=args.duration)
    finally:
        elapsed = time.monotonic() - started
        for s, handler in previous.items():
            signal.signal(s, handler)
        pipeline.stop()
        try:
            sink.close()
            if csv_sink is not None:
                csv_sink.close()
        except BrokenPipeError:
            reader_left = True
        stats = pipeline.stats()
        print(summary_line(stats, elapsed), file=sys.stderr)
    if reader_left:
        # The caller (edgeui.cli) points stdout at devnull, so that the interpreter's flush
        # at exit stays quiet, and exits 141 as `yes | head` does.
        raise BrokenPipeError("stdout was closed by its reader")
    # Frames that reached the pipeline (processed, or dropped/skipped while it was busy) decide.
    delivered = watch.delivered or stats.processed + stats.dropped + stats.skipped > 0
    if not delivered and not watch.ended:
        # Nothing ever came: the run did not do its job. Stopped on purpose (Ctrl-C,
        # systemd), it is still a clean stop; reaching --duration, it fails like --no-retry.
        label = str(getattr(source, "uri", args.source))
        if signalled:
            print(f"edgeui: {watch.never_delivered(label, stopped_by=signalled)}",
                  file=sys.stderr)
        else:
            within = args.duration or round(elapsed, 1)
            raise SourceError(watch.never_delivered(label, within))
    return 0
