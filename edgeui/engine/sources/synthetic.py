"""A moving test pattern with a clock: for demos, tests and benchmarks.

``synthetic`` or ``synthetic:WIDTHxHEIGHT@FPS`` (``@0``: unpaced, produced on demand). The
pattern is rendered once; each frame is a shifted copy plus a small clock, so producing a
frame costs a memcpy, not a render — the capture thread must not steal the CPU that
inference needs on a 2-core machine.
"""

from __future__ import annotations

import re
import time

import cv2
import numpy as np

from edgeui.engine.sources.base import FrameMaker, Pacer
from edgeui.engine.types import Frame
from edgeui.errors import SourceError

_SPEC = re.compile(r"^synthetic(?::(\d+)x(\d+))?(?:@(\d+(?:\.\d+)?))?$")


def parse_synthetic(uri: str) -> tuple[int, int, float]:
    """(width, height, fps) from ``synthetic[:WxH][@FPS]``."""
    m = _SPEC.match(uri.strip())
    if not m:
        raise SourceError(
            f"{uri}: not a synthetic source; write it like synthetic:640x480@30."
        )
    w = int(m.group(1) or 640)
    h = int(m.group(2) or 480)
    fps = float(m.group(3)) if m.group(3) is not None else 30.0
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise SourceError(f"{uri}: size must be between 16x16 and 8192x8192.")
    return w, h, fps


def render_pattern(width: int, height: int) -> np.ndarray:
    """A (height, 2*width, 3) BGR strip: colour bars, a grid and some shapes."""
    strip = np.zeros((height, 2 * width, 3), np.uint8)
    bars = np.array(
        [[255, 255, 255], [0, 255, 255], [255, 255, 0], [0, 255, 0],
         [255, 0, 255], [0, 0, 255], [255, 0, 0], [40, 40, 40]], np.uint8,
    )  # fmt: skip
    cols = (np.arange(width) * len(bars) // width) % len(bars)
    strip[: height // 2, :width] = bars[cols][None, :, :]
    ramp = np.linspace(0, 255, width, dtype=np.float32).astype(np.uint8)
    strip[height // 2 :, :width] = ramp[None, :, None]
    step = max(8, width // 16)
    strip[:, :width][::step, :] = 128
    strip[:, :width][:, ::step] = 128
    r = max(4, min(width, height) // 8)
    cv2.circle(strip, (width // 3, height // 2), r, (0, 0, 200), -1)
    cv2.rectangle(strip, (2 * width // 3 - r, height // 4), (2 * width // 3 + r, height // 4 + r),
                  (200, 120, 0), -1)
    strip[:, width:] = strip[:, :width]  # periodic, so any window of width W is valid
    return strip


class SyntheticSource:
    """A test pattern scrolling one pixel per 1/120 s of wall time, with a clock."""

    def __init__(self, uri: str = "synthetic", *, width: int | None = None,
                 height: int | None = None, fps: float | None = None) -> None:
        w, h, f = parse_synthetic(uri)
        self.width, self.height = width or w, height or h
        self.fps = f if fps is None else float(fps)
        self.uri = uri
        self.live = self.fps > 0
        self._strip = render_pattern(self.width, self.height)
        self._pacer = Pacer(self.fps)
        self._make = FrameMaker(uri)
        self._t0 = time.monotonic()
        self._opened = False
        # The clock's look, worked out once: per frame only its text changes.
        self._scale = max(0.4, self.height / 480)
        self._thickness = max(1, int(2 * self._scale))
        (tw, th), base = cv2.getTextSize("00:00:00.000", cv2.FONT_HERSHEY_SIMPLEX,
                                         self._scale, self._thickness)
        self._baseline_y = int(28 * self._scale)
        self._plate = (slice(max(0, self._baseline_y - th - 6), self._baseline_y + base + 4),
                       slice(0, tw + 16))
        self._second: tuple[int, str] = (-1, "")

    def open(self) -> None:
        self._opened = True
        self._pacer.reset()

    def read(self) -> Frame | None:
        if not self._opened:
            raise SourceError(f"{self.uri}: read() before open().")
        if not self._pacer.due():
            return None
        t = time.monotonic() - self._t0
        x = int(t * 120) % self.width
        image = self._strip[:, x : x + self.width].copy()
        wall = time.time()
        second = int(wall)
        if second != self._second[0]:  # strftime once a second, not once a frame
            self._second = (second, time.strftime("%H:%M:%S", time.localtime(wall)))
        text = f"{self._second[1]}.{int(wall * 1000) % 1000:03d}"
        # A dark plate behind the clock: readable over the white and yellow bars too.
        image[self._plate] = (24, 24, 24)
        cv2.putText(image, text, (8, self._baseline_y), cv2.FONT_HERSHEY_SIMPLEX, self._scale,
                    (255, 255, 255), self._thickness, cv2.LINE_AA)
        return self._make(image)

    def close(self) -> None:
        self._opened = False
