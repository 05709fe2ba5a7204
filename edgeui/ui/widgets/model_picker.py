"""The model picker: the models in the models folder(s), what each is, and whether it loads.

Rows appear at once from the file listing; each model is then checked (loaded once, off the
GUI thread, one at a time so a folder of big models neither freezes the UI nor hogs the
CPU) and its task, input size, runtime and status fill in. Checks are cached by
(path, mtime, size) in ``edgeui.engine.catalog``. Clicking a row emits ``model_chosen``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from edgeui.engine import catalog
from edgeui.engine.catalog import ModelEntry
from edgeui.ui.widgets.style import ERROR, MUTED, icon

log = logging.getLogger(__name__)

COLUMNS = ("Name", "Task", "Runtime", "Input", "Size", "Status")
NAME, TASK, RUNTIME, INPUT, SIZE, STATUS = range(len(COLUMNS))
PATH_ROLE = Qt.ItemDataRole.UserRole
MODEL_FILTER = "Models (*.onnx *.tflite);;All files (*)"
_REPEAT_S = 0.6  # a double-click also clicks: one choice, not two


def _display_name(path: Path) -> str:
    from edgeui.engine.demo import is_demo_model

    return "Face detector (demo)" if is_demo_model(path) else path.stem


class _ScanSignals(QObject):
    listed = Signal(int, object)  # generation, list[Path]
    checked = Signal(int, object)  # generation, ModelEntry
    done = Signal(int)


class _ScanTask(QRunnable):
    """Lists the folders (plus extra files) and checks each model, newest generation only."""

    def __init__(self, picker: ModelPicker, generation: int, folders: list[Path],
                 files: list[Path], only: list[Path] | None) -> None:  # fmt: skip
        super().__init__()
        self.picker = picker
        self.signals = picker._signals
        self.generation = generation
        self.folders, self.files, self.only = folders, files, only

    def _stale(self) -> bool:
        return self.picker._generation != self.generation

    def run(self) -> None:
        try:
            if self.only is not None:
                paths = self.only
            else:
                listed = catalog.list_model_files(self.folders)
                known = {str(p) for p in listed}
                paths = listed + [f for f in self.files if str(f) not in known]
                self.signals.listed.emit(self.generation, paths)
            for path in paths:
                if self._stale():
                    break
                self.signals.checked.emit(self.generation, catalog.inspect_model_file(path))
        except RuntimeError:  # the picker was deleted while we ran: nobody is listening
            return
        except Exception:  # a bug must not leave the picker "scanning" forever
            log.exception("model scan failed")
        with contextlib.suppress(RuntimeError):
            self.signals.done.emit(self.generation)


class ModelPicker(QWidget):
    """Lists models and emits ``model_chosen(path)``; ``set_status`` shows load results."""

    model_chosen = Signal(str)
    demo_requested = Signal()
    folders_changed = Signal(list)  # list[str]: the folders the user added
    scan_finished = Signal()

    def __init__(self, folders: Sequence[str | Path] | None = None,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        if folders is None:
            from edgeui.config import default_models_folder

            folders = [default_models_folder()]
        self._folders: list[Path] = []
        for f in folders:
            if Path(f) not in self._folders:
                self._folders.append(Path(f))
        self._files: list[Path] = []  # models opened one by one, outside the folders
        self._items: dict[str, QTreeWidgetItem] = {}
        self._entries: dict[str, ModelEntry] = {}
        self._overrides: dict[str, tuple[bool, str]] = {}
        self._current = ""
        self._last_emit = ("", 0.0)
        self._generation = 0
        self._scanning = False
        self._outstanding = 0  # scan tasks started and not yet done
        self._signals = _ScanSignals(self)
        self._signals.listed.connect(self._on_listed)
        self._signals.checked.connect(self._on_checked)
        self._signals.done.connect(self._on_done)
        # One check at a time: loading models is CPU-heavy and the machine may have 2 cores.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.setAcceptDrops(True)
        self.setAccessibleName("Model picker")
        self._build()
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        buttons = QHBoxLayout()
        self.open_button = QPushButton(icon("open"), "Open…")
        self.open_button.setToolTip("Open a .onnx or .tflite model file (Ctrl+O)")
        self.open_button.clicked.connect(self.open_dialog)
        self.folder_button = QPushButton(icon("add"), "Add folder…")
        self.folder_button.setToolTip("List the models in another folder too")
        self.folder_button.clicked.connect(self.add_folder_dialog)
        self.refresh_button = QPushButton(icon("refresh"), "")
        self.refresh_button.setToolTip("Look for new or changed models")
        self.refresh_button.setAccessibleName("Refresh models")
        self.refresh_button.clicked.connect(self.refresh)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout.addLayout(buttons)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(False)
        self.tree.setAccessibleName("Models")
        header = self.tree.header()
        # A side panel is ~400 px wide: the name takes what is left (elided, full text in
        # the tooltip); task and input fit their contents. Runtime, size and status are in
        # the name's tooltip and its ok/error icon (the header shows the runtime in use):
        # shown as columns they squeezed the name to nothing at every screen width.
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for column in (RUNTIME, SIZE, STATUS):
            self.tree.setColumnHidden(column, True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.itemClicked.connect(self._on_item)
        self.tree.itemActivated.connect(self._on_item)
        layout.addWidget(self.tree, 1)

        # How to add a model, always in view: the first thing a new user asks.
        self.hint = QLabel()
        self.hint.setProperty("role", "muted")
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.hint)

        self.empty = QWidget()
        el = QVBoxLayout(self.empty)
        el.setContentsMargins(0, 0, 0, 0)
        self.empty_label = QLabel()
        self.empty_label.setProperty("role", "empty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.demo_button = QPushButton(icon("demo"), "Run the demo")
        self.demo_button.setProperty("accent", True)
        self.demo_button.setToolTip("Face detection on your camera, or on sample photos")
        self.demo_button.clicked.connect(self.demo_requested)
        el.addWidget(self.empty_label)
        el.addWidget(self.demo_button)
        layout.addWidget(self.empty)
        self._update_empty()

    # --- public API -------------------------------------------------------------------
    def folders(self) -> list[Path]:
        return list(self._folders)

    def entries(self) -> list[ModelEntry]:
        """The listed models in display order (checked or not yet)."""
        return [self._entries[self.tree.topLevelItem(i).data(NAME, PATH_ROLE)]
                for i in range(self.tree.topLevelItemCount())]  # fmt: skip

    def entry(self, path: str | Path) -> ModelEntry | None:
        return self._entries.get(str(path))

    def is_scanning(self) -> bool:
        return self._scanning

    def refresh(self) -> None:
        """List the folders again and check every model (cached ones return at once)."""
        self._start_scan(None)

    def add_folder(self, folder: str | Path) -> None:
        folder = Path(folder)
        if folder not in self._folders:
            self._folders.append(folder)
            self.folders_changed.emit([str(f) for f in self._folders[1:]])
        self.refresh()

    def add_model_path(self, path: str | Path) -> None:
        """Add a model file (or a folder of models) to the list and check it."""
        p = Path(path)
        if p.is_dir():
            self.add_folder(p)
            return
        key = str(p)
        if key not in self._items:
            if p not in self._files:
                self._files.append(p)
            self._add_row(p)
        self._start_scan([p])

    def set_current(self, path: str | Path) -> None:
        """Select the running model's row without emitting ``model_chosen``."""
        key = str(path)
        self._current = key
        if key and key not in self._items:
            self.add_model_path(key)
        item = self._items.get(key)
        self.tree.blockSignals(True)
        try:
            if item is None:
                self.tree.clearSelection()
            else:
                self.tree.setCurrentItem(item)
                self.tree.scrollToItem(item)
        finally:
            self.tree.blockSignals(False)
        for k, it in self._items.items():
            font = it.font(NAME)
            font.setBold(k == key)
            it.setFont(NAME, font)

    def set_status(self, path: str | Path, ok: bool, message: str) -> None:
        """Show what happened when the app loaded this model (e.g. the worker's error)."""
        key = str(path)
        self._overrides[key] = (ok, message)
        if key not in self._items:
            self.add_model_path(key)
        self._paint_status(key)

    def current(self) -> str:
        return self._current

    # --- dialogs ----------------------------------------------------------------------
    @Slot()
    def open_dialog(self) -> None:
        start = str(Path(self._current).parent) if self._current else str(self._folders[0])
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", start, MODEL_FILTER)
        if path:
            self.add_model_path(path)
            self._emit(path)

    @Slot()
    def add_folder_dialog(self) -> None:
        start = str(self._folders[0]) if self._folders else ""
        folder = QFileDialog.getExistingDirectory(self, "Add a models folder", start)
        if folder:
            self.add_folder(folder)

    # --- drag and drop ----------------------------------------------------------------
    @staticmethod
    def _dropped_models(event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        return [p for p in paths if Path(p).suffix.lower() in catalog.MODEL_SUFFIXES]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_models(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_models(event)
        for p in paths:
            self.add_model_path(p)
        if paths:
            event.acceptProposedAction()
            self._emit(paths[0])

    # --- internals --------------------------------------------------------------------
    def _start_scan(self, only: list[Path] | None) -> None:
        if only is None:
            self._generation += 1
        self._scanning = True
        self._outstanding += 1
        self._pool.start(_ScanTask(self, self._generation, list(self._folders),
                                   list(self._files), only))  # fmt: skip

    def _add_row(self, path: Path) -> QTreeWidgetItem:
        key = str(path)
        entry = catalog.quick_entry(path)
        self._entries[key] = entry
        item = QTreeWidgetItem()
        item.setData(NAME, PATH_ROLE, key)
        item.setText(NAME, _display_name(path))
        item.setToolTip(NAME, key)
        item.setIcon(NAME, icon("model"))
        item.setText(RUNTIME, entry.format)
        item.setText(SIZE, entry.size_text)
        item.setTextAlignment(SIZE, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setText(STATUS, "checking…")
        item.setForeground(STATUS, MUTED)
        self.tree.addTopLevelItem(item)
        self._items[key] = item
        self._update_empty()
        return item

    @Slot(int, object)
    def _on_listed(self, generation: int, paths: list[Path]) -> None:
        if generation != self._generation:
            return
        wanted = {str(p) for p in paths} | ({self._current} if self._current else set())
        for key in [k for k in self._items if k not in wanted]:
            item = self._items.pop(key)
            self._entries.pop(key, None)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        for p in paths:
            if str(p) not in self._items:
                self._add_row(p)
        self._update_empty()

    @Slot(int, object)
    def _on_checked(self, generation: int, entry: ModelEntry) -> None:
        item = self._items.get(entry.path)
        if item is None:
            return
        self._entries[entry.path] = entry
        item.setText(TASK, entry.task or "–")
        item.setText(RUNTIME, entry.runtime.split(" · ")[0] if entry.runtime else entry.format)
        item.setToolTip(RUNTIME, entry.runtime)
        item.setText(INPUT, entry.input_size or "–")
        item.setText(SIZE, entry.size_text)
        self._paint_status(entry.path)

    def _paint_status(self, key: str) -> None:
        item = self._items.get(key)
        entry = self._entries.get(key)
        if item is None or entry is None:
            return
        ok, message = self._overrides.get(key, (entry.status_ok, entry.message))
        if not entry.checked and key not in self._overrides:
            return
        # The name column carries the verdict too: visible however narrow the panel is.
        item.setIcon(NAME, icon("ok" if ok else "error"))
        details = " · ".join(t for t in (entry.task, entry.runtime, entry.input_size,
                                         entry.size_text) if t)  # fmt: skip
        verdict = "loads" if ok else message
        item.setToolTip(NAME, "\n".join(t for t in (key, details, verdict) if t))
        item.setIcon(STATUS, icon("ok" if ok else "error"))
        item.setText(STATUS, "loads" if ok else _short(message))
        item.setToolTip(STATUS, message)
        item.setForeground(STATUS, self.palette().text() if ok else ERROR)

    @Slot(int)
    def _on_done(self, generation: int) -> None:
        self._outstanding = max(0, self._outstanding - 1)
        if self._outstanding == 0:
            self._scanning = False
            self.scan_finished.emit()

    def _update_empty(self) -> None:
        has_rows = self.tree.topLevelItemCount() > 0
        self.tree.setVisible(has_rows)
        self.empty.setVisible(not has_rows)
        folder = self._folders[0] if self._folders else "your models folder"
        self.hint.setText(
            f"Add your own model: drop an .onnx or .tflite file on the window, press Ctrl+O, "
            f"or copy it into {folder}."
        )
        self.hint.setToolTip(str(folder))
        self.hint.setVisible(has_rows)
        self.empty_label.setText(
            "No models yet. Put .onnx or .tflite files in "
            f"{folder}, drop one on this window, or use Open…. "
            "Or start with the face-detection demo."
        )

    @Slot(QTreeWidgetItem, int)
    def _on_item(self, item: QTreeWidgetItem, column: int = 0) -> None:
        self._emit(str(item.data(NAME, PATH_ROLE)))

    def _emit(self, path: str) -> None:
        now = time.monotonic()
        last_path, last_t = self._last_emit
        if path == last_path and now - last_t < _REPEAT_S:
            return
        self._last_emit = (path, now)
        self.model_chosen.emit(path)

    def wait_idle(self, timeout_ms: int = 10000) -> bool:
        """Block until queued checks are done (shutdown and tests); True when idle."""
        return self._pool.waitForDone(timeout_ms)

    def closeEvent(self, event) -> None:
        self._generation += 1  # running checks stop after their current model
        self._outstanding -= self._pool.clear() or 0
        super().closeEvent(event)


def _short(message: str, limit: int = 60) -> str:
    """The status column's short form of an error sentence (the tooltip has it all)."""
    text = message.split(": ", 1)[-1] if ": " in message else message
    return text if len(text) <= limit else text[: limit - 1] + "…"
