"""End-to-end detection with NMS inside the model: ``[1, K, 6]`` x1, y1, x2, y2, score, class.

YOLOv10 / YOLO26 end2end and other NMS-included exports. Coordinates are input pixels or
0..1 (detected per frame, or params["normalized"]). ``[1, K, 7]`` rows start with a batch
index. Score and class columns are told apart by their values when an export swaps them
(class ids are whole numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeui.engine.decoders.base import DecodeContext, Sniffed, SniffHints
from edgeui.engine.decoders.detection import (
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
)
from edgeui.engine.types import Result, TensorSpec

# More rows than this is a dense anchor tensor, not a list of final detections.
_MAX_ROWS = 1000


def _can_hold_detections(inputs: Sequence[TensorSpec], raw: tuple[int | None, ...]) -> bool:
    """Whether a 6/7-column output's row count can be a list of detections: a fixed single
    row ([1, 7], [1, 1, 6]) is one classifier's scores, and so is [?, 7] when the image input's
    batch is dynamic too (the rows are that batch, not detections)."""
    rows = raw[1] if len(raw) == 3 else raw[0] if len(raw) == 2 else None
    if rows == 1:
        return False
    if len(raw) == 2 and rows is None:
        image = next((spec for spec in inputs if len(spec.shape) == 4), None)
        return image is not None and image.shape[0] is not None
    return True


def _integral(v: np.ndarray) -> bool:
    return bool(np.all(v == np.round(v)))


class EndToEndDecoder:
    """Final detections [1, K, 6] (or [1, K, 7] with a batch index first); no NMS needed."""

    kind = "end_to_end"
    task = "detection"
    priority = 40

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        if len(outputs) != 1 or not is_scores(outputs[0]):
            return None
        # What the model says of itself wins over the shape: a detector's task or a class
        # count other than 6/7 (YOLOv7 end2end with --dynamic-batch is [batch, 7] too).
        said_detector = hints.task == "detection" or (
            hints.num_classes is not None and hints.num_classes > 8)  # 8: 7 + "background"
        if not said_detector and not _can_hold_detections(inputs, tuple(outputs[0].shape)):
            return None
        s = dims(outputs[0])
        if len(s) == 3 and s[0] == 1:
            s = s[1:]
        if len(s) != 2 or s[1] not in (6, 7):
            return None
        k = s[0]
        hw, strides = input_hw(inputs, hints), strides_of(hints)
        if k is not None and (
            k > _MAX_ROWS or matches_cells(k, hw, strides) or matches_cells(k, hw, strides, 3)
        ):
            return None
        cols = int(s[1])
        what = "x1,y1,x2,y2,score,class" if cols == 6 else "batch,x1,y1,x2,y2,class/score"
        return Sniffed(
            self.kind,
            self.task,
            {"columns": cols, "output": 0},
            f"output {describe_shape(outputs[0])} matches end-to-end detections "
            f"({what}, NMS inside the model)",
        )

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        out = np.asarray(pick_output(outputs, ctx))
        a = out.reshape(-1, out.shape[-1]).astype(np.float32, copy=False)
        if a.shape[1] == 7:
            a = a[:, 1:]  # batch index
        if a.shape[1] < 6 or len(a) == 0:
            return empty_detections(ctx)
        score_col, class_col = 4, 5
        c4, c5 = a[:, 4], a[:, 5]
        # Exports differ: Ultralytics puts the score first, YOLOv7's end2end the class.
        if _integral(c4) and not _integral(c5):
            score_col, class_col = 5, 4
        scores = a[:, score_col]
        rows = np.flatnonzero(scores >= ctx.conf_threshold)
        if rows.size == 0:
            return empty_detections(ctx)
        boxes = a[rows, :4]
        if is_normalized(boxes, ctx.params):
            boxes = scale_xy(boxes, ctx.transform, "xyxy")
        ids = np.round(a[rows, class_col]).astype(np.int64)
        return finish_detections(boxes, scores[rows], ids, ctx, run_nms=False)


DECODERS = (EndToEndDecoder(),)
