"""The live view: the newest frame with the newest result drawn on it.

It only ever holds one frame (no queue). ``show_frame_result`` swaps the frame and asks for
a repaint; Qt coalesces several updates into one paint, and repaints are further capped at
the screen's refresh rate (a frame nobody can see is never painted), so a fast model never
makes the GUI thread compete with inference for nothing. The frame is wrapped as a QImage
without copying and painted into the letterboxed target rectangle (device pixels on
high-DPI screens, so it stays sharp); the overlay is painted in the same pass.

Costs measured on a 2-core laptop-class CPU: Qt scales a 3-byte BGR888 image 3-4x slower
than a 4-byte RGB32 one, while converting BGR888 -> RGB32 is one fast C pass, so a frame
that has to be scaled is converted once (lazily, at its first scaled paint); a frame shown
1:1 is drawn straight from the source's buffer.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from edgeui.engine.types import Result
from edgeui.ui import overlay
from edgeui.ui.qimage import bgr_to_qimage

BACKGROUND = QColor(18, 18, 20)
DEFAULT_REFRESH_HZ = 60.0
_DIRECT_FORMATS = (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32_Premultiplied)


class VideoView(QWidget):
    """Paints the newest frame + result, keeping the aspect ratio; a state message on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self._array: np.ndarray | None = None
        self._image: QImage | None = None  # the array wrapped
        self._scaled_src: QImage | None = None  # the same frame as RGB32, for scaled draws
        self._result: Result | None = None
        self._state_text: str = "Starting…"
        self._seg_opacity = 0.5
        self._seg_cache = overlay.SegmentationCache()
        self.frames_painted = 0
        self.updates_deferred = 0
        # Smooth (bilinear) scaling keeps text and edges legible when the frame is scaled.
        self._smooth = True
        self._last_paint = 0.0
        self._min_interval = 1.0 / DEFAULT_REFRESH_HZ
        self._repaint_timer = QTimer(self)
        self._repaint_timer.setSingleShot(True)
        self._repaint_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._repaint_timer.timeout.connect(self.update)

    # --- data in --------------------------------------------------------------------------
    def show_frame(self, image: np.ndarray, result: Result | None = None) -> None:
        """Show a BGR uint8 image and (optionally) the result computed on it."""
        if image is not self._array:
            self._image = bgr_to_qimage(image)  # a wrap, no pixel copy
            self._array = image
            self._scaled_src = None  # converted at the first scaled paint, if any
        self._result = result
        self.request_repaint()

    def request_repaint(self) -> None:
        """update(), at most once per screen refresh; later calls within it coalesce."""
        if self._repaint_timer.isActive():
            self.updates_deferred += 1
            return
        wait = self._min_interval - (time.perf_counter() - self._last_paint)
        if wait <= 0.0:
            self.update()
        else:
            self.updates_deferred += 1
            self._repaint_timer.start(max(1, int(wait * 1000.0 + 0.5)))

    def set_max_paint_rate(self, hz: float | None) -> None:
        """Cap repaints at ``hz`` (None: the screen's refresh rate, or 60 Hz offscreen)."""
        if hz is None:
            screen = self.screen()
            rate = float(screen.refreshRate()) if screen is not None else 0.0
            hz = rate if rate >= 20.0 else DEFAULT_REFRESH_HZ
        self._min_interval = 1.0 / max(1.0, float(hz))

    def show_frame_result(self, frame_result: object) -> None:
        """Slot for the worker's ``result_ready``: an engine FrameResult."""
        frame = getattr(frame_result, "frame", None)
        if frame is None:
            return
        self.show_frame(frame.image, getattr(frame_result, "result", None))

    def set_state_text(self, text: str | None) -> None:
        """A message drawn over the view ('No signal', 'Reconnecting in 4 s…'); None hides it."""
        text = text or ""
        if text != self._state_text:
            self._state_text = text
            self.update()

    def state_text(self) -> str:
        return self._state_text

    def set_segmentation_opacity(self, opacity: float) -> None:
        self._seg_opacity = max(0.0, min(1.0, float(opacity)))
        self.update()

    def segmentation_opacity(self) -> float:
        return self._seg_opacity

    def clear(self) -> None:
        self._image = self._scaled_src = self._array = self._result = None
        self.update()

    def current_result(self) -> Result | None:
        return self._result

    def has_frame(self) -> bool:
        return self._array is not None

    def _drawable(self, image: QImage, device_scale: float) -> QImage:
        """The image to draw at ``device_scale`` device pixels per source pixel."""
        if abs(device_scale - 1.0) < 1e-3 or image.format() in _DIRECT_FORMATS:
            return image
        if self._scaled_src is None:
            self._scaled_src = image.convertToFormat(QImage.Format.Format_RGB32)
        return self._scaled_src

    # --- painting -------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.set_max_paint_rate(None)  # the screen the view is on now

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    def paint_into(self, painter: QPainter, width: float, height: float) -> None:
        """Paint the frame, overlay and state onto any painter (widget, snapshot image)."""
        img = self._image
        if img is None:
            painter.fillRect(0, 0, int(width) + 1, int(height) + 1, BACKGROUND)
        else:
            vt = overlay.ViewTransform.fit(img.width(), img.height(), width, height)
            self._fill_bars(painter, vt.target_rect(), width, height)
            device = painter.device()
            dpr = device.devicePixelRatioF() if device is not None else 1.0
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth)
            painter.drawImage(vt.target_rect(), self._drawable(img, vt.scale * dpr))
            overlay.draw_result(
                painter,
                self._result,
                vt,
                width,
                seg_opacity=self._seg_opacity,
                seg_cache=self._seg_cache,
            )
        if self._state_text:
            # With a picture the state is a corner pill: results stay visible under it.
            overlay.draw_state(painter, self._state_text, width, height,
                               compact=img is not None)  # fmt: skip

    @staticmethod
    def _fill_bars(painter: QPainter, image: QRectF, width: float, height: float) -> None:
        """Fill only what the frame will not cover (a full-size fill is wasted work)."""
        w, h = int(width) + 1, int(height) + 1
        # Pixels the image covers fully; partly covered edge pixels get the background too.
        left, top = math.ceil(image.left()), math.ceil(image.top())
        right, bottom = math.floor(image.right()), math.floor(image.bottom())
        for x, y, bw, bh in ((0, 0, w, top), (0, bottom, w, h - bottom),
                             (0, top, left, bottom - top), (right, top, w - right, bottom - top)):
            if bw > 0 and bh > 0:
                painter.fillRect(x, y, bw, bh, BACKGROUND)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._last_paint = time.perf_counter()
        painter = QPainter(self)
        try:
            self.paint_into(painter, self.width(), self.height())
        finally:
            painter.end()
        self.frames_painted += 1

    def render_snapshot(self) -> QImage:
        """The current frame at its own resolution with the overlay drawn on it."""
        img = self._image
        if img is None:
            return self.grab().toImage()
        w, h = img.width(), img.height()
        out = QImage(w, h, QImage.Format.Format_RGB32)
        painter = QPainter(out)
        try:
            saved, self._state_text = self._state_text, ""
            self.paint_into(painter, w, h)
            self._state_text = saved
        finally:
            painter.end()
        return out
