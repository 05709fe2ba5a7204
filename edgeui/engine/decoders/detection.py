"""Helpers shared by the detection and pose decoders: shapes, grids, boxes, final Result.

Sniff helpers read TensorSpecs (None for dynamic dims); decode helpers work on arrays. The
last step of every detector is ``finish_detections``: confidence filter, class-aware NMS,
mapping to source pixels through the ImageTransform, labels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from edgeui.engine.decoders.base import DecodeContext, SniffHints
from edgeui.engine.decoders.nms import nms
from edgeui.engine.types import Detections, ImageTransform, Result, TensorSpec
from edgeui.errors import UnsupportedModelError

DEFAULT_STRIDES: tuple[int, ...] = (8, 16, 32)
# Largest coordinate that still means "normalised 0..1" (boxes may overshoot the edge a bit).
NORMALIZED_MAX = 1.5


# --- spec helpers (sniff time) ------------------------------------------------------------
def dims(spec: TensorSpec) -> tuple[int | None, ...]:
    """A spec's shape with a dynamic leading batch dim read as 1."""
    shape = tuple(spec.shape)
    if shape and shape[0] is None and len(shape) >= 2:
        return (1, *shape[1:])
    return shape


def is_scores(spec: TensorSpec) -> bool:
    """Whether an output holds real-valued scores/coordinates (float, or quantised ints)."""
    return spec.dtype.startswith(("float", "bfloat")) or spec.quantized


def squeeze_batch(shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
    """Drop a leading batch dim of 1 (only one)."""
    return shape[1:] if len(shape) >= 2 and shape[0] == 1 else shape


def input_hw(inputs: Sequence[TensorSpec], hints: SniffHints) -> tuple[int, int] | None:
    """The image input's (height, width): from hints, else from the first 4-D input's shape."""
    if hints.input_hw:
        return int(hints.input_hw[0]), int(hints.input_hw[1])
    for spec in inputs:
        s = dims(spec)
        if len(s) != 4:
            continue
        if s[1] in (1, 3, 4) and s[2] and s[3]:
            return int(s[2]), int(s[3])
        if s[3] in (1, 3, 4) and s[1] and s[2]:
            return int(s[1]), int(s[2])
    return None


def cell_count(hw: tuple[int, int], strides: Sequence[int] = DEFAULT_STRIDES) -> int:
    """Grid cells over all strides: sum of ceil(H/s) * ceil(W/s)."""
    h, w = hw
    return sum(math.ceil(h / s) * math.ceil(w / s) for s in strides)


def square_size_for(n: int, per_cell: int = 1) -> int | None:
    """The square input size S (multiple of 32) whose 8/16/32 grids give n / per_cell cells."""
    if n <= 0 or n % (21 * per_cell):
        return None
    k = math.isqrt(n // (21 * per_cell))
    return 32 * k if k * k * 21 * per_cell == n else None


def matches_cells(
    n: int | None, hw: tuple[int, int] | None, strides: Sequence[int], per_cell: int = 1
) -> bool:
    """Whether n anchors fit the input's grid (per_cell anchors per cell, 3 for YOLOv5)."""
    if not n:
        return False
    if hw is not None:
        return n == per_cell * cell_count(hw, strides)
    return tuple(strides) == DEFAULT_STRIDES and square_size_for(n, per_cell) is not None


def strides_of(hints: SniffHints, params: Mapping[str, Any] | None = None) -> tuple[int, ...]:
    if params and params.get("strides"):
        return tuple(int(s) for s in params["strides"])
    return tuple(hints.strides) if hints.strides else DEFAULT_STRIDES


def describe_shape(spec: TensorSpec) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in spec.shape) + "]"


# --- decode helpers ---------------------------------------------------------------------
def pick_output(outputs: Sequence[np.ndarray], ctx: DecodeContext, ndim: int = 3) -> np.ndarray:
    """The output to decode: params["output"] if set, else the first with ``ndim`` dims."""
    index = ctx.params.get("output")
    if index is not None and 0 <= int(index) < len(outputs):
        return np.asarray(outputs[int(index)])
    for out in outputs:
        if np.ndim(out) == ndim:
            return np.asarray(out)
    return np.asarray(outputs[0])


def as_2d(out: np.ndarray) -> np.ndarray:
    """Drop leading batch dims of 1: [1, A, B] -> [A, B]."""
    a = np.asarray(out)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise UnsupportedModelError(
            f"the decoder expects a [1, A, B] output but got shape {list(np.shape(out))}; "
            f"check the decoder named in the model's sidecar."
        )
    return a


@lru_cache(maxsize=16)
def grid(hw: tuple[int, int], strides: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Cell (x, y) offsets (N, 2) and per-cell strides (N,) for a YOLO-style input size.

    Cells run stride by stride, row-major (y, then x) inside each stride, as YOLOX and
    Ultralytics flatten them. Cached per (H, W, strides): the arrays are read-only.
    """
    h, w = hw
    xy, st = [], []
    for s in strides:
        gh, gw = math.ceil(h / s), math.ceil(w / s)
        yv, xv = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
        xy.append(np.stack((xv, yv), axis=-1).reshape(-1, 2))
        st.append(np.full(gh * gw, s))
    cells = np.concatenate(xy).astype(np.float32)
    strides_arr = np.concatenate(st).astype(np.float32)
    cells.flags.writeable = False
    strides_arr.flags.writeable = False
    return cells, strides_arr


def xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    """(N, 4) centre x, centre y, w, h -> x1, y1, x2, y2."""
    out = np.empty((len(xywh), 4), dtype=np.float32)
    half = xywh[:, 2:4] * 0.5
    out[:, :2] = xywh[:, :2] - half
    out[:, 2:] = xywh[:, :2] + half
    return out


def is_normalized(coords: np.ndarray, params: Mapping[str, Any]) -> bool:
    """Whether box coordinates are 0..1 (TFLite exports) rather than input pixels.

    params["normalized"] decides when set; otherwise the largest coordinate does.
    """
    flag = params.get("normalized")
    if flag is not None:
        return bool(flag)
    return coords.size > 0 and float(np.abs(coords).max()) <= NORMALIZED_MAX


def scale_xy(coords: np.ndarray, t: ImageTransform, columns: str = "xyxy") -> np.ndarray:
    """Multiply normalised x columns by input width and y columns by input height."""
    factors = np.array([t.input_w if c in "xw" else t.input_h for c in columns], np.float32)
    return coords * factors


def finish_detections(
    boxes: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    ctx: DecodeContext,
    *,
    run_nms: bool = True,
) -> Result:
    """Confidence filter, class-aware NMS, input -> source pixels, labels; a detection Result.

    ``boxes`` are x1,y1,x2,y2 in INPUT pixels. Boxes that lie wholly in the letterbox padding
    (zero area once clipped to the source image) are dropped.
    """
    t = ctx.transform
    scores = np.asarray(scores, dtype=np.float32)
    class_ids = np.asarray(class_ids).astype(np.int64, copy=False)
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    finite = np.isfinite(scores) & np.isfinite(boxes).all(axis=1)
    if not finite.all():  # a broken model's NaN/Inf is no detection (never an endless box)
        boxes, scores, class_ids = boxes[finite], scores[finite], class_ids[finite]
    if run_nms:
        keep = nms(
            boxes,
            scores,
            ctx.iou_threshold,
            class_ids=class_ids,
            max_det=ctx.max_detections,
            conf_threshold=ctx.conf_threshold,
        )
    else:
        keep = np.flatnonzero(scores >= ctx.conf_threshold)
        keep = keep[np.argsort(-scores[keep], kind="stable")][: max(ctx.max_detections, 0)]
    src = t.to_source_boxes(boxes[keep])  # boxes: float32 (N, 4) since the top
    ok = (src[:, 2] > src[:, 0]) & (src[:, 3] > src[:, 1])
    keep, src = keep[ok], src[ok]
    ids = class_ids[keep]
    dets = Detections(src, scores[keep], ids, ctx.labels.names_for(ids))
    return Result("detection", t.source_w, t.source_h, detections=dets)


def empty_detections(ctx: DecodeContext) -> Result:
    t = ctx.transform
    return Result("detection", t.source_w, t.source_h, detections=Detections.empty())
