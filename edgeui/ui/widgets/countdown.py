"""The live "Reconnecting in N s…" of a source waiting to try again.

A reconnecting event says how long the wait is when it is sent (``SourceEvent.retry_in``:
2, 4, 8... up to 30 s); shown as sent, a "16 s" that never changes looks hung on a kiosk.
:class:`RetryCountdown` counts it down in the GUI thread, one tick a second, each tick timed
to when the whole seconds change (so a late or early timer never skips or repeats a
number), and says "Reconnecting…" once the wait is over, until the next event.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

RECONNECTING = "Reconnecting…"


def reconnect_text(seconds_left: float | None) -> str:
    """"Reconnecting in 3 s…" (whole seconds, rounded up), "Reconnecting…" at 0."""
    if seconds_left is None or seconds_left <= 1e-3:
        return RECONNECTING
    return f"Reconnecting in {math.ceil(seconds_left - 1e-3):d} s…"


class RetryCountdown(QObject):
    """``start(retry_in)`` on a reconnecting event, ``stop()`` on any other; ``changed``
    carries the new text each time the number shown changes."""

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None, clock=time.monotonic) -> None:
        super().__init__(parent)
        self._clock = clock
        self._deadline: float | None = None
        self._text = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self, retry_in: float | None) -> str:
        """Count down ``retry_in`` seconds from now; the text to show now."""
        finite = retry_in is not None and math.isfinite(retry_in) and retry_in > 0
        self._deadline = self._clock() + float(retry_in or 0) if finite else None
        self._text = ""
        self._tick(emit=False)
        return self._text

    def stop(self) -> None:
        self._deadline = None
        self._timer.stop()

    def is_running(self) -> bool:
        return self._timer.isActive()

    def text(self) -> str:
        return self._text

    def _tick(self, emit: bool = True) -> None:
        left = None if self._deadline is None else self._deadline - self._clock()
        text = reconnect_text(left)
        if left is not None and left > 1e-3:
            # Wake when the number shown drops by one (a few ms after, never before).
            until_next = left - (math.ceil(left - 1e-3) - 1)
            self._timer.start(max(1, math.ceil(until_next * 1000) + 5))
        else:
            self._deadline = None
            self._timer.stop()
        if text != self._text:
            self._text = text
            if emit:
                self.changed.emit(text)
