"""Pose: MoveNet single/multi-pose and the anchor-free pose layout (YOLOv8/YOLO11-pose).

- "movenet": ``[1, 1, 17, 3]`` y, x, score, normalised to the input tensor.
- "movenet_multipose": ``[1, 6, 56]``: 17 x (y, x, score), then ymin, xmin, ymax, xmax,
  person score.
- "anchor_free_pose": ``[1, 5 + K*D, N]``: box cx, cy, w, h, person score, then K keypoints
  of (x, y[, visibility]); K x D from params/hints kpt_shape (default 17 x 3). Person boxes
  go through NMS. Pixels or 0..1 coordinates, detected like the anchor-free detector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeui.engine.decoders.anchor_free import orient
from edgeui.engine.decoders.base import DecodeContext, Sniffed, SniffHints
from edgeui.engine.decoders.detection import (
    as_2d,
    describe_shape,
    dims,
    input_hw,
    is_normalized,
    pick_output,
    strides_of,
    xywh_to_xyxy,
)
from edgeui.engine.decoders.nms import nms
from edgeui.engine.types import (
    COCO_KEYPOINTS,
    COCO_SKELETON,
    ImageTransform,
    Poses,
    Result,
    TensorSpec,
)

_MULTIPOSE_COLUMNS = 17 * 3 + 5


def _names_edges(k: int) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    if k == len(COCO_KEYPOINTS):
        return COCO_KEYPOINTS, COCO_SKELETON
    return tuple(f"kp{i}" for i in range(k)), ()


def _keypoints_to_source(yxs: np.ndarray, t: ImageTransform) -> np.ndarray:
    """(P, K, 3) normalised y, x, score -> (P, K, 3) source x, y, score."""
    x, y = t.to_source_points(yxs[..., 1] * t.input_w, yxs[..., 0] * t.input_h)
    return np.stack([x, y, yxs[..., 2]], axis=-1).astype(np.float32)


def _result(t: ImageTransform, kps: np.ndarray, scores: np.ndarray, boxes=None) -> Result:
    names, edges = _names_edges(kps.shape[1] if kps.ndim == 3 else 0)
    poses = Poses(kps.astype(np.float32), scores.astype(np.float32), names, edges, boxes)
    return Result("pose", t.source_w, t.source_h, poses=poses)


def _empty(ctx: DecodeContext, k: int = 17) -> Result:
    t = ctx.transform
    return _result(
        t, np.zeros((0, k, 3), np.float32), np.zeros((0,), np.float32), np.zeros((0, 4), np.float32)
    )


class MoveNetDecoder:
    """MoveNet single-pose [1, 1, 17, 3]."""

    kind = "movenet"
    task = "pose"
    priority = 20

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        if len(outputs) != 1 or dims(outputs[0]) != (1, 1, 17, 3):
            return None
        return Sniffed(
            self.kind,
            self.task,
            {},
            f"output {describe_shape(outputs[0])} matches MoveNet single-pose "
            f"(17 keypoints as y, x, score)",
        )

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        a = np.asarray(outputs[0], dtype=np.float32).reshape(1, -1, 3)
        # Single-pose MoveNet always "finds" one person; its mean keypoint score says whether
        # there is one. Like every other decoder it obeys the confidence threshold
        # (params["min_pose_score"] can only raise the bar).
        score = np.array([a[0, :, 2].mean()], np.float32)
        floor = float(ctx.params.get("min_pose_score", 0.0))
        if score[0] < max(float(ctx.conf_threshold), floor):
            return _empty(ctx, a.shape[1])
        return _result(ctx.transform, _keypoints_to_source(a, ctx.transform), score)


class MoveNetMultiPoseDecoder:
    """MoveNet multi-pose [1, 6, 56]: keypoints, person box and score per row."""

    kind = "movenet_multipose"
    task = "pose"
    priority = 21

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        if len(outputs) != 1:
            return None
        s = dims(outputs[0])
        if len(s) != 3 or s[0] != 1 or s[2] != _MULTIPOSE_COLUMNS or not s[1] or s[1] > 100:
            return None
        return Sniffed(
            self.kind,
            self.task,
            {},
            f"output {describe_shape(outputs[0])} matches MoveNet multi-pose "
            f"(up to {s[1]} people, 17 keypoints, box and score each)",
        )

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        a = np.asarray(outputs[0], dtype=np.float32).reshape(-1, _MULTIPOSE_COLUMNS)
        a = a[a[:, 55] >= ctx.conf_threshold]
        a = a[np.argsort(-a[:, 55], kind="stable")][: ctx.max_detections]
        if len(a) == 0:
            return _empty(ctx)
        t = ctx.transform
        kps = _keypoints_to_source(a[:, :51].reshape(-1, 17, 3), t)
        boxes = a[:, [52, 51, 54, 53]] * np.array(
            [t.input_w, t.input_h, t.input_w, t.input_h], np.float32
        )
        return _result(t, kps, a[:, 55], t.to_source_boxes(boxes))


class AnchorFreePoseDecoder:
    """YOLOv8/YOLO11-pose [1, 5 + K*D, N] with NMS on the person boxes."""

    kind = "anchor_free_pose"
    task = "pose"
    priority = 30

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        if len(outputs) != 1 or (hints.task != "pose" and hints.kpt_shape is None):
            return None
        s = dims(outputs[0])
        if len(s) != 3 or s[0] != 1:
            return None
        cf = orient(s[1], s[2], input_hw(inputs, hints), strides_of(hints))
        if cf is None:
            return None
        channels = s[1] if cf else s[2]
        k, d = tuple(hints.kpt_shape) if hints.kpt_shape else (17, 3)
        if channels != 5 + k * d:
            return None
        return Sniffed(
            self.kind,
            self.task,
            {"kpt_shape": [int(k), int(d)], "channels_first": bool(cf), "output": 0},
            f"output {describe_shape(outputs[0])} matches the anchor-free pose layout "
            f"(box, person score, {k} keypoints x {d})",
        )

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        a = as_2d(pick_output(outputs, ctx))
        p = ctx.params
        k, d = (int(v) for v in (p.get("kpt_shape") or (17, 3)))
        cf = p.get("channels_first")
        if cf is None:
            cf = a.shape[0] == 5 + k * d or a.shape[0] < a.shape[1]
        rows = a.T if cf else a  # (N, 5 + K*D); a view, only candidate rows get copied
        cand = np.flatnonzero(rows[:, 4] >= ctx.conf_threshold)
        if cand.size == 0:
            return _empty(ctx, k)
        r = rows[cand].astype(np.float32)
        xywh, scores = r[:, :4], r[:, 4]
        kp = r[:, 5 : 5 + k * d].reshape(-1, k, d)
        t = ctx.transform
        if is_normalized(xywh, p):
            xywh = xywh * np.array([t.input_w, t.input_h, t.input_w, t.input_h], np.float32)
            kp = kp.copy()
            kp[..., 0] *= t.input_w
            kp[..., 1] *= t.input_h
        boxes = xywh_to_xyxy(xywh)
        keep = nms(boxes, scores, ctx.iou_threshold, max_det=ctx.max_detections)
        kp = kp[keep]
        x, y = t.to_source_points(kp[..., 0], kp[..., 1])
        vis = kp[..., 2] if d >= 3 else np.broadcast_to(scores[keep, None], x.shape)
        kps = np.stack([x, y, vis], axis=-1)
        return _result(t, kps, scores[keep], t.to_source_boxes(boxes[keep]))


DECODERS = (MoveNetDecoder(), MoveNetMultiPoseDecoder(), AnchorFreePoseDecoder())
