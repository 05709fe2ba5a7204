"""Class-aware non-maximum suppression, vectorised.

Boxes of different classes never suppress each other: each class's boxes are shifted by
``class_id * (max coordinate + 1)`` so they cannot overlap, then one greedy pass runs. The
greedy loop runs once per KEPT box; each step is a vectorised numpy operation over the
candidates, never a Python loop over all of them.
"""

from __future__ import annotations

import numpy as np

# Above this many candidates the full IoU matrix (n*n floats) costs too much memory; the
# shrinking-remainder loop is used instead.
_MATRIX_LIMIT = 2048
# Candidates kept (best first) before NMS, like other YOLO post-processors, so a model that
# scores everything above the threshold cannot stall the frame loop.
MAX_CANDIDATES = 10000


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one x1,y1,x2,y2 box against (N, 4) boxes."""
    xx1 = np.maximum(box[0], boxes[:, 0])
    yy1 = np.maximum(box[1], boxes[:, 1])
    xx2 = np.minimum(box[2], boxes[:, 2])
    yy2 = np.minimum(box[3], boxes[:, 3])
    inter = np.maximum(xx2 - xx1, 0) * np.maximum(yy2 - yy1, 0)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU between x1,y1,x2,y2 boxes a (N, 4) and b (M, 4)."""
    xx1 = np.maximum(a[:, None, 0], b[None, :, 0])
    yy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    xx2 = np.minimum(a[:, None, 2], b[None, :, 2])
    yy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.maximum(xx2 - xx1, 0) * np.maximum(yy2 - yy1, 0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def _greedy_matrix(boxes: np.ndarray, iou_threshold: float, max_det: int) -> np.ndarray:
    # boxes are sorted best first. suppress[i, j]: box i would remove box j.
    suppress = iou_matrix(boxes, boxes) > iou_threshold
    n = len(boxes)
    alive = np.ones(n, dtype=bool)
    keep: list[int] = []
    i = 0
    while i < n and len(keep) < max_det:
        keep.append(i)
        alive &= ~suppress[i]
        alive[i] = False
        # Next kept box: the best one still alive (vectorised search, no per-box loop).
        rest = alive[i + 1 :]
        if not rest.any():
            break
        i = i + 1 + int(rest.argmax())
    return np.asarray(keep, dtype=np.int64)


def _greedy_shrinking(boxes: np.ndarray, iou_threshold: float, max_det: int) -> np.ndarray:
    order = np.arange(len(boxes))
    keep: list[int] = []
    while order.size and len(keep) < max_det:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[box_iou(boxes[i], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float = 0.45,
    class_ids: np.ndarray | None = None,
    max_det: int = 300,
    conf_threshold: float | None = None,
) -> np.ndarray:
    """Indices of the boxes kept by (class-aware) greedy NMS, best score first.

    boxes: (N, 4) x1,y1,x2,y2; scores: (N,); class_ids: (N,) ints, or None to treat every box
    as one class. Boxes under ``conf_threshold`` (when given) are dropped first; at most
    ``max_det`` indices are returned.
    """
    n = len(scores)
    if n == 0 or max_det <= 0:
        return np.zeros((0,), dtype=np.int64)
    idx = np.arange(n)
    scores = np.asarray(scores)
    if conf_threshold is not None:
        idx = np.flatnonzero(scores >= conf_threshold)
        if idx.size == 0:
            return np.zeros((0,), dtype=np.int64)
    # Best first (stable so equal scores keep their input order); cap the candidate count.
    order = idx[np.argsort(-scores[idx], kind="stable")][:MAX_CANDIDATES]
    b = np.asarray(boxes, dtype=np.float32)[order]
    if class_ids is not None and len(order) > 1:
        cls = np.asarray(class_ids)[order].astype(np.float32)
        # Shift each class into its own region so different classes never overlap.
        span = float(np.abs(b).max()) + 1.0
        b = b + (cls * span)[:, None]
    if len(order) <= _MATRIX_LIMIT:
        kept = _greedy_matrix(b, iou_threshold, max_det)
    else:
        kept = _greedy_shrinking(b, iou_threshold, max_det)
    return order[kept]
