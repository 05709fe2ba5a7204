"""Small pieces the main window assembles: labelled sliders, the snapshot writer, the
state text for source events, and stand-ins for side widgets that are not installed."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from edgeui.ui.widgets.video_view import VideoView

TOUCH_PX = 44  # the smallest comfortable touch target (Apple HIG / Material: 44-48 px)


class LabeledSlider(QWidget):
    """A 0..1 slider with its name and value, big enough for a finger."""

    value_changed = Signal(float)

    def __init__(self, name: str, value: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setMinimumHeight(TOUCH_PX)
        self.slider.setMinimumWidth(100)
        self.slider.setMaximumWidth(180)  # a wide toolbar must not stretch it across the screen
        self.slider.setToolTip(name)
        self.label = QLabel()
        # Room for the widest value ("1.00"), so the text never gets cut or jumps.
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance(f"{name} 0.00") + 8)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.slider)
        layout.addStretch(1)  # in a wide toolbar the slider stays beside its name
        self.slider.valueChanged.connect(self._changed)
        self.set_value(value)

    def value(self) -> float:
        return self.slider.value() / 100.0

    def set_value(self, value: float, *, emit: bool = False) -> None:
        blocked = self.slider.blockSignals(not emit)
        self.slider.setValue(round(max(0.0, min(1.0, float(value))) * 100))
        self.slider.blockSignals(blocked)
        self._show()

    def _changed(self, _: int) -> None:
        self._show()
        self.value_changed.emit(self.value())

    def _show(self) -> None:
        self.label.setText(f"{self._name} {self.value():.2f}")


# A folder of photos plays like a camera: frames at this rate... A held picture is the same
# frame each time, so 10 a second keeps a slider change on screen within 0.1 s while costing
# a third of the CPU of 30 (yolox_nano on a still photo, 10 s: 3.2 s of CPU against 9.6).
SLIDESHOW_FPS = 10.0
SLIDESHOW_HOLD_S = 3.0  # ...each photo held this long, then the next, looping


def source_options(uri: str, camera: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The app's open options for a source, whoever picks it (unlike the CLI's, which run once).

    A folder or glob is a looping slideshow and a single image is held and re-sent (so
    slider changes show at once), each picture exactly as the file has it — never panned
    or zoomed, so the app's results match `edgeui infer` on the same file; a video file
    loops (kiosk and demo use); a camera is asked for ``camera`` (the size, rate and pixel
    format given on the command line), streams and the test pattern need nothing. Only the
    built-in demo photos drift slowly, to look live.
    """
    uri = str(uri)
    try:
        from edgeui.engine import demo

        options = demo.demo_source_options(uri)
        if options:
            return options
    except ImportError:
        pass
    try:
        from edgeui.engine.sources import source_kind

        kind = source_kind(uri)
    except Exception:  # a bad URI: open_source says why, in the notifier
        return {}
    if kind == "images":
        return {"fps": SLIDESHOW_FPS, "hold": SLIDESHOW_HOLD_S, "loop": True}
    if kind == "video":
        return {"loop": True}
    if kind == "camera":
        return dict(camera or {})
    return {}


# Which threshold slider acts on which task: conf filters detections and poses, IoU is
# the detection NMS overlap, the mask opacity only tints a segmentation map.
SLIDER_TASKS: dict[str, frozenset[str]] = {
    "conf": frozenset({"detection", "pose"}),
    "iou": frozenset({"detection"}),
    "mask": frozenset({"segmentation"}),
}


def sliders_for(task: str | None) -> dict[str, bool]:
    """Which sliders to show for a model's task (none without a model)."""
    return {name: bool(task) and task in tasks for name, tasks in SLIDER_TASKS.items()}


def state_text(event: Any) -> str | None:
    """What the live view says for a SourceEvent (None: nothing, the picture speaks)."""
    state = getattr(event, "state", "")
    retry_in = getattr(event, "retry_in", None)
    if state == "live":
        return None
    if state == "connecting":
        return "Connecting…"
    if state == "reconnecting":
        return f"Reconnecting in {retry_in:.0f} s…" if retry_in else "Reconnecting…"
    if state == "disconnected":
        return "No signal"
    if state == "ended":
        return "End of input"
    if state == "failed":
        return "No signal — choose another source"
    return None


def save_snapshot(view: VideoView, frame_result: Any, folder: str | Path) -> tuple[Path, Path]:
    """Write the view (frame + overlay at source resolution) as PNG and the result as JSON.

    Returns (png, json). Names carry the time and frame id so snapshots never overwrite.
    """
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    frame = getattr(frame_result, "frame", None)
    frame_id = getattr(frame, "frame_id", 0)
    stem = time.strftime("edgeui-%Y%m%d-%H%M%S") + f"-{frame_id}"
    png = folder / f"{stem}.png"
    n = 1
    while png.exists():  # two snapshots within one second of the same frame
        png = folder / f"{stem}-{n}.png"
        n += 1
    image = view.render_snapshot()
    if not image.save(str(png), "PNG"):
        from edgeui.errors import EdgeUIError

        raise EdgeUIError(f"Could not write the snapshot {png}; check the snapshots folder.")
    data: dict[str, Any] = {
        "model": getattr(frame_result, "model_name", ""),
        "runtime": getattr(frame_result, "runtime", ""),
        "frame_id": frame_id,
        "timestamp": getattr(frame, "timestamp", None),
        "source": getattr(frame, "source", ""),
    }
    result = getattr(frame_result, "result", None)
    if result is not None and hasattr(result, "to_dict"):
        data.update(result.to_dict())
    timings = getattr(frame_result, "timings", None)
    if timings is not None and hasattr(timings, "as_dict"):
        data["stages_ms"] = {k: round(v, 3) for k, v in timings.as_dict().items()}
    js = png.with_suffix(".json")
    js.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return png, js


# --- stand-ins used only when a side widget module is not available --------------------
class FallbackNotifier(QLabel):
    """One line of text: the last message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.messages: list[tuple[str, str]] = []

    def notify(self, message: str, level: str = "error") -> None:
        self.messages.append((message, level))
        self.setText(f"{level}: {message}")


class FallbackPicker(QWidget):
    """A label showing the current choice; emits nothing on its own."""

    model_chosen = Signal(str)
    source_chosen = Signal(str)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label = QLabel(title)
        self._title = title
        QVBoxLayout(self).addWidget(self._label)

    def set_current(self, value: str) -> None:
        self._label.setText(f"{self._title}: {Path(str(value)).name or value}")

    def add_model_path(self, path: str) -> None:
        self.set_current(path)

    def set_status(self, path: str, ok: bool, message: str = "") -> None:
        pass


class FallbackResults(QLabel):
    """Top-line numbers only."""

    def show_result(self, frame_result: Any) -> None:
        pass

    def show_stats(self, stats: Any) -> None:
        self.setText(
            f"{getattr(stats, 'inference_fps', 0):.1f} fps · dropped {getattr(stats, 'dropped', 0)}"
        )
