"""The Decoder protocol: recognise an output layout, and turn raw outputs into a Result.

Each decoder is a small object registered by ``kind`` in ``edgeui.engine.decoders.REGISTRY``.
``sniff`` looks only at tensor specs (and hints from metadata) and says whether the layout is
its own, returning the parameters it inferred; ``decode`` is a pure, vectorised function of
the outputs. Model cards store the chosen kind and params; the sidecar can name them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from edgeui.engine.types import ImageTransform, Labels, Result, TensorSpec


@dataclass(frozen=True)
class DecodeContext:
    """Everything a decoder needs besides the raw outputs."""

    transform: ImageTransform
    labels: Labels = field(default_factory=Labels)
    params: Mapping[str, Any] = field(default_factory=dict)
    output_specs: tuple[TensorSpec, ...] = ()
    input_specs: tuple[TensorSpec, ...] = ()
    conf_threshold: float = 0.25
    iou_threshold: float = 0.45
    top_k: int = 5
    max_detections: int = 300


@dataclass(frozen=True)
class SniffHints:
    """Facts from metadata/sidecar that help recognise a layout.

    task: the task if metadata says so; num_classes: from label count or metadata names;
    kpt_shape: (K, 2|3) for pose; input_hw: the model input's (height, width).
    """

    task: str | None = None
    num_classes: int | None = None
    kpt_shape: tuple[int, int] | None = None
    input_hw: tuple[int, int] | None = None
    strides: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Sniffed:
    """A decoder's claim on a model's outputs, with the parameters it inferred and why."""

    kind: str
    task: str
    params: Mapping[str, Any]
    reason: str


class Decoder(Protocol):
    kind: str
    task: str

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        """Return a claim when the output layout is this decoder's, else None."""
        ...

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        """Turn raw (already dequantised) outputs into a Result in source-image pixels."""
        ...
