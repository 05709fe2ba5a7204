"""`edgeui bench MODEL`: bare runtime vs full pipeline throughput, latency and memory."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edgeui.commands.camera_options import add_camera_arguments, camera_options_from_args
from edgeui.commands.common import (
    add_model_arguments,
    model_options_from_args,
    non_negative_int,
    positive_int,
    print_source_event,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from edgeui.engine.bench import DEFAULT_SOURCE

    parser.add_argument("model", type=Path, help="a .onnx or .tflite file")
    parser.add_argument("--source", default=DEFAULT_SOURCE,
                        help=f"pipeline source (default {DEFAULT_SOURCE}: a 640x480 test "
                        "pattern produced as fast as inference takes it); video files and "
                        "images are read as fast as the pipeline takes them, looped")
    parser.add_argument("--frames", type=positive_int, default=200,
                        help="measured frames per phase (default 200)")
    parser.add_argument("--warmup", type=non_negative_int, default=5,
                        help="unmeasured frames first (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_camera_arguments(parser)
    add_model_arguments(parser)


def main(args: argparse.Namespace) -> int:
    from edgeui.engine.bench import bench_source_options, run_bench
    from edgeui.engine.model import Model
    from edgeui.engine.probe import ensure_loadable
    from edgeui.engine.sources import open_source

    source_options = {**bench_source_options(args.source),
                      **camera_options_from_args(args, args.source)}
    open_source(args.source, **source_options)  # a bad source fails before the long part
    options = model_options_from_args(args)

    def on_event(ev: object) -> None:  # each round reconnects: only trouble is news
        if getattr(ev, "state", "") not in ("connecting", "live"):
            print_source_event(ev)

    ensure_loadable(args.model, options)  # in a child first: a crash is one clear error
    report = run_bench(lambda: Model.load(args.model, options), source=args.source,
                       frames=args.frames, warmup=args.warmup, on_event=on_event,
                       source_options=source_options)
    data = report.to_dict()
    if args.json:
        print(json.dumps(data))
        return 0
    paced = "live, at its own rate" if data["source_live"] else "unpaced"
    print(f"model     {data['model']}\nruntime   {data['runtime']}\n"
          f"source    {data['source']} ({paced})")
    print(f"load      {data['load_ms']:.1f} ms, first inference {data['first_inference_ms']:.1f}"
          f" ms, peak RSS {data['peak_rss_mb']:.0f} MB")
    print(f"bare      {data['bare_fps']:.1f} fps (inference p50 "
          f"{data['bare_inference_ms']['p50']:.2f} ms)")
    print(f"pipeline  {data['pipeline_fps']:.1f} fps, ratio {data['ratio']:.3f}, "
          f"{data['dropped']} dropped")
    print(f"rounds    {data['rounds_counted']} of {data['rounds']} counted "
          f"({data['frames']} frames per phase)")
    if data["note"]:
        print(f"note      {data['note']}")
    print(f"{'stage':<12}{'p50':>9}{'p95':>9}{'p99':>9}  ms")
    for stage, p in data["stages_ms"].items():
        print(f"{stage:<12}{p['p50']:>9.2f}{p['p95']:>9.2f}{p['p99']:>9.2f}")
    print(f"pre+post  {100 * data['pre_post_share']:.1f} % of the frame time; "
          f"end-to-end p50 = {data['end_to_end_over_bare']:.2f} x bare inference")
    return 0
