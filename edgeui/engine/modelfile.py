"""What a model file says about itself without an inference runtime.

Used by `edgeui inspect` when the runtime refuses a model (a custom operator, an opset it
lacks, a bad delegate): the technician still sees the tensors and operators the file
declares. TFLite is read with the flatbuffer schema (tensors are never allocated); ONNX with
the header reader the model card uses (the graph is seeked over, never parsed).
"""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

from edgeui.engine.modelcard.onnx_meta import read_onnx_header
from edgeui.engine.runtimes.base import model_format
from edgeui.engine.runtimes.litert import read_tflite_header


def _schema() -> ModuleType | None:
    try:
        return importlib.import_module("ai_edge_litert.schema_py_generated")
    except ImportError:
        return None


def _enum_names(enum: type) -> dict[int, str]:
    """{value: NAME} for a flatc-generated enum class."""
    return {v: k for k, v in vars(enum).items() if not k.startswith("_") and isinstance(v, int)}


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", "replace")


def _tflite_tensor(s: ModuleType, graph: Any, index: int, dtypes: dict[int, str]) -> dict:
    t = graph.Tensors(index)
    shape: list[int | None] = [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else []
    if t.ShapeSignatureLength() == len(shape):
        # -1 in shape_signature is a dynamic dimension (shown as '?').
        sig = [int(d) for d in t.ShapeSignatureAsNumpy()] if shape else []
        shape = [None if g < 0 else d for g, d in zip(sig, shape, strict=True)] or shape
    out: dict[str, Any] = {
        "name": _text(t.Name()) or f"tensor {index}",
        "shape": shape,
        "dtype": dtypes.get(t.Type(), f"type {t.Type()}").lower(),
    }
    q = t.Quantization()
    if q is not None and q.ScaleLength() and float(q.Scale(0)) != 0.0:
        zp = int(q.ZeroPoint(0)) if q.ZeroPointLength() else 0
        out["quantization"] = {"scale": float(q.Scale(0)), "zero_point": zp}
        if q.ScaleLength() > 1:  # per-channel: the first channel stands for the rest
            out["quantization"]["channels"] = int(q.ScaleLength())
    return out


def _tflite_operators(s: ModuleType, model: Any) -> list[dict[str, Any]]:
    """One entry per operator code used, in order of first use, with a use count."""
    builtin = _enum_names(s.BuiltinOperator)
    codes = []
    for i in range(model.OperatorCodesLength()):
        c = model.OperatorCodes(i)
        # Newer files keep codes >127 in builtin_code; older ones only the deprecated byte.
        code = max(int(c.BuiltinCode()), int(c.DeprecatedBuiltinCode()))
        codes.append((code, _text(c.CustomCode()), int(c.Version())))
    uses: Counter[int] = Counter()
    for g in range(model.SubgraphsLength()):
        graph = model.Subgraphs(g)
        for o in range(graph.OperatorsLength()):
            uses[int(graph.Operators(o).OpcodeIndex())] += 1
    out = []
    for i, (code, custom, version) in enumerate(codes):
        name = builtin.get(code, f"builtin {code}")
        entry: dict[str, Any] = {"name": custom or name, "builtin": name, "version": version,
                                 "count": uses.get(i, 0)}  # fmt: skip
        if code == s.BuiltinOperator.CUSTOM:
            entry["custom"] = True
        out.append(entry)
    return out


def _buffers_fit(model: Any, size: int) -> bool:
    """Whether every constant buffer lies inside the file: a truncated file fails this even
    when the tables at its start still parse (weights sit at the end of a .tflite)."""
    for i in range(model.BuffersLength()):
        tab = model.Buffers(i)._tab
        o = tab.Offset(4)  # Buffer.data
        if o and tab.Vector(o) + tab.VectorLen(o) > size:
            return False
    return True


def read_tflite_file(path: Path) -> dict[str, Any] | None:
    """Tensors and operators of a .tflite flatbuffer (None when it cannot be read)."""
    s = _schema()
    if s is None:
        return None
    try:
        data = path.read_bytes()
        if len(data) < 8 or data[4:8] != b"TFL3":
            return None
        root = int.from_bytes(data[:4], "little")
        if root < 8 or root + 4 > len(data):
            return None
        model = s.Model.GetRootAs(data, 0)
        if model.SubgraphsLength() < 1 or not _buffers_fit(model, len(data)):
            return None
        dtypes = _enum_names(s.TensorType)
        graph = model.Subgraphs(0)
        inputs = [_tflite_tensor(s, graph, int(i), dtypes) for i in graph.InputsAsNumpy()] \
            if graph.InputsLength() else []  # fmt: skip
        outputs = [_tflite_tensor(s, graph, int(i), dtypes) for i in graph.OutputsAsNumpy()] \
            if graph.OutputsLength() else []  # fmt: skip
        operators = _tflite_operators(s, model)
        subgraphs = int(model.SubgraphsLength())
    except Exception:  # flatbuffers raise anything on a damaged file: nothing readable
        return None
    info = {k: v for k, v in read_tflite_header(path).items() if v not in ("", None, [], {})}
    if subgraphs > 1:
        info["subgraphs"] = subgraphs
    return {"format": "TFLite", "format_info": info, "inputs": inputs, "outputs": outputs,
            "operators": operators}  # fmt: skip


def read_onnx_file(path: Path) -> dict[str, Any] | None:
    """Producer, opsets and metadata props of an ONNX file (None when it cannot be read)."""
    try:
        header = read_onnx_header(path)
    except Exception:  # EdgeUIError for a corrupt header, OSError for an unreadable file
        return None
    props = header.pop("metadata_props", {})
    header.pop("graph_bytes", None)
    opsets = {e["domain"] or "ai.onnx": e["version"] for e in header.pop("opset_import", [])}
    info = {k: v for k, v in header.items() if v not in ("", None)}
    if opsets:
        info["opset"] = opsets
    return {"format": "ONNX", "format_info": info, "inputs": [], "outputs": [],
            "metadata": dict(props)}  # fmt: skip


def read_model_file(path: str | Path) -> dict[str, Any] | None:
    """What can be read from a model file without its runtime, or None when nothing can."""
    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        return None
    kind = model_format(p)  # by content first, as the runtime is chosen
    if kind == ".tflite":
        return read_tflite_file(p)
    if kind == ".onnx":
        return read_onnx_file(p)
    return None
