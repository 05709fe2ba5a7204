"""Rolling percentiles and rates over a bounded window (never grows with run time)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Percentiles:
    """Milliseconds at the 50th, 95th and 99th percentile of the recent window."""

    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0

    def to_dict(self, digits: int = 3) -> dict[str, float]:
        return {"p50": round(self.p50, digits), "p95": round(self.p95, digits),
                "p99": round(self.p99, digits)}


class RollingWindow:
    """The last ``size`` samples; percentiles are computed only when asked for."""

    def __init__(self, size: int = 300) -> None:
        self._values: deque[float] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, value: float) -> None:
        with self._lock:
            self._values.append(float(value))

    def __len__(self) -> int:
        return len(self._values)

    def values(self) -> np.ndarray:
        with self._lock:
            return np.fromiter(self._values, np.float64, len(self._values))

    def percentiles(self) -> Percentiles:
        values = self.values()
        if values.size == 0:
            return Percentiles()
        p50, p95, p99 = np.percentile(values, (50, 95, 99))
        return Percentiles(float(p50), float(p95), float(p99))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class RateMeter:
    """Events per second over the last ``horizon`` seconds (0 once events stop coming)."""

    def __init__(self, horizon: float = 2.0, max_events: int = 1000) -> None:
        self.horizon = horizon
        self._times: deque[float] = deque(maxlen=max_events)
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> None:
        with self._lock:
            self._times.append(time.monotonic() if now is None else now)

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._times and now - self._times[0] > self.horizon:
                self._times.popleft()
            n = len(self._times)
            if n < 2:
                return 0.0
            span = max(now - self._times[0], self._times[-1] - self._times[0])
            # n events span n-1 intervals; when the stream just stopped, `now` stretches it.
            return (n - 1) / span if span > 0 else 0.0

    def clear(self) -> None:
        with self._lock:
            self._times.clear()
