"""`edgeui run MODEL --source SRC`: headless live inference, one JSON line per frame.

Lines go to stdout (or ``--jsonl FILE``, started anew unless ``--append``), flushed one by
one; source events and the final summary go to stderr. Ctrl-C and SIGTERM (systemd's stop)
end the run cleanly, summary included, with exit code 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from edgeui.commands.common import (
    add_model_arguments,
    model_options_from_args,
    plural,
    positive_float,
    positive_int,
    print_source_event,
)
from edgeui.errors import ConfigError


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
                        "stream's read waits this long for the next frame")
    add_model_arguments(parser)


def source_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
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


def main(args: argparse.Namespace) -> int:
    from edgeui.engine.pipeline import Pipeline
    from edgeui.engine.probe import load_model
    from edgeui.engine.record import CsvSink, JsonlSink
    from edgeui.engine.sources import open_source

    if args.csv == "-" and args.jsonl == "-":
        raise ConfigError("--csv - and the JSON lines would both go to stdout and mix; give "
                          "--jsonl FILE (or --csv FILE).")
    # A missing file fails here, before the model is even loaded.
    source = open_source(args.source, **source_options(args))
    model = load_model(args.model, model_options_from_args(args))
    # Runtime warnings (a missing execution provider) were logged once as they happened.
    sink = JsonlSink(args.jsonl, model=str(model.path), runtime=model.runtime.describe(),
                     append=args.append)
    csv_sink = CsvSink(args.csv, append=args.append) if args.csv else None

    def on_result(fr: Any) -> None:
        try:
            sink.write(fr)
            if csv_sink is not None:
                csv_sink.write(fr)
        except BrokenPipeError:  # `edgeui run ... | head`: the reader is gone
            pipeline.stop()

    pipeline = Pipeline(model, source, fps_limit=args.fps_limit, retry=not args.no_retry,
                        on_result=on_result, on_event=print_source_event,
                        stall_timeout=args.stall_timeout)

    def on_signal(signum: int, _frame: Any) -> None:
        pipeline.stop()
        # A second Ctrl-C interrupts whatever is still blocking.
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    try:
        pipeline.run(frames=args.frames, duration=args.duration)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        pipeline.stop()
        try:
            sink.close()
            if csv_sink is not None:
                csv_sink.close()
        except BrokenPipeError:
            pass
        print(summary_line(pipeline.stats(), time.monotonic() - started), file=sys.stderr)
    return 0
