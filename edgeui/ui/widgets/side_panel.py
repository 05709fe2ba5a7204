"""The side panel: the result always on top, then tabs for Performance, Model and Source.

At 1280x800 a single scrolling column cut everything off; tabs give each part the full
height, while what the model says about the current frame stays in view whatever tab is
open. Works with the real results panel (which hands over its ``result_box`` and
``stats_box``) and with the stand-ins the window uses when a widget module is missing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from edgeui.ui.widgets.style import icon

TABS = ("Performance", "Model", "Source")
MIN_WIDTH = 360


def _scrolling(widget: QWidget) -> QScrollArea:
    """``widget`` in a vertical-only scroll area (never a horizontal scroll bar)."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


class SidePanel(QWidget):
    """Result on top (always visible); Performance / Model / Source tabs below it."""

    def __init__(self, results: Any, model_picker: QWidget, source_picker: QWidget,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.setMinimumWidth(MIN_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        result_box = getattr(results, "result_box", None)
        stats_box = getattr(results, "stats_box", None)
        if result_box is not None and stats_box is not None:
            layout.addWidget(result_box)
            if isinstance(stats_box, QGroupBox):
                stats_box.setTitle("")  # the tab names it
            performance = QWidget()
            column = QVBoxLayout(performance)
            column.setContentsMargins(0, 4, 0, 0)
            column.addWidget(stats_box)
            column.addStretch(1)  # rows stay together at the top on a tall screen
            results.hide()  # its two sections now live here; it keeps rendering them
        else:
            performance = results
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(False)
        for widget, name, icon_name in (
            (_scrolling(performance), TABS[0], "info"),
            (model_picker, TABS[1], "model"),
            (source_picker, TABS[2], "camera"),
        ):
            self.tabs.addTab(widget, icon(icon_name), name)
        layout.addWidget(self.tabs, 1)

    def show_tab(self, name: str) -> None:
        """Bring a tab to the front by name ("Performance", "Model", "Source")."""
        if name in TABS:
            self.tabs.setCurrentIndex(TABS.index(name))

    def current_tab(self) -> str:
        return TABS[self.tabs.currentIndex()]
