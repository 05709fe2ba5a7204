"""Preprocess speed: letterbox + normalise of a 640x480 frame into common model inputs.

Goal (issue 2): 640x480 -> 640x640 letterbox + normalise <= 2 ms median on a 2-core machine.
Run: .venv/bin/python benchmarks/bench_preprocess.py
"""

from __future__ import annotations

import time

import numpy as np

from edgeui.engine.modelcard.card import PreprocessSpec
from edgeui.engine.preprocess import preprocess

CASES = {
    "yolov8 640 NCHW float letterbox": PreprocessSpec("x", 640, 640, layout="NCHW",
                                                      resize="letterbox"),
    "yolox 416 NCHW BGR 0..255 top-left": PreprocessSpec(
        "x", 416, 416, layout="NCHW", color="BGR", resize="letterbox",
        letterbox_align="topleft", std=(1.0, 1.0, 1.0)),
    "tflite 640 NHWC float letterbox": PreprocessSpec("x", 640, 640, resize="letterbox"),
    "mobilenet 224 NHWC uint8 stretch": PreprocessSpec("x", 224, 224, raw_pixels=True,
                                                       dtype="uint8"),
}


def main(repeats: int = 300) -> None:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    print(f"preprocess of a 640x480 BGR frame, {repeats} runs each")
    for name, spec in CASES.items():
        for _ in range(20):
            preprocess(frame, spec)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            preprocess(frame, spec)
            times.append((time.perf_counter() - t0) * 1e3)
        t = np.array(times)
        print(f"  {name:<38} median {np.median(t):6.3f} ms   p95 {np.percentile(t, 95):6.3f} ms")


if __name__ == "__main__":
    main()
