"""A text widget for values that change several times a second.

``QLabel.setText`` calls ``updateGeometry()`` on every change, and the window's layouts are
recomputed from there up (word-wrapped labels laid out again, siblings resized and
repainted): at 4-7 updates a second that was about a sixth of the GUI thread's time, CPU
taken from inference. A :class:`LiveText`'s size depends only on its font and its number
of lines, never on its text, so a new text costs one repaint of the widget itself.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QTextLayout, QTextOption
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget


class LiveText(QWidget):
    """Up to ``lines`` lines of plain text, wrapped at words; text beyond the last line is
    cut with "…" and shown whole in the tooltip.

    Styled like a QLabel through its ``role`` property (``LiveText[role="value"]`` in the
    theme); ``text()``/``setText()`` as on a QLabel.
    """

    def __init__(self, text: str = "", *, lines: int = 1, role: str | None = None,
                 align_right: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = str(text)
        self._lines = max(1, int(lines))
        self._align = Qt.AlignmentFlag.AlignRight if align_right else Qt.AlignmentFlag.AlignLeft
        if role:
            self.setProperty("role", role)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        # Opaque: it fills its rectangle with its parent's background itself, so a new
        # text repaints this widget alone, not every ancestor beneath it up to the window.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        # A QLabel's text is what a screen reader says; a painted widget must say it too.
        self.setAccessibleName(self._text)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # QLabel's name, on purpose
        text = str(text)
        if text != self._text:
            self._text = text
            self.setAccessibleName(text)
            self.update()  # a repaint of this widget only: no layout

    def _height(self) -> int:
        return self._lines * self.fontMetrics().lineSpacing() + 2

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("0" * 12), self._height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self._height())

    def visible_lines(self) -> list[str]:
        """The lines as painted: wrapped at words (inside a word wider than the line), the
        last one ending in "…" when the text needs more lines than the widget has."""
        return self._layout()[0]

    def is_elided(self) -> bool:
        return self._layout()[1]

    def _layout(self) -> tuple[list[str], bool]:
        fm, width = self.fontMetrics(), max(1, self.width())
        text = self._text
        if self._lines == 1:
            flat = text.replace("\n", " ")
            shown = fm.elidedText(flat, Qt.TextElideMode.ElideRight, width)
            return [shown], shown != flat
        text = text.replace("\n", "\u2028")  # QTextLayout's line break
        layout = QTextLayout(text, self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        layout.beginLayout()
        spans: list[tuple[int, int]] = []
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            spans.append((line.textStart(), line.textLength()))
        layout.endLayout()
        # Qt counts UTF-16 units: an emoji or another character beyond the BMP is two.
        units = text.encode("utf-16-le")

        def piece(start: int, length: int | None = None) -> str:
            end = None if length is None else 2 * (start + length)
            return units[2 * start:end].decode("utf-16-le")

        lines = [piece(a, n).rstrip("\u2028 ") for a, n in spans[: self._lines]]
        elided = len(spans) > self._lines
        if elided:  # the rest on the last line, cut with "…"
            rest = piece(spans[self._lines - 1][0]).replace("\u2028", " ")
            lines[-1] = fm.elidedText(rest, Qt.TextElideMode.ElideRight, width)
        return lines, elided

    def event(self, event: QEvent) -> bool:
        # Cut text shows whole in a tooltip (unless the owner set a tooltip of its own).
        if event.type() == QEvent.Type.ToolTip and not self.toolTip() and self.is_elided():
            QToolTip.showText(event.globalPos(), self._text, self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            parent = self.parentWidget()
            painter.fillRect(self.rect(), (parent or self).palette().color(
                QPalette.ColorRole.Window))
            if not self._text:
                return
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            lines = self.visible_lines()
            line_h = float(painter.fontMetrics().lineSpacing())
            top = (self.height() - line_h * len(lines)) / 2 if self._lines == 1 else 1.0
            for i, line in enumerate(lines):
                painter.drawText(QRectF(0, top + i * line_h, self.width(), line_h),
                                 self._align | Qt.AlignmentFlag.AlignVCenter, line)
        finally:
            painter.end()
