"""The sixth QA pass (kiosk at 1280x800, technicians' laptops): what a screenshot shows
must agree with itself, a dead source must look dead, and only sources that work are
remembered."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from types import SimpleNamespace

import numpy as np
from PySide6.QtGui import QColor, QImage

from edgeui.engine.sources.base import SourceEvent
from edgeui.engine.types import Classification, Result

STREAM = "http://127.0.0.1:9/live.mjpg"


def _classified(label: str, score: float, image: np.ndarray | None = None,
                model: str = "mobilenet_v2") -> SimpleNamespace:  # fmt: skip
    image = np.full((240, 320, 3), 90, np.uint8) if image is None else image
    frame = SimpleNamespace(image=image, source="synthetic", frame_id=1, timestamp=0.0)
    result = Result("classification", 320, 240, classes=(Classification(1, label, score),))
    return SimpleNamespace(frame=frame, result=result, model_name=model, error=None,
                           timings=None, runtime="LiteRT 2.3.0")


def _shown(window, qtbot) -> None:
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)


# --- 1: a screenshot shows the panel and the overlay of one result ----------------------------
def test_a_screenshot_shows_the_panel_of_the_frame_drawn(window, qtbot, monkeypatch):
    import edgeui.ui.widgets.results_panel as results_panel

    # The panel's throttle, long enough that a slow machine's second result still lands in it.
    monkeypatch.setattr(results_panel, "RESULT_INTERVAL_S", 60.0)
    _shown(window, qtbot)
    window.on_result(_classified("crossword puzzle", 0.387))
    window.results.flush()
    window.on_result(_classified("shower curtain", 0.145))  # within the panel's throttle
    assert "crossword" in window.results.summary.text()  # the panel lags, as it may live
    assert not window.grab_window().isNull()
    assert window.results.summary.text() == "shower curtain — 14.5%"
    assert window.view.current_result().classes[0].label == "shower curtain"


def test_a_snapshot_shows_the_panel_of_the_frame_saved(window, qtbot):
    window.on_result(_classified("crossword puzzle", 0.387))
    window.results.flush()
    window.on_result(_classified("shower curtain", 0.145))
    assert window.snapshot() is not None
    assert window.results.summary.text() == "shower curtain — 14.5%"


# --- 2: a source that dropped is not shown as if it were live ----------------------------------
def _picture_colour(window) -> QColor:
    image: QImage = window.view.grab().toImage()
    return image.pixelColor(image.width() // 2, image.height() // 4)


def test_a_dropped_source_dims_its_last_picture_until_it_is_live_again(window, qtbot):
    _shown(window, qtbot)
    window.set_source(STREAM)
    red = np.zeros((240, 320, 3), np.uint8)
    red[..., 2] = 230
    window.worker.state_changed.emit(SourceEvent("live", "live", STREAM))
    window.on_result(_classified("fire engine", 0.9, red))
    live = _picture_colour(window)
    assert live.red() > 200 and live.green() < 40  # in full colour
    compact = window.view.state_rect()
    assert compact.isEmpty()

    window.worker.state_changed.emit(SourceEvent("disconnected", f"{STREAM}: no new frame "
                                                 "for 5 s.", STREAM))  # fmt: skip
    window.worker.state_changed.emit(SourceEvent("reconnecting", "reconnecting in 4 s…",
                                                 STREAM, 4.0))  # fmt: skip
    assert window.view.is_stale()
    stale = _picture_colour(window)
    assert stale.value() < live.value() / 2  # dimmed...
    assert abs(stale.red() - stale.green()) < 12  # ...and grey: nothing here is happening now
    # The state big, not a corner pill: a kiosk has no side panel to say it.
    window.notifier.clear()
    rect = window.view.state_rect()
    assert rect.height() > 50 and abs(rect.center().x() - window.view.width() / 2) < 4

    # A late frame from before the drop does not bring it back; the "live" event does.
    window.on_result(_classified("fire engine", 0.9, red))
    assert window.view.is_stale()
    window.worker.state_changed.emit(SourceEvent("live", "live", STREAM))
    assert not window.view.is_stale()
    assert _picture_colour(window).red() > 200


def test_a_snapshot_of_a_stale_picture_keeps_its_colours(window, qtbot):
    red = np.zeros((48, 64, 3), np.uint8)
    red[..., 2] = 230
    window.view.show_frame(red)
    window.view.set_stale(True)
    image = window.view.render_snapshot()
    assert image.pixelColor(32, 24).red() > 200


# --- 3: the header's key facts are readable fullscreen at 1280x800 with the side panel ----------
def test_the_header_shows_the_model_and_the_source_at_1280x800_fullscreen(window, qtbot):
    _shown(window, qtbot)
    header = window.header
    header.set_large(True)  # fullscreen
    runtime = SimpleNamespace(describe=lambda: "LiteRT 2.3.0 · XNNPACK · auto threads")
    window.worker.model_changed.emit(SimpleNamespace(
        name="mobilenet_v2_1.0_224_quant", task="classification", runtime=runtime, path="",
        thresholds=None))  # fmt: skip
    window.set_source("synthetic")
    assert 700 < window.view.width() < 1000  # the side panel takes the rest

    def readable() -> bool:
        shown = header.detail.visible_lines()[0]
        return (not header.title.is_elided() and "Demo pattern" in shown
                and not header.detail.is_elided())

    qtbot.waitUntil(readable)
    assert "LiteRT" in header.detail.toolTip() and "auto threads" in header.detail.toolTip()
    # Wide enough (no side panel): all of it, at the full size.
    window.side_panel.hide()
    qtbot.waitUntil(lambda: "auto threads" in header.detail.visible_lines()[0])


# --- 4: no model: the chart says so -------------------------------------------------------------
def test_the_chart_says_preview_only_without_a_model(qtbot):
    from edgeui.ui.widgets.results_panel import ResultsPanel

    panel = ResultsPanel()
    qtbot.addWidget(panel)
    timings = SimpleNamespace(end_to_end_ms=3.0, inference_ms=0.0)
    preview = SimpleNamespace(result=None, model_name="", timings=timings, error=None)
    panel.show_result(preview)
    assert panel.chart.idle_text() == "no model: preview only"
    assert panel.chart.sample_count() == 0


# --- 5: no doubled "No" ---------------------------------------------------------------------------
def test_a_failed_source_is_worded_once(window, qtbot):
    window.set_source(STREAM)
    window.worker.state_changed.emit(SourceEvent("failed", "", STREAM))
    window.worker.model_changed.emit(SimpleNamespace(name="m", task="detection", path="",
                                                     thresholds=None))  # fmt: skip
    summary = window.results.summary.text()
    assert summary == "No signal — choose another source"
    window.worker.state_changed.emit(SourceEvent("failed", "the stream refused us.", STREAM))
    assert window.results.summary.text() == "No frames: the stream refused us."


def test_an_empty_folder_says_why_not_no_no_signal(window, qtbot, tmp_path):
    empty = tmp_path / "emptydir"
    empty.mkdir()
    window.set_source(str(empty))  # fails at once: no images
    window.worker.model_changed.emit(SimpleNamespace(name="m", task="detection", path="",
                                                     thresholds=None))  # fmt: skip
    summary = window.results.summary.text()
    assert "No frames: No" not in summary
    assert "no images" in summary


# --- 6: one warning card per outage, whatever the retries say ------------------------------------
def test_one_card_per_outage_even_when_the_reason_changes(window, qtbot):
    window.set_source(STREAM)
    window.worker.state_changed.emit(SourceEvent("live", "live", STREAM))

    def warnings() -> int:
        return sum(1 for level, _, _ in window.notifier.messages() if level == "warning")

    window.worker.state_changed.emit(SourceEvent("disconnected", "no video after 3.2 s.",
                                                 STREAM))  # fmt: skip
    for reason, backoff in (("no video after 3.4 s.", 1), ("cannot connect (refused).", 2),
                            ("no video after 3.1 s.", 4)):  # fmt: skip
        window.worker.state_changed.emit(SourceEvent(
            "reconnecting", f"{reason} Retrying in {backoff} s…", STREAM, float(backoff)))
    window.worker.state_changed.emit(SourceEvent("disconnected", "no video after 3.3 s.",
                                                 STREAM))  # fmt: skip
    assert warnings() == 1
    # Live again, then a new outage: told again.
    window.worker.state_changed.emit(SourceEvent("live", "live", STREAM))
    window.worker.state_changed.emit(SourceEvent("disconnected", "no video after 5.0 s.",
                                                 STREAM))  # fmt: skip
    assert warnings() == 2
    # Another source: its outage is its own.
    window.set_source("http://127.0.0.1:9/other")
    window.worker.state_changed.emit(SourceEvent(
        "reconnecting", "no video after 3.2 s. Retrying in 1 s…", "http://127.0.0.1:9/other",
        1.0))  # fmt: skip
    assert warnings() == 3


# --- 7: a source is remembered only when it is the one that worked --------------------------------
def test_a_source_that_cannot_be_made_is_never_remembered(window, qtbot, still, tmp_path):
    window.set_source(still)
    window.worker.state_changed.emit(SourceEvent("live", "live", still))
    assert window.settings.last_source == still
    empty = tmp_path / "emptydir"
    empty.mkdir()
    window.set_source(str(empty))  # open_source raises: no "failed" event of the pipeline's
    assert window.notifier.count() == 1
    # The still runs on; its next "live" (after a hiccup) is not the empty folder's.
    window.worker.state_changed.emit(SourceEvent("live", "live", still))
    assert window.settings.last_source == still
    assert str(empty) not in window.settings.recent_sources
    assert str(empty) not in window.source_picker.uris()
    assert "emptydir" not in window.header.detail_text()


def test_late_events_of_the_previous_source_remember_nothing(window, qtbot, still, clip):
    window.set_source(still)
    window.set_source(clip)
    # Queued before the switch: the still's "live", then its failure.
    window.worker.state_changed.emit(SourceEvent("live", "live", still))
    assert clip not in window.settings.recent_sources
    assert still not in window.settings.recent_sources
    window.worker.state_changed.emit(SourceEvent("failed", "gone.", still))
    assert clip in window.source_picker.uris()  # not forgotten for the still's failure
    assert window.view.state_text() == "Connecting…"
    window.worker.state_changed.emit(SourceEvent("live", "live", clip))
    assert window.settings.last_source == clip
    assert window.settings.recent_sources[0] == clip


def test_a_stream_with_a_password_is_matched_by_its_redacted_name(window, qtbot):
    url = "http://user:secret@127.0.0.1:9/live.mjpg"
    window.set_source(url)
    window.worker.state_changed.emit(SourceEvent("live", "live",
                                                 "http://***@127.0.0.1:9/live.mjpg"))
    assert window.settings.last_source == url
