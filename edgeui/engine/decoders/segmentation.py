"""Semantic segmentation: an argmax map or per-class scores, to a class map at source size.

Layouts: "argmax" ``[1, H, W]`` / ``[H, W]`` integer class ids (a float map of fractions is
read as a one-class probability map); "NHWC" ``[1, H, W, C]`` and "NCHW" ``[1, C, H, W]``
scores (C = 1 means one foreground class). The letterbox padding is cropped away (scaled to
the map's resolution, before any argmax) and the map is resized to the source image with
nearest neighbour.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeui.engine.decoders.base import DecodeContext, Sniffed, SniffHints
from edgeui.engine.decoders.detection import describe_shape, dims, input_hw
from edgeui.engine.types import ImageTransform, Result, SegmentationMap, TensorSpec
from edgeui.errors import UnsupportedModelError

MAX_CLASSES = 256
_INT_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64")


def comparable(h: int | None, w: int | None, hw: tuple[int, int] | None) -> bool:
    """Whether an H x W map could be a dense prediction over the input (stride <= 16)."""
    if not h or not w:
        return False
    if hw is None:
        return h >= 16 and w >= 16
    ih, iw = hw
    return ih / 16 <= h <= 2 * ih and iw / 16 <= w <= 2 * iw and h >= 8 and w >= 8


def _input_is_nchw(inputs: Sequence[TensorSpec]) -> bool:
    for spec in inputs:
        s = dims(spec)
        if len(s) == 4:
            return s[1] in (1, 3, 4) and s[3] not in (1, 3, 4)
    return False


def sniff_layout(
    spec: TensorSpec, inputs: Sequence[TensorSpec], hints: SniffHints
) -> tuple[str, int | None] | None:
    """(layout, classes or None) for one output spec, else None."""
    s = dims(spec)
    hw = input_hw(inputs, hints)
    integer = spec.dtype in _INT_DTYPES and not spec.quantized
    if len(s) == 4 and s[-1] == 1 and integer:
        s = s[:-1]
    if len(s) == 3 and s[0] == 1:
        flat = s[1:]
    elif len(s) == 2:
        flat = s
    else:
        flat = None
    if flat is not None and comparable(flat[0], flat[1], hw):
        if integer or hints.task == "segmentation":
            return "argmax", None
        return None
    if len(s) != 4 or s[0] != 1:
        return None
    _, a, b, c = s
    nhwc = comparable(a, b, hw) and c is not None and c <= MAX_CLASSES
    nchw = comparable(b, c, hw) and a is not None and a <= MAX_CLASSES
    if nhwc and nchw:  # e.g. [1, 64, 64, 64]: follow the input's layout
        nhwc = not _input_is_nchw(inputs)
        nchw = not nhwc
    if nhwc:
        return "NHWC", int(c)  # type: ignore[arg-type]
    if nchw:
        return "NCHW", int(a)  # type: ignore[arg-type]
    return None


def content_slices(mh: int, mw: int, t: ImageTransform) -> tuple[slice, slice]:
    """Rows and columns of an mh x mw map that cover image content (not letterbox padding)."""
    x1, y1, x2, y2 = t.content_region()
    fx, fy = mw / max(t.input_w, 1), mh / max(t.input_h, 1)
    cx1, cy1 = int(np.floor(x1 * fx)), int(np.floor(y1 * fy))
    cx2 = max(cx1 + 1, min(mw, int(np.ceil(x2 * fx))))
    cy2 = max(cy1 + 1, min(mh, int(np.ceil(y2 * fy))))
    return slice(cy1, cy2), slice(cx1, cx2)


def class_map_of(out: np.ndarray, layout: str, t: ImageTransform) -> np.ndarray:
    """The (h, w) class-index map of the image content, at the model's resolution.

    Padding is cropped BEFORE the argmax so per-class scores over the padding cost nothing.
    """
    a = np.asarray(out)
    if layout == "argmax":
        m = np.squeeze(a)
        if m.ndim != 2:
            raise UnsupportedModelError(
                f"the segmentation decoder expects a [1, H, W] class map but got shape "
                f"{list(a.shape)}; check the layout named in the model's sidecar."
            )
        m = m[content_slices(*m.shape, t)]
        if m.dtype.kind == "f" and not np.all(m == np.round(m)):
            return (m >= 0.5).astype(np.uint8)  # a one-class probability map
        return m
    a = a.reshape(a.shape[-3:])
    if layout == "NHWC":
        ys, xs = content_slices(a.shape[0], a.shape[1], t)
        a, channel_axis = a[ys, xs, :], -1
    else:
        ys, xs = content_slices(a.shape[1], a.shape[2], t)
        a, channel_axis = a[:, ys, xs], 0
    if a.shape[channel_axis] == 1:
        scores = np.take(a, 0, axis=channel_axis)
        # One foreground class: probabilities split at 0.5, logits at 0.
        cut = 0.5 if float(scores.min()) >= 0.0 and float(scores.max()) <= 1.0 else 0.0
        return (scores > cut).astype(np.uint8)
    return a.argmax(axis=channel_axis)


def to_source(m: np.ndarray, t: ImageTransform) -> np.ndarray:
    """Resize a content class map to the source size (nearest neighbour), in a small dtype."""
    import cv2

    top = int(m.max()) if m.size else 0
    dtype = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.int32
    m = np.ascontiguousarray(m.astype(dtype, copy=False))
    if m.shape == (t.source_h, t.source_w):
        return m
    return cv2.resize(m, (t.source_w, t.source_h), interpolation=cv2.INTER_NEAREST_EXACT)


class SegmentationDecoder:
    """Argmax maps and per-class score maps -> SegmentationMap at source resolution."""

    kind = "segmentation"
    task = "segmentation"
    priority = 80

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        if len(outputs) != 1 and hints.task != "segmentation":
            return None
        for index, spec in enumerate(outputs):
            found = sniff_layout(spec, inputs, hints)
            if found is None:
                continue
            layout, classes = found
            what = (
                "an argmax class map"
                if layout == "argmax"
                else f"{layout} scores for {classes} classes"
            )
            return Sniffed(
                self.kind,
                self.task,
                {"layout": layout, "output": index}
                | ({"num_classes": classes} if classes and classes > 1 else {}),
                f"output {describe_shape(spec)} is {what} at input-like resolution: "
                f"semantic segmentation",
            )
        return None

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        index = int(ctx.params.get("output", 0) or 0)
        out = np.asarray(outputs[index])
        layout = ctx.params.get("layout") or self._layout_of(out, ctx)
        m = to_source(class_map_of(out, str(layout), ctx.transform), ctx.transform)
        t = ctx.transform
        seg = SegmentationMap(m, labels=ctx.labels)
        return Result("segmentation", t.source_w, t.source_h, segmentation=seg)

    @staticmethod
    def _layout_of(out: np.ndarray, ctx: DecodeContext) -> str:
        # A sidecar may name the decoder without a layout: decide from the array itself.
        spec = TensorSpec("out", tuple(out.shape), str(out.dtype))
        hints = SniffHints(
            task="segmentation", input_hw=(ctx.transform.input_h, ctx.transform.input_w)
        )
        found = sniff_layout(spec, (), hints)
        return found[0] if found else "argmax"


DECODERS = (SegmentationDecoder(),)
