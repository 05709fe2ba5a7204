"""The live view's drawing: segmentation blend, legend, scaled frames, letterbox, repaint cap."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QImage, QPainter

from edgeui.engine.types import Labels, Result, SegmentationMap
from edgeui.ui import overlay
from edgeui.ui.qimage import qimage_to_bgr
from edgeui.ui.widgets.video_view import BACKGROUND, VideoView

LABELS = Labels(tuple(f"c{i}" for i in range(21)))


def seg_result(cmap: np.ndarray) -> Result:
    h, w = cmap.shape
    return Result("segmentation", w, h, segmentation=SegmentationMap(cmap, LABELS))


def half_and_half(h: int = 200, w: int = 400, cls: int = 5) -> np.ndarray:
    cmap = np.zeros((h, w), np.uint8)
    cmap[:, w // 2 :] = cls
    return cmap


def paint(view: VideoView, w: int, h: int) -> np.ndarray:
    target = QImage(w, h, QImage.Format.Format_RGB32)
    painter = QPainter(target)
    view.paint_into(painter, w, h)
    painter.end()
    return qimage_to_bgr(target)


@pytest.mark.parametrize("opacity", [1.0, 0.5])
def test_segmentation_blends_class_colour_and_leaves_background(qtbot, opacity):
    view = VideoView()
    qtbot.addWidget(view)
    view.set_state_text(None)
    view.set_segmentation_opacity(opacity)
    frame = np.full((200, 400, 3), 100, np.uint8)
    view.show_frame(frame, seg_result(half_and_half()))
    out = paint(view, 400, 200).astype(np.int32)
    r, g, b = overlay.palette_rgb()[5].astype(np.int32)
    expected = np.array([b, g, r]) * opacity + 100 * (1 - opacity)
    # Below the legend (top-right): class 0 untouched on the left, class 5 blended right.
    assert np.abs(out[180, 20] - 100).max() <= 1
    assert np.abs(out[180, 300] - expected).max() <= 2


def test_segmentation_opacity_zero_draws_nothing(qtbot):
    view = VideoView()
    qtbot.addWidget(view)
    view.set_state_text(None)
    view.set_segmentation_opacity(0.0)
    frame = np.full((200, 400, 3), 100, np.uint8)
    view.show_frame(frame, seg_result(half_and_half()))
    assert np.abs(paint(view, 400, 200)[180, 300].astype(int) - 100).max() <= 1


def test_segmentation_cache_follows_new_maps_and_opacity():
    cache = overlay.SegmentationCache()
    a = SegmentationMap(half_and_half(cls=5), LABELS)
    b = SegmentationMap(half_and_half(cls=9), LABELS)
    img_a = cache.image_for(a, 1.0)
    assert cache.image_for(a, 1.0) is img_a  # same result, repainted: no new work
    img_b = cache.image_for(b, 1.0)
    assert img_b is not img_a
    assert img_b.pixel(300, 10) != img_a.pixel(300, 10)  # the new class's colour
    assert cache.image_for(b, 0.3) is not img_b  # opacity is baked in


def test_legend_rows_are_the_largest_shares_first():
    cmap = np.zeros((10, 10), np.uint8)
    cmap[:, :6] = 3  # 60 %
    cmap[:3, 6:] = 300 % 256  # wraps like class_color does
    rows = overlay.legend_rows(SegmentationMap(cmap, LABELS))
    assert [r.class_id for r in rows] == [3, 0, 44]
    assert [round(r.share, 2) for r in rows] == [0.6, 0.28, 0.12]
    assert rows[0].name == "c3"


def test_scaled_frame_keeps_colours_and_letterbox(qtbot):
    view = VideoView()
    qtbot.addWidget(view)
    view.set_state_text(None)
    frame = np.zeros((30, 40, 3), np.uint8)
    frame[:] = (10, 120, 230)  # BGR
    view.show_frame(frame)
    out = paint(view, 200, 100)  # scaled 100/30 in height; bars left and right
    assert tuple(out[50, 100]) == (10, 120, 230)
    bg = (BACKGROUND.blue(), BACKGROUND.green(), BACKGROUND.red())
    assert tuple(out[50, 5]) == bg and tuple(out[50, 195]) == bg


def test_repaints_are_capped_and_show_the_newest_frame(qtbot):
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(160, 120)
    view.show()
    qtbot.waitExposed(view)
    view.set_max_paint_rate(20.0)  # 50 ms apart: far slower than the calls below
    view.set_state_text(None)
    qtbot.waitUntil(lambda: view.frames_painted > 0, timeout=2000)
    painted = view.frames_painted
    frames = [np.full((30, 40, 3), v, np.uint8) for v in range(50)]
    for f in frames:
        view.show_frame(f)
    qtbot.waitUntil(lambda: view.frames_painted > painted and view.updates_deferred > 0,
                    timeout=2000)
    qtbot.waitUntil(lambda: not view._repaint_timer.isActive(), timeout=2000)
    assert view.frames_painted - painted <= 3
    assert view._array is frames[-1]
    grabbed = qimage_to_bgr(view.grab().toImage())
    assert tuple(grabbed[60, 80]) == (49, 49, 49)


def test_latency_chart_keeps_spikes_when_thinning_points(qtbot):
    from edgeui.ui.widgets.latency_chart import LatencyChart

    chart = LatencyChart()
    qtbot.addWidget(chart)
    now = 100.0
    samples = [(now - 10 + i * 0.01, (5.0, 4.0)) for i in range(1000)]
    samples[500] = (samples[500][0], (80.0, 70.0))  # one slow frame among a thousand
    ages, values = chart._columns(samples, now, width=200.0)
    assert len(ages) <= 100  # one point per 2-pixel column
    assert values[:, 0].max() == 80.0 and values[:, 1].max() == 70.0
    assert np.all(np.diff(ages) <= 0)  # oldest first, ages shrinking towards now
