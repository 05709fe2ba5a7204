"""One notification area for every error, warning and note the app shows.

Notifications stack newest first. Info and warnings dismiss themselves after a few seconds;
errors stay until the user closes them. The same message again raises a counter ("×3") on
the card already shown instead of stacking copies. ``notify`` may be called from any thread:
calls off the GUI thread are queued to it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from edgeui.ui.widgets.style import icon, repolish

log = logging.getLogger("edgeui")

LEVELS = ("info", "warning", "error")
AUTO_DISMISS_MS = {"info": 5000, "warning": 8000, "error": 0}  # 0: stays until closed
MAX_VISIBLE = 5
_LOG_LEVEL = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class Notification(QFrame):
    """One card: level icon, the sentence, a repeat counter and a close button."""

    closed = Signal(object)

    def __init__(self, message: str, level: str, parent: QWidget | None = None,
                 timeout_ms: int | None = None, *, topic: str = "",
                 short: str = "") -> None:  # fmt: skip
        super().__init__(parent)
        self.message = message
        self.level = level
        self.topic = topic  # what the card is about ("model"), to close them together
        self.count = 1
        self.timeout_ms = AUTO_DISMISS_MS.get(level, 0) if timeout_ms is None else timeout_ms
        self.setObjectName("notification")
        self.setProperty("level", level)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 4, 6)
        row.setSpacing(8)
        badge = QLabel()
        badge.setPixmap(icon(level).pixmap(22, 22))
        badge.setAlignment(Qt.AlignmentFlag.AlignTop)
        row.addWidget(badge)
        # A long sentence (a list of every decoder) is shown short; the whole in the tooltip.
        self.text = QLabel(short or message)
        if short and short != message:
            self.setToolTip(message)
            self.text.setToolTip(message)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.text, 1)
        self.counter = QLabel()
        self.counter.setObjectName("count")
        self.counter.hide()
        row.addWidget(self.counter, 0, Qt.AlignmentFlag.AlignTop)
        close = QToolButton()
        close.setIcon(icon("close"))
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss notification")
        close.clicked.connect(self.dismiss)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.dismiss)
        repolish(self)

    def bump(self) -> None:
        """The same message again: count it and restart the auto-dismiss clock."""
        self.count += 1
        self.counter.setText(f"×{self.count}")
        self.counter.show()
        self.start_timer()

    def start_timer(self) -> None:
        if self.timeout_ms > 0:
            self.timer.start(self.timeout_ms)

    @Slot()
    def dismiss(self) -> None:
        self.timer.stop()
        self.closed.emit(self)


class Notifier(QWidget):
    """The notification area. ``notify(message, level)`` with level info|warning|error."""

    changed = Signal()  # a card was added, bumped or removed
    _post = Signal(str, str, int, bool, str, str)  # from other threads, to the GUI thread

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Notifications")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._cards: list[Notification] = []
        self._post.connect(self._notify, Qt.ConnectionType.QueuedConnection)
        self.setVisible(False)

    def notify(self, message: str, level: str = "error", timeout_ms: int | None = None,
               *, logged: bool = False, topic: str = "", short: str = "") -> None:
        """Show a sentence to the user; repeats are counted, not stacked.

        ``timeout_ms``: how long the card stays (0: until closed); the level's default
        when None (info 5 s, warning 8 s, errors until closed). ``logged``: the sentence
        is in the log already (a forwarded log record): don't write it there again.
        ``topic``: what it is about ("model"), for :meth:`dismiss_topic`. ``short``: the
        card's text when the message is long (the whole message is its tooltip).
        """
        level = level if level in LEVELS else "error"
        message = str(message).strip() or "Unknown error."
        timeout = -1 if timeout_ms is None else max(0, int(timeout_ms))
        if QThread.currentThread() is not self.thread():
            self._post.emit(message, level, timeout, logged, topic, short)
            return
        self._notify(message, level, timeout, logged, topic, short)

    @Slot(str, str, int, bool, str, str)
    def _notify(self, message: str, level: str, timeout: int = -1, logged: bool = False,
                topic: str = "", short: str = "") -> None:
        if not logged:
            log.log(_LOG_LEVEL[level], "%s", message)
        for card in self._cards:
            if card.message == message and card.level == level:
                card.bump()
                self._move_to_top(card)
                self.changed.emit()
                return
        card = Notification(message, level, self, None if timeout < 0 else timeout,
                            topic=topic, short=short)
        card.closed.connect(self._remove)
        self._cards.insert(0, card)
        self._layout.insertWidget(0, card)
        card.start_timer()
        # Too many: drop the oldest non-error first, then the oldest error.
        while len(self._cards) > MAX_VISIBLE:
            victims = [c for c in reversed(self._cards) if c.level != "error"] or [self._cards[-1]]
            self._remove(victims[0], notify=False)
        self.setVisible(True)
        self.changed.emit()

    def _move_to_top(self, card: Notification) -> None:
        if self._cards[0] is card:
            return
        self._cards.remove(card)
        self._cards.insert(0, card)
        self._layout.removeWidget(card)
        self._layout.insertWidget(0, card)

    @Slot(object)
    def _remove(self, card: Notification, notify: bool = True) -> None:
        if card not in self._cards:
            return
        self._cards.remove(card)
        self._layout.removeWidget(card)
        card.hide()
        card.deleteLater()
        self.setVisible(bool(self._cards))
        if notify:
            self.changed.emit()

    def dismiss_topic(self, topic: str) -> int:
        """Close the cards about ``topic`` (a model that loads closes the cards of earlier
        model failures); the number closed."""
        doomed = [c for c in self._cards if topic and c.topic == topic]
        for card in doomed:
            self._remove(card, notify=False)
        if doomed:
            self.changed.emit()
        return len(doomed)

    def clear(self) -> None:
        """Dismiss everything."""
        for card in list(self._cards):
            self._remove(card, notify=False)
        self.changed.emit()

    # --- for tests and for the status bar --------------------------------------------
    def count(self) -> int:
        return len(self._cards)

    def messages(self) -> list[tuple[str, str, int]]:
        """(level, message, repeat count) of the visible cards, newest first."""
        return [(c.level, c.message, c.count) for c in self._cards]

    def cards(self) -> list[Notification]:
        return list(self._cards)

