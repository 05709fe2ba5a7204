"""The seventh QA pass (kiosk at 1280x800 and 1920x1080, technicians' laptops): a reconnect
that counts down, a dropped picture whose results are grey and legible, titles that fit or
say they are cut, a state message that stays put, and no password in the header."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from edgeui.engine.sources.base import SourceEvent
from edgeui.engine.types import Detections, Result

STREAM = "http://127.0.0.1:9/live.mjpg"
LONG_MODEL = "yolox_nano_coco80_person_forklift_pallet_v3"


def _shown(window, qtbot, w: int = 1280, h: int = 800) -> None:
    window.resize(w, h)
    window.show()
    qtbot.waitExposed(window)


def _reconnecting(retry_in: float, source: str = STREAM) -> SourceEvent:
    return SourceEvent("reconnecting", f"{source}: cannot connect. Retrying in {retry_in:g} s…",
                       source, retry_in)  # fmt: skip


# --- 1: "Reconnecting in N s…" counts down --------------------------------------------------
def test_the_reconnect_wait_counts_down_to_reconnecting(window, qtbot):
    _shown(window, qtbot)
    window.set_source(STREAM)
    window.on_state(_reconnecting(2.0))
    assert window.view.state_text() == "Reconnecting in 2 s…"
    assert "Reconnecting in 2 s…" in window.results.summary.text()
    # The GUI thread's own timer: a second later one less, in the view and the panel.
    qtbot.waitUntil(lambda: window.view.state_text() == "Reconnecting in 1 s…", timeout=2500)
    assert "Reconnecting in 1 s…" in window.results.summary.text()
    qtbot.waitUntil(lambda: window.view.state_text() == "Reconnecting…", timeout=2500)
    assert window.results.summary.text().endswith("Reconnecting…")
    assert not window._countdown.is_running()  # until the next event, nothing more


def test_the_countdown_steps_once_a_second_and_stops_on_the_next_event(window, qtbot):
    from edgeui.ui.widgets.countdown import RetryCountdown

    now = [100.0]
    countdown = RetryCountdown(clock=lambda: now[0])
    seen: list[str] = []
    countdown.changed.connect(seen.append)
    assert countdown.start(16.0) == "Reconnecting in 16 s…"
    for _ in range(16):  # each tick wakes a little after the number changes
        now[0] += 1.004
        countdown._tick()
    assert seen == [f"Reconnecting in {n} s…" for n in range(15, 0, -1)] + ["Reconnecting…"]
    assert not countdown.is_running()
    # A live source stops it: no "Reconnecting in…" over frames that came back.
    _shown(window, qtbot)
    window.set_source(STREAM)
    window.on_state(_reconnecting(8.0))
    assert window._countdown.is_running()
    window.on_state(SourceEvent("live", "live", STREAM))
    assert not window._countdown.is_running() and window.view.state_text() == ""


# --- 2: a dimmed picture's results are grey, their text legible ----------------------------
def _luminance(c: QColor) -> float:
    def lin(v: int) -> float:
        v = v / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.red()) + 0.7152 * lin(c.green()) + 0.0722 * lin(c.blue())


def _contrast(a: QColor, b: QColor) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_a_stale_pictures_boxes_and_labels_are_grey_and_legible(qtbot):
    from edgeui.ui.widgets.video_view import VideoView

    view = VideoView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.set_state_text("")
    image = np.zeros((480, 640, 3), np.uint8)
    image[:] = (40, 160, 60)  # a green scene (BGR)
    # Class 2's tag is a green on which the label text was black: dark once dimmed.
    dets = Detections(np.array([[100.0, 150.0, 400.0, 400.0]], np.float32),
                      np.array([0.9], np.float32), np.array([2]), ("forklift",))
    view.show_frame(image, Result("detection", 640, 480, detections=dets))
    view.set_stale(True)
    shot: QImage = view.grab().toImage()
    colours = {shot.pixelColor(x, y).getRgb()[:3]
               for x in range(0, 640, 3) for y in range(0, 480, 3)}
    tinted = [c for c in colours if max(c) - min(c) > 6]
    assert not tinted, f"colours left on a stale picture: {tinted[:5]}"
    # The tag sits just above the box: its fill, and the text on it, far apart in light.
    fill = shot.pixelColor(102, 148)
    tag = [shot.pixelColor(x, y) for x in range(100, 230) for y in range(122, 150)]
    text = max(tag, key=lambda c: _contrast(c, fill))
    assert _contrast(text, fill) >= 4.5


# --- 3: the results panel's title says when it is cut ---------------------------------------
@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_the_panel_title_is_elided_with_the_whole_in_its_tooltip(window, qtbot, size):
    _shown(window, qtbot, *size)
    full = f"{LONG_MODEL}_industrial_site_b · detection"
    window.results.set_status(full, "7 objects")
    title = window.results.title
    assert title.text() == full and title.toolTip() == full
    lines = title.visible_lines()
    assert len(lines) == 1 and lines[0].endswith("…")
    assert title.fontMetrics().horizontalAdvance(lines[0]) <= title.width()


# --- 4: fullscreen shows the model's whole name, like the window ----------------------------
def test_the_large_header_shrinks_a_long_name_before_cutting_it(qtbot):
    from edgeui.ui.widgets.status_header import StatusHeader

    header = StatusHeader()
    qtbot.addWidget(header)
    header.set_large(True)  # fullscreen with the side panel at 1280x800
    header.resize(857, 110)
    header.show()
    qtbot.waitExposed(header)
    header.set_model(SimpleNamespace(name=LONG_MODEL, task="detection", runtime=None))
    header.set_source("/photos/000000000139.jpg", still=True)
    qtbot.waitUntil(lambda: not header.title.is_elided(), timeout=2000)
    assert header.title.visible_lines() == [LONG_MODEL]
    # The big "still" takes the room it needs, no more: none left empty before it.
    fm = header.fps.fontMetrics()
    assert header.fps.width() <= fm.horizontalAdvance("still") + 8


# --- 5: the big state message stays put when a card comes or goes --------------------------
def test_the_big_state_text_does_not_move_when_the_toast_closes(qtbot):
    from edgeui.ui.widgets.video_view import VideoView

    view = VideoView()
    qtbot.addWidget(view)
    view.resize(1280, 690)
    view.show()
    view.set_state_text("Reconnecting in 8 s…")
    view.set_stale(True)
    view.set_bottom_inset(96)  # one warning card
    with_card = view.state_rect()
    view.set_bottom_inset(0)  # closed
    assert view.state_rect() == with_card
    view.set_bottom_inset(420)  # a pile of cards reaching the middle: it rises above them
    assert view.state_rect().bottom() <= 690 - 420


# --- 6: a stream's password never reaches the header -----------------------------------------
@pytest.mark.parametrize("uri, host", [
    ("rtsp://admin:ab/cd@cam/live", "cam"),
    ("rtsp://admin:a?b@cam:554/live", "cam:554"),
    ("rtsp://admin:a#b@10.0.0.7/live", "10.0.0.7"),
    ("rtsp://admin:a@b@cam.local/live", "cam.local"),
    ("rtsp://admin:a b@cam/live", "cam"),
    ("http://admin:x/y?z#w@b c@[fe80::1]:8080/mjpg", "[fe80::1]:8080"),
    ("http://127.0.0.1:9/x", "127.0.0.1:9"),
])  # fmt: skip
def test_the_header_names_a_streams_host_never_its_credentials(qtbot, uri, host):
    from edgeui.ui.widgets.status_header import StatusHeader, source_name

    assert source_name(uri) == host
    header = StatusHeader()
    qtbot.addWidget(header)
    header.set_large(True)
    header.set_model(SimpleNamespace(name="yolox_nano", task="detection", runtime=None))
    header.set_source(uri)
    for shown in (header.detail_text(), header.detail.toolTip()):
        assert host in shown
        assert "admin" not in shown and "@" not in shown and "***" not in shown


def test_a_retry_time_that_is_not_a_number_says_reconnecting_without_a_crash(qtbot):
    from edgeui.ui.widgets.countdown import RECONNECTING, RetryCountdown

    countdown = RetryCountdown(clock=lambda: 100.0)
    for odd in (float("nan"), float("inf"), -3.0, 0.0, None):
        assert countdown.start(odd) == RECONNECTING
        assert not countdown.is_running()
