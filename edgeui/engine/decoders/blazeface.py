"""MediaPipe BlazeFace face detectors: SSD anchors, box + 6 keypoint regressors, weighted NMS.

The models output ``regressors`` [1, N, 16] (box centre x, y, width, height, then six x, y
keypoints, in input pixels relative to an anchor) and ``classificators`` [1, N, 1] (logits).
Anchors follow MediaPipe's SsdAnchorsCalculator with a fixed anchor size and offset 0.5:

- short range (front camera) 128x128 and back camera 256x256: strides (S/16, S/8, S/8, S/8),
  two anchors per stride layer, 16x16x2 + 8x8x6 = 896 anchors;
- full range 192x192: one stride of S/48, one anchor per cell, 48x48 = 2304 anchors.

Scores are sigmoid(clip(logit, ±100)); overlapping boxes are merged by MediaPipe's weighted
NMS (score-weighted average of each cluster), which keeps boxes steady on live video.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from edgeui.engine.decoders.base import DecodeContext, Sniffed, SniffHints
from edgeui.engine.decoders.detection import dims, input_hw
from edgeui.engine.decoders.nms import box_iou
from edgeui.engine.types import Detections, ImageTransform, Poses, Result, TensorSpec

NUM_COORDS = 16
NUM_KEYPOINTS = 6
KEYPOINT_NAMES: tuple[str, ...] = (
    "right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion",
)  # fmt: skip
SCORE_CLIP = 100.0


def layout_for(num_anchors: int, hw: tuple[int, int]) -> tuple[tuple[int, ...], float] | None:
    """(strides, interpolated_scale_aspect_ratio) of MediaPipe's options for this model."""
    size = min(hw)
    if num_anchors == 896 and size % 16 == 0:
        s = size // 16
        return (s, 2 * s, 2 * s, 2 * s), 1.0
    if num_anchors == 2304 and size % 48 == 0:
        return (size // 48,), 0.0
    return None


@lru_cache(maxsize=8)
def ssd_anchors(
    input_h: int, input_w: int, strides: tuple[int, ...], interpolated_ratio: float = 1.0
) -> np.ndarray:
    """(N, 2) anchor centres, normalised 0..1, in MediaPipe's order (layer, y, x, anchor).

    With fixed anchor size every anchor is 1x1, so only centres matter. One aspect ratio
    (1.0) per layer, plus one interpolated-scale anchor when ``interpolated_ratio`` > 0;
    consecutive layers with the same stride share one grid.
    """
    per_layer = 1 + (1 if interpolated_ratio > 0 else 0)
    parts: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
        repeats = (last - layer) * per_layer
        fh = math.ceil(input_h / strides[layer])
        fw = math.ceil(input_w / strides[layer])
        ys, xs = np.meshgrid(
            (np.arange(fh, dtype=np.float32) + 0.5) / fh,
            (np.arange(fw, dtype=np.float32) + 0.5) / fw,
            indexing="ij",
        )
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        parts.append(np.repeat(centres, repeats, axis=0))
        layer = last
    anchors = np.concatenate(parts, axis=0)
    anchors.setflags(write=False)
    return anchors


def weighted_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    points: np.ndarray,
    iou_threshold: float,
    max_det: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's weighted NMS: each cluster (IoU > threshold with its best box) becomes the
    score-weighted mean of its boxes and keypoints, with the best box's score.

    One vectorised step per kept face (a frame holds a handful), never per candidate.
    """
    order = np.argsort(-scores, kind="stable")
    boxes, scores, points = boxes[order], scores[order], points[order]
    out_b, out_s, out_p = [], [], []
    remaining = np.arange(len(scores))
    while remaining.size and len(out_s) < max_det:
        best = remaining[0]
        iou = box_iou(boxes[best], boxes[remaining])
        cluster = remaining[iou > iou_threshold]
        if cluster.size == 0:  # a degenerate (zero-area) box still counts as its own cluster
            cluster = remaining[:1]
        w = scores[cluster][:, None]
        total = float(w.sum()) or 1.0
        out_b.append((boxes[cluster] * w).sum(axis=0) / total)
        out_p.append((points[cluster].reshape(len(cluster), -1) * w).sum(axis=0) / total)
        out_s.append(scores[best])
        # Indices are in score order already, and setdiff1d returns them sorted.
        remaining = np.setdiff1d(remaining, cluster, assume_unique=True)
    if not out_s:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), points[:0]
    return (
        np.asarray(out_b, np.float32),
        np.asarray(out_s, np.float32),
        np.asarray(out_p, np.float32).reshape(len(out_s), *points.shape[1:]),
    )


class BlazeFaceDecoder:
    """Decoder kind "blazeface" (task detection): faces with six keypoints each."""

    kind = "blazeface"
    task = "detection"
    priority = 20  # a very specific two-output layout: ask before generic detectors

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        if len(outputs) != 2:
            return None
        shapes = [dims(o) for o in outputs]
        if any(len(s) != 3 or s[0] != 1 for s in shapes):
            return None
        last = sorted(s[2] for s in shapes)
        n = shapes[0][1]
        if last != [1, NUM_COORDS] or shapes[1][1] != n or n not in (896, 2304):
            return None
        hw = input_hw(inputs, hints)
        if hw is None:
            return None
        layout = layout_for(int(n), hw)
        if layout is None:
            return None
        strides, ratio = layout
        variant = "full range" if n == 2304 else "short range"
        return Sniffed(
            kind=self.kind,
            task=self.task,
            params={"strides": list(strides), "interpolated_scale_aspect_ratio": ratio},
            reason=(
                f"two outputs [1, {n}, 16] and [1, {n}, 1]: MediaPipe BlazeFace ({variant}), "
                f"{n} SSD anchors for a {hw[1]}x{hw[0]} input"
            ),
        )

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        t = ctx.transform
        arrays = [np.asarray(o) for o in outputs]
        if arrays[0].shape[-1] == 1:
            arrays.reverse()
        raw = arrays[0].reshape(-1, NUM_COORDS).astype(np.float32, copy=False)
        logits = arrays[1].reshape(-1).astype(np.float32, copy=False)
        in_h, in_w = t.input_h, t.input_w
        params = ctx.params or {}
        strides = params.get("strides")
        if strides:
            ratio = float(params.get("interpolated_scale_aspect_ratio", 1.0))
            layout: tuple[tuple[int, ...], float] | None = (tuple(int(s) for s in strides), ratio)
        else:
            layout = layout_for(len(logits), (in_h, in_w))
        if layout is None:
            from edgeui.errors import UnsupportedModelError

            raise UnsupportedModelError(
                f"BlazeFace decoder: no anchor layout for {len(logits)} anchors at "
                f"{in_w}x{in_h}; set 'strides' in the sidecar's decoder parameters."
            )
        anchors = ssd_anchors(in_h, in_w, layout[0], layout[1])

        with np.errstate(over="ignore"):  # exp(100) overflows float32 to inf: score 0, fine
            scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -SCORE_CLIP, SCORE_CLIP)))
        keep = np.flatnonzero(scores >= ctx.conf_threshold)
        label = ctx.labels.name(0) if len(ctx.labels) else "face"
        if keep.size == 0:
            return _result(t, np.zeros((0, 4), np.float32), scores[:0], np.zeros((0, 6, 2)), label)

        r, a = raw[keep], anchors[keep]
        # Regressors are in input pixels relative to the anchor centre (anchor size 1x1).
        cx = r[:, 0] + a[:, 0] * in_w
        cy = r[:, 1] + a[:, 1] * in_h
        half_w, half_h = r[:, 2] / 2, r[:, 3] / 2
        boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
        kp = r[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + a[:, None, :] * np.array([in_w, in_h])
        boxes, kept_scores, kp = weighted_nms(
            boxes, scores[keep], kp.astype(np.float32), ctx.iou_threshold, ctx.max_detections
        )
        return _result(t, boxes, kept_scores, kp, label)


def _result(
    t: ImageTransform, boxes: np.ndarray, scores: np.ndarray, kp: np.ndarray, label: str
) -> Result:
    n = len(scores)
    src_boxes = t.to_source_boxes(boxes) if n else np.zeros((0, 4), np.float32)
    x, y = t.to_source_points(kp[..., 0], kp[..., 1]) if n else (kp[..., 0], kp[..., 1])
    kps = np.zeros((n, NUM_KEYPOINTS, 3), np.float32)
    if n:
        kps[..., 0], kps[..., 1] = x, y
        kps[..., 2] = scores[:, None]
    dets = Detections(
        boxes=src_boxes.astype(np.float32),
        scores=np.asarray(scores, np.float32),
        class_ids=np.zeros((n,), np.int64),
        labels=(label,) * n,
    )
    # Face keypoints ride along as Poses (no skeleton) so overlays can draw eyes, nose, mouth.
    poses = Poses(
        keypoints=kps, scores=dets.scores, names=KEYPOINT_NAMES, edges=(), boxes=dets.boxes
    )
    return Result(
        task="detection",
        image_width=t.source_w,
        image_height=t.source_h,
        detections=dets,
        poses=poses,
    )


DECODERS = (BlazeFaceDecoder(),)
