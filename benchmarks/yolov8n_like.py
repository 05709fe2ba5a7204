"""A YOLOv8n-shaped anchor-free 640 detector, built layer for layer without a download.

    .venv/bin/python benchmarks/yolov8n_like.py /tmp/yolov8n_like.onnx
    .venv/bin/edgeui bench /tmp/yolov8n_like.onnx --json

Issue 3 asks for the pipeline/bare ratio "with any anchor-free 640 model"; no such model is in
../shared and tests may not download one. This writes the YOLOv8n graph (Ultralytics
yolov8.yaml at depth 0.33, width 0.25): Conv+SiLU, C2f, SPPF, the FPN/PAN neck and the Detect
head with DFL and dist2bbox, exported the way Ultralytics exports ONNX: input ``images``
[1, 3, 640, 640], output ``output0`` [1, 84, 8400] of pixel cx, cy, w, h and 80 sigmoid class
scores, metadata_props with ``names``/``stride``/``imgsz``. The weights are random (He
initialised, BatchNorm folded into the convs), so the compute, memory traffic and tensor
layout are the real model's; the answers are not. The class convs get the small weights and
the -10 bias Ultralytics initialises them with, so no box clears the threshold: the decoder
still reads every class score, which is its cost on a real scene too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

NUM_CLASSES = 80
REG_MAX = 16
STRIDES = (8, 16, 32)


class _Graph:
    """A tiny ONNX graph builder: each layer helper returns the name of its output."""

    def __init__(self, seed: int = 0) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.rng = np.random.default_rng(seed)
        self._n = 0

    def name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def const(self, arr: np.ndarray, prefix: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(self, op: str, inputs: list[str], n_out: int = 1, **attrs) -> list[str]:
        from onnx import helper

        outs = [self.name(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, **attrs))
        return outs

    def conv(self, x: str, c1: int, c2: int, k: int = 1, s: int = 1, act: bool = True,
             bias: float = 0.0, gain: float = 1.0) -> str:
        """Conv2d with BatchNorm folded in (weights + bias), then SiLU as x * sigmoid(x)."""
        std = gain * np.sqrt(2.0 / (c1 * k * k))
        w = (self.rng.standard_normal((c2, c1, k, k)) * std).astype(np.float32)
        b = np.full((c2,), bias, np.float32)
        (y,) = self.node("Conv", [x, self.const(w, "w"), self.const(b, "b")],
                         kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4)
        if not act:
            return y
        (sig,) = self.node("Sigmoid", [y])
        return self.node("Mul", [y, sig])[0]

    def c2f(self, x: str, c1: int, c2: int, n: int, shortcut: bool) -> str:
        c = c2 // 2
        y = self.conv(x, c1, 2 * c)
        parts = self.node("Split", [y, self.const(np.array([c, c], np.int64))], 2, axis=1)
        last = parts[1]
        for _ in range(n):
            b = self.conv(self.conv(last, c, c, 3), c, c, 3)
            last = self.node("Add", [last, b])[0] if shortcut else b
            parts.append(last)
        (cat,) = self.node("Concat", parts, axis=1)
        return self.conv(cat, (2 + n) * c, c2)

    def sppf(self, x: str, c1: int, c2: int) -> str:
        c = c1 // 2
        y = [self.conv(x, c1, c)]
        for _ in range(3):
            y.append(self.node("MaxPool", [y[-1]], kernel_shape=[5, 5], pads=[2, 2, 2, 2],
                               strides=[1, 1])[0])
        (cat,) = self.node("Concat", y, axis=1)
        return self.conv(cat, 4 * c, c2)

    def upsample(self, x: str) -> str:
        scales = self.const(np.array([1, 1, 2, 2], np.float32))
        return self.node("Resize", [x, "", scales], mode="nearest")[0]


def _anchors(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Anchor points (2, N) at cell centres and their strides (1, N), as Ultralytics makes."""
    pts, st = [], []
    for s in STRIDES:
        g = size // s
        ys, xs = np.meshgrid(np.arange(g) + 0.5, np.arange(g) + 0.5, indexing="ij")
        pts.append(np.stack((xs.ravel(), ys.ravel())))
        st.append(np.full((1, g * g), s))
    return (np.concatenate(pts, 1).astype(np.float32), np.concatenate(st, 1).astype(np.float32))


def build(path: str | Path, size: int = 640, seed: int = 0) -> Path:
    """Write the YOLOv8n-shaped model to ``path`` and return it."""
    import onnx
    from onnx import TensorProto, helper

    from tests.acceptance.fixtures import onnx_props, ultralytics_metadata

    g = _Graph(seed)
    x = "images"
    # Backbone.
    x = g.conv(x, 3, 16, 3, 2)
    x = g.conv(x, 16, 32, 3, 2)
    x = g.c2f(x, 32, 32, 1, True)
    x = g.conv(x, 32, 64, 3, 2)
    p3 = g.c2f(x, 64, 64, 2, True)
    x = g.conv(p3, 64, 128, 3, 2)
    p4 = g.c2f(x, 128, 128, 2, True)
    x = g.conv(p4, 128, 256, 3, 2)
    x = g.c2f(x, 256, 256, 1, True)
    p5 = g.sppf(x, 256, 256)
    # Neck (FPN then PAN).
    (x,) = g.node("Concat", [g.upsample(p5), p4], axis=1)
    n4 = g.c2f(x, 384, 128, 1, False)
    (x,) = g.node("Concat", [g.upsample(n4), p3], axis=1)
    o3 = g.c2f(x, 192, 64, 1, False)
    (x,) = g.node("Concat", [g.conv(o3, 64, 64, 3, 2), n4], axis=1)
    o4 = g.c2f(x, 192, 128, 1, False)
    (x,) = g.node("Concat", [g.conv(o4, 128, 128, 3, 2), p5], axis=1)
    o5 = g.c2f(x, 384, 256, 1, False)
    # Detect head: per level a box branch (4 x 16 DFL bins) and a class branch.
    c2, c3 = 64, max(64, min(NUM_CLASSES, 100))
    levels = []
    for feat, ch in ((o3, 64), (o4, 128), (o5, 256)):
        box = g.conv(g.conv(g.conv(feat, ch, c2, 3), c2, c2, 3), c2, 4 * REG_MAX, act=False)
        cls = g.conv(g.conv(g.conv(feat, ch, c3, 3), c3, c3, 3), c3, NUM_CLASSES, act=False,
                     bias=-10.0, gain=0.01)
        (cat,) = g.node("Concat", [box, cls], axis=1)
        shape = g.const(np.array([1, 4 * REG_MAX + NUM_CLASSES, -1], np.int64))
        levels.append(g.node("Reshape", [cat, shape])[0])
    (x,) = g.node("Concat", levels, axis=2)
    box, cls = g.node("Split", [x, g.const(np.array([4 * REG_MAX, NUM_CLASSES], np.int64))], 2,
                      axis=1)
    # DFL: softmax over the 16 bins of each side, expectation by a 1x1 conv with 0..15.
    (b,) = g.node("Reshape", [box, g.const(np.array([1, 4, REG_MAX, -1], np.int64))])
    (b,) = g.node("Transpose", [b], perm=[0, 2, 1, 3])
    (b,) = g.node("Softmax", [b], axis=1)
    bins = np.arange(REG_MAX, dtype=np.float32).reshape(1, REG_MAX, 1, 1)
    (b,) = g.node("Conv", [b, g.const(bins)], kernel_shape=[1, 1])
    (dist,) = g.node("Reshape", [b, g.const(np.array([1, 4, -1], np.int64))])
    # dist2bbox: (left, top, right, bottom) distances -> centre x, y, w, h; times stride.
    lt, rb = g.node("Split", [dist, g.const(np.array([2, 2], np.int64))], 2, axis=1)
    anchors, strides = _anchors(size)
    a = g.const(anchors[None])
    (x1y1,) = g.node("Sub", [a, lt])
    (x2y2,) = g.node("Add", [a, rb])
    (csum,) = g.node("Add", [x1y1, x2y2])
    (cxy,) = g.node("Div", [csum, g.const(np.array(2.0, np.float32))])
    (wh,) = g.node("Sub", [x2y2, x1y1])
    (xywh,) = g.node("Concat", [cxy, wh], axis=1)
    (dbox,) = g.node("Mul", [xywh, g.const(strides[None])])
    (scores,) = g.node("Sigmoid", [cls])
    g.nodes.append(helper.make_node("Concat", [dbox, scores], ["output0"], axis=1))
    n = sum((size // s) ** 2 for s in STRIDES)
    graph = helper.make_graph(
        g.nodes, "main_graph",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + NUM_CLASSES, n])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="pytorch")
    model.ir_version = 8
    for k, v in onnx_props(ultralytics_metadata(imgsz=(size, size))).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default="yolov8n_like.onnx")
    parser.add_argument("--size", type=int, default=640)
    args = parser.parse_args()
    out = build(args.path, args.size)
    print(f"{out} ({out.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
