"""`edgeui inspect MODEL`: what edgeui understands about a model, and why."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from edgeui.commands.common import add_model_arguments, model_options_from_args, plural
from edgeui.engine.catalog import format_size
from edgeui.engine.inspect import inspect_loaded, inspect_unloadable
from edgeui.engine.model import Model
from edgeui.engine.probe import ensure_loadable
from edgeui.engine.runtimes.base import load_runtime
from edgeui.errors import ModelLoadError, UnsupportedModelError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="a .onnx or .tflite file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_model_arguments(parser, thresholds=False)


def main(args: argparse.Namespace) -> int:
    options = model_options_from_args(args)
    runtime = None
    try:
        ensure_loadable(args.model, options)  # a model that crashes its runtime: reported
        runtime = load_runtime(args.model, options.runtime)
        info = inspect_loaded(Model.from_runtime(runtime, options))
    except (ModelLoadError, UnsupportedModelError) as exc:
        # The runtime (or, with ``runtime`` set, the card) refused the model: show what the
        # file and the runtime say, then fail as `infer` does (exit 2, the same one sentence
        # on stderr). Nothing readable (garbage, empty, truncated): just the one sentence.
        partial = inspect_unloadable(args.model, exc, runtime)
        if partial is None:
            raise
        if args.json:
            _write_json(partial)
        else:
            # On a terminal (or with 2>&1) the "edgeui: error:" line comes right after the
            # report: saying why there as well would show the sentence twice.
            sys.stdout.write(format_unloadable(partial, reason=not _same_destination(
                sys.stdout, sys.stderr)))
        sys.stdout.flush()
        raise
    if args.json:
        _write_json(info)
    else:
        sys.stdout.write(format_report(info))
    return 0


def _same_destination(a: Any, b: Any) -> bool:
    """Whether two streams write to the same file, pipe or terminal. Where the system gives
    no inode (Windows: st_ino == 0 for every pipe and console), only two terminals count as
    one (a process has one console); anything else is taken as two destinations."""
    try:
        sa, sb = os.fstat(a.fileno()), os.fstat(b.fileno())
        if sa.st_ino == 0 or sb.st_ino == 0:
            return a is b or bool(a.isatty() and b.isatty())
        return os.path.samestat(sa, sb)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return a is b


def _write_json(info: dict[str, Any]) -> None:
    json.dump(info, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _fmt_tensor(t: dict[str, Any]) -> str:
    dims = "x".join("?" if d is None else str(d) for d in t["shape"])
    q = t.get("quantization")
    quant = f"  quant scale={q['scale']:.6g} zero_point={q['zero_point']}" if q else ""
    return f"  {t['name']}  [{dims}]  {t['dtype']}{quant}"


def _fmt_value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(_fmt_value(x) for x in v) + ")"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _fmt_format_info(info: dict[str, Any]) -> str:
    fmt = {k: v for k, v in info.get("format_info", {}).items() if v not in ("", None, {}, [])}
    return "  ".join(f"{k}={_fmt_value(v)}" for k, v in fmt.items() if not isinstance(v, dict))


def format_unloadable(info: dict[str, Any], reason: bool = True) -> str:
    """The report for a model the runtime refused: what the file says, then (``reason``)
    why it can't run."""
    f = info["file"]
    lines = [f"{f['name']}  ·  {f['format']}  ·  {format_size(f['size_bytes'] or 0)}"]
    fmt = info.get("format_info", {})
    flat = _fmt_format_info(info)
    if flat:
        lines.append(f"format    {flat}")
    for k, v in fmt.items():
        if isinstance(v, dict) and v:  # e.g. ONNX opsets per domain
            lines.append(f"{k:<9} " + ", ".join(f"{d} {n}" for d, n in v.items()))
    if info["inputs"] or info["outputs"]:
        lines.append("inputs")
        lines += [_fmt_tensor(t) for t in info["inputs"]]
        lines.append("outputs")
        lines += [_fmt_tensor(t) for t in info["outputs"]]
    ops = info.get("operators")
    if ops:
        total = sum(o["count"] for o in ops)
        lines.append(f"operators ({plural(len(ops), 'kind')}, {plural(total, 'use')})")
        for o in ops:
            tag = "  custom" if o.get("custom") else ""
            lines.append(f"  {o['name']:<28} ×{o['count']:<5} v{o['version']}{tag}")
    meta = {k: v for k, v in info.get("metadata", {}).items() if v not in ("", None, {}, [])}
    if meta:
        lines.append("embedded metadata")
        lines += [f"  {k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in meta.items()]
    if reason:
        lines.append(f"cannot run: {info['error']}")
    return "\n".join(lines) + "\n"


def format_report(info: dict[str, Any]) -> str:
    f = info["file"]
    card = info["card"]
    prov = card["provenance"]
    size = f["size_bytes"] or 0
    lines = [
        f"{f['name']}  ·  {f['format']}  ·  {format_size(size)}",
        f"runtime   {info['runtime']}",
    ]
    for w in info.get("runtime_warnings", []):
        lines.append(f"warning   {w}")
    fmt = {k: v for k, v in info.get("format_info", {}).items() if v not in ("", None, {}, [])}
    if fmt:
        lines.append("format    " + "  ".join(f"{k}={_fmt_value(v)}" for k, v in fmt.items()
                                              if not isinstance(v, dict)))
    lines.append("inputs")
    lines += [_fmt_tensor(t) for t in info["inputs"]]
    lines.append("outputs")
    lines += [_fmt_tensor(t) for t in info["outputs"]]
    # "format" and "runtime" are on the lines above already.
    meta = {k: v for k, v in info.get("metadata", {}).items()
            if v not in ("", None, {}, []) and k not in ("format", "runtime")}
    if meta:
        lines.append("embedded metadata")
        for k, v in meta.items():
            text = json.dumps(v) if not isinstance(v, str) else v
            lines.append(f"  {k}: {text}")

    def row(name: str, value: Any, key: str) -> str:
        p = prov.get(key, {"source": "default", "reason": ""})
        why = f"{p['source']}" + (f": {p['reason']}" if p.get("reason") else "")
        return f"  {name:<16} {_fmt_value(value):<28} ← {why}"

    lines.append("model card (value ← where it came from)")
    lines.append(row("task", card["task"], "task"))
    dec = card["decoder"]
    params = ", ".join(f"{k}={_fmt_value(v)}" for k, v in dec["params"].items())
    lines.append(row("decoder", dec["kind"] + (f" ({params})" if params else ""), "decoder"))
    lab = card["labels"]
    if card["task"] == "pose" and not lab["count"]:
        # Pose models name keypoints, not classes: "no labels" would read as a problem.
        k = (dec["params"].get("kpt_shape") or [17])[0]
        names = " (COCO names)" if k == 17 else " (named kp0, kp1, …)"
        lines.append(f"  {'keypoints':<16} {f'{k}{names}':<28} ← decoder {dec['kind']!r}")
    else:
        lab_text = plural(lab["count"], "label") + (
            f", offset {lab['offset']:+d}" if lab["offset"] else "")
        lines.append(row("labels", lab_text, "labels"))
    pre = card["preprocess"]
    # width x height, as every image size in edgeui (the card's reason says so).
    lines.append(row("input size", f"{pre['width']}x{pre['height']}", "input_size"))
    for key in ("layout", "color", "resize", "letterbox_align", "pad_value", "mean", "std",
                "raw_pixels"):
        if key in ("letterbox_align", "pad_value") and pre["resize"] != "letterbox":
            continue
        if key in ("mean", "std") and pre["raw_pixels"]:
            continue
        lines.append(row(key, pre[key], key))
    th = card["thresholds"]
    lines.append(row("thresholds", f"conf {th['conf']:g}, iou {th['iou']:g}, top-k {th['top_k']}",
                     "thresholds"))
    return "\n".join(lines) + "\n"
