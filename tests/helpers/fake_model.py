"""A duck-typed stand-in for edgeui.engine.model.Model, with a controllable inference time."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from edgeui.engine.types import Detections, ImageTransform, Result


class FakeRuntime:
    def __init__(self, delay: float) -> None:
        self.delay = delay

    def describe(self) -> str:
        return f"fake runtime · {self.delay * 1e3:g} ms"


class FakeModel:
    """prepare/infer/decode like Model; ``infer`` sleeps ``delay`` s (a slow runtime).

    ``fail_after`` makes infer raise after that many calls; ``seen`` records frame means,
    so tests can tell which frames reached inference.
    """

    task = "detection"

    def __init__(self, delay: float = 0.0, name: str = "fake", fail_after: int | None = None,
                 error: Exception | None = None) -> None:
        self.delay = delay
        self.name = name
        self.runtime = FakeRuntime(delay)
        self.fail_after = fail_after
        self.error = error
        self.calls = 0
        self.thread_ids: set[int] = set()
        self.lock = threading.Lock()

    def prepare(self, image: np.ndarray) -> tuple[dict[str, np.ndarray], ImageTransform]:
        h, w = image.shape[:2]
        return {"x": image[:1, :1].astype(np.float32)}, ImageTransform(w, h, w, h)

    def infer(self, feeds: dict[str, Any]) -> list[np.ndarray]:
        with self.lock:
            self.calls += 1
            self.thread_ids.add(threading.get_ident())
            calls = self.calls
        if self.fail_after is not None and calls > self.fail_after:
            raise self.error or RuntimeError("fake inference failure")
        if self.delay:
            time.sleep(self.delay)
        return [np.zeros((1, 4), np.float32)]

    def decode(self, outputs: list[np.ndarray], transform: ImageTransform) -> Result:
        boxes = np.array([[1, 2, 3, 4]], np.float32)
        dets = Detections(boxes, np.array([0.9], np.float32), np.array([0]), ("thing",))
        return Result("detection", transform.source_w, transform.source_h, detections=dets)

    def predict(self, image: np.ndarray) -> Result:
        feeds, tr = self.prepare(image)
        return self.decode(self.infer(feeds), tr)

    def dummy_feeds(self) -> dict[str, np.ndarray]:
        return {"x": np.zeros((1, 1, 3), np.float32)}

    def describe(self) -> str:
        return f"{self.name} · detection · {self.runtime.describe()}"
