"""Decode speed: anchor-free [1, 84, 8400] and YOLOX [1, 3549, 85], NMS included.

Prints median and p95 milliseconds per decode. Goal on a 2-core machine: <= 2 ms median.
Run: .venv/bin/python benchmarks/bench_decode.py [--iterations N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from edgeui.engine.decoders import get_decoder
from edgeui.engine.decoders.base import DecodeContext
from edgeui.engine.decoders.detection import grid
from edgeui.engine.types import ImageTransform, Labels

COCO = Labels(tuple(f"class{i}" for i in range(80)))


def letterbox(src_w: int, src_h: int, size: int, topleft: bool = False) -> ImageTransform:
    s = min(size / src_w, size / src_h)
    px = 0.0 if topleft else (size - src_w * s) / 2
    py = 0.0 if topleft else (size - src_h * s) / 2
    return ImageTransform(src_w, src_h, size, size, s, s, px, py)


def anchor_free_frame(rng: np.random.Generator, objects: int = 25, per_object: int = 12):
    """A realistic YOLOv8 output: low background scores, clusters of duplicates per object."""
    out = np.empty((84, 8400), np.float32)
    out[0:2] = rng.uniform(0, 640, (2, 8400))
    out[2:4] = rng.uniform(4, 200, (2, 8400))
    out[4:] = rng.beta(0.5, 30, (80, 8400))  # mostly ~0, a long thin tail
    anchors = rng.choice(8400, objects * per_object, replace=False).reshape(objects, per_object)
    for a in anchors:
        cx, cy, w, h = rng.uniform(50, 590), rng.uniform(130, 510), *rng.uniform(20, 200, 2)
        jitter = rng.normal(0, 3, (4, per_object))
        out[:4, a] = np.array([[cx], [cy], [w], [h]]) + jitter
        out[4 + rng.integers(80), a] = rng.uniform(0.3, 0.95, per_object)
    return out[None]


def yolox_frame(rng: np.random.Generator, objects: int = 15, per_object: int = 8):
    out = np.empty((3549, 85), np.float32)
    out[:, :2] = rng.uniform(0, 1, (3549, 2))
    out[:, 2:4] = rng.uniform(0, 2, (3549, 2))
    out[:, 4] = rng.beta(0.5, 30, 3549)
    out[:, 5:] = rng.beta(0.5, 5, (3549, 80))
    cells, _ = grid((416, 416), (8, 16, 32))
    rows = rng.choice(3549, objects * per_object, replace=False).reshape(objects, per_object)
    for r in rows:
        out[r, 4] = rng.uniform(0.5, 0.99, per_object)
        out[r, 5 + rng.integers(80)] = rng.uniform(0.6, 0.99, per_object)
    assert len(cells) == 3549
    return out[None]


def bench(kind: str, frames: list[np.ndarray], ctx: DecodeContext, iterations: int) -> None:
    decoder = get_decoder(kind)
    for f in frames[:5]:  # warm-up (grid caches, numpy dispatch)
        decoder.decode([f], ctx)
    times, counts = [], []
    for i in range(iterations):
        f = frames[i % len(frames)]
        t0 = time.perf_counter()
        result = decoder.decode([f], ctx)
        times.append((time.perf_counter() - t0) * 1e3)
        counts.append(len(result.detections))
    t = np.array(times)
    shape = "x".join(map(str, frames[0].shape))
    cand = np.mean([_candidates(kind, f, ctx.conf_threshold) for f in frames])
    print(
        f"{kind:12s} [{shape}]  median {np.median(t):6.3f} ms   p95 {np.percentile(t, 95):6.3f} ms"
        f"   ({cand:.0f} candidates over conf {ctx.conf_threshold}, "
        f"{np.mean(counts):.0f} detections after NMS, {iterations} runs)"
    )


def _candidates(kind: str, f: np.ndarray, conf: float) -> int:
    if kind == "anchor_free":
        return int((f[0, 4:].max(axis=0) >= conf).sum())
    return int(((f[0, :, 4:5] * f[0, :, 5:]).max(axis=1) >= conf).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    af = [anchor_free_frame(rng) for _ in range(8)]
    ctx = DecodeContext(transform=letterbox(640, 480, 640), labels=COCO)
    bench("anchor_free", af, ctx, args.iterations)
    yx = [yolox_frame(rng) for _ in range(8)]
    ctx = DecodeContext(transform=letterbox(640, 480, 416, topleft=True), labels=COCO)
    bench("yolox", yx, ctx, args.iterations)


if __name__ == "__main__":
    main()
