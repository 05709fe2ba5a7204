"""YOLOv5-style detection with objectness: ``[1, N, 5+C]``, N = 3 anchors x grid cells.

Columns: centre x, centre y, width, height (input pixels, or 0..1 in TFLite exports), an
objectness probability, then C class probabilities; score = objectness x class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeui.engine.decoders.base import DecodeContext, Sniffed, SniffHints
from edgeui.engine.decoders.detection import (
    as_2d,
    describe_shape,
    dims,
    empty_detections,
    finish_detections,
    input_hw,
    is_normalized,
    is_scores,
    matches_cells,
    pick_output,
    scale_xy,
    strides_of,
    xywh_to_xyxy,
)
from edgeui.engine.types import Result, TensorSpec


def objectness_candidates(
    a: np.ndarray, ctx: DecodeContext
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of an (N, 5+C) array scoring >= conf: (row indices, scores, class ids).

    score = obj x cls <= obj, so rows are first filtered on objectness alone (cheap), then
    class scores are read for the survivors only.
    """
    nc = int(ctx.params.get("num_classes") or a.shape[1] - 5)
    obj = a[:, 4]
    rows = np.flatnonzero(obj >= ctx.conf_threshold)
    if rows.size == 0 or nc < 1:
        empty = np.zeros((0,), np.int64)
        return empty, np.zeros((0,), np.float32), empty
    cls = a[rows, 5 : 5 + nc]
    ids = cls.argmax(axis=1)
    scores = (obj[rows] * cls[np.arange(rows.size), ids]).astype(np.float32)
    ok = scores >= ctx.conf_threshold
    return rows[ok], scores[ok], ids[ok]


def sniff_objectness(
    outputs: Sequence[TensorSpec], hints: SniffHints
) -> tuple[int, int, int] | None:
    """(output index, N, C) for a single [1, N, 5+C] output, else None."""
    if len(outputs) != 1 or not is_scores(outputs[0]):
        return None
    s = dims(outputs[0])
    if len(s) != 3 or s[0] != 1 or not s[1] or not s[2]:
        return None
    n, k = int(s[1]), int(s[2])
    if k < 6 or n <= k:
        return None
    nc = hints.num_classes
    if nc and k == 4 + nc:
        return None  # the anchor-free 4+C layout, transposed
    return 0, n, k - 5


class YoloV5Decoder:
    """YOLOv5 [1, N, 5+C] with objectness; class-aware NMS."""

    kind = "yolov5"
    task = "detection"
    priority = 50

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        found = sniff_objectness(outputs, hints)
        if found is None:
            return None
        index, n, nc = found
        if not matches_cells(n, input_hw(inputs, hints), strides_of(hints), per_cell=3):
            return None
        return Sniffed(
            self.kind,
            self.task,
            {"num_classes": nc, "output": index},
            f"output {describe_shape(outputs[index])} matches the YOLOv5 5+C layout "
            f"(3 anchors per grid cell, objectness) with {nc} classes",
        )

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        a = as_2d(pick_output(outputs, ctx))
        rows, scores, ids = objectness_candidates(a, ctx)
        if rows.size == 0:
            return empty_detections(ctx)
        xywh = a[rows, :4].astype(np.float32)
        if is_normalized(xywh, ctx.params):
            xywh = scale_xy(xywh, ctx.transform, "xywh")
        return finish_detections(xywh_to_xyxy(xywh), scores, ids, ctx)


DECODERS = (YoloV5Decoder(),)
