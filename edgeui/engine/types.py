"""Small frozen types passed between the engine's layers (and up to the UI and CLI).

Arrays inside these dataclasses are never mutated after construction. Coordinates are
always source-image pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Task = Literal["classification", "detection", "segmentation", "pose"]
TASKS: tuple[str, ...] = ("classification", "detection", "segmentation", "pose")


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output as the runtime reports it.

    ``shape`` holds ``None`` for dynamic dimensions; ``scale``/``zero_point`` are the
    per-tensor quantisation parameters (scale 0 means not quantised).
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: str
    scale: float = 0.0
    zero_point: int = 0

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0 and self.dtype in ("uint8", "int8", "int16")

    def describe(self) -> str:
        dims = "x".join("?" if d is None else str(d) for d in self.shape)
        quant = ""
        if self.quantized:
            quant = f" quant(scale={self.scale:.6g}, zero_point={self.zero_point})"
        return f"{self.name} [{dims}] {self.dtype}{quant}"


@dataclass(frozen=True)
class Labels:
    """Class names for a model's output indices.

    ``offset`` maps a model class index to a position in ``names``: name = names[i + offset].
    A label file starting with "background"/"???" for a model whose class 0 is the first real
    class gives offset +1; 1001 outputs with 1000 names gives offset -1.
    """

    names: tuple[str, ...] = ()
    offset: int = 0

    def name(self, index: int) -> str:
        pos = int(index) + self.offset
        if 0 <= pos < len(self.names) and self.names[pos]:
            return self.names[pos]
        return f"class {int(index)}"

    def names_for(self, indices: np.ndarray) -> tuple[str, ...]:
        return tuple(self.name(i) for i in np.asarray(indices).ravel().tolist())

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class ImageTransform:
    """How a source image was mapped into the model's input (stretch or letterbox).

    input = source * scale + pad, per axis. ``to_source`` undoes it for x/y arrays.
    """

    source_w: int
    source_h: int
    input_w: int
    input_h: int
    scale_x: float = 1.0
    scale_y: float = 1.0
    pad_x: float = 0.0
    pad_y: float = 0.0

    def to_source_boxes(self, boxes: np.ndarray) -> np.ndarray:
        """Map (N, 4) x1,y1,x2,y2 boxes in input pixels to clipped source pixels."""
        out = np.empty_like(boxes, dtype=np.float32)
        out[:, 0::2] = (boxes[:, 0::2] - self.pad_x) / self.scale_x
        out[:, 1::2] = (boxes[:, 1::2] - self.pad_y) / self.scale_y
        np.clip(out[:, 0::2], 0, self.source_w, out=out[:, 0::2])
        np.clip(out[:, 1::2], 0, self.source_h, out=out[:, 1::2])
        return out

    def to_source_points(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map input-pixel x/y arrays to source pixels (not clipped)."""
        return (x - self.pad_x) / self.scale_x, (y - self.pad_y) / self.scale_y

    def content_region(self) -> tuple[int, int, int, int]:
        """The (x1, y1, x2, y2) part of the input that holds image content, not padding."""
        x1 = round(self.pad_x)
        y1 = round(self.pad_y)
        x2 = round(self.pad_x + self.source_w * self.scale_x)
        y2 = round(self.pad_y + self.source_h * self.scale_y)
        return max(0, x1), max(0, y1), min(self.input_w, x2), min(self.input_h, y2)


@dataclass(frozen=True)
class Classification:
    index: int
    label: str
    score: float


@dataclass(frozen=True, eq=False)
class Detections:
    """N detections as parallel arrays: boxes (N,4) x1,y1,x2,y2 source px, scores, class ids."""

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    labels: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.scores)

    @staticmethod
    def empty() -> Detections:
        return Detections(
            np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0,), np.int64)
        )

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for label in self.labels:
            out[label] = out.get(label, 0) + 1
        return out


@dataclass(frozen=True, eq=False)
class SegmentationMap:
    """A class-index map at source resolution; ``labels`` gives each index a name."""

    class_map: np.ndarray
    labels: Labels = field(default_factory=Labels)

    def class_fractions(self) -> dict[str, float]:
        counts = np.bincount(self.class_map.ravel().astype(np.int64))
        total = float(self.class_map.size) or 1.0
        nz = np.flatnonzero(counts)
        return {self.labels.name(int(i)): float(counts[i]) / total for i in nz}


COCO_KEYPOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

COCO_SKELETON: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Poses:
    """P people with K keypoints: keypoints (P,K,3) as x, y (source px), score."""

    keypoints: np.ndarray
    scores: np.ndarray
    names: tuple[str, ...] = COCO_KEYPOINTS
    edges: tuple[tuple[int, int], ...] = COCO_SKELETON
    boxes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.scores)


@dataclass(frozen=True)
class Timings:
    """Milliseconds per stage of one prediction."""

    preprocess: float = 0.0
    inference: float = 0.0
    postprocess: float = 0.0

    @property
    def total(self) -> float:
        return self.preprocess + self.inference + self.postprocess


@dataclass(frozen=True, eq=False)
class Result:
    """Everything one prediction produced. Only the task's own field is filled."""

    task: str
    image_width: int
    image_height: int
    classes: tuple[Classification, ...] = ()
    detections: Detections | None = None
    segmentation: SegmentationMap | None = None
    poses: Poses | None = None
    timings: Timings = field(default_factory=Timings)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `edgeui infer --json` (minus model/runtime keys)."""
        out: dict[str, Any] = {
            "task": self.task,
            "image": {"width": int(self.image_width), "height": int(self.image_height)},
        }
        if self.task == "classification":
            out["classes"] = [
                {"index": int(c.index), "label": c.label, "score": round(float(c.score), 6)}
                for c in self.classes
            ]
        if self.task == "detection":
            out["detections"] = detections_to_list(self.detections)
        if self.task == "segmentation" and self.segmentation is not None:
            h, w = self.segmentation.class_map.shape[:2]
            out["segmentation"] = {
                "width": int(w),
                "height": int(h),
                "classes": {
                    k: round(v, 6) for k, v in self.segmentation.class_fractions().items()
                },
            }
        if self.task == "pose":
            out["poses"] = poses_to_list(self.poses)
        out["timings_ms"] = {
            "preprocess": round(self.timings.preprocess, 3),
            "inference": round(self.timings.inference, 3),
            "postprocess": round(self.timings.postprocess, 3),
        }
        return out


def detections_to_list(dets: Detections | None) -> list[dict[str, Any]]:
    if dets is None or len(dets) == 0:
        return []
    boxes = np.round(dets.boxes.astype(np.float64), 2).tolist()
    scores = dets.scores.astype(np.float64).tolist()
    ids = dets.class_ids.astype(np.int64).tolist()
    labels: Sequence[str] = dets.labels or [f"class {i}" for i in ids]
    return [
        {"index": i, "label": lab, "score": round(s, 6), "box": b}
        for i, lab, s, b in zip(ids, labels, scores, boxes, strict=True)
    ]


def poses_to_list(poses: Poses | None) -> list[dict[str, Any]]:
    if poses is None or len(poses) == 0:
        return []
    out = []
    kps = poses.keypoints.astype(np.float64)
    for p in range(len(poses)):
        out.append(
            {
                "score": round(float(poses.scores[p]), 6),
                "keypoints": [
                    {
                        "name": poses.names[k] if k < len(poses.names) else f"kp{k}",
                        "x": round(float(kps[p, k, 0]), 2),
                        "y": round(float(kps[p, k, 1]), 2),
                        "score": round(float(kps[p, k, 2]), 6),
                    }
                    for k in range(kps.shape[1])
                ],
            }
        )
    return out


@dataclass(frozen=True, eq=False)
class Frame:
    """One captured image: BGR uint8 (H, W, 3), a per-source increasing id, capture times."""

    image: np.ndarray
    frame_id: int
    timestamp: float  # capture time, Unix seconds (time.time())
    monotonic: float  # capture time, time.monotonic(), for latency maths
    source: str = ""

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])
