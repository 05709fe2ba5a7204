"""YOLOX raw detection: ``[1, N, 5+C]``, N = grid cells over strides 8/16/32 (3549 at 416).

Columns are grid-relative: x, y = (raw + cell) * stride, w, h = exp(raw) * stride, then
objectness and C class probabilities (sigmoid already applied in the head); score = obj x
cls. Exports built with ``decode_in_inference`` already hold pixel boxes: recognised by
their size (a raw log-size above ~15 is impossible) or params["decoded"].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeui.engine.decoders.base import DecodeContext, Sniffed, SniffHints
from edgeui.engine.decoders.detection import (
    as_2d,
    describe_shape,
    empty_detections,
    finish_detections,
    grid,
    input_hw,
    matches_cells,
    pick_output,
    strides_of,
    xywh_to_xyxy,
)
from edgeui.engine.decoders.yolov5 import objectness_candidates, sniff_objectness
from edgeui.engine.types import Result, TensorSpec
from edgeui.errors import UnsupportedModelError

# A raw YOLOX log-size this large would mean a box e^15 strides wide: it is a pixel size.
_RAW_WH_MAX = 15.0
# COCO's 80 classes: an [N, 84] tensor is far more likely anchor-free 4+80 than YOLOX 5+79.
_COCO_ANCHOR_FREE_WIDTH = 84


class YoloxDecoder:
    """YOLOX [1, N, 5+C] raw grid outputs; class-aware NMS."""

    kind = "yolox"
    task = "detection"
    priority = 51

    def sniff(
        self, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], hints: SniffHints
    ) -> Sniffed | None:
        found = sniff_objectness(outputs, hints)
        if found is None:
            return None
        index, n, nc = found
        strides = strides_of(hints)
        if not matches_cells(n, input_hw(inputs, hints), strides):
            return None
        if hints.num_classes is None and nc + 5 == _COCO_ANCHOR_FREE_WIDTH:
            return None
        return Sniffed(
            self.kind,
            self.task,
            {"num_classes": nc, "strides": list(strides), "output": index},
            f"output {describe_shape(outputs[index])} matches the YOLOX 5+C layout "
            f"(one anchor per grid cell at strides {'/'.join(map(str, strides))}) "
            f"with {nc} classes",
        )

    def decode(self, outputs: Sequence[np.ndarray], ctx: DecodeContext) -> Result:
        a = as_2d(pick_output(outputs, ctx))
        rows, scores, ids = objectness_candidates(a, ctx)
        if rows.size == 0:
            return empty_detections(ctx)
        raw = a[rows, :4].astype(np.float32)
        decoded = ctx.params.get("decoded")
        if decoded is None:
            decoded = float(np.abs(raw[:, 2:4]).max()) > _RAW_WH_MAX
        if decoded:
            xywh = raw
        else:
            t = ctx.transform
            strides = tuple(int(s) for s in ctx.params.get("strides") or (8, 16, 32))
            cells, cell_strides = grid((t.input_h, t.input_w), strides)
            if len(cells) != a.shape[0]:
                raise UnsupportedModelError(
                    f"YOLOX output has {a.shape[0]} rows but a {t.input_w}x{t.input_h} input "
                    f"with strides {list(strides)} has {len(cells)} grid cells; set the "
                    f"decoder's strides in the sidecar or choose another decoder."
                )
            st = cell_strides[rows, None]
            xywh = np.empty_like(raw)
            xywh[:, :2] = (raw[:, :2] + cells[rows]) * st
            xywh[:, 2:] = np.exp(np.minimum(raw[:, 2:], _RAW_WH_MAX)) * st
        return finish_detections(xywh_to_xyxy(xywh), scores, ids, ctx)


DECODERS = (YoloxDecoder(),)
