"""A text widget for values that change several times a second.

``QLabel.setText`` calls ``updateGeometry()`` on every change, and the window's layouts are
recomputed from there up (word-wrapped labels laid out again, siblings resized and
repainted): at 4-7 updates a second that was about a sixth of the GUI thread's time, CPU
taken from inference. A :class:`LiveText`'s size depends only on its font and its number
of lines, never on its text, so a new text costs one repaint of the widget itself.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QTextOption
from PySide6.QtWidgets import QSizePolicy, QWidget


class LiveText(QWidget):
    """Up to ``lines`` lines of plain text: one line is elided, more are wrapped at words.

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

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            parent = self.parentWidget()
            painter.fillRect(self.rect(), (parent or self).palette().color(
                QPalette.ColorRole.Window))
            if not self._text:
                return
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            fm = painter.fontMetrics()
            if self._lines == 1:
                text = fm.elidedText(self._text.replace("\n", " "),
                                     Qt.TextElideMode.ElideRight, self.width())
                painter.drawText(QRectF(self.rect()),
                                 self._align | Qt.AlignmentFlag.AlignVCenter, text)
            else:  # wrapped at words; what does not fit is clipped (the tooltip has it all)
                option = QTextOption(self._align | Qt.AlignmentFlag.AlignTop)
                # A word wider than the line (a path, a URL) is broken inside, not cut off.
                option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
                painter.drawText(QRectF(self.rect()).adjusted(0, 1, 0, 0), self._text, option)
        finally:
            painter.end()
