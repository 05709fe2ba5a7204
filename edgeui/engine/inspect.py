"""What edgeui understands about a model, as a plain dict (for `edgeui inspect` and the app)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from edgeui.engine.model import Model, ModelOptions
from edgeui.engine.modelfile import read_model_file
from edgeui.engine.runtimes.base import Runtime, format_name
from edgeui.engine.types import TensorSpec

# Card fields shown in order, with the provenance key that explains each.
_PREPROCESS_FIELDS = ("height", "width", "layout", "channels", "color", "resize", "pad_value",
                      "letterbox_align", "mean", "std", "raw_pixels", "dtype")  # fmt: skip


def _tensor(spec: TensorSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": spec.name, "shape": list(spec.shape), "dtype": spec.dtype}
    if spec.quantized:
        out["quantization"] = {"scale": spec.scale, "zero_point": spec.zero_point}
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def inspect_loaded(model: Model) -> dict[str, Any]:
    """Describe an already loaded model."""
    card = model.card
    path = model.path
    provenance = {k: {"source": v.source, "reason": v.reason} for k, v in card.provenance.items()}
    pre = asdict(card.preprocess)
    labels = card.labels
    return {
        "model": str(path),
        "file": {
            "name": path.name,
            "size_bytes": path.stat().st_size if path.exists() else None,
            "format": format_name(path),  # what chose the runtime: content, then suffix
        },
        "runtime": model.runtime.describe(),
        "runtime_warnings": list(getattr(model.runtime, "warnings", ())),
        "format_info": _jsonable(model.runtime.metadata()),
        "inputs": [_tensor(s) for s in model.runtime.inputs],
        "outputs": [_tensor(s) for s in model.runtime.outputs],
        "metadata": _jsonable(dict(card.metadata)),
        "card": {
            "name": model.name,
            "task": card.task,
            "decoder": {"kind": card.decoder_kind, "params": _jsonable(dict(card.decoder_params))},
            "preprocess": {k: _jsonable(pre[k]) for k in _PREPROCESS_FIELDS},
            "labels": {
                "count": len(labels),
                "offset": labels.offset,
                "first": [n for n in labels.names[:5]],
                "file": card.label_path,
            },
            "thresholds": {
                "conf": card.conf_threshold,
                "iou": card.iou_threshold,
                "top_k": card.top_k,
                "max_detections": card.max_detections,
            },
            "sidecar": card.sidecar_path,
            "provenance": provenance,
        },
    }


def inspect_model(path: str | Path, options: ModelOptions | None = None) -> dict[str, Any]:
    """Load a model and describe it (raises EdgeUIError when it can't be loaded)."""
    return inspect_loaded(Model.load(path, options))


def inspect_unloadable(
    path: str | Path, error: BaseException, runtime: Runtime | None = None
) -> dict[str, Any] | None:
    """Describe a model edgeui cannot run, from the file alone (None when nothing is readable).

    Keeps the keys of ``inspect_loaded`` that can be filled without a runtime, adds
    ``"loadable": false``, ``"error"`` (the same sentence `infer` gives) and ``"operators"``.
    ``runtime``: the runtime when it loaded the model and only the card refused it (a second
    non-image input): its inputs and outputs are listed where the file reader has none (ONNX).
    """
    p = Path(path)
    read = read_model_file(p)
    if read is None:
        return None
    if runtime is not None and not (read["inputs"] or read["outputs"]):
        read = {**read, "inputs": [_tensor(s) for s in runtime.inputs],
                "outputs": [_tensor(s) for s in runtime.outputs]}  # fmt: skip
    out: dict[str, Any] = {
        "model": str(p),
        "loadable": False,
        "error": str(error),
        "file": {"name": p.name, "size_bytes": p.stat().st_size, "format": read["format"]},
        "format_info": _jsonable(read["format_info"]),
        "inputs": read["inputs"],
        "outputs": read["outputs"],
    }
    if "operators" in read:
        out["operators"] = read["operators"]
    out["metadata"] = _jsonable(read.get("metadata", {}))
    return out
