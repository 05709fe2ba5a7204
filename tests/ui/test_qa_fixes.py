"""Defects from the desktop QA pass: source defaults, toolbar, errors, status text, overlay."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter

from edgeui.errors import ModelLoadError as ModelError
from edgeui.ui import controls, overlay
from edgeui.ui.worker import InferenceWorker

REPO = Path(__file__).resolve().parents[2]


def _model(task: str, name: str = "m") -> SimpleNamespace:
    return SimpleNamespace(task=task, name=name, path="", thresholds=None)


# --- 1: sources play live in the app ------------------------------------------------------
def test_image_folder_is_a_looping_live_slideshow(tmp_path):
    from edgeui.engine.sources import open_source

    for i in range(4):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((8, 8, 3), i * 40, np.uint8))
    options = controls.source_options(str(tmp_path))
    src = open_source(str(tmp_path), **options)
    # Live, but a held picture is the same frame each time: enough re-sends for a slider
    # change to show at once (10 a second), not a camera's 30 that would keep a core busy.
    assert src.live and src.loop and src.hold and 5 <= src.fps <= 15
    # The user's own pictures are shown (and inferred) as they are: no demo pan or zoom.
    assert not src.motion
    single = controls.source_options(str(tmp_path / "0.png"))
    img = open_source(str(tmp_path / "0.png"), **single)
    assert img.live and img.loop and not img.motion  # held and re-sent, not panned


def test_video_file_loops_in_the_app(tmp_path):
    video = tmp_path / "clip.avi"
    video.write_bytes(b"x")
    assert controls.source_options(str(video)) == {"loop": True}
    assert controls.source_options("synthetic") == {}


# --- 2: sliders only where they act; the toolbar fits 1280 px ---------------------------
@pytest.mark.parametrize(("task", "shown"), [
    (None, set()), ("detection", {"conf", "iou"}), ("pose", {"conf"}),
    ("segmentation", {"mask"}), ("classification", set()),
])  # fmt: skip
def test_sliders_show_only_for_tasks_they_act_on(qtbot, window, task, shown):
    if task:
        window.on_model_changed(_model(task))
    visible = {name for name, action in (("conf", window.conf_action),
               ("iou", window.iou_action), ("mask", window.opacity_action))
               if action.isVisible()}  # fmt: skip
    assert visible == shown
    assert window.slider_separator.isVisible() == bool(shown)  # no stray separator


def test_slider_stays_beside_its_name_in_a_wide_toolbar(qtbot):
    from edgeui.ui import controls as ctl

    slider = ctl.LabeledSlider("Mask", 0.5)
    qtbot.addWidget(slider)
    slider.resize(900, 50)
    slider.show()
    qtbot.waitExposed(slider)
    text_end = slider.label.geometry().left() + slider.label.sizeHint().width()
    gap = slider.slider.geometry().left() - text_end
    assert gap < 40


@pytest.mark.parametrize("task", [None, "detection", "segmentation", "pose"])
def test_toolbar_labels_are_not_cut_at_1280_px(qtbot, window, task):
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    if task:
        window.on_model_changed(_model(task))
    qtbot.wait(10)
    bar = window.toolbar
    for action in bar.actions():
        widget = bar.widgetForAction(action)
        if widget is None or not action.isVisible() or action.isSeparator():
            continue
        assert widget.isVisible(), action.text()  # not pushed into the overflow menu
        assert widget.width() >= widget.sizeHint().width(), action.text() or action.iconText()
    for slider in (window.conf_slider, window.iou_slider, window.opacity_slider):
        if slider.isVisible():
            label = slider.label
            assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())


# --- 3: an error is shown once ------------------------------------------------------------
def test_a_model_that_fails_to_load_is_reported_once(qtbot, fake_pipeline_factory):
    def loader(path, options):
        raise ModelError(f"{path}: not a valid ONNX model (corrupt or truncated).")

    worker = InferenceWorker(pipeline_factory=fake_pipeline_factory, model_loader=loader)
    reports: list[str] = []
    worker.errored.connect(reports.append)
    worker.model_failed.connect(lambda _p, m: reports.append(m))
    try:
        worker.start()
        with qtbot.waitSignal(worker.model_failed, timeout=5000):
            worker.set_model_path("bad.onnx")
        # A second, different error proves the error route still works after the skip.
        with qtbot.waitSignal(worker.errored, timeout=5000):
            worker._on_error(RuntimeError("later"))
    finally:
        worker.stop()
    assert sum("bad.onnx" in r for r in reports) == 1, reports


# --- 4: status text says what is going on -------------------------------------------------
def test_frames_without_a_model_are_a_preview(qtbot):
    from edgeui.ui.widgets.results_panel import ResultsPanel
    from edgeui.ui.widgets.status_header import StatusHeader

    panel, header = ResultsPanel(), StatusHeader()
    qtbot.addWidget(panel)
    qtbot.addWidget(header)
    stage = SimpleNamespace(p50=0.0, p95=0.0)
    # The engine counts no inference without a model; the preview runs at the capture rate.
    stats = SimpleNamespace(capture_fps=30.0, inference_fps=0.0, processed=177, dropped=0,
                            stages={"inference": stage, "end_to_end": stage},
                            source_state="live", source="/tmp/vid.avi", runtime="")  # fmt: skip
    panel.show_stats(stats)
    panel.flush()
    header.show_stats(stats)
    names = {k: panel._names[k].text() for k in ("inference_fps", "frames")}
    assert names == {"inference_fps": "Preview fps", "frames": "Previewed / dropped"}
    assert panel.stat_text("inference") == panel.stat_text("end_to_end") == "– / –"
    assert panel.stat_text("inference_fps") == "30.0"  # not "0.0" while frames move
    assert header.fps.text() == "30"
    assert "inference" not in header.latency.text() and "preview" in header.latency.text()
    panel.set_source_state("ended")
    panel.show_stats(stats)
    panel.flush()
    assert panel.stat_text("source_state") == "ended · vid.avi"


def test_failed_model_and_missing_source_are_named(qtbot, window):
    window.on_model_failed("bad.onnx", "bad.onnx: not a valid ONNX model.")
    assert "could not be loaded" in window.results.summary.text()
    window.on_model_changed(_model("detection", "yolox_nano"))
    window.on_state(SimpleNamespace(state="reconnecting", retry_in=4.0, message=""))
    assert "yolox_nano" in window.results.title.text()
    assert "Reconnecting" in window.results.summary.text()


def test_runtime_stat_is_elided_not_cut(qtbot):
    from edgeui.ui.widgets.results_panel import ResultsPanel

    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.resize(300, 600)
    panel.show()
    qtbot.waitExposed(panel)
    runtime = "onnxruntime 1.32.0 · CPUExecutionProvider · auto threads"
    panel.show_stats(SimpleNamespace(runtime=runtime, stages={}, source=""))
    panel.flush()
    label = panel._values["runtime"]
    assert label.toolTip() == runtime
    for line in label.text().split("\n"):
        assert label.fontMetrics().horizontalAdvance(line) <= label.contentsRect().width()


# --- 5: a screenshot that cannot be written -----------------------------------------------
def test_screenshot_into_a_missing_folder_exits_2_with_one_line(tmp_path):
    target = tmp_path / "missing" / "x.png"
    proc = subprocess.run(
        [sys.executable, "-m", "edgeui.cli", "--source", "synthetic", "--screenshot",
         str(target), "--quit-after", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "does not exist" in lines[0] and str(target) in lines[0]
    assert not target.parent.exists()


# --- 6: overlay legibility ----------------------------------------------------------------
def test_label_tags_stay_inside_the_picture_and_do_not_overlap():
    bounds = QRectF(0, 0, 400, 300)
    boxes = np.array([[370, 0, 399, 60], [100, 100, 200, 200], [102, 101, 190, 190],
                      [104, 102, 180, 180]], np.float64)  # fmt: skip
    sizes = np.array([[90, 20], [120, 20], [60, 20], [80, 20]], np.float64)
    tl = overlay.place_tags(boxes, sizes, bounds)
    rects = np.column_stack([tl, tl + sizes])
    assert (rects[:, 0] >= 0).all() and (rects[:, 2] <= 400).all()
    assert (rects[:, 1] >= 0).all() and (rects[:, 3] <= 300).all()
    for i in range(len(rects)):
        for j in range(i + 1, len(rects)):
            a, b = rects[i], rects[j]
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, (i, j)


def test_label_font_grows_with_the_view():
    small = overlay.ViewTransform.fit(640, 480, 640, 480)
    large = overlay.ViewTransform.fit(640, 480, 2560, 1440)
    assert overlay.label_px(large) >= 1.8 * overlay.label_px(small)


def test_classification_banner_keeps_the_score(qapp):
    fm = QFontMetricsF(overlay.overlay_font(20))
    text = overlay.banner_text(fm, "a very long imagenet label, with synonyms", 0.873, 220)
    assert text.endswith("87.3%") and "…" in text
    assert fm.horizontalAdvance(text) <= 220


# --- 7: state banners leave the results in sight ------------------------------------------
def test_end_of_input_is_a_corner_pill_over_a_picture(qtbot):
    from edgeui.ui.widgets.video_view import VideoView

    view = VideoView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show_frame(np.full((480, 640, 3), 128, np.uint8))
    view.set_state_text("End of input")
    image = QImage(640, 480, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    view.paint_into(painter, 640, 480)
    painter.end()
    assert QColor(image.pixel(320, 240)).red() == 128  # the centre is the picture
    rect, _ = overlay.state_rect("End of input", 640, 480, compact=True)
    assert rect.height() < 48 and rect.bottom() > 400
    big, _ = overlay.state_rect("No signal", 640, 480, compact=False)
    assert big.contains(320, 240)


# --- 8: segmentation legend ---------------------------------------------------------------
def test_background_has_no_swatch_in_the_legend(qapp):
    from edgeui.engine.types import Labels, SegmentationMap

    cmap = np.zeros((100, 100), np.uint8)
    cmap[:10] = 12
    labels = Labels(tuple(["background"] + [f"c{i}" for i in range(1, 21)]))
    seg = SegmentationMap(cmap, labels)
    image = QImage(400, 200, QImage.Format.Format_RGB32)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    overlay.draw_segmentation_legend(painter, seg, 400)
    painter.end()
    rows = overlay.legend_rows(seg)
    assert rows[0].class_id == 0
    fm = QFontMetricsF(overlay.overlay_font(13))
    box_w = max(fm.horizontalAdvance(f"{r.name} {r.share * 100:.0f}%") for r in rows) + 32
    x, y = int(400 - box_w - 10 + 12), int(13 + (fm.height() + 6) / 2)
    swatch = QColor(image.pixel(x, y))
    bg = overlay.class_color(0)
    assert swatch.rgb() != bg.rgb()  # the legend's dark fill, not the palette colour


# --- 9: the picker's demo button ----------------------------------------------------------
def test_run_the_demo_button_loads_the_demo(qtbot, window, monkeypatch):
    from edgeui.engine import demo

    if not hasattr(window.model_picker, "demo_requested"):
        pytest.skip("this build has no model picker with a demo button")
    plan = demo.DemoPlan(model_path=None, source_uri="synthetic")
    monkeypatch.setattr(demo, "demo_plan", lambda *a, **k: plan)
    asked: list = []
    monkeypatch.setattr(window.worker, "set_source", lambda uri, opts=None: asked.append(uri))
    window.model_picker.demo_requested.emit()
    assert asked == ["synthetic"]


# --- second QA pass ---------------------------------------------------------------------
def test_pause_says_paused_instead_of_a_frozen_frame_rate(qtbot, window):
    window.header.show_stats(SimpleNamespace(inference_fps=30.2, stages={}, runtime="ort"))
    assert window.header.fps.text() == "30"
    window.toggle_pause()
    assert window.view.state_text() == "Paused"
    assert window.header.fps.text() == "–" and window.header.latency.text() == "paused"
    # Stats still arriving from before the pause do not bring the old rate back.
    window.header.show_stats(SimpleNamespace(inference_fps=30.2, stages={}, runtime="ort"))
    assert window.header.fps.text() == "–"
    window.toggle_pause()
    assert window.view.state_text() == ""
    window.header.show_stats(SimpleNamespace(inference_fps=29.0, stages={}, runtime="ort"))
    assert window.header.fps.text() == "29"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland check is Linux's")
def test_the_app_without_a_display_is_one_sentence_not_a_qt_abort():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "edgeui"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("edgeui: error: no display to open the window on")
    assert done.stderr.count("\n") == 1


def test_a_long_header_line_ends_in_an_ellipsis_not_half_a_character(qtbot):
    from edgeui.ui.qimage import qimage_to_bgr
    from edgeui.ui.widgets.status_header import StatusHeader

    header = StatusHeader()
    qtbot.addWidget(header)
    header.resize(420, 80)
    header.detail.setText("detection  ·  onnxruntime 1.32.0 · CPUExecutionProvider · auto "
                          "threads  ·  000000000139.jpg")
    header.show()
    qtbot.waitExposed(header)
    pixels = qimage_to_bgr(header.detail.grab().toImage()).astype(int)
    background = pixels[0, 0]
    # Elided: the text stops short of the right edge; clipped, glyphs would run into it.
    assert (np.abs(pixels[:, -3:] - background).sum(axis=2) < 30).all()
    assert header.detail_text().endswith("000000000139.jpg")  # the whole text is kept


def test_a_missing_source_is_said_once(qtbot, window):
    shown: list[str] = []
    window.notifier.notify = lambda m, level="error", *a: shown.append(m)
    message = "/nope/clip.mp4: file not found; check the path."
    window.on_state(SimpleNamespace(state="failed", message=message, retry_in=None))
    window.notify_error(message)  # the same failure, reported by the pipeline too
    window.notify_error("model.onnx: inference failed (boom).")
    assert shown == [message, "model.onnx: inference failed (boom)."]
    # The other order: the pipeline's error first, then the source's event.
    other = "/nope/other.mp4: file not found; check the path."
    window.notify_error(other)
    window.on_state(SimpleNamespace(state="failed", message=other, retry_in=None))
    assert shown[-1] == other and shown.count(other) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 check is Linux's")
def test_a_display_nobody_answers_on_is_one_sentence_not_a_qt_abort():
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["DISPLAY"] = ":87"  # no X server on display 87 here
    done = subprocess.run([sys.executable, "-m", "edgeui"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("edgeui: error: cannot connect to the display :87")
    assert done.stderr.count("\n") == 1


def test_engine_warnings_reach_the_notifier_not_only_the_log(qtbot, window):
    """E.g. a model whose outputs are NaN: the app said only "No class above the threshold"
    while the reason went to stderr (QA re-test)."""
    import logging

    from edgeui.ui.app import route_engine_warnings

    shown: list[tuple[str, str]] = []
    handler = route_engine_warnings(
        lambda m, level="error", *a, **k: shown.append((m, level)))
    try:
        logging.getLogger("edgeui.engine.model").warning("m.onnx: outputs contain NaN.")
        logging.getLogger("edgeui.engine.model").info("loaded")  # not a warning: not shown
        logging.getLogger("edgeui.ui.worker").warning("not the engine's")
    finally:
        logging.getLogger("edgeui.engine").removeHandler(handler)
    assert shown == [("m.onnx: outputs contain NaN.", "warning")]


def test_preview_frames_are_not_charted_as_latency(qtbot):
    """Without a model the table says '– / –'; the chart's legend must not show a figure."""
    from edgeui.engine.pipeline import FrameResult, StageTimings
    from edgeui.engine.types import Frame
    from edgeui.ui.widgets.results_panel import ResultsPanel

    panel = ResultsPanel()
    qtbot.addWidget(panel)
    frame = Frame(np.zeros((8, 8, 3), np.uint8), 0, 0.0, 0.0, "synthetic")
    panel.show_result(FrameResult(frame, None, StageTimings(0.2, end_to_end_ms=0.1), ""))
    assert panel.chart.sample_count() == 0
    panel.show_result(FrameResult(frame, None, StageTimings(0.2, 1.0, 8.0, 0.5, 9.9), "m"))
    assert panel.chart.sample_count() == 1
