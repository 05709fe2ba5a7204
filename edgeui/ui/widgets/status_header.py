"""The header above the live view: which model, on what, how fast — readable from 2 m.

One line for the model's name and a muted line for task, runtime + provider actually used
and the source; the inference fps big on the right with the inference latency under it.
``set_large(True)`` (fullscreen / kiosk) roughly doubles every font for a booth screen.
Text changes only when the value shown changes (stats arrive a few times a second).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from edgeui.engine.sources.base import credentials_end, is_synthetic, redact
from edgeui.ui.widgets.live_text import LiveText
from edgeui.ui.widgets.style import ACCENT, MUTED, TEXT

# Point sizes: (normal, large). Large is for fullscreen at a booth: ~2x for 2 m viewing.
TITLE_PT = (15.0, 28.0)
DETAIL_PT = (10.5, 17.0)
FPS_PT = (24.0, 46.0)
# A model name too long for the header's width is set smaller, down to this, before it is
# cut with "…" (fullscreen at 1280x800 with the side panel: "mobilenet_v2_1.0_224_qu…").
# Fullscreen goes as small as the window's normal size: the whole name at 15 pt beats
# "yolox_nano_coco80_person_forklift_…" at 20 pt.
TITLE_MIN_PT = (12.0, 15.0)
# A host as a URL names it: a name or an [IPv6] address, and a port.
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(?::\d+)?")


def stream_host(uri: str) -> str:
    """The host (and port) of a stream URL, never its user name or password, even one
    holding '/', '?', '#', '@' or a space that a URL should have percent-encoded
    (``rtsp://admin:ab/cd@cam/live`` is "cam", not "admin:ab"); "" when there is none."""
    rest = redact(str(uri)).split("://", 1)[-1]
    # The credentials end where redact() ends them (an '@' in a path or query is not theirs).
    host = re.split(r"[/?#]", rest[credentials_end(rest) + 1:], maxsplit=1)[0]
    return host if _HOST.fullmatch(host) else ""


def source_name(uri: str) -> str:
    """A short name for the source line ("Demo photos", "Camera 0", a file name...)."""
    if not uri:
        return ""
    if is_synthetic(uri):
        return "Demo pattern"
    if Path(uri).name == "demo-photos":
        return "Demo photos"
    if uri.isdigit():
        return f"Camera {uri}"
    if "://" in uri:  # the host only: never a password on a booth screen
        scheme = uri.split("://", 1)[0]
        return stream_host(uri) or (f"{scheme} stream" if scheme.isalnum() else "stream")
    return Path(uri).name or uri


class StatusHeader(QFrame):
    """Model name, task · runtime · provider · source, and big fps; ``set_model``,
    ``show_stats`` and ``set_source`` feed it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusHeader")
        self.setAccessibleName("Status")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._large = False
        self._model = ""
        self._task = ""
        self._runtime = ""
        self._source = ""
        self._paused = False
        self._stalled = ""  # why no frames come from a live source ("" while they do)
        self._still = False  # the source is one still image (no frame rate of its own)
        self._item = ""  # the picture a slideshow shows now ("" for other sources)
        self._title_pt = TITLE_PT[0]  # the title's size now (smaller for a long name)

        # One line each, ending in "…" when too narrow (the tooltip has the whole text).
        self.title = LiveText("No model running")
        self.title.setObjectName("headerTitle")
        self.detail = LiveText("Open a model with Ctrl+O, or drop an .onnx / .tflite file here.")
        self.detail.setObjectName("headerDetail")
        self.fps = QLabel("–")
        self.fps.setObjectName("headerFps")
        self.fps.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.fps_unit = QLabel("fps")
        self.latency = QLabel("")
        self.latency.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        left = QVBoxLayout()
        left.setSpacing(0)
        left.addWidget(self.title)
        left.addWidget(self.detail)
        fps_row = QHBoxLayout()
        fps_row.setSpacing(6)
        fps_row.addStretch(1)  # the number and its unit at the right edge, together
        fps_row.addWidget(self.fps)
        fps_row.addWidget(self.fps_unit, 0, Qt.AlignmentFlag.AlignBottom)
        right = QVBoxLayout()
        right.setSpacing(0)
        right.addLayout(fps_row)
        right.addWidget(self.latency)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 6, 14, 6)
        row.addLayout(left, 1)
        row.addLayout(right, 0)
        self._apply_fonts()

    # --- input ------------------------------------------------------------------------
    def set_model(self, model: Any) -> None:
        """The model the worker now runs (name, task, runtime description)."""
        self._model = str(getattr(model, "name", "") or "")
        self._task = str(getattr(model, "task", "") or "")
        runtime = getattr(model, "runtime", None)
        try:
            self._runtime = str(runtime.describe()) if runtime is not None else ""
        except Exception:  # a stand-in model without a real runtime: the stats fill it in
            self._runtime = ""
        self._set(self.title, self._model or "Model loaded")
        self._fit_title()
        self._show_detail()

    def set_source(self, uri: str, still: bool = False) -> None:
        """The chosen source; ``still``: a single still image (re-sent at a fixed rate, so
        the header says "still image" rather than pass that rate off as the picture's)."""
        self._source = source_name(str(uri))
        if bool(still) != self._still:
            self._still = bool(still)
            self._fix_fps_width()  # a relayout once per source change, not per rate
        self._item = ""
        self._show_detail()
        # Big, where the rate would be: "still image" (the inference ms stays under it).
        self._set(self.fps, "still" if self._still else "–")
        self._set(self.fps_unit, "image" if self._still else "fps")

    def set_source_item(self, path: str) -> None:
        """The picture a folder slideshow shows now (frames carry their own file): the
        header names it, and the folder after it."""
        item = Path(str(path)).name if path else ""
        if item != self._item:
            self._item = item
            self._show_detail()

    def set_paused(self, paused: bool) -> None:
        """Paused: no live rate to show (the last one would be a lie), just the state."""
        self._paused = paused
        if paused:
            self._set(self.fps, "–")
            self._set(self.latency, "paused")
        elif self._stalled:  # resumed while the source is still gone: say why again
            self._set(self.latency, self._stalled)

    def set_stalled(self, why: str) -> None:
        """The source stopped delivering ("no signal", "reconnecting"...): its last rate
        would be a lie on a kiosk screen, so the header says why instead; "" when frames
        come again (the next stats fill the numbers in)."""
        self._stalled = str(why or "")
        if self._stalled:
            self._set(self.fps, "–")
            self._set(self.latency, "paused" if self._paused else self._stalled)

    def show_stats(self, stats: Any) -> None:
        """Live numbers: inference fps, inference p50 and the runtime actually used."""
        if self._paused or self._stalled:
            return
        runtime = str(getattr(stats, "runtime", "") or "")
        if self._still:  # the rate is the replay's, not the picture's: "still image"
            self._set(self.fps, "still")
        # Without a model nothing is inferred; the preview runs at the capture rate.
        fps = float(getattr(stats, "inference_fps" if runtime else "capture_fps", 0.0) or 0.0)
        if not self._still:
            self._set(self.fps, f"{fps:.0f}" if fps >= 10 else f"{fps:.1f}")
        stage = (getattr(stats, "stages", None) or {}).get("inference")
        p50 = getattr(stage, "p50", None)
        if not runtime:  # no model runs: the frames are a preview, nothing is inferred
            self._set(self.latency, "preview · no model")
        else:
            self._set(self.latency, f"inference {p50:.1f} ms" if p50 is not None else "")
        if runtime and runtime != self._runtime:
            self._runtime = runtime
            self._show_detail()

    def set_large(self, large: bool) -> None:
        """Booth mode: about twice the font size (fullscreen and kiosk)."""
        if bool(large) != self._large:
            self._large = bool(large)
            self._apply_fonts()

    def is_large(self) -> bool:
        return self._large

    def detail_text(self) -> str:
        return self.detail.text()

    # --- internals --------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_title()
        self._show_detail()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_title()
        self._show_detail()

    def _room(self, label: LiveText) -> int:
        """The width ``label`` has to show its text in (0: not laid out yet, no limit)."""
        return label.width() if label.isVisible() and label.width() > 40 else 0

    def _fit_title(self) -> None:
        """The model's name whole if it fits at any size down to TITLE_MIN_PT: the model and
        the source are what a header is for, the rest gives way first."""
        i = 1 if self._large else 0
        pt, room, text = TITLE_PT[i], self._room(self.title), self.title.text()
        if room and text:
            font = QFont(self.title.font())
            font.setPointSizeF(pt)
            need = QFontMetricsF(font).horizontalAdvance(text) + 4
            if need > room:  # the advance grows with the size, near enough in proportion
                pt = max(TITLE_MIN_PT[i], int(pt * room / need * 0.97 * 2) / 2)
        if pt != self._title_pt:
            self._title_pt = pt
            self._style_title()

    def _style_title(self) -> None:
        self.title.setStyleSheet(f"font-size: {self._title_pt}pt; font-weight: bold; "
                                 f"color: {TEXT.name()};")  # fmt: skip

    def _show_detail(self) -> None:
        source = f"{self._item} in {self._source}" if self._item and self._source \
            else self._item or self._source
        parts = [p for p in (self._task, self._runtime, source) if p]
        if not parts:
            return
        self.detail.setToolTip("\n".join(parts))
        # Too narrow for all of it: the runtime's details give way first ("auto threads",
        # then the provider, then the runtime), never the source at the end of the line.
        runtime = self._runtime.split(" · ") if self._runtime else []
        room, fm = self._room(self.detail), self.detail.fontMetrics()
        for keep in range(len(runtime), -1, -1):
            text = "  ·  ".join(p for p in (self._task, " · ".join(runtime[:keep]), source)
                                if p)  # fmt: skip
            if not room or fm.horizontalAdvance(text) <= room:
                break
        self._set(self.detail, text)

    @staticmethod
    def _set(label: QLabel | LiveText, text: str) -> None:
        if label.text() != text:  # no relayout when nothing changed
            label.setText(text)

    @staticmethod
    def _fix_width(label: QLabel, widest: str) -> None:
        label.ensurePolished()
        label.setFixedSize(label.fontMetrics().horizontalAdvance(widest) + 4,
                           label.sizeHint().height())

    def _fix_fps_width(self) -> None:
        """Room for the widest value the big number can show now: a rate, or "still" (a
        still image's rate never shows: its room goes to the model's name)."""
        self._fix_width(self.fps, "still" if self._still else "0000")

    def _apply_fonts(self) -> None:
        # Sizes through per-label style sheets: the app's QSS sets a font-size on every
        # widget, and a style sheet font wins over QWidget.setFont.
        i = 1 if self._large else 0
        muted, accent = MUTED.name(), ACCENT.lighter(130).name()
        self._title_pt = TITLE_PT[i]
        self._style_title()
        self.fps.setStyleSheet(f"font-size: {FPS_PT[i]}pt; font-weight: bold; color: {accent};")
        for label in (self.detail, self.fps_unit, self.latency):
            label.setStyleSheet(f"font-size: {DETAIL_PT[i]}pt; color: {muted};")
        # A fixed size, room for the widest value: Qt re-lays out the window for a label
        # whose text changes (several times a second, with QMainWindow's animations: CPU
        # taken from inference) unless its size is fixed in both directions.
        self._fix_width(self.latency, "inference 0000.0 ms")
        self._fix_fps_width()
        self.detail.ensurePolished()
        self._fit_title()
        self._show_detail()
