"""Defects from the third QA pass: recent sources, a source that fails before the model,
cut text that says it is cut, the header's room for slow models."""

from __future__ import annotations

import os
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from edgeui.engine.sources.base import SourceEvent
from edgeui.ui.main_window import MainWindow
from edgeui.ui.widgets.live_text import LiveText
from edgeui.ui.worker import InferenceWorker


@pytest.fixture
def settings(tmp_path):
    from edgeui.config import Settings

    return Settings(snapshots_dir=str(tmp_path / "snaps"), path=tmp_path / "edgeui.toml",
                    recent_sources=["rtsp://cam/1", "synthetic:640x480@30"])  # fmt: skip


@pytest.fixture
def window(qtbot, settings):
    worker = InferenceWorker(source="synthetic")  # never started: the window's own logic
    win = MainWindow(worker, settings)
    qtbot.addWidget(win)
    yield win
    worker.stop()


def test_recent_sources_from_earlier_runs_are_listed(window) -> None:
    uris = window.source_picker.uris()
    assert "rtsp://cam/1" in uris and "synthetic:640x480@30" in uris


def test_a_source_that_fails_before_the_model_runs_is_not_waited_for(window) -> None:
    clip = "/media/usb/recordings/parking_lot_2024.mp4"
    window.on_state(SourceEvent("failed", f"{clip}: file not found.", clip))
    assert window.results.summary.text().startswith("No frames: ")
    assert window.results.stat_text("source_state") == "failed · parking_lot_2024.mp4"
    # The model comes later: its card must not say "waiting" for a source that failed.
    window.on_model_changed(SimpleNamespace(name="yolox", task="detection", path="",
                                            thresholds=None))  # fmt: skip
    assert window.results.summary.text().startswith("No frames: ")


def test_cut_text_ends_in_an_ellipsis_and_keeps_its_words(qtbot) -> None:
    text = "live · /media/usb/a-very-long-folder-name-for-the-parking-lot-camera/clip.mp4"
    widget = LiveText(text, lines=2)
    qtbot.addWidget(widget)
    widget.resize(160, 40)
    lines = widget.visible_lines()
    assert len(lines) == 2 and lines[0].startswith("live · ")  # wrapped, not cut
    assert lines[1].endswith("…") and widget.is_elided()
    short = LiveText("live · synthetic", lines=2)
    qtbot.addWidget(short)
    short.resize(160, 40)
    assert not short.is_elided() and " ".join(short.visible_lines()) == "live · synthetic"


def test_three_runtime_parts_are_all_shown(window) -> None:
    stats = SimpleNamespace(capture_fps=30.0, inference_fps=30.0, processed=1, dropped=0,
                            stages={}, source_state="live", source="0",
                            runtime="onnxruntime 1.32.0 · CPUExecutionProvider · auto threads")
    window.results.show_stats(stats)
    window.results.flush()
    value = window.results._values["runtime"]
    value.resize(200, value.height())
    assert value.visible_lines() == ["onnxruntime 1.32", "CPU", "auto threads"]


def test_the_header_has_room_for_a_slow_model(window) -> None:
    label = window.header.latency
    label.setText("inference 1534.2 ms")
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()


def _works(window, uri: str) -> None:
    """Choose a source and have it deliver (sources are remembered once they work)."""
    window.set_source(uri)
    window.worker.state_changed.emit(SourceEvent("live", "live", uri))


def test_a_local_source_is_remembered_by_its_whole_path(window, tmp_path, monkeypatch) -> None:
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "a.mp4").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    _works(window, "clips/a.mp4")
    assert window.settings.recent_sources[0] == str(tmp_path / "clips" / "a.mp4")
    _works(window, "rtsp://cam/2")  # not a path: as typed
    assert window.settings.recent_sources[0] == "rtsp://cam/2"


def test_a_missing_file_is_not_remembered_and_cameras_are_as_typed(window, tmp_path) -> None:
    _works(window, str(tmp_path / "gone.mp4"))
    _works(window, "0")
    _works(window, "synthetic:640x480@30")
    assert str(tmp_path / "gone.mp4") not in window.settings.recent_sources
    assert window.settings.recent_sources[:2] == ["synthetic:640x480@30", "0"]


def test_pausing_says_the_rates_are_paused(window) -> None:
    stats = SimpleNamespace(capture_fps=30.0, inference_fps=29.0, processed=1, dropped=0,
                            stages={}, source_state="live", source="0", runtime="rt")
    window.results.show_stats(stats)
    window.results.flush()
    window.toggle_pause()
    assert window.results.stat_text("inference_fps") == "paused"
    assert window.results.stat_text("capture_fps") == "paused"
    window.toggle_pause()
    window.results.show_stats(stats)
    window.results.flush()
    assert window.results.stat_text("inference_fps") == "29.0"


def test_stats_of_the_frame_in_flight_do_not_undo_paused(window) -> None:
    stats = SimpleNamespace(capture_fps=30.0, inference_fps=29.0, processed=1, dropped=0,
                            stages={}, source_state="live", source="0", runtime="rt")
    window.toggle_pause()
    window.results.show_stats(stats)  # arrives after the pause: made before it
    window.results.flush()
    window.results.show_display_rate(22.0, paced=True)
    assert window.results.stat_text("inference_fps") == "paused"
    assert window.results.stat_text("display_fps") == "paused"


def _banner_rows(view_w: int, view_h: int) -> tuple[int, bool]:
    """(height of the classification banner in pixels, whether it darkened the side bar)."""
    from PySide6.QtGui import QImage, QPainter

    from edgeui.engine.types import Classification, Result
    from edgeui.ui import overlay

    image = QImage(view_w, view_h, QImage.Format.Format_RGB32)
    image.fill(0xFFFFFF)
    vt = overlay.ViewTransform.fit(640, 480, view_w, view_h)
    result = Result("classification", 640, 480,
                    classes=tuple(Classification(i, f"class {i}", 0.5) for i in range(3)))
    painter = QPainter(image)
    overlay.draw_result(painter, result, vt, view_w)
    painter.end()
    x = int(vt.offset_x) + 4
    height = next((y for y in range(view_h) if image.pixel(x, y) & 0xFFFFFF == 0xFFFFFF), 0)
    side_bar = vt.offset_x > 8 and image.pixel(int(vt.offset_x / 2), 5) & 0xFFFFFF != 0xFFFFFF
    return height, side_bar


def test_the_classification_banner_grows_with_the_picture_and_stays_on_it(qapp) -> None:
    window_h, _ = _banner_rows(856, 642)
    kiosk_h, kiosk_bar = _banner_rows(1920, 1080)
    assert kiosk_h > 1.2 * window_h  # legible at a booth's fullscreen
    assert not kiosk_bar  # the black side bars stay black (here: untouched)
