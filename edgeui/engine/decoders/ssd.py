"""SSD with the TFLite_Detection_PostProcess op: four outputs, NMS already done.

boxes [1, N, 4] (ymin, xmin, ymax, xmax, 0..1), classes [1, N], scores [1, N], count [1].
Their ORDER differs between TF1 exports (boxes, classes, scores, count) and TF2 exports
(scores, boxes, count, classes, or other), so boxes and count are found by shape when
sniffing, and classes are told from scores by their VALUES on every frame: class ids are
whole numbers, scores are fractions in 0..1 (sorted best first by the op).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from edgeui.engine.decoders.base import DecodeContext, Sniffed, SniffHints
from edgeui.engine.decoders.detection import describe_shape, dims, finish_detections, scale_xy
from edgeui.engine.types import Result, TensorSpec

# The op's own output order: TF1 tensor names end in ":1" (classes) and ":2" (scores).
_OP_NAME = re.compile(r"TFLite_Detection_PostProcess(?::(\d))?$")


def _size(shape: tuple[int | None, ...]) -> int | None:
    n = 1
    for d in shape:
        if d is None:
            return None
        n *= d
    return n


def _prior_classes_first(outputs: Sequence[TensorSpec], pair: list[int]) -> bool:
    """Name-based guess that pair[0] is classes (TF1 names), else positional (classes first)."""
    slots = []
    for i in pair:
        m = _OP_NAME.search(outputs[i].name)
        slots.append(int(m.group(1)) if m and m.group(1) else None)
    return slots != [2, 1]


def split_classes_scores(
    a: np.ndarray, b: np.ndarray, count: int, a_first_prior: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(classes, scores) from two [N] arrays, told apart by their values.

    Classes are integral; scores are fractional and within 0..1. When values do not decide
    (e.g. every score is exactly 0 or 1), the prior order is used.
    """
    va, vb = a[:count], b[:count]

    def integral(v: np.ndarray) -> bool:
        return bool(np.all(v == np.round(v)))

    def prob(v: np.ndarray) -> bool:
        return bool(np.all((v >= 0) & (v <= 1)))

    ia, ib = integral(va), integral(vb)
    if ia != ib:
        return (a, b) if ia else (b, a)
    pa, pb = prob(va), prob(vb)
    if pa != pb:
        return (b, a) if pa else (a, b)
    return (a, b) if a_first_prior else (b, a)


class SsdPostprocessDecoder:
    """TFLite_Detection_PostProcess outputs (any order); no NMS needed."""

    kind = "ssd_postprocess"
    task = "detection"
    priority = 10

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        if len(outputs) != 4:
            return None
        shapes = [dims(o) for o in outputs]
        boxes = [i for i, s in enumerate(shapes) if len(s) == 3 and s[0] == 1 and s[2] == 4]
        count = [i for i, s in enumerate(shapes) if _size(s) == 1]
        if len(boxes) != 1 or len(count) != 1:
            return None
        n = shapes[boxes[0]][1]
        pair = [i for i in range(4) if i not in (boxes[0], count[0])]
        for i in pair:
            s = shapes[i]
            if len(s) != 2 or s[0] != 1 or s[1] != n:
                return None
        if not _prior_classes_first(outputs, pair):
            pair.reverse()
        role = {boxes[0]: "boxes", count[0]: "count"}
        order = ", ".join(
            f"{describe_shape(outputs[i])} {role.get(i, 'classes/scores')}" for i in range(4)
        )
        return Sniffed(
            self.kind,
            self.task,
            {"boxes": boxes[0], "count": count[0], "classes": pair[0], "scores": pair[1]},
            f"four outputs ({order}) match the SSD TFLite_Detection_PostProcess layout "
            f"with up to {n} detections",
        )

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        arrs = [np.asarray(o) for o in outputs]
        p = ctx.params
        if "boxes" in p and "count" in p:
            bi, ci = int(p["boxes"]), int(p["count"])
        else:  # sidecar named the decoder without indices: find them by shape
            bi = next(i for i, a in enumerate(arrs) if a.ndim >= 2 and a.shape[-1] == 4)
            ci = next(i for i, a in enumerate(arrs) if a.size == 1)
        pair = [i for i in range(len(arrs)) if i not in (bi, ci)][:2]
        if "classes" in p and int(p["classes"]) in pair:
            pair.sort(key=lambda i: i != int(p["classes"]))
        boxes = arrs[bi].reshape(-1, 4).astype(np.float32)
        n = len(boxes)
        count = int(np.clip(np.round(float(arrs[ci].ravel()[0])), 0, n))
        a = arrs[pair[0]].reshape(-1)[:n].astype(np.float32)
        b = arrs[pair[1]].reshape(-1)[:n].astype(np.float32)
        classes, scores = split_classes_scores(a, b, count)
        boxes, classes, scores = boxes[:count], classes[:count], scores[:count]
        # ymin, xmin, ymax, xmax (0..1) -> x1, y1, x2, y2 in input pixels.
        xyxy = boxes[:, [1, 0, 3, 2]]
        if p.get("normalized", True):
            xyxy = scale_xy(xyxy, ctx.transform, "xyxy")
        ids = np.round(classes).astype(np.int64)
        return finish_detections(xyxy, scores, ids, ctx, run_nms=False)


DECODERS = (SsdPostprocessDecoder(),)
