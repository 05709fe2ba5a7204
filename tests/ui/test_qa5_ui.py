"""The fifth QA pass (a new user, a 1280x800 kiosk): what the app shows must be visible,
honest and the same wherever it is shown."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import QRect

from edgeui.engine.pipeline import PipelineStats
from edgeui.engine.sources.base import SourceEvent
from edgeui.engine.stats import Percentiles

STREAM = "http://127.0.0.1:9/x"
RUNTIME = "onnxruntime 1.32.0 · CPUExecutionProvider · auto threads"


def _stats(fps: float = 30.0, source: str = "", runtime: str = RUNTIME) -> PipelineStats:
    stages = {"inference": Percentiles(8.5, 10.3), "end_to_end": Percentiles(9.6, 11.5),
              "capture": Percentiles(0.1, 0.1)}
    return PipelineStats(capture_fps=fps, inference_fps=fps, processed=100, stages=stages,
                         source_state="live", runtime=runtime, source=source)


def _model(name: str = "yolox_nano", task: str = "detection") -> SimpleNamespace:
    runtime = SimpleNamespace(describe=lambda: RUNTIME)
    return SimpleNamespace(name=name, task=task, runtime=runtime, path="", thresholds=None)


def _frame_result(source: str, image: np.ndarray | None = None) -> SimpleNamespace:
    image = np.full((480, 640, 3), 90, np.uint8) if image is None else image
    frame = SimpleNamespace(image=image, source=source, frame_id=1, timestamp=0.0)
    return SimpleNamespace(frame=frame, result=None, model_name="yolox_nano", error=None,
                           timings=None, runtime=RUNTIME)


# --- 1: the state pill and the toasts share the bottom of the live view -------------------
def test_reconnecting_pill_is_not_hidden_under_a_toast(window, qtbot):
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.view.show_frame(np.full((480, 640, 3), 90, np.uint8))
    window.worker.state_changed.emit(SourceEvent("disconnected", f"{STREAM}: no new frame "
                                                 "for 5 s.", STREAM))
    window.worker.state_changed.emit(SourceEvent("reconnecting", "reconnecting in 2 s…",
                                                 STREAM, 2.0))
    assert window.notifier.count() >= 1
    assert window.view.state_text().startswith("Reconnecting")

    def cards_rect() -> QRect:
        rect = QRect()
        for card in window.notifier.cards():
            top_left = card.mapTo(window.view.parentWidget(), card.rect().topLeft())
            rect = rect.united(QRect(top_left, card.size()))
        return rect

    qtbot.waitUntil(lambda: cards_rect().height() > 20)
    pill = window.view.state_rect().toAlignedRect().translated(window.view.pos())
    assert pill.height() > 0
    qtbot.waitUntil(lambda: not window.view.state_rect().toAlignedRect()
                    .translated(window.view.pos()).intersects(cards_rect()))
    # ...and back in the middle of the (dimmed, not live) picture when the toasts are gone.
    window.notifier.clear()
    qtbot.waitUntil(lambda: abs(window.view.state_rect().center().y()
                                - window.view.height() / 2) < 4)


# --- 2: a stream that is never reached says why ---------------------------------------------
def test_an_unreachable_stream_says_why(window, qtbot):
    window.set_source(STREAM)
    window.worker.state_changed.emit(SourceEvent("connecting", "connecting…", STREAM))
    reason = "cannot connect (refused or not reachable)."
    for backoff in (1, 2, 4):
        window.worker.state_changed.emit(SourceEvent(
            "reconnecting", f"{reason} Retrying in {backoff} s…", STREAM, float(backoff)))
    warnings = [m for level, m, _ in window.notifier.messages() if level == "warning"]
    assert len(warnings) == 1 and reason in warnings[0]  # once, not once per retry
    assert reason in window.results.summary.text()
    # A plain "reconnecting in 2 s…" (after a disconnect, which said why) adds nothing.
    window.notifier.clear()
    window.worker.state_changed.emit(SourceEvent("live", "live", STREAM))
    window.worker.state_changed.emit(SourceEvent("reconnecting", "reconnecting in 1 s…",
                                                 STREAM, 1.0))
    assert window.notifier.count() == 0


# --- 3: the runtime is the same in the header and the panel ---------------------------------
def test_panel_runtime_matches_the_header_before_any_stats(window, qtbot):
    window.worker.model_changed.emit(_model())
    assert "onnxruntime" in window.header.detail_text()
    assert window.results.stat_text("runtime") != "–"
    assert "onnxruntime" in window.results.stat_text("runtime")
    assert "onnxruntime" in window.results._values["runtime"].toolTip()


# --- 4: a still image has no frame rate ----------------------------------------------------
def test_a_still_image_shows_no_source_fps(window, qtbot, still, clip):
    window.set_source(still)
    window.worker.model_changed.emit(_model())
    window.worker.stats.emit(_stats(30.0, still))
    window.results.flush()
    assert window.results.stat_text("capture_fps") == "still image"
    assert window.results.stat_text("inference_fps") == "30.0"  # the model's rate stays
    header = window.header
    assert f"{header.fps.text()} {header.fps_unit.text()}" == "still image"  # not "30 fps"
    assert header.latency.text() == "inference 8.5 ms"
    # A video is not a still.
    window.set_source(clip)
    window.worker.stats.emit(_stats(25.0, clip))
    qtbot.waitUntil(lambda: window.results.stat_text("capture_fps") == "25.0")
    assert (header.fps.text(), header.fps_unit.text()) == ("25", "fps")


def test_a_still_image_preview_shows_no_fps(window, qtbot, still):
    window.set_source(still)
    window.worker.stats.emit(_stats(30.0, still, runtime=""))  # no model: a preview
    window.results.flush()
    assert f"{window.header.fps.text()} {window.header.fps_unit.text()}" == "still image"
    assert window.results.stat_text("capture_fps") == "still image"
    assert window.results.stat_text("inference_fps") == "still image"


# --- 5: a slideshow names the picture shown --------------------------------------------------
def test_a_folder_slideshow_names_the_image_shown(window, qtbot, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg"):
        (folder / name).write_bytes(b"")
    window.set_source(str(folder))
    assert "photos" in window.header.detail_text()
    window.on_result(_frame_result(str(folder / "a.jpg")))
    assert "a.jpg" in window.header.detail_text()
    window.on_result(_frame_result(str(folder / "b.jpg")))
    assert "b.jpg" in window.header.detail_text()
    assert "a.jpg" not in window.header.detail_text()
    # A camera's frames say /dev/video0: the header keeps "Camera 0".
    window.set_source("0")
    window.on_result(_frame_result("/dev/video0"))
    assert "Camera 0" in window.header.detail_text()
    assert "b.jpg" not in window.header.detail_text()


# --- 6: one style for percentages ------------------------------------------------------------
def test_percentages_are_written_as_the_overlay_writes_them(qtbot):
    from edgeui.engine.types import Detections, Result
    from edgeui.ui.widgets.results_panel import ResultsPanel

    panel = ResultsPanel()
    qtbot.addWidget(panel)
    dets = Detections(boxes=np.array([[0, 0, 10, 10]], np.float32),
                      scores=np.array([0.9], np.float32), class_ids=np.array([62]),
                      labels=("tvmonitor",))
    fr = SimpleNamespace(result=Result("detection", 640, 480, detections=dets),
                         model_name="yolox_nano", timings=None, error=None)
    panel.show_result(fr)
    panel.flush()
    assert "90%" in panel.summary.text() and "90 %" not in panel.summary.text()


# --- 7: only sources that worked are remembered ----------------------------------------------
def test_a_source_that_fails_is_not_remembered(window, qtbot, still):
    missing_cam = "rtsp://10.0.0.1/none"
    window.set_source(missing_cam)
    assert missing_cam not in window.settings.recent_sources  # not until it delivers
    window.worker.state_changed.emit(SourceEvent("failed", "cannot open it.", missing_cam))
    assert missing_cam not in window.settings.recent_sources
    assert window.settings.last_source != missing_cam
    assert missing_cam not in window.source_picker.uris()

    good = still
    window.set_source(good)
    window.worker.state_changed.emit(SourceEvent("connecting", "connecting…", good))
    assert good not in window.settings.recent_sources
    window.worker.state_changed.emit(SourceEvent("live", "live", good))
    assert window.settings.recent_sources[0] == good
    assert window.settings.last_source == good
    assert good in window.source_picker.uris()


def test_picker_lists_one_path_once_whatever_its_letter_case(qtbot, monkeypatch):
    import edgeui.config as config
    from edgeui.ui.widgets.source_picker import SourcePicker

    # As on Windows (and macOS): the file system does not tell the letter cases apart.
    monkeypatch.setattr(config.os.path, "normcase", lambda p: p.lower())
    picker = SourcePicker(recent=["/data/Clip.mp4", "/data/clip.MP4", "rtsp://Cam/1",
                                  "rtsp://cam/1"], camera_lister=lambda: [])
    qtbot.addWidget(picker)
    uris = picker.uris()
    assert [u for u in uris if u.lower() == "/data/clip.mp4"] == ["/data/Clip.mp4"]
    assert "rtsp://Cam/1" in uris and "rtsp://cam/1" in uris  # a URL is kept as written
    picker.set_current("/DATA/CLIP.MP4")
    assert [u for u in picker.uris() if u.lower() == "/data/clip.mp4"] == ["/DATA/CLIP.MP4"]
    picker.set_recent(["/a/B.jpg", "/a/b.jpg"])
    assert [u for u in picker.uris() if u.lower() == "/a/b.jpg"] == ["/a/B.jpg"]


# --- 8: a file that has ended is not live --------------------------------------------------
def test_an_ended_file_shows_no_live_rates_but_keeps_its_result(window, qtbot, clip):
    window.set_source(clip)
    window.worker.model_changed.emit(_model())
    window.worker.state_changed.emit(SourceEvent("live", "live", clip))
    window.worker.stats.emit(_stats(25.0, clip))
    window.results.flush()
    window.results.show_display_rate(25.0)
    assert window.header.fps.text() == "25"
    window.results.set_status("yolox_nano · detection", "2 objects")
    window.worker.state_changed.emit(SourceEvent("ended", "end of file", clip))
    assert window.header.fps.text() == "–"
    assert "ended" in window.header.latency.text()
    for key in ("capture_fps", "inference_fps", "display_fps"):
        assert window.results.stat_text(key) == "–", key
    assert window.results.summary.text() == "2 objects"  # the last result stays
    window.worker.stats.emit(_stats(25.0, clip))  # late stats of the last frames
    window.results.flush()
    assert window.results.stat_text("inference_fps") == "–"
    assert window.header.fps.text() == "–"
