"""Anchor-free "4+C" detection (YOLOv8 / YOLO11 family): ``[1, 4+C, N]`` or ``[1, N, 4+C]``.

Rows 0..3 are box centre x, centre y, width, height (input pixels in ONNX exports, 0..1 in
TFLite exports: detected per frame unless params["normalized"] says), then C class scores
(already sigmoid; no objectness). Extra trailing channels (e.g. 32 mask coefficients of a
-seg export) are ignored when params["num_classes"] says how many classes there are.
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


def orient(
    a: int | None, b: int | None, hw: tuple[int, int] | None, strides: Sequence[int]
) -> bool | None:
    """For a [A, B] tensor of anchors: True if channels come first (N == B), False if
    transposed (N == A), None if it cannot tell. Grid cells decide; else the bigger dim is N."""
    if matches_cells(b, hw, strides):
        return True
    if matches_cells(a, hw, strides):
        return False
    if a and b:
        return b > a
    if a and b is None:
        return True  # dynamic anchor count: [1, 4+C, ?]
    if b and a is None:
        return False
    return None


class AnchorFreeDecoder:
    """YOLOv8/YOLO11-style [1, 4+C, N] boxes + class scores, with class-aware NMS."""

    kind = "anchor_free"
    task = "detection"
    priority = 60

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        three = [
            i
            for i, o in enumerate(outputs)
            if len(dims(o)) == 3 and dims(o)[0] == 1 and is_scores(o)
        ]
        others = [o for i, o in enumerate(outputs) if i not in three]
        # One detection tensor; a -seg export adds one 4-D mask-prototype tensor.
        if len(three) != 1 or len(others) > 1 or any(len(dims(o)) != 4 for o in others):
            return None
        index = three[0]
        _, a, b = dims(outputs[index])
        hw = input_hw(inputs, hints)
        strides = strides_of(hints)
        cf = orient(a, b, hw, strides)
        if cf is None:
            return None
        channels, n = (a, b) if cf else (b, a)
        if not channels or channels < 5 or (n is not None and n <= channels):
            return None
        nc = hints.num_classes
        protos = int(dims(others[0])[1] or 0) if others else 0
        if nc and channels == 4 + nc + protos:
            classes = nc
        elif nc and channels == 5 + nc and not cf:
            return None  # objectness layout: YOLOv5 / YOLOX, not ours
        else:
            classes = channels - 4 - protos
        if classes < 1:
            return None
        spec = describe_shape(outputs[index])
        layout = "4+C" if cf else "transposed N x (4+C)"
        return Sniffed(
            self.kind,
            self.task,
            {"num_classes": int(classes), "channels_first": bool(cf), "output": index},
            f"output {spec} matches the anchor-free {layout} layout with {classes} classes",
        )

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        a = as_2d(pick_output(outputs, ctx))
        p = ctx.params
        nc = int(p["num_classes"]) if p.get("num_classes") else None
        cf = p.get("channels_first")
        if cf is None:
            cf = a.shape[0] == 4 + nc if nc else a.shape[0] < a.shape[1]
        if nc is None:
            nc = (a.shape[0] if cf else a.shape[1]) - 4
        cls = a[4 : 4 + nc] if cf else a[:, 4 : 4 + nc]
        axis = 0 if cf else 1  # the class axis
        if cls.size == 0:
            return empty_detections(ctx)
        conf = cls.max(axis=axis)
        cand = np.flatnonzero(conf >= ctx.conf_threshold)
        if cand.size == 0:
            return empty_detections(ctx)
        # Class ids and boxes for the few candidates only.
        if cf:
            ids = cls[:, cand].argmax(axis=0)
            xywh = a[:4, cand].T.astype(np.float32)
        else:
            ids = cls[cand].argmax(axis=1)
            xywh = a[cand, :4].astype(np.float32)
        if is_normalized(xywh, p):
            xywh = scale_xy(xywh, ctx.transform, "xywh")
        return finish_detections(xywh_to_xyxy(xywh), conf[cand], ids, ctx)


DECODERS = (AnchorFreeDecoder(),)
