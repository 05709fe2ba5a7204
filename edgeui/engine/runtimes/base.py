"""The Runtime protocol and a lazy registry of runtime implementations.

A runtime knows tensors, not tasks: it loads a model file, reports its inputs and outputs as
TensorSpecs, and runs feeds to outputs, handling quantisation at its boundary. Each runtime
lives in its own module and imports its package lazily, so a missing package disables one
runtime, not the app.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from edgeui.engine.types import TensorSpec
from edgeui.errors import InferenceError, ModelLoadError


@dataclass(frozen=True)
class RuntimeOptions:
    """User-chosen runtime settings; every field has a sensible default.

    providers: ONNX Runtime execution providers in order of preference (None = automatic).
    strict_providers: raise instead of warning when a requested provider is unavailable.
    delegate: path of a TFLite external delegate library (e.g. libedgetpu.so.1).
    graph_optimization: "disable" | "basic" | "extended" | "all" (ONNX Runtime).
    """

    threads: int | None = None
    providers: tuple[str, ...] | None = None
    strict_providers: bool = False
    delegate: str | None = None
    delegate_options: tuple[tuple[str, str], ...] = ()
    graph_optimization: str = "all"


@runtime_checkable
class Runtime(Protocol):
    """One loaded model in one inference runtime."""

    path: Path
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    warnings: tuple[str, ...]

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Run one inference.

        Feeds whose dtype matches the input are passed as they are; float feeds for a
        quantised input are quantised here. Quantised outputs come back dequantised to
        float32; other outputs keep their dtype. Raises InferenceError on failure.
        """
        ...

    def describe(self) -> str:
        """One line, e.g. "onnxruntime 1.20 · CPUExecutionProvider · 2 threads"."""
        ...

    def metadata(self) -> dict[str, object]:
        """Format-level facts for `inspect` (producer, opset, version, ...)."""
        ...


def feed_for(
    spec: TensorSpec, feeds: Mapping[str, np.ndarray], n_inputs: int, path: Path
) -> np.ndarray:
    """The feed for one model input: by name, or the only feed of a one-input model."""
    if spec.name in feeds:
        return feeds[spec.name]
    if n_inputs == 1 and len(feeds) == 1:
        return next(iter(feeds.values()))
    raise InferenceError(
        f"{path.name}: no data for model input '{spec.name}' "
        f"(got {', '.join(feeds) or 'nothing'})."
    )


# file suffix -> "module:Class", imported on first use.
RUNTIMES: dict[str, str] = {
    ".onnx": "edgeui.engine.runtimes.onnx:OnnxRuntime",
    ".tflite": "edgeui.engine.runtimes.litert:LiteRTRuntime",
}
FORMAT_NAMES: dict[str, str] = {".onnx": "ONNX", ".tflite": "TFLite"}
_ARTICLE = {".onnx": "an", ".tflite": "a"}

# The tag byte of each ModelProto field that can follow ir_version (field 1), which protobuf
# writers put first: producer_name .. graph, opset_import, metadata_props, training_info,
# functions, configuration.
_ONNX_NEXT_TAGS = frozenset(b"\x12\x1a\x22\x28\x32\x3a\x42\x72\xa2\xca\xd2")


def sniff_format(path: Path) -> str:
    """".tflite" or ".onnx" when a file's first bytes say so beyond doubt, else ""."""
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError:
        return ""
    if len(head) >= 8 and head[4:8] == b"TFL3":  # the flatbuffer file identifier
        return ".tflite"
    # An ONNX ModelProto starts with field 1 (ir_version, a small varint: tag byte 0x08)
    # followed by the tag of a later field.
    if len(head) >= 3 and head[0] == 0x08 and 1 <= head[1] < 0x80 and head[2] in _ONNX_NEXT_TAGS:
        return ".onnx"
    return ""


def model_format(path: Path) -> str:
    """The format edgeui reads a model file as: its content when that is conclusive, else its
    suffix (".onnx" / ".tflite"; "" when neither says)."""
    suffix = path.suffix.lower()
    return sniff_format(path) or (suffix if suffix in RUNTIMES else "")


def format_name(path: Path) -> str:
    """"ONNX" / "TFLite" as read by ``model_format`` ("" when neither)."""
    return FORMAT_NAMES.get(model_format(path), "")


def check_model_path(path: Path) -> None:
    """Raise ModelLoadError when ``path`` is not an existing, non-empty file."""
    if not path.exists():
        raise ModelLoadError(f"{path}: file not found; check the path.")
    if path.is_dir():
        raise ModelLoadError(f"{path}: is a folder; give the path of a .onnx or .tflite file.")
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{path}: the file is empty; download or export the model again.")


def runtime_class_for(path: Path) -> type:
    """The runtime class for a model file: by its content when conclusive, else its suffix.

    A file whose content contradicts its suffix (a .tflite renamed .onnx) is refused with the
    rename that fixes it: the suffix is what every other tool, and edgeui's model picker,
    trusts. Any other suffix (.bin, .model) is read by its content.
    """
    suffix = path.suffix.lower()
    sniffed = sniff_format(path)
    if sniffed and suffix in RUNTIMES and sniffed != suffix:
        raise ModelLoadError(
            f"{path}: this file is {_ARTICLE[sniffed]} {FORMAT_NAMES[sniffed]} model, not "
            f"{FORMAT_NAMES[suffix]}; rename it to {path.with_suffix(sniffed).name}."
        )
    target = RUNTIMES.get(sniffed or suffix)
    if target is None:
        raise ModelLoadError(
            f"{path}: not a model edgeui can run; expected an ONNX (.onnx) or "
            "TFLite/LiteRT (.tflite) file."
        )
    module_name, cls_name = target.split(":")
    module = importlib.import_module(module_name)
    return getattr(module, cls_name)


def load_runtime(path: str | Path, options: RuntimeOptions | None = None) -> Runtime:
    """Open a model file with the runtime its format needs."""
    p = Path(path)
    check_model_path(p)
    cls = runtime_class_for(p)
    return cls(p, options or RuntimeOptions())
