"""The live view: the newest frame with the newest result drawn on it.

It only ever holds one frame (no queue). ``show_frame_result`` swaps the frame and asks for
a repaint; Qt coalesces several updates into one paint, and repaints are further capped at
the screen's refresh rate (a frame nobody can see is never painted), so a fast model never
makes the GUI thread compete with inference for nothing. Nothing new (the same frame and
result again) asks for no repaint at all.

Each painted frame is scaled once, by :class:`~edgeui.ui.qimage.FrameScaler` (OpenCV,
bilinear, GIL released, reused buffers), to the device-pixel size of its letterboxed
rectangle, and drawn 1:1 — sharp on high-DPI screens. Letting Qt smooth-scale the frame in
``drawImage`` instead costs about as much CPU, spread over Qt's image-scaling threads, but
holds the GIL throughout, stalling the inference thread's Python every paint. The overlay
is painted in the same pass, in widget coordinates.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from edgeui.engine.types import Result
from edgeui.ui import overlay
from edgeui.ui.qimage import FrameScaler

BACKGROUND = QColor(18, 18, 20)
STALE_VEIL = QColor(18, 18, 20, 150)  # over a picture that is not live: dimmed, still legible
DEFAULT_REFRESH_HZ = 60.0
PACING_SLACK = 0.75  # repaints may come this fraction of a refresh interval apart


class VideoView(QWidget):
    """Paints the newest frame + result, keeping the aspect ratio; a state message on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self._array: np.ndarray | None = None
        self._scaler = FrameScaler()  # the frame at its on-screen size, once per new frame
        self._result: Result | None = None
        self._state_text: str = "Starting…"
        self._stale = False  # the picture is not live (the source dropped): dimmed
        self._bottom_inset = 0  # px at the bottom under floating cards (see set_bottom_inset)
        self._seg_opacity = 0.5
        self._seg_cache = overlay.SegmentationCache()
        self.frames_painted = 0
        self.updates_deferred = 0
        self._last_update = 0.0  # when update() was last called for a new frame
        self._min_interval = 1.0 / DEFAULT_REFRESH_HZ
        self._paint_cap: float | None = None  # the user's display_fps, if any
        self._repaint_timer = QTimer(self)
        self._repaint_timer.setSingleShot(True)
        self._repaint_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._repaint_timer.timeout.connect(self._update_now)

    # --- data in --------------------------------------------------------------------------
    def show_frame(self, image: np.ndarray, result: Result | None = None) -> None:
        """Show a BGR (or grey, or BGRA) uint8 image and, optionally, the result computed on it."""
        if image is self._array and result is self._result:
            return  # nothing new to see: no repaint
        if image is not self._array:
            if image.dtype != np.uint8 or not (
                image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))
            ):
                raise ValueError(f"expected a uint8 (H, W[, 3|4]) image, got {image.shape}")
            self._array = image  # scaled when (and only if) it is painted
        self._result = result
        self.request_repaint()

    def request_repaint(self) -> None:
        """update(), at most once per screen refresh; later calls within it coalesce."""
        if self._repaint_timer.isActive():
            self.updates_deferred += 1
            return
        # Spaced from the previous request, not the previous paint: results the worker
        # delivers once per refresh are then painted at once, never a timer tick later.
        # Some slack: the worker paces deliveries to the refresh rate on average, aligned to
        # when results are made, and a delivery a little early must not wait a whole tick.
        wait = PACING_SLACK * self._min_interval - (time.perf_counter() - self._last_update)
        if wait <= 0.0:
            self._update_now()
        else:
            self.updates_deferred += 1
            self._repaint_timer.start(max(1, math.ceil(wait * 1000.0)))

    def _update_now(self) -> None:
        self._last_update = time.perf_counter()
        self.update()

    def set_max_paint_rate(self, hz: float | None) -> None:
        """Cap repaints at ``hz``, never above the screen's refresh rate (60 Hz offscreen);
        None: the refresh rate."""
        self._paint_cap = hz if hz and hz > 0 else None
        refresh = self.refresh_rate()
        hz = min(refresh, self._paint_cap) if self._paint_cap else refresh
        self._min_interval = 1.0 / max(1.0, float(hz))

    def refresh_rate(self) -> float:
        """The refresh rate of the screen the view is on (60 Hz when it does not say)."""
        screen = self.screen()
        rate = float(screen.refreshRate()) if screen is not None else 0.0
        return rate if rate >= 20.0 else DEFAULT_REFRESH_HZ

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

    def set_stale(self, stale: bool) -> None:
        """The picture shown is not live (the stream dropped, the camera was unplugged, a
        new source is still connecting): the frame and its results are drawn in grey and
        dimmed, and the state message big in the middle, not as a corner pill. A kiosk has
        no side panel to say so, and a full-strength picture with its boxes looks live."""
        stale = bool(stale)
        if stale != self._stale:
            self._stale = stale
            self.update()

    def is_stale(self) -> bool:
        return self._stale

    def set_bottom_inset(self, pixels: int) -> None:
        """Keep the state message clear of the bottom ``pixels`` (notification cards float
        there): "Reconnecting…" and the toast saying why must both be readable."""
        pixels = max(0, int(pixels))
        if pixels != self._bottom_inset:
            self._bottom_inset = pixels
            if self._state_text:
                self.update()

    def state_rect(self) -> QRectF:
        """Where the state message is drawn now, in view coordinates (empty: none)."""
        if not self._state_text:
            return QRectF()
        rect, _ = overlay.state_rect(self._state_text, self.width(), self.height(),
                                     self._compact_state(), self._bottom_inset)
        return rect

    def _compact_state(self) -> bool:
        """The state as a corner pill (a live picture under it) or big in the middle."""
        return self._array is not None and not self._stale

    def set_segmentation_opacity(self, opacity: float) -> None:
        opacity = max(0.0, min(1.0, float(opacity)))
        if opacity != self._seg_opacity:
            self._seg_opacity = opacity
            self.update()

    def segmentation_opacity(self) -> float:
        return self._seg_opacity

    def clear(self) -> None:
        self._array = self._result = None
        self._scaler.clear()
        self.update()

    def current_result(self) -> Result | None:
        return self._result

    def has_frame(self) -> bool:
        return self._array is not None

    # --- painting -------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.set_max_paint_rate(self._paint_cap)  # the screen the view is on now

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    def paint_into(self, painter: QPainter, width: float, height: float) -> None:
        """Paint the frame, overlay and state onto any painter (widget, snapshot image)."""
        arr = self._array
        if arr is None or arr.shape[0] == 0 or arr.shape[1] == 0:
            painter.fillRect(0, 0, int(width) + 1, int(height) + 1, BACKGROUND)
        else:
            vt = overlay.ViewTransform.fit(arr.shape[1], arr.shape[0], width, height)
            device = painter.device()
            dpr = device.devicePixelRatioF() if device is not None else 1.0
            # The picture's rectangle snapped to whole device pixels, so the draw is a blit.
            x, y = round(vt.offset_x * dpr), round(vt.offset_y * dpr)
            w, h = round(arr.shape[1] * vt.scale * dpr), round(arr.shape[0] * vt.scale * dpr)
            image = self._scaler.scaled(arr, w, h)
            if self._stale:  # not live: no colour (a copy; painted rarely, no frames come)
                image = image.convertToFormat(QImage.Format.Format_Grayscale8)
            image.setDevicePixelRatio(dpr)
            picture = QRectF(x / dpr, y / dpr, w / dpr, h / dpr)
            self._fill_bars(painter, picture, width, height)
            painter.drawImage(QPointF(x / dpr, y / dpr), image)
            if self._stale:  # dimmed: nothing here is happening now
                painter.fillRect(picture, STALE_VEIL)
            # Stale results in greys too, drawn over the veil: the same muted look as the
            # picture, with text that stays legible (black on a dimmed green tag was not).
            overlay.draw_result(
                painter,
                self._result,
                vt,
                width,
                seg_opacity=self._seg_opacity,
                seg_cache=self._seg_cache,
                grey=self._stale,
            )
        if self._state_text:
            # Over a live picture the state is a corner pill: results stay visible under
            # it; over none, or a stale one, it is big in the middle.
            overlay.draw_state(painter, self._state_text, width, height,
                               compact=self._compact_state(),
                               bottom_inset=self._bottom_inset)  # fmt: skip

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
        painter = QPainter(self)
        try:
            self.paint_into(painter, self.width(), self.height())
        finally:
            painter.end()
        self.frames_painted += 1

    def render_snapshot(self) -> QImage:
        """The current frame at its own resolution with the overlay drawn on it."""
        arr = self._array
        if arr is None:
            return self.grab().toImage()
        h, w = arr.shape[:2]
        out = QImage(w, h, QImage.Format.Format_RGB32)
        painter = QPainter(out)
        try:
            # The picture itself: no state message, and in colour even when it is stale.
            saved, self._state_text = self._state_text, ""
            stale, self._stale = self._stale, False
            try:
                self.paint_into(painter, w, h)
            finally:
                self._state_text, self._stale = saved, stale
        finally:
            painter.end()
        return out
