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


# kind -> the output layout that decoder reads, for "this decoder does not fit" messages.
LAYOUTS: dict[str, str] = {
    "classification": "one score vector such as [1, C]",
    "anchor_free": "one [1, 4+C, N] or [1, N, 4+C] box-and-class-scores tensor",
    "yolov5": "one [1, N, 5+C] tensor (box, objectness, class scores)",
    "yolox": "one [1, N, 5+C] tensor over the strides 8/16/32 grid cells",
    "ssd_postprocess": "the four TFLite_Detection_PostProcess outputs (boxes, classes, "
    "scores, count)",
    "end_to_end": "one [1, K, 6] or [1, K, 7] tensor of boxes with score and class",
    "segmentation": "a [1, H, W] class map or [1, H, W, C] / [1, C, H, W] class scores",
    "movenet": "one [1, 1, 17, 3] keypoint tensor",
    "movenet_multipose": "one [1, N, 56] tensor (17 keypoints, box and score per person)",
    "anchor_free_pose": "one [1, 5+K*D, N] tensor (box, person score, K keypoints)",
    "blazeface": "regressors [1, N, 16] and classificators [1, N, 1]",
}


def expected_layout(kind: str) -> str:
    """A few words on the outputs a decoder kind reads."""
    decoder = REGISTRY.get(kind)
    return str(getattr(decoder, "layout", None) or LAYOUTS.get(kind) or "its own output layout")


def shapes_text(outputs: Sequence[object]) -> str:
    """The output shapes as "[1, 3549, 85]" or "[1, 10, 4]; [1, 10]"."""
    return "; ".join(
        "[" + ", ".join("?" if d is None else str(d) for d in getattr(o, "shape", ())) + "]"
        for o in outputs
    ) or "none"


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
    "expected_layout",
    "get_decoder",
    "normalize_task",
    "register",
    "shapes_text",
    "sniff_all",
]
