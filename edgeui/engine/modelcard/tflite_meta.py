"""TFLite metadata without TensorFlow.

Two places hold it:

- files zip-appended to the flatbuffer (TFLite "associated files": ``labels.txt``,
  ``imagenet_labels.txt``; Ultralytics' ``metadata.json`` / ``temp_meta.txt``), read with
  ``zipfile`` from the end of the file;
- the ``TFLITE_METADATA`` entry of ``Model.metadata``: a ``ModelMetadata`` flatbuffer
  (tflite-support ``metadata_schema.fbs``, file identifier ``M001``), read here with a
  minimal table reader over ``flatbuffers.table.Table`` that follows the schema's field ids.
  It gives normalisation mean/std, colour space, default size, label files and thresholds.
"""

from __future__ import annotations

import json
import mmap
import zipfile
from pathlib import Path
from typing import Any

from edgeui.engine.modelcard.labels import parse_label_text
from edgeui.engine.modelcard.onnx_meta import MetaResult, literal, size_from, yolo_facts
from edgeui.errors import EdgeUIError

# metadata_schema.fbs enums
_ASSOC_TYPES = {0: "UNKNOWN", 1: "DESCRIPTIONS", 2: "TENSOR_AXIS_LABELS",
                3: "TENSOR_VALUE_LABELS", 4: "TENSOR_AXIS_SCORE_CALIBRATION", 5: "VOCABULARY"}
_PU_NORMALIZATION, _PU_SCORE_THRESHOLD = 1, 3  # ProcessUnitOptions union members
_CP_IMAGE = 2  # ContentProperties union: ImageProperties
_COLOR_SPACES = {1: "RGB", 2: "GRAY"}
_GENERIC_NAMES = {"imageclassifier", "objectdetector", "imagesegmenter", "poseestimator", ""}
# Export metadata packed as files: Ultralytics (metadata.json; temp_meta.txt in older
# versions) and YOLOv5's TFLite export (meta.txt). Never label lists.
_ULTRA_META_FILES = ("metadata.json", "temp_meta.txt", "meta.txt")

_MAX_ASSOC_BYTES = 8 * 1024 * 1024


# --- a minimal flatbuffer table reader ----------------------------------------------------
class _T:
    """One flatbuffer table; field ids follow the schema order (vtable slot 4 + 2 * id)."""

    def __init__(self, buf: bytes, pos: int) -> None:
        from flatbuffers.table import Table

        if not 0 <= pos < len(buf):
            raise ValueError(f"table offset {pos} outside the buffer")
        self.t = Table(bytearray(buf) if not isinstance(buf, bytearray) else buf, pos)

    def _off(self, fid: int) -> int:
        return self.t.Offset(4 + 2 * fid)

    def string(self, fid: int) -> str | None:
        o = self._off(fid)
        return self.t.String(o + self.t.Pos).decode("utf-8", "replace") if o else None

    def scalar(self, fid: int, flags: Any, default: Any = 0) -> Any:
        o = self._off(fid)
        return self.t.Get(flags, o + self.t.Pos) if o else default

    def table(self, fid: int) -> _T | None:
        o = self._off(fid)
        return _T(self.t.Bytes, self.t.Indirect(o + self.t.Pos)) if o else None

    def tables(self, fid: int) -> list[_T]:
        o = self._off(fid)
        if not o:
            return []
        start, n = self.t.Vector(o), self.t.VectorLen(o)
        return [_T(self.t.Bytes, self.t.Indirect(start + 4 * i)) for i in range(n)]

    def floats(self, fid: int) -> list[float]:
        from flatbuffers import number_types as nt

        o = self._off(fid)
        if not o:
            return []
        start, n = self.t.Vector(o), self.t.VectorLen(o)
        return [self.t.Get(nt.Float32Flags, start + 4 * i) for i in range(n)]

    def strings(self, fid: int) -> list[str]:
        o = self._off(fid)
        if not o:
            return []
        start, n = self.t.Vector(o), self.t.VectorLen(o)
        return [self.t.String(start + 4 * i).decode("utf-8", "replace") for i in range(n)]


def _is_label_list(name: str, data: bytes) -> bool:
    """A packed text file that can be a label list (not a metadata dict)."""
    return (name.lower().endswith((".txt", ".pbtxt")) and name not in _ULTRA_META_FILES
            and data.lstrip()[:1] != b"{")

def _assoc_files(t: _T, fid: int) -> list[dict[str, Any]]:
    from flatbuffers import number_types as nt

    return [
        {"name": f.string(0) or "", "description": f.string(1) or "",
         "type": _ASSOC_TYPES.get(f.scalar(2, nt.Int8Flags), "UNKNOWN"),
         "locale": f.string(3) or ""}
        for f in t.tables(fid)
    ]  # fmt: skip


def _tensor_meta(t: _T) -> dict[str, Any]:
    from flatbuffers import number_types as nt

    out: dict[str, Any] = {"name": t.string(0) or "", "description": t.string(1) or ""}
    dims = t.strings(2)
    if dims:
        out["dimension_names"] = dims
    content = t.table(3)
    if content is not None and content.scalar(0, nt.Uint8Flags) == _CP_IMAGE:
        props = content.table(1)
        if props is not None:
            out["color_space"] = _COLOR_SPACES.get(props.scalar(0, nt.Int8Flags), "UNKNOWN")
            size = props.table(1)
            if size is not None:
                h, w = size.scalar(1, nt.Uint32Flags), size.scalar(0, nt.Uint32Flags)
                out["default_size"] = (h, w)
    for unit in t.tables(4):
        kind = unit.scalar(0, nt.Uint8Flags)
        options = unit.table(1)
        if options is None:
            continue
        if kind == _PU_NORMALIZATION:
            out["mean"], out["std"] = options.floats(0), options.floats(1)
        elif kind == _PU_SCORE_THRESHOLD:
            out["score_threshold"] = options.scalar(0, nt.Float32Flags, 0.0)
    files = _assoc_files(t, 6)
    if files:
        out["associated_files"] = files
    return out


def parse_model_metadata(buf: bytes) -> dict[str, Any]:
    """Parse a ModelMetadata flatbuffer (raises ValueError/IndexError/struct.error if corrupt)."""
    import flatbuffers

    if len(buf) < 8:
        raise ValueError("metadata buffer too short")
    if buf[4:8] != b"M001":
        raise ValueError(f"unexpected metadata identifier {bytes(buf[4:8])!r}")
    root = flatbuffers.encode.Get(flatbuffers.packer.uoffset, bytearray(buf), 0)
    m = _T(bytearray(buf), root)
    out: dict[str, Any] = {}
    for fid, key in ((0, "name"), (1, "description"), (2, "version"), (4, "author"),
                     (5, "license"), (7, "min_parser_version")):
        value = m.string(fid)
        if value:
            out[key] = value
    subgraphs = []
    for sg in m.tables(3):
        subgraphs.append({
            "name": sg.string(0) or "", "description": sg.string(1) or "",
            "inputs": [_tensor_meta(t) for t in sg.tables(2)],
            "outputs": [_tensor_meta(t) for t in sg.tables(3)],
            "associated_files": _assoc_files(sg, 4),
        })  # fmt: skip
    out["subgraphs"] = subgraphs
    files = _assoc_files(m, 6)
    if files:
        out["associated_files"] = files
    return out


# --- the whole file -----------------------------------------------------------------------
def _read_model_entries(data: bytes | mmap.mmap) -> tuple[dict[str, Any], dict[str, bytes]]:
    """TFLite schema version/description and the raw bytes of each Model.metadata entry."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(data, 0)
    raw: dict[str, Any] = {"schema_version": model.Version()}
    if model.Description():
        raw["description"] = model.Description().decode("utf-8", "replace")
    entries: dict[str, bytes] = {}
    for i in range(model.MetadataLength()):
        md = model.Metadata(i)
        name = (md.Name() or b"").decode("utf-8", "replace")
        index = md.Buffer()
        if not 0 <= index < model.BuffersLength():
            continue
        buffer = model.Buffers(index)
        if buffer.DataLength():
            entries[name] = buffer.DataAsNumpy().tobytes()
        elif buffer.Offset() and buffer.Size():  # large models keep buffers after the flatbuffer
            entries[name] = bytes(data[buffer.Offset() : buffer.Offset() + buffer.Size()])
    return raw, entries


def _zip_files(path: Path) -> dict[str, bytes]:
    if not zipfile.is_zipfile(path):
        return {}
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.is_dir() and info.file_size <= _MAX_ASSOC_BYTES:
                out[info.filename] = zf.read(info)
    return out


def read_tflite_metadata(path: Path) -> MetaResult:
    """Everything a .tflite file says about itself; problems become warnings, never errors."""
    result = MetaResult()
    try:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            raw, entries = _read_model_entries(mm)
    except Exception as exc:  # a damaged flatbuffer must not stop a model the runtime accepted
        result.warnings.append(f"TFLite metadata: cannot read the model's metadata list ({exc}).")
        raw, entries = {}, {}
    result.raw.update(raw)
    if "min_runtime_version" in entries:
        result.raw["min_runtime_version"] = entries["min_runtime_version"].split(b"\0")[0].decode(
            "utf-8", "replace"
        )
    result.raw["metadata_entries"] = sorted(entries)
    try:
        files = _zip_files(path)
    except (OSError, zipfile.BadZipFile, EdgeUIError, ValueError) as exc:
        result.warnings.append(f"TFLite metadata: the zip-appended files are unreadable ({exc}).")
        files = {}
    if files:
        result.raw["associated_files"] = sorted(files)
    meta: dict[str, Any] = {}
    if "TFLITE_METADATA" in entries:
        try:
            meta = parse_model_metadata(entries["TFLITE_METADATA"])
            result.raw["TFLITE_METADATA"] = meta
        except Exception as exc:  # corrupt metadata: say so, keep loading
            result.warnings.append(f"TFLite metadata: TFLITE_METADATA is unreadable ({exc}).")
    _facts_from_metadata(meta, files, result)
    _facts_from_ultralytics(files, result)
    return result


def _facts_from_metadata(meta: dict[str, Any], files: dict[str, bytes], result: MetaResult) -> None:
    facts = result.facts
    name = meta.get("name", "")
    if name.strip().lower() not in _GENERIC_NAMES:
        facts["name"] = (name, "ModelMetadata.name")
    subgraph = (meta.get("subgraphs") or [{}])[0]
    inputs = subgraph.get("inputs") or []
    if inputs:
        first = inputs[0]
        mean, std = first.get("mean") or [], first.get("std") or []
        if mean and std and len(mean) in (1, 3) and len(std) in (1, 3) and all(std):
            m3 = tuple(float(v) for v in (mean * 3 if len(mean) == 1 else mean))
            s3 = tuple(float(v) for v in (std * 3 if len(std) == 1 else std))
            reason = f"NormalizationOptions mean={mean} std={std}"
            facts["mean"], facts["std"] = (m3, reason), (s3, reason)
        if first.get("color_space") in ("RGB", "GRAY"):
            facts["color"] = (first["color_space"], "ImageProperties.color_space")
        if first.get("default_size") and all(first["default_size"]):
            facts["size"] = (tuple(first["default_size"]),
                             "ImageProperties.default_size (height, width)")
    label_file = None
    for out in subgraph.get("outputs") or []:
        for f in out.get("associated_files", []):
            is_labels = f["type"] in ("TENSOR_AXIS_LABELS", "TENSOR_VALUE_LABELS")
            if (is_labels and f["locale"][:2].lower() in ("", "en")
                    and _is_label_list(f["name"], files.get(f["name"], b""))):
                label_file = label_file or f["name"]
        if "score_threshold" in out and 0 < out["score_threshold"] < 1:
            facts["conf"] = (float(out["score_threshold"]), "ScoreThresholdingOptions")
    if label_file is None:
        # No metadata (or none naming it): the first packed text file that is a label list.
        label_file = next((n for n in sorted(files) if _is_label_list(n, files[n])), None)
        how = "packed in the model (zip-appended associated file)"
    else:
        how = "named by TFLITE_METADATA as the output's label file"
    if label_file is not None:
        if label_file not in files:
            result.warnings.append(f"TFLite metadata: {label_file!r} is named but not packed.")
            return
        try:
            names, _fmt, _notes = parse_label_text(files[label_file].decode("utf-8", "replace"),
                                                   label_file)
        except EdgeUIError as exc:
            result.warnings.append(f"TFLite metadata: {exc}")
            return
        facts["labels"] = (names, f"{len(names)} labels from {label_file} {how}")
        result.raw["label_file"] = label_file


def _facts_from_ultralytics(files: dict[str, bytes], result: MetaResult) -> None:
    for name in _ULTRA_META_FILES:
        if name not in files:
            continue
        text = files[name].decode("utf-8", "replace")
        try:
            data = json.loads(text)
        except ValueError:
            data = literal(text)
        if not isinstance(data, dict):
            result.warnings.append(f"TFLite metadata: {name} is not a dictionary; ignored.")
            continue
        result.raw["ultralytics"] = {k: v for k, v in data.items() if k != "names"}
        if isinstance(data.get("imgsz"), (list, int)) and size_from(data["imgsz"]) is None:
            data.pop("imgsz")
        facts, warnings = yolo_facts(data, "TFLite")
        result.warnings.extend(warnings)
        for key, (value, reason) in facts.items():
            result.facts[key] = (value, f"{reason} (packed {name})")
        return
