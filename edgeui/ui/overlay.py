"""Draw a Result on top of the frame with QPainter, in the same paint pass.

Pure functions: each takes the painter, the result and a :class:`ViewTransform` (source
pixels -> widget pixels). Geometry is mapped with numpy and drawn in one call per kind
where Qt allows it; pens and fonts keep their widget-pixel size whatever the zoom, so
labels stay readable on a small window and on a 4K booth screen alike.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from edgeui.engine.types import Detections, Poses, Result, SegmentationMap
from edgeui.ui.qimage import ArrayImage
from edgeui.ui.widgets.style import percent

KEYPOINT_MIN_SCORE = 0.3


@dataclass(frozen=True)
class ViewTransform:
    """Maps source-image pixels to widget pixels: widget = source * scale + offset."""

    scale: float
    offset_x: float
    offset_y: float
    source_w: int
    source_h: int

    @staticmethod
    def fit(source_w: int, source_h: int, widget_w: float, widget_h: float) -> ViewTransform:
        """Keep the aspect ratio and centre the image in the widget (letterbox)."""
        if source_w <= 0 or source_h <= 0:
            return ViewTransform(1.0, 0.0, 0.0, max(source_w, 0), max(source_h, 0))
        scale = min(widget_w / source_w, widget_h / source_h)
        return ViewTransform(
            scale,
            (widget_w - source_w * scale) / 2.0,
            (widget_h - source_h * scale) / 2.0,
            source_w,
            source_h,
        )

    def target_rect(self) -> QRectF:
        """Where the whole source image lands in the widget."""
        return QRectF(
            self.offset_x, self.offset_y, self.source_w * self.scale, self.source_h * self.scale
        )

    def map_xy(self, xy: np.ndarray) -> np.ndarray:
        """Map an (..., 2) array of source x, y to widget pixels."""
        out = np.asarray(xy, np.float64) * self.scale
        out[..., 0] += self.offset_x
        out[..., 1] += self.offset_y
        return out


# --- colours ------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def palette_rgb(n: int = 256) -> np.ndarray:
    """A deterministic (n, 3) uint8 RGB palette: golden-ratio hues, so neighbours differ."""
    out = np.zeros((n, 3), np.uint8)
    for i in range(n):
        hue = (i * 0.618033988749895) % 1.0
        sat = 0.75 if i % 2 == 0 else 0.6
        val = 0.95 if i % 3 else 0.8
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        out[i] = (int(r * 255), int(g * 255), int(b * 255))
    return out


def class_color(class_id: int) -> QColor:
    """The stable colour of a class id (same id -> same colour, every run)."""
    r, g, b = palette_rgb()[int(class_id) % 256]
    return QColor(int(r), int(g), int(b))


# Results on a picture that is not live (a source that dropped): drawn in greys, like the
# picture, on top of its veil, with light text on dark tags (legible whatever the class).
STALE_TAG = QColor(52, 54, 58)
STALE_TEXT = QColor(232, 232, 232)


def stale_color(color: QColor) -> QColor:
    """``color`` as a muted grey (its lightness kept apart enough to tell classes apart)."""
    luma = 0.299 * color.red() + 0.587 * color.green() + 0.114 * color.blue()
    v = int(120 + luma * 80 / 255)  # 120..200: visible on the dimmed picture, not glaring
    return QColor(v, v, v, color.alpha())


def _text_color_for(bg: QColor) -> QColor:
    luma = 0.299 * bg.red() + 0.587 * bg.green() + 0.114 * bg.blue()
    return QColor(Qt.GlobalColor.black) if luma > 150 else QColor(Qt.GlobalColor.white)


def overlay_font(base_px: int = 14) -> QFont:
    font = QFont()
    font.setPixelSize(base_px)
    font.setBold(True)
    return font


@lru_cache(maxsize=64)
def _font_and_metrics(px: int) -> tuple[QFont, QFontMetricsF]:
    """The overlay font at ``px`` and its metrics, made once per size (painted ~60x/s)."""
    font = overlay_font(px)
    return font, QFontMetricsF(font)


BANNER_MIN_PX = 20  # the classification banner's text size in a window

# --- detections ---------------------------------------------------------------------------
def label_px(vt: ViewTransform) -> int:
    """Label font size for the picture's size on screen: legible on a laptop and at a booth."""
    shown = min(vt.source_w, vt.source_h) * vt.scale
    return int(max(12, min(32, round(shown / 36))))


def place_tags(boxes: np.ndarray, sizes: np.ndarray, bounds: QRectF) -> np.ndarray:
    """Top-left corners for label tags of ``sizes`` (n, 2: w, h) over ``boxes`` (n, 4).

    Each tag sits above its box (inside it when there is no room above), is kept inside
    ``bounds`` and is moved down past tags already placed that it would hide. Tags are
    placed top to bottom; the loop is over the visible boxes only (tens, not thousands).
    """
    n = len(boxes)
    out = np.zeros((n, 2), np.float64)
    if n == 0:
        return out
    left, top = bounds.left(), bounds.top()
    right, bottom = bounds.right(), bounds.bottom()
    w, h = sizes[:, 0], sizes[:, 1]
    x = np.clip(boxes[:, 0], left, np.maximum(left, right - w))
    y = boxes[:, 1] - h
    y = np.where(y < top, boxes[:, 1], y)  # no room above: inside the top of the box
    y = np.clip(y, top, np.maximum(top, bottom - h))
    placed: list[tuple[float, float, float, float]] = []
    for i in np.argsort(y, kind="stable").tolist():
        xi, yi, wi, hi = float(x[i]), float(y[i]), float(w[i]), float(h[i])
        for _ in range(len(placed) + 1):  # each step clears at least one placed tag
            hit = next((p for p in placed if xi < p[0] + p[2] and p[0] < xi + wi
                        and yi < p[1] + p[3] and p[1] < yi + hi), None)  # fmt: skip
            if hit is None:
                break
            yi = hit[1] + hit[3]
        yi = min(yi, max(top, bottom - hi))
        placed.append((xi, yi, wi, hi))
        out[i] = (xi, yi)
    return out


def draw_detections(painter: QPainter, dets: Detections, vt: ViewTransform,
                    grey: bool = False) -> None:  # fmt: skip
    """Boxes with 'label 87%' tags in the class colour, tags inside the picture, not piled;
    ``grey``: the result of a picture that is not live, in greys (see STALE_TAG)."""
    n = len(dets)
    if n == 0:
        return
    boxes = vt.map_xy(np.asarray(dets.boxes, np.float64).reshape(n, 2, 2)).reshape(n, 4)
    ids = np.asarray(dets.class_ids).astype(np.int64).tolist()
    scores = np.asarray(dets.scores, np.float64).tolist()
    labels = dets.labels or tuple(f"class {i}" for i in ids)
    font, fm = _font_and_metrics(label_px(vt))
    painter.setFont(font)
    pad = max(2.0, font.pixelSize() / 5)
    text_h = fm.height()
    texts = [f"{labels[i]} {percent(scores[i])}" for i in range(n)]
    sizes = np.array([[fm.horizontalAdvance(t) + 2 * pad, text_h + 2 * pad] for t in texts])
    corners = place_tags(boxes, sizes, vt.target_rect())
    # Larger boxes first so small ones on top stay visible; all tags after all boxes.
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order = np.argsort(-areas).tolist()
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for i in order:
        x1, y1, x2, y2 = boxes[i].tolist()
        color = class_color(ids[i])
        pen = QPen(stale_color(color) if grey else color, 2.5)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRect(QRectF(x1, y1, x2 - x1, y2 - y1))
    for i in order:
        color = STALE_TAG if grey else class_color(ids[i])
        tag = QRectF(corners[i, 0], corners[i, 1], sizes[i, 0], sizes[i, 1])
        painter.fillRect(tag, color)
        painter.setPen(STALE_TEXT if grey else _text_color_for(color))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, texts[i])


# --- segmentation -------------------------------------------------------------------------
LEGEND_ROWS = 6


@dataclass(frozen=True)
class LegendRow:
    class_id: int
    name: str
    share: float


class SegmentationCache:
    """Colourises a class map once per result (not once per repaint), with no numpy pass.

    The class map is wrapped as a QImage ``Format_Indexed8`` (zero copy) whose colour table
    is the class palette with the blend opacity in its alpha; one C-level
    ``convertToFormat`` turns it into premultiplied ARGB, the format Qt blends fastest
    (transparent background pixels are skipped). The legend's class shares come from one
    histogram of the same map. Both are rebuilt only when the map or the opacity changes.
    """

    def __init__(self) -> None:
        # The maps the cached image and legend were made from (identity, not equality:
        # every result carries a new array, and comparing pixels would cost what we save).
        self._image_src: tuple[np.ndarray, int, bool] | None = None
        self._image: QImage | None = None
        self._legend_src: np.ndarray | None = None
        self._legend: tuple[LegendRow, ...] = ()
        self._tables: dict[tuple[int, bool], list[int]] = {}

    def _color_table(self, alpha: int, grey: bool = False) -> list[int]:
        table = self._tables.get((alpha, grey))
        if table is None:
            rgb = palette_rgb().astype(np.uint32)
            if grey:  # the greys of stale_color()
                luma = rgb @ np.array([299, 587, 114], np.uint32) // 1000
                rgb = np.repeat((120 + luma * 80 // 255)[:, None], 3, axis=1)
            argb = (alpha << 24) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
            # Class 0 is background in every common segmentation set: fully transparent.
            argb[0] = 0
            table = [int(v) for v in argb.tolist()]
            self._tables[(alpha, grey)] = table
        return table

    def image_for(self, seg: SegmentationMap, opacity: float = 1.0,
                  grey: bool = False) -> QImage:  # fmt: skip
        """The class map as premultiplied ARGB with ``opacity`` (0..1) baked into alpha;
        ``grey``: in the greys of a picture that is not live."""
        cmap = np.asarray(seg.class_map)
        alpha = round(255 * max(0.0, min(1.0, float(opacity))))
        src = self._image_src
        if self._image is None or src is None or src[0] is not seg.class_map \
                or src[1:] != (alpha, grey):  # fmt: skip
            # Ids wrap at 256 exactly as class_color() does, so the legend matches.
            idx = cmap if cmap.dtype == np.uint8 else cmap.astype(np.uint8)
            if idx.strides[1] != 1:
                idx = np.ascontiguousarray(idx)
            indexed = ArrayImage(idx, QImage.Format.Format_Indexed8)
            indexed.setColorTable(self._color_table(alpha, grey))
            self._image = indexed.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
            self._image_src = (seg.class_map, alpha, grey)
        return self._image

    def legend_for(self, seg: SegmentationMap, rows: int = LEGEND_ROWS) -> tuple[LegendRow, ...]:
        """The classes present, largest share first (at most ``rows``)."""
        if self._legend_src is not seg.class_map:
            self._legend = legend_rows(seg, rows)
            self._legend_src = seg.class_map
        return self._legend


def class_counts(class_map: np.ndarray) -> np.ndarray:
    """Pixels per class id (uint8 maps through OpenCV's histogram: ~3x numpy's bincount)."""
    cmap = np.asarray(class_map)
    if cmap.dtype == np.uint8 and cmap.ndim == 2:
        return cv2.calcHist([cmap], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    return np.bincount(cmap.ravel().astype(np.int64), minlength=256)


def legend_rows(seg: SegmentationMap, rows: int = LEGEND_ROWS) -> tuple[LegendRow, ...]:
    """The ``rows`` largest classes of a map with their shares of the image."""
    counts = class_counts(seg.class_map)
    total = float(counts.sum()) or 1.0
    present = np.flatnonzero(counts)
    order = present[np.argsort(-counts[present], kind="stable")][:rows]
    return tuple(
        LegendRow(int(i), seg.labels.name(int(i)), float(counts[i]) / total)
        for i in order.tolist()
    )


def is_background(row: LegendRow) -> bool:
    """Class 0 or a class named background: drawn transparent, so listed without a swatch."""
    return row.class_id == 0 or row.name.strip().lower() in ("background", "__background__")


def draw_segmentation(
    painter: QPainter,
    seg: SegmentationMap,
    vt: ViewTransform,
    opacity: float,
    cache: SegmentationCache,
    grey: bool = False,
) -> None:
    """Blend the colourised class map over the frame with the given opacity (0..1)."""
    if opacity <= 0.0:
        return
    image = cache.image_for(seg, opacity, grey)
    painter.save()
    # Nearest-neighbour keeps class edges crisp and is cheaper than smoothing.
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    painter.drawImage(vt.target_rect(), image)
    painter.restore()


def draw_segmentation_legend(
    painter: QPainter,
    seg: SegmentationMap,
    width: float,
    cache: SegmentationCache | None = None,
    grey: bool = False,
) -> None:
    """A small legend of the classes present, largest share first, top-right."""
    rows = cache.legend_for(seg) if cache is not None else legend_rows(seg)
    if not rows:
        return
    font = overlay_font(13)
    painter.setFont(font)
    fm = QFontMetricsF(font)
    texts = [f"{r.name} {percent(r.share)}" for r in rows]
    row_h = fm.height() + 6
    box_w = max(fm.horizontalAdvance(t) for t in texts) + 32
    x0 = width - box_w - 10
    painter.fillRect(QRectF(x0, 10, box_w, row_h * len(rows) + 6), QColor(0, 0, 0, 150))
    painter.setPen(QColor(Qt.GlobalColor.white))
    for row, (r, text) in enumerate(zip(rows, texts, strict=True)):
        y = 13 + row * row_h
        if not is_background(r):  # background is not tinted: a swatch would lie
            color = class_color(r.class_id)
            painter.fillRect(QRectF(x0 + 6, y + 3, 14, row_h - 9),
                             stale_color(color) if grey else color)  # fmt: skip
        painter.drawText(
            QRectF(x0 + 26, y, box_w - 30, row_h),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            text,
        )


# --- pose ---------------------------------------------------------------------------------
def draw_poses(
    painter: QPainter, poses: Poses, vt: ViewTransform, min_score: float = KEYPOINT_MIN_SCORE,
    grey: bool = False,
) -> None:
    """Skeleton lines between confident keypoints and a dot on each."""
    if len(poses) == 0:
        return
    kps = np.asarray(poses.keypoints, np.float64)
    xy = vt.map_xy(kps[..., :2])
    ok = kps[..., 2] >= min_score
    edges = np.asarray(poses.edges, np.int64).reshape(-1, 2)
    k = kps.shape[1]
    edges = edges[(edges[:, 0] < k) & (edges[:, 1] < k)]
    for p in range(len(poses)):
        color = stale_color(class_color(p)) if grey else class_color(p)
        pen = QPen(color, 3.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        good = edges[ok[p, edges[:, 0]] & ok[p, edges[:, 1]]]
        if len(good):
            a, b = xy[p, good[:, 0]].tolist(), xy[p, good[:, 1]].tolist()
            lines = [QLineF(ax, ay, bx, by) for (ax, ay), (bx, by) in zip(a, b, strict=True)]
            painter.drawLines(lines)
        painter.setPen(QPen(QColor(Qt.GlobalColor.white), 1.5))
        painter.setBrush(QBrush(color))
        for x, y in xy[p, ok[p]].tolist():
            painter.drawEllipse(QPointF(x, y), 4.0, 4.0)


def banner_text(fm: QFontMetricsF, label: str, score: float, room: float) -> str:
    """'label  87.0%' fitting ``room`` px: the score always shows, the label is elided."""
    pct = f"  {percent(score, 1)}"
    return fm.elidedText(label, Qt.TextElideMode.ElideRight,
                         max(0.0, room - fm.horizontalAdvance(pct))) + pct  # fmt: skip


# --- classification -----------------------------------------------------------------------
def draw_classification(painter: QPainter, result: Result, vt: ViewTransform,
                        top_k: int = 3, grey: bool = False) -> None:
    """A banner across the top of the picture: the top-k labels with their scores, best
    first; its text grows with the picture (legible at a booth's fullscreen too)."""
    classes = result.classes[:top_k]
    if not classes:
        return
    px = max(BANNER_MIN_PX, label_px(vt))
    font, fm = _font_and_metrics(px)
    painter.setFont(font)
    grow = px / BANNER_MIN_PX
    row_h = fm.height() + 8
    area = vt.target_rect()
    left, width = area.left(), area.width()
    painter.fillRect(QRectF(left, area.top(), width, row_h * len(classes) + 8),
                     QColor(0, 0, 0, 160))
    bar_w = min(width * 0.35, 260.0 * grow)
    for row, c in enumerate(classes):
        y = area.top() + 4 + row * row_h
        color = stale_color(class_color(c.index)) if grey else class_color(c.index)
        score = max(0.0, min(1.0, float(c.score)))
        painter.fillRect(QRectF(left + 12, y + 4, bar_w * score, row_h - 8), color)
        painter.setPen(QColor(Qt.GlobalColor.white))
        painter.drawRect(QRectF(left + 12, y + 4, bar_w, row_h - 8))
        room = width - bar_w - 36
        painter.drawText(
            QRectF(left + 24 + bar_w, y, room, row_h),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            banner_text(fm, str(c.label), score, room),
        )


# --- everything ---------------------------------------------------------------------------
def draw_result(
    painter: QPainter,
    result: Result | None,
    vt: ViewTransform,
    widget_w: float,
    *,
    seg_opacity: float = 0.5,
    seg_cache: SegmentationCache | None = None,
    grey: bool = False,
) -> None:
    """Draw whatever the result holds (the task's own field); ``grey``: the result of a
    picture that is not live, in greys (legible text on dark tags)."""
    if result is None:
        return
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if result.segmentation is not None:
        cache = seg_cache or SegmentationCache()
        draw_segmentation(painter, result.segmentation, vt, seg_opacity, cache, grey)
        draw_segmentation_legend(painter, result.segmentation, widget_w, cache, grey)
    if result.detections is not None:
        draw_detections(painter, result.detections, vt, grey)
    if result.poses is not None:
        draw_poses(painter, result.poses, vt, grey=grey)
    if result.classes:
        draw_classification(painter, result, vt, grey=grey)


def state_rect(text: str, width: float, height: float, compact: bool,
               bottom_inset: float = 0.0) -> tuple[QRectF, QFont]:  # fmt: skip
    """Where a state message goes: centred and big, or a small pill in the bottom-left.

    ``bottom_inset``: pixels at the bottom taken by something floating over the view (the
    notification cards): the pill sits above them; the big message stays centred in the
    whole view (a card coming or going must not move it), and rises only as far as a card
    tall enough to reach it needs, so neither hides the other (both must be read at once)."""
    free = max(0.0, height - max(0.0, float(bottom_inset)))
    if compact:
        font = overlay_font(max(12, int(min(width, height) / 45)))
        fm = QFontMetricsF(font)
        tw, th = fm.horizontalAdvance(text) + 24, fm.height() + 10
        return QRectF(12, max(0.0, free - th - 12), tw, th), font
    font = overlay_font(max(16, int(min(width, height) / 20)))
    fm = QFontMetricsF(font)
    tw, th = fm.horizontalAdvance(text) + 48, fm.height() + 28
    top = min((height - th) / 2, free - th - 12)
    return QRectF((width - tw) / 2, max(0.0, top), tw, th), font


def draw_state(painter: QPainter, text: str, width: float, height: float,
               compact: bool = False, bottom_inset: float = 0.0) -> None:  # fmt: skip
    """A message over the view: centred ('No signal') when there is no picture, else a
    compact pill in a corner ('End of input') that leaves the results in sight."""
    rect, font = state_rect(text, width, height, compact, bottom_inset)
    painter.setFont(font)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 170))
    radius = rect.height() / 2 if compact else 12.0
    painter.drawRoundedRect(rect, radius, radius)
    painter.setPen(QColor(Qt.GlobalColor.white))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
