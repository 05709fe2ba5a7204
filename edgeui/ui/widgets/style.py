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


ICON_SIZES = (16, 22, 24, 32, 44, 64)


def percent(fraction: float, decimals: int = 0) -> str:
    """A share or score as the app writes it everywhere: "90%", "82.5%" (no space, as on
    the overlay's tags)."""
    return f"{float(fraction) * 100:.{int(decimals)}f}%"


def _svg_supported() -> bool:
    from PySide6.QtGui import QImageReader

    return b"svg" in {bytes(f) for f in QImageReader.supportedImageFormats()}


def _rendered_icon(path: str) -> QIcon:
    """An icon drawn with QtSvg at a few sizes: for Qt builds without the svg image plugin."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPainter, QPixmap
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(path)
    if not renderer.isValid():
        return QIcon()
    result = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        result.addPixmap(pixmap)
    return result


@cache
def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg`` (an empty icon when it is missing).

    Uses Qt's svg image plugin (pyside6-essentials ships it); without it the SVG is
    rendered with QtSvg into pixmaps, so icons never show as empty squares.
    """
    path = resource_path("icons", f"{name}.svg")
    if not path.exists():
        return QIcon()
    if _svg_supported():
        return QIcon(str(path))
    try:
        return _rendered_icon(str(path))
    except ImportError:  # no QtSvg either: text-only buttons still work
        return QIcon()


def stylesheet(name: str = "dark") -> str:
    """The QSS text of a theme ("" when the file is missing: Qt's default look)."""
    path = resource_path("theme", f"{name}.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def apply_theme(app: QApplication, name: str = "dark") -> None:
    """Set the theme's stylesheet, a matching dark palette and the window icon on the app.

    Fusion as the base style: it follows the stylesheet and palette the same way on every
    platform (the native styles ignore parts of both).
    """
    from PySide6.QtGui import QPalette

    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, BACKGROUND), (QPalette.ColorRole.Base, BACKGROUND),
        (QPalette.ColorRole.AlternateBase, PANEL), (QPalette.ColorRole.Button, PANEL),
        (QPalette.ColorRole.WindowText, TEXT), (QPalette.ColorRole.Text, TEXT),
        (QPalette.ColorRole.ButtonText, TEXT), (QPalette.ColorRole.ToolTipBase, PANEL),
        (QPalette.ColorRole.ToolTipText, TEXT), (QPalette.ColorRole.PlaceholderText, MUTED),
        (QPalette.ColorRole.Highlight, ACCENT), (QPalette.ColorRole.HighlightedText, TEXT),
    ):  # fmt: skip
        palette.setColor(role, colour)
    app.setPalette(palette)
    app.setStyleSheet(stylesheet(name))
    app.setWindowIcon(icon("edgeui"))


def repolish(widget: object) -> None:
    """Re-apply the stylesheet after a dynamic property (e.g. ``level``) changed."""
    style = widget.style()  # type: ignore[attr-defined]
    style.unpolish(widget)
    style.polish(widget)
