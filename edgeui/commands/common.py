"""Options shared by the commands that load a model (infer, inspect, run, bench)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from edgeui.engine.model import ModelOptions
from edgeui.engine.runtimes.base import RuntimeOptions


# Named type functions: argparse shows their ArgumentTypeError text after the option name,
# e.g. "edgeui: error: --iou: 'abc' is not a number between 0 and 1".
def unit_interval(text: str) -> float:
    """A number in 0..1 (thresholds)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1")
    return value


def positive_int(text: str) -> int:
    """A whole number of 1 or more (counts)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def non_negative_int(text: str) -> int:
    """A whole number of 0 or more (counts that may be none, like warm-up frames)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 0 or more")
    return value


def positive_float(text: str) -> float:
    """A number above 0 (seconds, rates)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
    return value


def provider_name(text: str) -> str:
    """An execution provider onnxruntime knows (short or full name); a typo fails here, before
    the model loads. Known but unavailable ones pass: the runtime warns and falls back."""
    try:
        import onnxruntime
    except ImportError:  # the ONNX runtime reports its own absence when a model needs it
        return text
    from edgeui.engine.runtimes.onnx import check_provider_name, known_provider_names
    from edgeui.errors import ConfigError

    try:
        check_provider_name(text, known_provider_names(onnxruntime))
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from exc
    return text


def plural(n: int, word: str, words: str | None = None) -> str:
    """"1 frame", "2 frames" (``words`` for irregular plurals)."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def add_model_arguments(parser: argparse.ArgumentParser, thresholds: bool = True) -> None:
    """Runtime choice, sidecar and card overrides; thresholds where the command decodes."""
    g = parser.add_argument_group("model")
    g.add_argument("--threads", type=positive_int, help="inference threads (default: runtime's)")
    g.add_argument("--sidecar", type=Path, help="model description file (YAML or TOML)")
    g.add_argument("--provider", action="append", dest="providers", metavar="EP",
                   type=provider_name,
                   help="ONNX Runtime execution provider, in order (cpu, cuda, tensorrt, "
                   "openvino, coreml, dml); repeat for a fallback list")
    g.add_argument("--strict-providers", action="store_true",
                   help="fail instead of warning when a requested provider is unavailable")
    g.add_argument("--delegate", help="TFLite external delegate library (e.g. libedgetpu.so.1)")
    g.add_argument("--task", choices=("classification", "detection", "segmentation", "pose"),
                   help="override the detected task")
    g.add_argument("--decoder", help="override the output decoder kind (see `edgeui inspect`)")
    g.add_argument("--labels", type=Path, help="label file (one name per line)")
    g.add_argument("--color", choices=("RGB", "BGR"), help="override the input colour order")
    g.add_argument("--resize", choices=("stretch", "letterbox"), help="override the resize mode")
    if thresholds:
        g.add_argument("--conf", type=unit_interval, help="confidence threshold (default 0.25)")
        g.add_argument("--iou", type=unit_interval, help="NMS IoU threshold (default 0.45)")
        g.add_argument("--top-k", type=positive_int, dest="top_k",
                       help="classes to report (default 5)")


def model_options_from_args(args: argparse.Namespace) -> ModelOptions:
    overrides: dict[str, Any] = {}
    for key in ("task", "decoder", "conf", "iou", "top_k"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    if getattr(args, "labels", None) is not None:
        overrides["labels"] = str(args.labels)
    input_overrides = {k: getattr(args, k) for k in ("color", "resize") if getattr(args, k, None)}
    if input_overrides:
        overrides["input"] = input_overrides
    runtime = RuntimeOptions(
        threads=args.threads,
        providers=tuple(args.providers) if args.providers else None,
        strict_providers=args.strict_providers,
        delegate=args.delegate,
    )
    return ModelOptions(runtime=runtime, sidecar=args.sidecar, overrides=overrides)


def print_source_event(ev: Any) -> None:
    """A source's state change as one stderr line ("edgeui: source 0: reconnecting in 4 s…").

    "failed" is left out: the command then ends with that reason as its error, said once.
    """
    if ev.state == "failed":
        return
    message = ev.message
    prefix = f"{ev.source}: "
    if message.startswith(prefix):  # errors name their source already
        message = message[len(prefix):]
    print(f"edgeui: source {ev.source}: {message}", file=sys.stderr, flush=True)
