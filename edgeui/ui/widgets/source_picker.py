"""The source picker: cameras by name, files, image folders, a stream URL, the demo source and
recent sources. Every choice is emitted as one URI string (``source_chosen``), the same text
``edgeui run --source`` takes. Cameras are enumerated off the GUI thread (probing devices
can take a while) and again on request.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from edgeui.config import dedup_entries, entry_key
from edgeui.engine.sources.base import is_synthetic
from edgeui.ui.widgets.style import ERROR, MUTED, icon

log = logging.getLogger(__name__)

SYNTHETIC = "synthetic"
URI_ROLE = Qt.ItemDataRole.UserRole
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://\S+$")
VIDEO_FILTER = (
    "Videos and images (*.mp4 *.avi *.mkv *.mov *.webm *.m4v *.mpg *.jpg *.jpeg *.png *.bmp "
    "*.webp *.tif *.tiff);;All files (*)"
)
_REPEAT_S = 0.6


def default_camera_lister() -> list[Any]:
    """The engine's camera list (empty when the pipeline's device module is missing)."""
    try:
        from edgeui.engine.sources.devices import list_cameras
    except ImportError:
        return []
    return list(list_cameras())


def camera_uri(camera: Any) -> str:
    from edgeui.engine.demo import camera_uri as _uri

    return _uri(camera)


def is_demo_photos(uri: str) -> bool:
    """The demo's sample-photo folder (shown in the Demo section, not as a recent folder)."""
    return Path(uri).name == "demo-photos"


def source_label(uri: str) -> str:
    """A short, readable name for a recent-source row."""
    if is_synthetic(uri):
        return "Demo pattern (synthetic)"
    if is_demo_photos(uri):
        return "Demo photos (face detection)"
    if _SCHEME.match(uri):
        return uri
    if uri.isdigit():
        return f"Camera {uri}"
    p = Path(uri)
    return f"{p.name}  —  {p.parent}" if p.name and str(p.parent) not in ("", ".") else uri


def source_icon_name(uri: str) -> str:
    if is_synthetic(uri) or is_demo_photos(uri):
        return "demo"
    if _SCHEME.match(uri):
        return "link"
    if uri.isdigit() or uri.startswith(("camera:", "/dev/video", "/dev/v4l")):
        return "camera"
    return "folder" if Path(uri).is_dir() else "file-video"


class _CameraSignals(QObject):
    listed = Signal(object)  # list of camera entries
    failed = Signal(str)


class _CameraTask(QRunnable):
    def __init__(self, lister: Callable[[], list[Any]], signals: _CameraSignals) -> None:
        super().__init__()
        self.lister, self.signals = lister, signals

    def run(self) -> None:
        try:
            cams = self.lister()
        except Exception as exc:  # enumeration trouble must not hide the other sources
            log.warning("camera enumeration failed: %s", exc)
            with contextlib.suppress(RuntimeError):
                self.signals.failed.emit(f"Could not list the cameras ({exc}).")
            cams = []
        with contextlib.suppress(RuntimeError):  # the picker may be gone
            self.signals.listed.emit(cams)


class SourcePicker(QWidget):
    """Emits ``source_chosen(uri)``; ``set_current(uri)`` marks the running source."""

    source_chosen = Signal(str)
    cameras_listed = Signal(int)  # how many cameras were found
    error = Signal(str)  # a sentence for the notifier

    def __init__(
        self,
        recent: Sequence[str] = (),
        camera_lister: Callable[[], list[Any]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._lister = camera_lister or default_camera_lister
        self._cameras: list[Any] = []
        self._recent: list[str] = dedup_entries([str(r) for r in recent])
        self._current = ""
        self._last_emit = ("", 0.0)
        self._listing = False
        self._signals = _CameraSignals(self)
        self._signals.listed.connect(self._on_cameras)
        self._signals.failed.connect(self.error)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.setAccessibleName("Source picker")
        self._build()
        self.refresh_cameras()  # results arrive through a queued signal, after _rebuild
        self._rebuild()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.list = QListWidget()
        self.list.setAccessibleName("Sources")
        self.list.setUniformItemSizes(True)
        self.list.itemClicked.connect(self._on_item)
        self.list.itemActivated.connect(self._on_item)
        layout.addWidget(self.list, 1)

        files = QHBoxLayout()
        self.file_button = QPushButton(icon("file-video"), "File…")
        self.file_button.setToolTip("Open a video or image file")
        self.file_button.clicked.connect(self.open_file_dialog)
        self.folder_button = QPushButton(icon("folder"), "Folder…")
        self.folder_button.setToolTip("Play a folder of images")
        self.folder_button.clicked.connect(self.open_folder_dialog)
        self.refresh_button = QPushButton(icon("refresh"), "")
        self.refresh_button.setToolTip("Look for cameras again")
        self.refresh_button.setAccessibleName("Refresh cameras")
        self.refresh_button.clicked.connect(self.refresh_cameras)
        files.addWidget(self.file_button)
        files.addWidget(self.folder_button)
        files.addStretch(1)
        files.addWidget(self.refresh_button)
        layout.addLayout(files)

        url_row = QHBoxLayout()
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("rtsp://camera.local/stream or http://…/video.mjpg")
        self.url_edit.setAccessibleName("Stream URL")
        self.url_edit.setClearButtonEnabled(True)
        self.url_edit.returnPressed.connect(self.open_url)
        self.url_edit.textChanged.connect(lambda _t: self.url_error.hide())
        self.url_button = QPushButton(icon("link"), "Open URL")
        self.url_button.clicked.connect(self.open_url)
        url_row.addWidget(self.url_edit, 1)
        url_row.addWidget(self.url_button)
        layout.addLayout(url_row)
        self.url_error = QLabel()
        self.url_error.setWordWrap(True)
        self.url_error.setStyleSheet(f"color: {ERROR.name()};")
        self.url_error.hide()
        layout.addWidget(self.url_error)

    # --- public API -------------------------------------------------------------------
    def set_current(self, uri: str) -> None:
        """Mark the running source (no signal); one not listed yet joins the list."""
        self._current = str(uri)
        if self._current and self._current not in self.uris():
            # One path in another letter case is the same entry on Windows and macOS (as
            # the saved list has it): that row takes the new spelling, no second row.
            key = entry_key(self._current)
            if any(entry_key(r) == key for r in self._recent):
                self._recent = dedup_entries([self._current if entry_key(r) == key else r
                                              for r in self._recent])  # fmt: skip
            else:
                self._recent.insert(0, self._current)
            self._rebuild()  # marks it
            return
        self._mark_current()

    def forget(self, uri: str) -> None:
        """Take a source off the list (one that failed before it ever worked)."""
        key = entry_key(str(uri))
        kept = [r for r in self._recent if entry_key(r) != key]
        if kept != self._recent:
            self._recent = kept
            self._rebuild()

    def current(self) -> str:
        return self._current

    def set_recent(self, recent: Sequence[str]) -> None:
        self._recent = dedup_entries([str(r) for r in recent])
        self._rebuild()

    def cameras(self) -> list[Any]:
        return list(self._cameras)

    def is_listing(self) -> bool:
        return self._listing

    @Slot()
    def refresh_cameras(self) -> None:
        """Enumerate the cameras again, off the GUI thread; ``cameras_listed`` tells when."""
        if self._listing:
            return
        self._listing = True
        self.refresh_button.setEnabled(False)
        self._pool.start(_CameraTask(self._lister, self._signals))

    def uris(self) -> list[str]:
        """Every choosable row's URI, top to bottom (tests)."""
        out = []
        for i in range(self.list.count()):
            uri = self.list.item(i).data(URI_ROLE)
            if uri:
                out.append(str(uri))
        return out

    def choose(self, uri: str) -> None:
        """Choose a source as if the user had (emits ``source_chosen``)."""
        self._emit(uri)

    # --- user actions -----------------------------------------------------------------
    @Slot()
    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or image", self._start_dir(),
                                              VIDEO_FILTER)  # fmt: skip
        if path:
            self._emit(path)

    @Slot()
    def open_folder_dialog(self) -> None:
        start = self._start_dir()
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", start)
        if folder:
            self._emit(folder)

    @Slot()
    def open_url(self) -> None:
        text = self.url_edit.text().strip()
        m = _SCHEME.match(text)
        if not m or m.group(1).lower() not in STREAM_SCHEMES:
            self.url_error.setText(
                "Enter a stream URL starting with rtsp://, http:// or https:// "
                "(for example rtsp://192.168.1.20:554/stream1)."
            )
            self.url_error.show()
            return
        self.url_error.hide()
        self._emit(text)

    # --- internals --------------------------------------------------------------------
    def _start_dir(self) -> str:
        for uri in [self._current, *self._recent]:
            p = Path(uri)
            if uri and not _SCHEME.match(uri) and p.exists():
                return str(p if p.is_dir() else p.parent)
        return str(Path.home())

    @Slot(object)
    def _on_cameras(self, cams: list[Any]) -> None:
        self._listing = False
        self.refresh_button.setEnabled(True)
        self._cameras = list(cams)
        self._rebuild()
        self.cameras_listed.emit(len(self._cameras))

    def _section(self, title: str) -> None:
        item = QListWidgetItem(title.upper())
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        item.setForeground(MUTED)
        font = item.font()
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        item.setFont(font)
        self.list.addItem(item)

    def _row(self, text: str, uri: str, icon_name: str, tip: str = "") -> None:
        item = QListWidgetItem(icon(icon_name), text)
        item.setData(URI_ROLE, uri)
        item.setToolTip(tip or uri)
        self.list.addItem(item)

    def _rebuild(self) -> None:
        """Rebuild the (short) list: only when cameras or recents change, never per frame."""
        self.list.clear()
        self._section("Cameras")
        if self._cameras:
            for cam in self._cameras:
                uri = camera_uri(cam)
                name = str(getattr(cam, "name", "") or uri)
                path = str(getattr(cam, "path", "") or "")
                self._row(name, uri, "camera", f"{name} ({path or uri})")
        else:
            placeholder = QListWidgetItem("Looking for cameras…" if self._listing else
                                          "No camera found")  # fmt: skip
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            placeholder.setForeground(MUTED)
            self.list.addItem(placeholder)
        self._section("Demo")
        for uri in dedup_entries([r for r in self._recent if is_demo_photos(r)]):
            self._row(source_label(uri), uri, "demo",
                      f"Sample photos as a live feed, for the face detector ({uri})")
        self._row("Demo (synthetic)", SYNTHETIC, "demo", "A moving test pattern with a clock")
        recent = [r for r in dedup_entries(self._recent)
                  if r != SYNTHETIC and not is_demo_photos(r)]  # fmt: skip
        if recent:
            self._section("Recent")
            for uri in recent:
                self._row(source_label(uri), uri, source_icon_name(uri))
        self._mark_current()

    def _mark_current(self) -> None:
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            uri = item.data(URI_ROLE)
            if not uri:
                continue
            is_current = uri == self._current
            font = item.font()
            font.setBold(is_current)
            item.setFont(font)
            # The running source carries a "play" mark as well as the selection colour.
            item.setIcon(icon("play" if is_current else source_icon_name(str(uri))))
            item.setStatusTip("running" if is_current else "")
            if is_current and first is None:
                first = item
        self.list.blockSignals(True)
        try:
            if first is not None:
                self.list.setCurrentItem(first)
            else:
                self.list.clearSelection()
        finally:
            self.list.blockSignals(False)

    @Slot(QListWidgetItem)
    def _on_item(self, item: QListWidgetItem) -> None:
        uri = item.data(URI_ROLE)
        if uri:
            self._emit(str(uri))

    def _emit(self, uri: str) -> None:
        now = time.monotonic()
        if self._last_emit[0] == uri and now - self._last_emit[1] < _REPEAT_S:
            return
        self._last_emit = (uri, now)
        self.source_chosen.emit(uri)

    def wait_idle(self, timeout_ms: int = 10000) -> bool:
        """Block until camera enumeration is done (shutdown and tests)."""
        return self._pool.waitForDone(timeout_ms)
