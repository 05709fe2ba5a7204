"""ONNX metadata without the ``onnx`` package: a tiny protobuf reader for ModelProto's top level.

Only the top-level fields are read; the graph (field 7, usually almost the whole file) is
seeked over by its length, so reading a 200 MB model costs microseconds and no memory.
``interpret_onnx`` then turns the metadata_props written by common exporters (Ultralytics,
YOLOv5, the ONNX ``Image.*`` convention, OpenVINO Model API) into model-card facts.
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from edgeui.errors import ModelLoadError

# A fact is (value, reason); keys are the sidecar's normalised keys (see sidecar.py).
Facts = dict[str, tuple[Any, str]]


@dataclass
class MetaResult:
    """What a model file says about itself: raw fields for `inspect`, facts, warnings."""

    raw: dict[str, Any] = field(default_factory=dict)
    facts: Facts = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --- protobuf wire format ----------------------------------------------------------------
class _Reader:
    """A protobuf wire-format reader over bytes; subclasses change where bytes come from."""

    def __init__(self, buf: memoryview | bytes, source: str) -> None:
        self.buf = buf
        self.pos = 0
        self.end = len(buf)
        self.source = source

    def _fail(self, what: str) -> ModelLoadError:
        return ModelLoadError(
            f"{self.source}: the ONNX file is truncated or corrupt ({what} at byte {self.pos}); "
            "export or download it again."
        )

    def _byte(self) -> int:
        if self.pos >= self.end:
            raise self._fail("varint runs past the end")
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def _read(self, num: int, size: int) -> Any:
        value = self.buf[self.pos : self.pos + size]
        self.pos += size
        return value

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self._byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise self._fail("varint too long")

    def fields(self):
        """Yield (field number, wire type, value): ints for varints, bytes-like otherwise."""
        while self.pos < self.end:
            tag = self.varint()
            num, wire = tag >> 3, tag & 7
            if num == 0:
                raise self._fail("field number 0")
            if wire == 0:
                yield num, wire, self.varint()
                continue
            if wire not in (1, 2, 5):
                raise self._fail(f"unsupported wire type {wire}")
            size = {1: 8, 5: 4}.get(wire) or self.varint()
            if self.pos + size > self.end:
                raise self._fail(f"field {num} is longer than the file")
            yield num, wire, self._read(num, size)


class _FileReader(_Reader):
    """The same wire reader over an open file: big fields we do not need are seeked over."""

    _SKIP = frozenset({7, 20, 25})  # graph, training_info, functions

    def __init__(self, f: BinaryIO, size: int, source: str) -> None:
        super().__init__(b"", source)
        self.f = f
        self.end = size

    def _byte(self) -> int:
        b = self.f.read(1)
        if not b:
            raise self._fail("varint runs past the end")
        self.pos += 1
        return b[0]

    def _read(self, num: int, size: int) -> Any:
        self.pos += size
        if num in self._SKIP:
            self.f.seek(size, 1)
            return _Skipped(size)
        return self.f.read(size)


class _Skipped:
    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size


def _text(value: Any) -> str:
    return bytes(value).decode("utf-8", errors="replace") if not isinstance(value, int) else ""


def _parse_fields(fields, source: str) -> dict[str, Any]:
    out: dict[str, Any] = {"opset_import": [], "metadata_props": {}}
    for num, wire, value in fields:
        if num == 1 and wire == 0:
            out["ir_version"] = value
        elif num in (2, 3, 4, 6) and wire == 2:
            key = {2: "producer_name", 3: "producer_version", 4: "domain", 6: "doc_string"}[num]
            out[key] = _text(value)
        elif num == 5 and wire == 0:
            out["model_version"] = value
        elif num == 7 and wire == 2:
            out["graph_bytes"] = len(value)
        elif num == 8 and wire == 2:
            entry: dict[str, Any] = {"domain": "", "version": 0}
            for n2, w2, v2 in _Reader(bytes(value), source).fields():
                if n2 == 1 and w2 == 2:
                    entry["domain"] = _text(v2)
                elif n2 == 2 and w2 == 0:
                    entry["version"] = v2
            out["opset_import"].append(entry)
        elif num == 14 and wire == 2:
            key, val = "", ""
            for n2, w2, v2 in _Reader(bytes(value), source).fields():
                if n2 == 1 and w2 == 2:
                    key = _text(v2)
                elif n2 == 2 and w2 == 2:
                    val = _text(v2)
            out["metadata_props"][key] = val
    if "ir_version" not in out and "graph_bytes" not in out:
        raise ModelLoadError(f"{source}: not an ONNX model (no ir_version and no graph).")
    return out


def parse_model_proto(data: bytes, source: str = "model") -> dict[str, Any]:
    """Read ModelProto's top-level fields (graph skipped). Raises ModelLoadError if corrupt."""
    return _parse_fields(_Reader(bytes(data), source).fields(), source)


def read_onnx_header(path: Path) -> dict[str, Any]:
    """Parse the ModelProto header of an ONNX file, seeking over the graph (never read)."""
    try:
        with path.open("rb") as f:
            size = path.stat().st_size
            if size == 0:
                raise ModelLoadError(f"{path}: the file is empty; export the model again.")
            return _parse_fields(_FileReader(f, size, str(path)).fields(), str(path))
    except OSError as exc:
        raise ModelLoadError(f"{path}: cannot read the file ({exc.strerror}).") from exc


# --- interpretation ----------------------------------------------------------------------
_ULTRA_TASKS = {"detect": "detection", "classify": "classification", "pose": "pose",
                "segment": "detection"}  # fmt: skip
_PIXEL_FORMATS = {"rgb8": ("RGB", 3), "bgr8": ("BGR", 3), "rgba8": ("RGB", 4),
                  "bgra8": ("BGR", 4), "gray8": ("GRAY", 1)}  # fmt: skip
# NominalPixelRange -> (mean, std) in the 0..255 pixel domain: x = (pixel - mean) / std.
_PIXEL_RANGES = {
    "nominalrange_0_255": (0.0, 1.0, "0..255"),
    "normalized_0_1": (0.0, 255.0, "0..1"),
    "normalized_1_1": (127.5, 127.5, "-1..1"),
    # 16..235: x = pixel * 219/255 + 16
    "nominalrange_16_235": (-16.0 * 255.0 / 219.0, 255.0 / 219.0, "16..235"),
}
_OV_KEY = re.compile(r"""^\(?\s*['"]?model_info['"]?\s*[,./]\s*['"]?([A-Za-z_]+)['"]?\s*\)?$""")


def literal(text: str) -> Any:
    """A Python/JSON literal from metadata text (None when it is not one)."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def names_from(value: Any) -> tuple[str, ...] | None:
    """Class names from a dict {index: name} (gaps kept) or a list; None if neither."""
    if isinstance(value, Mapping) and value:
        try:
            table = {int(k): str(v) for k, v in value.items()}
        except (TypeError, ValueError):
            return None
        if min(table) < 0 or max(table) > 100_000:
            return None
        out = [""] * (max(table) + 1)
        for k, v in table.items():
            out[k] = v
        return tuple(out)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def size_from(value: Any) -> tuple[int, int] | None:
    """(h, w) from 640, [640], [640, 480] (Ultralytics imgsz order is h, w)."""
    if isinstance(value, int) and value > 0:
        return value, value
    ok = isinstance(value, (list, tuple)) and 1 <= len(value) <= 2
    if ok and all(isinstance(v, int) and v > 0 for v in value):
        return (value[0], value[-1])
    return None


def strides_from_max(max_stride: int) -> tuple[int, ...]:
    """YOLO heads use strides 8..max_stride doubling (32 -> 8, 16, 32)."""
    out, s = [], 8
    while s <= max_stride:
        out.append(s)
        s *= 2
    return tuple(out) or (max_stride,)


def yolo_facts(props: Mapping[str, str], fmt: str) -> tuple[Facts, list[str]]:
    """Facts from Ultralytics / YOLOv5 metadata keys (shared by the ONNX and TFLite readers)."""
    facts: Facts = {}
    warnings: list[str] = []
    author = str(props.get("author", ""))
    who = "Ultralytics export" if "ultralytics" in author.lower() else f"{fmt} metadata"
    if "names" in props:
        raw = props["names"]
        names = names_from(raw if not isinstance(raw, str) else literal(raw))
        if names is None:
            warnings.append(f"{fmt} metadata: could not read 'names' ({str(raw)[:60]!r}).")
        else:
            facts["labels"] = (names, f"{len(names)} names in {who} ('names')")
    task = str(props.get("task", "")).strip().lower()
    if task in _ULTRA_TASKS:
        facts["task"] = (_ULTRA_TASKS[task], f"{who} says task={task!r}")
    if "imgsz" in props:
        raw = props["imgsz"]
        size = size_from(raw if not isinstance(raw, str) else literal(raw))
        if size:
            facts["size"] = (size, f"{who} imgsz={list(size)} (height, width)")
    if "kpt_shape" in props:
        raw = props["kpt_shape"]
        kpt = raw if not isinstance(raw, str) else literal(raw)
        if isinstance(kpt, (list, tuple)) and len(kpt) == 2 and all(
            isinstance(v, int) for v in kpt
        ):
            facts["kpt_shape"] = (tuple(kpt), f"{who} kpt_shape={list(kpt)}")
    if "stride" in props:
        raw = props["stride"]
        val = raw if not isinstance(raw, str) else literal(raw)
        if isinstance(val, int) and val > 0:
            facts["strides"] = (strides_from_max(val), f"{who} stride={val} (max stride)")
        elif isinstance(val, (list, tuple)) and val and all(isinstance(v, int) for v in val):
            facts["strides"] = (tuple(val), f"{who} stride={list(val)}")
    if who == "Ultralytics export" and facts.get("task", (None,))[0] != "classification":
        # Ultralytics' own predictor: RGB, letterbox centred with grey 114, pixels / 255.
        reason = "Ultralytics exports expect RGB, centred letterbox (114), pixels 0..1"
        facts.update({"color": ("RGB", reason), "resize": ("letterbox", reason),
                      "pad": (114, reason), "align": ("center", reason),
                      "mean": ((0.0,) * 3, reason), "std": ((255.0,) * 3, reason)})
    elif who == "Ultralytics export":
        reason = "Ultralytics classifiers expect RGB pixels 0..1 (mean 0, std 1 after /255)"
        facts.update({"color": ("RGB", reason), "mean": ((0.0,) * 3, reason),
                      "std": ((255.0,) * 3, reason)})
    return facts, warnings


def _floats(text: str) -> tuple[float, ...] | None:
    try:
        vals = tuple(float(v) for v in re.split(r"[\s,\[\]]+", text.strip()) if v)
    except ValueError:
        return None
    if len(vals) == 1:
        return vals * 3
    return vals if len(vals) == 3 else None


def openvino_facts(props: Mapping[str, str]) -> Facts:
    """Facts from OpenVINO Model API rt_info keys (model_info/..., ('model_info', ...))."""
    info: dict[str, str] = {}
    for key, value in props.items():
        m = _OV_KEY.match(key.strip())
        if m:
            info[m.group(1)] = value
    facts: Facts = {}
    why = "OpenVINO model_info"
    if info.get("labels"):
        names = tuple(info["labels"].split())
        facts["labels"] = (names, f"{len(names)} labels in {why}")
    if "mean_values" in info and (m3 := _floats(info["mean_values"])):
        facts["mean"] = (m3, f"{why} mean_values")
    if "scale_values" in info and (s3 := _floats(info["scale_values"])):
        facts["std"] = (s3, f"{why} scale_values")
    if "reverse_input_channels" in info:
        rev = info["reverse_input_channels"].strip().lower() in ("true", "1", "yes")
        facts["color"] = ("RGB" if rev else "BGR", f"{why} reverse_input_channels={rev}")
    resize = info.get("resize_type", "").strip().lower()
    if resize == "standard":
        facts["resize"] = ("stretch", f"{why} resize_type=standard")
    elif resize == "fit_to_window_letterbox":
        facts["resize"] = ("letterbox", f"{why} resize_type={resize}")
        facts["align"] = ("center", f"{why} resize_type={resize}")
    elif resize == "fit_to_window":
        facts["resize"] = ("letterbox", f"{why} resize_type={resize}")
        facts["align"] = ("topleft", f"{why} resize_type={resize} pads right/bottom")
    for key, fact, cast in (("pad_value", "pad", int), ("confidence_threshold", "conf", float),
                            ("iou_threshold", "iou", float)):
        if key in info:
            with contextlib.suppress(ValueError):
                facts[fact] = (cast(float(info[key])), f"{why} {key}")
    model_type = info.get("model_type", "").strip().lower()
    if model_type:
        task = ("classification" if "classif" in model_type else
                "segmentation" if "segment" in model_type else
                "detection" if any(k in model_type for k in ("ssd", "yolo", "detect", "retina"))
                else None)  # fmt: skip
        if task:
            facts["task"] = (task, f"{why} model_type={info['model_type']}")
    return facts


def interpret_onnx(header: Mapping[str, Any]) -> MetaResult:
    """Turn a parsed header into facts (names, task, imgsz, colour, pixel range, ...)."""
    props: Mapping[str, str] = header.get("metadata_props", {})
    result = MetaResult(raw={k: v for k, v in header.items() if k != "metadata_props"})
    result.raw["metadata_props"] = dict(props)
    facts, warnings = yolo_facts(props, "ONNX")
    result.warnings.extend(warnings)
    facts.update({k: v for k, v in openvino_facts(props).items() if k not in facts})
    lower = {k.lower(): v for k, v in props.items()}
    fmt = lower.get("image.bitmappixelformat", "").strip().lower()
    if fmt in _PIXEL_FORMATS:
        color, _channels = _PIXEL_FORMATS[fmt]
        facts["color"] = (color, f"Image.BitmapPixelFormat={props_key(props, fmt)}")
    elif fmt:
        result.warnings.append(f"ONNX metadata: unknown Image.BitmapPixelFormat {fmt!r}.")
    rng = lower.get("image.nominalpixelrange", "").strip().lower()
    if rng in _PIXEL_RANGES:
        mean, std, label = _PIXEL_RANGES[rng]
        reason = f"Image.NominalPixelRange={props_key(props, rng)} (pixels as {label})"
        facts["mean"] = ((mean,) * 3, reason)
        facts["std"] = ((std,) * 3, reason)
    elif rng:
        result.warnings.append(f"ONNX metadata: unknown Image.NominalPixelRange {rng!r}.")
    result.facts = facts
    return result


def props_key(props: Mapping[str, str], lowered_value: str) -> str:
    """The original spelling of a metadata value (for messages)."""
    for v in props.values():
        if v.strip().lower() == lowered_value:
            return v.strip()
    return lowered_value


def read_onnx_metadata(path: Path) -> MetaResult:
    """Header + interpretation for one ONNX file (ModelLoadError when the header is corrupt)."""
    return interpret_onnx(read_onnx_header(path))
