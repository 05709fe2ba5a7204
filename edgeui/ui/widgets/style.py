"""The app's look: SVG icons and the dark QSS theme from ``resources/``, and the colours the
custom-painted widgets (bars, latency chart) share with the stylesheet."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication

from edgeui.resources import resource_path

# Keep in step with resources/theme/dark.qss.
BACKGROUND = QColor("#0D1117")
PANEL = QColor("#161B22")
BORDER = QColor("#30363D")
TEXT = QColor("#E6EDF3")
MUTED = QColor("#9DA7B3")
ACCENT = QColor("#2F81F7")
OK = QColor("#3FB950")
WARNING = QColor("#D29922")
ERROR = QColor("#F85149")
SERIES = (QColor("#58A6FF"), QColor("#F2CC60"), QColor("#56D364"), QColor("#FF7B72"))


@cache
def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg`` (an empty icon when it is missing)."""
    path = resource_path("icons", f"{name}.svg")
    return QIcon(str(path)) if path.exists() else QIcon()


def stylesheet(name: str = "dark") -> str:
    """The QSS text of a theme ("" when the file is missing: Qt's default look)."""
    path = resource_path("theme", f"{name}.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def apply_theme(app: QApplication, name: str = "dark") -> None:
    """Set the theme's stylesheet and the window icon on the application."""
    app.setStyleSheet(stylesheet(name))
    app.setWindowIcon(icon("edgeui"))


def repolish(widget: object) -> None:
    """Re-apply the stylesheet after a dynamic property (e.g. ``level``) changed."""
    style = widget.style()  # type: ignore[attr-defined]
    style.unpolish(widget)
    style.polish(widget)
