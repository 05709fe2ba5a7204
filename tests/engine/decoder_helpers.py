"""Shared helpers for the decoder tests: transforms and box placement."""

from __future__ import annotations

import numpy as np

from edgeui.engine.decoders.base import DecodeContext
from edgeui.engine.types import ImageTransform, Labels


def letterbox(src_w: int, src_h: int, in_w: int, in_h: int, align: str = "center"):
    scale = min(in_w / src_w, in_h / src_h)
    pad_x = (in_w - src_w * scale) / 2 if align == "center" else 0.0
    pad_y = (in_h - src_h * scale) / 2 if align == "center" else 0.0
    return ImageTransform(src_w, src_h, in_w, in_h, scale, scale, pad_x, pad_y)


def stretch(src_w: int, src_h: int, in_w: int, in_h: int):
    return ImageTransform(src_w, src_h, in_w, in_h, in_w / src_w, in_h / src_h)


# Letterbox centre, letterbox top-left, stretch, and a downscaling letterbox.
TRANSFORMS = {
    "center": letterbox(640, 480, 640, 640),
    "topleft": letterbox(640, 480, 640, 640, "topleft"),
    "stretch": stretch(320, 240, 640, 640),
    "downscale": letterbox(1280, 960, 640, 640),
}


def to_input(box_src, t: ImageTransform) -> np.ndarray:
    """Source-pixel x1,y1,x2,y2 -> input-pixel x1,y1,x2,y2."""
    b = np.asarray(box_src, np.float64)
    return np.array(
        [b[0] * t.scale_x + t.pad_x, b[1] * t.scale_y + t.pad_y,
         b[2] * t.scale_x + t.pad_x, b[3] * t.scale_y + t.pad_y]
    )  # fmt: skip


def xyxy_to_xywh(b) -> np.ndarray:
    b = np.asarray(b, np.float64)
    return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]])


def ctx(t: ImageTransform, labels=(), offset=0, **kw) -> DecodeContext:
    return DecodeContext(transform=t, labels=Labels(tuple(labels), offset), **kw)


COCO = ("person", "bicycle", "car", *(f"c{i}" for i in range(3, 80)))
