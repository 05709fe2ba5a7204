"""The finished look: theme and icons, the status header, the tabbed side panel, the
running source marked, model columns that fit, notifier timeouts (offscreen)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from edgeui.ui.widgets import style
from edgeui.ui.widgets.notifier import Notifier
from edgeui.ui.widgets.source_picker import SourcePicker
from edgeui.ui.widgets.status_header import StatusHeader, source_name


def _opaque_pixels(qicon, size: int = 24) -> int:
    image = qicon.pixmap(size, size).toImage()
    return sum(image.pixelColor(x, y).alpha() > 0 for x in range(size) for y in range(size))


@pytest.fixture
def themed(qapp):
    """The app with the theme applied, restored afterwards (other tests run unthemed)."""
    from edgeui.ui.app import configure_app

    old_sheet, old_palette, old_style = qapp.styleSheet(), qapp.palette(), qapp.style().name()
    configure_app(qapp)
    yield qapp
    qapp.setStyleSheet(old_sheet)
    qapp.setPalette(old_palette)
    qapp.setStyle(old_style)


def test_theme_is_applied_at_startup_with_visible_icons(themed) -> None:
    sheet = themed.styleSheet()
    assert "#0D1117" in sheet and "QToolButton" in sheet  # the dark theme, not Qt's default
    assert themed.palette().window().color() == style.BACKGROUND
    assert not themed.windowIcon().isNull()
    for name in ("open", "pause", "snapshot", "fullscreen", "inspect", "camera", "demo"):
        assert _opaque_pixels(style.icon(name)) > 20, name  # drawn, not an empty square


def test_icons_render_without_the_svg_image_plugin(qapp, monkeypatch) -> None:
    monkeypatch.setattr(style, "_svg_supported", lambda: False)
    style.icon.cache_clear()
    try:
        assert _opaque_pixels(style.icon("snapshot")) > 20
        assert style.icon("no-such-icon").isNull()
    finally:
        style.icon.cache_clear()


def test_status_header_names_model_runtime_source_and_fps(qtbot) -> None:
    header = StatusHeader()
    qtbot.addWidget(header)
    runtime = SimpleNamespace(describe=lambda: "LiteRT 2.3.0 · XNNPACK")
    header.set_model(SimpleNamespace(name="Face detector", task="detection", runtime=runtime))
    header.set_source("/home/me/.cache/edgeui/demo-photos")
    header.show_stats(SimpleNamespace(inference_fps=29.7, runtime="LiteRT 2.3.0 · XNNPACK",
                                      stages={"inference": SimpleNamespace(p50=1.34)}))
    assert header.title.text() == "Face detector"
    assert header.detail_text() == "detection  ·  LiteRT 2.3.0 · XNNPACK  ·  Demo photos"
    assert header.fps.text() == "30" and header.latency.text() == "inference 1.3 ms"
    normal = header.fps.sizeHint().height()
    header.set_large(True)
    assert header.is_large() and header.fps.sizeHint().height() > 1.5 * normal


def test_source_names_are_short_and_hide_credentials() -> None:
    assert source_name("0") == "Camera 0"
    assert source_name("synthetic") == "Demo pattern"
    assert source_name("rtsp://user:secret@cam.local:554/s1") == "cam.local:554"
    assert source_name("/videos/clip.mp4") == "clip.mp4"


def test_running_source_is_listed_marked_and_not_emitted(qtbot, tmp_path: Path) -> None:
    photos = tmp_path / "demo-photos"
    photos.mkdir()
    picker = SourcePicker(camera_lister=lambda: [])
    qtbot.addWidget(picker)
    qtbot.waitUntil(lambda: not picker.is_listing(), timeout=5000)
    seen: list[str] = []
    picker.source_chosen.connect(seen.append)
    picker.set_current(str(photos))
    assert seen == []
    assert picker.uris() == [str(photos), "synthetic"]  # in the Demo section, first
    item = picker.list.currentItem()
    assert item.data(Qt.ItemDataRole.UserRole) == str(photos)
    assert item.text() == "Demo photos (face detection)" and item.font().bold()
    # Another source takes the mark; the photos stay in the list.
    picker.set_current("synthetic")
    assert picker.list.currentItem().data(Qt.ItemDataRole.UserRole) == "synthetic"
    assert str(photos) in picker.uris()
    picker.wait_idle()


def test_notifier_timeout_per_message(qtbot) -> None:
    n = Notifier()
    qtbot.addWidget(n)
    n.notify("stays", "info", 0)
    n.notify("default", "info")
    stays, default = n.cards()[1], n.cards()[0]
    assert not stays.timer.isActive() and default.timer.isActive()


def test_window_tabs_result_on_top_and_booth_header(qtbot, tmp_path: Path, monkeypatch) -> None:
    from edgeui.config import Settings
    from edgeui.engine import demo
    from edgeui.ui.main_window import MainWindow
    from edgeui.ui.worker import InferenceWorker

    settings = Settings(snapshots_dir=str(tmp_path / "snaps"), path=tmp_path / "edgeui.toml")
    worker = InferenceWorker(source="synthetic")
    window = MainWindow(worker, settings)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    try:
        panel = window.side_panel
        assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == [
            "Performance", "Model", "Source"]
        for tab in ("Model", "Source", "Performance"):
            panel.show_tab(tab)
            assert panel.current_tab() == tab
            assert window.results.result_box.isVisible()  # the result never hides
        assert window.side_panel.width() >= 360 and window.view.width() >= 700
        # The demo photos keep their live-feed options however they are chosen.
        asked: list = []
        monkeypatch.setattr(worker, "set_source", lambda uri, options=None: asked.append(options))
        photos = tmp_path / "demo-photos"
        photos.mkdir()
        window.set_source(str(photos))
        assert asked[-1] == demo.demo_source_options(str(photos)) and asked[-1]["hold"] > 0
        assert window.header.detail_text().endswith("Demo photos")
        window.toggle_fullscreen()
        qtbot.waitUntil(window.header.is_large, timeout=3000)
        assert window.side_panel.isHidden() and window.toolbar.isHidden()
        window.leave_fullscreen()
        qtbot.waitUntil(lambda: not window.header.is_large(), timeout=3000)
        assert window.side_panel.isVisible()
    finally:
        worker.stop()
        window.model_picker.wait_idle()
        window.source_picker.wait_idle()


def test_model_list_fits_a_side_panel(qtbot, tmp_path: Path) -> None:
    from edgeui.ui.widgets import model_picker as mp
    from tests.helpers.modelgen import make_onnx_model

    (tmp_path / "a-model-with-a-rather-long-descriptive-name.onnx").write_bytes(b"junk")
    # A model that loads fills task, runtime and input with long texts.
    make_onnx_model(tmp_path / "classifier.onnx", input_shape=(1, 3, 224, 224))
    picker = mp.ModelPicker(folders=[tmp_path])
    qtbot.addWidget(picker)
    picker.resize(380, 500)
    picker.show()
    qtbot.waitUntil(lambda: picker.tree.topLevelItemCount() == 2, timeout=5000)
    qtbot.waitUntil(lambda: any(picker.tree.topLevelItem(i).text(mp.TASK) == "classification"
                                for i in range(2)), timeout=10000)
    visible = [mp.COLUMNS[c] for c in range(len(mp.COLUMNS)) if not picker.tree.isColumnHidden(c)]
    assert visible == ["Name", "Task", "Input"]
    assert picker.tree.columnWidth(mp.NAME) >= 100  # the name still reads
    assert picker.tree.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert not picker.hint.isHidden() and "Ctrl+O" in picker.hint.text()
    picker.wait_idle()
