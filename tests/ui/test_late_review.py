"""Review of the late UI fixes: LiveText with characters beyond the BMP, pausing while a
stats render is due, resuming a source that sends nothing more, remembered patterns."""

from __future__ import annotations

import os
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from edgeui.ui.main_window import _remembered_source
from edgeui.ui.widgets.live_text import LiveText


def _stats(fps: float) -> SimpleNamespace:
    return SimpleNamespace(capture_fps=fps, inference_fps=fps, processed=1, dropped=0,
                           stages={}, source_state="live", source="0", runtime="rt")


def test_wrapped_text_with_emoji_keeps_its_words(qtbot) -> None:
    # Qt's line offsets count UTF-16 units: an emoji is two, and Python slices by character.
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
    widget = LiveText("🙂🙂🙂 " + words, lines=2)
    qtbot.addWidget(widget)
    widget.resize(140, 40)
    lines = widget.visible_lines()
    assert lines[0].startswith("🙂🙂🙂 ")
    # Wrapped at words: every word of the first line is whole.
    assert all(word in words.split() for word in lines[0].split()[1:])
    assert lines[1].endswith("…")
    assert lines[1][:-1].split()[0] in words.split()


@pytest.mark.parametrize("text", ["", "\n", "\n\n\n", "a\n\nb", "🙂" * 40])
@pytest.mark.parametrize("width", [0, 1, 50])
@pytest.mark.parametrize("lines", [1, 2, 3])
def test_odd_text_and_sizes_paint(qtbot, text, width, lines) -> None:
    for right in (False, True):
        widget = LiveText(text, lines=lines, align_right=right)
        qtbot.addWidget(widget)
        widget.resize(width, 40)
        assert len(widget.visible_lines()) <= lines
        widget.grab()  # paints


def test_a_stats_render_due_after_pausing_does_not_bring_the_rates_back(window, qtbot) -> None:
    results = window.results
    results.show_stats(_stats(30.0))
    results.flush()
    results.show_stats(_stats(31.0))  # within the render interval: rendered by a timer
    window.toggle_pause()
    assert results.stat_text("inference_fps") == "paused"
    qtbot.waitUntil(lambda: not results._stats_timer.isActive(), timeout=2000)
    assert results.stat_text("inference_fps") == "paused"
    assert results.stat_text("capture_fps") == "paused"


def test_resuming_does_not_leave_the_rates_saying_paused(window) -> None:
    # A source that has ended sends no stats after resuming: "paused" would stay for ever.
    results = window.results
    results.show_stats(_stats(30.0))
    results.flush()
    window.toggle_pause()
    window.toggle_pause()
    assert not window.worker.is_paused()
    for key in ("capture_fps", "inference_fps", "display_fps"):
        assert results.stat_text(key) != "paused"


def test_a_relative_pattern_is_remembered_whole(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "frames").mkdir()  # a pattern is remembered while it matches a file
    (tmp_path / "frames" / "0001.png").write_bytes(b"")
    assert _remembered_source("frames/*.png") == str(tmp_path / "frames" / "*.png")
    (tmp_path / "clip.mp4").write_bytes(b"")
    # Pasted with a trailing newline: it opens (the source strips it), so it is remembered.
    assert _remembered_source("clip.mp4\n") == str(tmp_path / "clip.mp4")
