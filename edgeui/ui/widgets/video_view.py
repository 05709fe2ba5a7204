"""The live view: the newest frame with the newest result drawn on it.

It only ever holds one frame (no queue). ``show_frame_result`` swaps the frame and calls
``update()``; Qt coalesces several updates into one paint, so a fast source never makes the
GUI fall behind. The frame is wrapped as a QImage without copying and painted straight
into the letterboxed target rectangle (device pixels on high-DPI screens, so it stays
sharp); the overlay is painted in the same pass.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from edgeui.engine.types import Result
from edgeui.ui import overlay
from edgeui.ui.qimage import bgr_to_qimage

BACKGROUND = QColor(18, 18, 20)


class VideoView(QWidget):
    """Paints the newest frame + result, keeping the aspect ratio; a state message on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self._image: QImage | None = None
        self._array: np.ndarray | None = None
        self._result: Result | None = None
        self._state_text: str = "Starting…"
        self._seg_opacity = 0.5
        self._seg_cache = overlay.SegmentationCache()
        self.frames_painted = 0
        # Smooth (bilinear) scaling keeps text and edges legible when the frame is scaled.
        self._smooth = True

    # --- data in --------------------------------------------------------------------------
    def show_frame(self, image: np.ndarray, result: Result | None = None) -> None:
        """Show a BGR uint8 image and (optionally) the result computed on it."""
        if image is not self._array:
            self._array = image
            self._image = bgr_to_qimage(image)
        self._result = result
        self.update()

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
        self._image = self._array = self._result = None
        self.update()

    def current_result(self) -> Result | None:
        return self._result

    def has_frame(self) -> bool:
        return self._image is not None

    # --- painting -------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    def paint_into(self, painter: QPainter, width: float, height: float) -> None:
        """Paint the frame, overlay and state onto any painter (widget, snapshot image)."""
        painter.fillRect(0, 0, int(width) + 1, int(height) + 1, BACKGROUND)
        if self._image is not None:
            img = self._image
            vt = overlay.ViewTransform.fit(img.width(), img.height(), width, height)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth)
            painter.drawImage(vt.target_rect(), img)
            overlay.draw_result(
                painter,
                self._result,
                vt,
                width,
                seg_opacity=self._seg_opacity,
                seg_cache=self._seg_cache,
            )
        if self._state_text:
            overlay.draw_state(painter, self._state_text, width, height)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self.paint_into(painter, self.width(), self.height())
        finally:
            painter.end()
        self.frames_painted += 1

    def render_snapshot(self) -> QImage:
        """The current frame at its own resolution with the overlay drawn on it."""
        if self._image is None:
            return self.grab().toImage()
        w, h = self._image.width(), self._image.height()
        out = QImage(w, h, QImage.Format.Format_RGB32)
        painter = QPainter(out)
        try:
            saved, self._state_text = self._state_text, ""
            self.paint_into(painter, w, h)
            self._state_text = saved
        finally:
            painter.end()
        return out
