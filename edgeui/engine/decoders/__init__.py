"""Output decoders, registered by kind. See ``base.py`` for the protocol.

Each module named in ``_MODULES`` exposes ``DECODERS``, a tuple of decoder instances; they
are registered here by ``kind``. Adding a decoder family is one new module plus one name in
``_MODULES``. ``sniff_all`` asks decoders in ``priority`` order (lower first; the attribute is
optional, default 100) so that specific layouts (SSD's four outputs, MoveNet) win over
generic ones (classification's any-vector).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import replace

from edgeui.engine.decoders.base import Decoder, Sniffed, SniffHints
from edgeui.engine.types import TensorSpec

# Modules under edgeui.engine.decoders that define DECODERS.
_MODULES: tuple[str, ...] = (
    "classification",
    "anchor_free",
    "yolov5",
    "yolox",
    "ssd",
    "end_to_end",
    "segmentation",
    "pose",
    "blazeface",
)

# kind -> decoder instance; filled from _MODULES at import (see register()).
REGISTRY: dict[str, Decoder] = {}

# Ultralytics and other metadata spell tasks their own way.
_TASK_ALIASES = {
    "detect": "detection",
    "classify": "classification",
    "segment": "segmentation",
    "semantic_segmentation": "segmentation",
    "keypoints": "pose",
}


def register(decoder: Decoder) -> Decoder:
    """Add a decoder to REGISTRY under its kind (a later one with the same kind wins)."""
    REGISTRY[decoder.kind] = decoder
    return decoder


def _load() -> None:
    for name in _MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for decoder in module.DECODERS:
            register(decoder)


def get_decoder(kind: str) -> Decoder:
    """The decoder registered as ``kind``; UnsupportedModelError names the known kinds."""
    from edgeui.errors import UnsupportedModelError

    try:
        return REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise UnsupportedModelError(
            f"unknown decoder kind {kind!r}; known kinds: {known}."
        ) from None


def normalize_task(task: str | None) -> str | None:
    """Map metadata task names ("detect", "segment", ...) to edgeui's task names."""
    if task is None:
        return None
    t = str(task).strip().lower()
    return _TASK_ALIASES.get(t, t) or None


def decoders_by_priority(task: str | None = None) -> list[Decoder]:
    """Registered decoders, most specific first; only those of ``task`` when given."""
    task = normalize_task(task)
    decs = [d for d in REGISTRY.values() if task is None or d.task == task]
    return sorted(decs, key=lambda d: getattr(d, "priority", 100))


def sniff_all(
    inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints | None = None
) -> Sniffed | None:
    """The first decoder claim on these outputs, in priority order; None when none fits.

    When ``hints.task`` is set only decoders of that task are asked.
    """
    hints = hints or SniffHints()
    if hints.task is not None:
        hints = replace(hints, task=normalize_task(hints.task))
    for decoder in decoders_by_priority(hints.task):
        try:
            claim = decoder.sniff(inputs, outputs, hints)
        except (ValueError, TypeError, IndexError, ZeroDivisionError):
            # A sniffer tripping over an odd shape means "not mine", never a crash.
            claim = None
        if claim is not None:
            return claim
    return None


def _shape_text(spec: object) -> str:
    shape = getattr(spec, "shape", ())
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    dtype = getattr(spec, "dtype", "")
    return f"[{dims}] {dtype}".strip()


def describe_unknown(outputs: Sequence[object]) -> str:
    """One sentence naming the output shapes and how to describe the model in a sidecar."""
    shapes = "; ".join(_shape_text(o) for o in outputs) or "none"
    kinds = ", ".join(sorted(REGISTRY))
    return (
        f"edgeui does not recognise the model's output layout (outputs: {shapes}); "
        f"describe it in a sidecar file beside the model, e.g. model.yaml with "
        f"'task: detection' and 'decoder: <kind>', where kind is one of: {kinds}."
    )


_load()

__all__ = [
    "REGISTRY",
    "describe_unknown",
    "get_decoder",
    "normalize_task",
    "register",
    "sniff_all",
]
