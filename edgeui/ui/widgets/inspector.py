"""The model inspector: what ``edgeui inspect`` shows, as a readable table in a dialog.

First the summary (task, runtime, decoder), then every choice edgeui made about the model —
input size, colour order, resize, normalisation, decoder, labels, thresholds — with where it
came from (sidecar, metadata, shape heuristic, default) and why; then the input and output
tensors and the format's own metadata. The model is loaded off the GUI thread.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QRect,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from edgeui.engine.catalog import format_size
from edgeui.errors import EdgeUIError
from edgeui.ui.widgets.style import ERROR, MUTED, icon

COLUMNS = ("Field", "Value", "Source", "Why")
VALUE, WHY = 1, 3
WRAPPED = (VALUE, WHY)  # rows grow to show these columns' text in full

# Provenance keys that name the same choice twice: show one row each.
_ALIASES = {"decoder": "decoder_kind", "input_size": "size", "height": "size", "width": "size",
            "pad_value": "pad", "letterbox_align": "align", "conf_threshold": "conf",
            "iou_threshold": "iou", "thresholds": "conf"}  # fmt: skip
# Display order of the choices (anything else follows, alphabetically).
_ORDER = ("task", "decoder_kind", "decoder_params", "size", "layout", "color", "resize", "pad",
          "align", "interpolation", "mean", "std", "raw_pixels", "dtype", "labels",
          "label_offset", "conf", "iou", "top_k", "max_detections", "name")  # fmt: skip
_LABELS = {"decoder_kind": "decoder", "decoder_params": "decoder parameters", "size": "input size",
           "color": "colour order", "pad": "letterbox fill", "align": "letterbox placement",
           "raw_pixels": "raw pixels", "dtype": "input type", "label_offset": "label offset",
           "conf": "confidence threshold", "iou": "NMS IoU threshold", "top_k": "top-k",
           "max_detections": "max detections"}  # fmt: skip


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        if len(value) == 3 and len(set(map(str, value))) == 1:
            return _text(value[0]) + " (all channels)"
        return ", ".join(_text(v) for v in value) if value else "–"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items()) or "–"
    return str(value)


def choice_value(card: Mapping[str, Any], key: str) -> Any:
    """The card's value for a provenance key (the inspect dict spells some differently)."""
    pre = card.get("preprocess", {})
    thresholds = card.get("thresholds", {})
    labels = card.get("labels", {})
    decoder = card.get("decoder", {})
    special = {
        "task": card.get("task"),
        "name": card.get("name"),
        "decoder_kind": decoder.get("kind"),
        "decoder_params": decoder.get("params"),
        "size": f"{pre.get('width')}x{pre.get('height')}" if pre else None,
        "pad": pre.get("pad_value"),
        "align": pre.get("letterbox_align"),
        "labels": (f"{labels.get('count', 0)} names"
                   + (f" ({', '.join(labels['first'])}, …)" if labels.get("first") else "")
                   + (f" from {labels['file']}" if labels.get("file") else "")),
        "label_offset": labels.get("offset"),
        "conf": thresholds.get("conf"),
        "iou": thresholds.get("iou"),
        "top_k": thresholds.get("top_k"),
        "max_detections": thresholds.get("max_detections"),
    }  # fmt: skip
    if key in special:
        return special[key]
    return pre.get(key, thresholds.get(key))


def provenance_rows(info: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(field, value, source, why) for every choice in an inspect dict, in reading order."""
    card = info.get("card", {})
    prov: Mapping[str, Mapping[str, str]] = card.get("provenance", {})
    keys = [k for k in prov if k not in _ALIASES or _ALIASES[k] not in prov]
    keys.sort(key=lambda k: (_ORDER.index(k) if k in _ORDER else len(_ORDER), k))
    rows = []
    for key in keys:
        p = prov[key]
        rows.append((_LABELS.get(key, key.replace("_", " ")), _text(choice_value(card, key)),
                     str(p.get("source", "")), str(p.get("reason", ""))))  # fmt: skip
    return rows


def collect(model_path: str, options: Any = None) -> dict[str, Any]:
    """The inspect dict for a model (the demo model gets its demo options)."""
    from edgeui.engine.demo import demo_model_options, is_demo_model
    from edgeui.engine.inspect import inspect_model

    if options is None and is_demo_model(model_path):
        options = demo_model_options()
    return inspect_model(model_path, options)


class _WrapDelegate(QStyledItemDelegate):
    """Rows as tall as the wrapped text of the Value and Why columns at their width: the
    explanation is what the dialog is for, and a tree row is one line otherwise ("output
    [1, 3549, 85] matches the YOLOX 5+…" cut at the dialog's edge)."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self._tree = tree

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if index.column() not in WRAPPED or not text:
            return size
        width = self._tree.columnWidth(index.column()) - 10  # the cell's text margins
        if width <= 20:
            return size
        fm = option.fontMetrics
        rect = fm.boundingRect(QRect(0, 0, width, 1 << 20),
                               int(Qt.TextFlag.TextWordWrap), str(text))  # fmt: skip
        return QSize(size.width(), max(size.height(), rect.height() + 6))


class _Signals(QObject):
    loaded = Signal(object)
    failed = Signal(str)


class _LoadTask(QRunnable):
    def __init__(self, path: str, options: Any, signals: _Signals) -> None:
        super().__init__()
        self.path, self.options, self.signals = path, options, signals

    def run(self) -> None:
        try:
            info = collect(self.path, self.options)
        except EdgeUIError as exc:
            with contextlib.suppress(RuntimeError):
                self.signals.failed.emit(str(exc))
            return
        except Exception as exc:  # a runtime bug: still a sentence, never a crash
            with contextlib.suppress(RuntimeError):
                self.signals.failed.emit(f"{Path(self.path).name}: cannot be inspected ({exc}).")
            return
        with contextlib.suppress(RuntimeError):
            self.signals.loaded.emit(info)


class InspectorDialog(QDialog):
    """``InspectorDialog(model_path)``: shows the model card and why each choice was made."""

    loaded = Signal(object)  # the inspect dict, once shown
    failed = Signal(str)

    def __init__(self, model_path: str, parent: QWidget | None = None, options: Any = None) -> None:
        super().__init__(parent)
        self.model_path = str(model_path)
        self.info: dict[str, Any] | None = None
        self.error: str | None = None
        self.setWindowTitle(f"Model inspector — {Path(self.model_path).name}")
        self.setWindowIcon(icon("inspect"))
        self.resize(900, 640)
        layout = QVBoxLayout(self)
        self.heading = QLabel(Path(self.model_path).name)
        self.heading.setProperty("role", "heading")
        self.status = QLabel("Loading the model…")
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.heading)
        layout.addWidget(self.status)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setAlternatingRowColors(True)
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 220)
        # Long reasons wrap and their rows grow, again whenever a column changes width.
        self.tree.setItemDelegate(_WrapDelegate(self.tree))
        header.sectionResized.connect(self._relayout)
        layout.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton("Copy as JSON")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_json)
        close = QPushButton(icon("close"), "Close")
        close.clicked.connect(self.accept)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        self._signals = _Signals(self)
        self._signals.loaded.connect(self._show)
        self._signals.failed.connect(self._fail)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.start(_LoadTask(self.model_path, options, self._signals))

    @Slot()
    def _relayout(self) -> None:
        self.tree.doItemsLayout()  # the rows' heights follow the new column widths

    # --- results ----------------------------------------------------------------------
    @Slot(object)
    def _show(self, info: dict[str, Any]) -> None:
        self.info = info
        card = info.get("card", {})
        self.heading.setText(f"{card.get('name') or Path(self.model_path).stem}")
        file = info.get("file", {})
        size = file.get("size_bytes")
        self.status.setText(
            f"{card.get('task', '?')} · {info.get('runtime', '')} · "
            f"{file.get('format', '')}{' · ' + format_size(size) if size else ''} · "
            f"{self.model_path}"
        )
        self.tree.clear()
        summary = self._section("Summary")
        self._row(summary, "task", card.get("task"))
        self._row(summary, "runtime", info.get("runtime"))
        self._row(summary, "decoder", (card.get("decoder") or {}).get("kind"))
        self._row(summary, "file", self.model_path)
        if card.get("sidecar"):
            self._row(summary, "sidecar", card.get("sidecar"))
        for w in info.get("runtime_warnings") or []:
            item = self._row(summary, "warning", w)
            item.setForeground(1, ERROR)

        why = self._section("Choices and why")
        for field, value, source, reason in provenance_rows(info):
            item = QTreeWidgetItem(why, [field, value, source, reason])
            item.setToolTip(1, value)
            item.setToolTip(3, reason)

        tensors = self._section("Tensors")
        for kind in ("inputs", "outputs"):
            for t in info.get(kind, []):
                shape = "x".join("?" if d is None else str(d) for d in t.get("shape", []))
                quant = t.get("quantization")
                value = f"[{shape}] {t.get('dtype', '')}"
                if quant:
                    value += f" quant(scale={quant['scale']:.6g}, zero_point={quant['zero_point']})"
                self._row(tensors, f"{kind[:-1]} {t.get('name', '')}", value)

        meta = self._section("Format metadata")
        self._tree_rows(meta, info.get("format_info") or {})
        meta.setExpanded(False)
        self.copy_button.setEnabled(True)
        self.loaded.emit(info)

    @Slot(str)
    def _fail(self, message: str) -> None:
        self.error = message
        self.status.setText(message)
        self.status.setStyleSheet(f"color: {ERROR.name()};")
        self.failed.emit(message)

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        item.setExpanded(True)
        return item

    def _row(self, parent: QTreeWidgetItem, field: str, value: Any) -> QTreeWidgetItem:
        item = QTreeWidgetItem(parent, [field, _text(value)])
        item.setToolTip(1, _text(value))
        return item

    def _tree_rows(self, parent: QTreeWidgetItem, data: Any) -> None:
        if isinstance(data, Mapping):
            for k, v in data.items():
                if isinstance(v, Mapping) and v:
                    child = QTreeWidgetItem(parent, [str(k)])
                    self._tree_rows(child, v)
                else:
                    self._row(parent, str(k), v)
        if not data:
            item = QTreeWidgetItem(parent, ["(none)"])
            item.setForeground(0, MUTED)

    # --- actions ----------------------------------------------------------------------
    @Slot()
    def copy_json(self) -> None:
        if self.info is not None:
            QGuiApplication.clipboard().setText(json.dumps(self.info, indent=2, default=str))

    def rows(self) -> list[tuple[str, ...]]:
        """Every row as column texts, depth-first (tests)."""
        out: list[tuple[str, ...]] = []

        def walk(item: QTreeWidgetItem) -> None:
            out.append(tuple(item.text(c) for c in range(len(COLUMNS))))
            for i in range(item.childCount()):
                walk(item.child(i))

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i))
        return out

    def done(self, result: int) -> None:
        self._pool.waitForDone(10000)  # never leave a loading thread behind the dialog
        super().done(result)
