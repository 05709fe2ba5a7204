"""A small latency chart over the last seconds, painted with QPainter (no plotting library).

Samples go into a bounded ring (never grows with run time); the widget repaints at most ten
times a second however fast samples arrive, and only the visible window is drawn.
"""

from __future__ import annotations

import math
import time
from collections import deque

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QFont, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from edgeui.ui.widgets.style import BORDER, MUTED, PANEL, SERIES

# 5 Hz: a 10 s window moves a few pixels a step; each repaint is ~1 ms of GUI thread that
# a flat-out inference would otherwise lose (the panel is read by people, not machines).
REPAINT_MS = 200


def nice_ceiling(value: float) -> float:
    """The next 1/2/5 x 10^n at or above ``value`` (axis tops that read well)."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        top = m * 10**exp
        if top >= value - 1e-12:
            return float(top)
    return float(10 ** (exp + 1))


class LatencyChart(QWidget):
    """Lines of per-frame latency (ms) over the last ``window_s`` seconds."""

    def __init__(
        self,
        series: tuple[str, ...] = ("end-to-end", "inference"),
        window_s: float = 10.0,
        max_samples: int = 1200,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.series = series
        self.window_s = window_s
        self._samples: deque[tuple[float, tuple[float, ...]]] = deque(maxlen=max_samples)
        self._top = 10.0
        self.setMinimumHeight(90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Latency chart")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.update)
        # Said when no sample is in the window ("no model: preview only" without a model).
        self._idle_text = "waiting for frames…"
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(7.0, self._font.pointSizeF() * 0.8))

    def sizeHint(self) -> QSize:
        return QSize(280, 120)

    def add_sample(self, *values: float, t: float | None = None) -> None:
        """One frame's latencies in ms, in the order of ``series``; ``t`` is monotonic time."""
        self._samples.append((time.monotonic() if t is None else t, tuple(map(float, values))))
        if not self._timer.isActive():
            self._timer.start(REPAINT_MS)

    def clear(self) -> None:
        self._samples.clear()
        self.update()

    def set_idle_text(self, text: str) -> None:
        """What the chart says while it has nothing to draw."""
        if text != self._idle_text:
            self._idle_text = text
            self.update()

    def idle_text(self) -> str:
        return self._idle_text

    def sample_count(self) -> int:
        return len(self._samples)

    def visible(self, now: float | None = None) -> list[tuple[float, tuple[float, ...]]]:
        """The samples inside the time window (newest last)."""
        now = time.monotonic() if now is None else now
        start = now - self.window_s
        return [s for s in self._samples if s[0] >= start]

    def latest(self) -> tuple[float, ...] | None:
        return self._samples[-1][1] if self._samples else None

    def _columns(
        self, samples: list[tuple[float, tuple[float, ...]]], now: float, width: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(age as a fraction of the window, per-column max values) for 2-pixel columns."""
        if len(samples) < 2 or len({len(v) for _, v in samples}) != 1:
            return None
        ts = np.fromiter((t for t, _ in samples), np.float64, len(samples))
        vals = np.array([v for _, v in samples], np.float64)
        n_cols = max(2, int(width) // 2)
        col = np.minimum(((now - ts) / self.window_s * n_cols).astype(np.int64), n_cols - 1)
        starts = np.flatnonzero(np.r_[True, np.diff(col) != 0])
        return col[starts] / n_cols, np.maximum.reduceat(vals, starts, axis=0)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(QPen(BORDER, 1))
        p.setBrush(PANEL)
        p.drawRoundedRect(rect, 6, 6)
        p.setFont(self._font)
        fm = p.fontMetrics()
        line_h = fm.height()
        plot = rect.adjusted(8, line_h + 8, -8 - fm.horizontalAdvance("000 ms"), -6)
        now = time.monotonic()
        samples = self.visible(now)
        if samples:
            peak = max(max(v) for _, v in samples)
            # Grow at once, shrink slowly: the axis must not jump with every frame.
            target = nice_ceiling(peak * 1.1)
            self._top = target if target > self._top else max(target, self._top * 0.98)
        top = self._top
        # Grid: three horizontal lines with labels on the right.
        p.setPen(QPen(BORDER, 1, Qt.PenStyle.DashLine))
        for frac in (0.0, 0.5, 1.0):
            y = plot.bottom() - frac * plot.height()
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.save()
            p.setPen(MUTED)
            p.drawText(QPointF(plot.right() + 4, y + fm.ascent() / 2 - 1), f"{top * frac:.0f} ms")
            p.restore()
        # Lines: the worst latency in each 2-pixel column, so spikes stay visible and the
        # polyline has a few hundred points at most whatever the frame rate.
        columns = self._columns(samples, now, plot.width())
        legend_x = rect.left() + 8
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # wide AA lines cost ms
        for i, name in enumerate(self.series):
            colour = SERIES[i % len(SERIES)]
            if columns is not None and i < columns[1].shape[1] and len(columns[0]) >= 2:
                xs = plot.right() - columns[0] * plot.width()
                ys = plot.bottom() - np.minimum(columns[1][:, i], top) / top * plot.height()
                poly = QPolygonF([QPointF(x, y) for x, y in zip(xs.tolist(), ys.tolist(),
                                                                 strict=True)])
                p.setPen(QPen(colour, 2))
                p.drawPolyline(poly)
            last = samples[-1][1][i] if samples and i < len(samples[-1][1]) else None
            text = f"{name} {last:.1f} ms" if last is not None else f"{name} –"
            p.setPen(colour)
            p.drawText(QPointF(legend_x, rect.top() + 4 + fm.ascent()), text)
            legend_x += fm.horizontalAdvance(text) + 14
        if not samples:
            p.setPen(MUTED)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, self._idle_text)
        p.end()
