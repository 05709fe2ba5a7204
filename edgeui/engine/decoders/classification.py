"""Image classification: one score vector ``[1, C]`` (also ``[C]``, ``[1, 1, 1, C]``).

Scores are softmaxed unless they already form a distribution (all in 0..1 and summing to
about 1, or a quantised 0..1 output whose rounding loses the small tail);
params["activation"] = "softmax" | "sigmoid" | "none" overrides. Indices are the model's
own output indices; ``ctx.labels`` carries any background-class offset. Classes scoring
under MIN_CLASS_SCORE are left out, so fewer than top_k may be reported; ties go to the
lower index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeui.engine.decoders.base import DecodeContext, Sniffed, SniffHints
from edgeui.engine.decoders.detection import describe_shape, dims
from edgeui.engine.types import Classification, Result, TensorSpec

# A probability vector's sum may drift this far from 1 (float16 exports, rounding).
_SUM_TOLERANCE = 0.1
# Classes scoring below this are not reported: top-k would otherwise pad with arbitrary
# tied zeros (a quantised softmax rounds most of its tail to exactly 0).
MIN_CLASS_SCORE = 1e-4


def vector_length(spec: TensorSpec) -> int | None:
    """C when the shape has exactly one dimension above 1 (the class axis), else None."""
    s = dims(spec)
    if any(d is None for d in s):
        return None
    big = [d for d in s if d != 1]
    return int(big[0]) if len(big) == 1 and big[0] >= 2 else None


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def is_distribution(v: np.ndarray, quantized: bool = False) -> bool:
    """Whether scores already are probabilities (no softmax needed)."""
    if v.size == 0 or float(v.min()) < 0.0 or float(v.max()) > 1.0 + 1e-3:
        return False
    # A quantised softmax rounds thousands of tiny probabilities to 0: its sum can be low.
    return quantized or abs(float(v.sum()) - 1.0) <= _SUM_TOLERANCE


def to_probabilities(v: np.ndarray, activation: str = "auto", quantized: bool = False):
    if activation == "softmax" or (activation == "auto" and not is_distribution(v, quantized)):
        return softmax(v)
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-v))
    return v


class ClassificationDecoder:
    """Top-k classes from a score vector."""

    kind = "classification"
    task = "classification"
    priority = 90

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        if not outputs or (len(outputs) > 1 and hints.task != "classification"):
            return None
        for index, spec in enumerate(outputs):
            c = vector_length(spec)
            if c is None:
                continue
            return Sniffed(
                self.kind,
                self.task,
                {"output": index},
                f"output {describe_shape(spec)} is one score vector: classification "
                f"over {c} classes",
            )
        return None

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        index = int(ctx.params.get("output", 0) or 0)
        v = np.asarray(outputs[index], dtype=np.float32).reshape(-1)
        spec = ctx.output_specs[index] if index < len(ctx.output_specs) else None
        quantized = bool(spec is not None and spec.quantized)
        t = ctx.transform
        if v.size == 0:
            return Result("classification", t.source_w, t.source_h)
        activation = str(ctx.params.get("activation", "auto"))
        probs = to_probabilities(v, activation, quantized)
        # Raw scores (activation "none") may be any real number: no floor for them.
        floor = -np.inf if activation == "none" else MIN_CLASS_SCORE
        # Candidates above the floor, best first; ties go to the lower index (lexsort is
        # stable and its last key is primary), so the same scores always give the same list.
        cand = np.flatnonzero((probs >= floor) & np.isfinite(probs))  # NaN/Inf: no class
        k = max(0, min(int(ctx.top_k), cand.size))
        if 0 < k < cand.size:
            # Keep everything tied with the k-th score so that the tie-break sees them all.
            kth = np.partition(probs[cand], cand.size - k)[cand.size - k]
            cand = cand[probs[cand] >= kth]
        top = cand[np.lexsort((cand, -probs[cand]))][:k]
        classes = tuple(
            Classification(int(i), ctx.labels.name(int(i)), float(probs[i])) for i in top
        )
        return Result("classification", t.source_w, t.source_h, classes=classes)


DECODERS = (ClassificationDecoder(),)
