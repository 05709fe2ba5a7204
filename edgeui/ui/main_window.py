"""The main window: assembles the live view, the side panel and the controls.

No logic of its own beyond wiring: the worker does inference, the widgets show things,
``controls`` writes snapshots. Everything a user can get wrong ends up in the notifier.
"""

from __future__ import annotations

import glob
import inspect
import logging
import re
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from edgeui.ui import controls, pacing
from edgeui.ui.widgets.countdown import RetryCountdown
from edgeui.ui.widgets.side_panel import SidePanel
from edgeui.ui.widgets.status_header import StatusHeader
from edgeui.ui.widgets.style import icon
from edgeui.ui.widgets.video_view import VideoView
from edgeui.ui.worker import InferenceWorker, error_message, source_label

log = logging.getLogger(__name__)
SAME_ERROR_S = 2.0  # one failure reported by two routes arrives within this
PACE_INTERVAL_S = 1.0  # how often the display rate is measured and steered
# A source in these states delivers no frames: the header and the panel show no rates (the
# last ones would be a lie on a kiosk screen) until its "live" event says frames are back.
STALLED_STATES = {"disconnected": "no signal", "reconnecting": "reconnecting",
                  "failed": "no signal", "ended": "ended"}
# The picture on screen is not live: the view dims it and says why in large text (a kiosk
# has no side panel; a small pill over a full-strength picture went unnoticed). "ended" is
# not among them: a file's last frame is its real last picture.
STALE_STATES = ("disconnected", "reconnecting", "failed")
# The engine's retry note after a reason ("cannot connect… Retrying in 2 s…"), or alone.
_RETRY_NOTE = re.compile(r"\s*(?:retrying|reconnecting) in [\d.]+ s…?\s*$", re.IGNORECASE)
PACE_GAP_S = 0.5  # results stopped this long (pause, model load): measure afresh

MODEL_SUFFIXES = (".onnx", ".tflite")
CARD_CHARS = 180  # a card's text up to this long is shown whole; a longer one, its start
FAIL_STREAK = 3  # errored results in a row before the model list marks the model failing


def card_text(message: str, model: str = "") -> str:
    """A long error's text for a card: its first sentence and where to read the rest
    ("" when the message is short enough to show whole). The list of every decoder after
    "output layout not recognised" made an 8-line card over the live view."""
    message = message.strip()
    if len(message) <= CARD_CHARS:
        return ""
    first, depth = message, 0
    for i, ch in enumerate(message):  # the first ". " or "; " outside brackets
        depth += (ch in "([") - (ch in ")]")
        if depth <= 0 and ch in ".;" and message[i + 1:i + 2].isspace():
            first = message[:i]
            break
    first = first.rstrip(";.,: ")
    if len(first) > CARD_CHARS:
        first = first[: CARD_CHARS - 1].rstrip() + "…"
    name = Path(model).name if model else ""
    stop = "" if first.endswith("…") else "."
    return f"{first}{stop} More: `edgeui inspect{' ' + name if name else ''}`, or hover here."


def _side_widgets() -> dict[str, Any]:
    """The side panel's widget classes; stand-ins for any module that is missing."""
    classes: dict[str, Any] = {}
    try:
        from edgeui.ui.widgets.notifier import Notifier

        classes["notifier"] = Notifier
    except ImportError:
        classes["notifier"] = controls.FallbackNotifier
    try:
        from edgeui.ui.widgets.model_picker import ModelPicker

        classes["model_picker"] = ModelPicker
    except ImportError:
        classes["model_picker"] = lambda parent=None: controls.FallbackPicker("Model", parent)
    try:
        from edgeui.ui.widgets.source_picker import SourcePicker

        classes["source_picker"] = SourcePicker
    except ImportError:
        classes["source_picker"] = lambda parent=None: controls.FallbackPicker("Source", parent)
    try:
        from edgeui.ui.widgets.results_panel import ResultsPanel

        classes["results"] = ResultsPanel
    except ImportError:
        classes["results"] = controls.FallbackResults
    return classes


def _new(factory: Any, settings: Any, parent: QWidget, **extra: Any) -> Any:
    """Build a side widget, giving it the settings (and each of ``extra``, e.g. the
    model folders) when its constructor takes them."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin Qt constructor
        params = {}
    kwargs = {k: v for k, v in extra.items() if k in params and v is not None}
    if "settings" in params:
        kwargs["settings"] = settings
    return factory(parent=parent, **kwargs)


def _source_shape(uri: str) -> str:
    """"still" for a single image file, "slideshow" for a folder or pattern of images, ""
    for anything else (a video, a camera, a stream...)."""
    from edgeui.engine.sources import source_kind, strip_file_scheme
    from edgeui.errors import EdgeUIError

    uri = uri.strip()
    try:
        if source_kind(uri) != "images":
            return ""
    except EdgeUIError:
        return ""
    return "still" if Path(strip_file_scheme(uri)).expanduser().is_file() else "slideshow"


def _outage_reason(event: Any) -> str:
    """Why a source gives no frames, from its event's message ("" when it does not say):
    a failure or disconnection says it all; a retry after a failed open starts with the
    reason ("cannot connect (refused…). Retrying in 2 s…"), a plain retry has none."""
    state, message = getattr(event, "state", ""), str(getattr(event, "message", "") or "")
    if state in ("failed", "disconnected"):
        return message.strip()
    if state == "reconnecting":
        return _RETRY_NOTE.sub("", message).strip()
    return ""


def _remembered_source(uri: str) -> str | None:
    """How a source is kept in the recent list: a local file or folder by its whole path
    (the next run may start in another folder), one that does not exist not at all (it
    would fail again from the list); a pattern of files made absolute, while it matches
    something; cameras and streams as typed. A ``file:`` URI is kept as the plain path it
    names, relative or not, so it and the path are one entry.

    A file or folder that exists is itself, whatever its name holds (``clip[1].mp4``);
    only a missing path with glob characters is a pattern, as when the source opens."""
    from edgeui.engine.sources import is_pattern, source_kind, strip_file_scheme
    from edgeui.errors import EdgeUIError

    uri = uri.strip()  # as the source is opened
    try:
        kind = source_kind(uri)
    except EdgeUIError:
        return None
    if kind not in ("video", "images"):
        return uri
    path = strip_file_scheme(uri)  # file:clip.mp4 is the path clip.mp4, kept as one
    local = Path(path).expanduser()
    if local.exists():
        return str(local.resolve())
    if is_pattern(path):  # made absolute (no file to resolve), kept while it matches a file
        from edgeui.engine.sources.images import glob_pattern

        if next(glob.iglob(glob_pattern(local), recursive=True), None) is not None:
            return str(local.absolute())
    return None


class MainWindow(QMainWindow):
    """A toolbar; the status header over the live view (notifications float on its lower
    edge); the result and the Performance / Model / Source tabs at the side."""

    snapshot_saved = Signal(str, str)  # png path, json path

    def __init__(
        self, worker: InferenceWorker, settings: Any = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.worker = worker
        self.settings = settings
        self.model_path: str | None = None
        self._pending_model: str | None = None
        self._latest: Any = None
        self._running: Any = None  # the model the worker runs now (None: preview only)
        # A source chosen while paused: the picture stays the one before's until resumed.
        self._switched_while_paused = False
        # What every camera opened in this window is asked for (--camera-size/-fps/-format).
        self.camera_request: dict[str, Any] = {}
        self.setWindowTitle("edgeui")
        self.setAcceptDrops(True)
        self._source_state_text: str | None = None
        self._source_shape = ""  # "still", "slideshow" or "" (see _source_shape)
        self._frame_source = ""  # the newest frame's own source (a slideshow's picture)
        self._to_remember: str | None = None  # the chosen source, remembered once it works
        # The loaded model, remembered once it has produced a result: one that crashes on
        # its first frame must not come back at every boot of a kiosk.
        self._model_to_remember: str | None = None
        # What stands in at start for a remembered model / source that is missing (the demo):
        # it runs, but is not saved over the user's choice.
        self._stand_in_model: str | None = None
        self._stand_in_source: str | None = None
        self._expected = ""  # the chosen source as its events name it (see source_label)
        self._outage = ""  # why the source gives no frames ("" while it does)
        self._warned = False  # this outage has its card (one per outage, not per retry)
        self._last_error: tuple[str, float] = ("", 0.0)  # message, when it was shown
        self._fail_streak = 0  # the running model's errored results in a row
        self._failing_model = ""  # the model the list marks failing (its frames raise)
        # "Reconnecting in N s…" counts down to the next try (the event gives the wait).
        self._countdown = RetryCountdown(self)
        self._countdown.changed.connect(self._on_countdown)
        self._fit_to_screen(1280, 800)
        self._user_display_fps: float | None = None  # the user's display rate, if any
        self._display_rate: float | None = None  # the repaint cap in force (None: screen's)
        self._pace_mark = (time.perf_counter(), time.thread_time(), 0)
        self._last_result_t = 0.0
        self._result_gap = 0.0  # seconds between the last two results

        classes = _side_widgets()
        self.view = VideoView()
        self.header = StatusHeader()
        if getattr(settings, "display_fps", 0):
            self.set_display_fps(settings.display_fps)
        self.notifier = _new(classes["notifier"], settings, self)
        # The folders added in earlier runs are listed again (the default one first).
        folders = settings.folders() if hasattr(settings, "folders") else None
        self.model_picker = _new(classes["model_picker"], settings, self, folders=folders)
        self.source_picker = _new(classes["source_picker"], settings, self)
        recent = getattr(settings, "recent_sources", None)
        if recent and hasattr(self.source_picker, "set_recent"):
            self.source_picker.set_recent(recent)  # remembered from earlier runs
        self.results = _new(classes["results"], settings, self)
        self.side_panel = SidePanel(self.results, self.model_picker, self.source_picker)

        # The notifier floats over the bottom of the live view: always in sight, and the
        # picture does not jump when a card comes or goes.
        stage = QWidget()
        grid = QGridLayout(stage)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.view, 0, 0)
        grid.addWidget(self.notifier, 0, 0,
                       Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter)  # fmt: skip
        self.notifier.setMinimumWidth(560)  # a sentence on two lines, not six
        self.notifier.setMaximumWidth(760)
        self.notifier.setContentsMargins(16, 0, 16, 16)
        self.notifier.raise_()
        # The state pill ("Reconnecting…") keeps clear of the cards floating over the view.
        self.notifier.installEventFilter(self)
        live = QWidget()
        live_layout = QVBoxLayout(live)
        live_layout.setContentsMargins(0, 0, 0, 0)
        live_layout.setSpacing(0)
        live_layout.addWidget(self.header)
        live_layout.addWidget(stage, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(live)
        splitter.addWidget(self.side_panel)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setCollapsible(0, False)
        splitter.setSizes([860, 420])
        self.splitter = splitter
        self.setCentralWidget(splitter)
        self._build_toolbar()
        self._connect()
        if hasattr(self.results, "idle_text"):
            self.results.idle_text = "Preview only: open a model with Ctrl+O."

    # --- construction ---------------------------------------------------------------------
    def _action(self, text: str, keys: list[str], slot: Any, tip: str, icon_name: str = "",
                short: str = "") -> QAction:  # fmt: skip
        action = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
        if short:
            action.setIconText(short)  # the toolbar's label; menus and tooltips keep ``text``
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setToolTip(f"{tip} ({', '.join(keys)})" if keys else tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work in fullscreen with the toolbar hidden too
        return action

    def _build_toolbar(self) -> None:
        bar = QToolBar("Controls")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setIconSize(QSize(22, 22))
        bar.setStyleSheet(f"QToolButton {{ min-height: {controls.TOUCH_PX}px; "
                          f"min-width: {controls.TOUCH_PX}px; padding: 0 10px; }}")
        self.toolbar = bar
        self.open_action = self._action("Open model…", ["Ctrl+O"], self.open_model_dialog,
                                        "Open an .onnx or .tflite model", "open", "Open")
        self.pause_action = self._action("Pause", ["Space"], self.toggle_pause,
                                         "Pause or resume inference", "pause")
        self.pause_action.setCheckable(True)
        self.snapshot_action = self._action("Snapshot", ["S"], self.snapshot,
                                            "Save the view as PNG and the result as JSON",
                                            "snapshot")
        self.fullscreen_action = self._action("Fullscreen", ["F11", "F"], self.toggle_fullscreen,
                                              "Fullscreen on/off", "fullscreen")
        self.inspect_action = self._action("Inspect model", ["Ctrl+I"], self.open_inspector,
                                           "What edgeui understood about this model, and why",
                                           "inspect", "Inspect")
        self._action("Leave fullscreen", ["Esc"], self.leave_fullscreen, "Leave fullscreen")
        for a in (self.open_action, self.pause_action, self.snapshot_action,
                  self.fullscreen_action, self.inspect_action):
            bar.addAction(a)
        self.slider_separator = bar.addSeparator()
        self.conf_slider = controls.LabeledSlider("Confidence", 0.25)
        self.iou_slider = controls.LabeledSlider("IoU", 0.45)
        self.opacity_slider = controls.LabeledSlider("Mask", self.view.segmentation_opacity())
        self.conf_action, self.iou_action, self.opacity_action = (
            bar.addWidget(s) for s in (self.conf_slider, self.iou_slider, self.opacity_slider))
        self.show_sliders_for(None)  # each appears once a model it acts on runs
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: "working"
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setFormat("loading model")
        self.busy_action = bar.addWidget(self.busy_bar)
        self.busy_action.setVisible(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _connect(self) -> None:
        w = self.worker
        w.result_ready.connect(self.on_result)
        w.stats.connect(self.results.show_stats)
        w.state_changed.connect(self.on_state)
        w.errored.connect(self.notify_error)
        w.model_changed.connect(self.on_model_changed)
        w.model_changed.connect(self.header.set_model)
        if hasattr(self.results, "set_model"):
            w.model_changed.connect(self.results.set_model)
        w.stats.connect(self.header.show_stats)
        w.stats.connect(self._pace_display)
        w.model_failed.connect(self.on_model_failed)
        w.busy.connect(self.set_busy)
        self.model_picker.model_chosen.connect(self.load_model)
        if hasattr(self.model_picker, "folders_changed"):
            self.model_picker.folders_changed.connect(self.remember_folders)
        if hasattr(self.model_picker, "demo_requested"):
            self.model_picker.demo_requested.connect(self.run_demo)
        self.source_picker.source_chosen.connect(self.set_source)
        self.conf_slider.value_changed.connect(lambda v: self._threshold(conf=v))
        self.iou_slider.value_changed.connect(lambda v: self._threshold(iou=v))
        self.opacity_slider.value_changed.connect(self.view.set_segmentation_opacity)

    def remember_folders(self, folders: list[str]) -> None:
        """The user added a models folder: listed again at the next start. Saved now (an
        explicit choice; a kiosk switched off is never closed)."""
        if self.settings is None or not hasattr(self.settings, "add_model_folder"):
            return
        before = list(getattr(self.settings, "model_folders", []))
        for folder in folders:
            self.settings.add_model_folder(str(Path(folder).expanduser().absolute()))
        if getattr(self.settings, "model_folders", []) == before or \
                getattr(self.settings, "path", None) is None:  # fmt: skip
            return
        try:
            self.settings.save()
        except Exception as exc:  # a read-only config folder: the folder works this run
            self.notifier.notify(error_message(exc), "warning")

    # --- worker -> view -------------------------------------------------------------------
    def stand_in_for_remembered(self, model: str | None, source: str | None) -> None:
        """``model`` / ``source`` (the demo) only stand in for remembered ones that are missing
        now: running them does not make them the last model or source."""
        self._stand_in_model, self._stand_in_source = model, source

    def on_result(self, frame_result: Any) -> None:
        # A result still on its way from the model before does not vouch for this one.
        of_this_model = self._running is not None and self._made_by_running(frame_result)
        if self._model_to_remember is not None and of_this_model and self.settings is not None \
                and getattr(frame_result, "result", None) is not None:  # fmt: skip
            self.settings.last_model, self._model_to_remember = self._model_to_remember, None
        now = time.perf_counter()
        gap = now - self._last_result_t
        # Results resume after a pause or a model load: measure from here. A source slow all
        # along (a 1 fps slideshow, a 2 fps model) has such a gap between every two results:
        # that is its rate, and resetting on it would never let a measurement finish.
        if gap > PACE_GAP_S and gap > 3.0 * self._result_gap:
            self._pace_mark = (now, time.thread_time(), self.view.frames_painted)
        self._result_gap = gap
        self._last_result_t = now
        self._latest = frame_result
        if self._switched_while_paused:  # resumed: this source's first picture is live
            self._switched_while_paused = False
            self.view.set_stale(False)
        self._track_failures(frame_result)
        if self._source_shape == "slideshow":  # the header names the picture shown
            source = str(getattr(getattr(frame_result, "frame", None), "source", "") or "")
            if source != self._frame_source:
                self._frame_source = source
                self.header.set_source_item(source)
        self.view.show_frame_result(frame_result)
        self.results.show_result(frame_result)

    def _made_by_running(self, frame_result: Any) -> bool:
        """Whether the running model made this result, not the one before (which may have
        the same name: two folders' best.onnx); by name only for results that do not say
        which model object made them."""
        model = getattr(frame_result, "model", None)
        if model is not None:
            return model is self._running
        return getattr(frame_result, "model_name", None) == getattr(self._running, "name", None)

    def _track_failures(self, frame_result: Any) -> None:
        """A model whose every frame raises is marked failing in the model list (it loaded,
        so the list said "loads"); a frame inferred again clears the mark."""
        if not getattr(frame_result, "model_name", ""):
            return  # a preview frame: no model ran
        if self._running is not None and not self._made_by_running(frame_result):
            return  # a late result of the model before: not this one's failure
        error = getattr(frame_result, "error", None)
        if error is not None:
            self._fail_streak += 1
            if self._fail_streak == FAIL_STREAK and self.model_path:
                self._failing_model = self.model_path
                self.model_picker.set_status(self.model_path, False,
                                             f"fails on every frame: {error}")
        elif getattr(frame_result, "result", None) is not None:
            self._fail_streak = 0
            if self._failing_model:
                self.model_picker.set_status(self._failing_model, True, "")
                self._failing_model = ""

    def on_state(self, event: Any) -> None:
        source = str(getattr(event, "source", "") or "")
        if source and self._expected and source_label(source) != self._expected:
            # A late event of the source switched away from (queued before the switch):
            # it says nothing about the one chosen now, nor which one to remember.
            log.debug("event of a previous source ignored: %s", event)
            return
        text = controls.state_text(event)
        if getattr(event, "state", "") == "reconnecting" and getattr(event, "retry_in", None):
            text = self._countdown.start(event.retry_in)  # then a tick a second
        else:
            self._countdown.stop()
        self._source_state_text = text
        self.view.set_state_text("Paused" if self.worker.is_paused() and not text else text)
        state = getattr(event, "state", "")
        if hasattr(self.results, "set_source_state"):
            self.results.set_source_state(state, str(getattr(event, "source", "") or ""))
        reason = _outage_reason(event)
        if reason:
            self._outage = reason
        elif state in ("live", "connecting"):
            self._outage = ""
        if text and state != "ended" and hasattr(self.results, "set_status"):
            # The picture is missing (whether or not a model runs yet), and why, when the
            # source said so: a stream that is never reached says it once per retry.
            title = self._model_title(self._running) if self._running is not None \
                else "No model running"
            self.results.set_status(title, self._no_frames(text, state))
        if state == "live":
            self._warned = False  # a later outage is told again
            self._remember_source()
        elif state == "failed":
            self._forget_source()
        if state in STALE_STATES:
            self.view.set_stale(True)
        elif state == "live" and self.worker.is_paused() and self._switched_while_paused:
            pass  # the picture is still the source before's: dim until a frame of this one
        elif state in ("live", "ended"):
            self.view.set_stale(False)
        if state in STALLED_STATES:
            self.header.set_stalled(STALLED_STATES[state])
            if hasattr(self.results, "set_stalled"):
                self.results.set_stalled(True)
        elif state == "live":
            self.header.set_stalled("")
            if hasattr(self.results, "set_stalled"):
                self.results.set_stalled(False)
        if getattr(event, "state", "") in ("failed", "disconnected") and event.message:
            if event.state == "failed":
                self._say_error_once(event.message)
            elif not self._warned:
                self.notifier.notify(event.message, "warning")
            self._warned = True
        elif state == "reconnecting" and reason and not self._warned:
            # Never reached: the reason, once per outage (not a card per retry, each with
            # its delay or its measured time: "no video after 3.2 s", then "3.4 s").
            self._warned = True
            from edgeui.ui.widgets.status_header import source_name

            named = not source or source in reason  # the engine's sentence names it
            self.notifier.notify(f"{reason} Still trying…" if named else
                                 f"{source_name(source)}: {reason} Still trying…",
                                 "warning")  # fmt: skip

    def _on_countdown(self, text: str) -> None:
        """A second less to the next try: the view and the panel say so (the panel only
        while it still shows the countdown, not what came since, e.g. a model's error)."""
        before, self._source_state_text = self._source_state_text, text
        self.view.set_state_text(text)
        summary = getattr(self.results, "summary", None)
        if summary is not None and summary.text() == self._no_frames(before, "reconnecting"):
            summary.setText(self._no_frames(text, "reconnecting"))

    def _no_frames(self, text: str | None, state: str) -> str:
        """The panel's line while the source gives no frames: why, when it said so, and
        what it is doing about it ("No frames: cannot connect… Reconnecting in 2 s…")."""
        why = f"{self._outage} {text}" if self._outage and text and state != "failed" \
            else self._outage or text or ""
        # The state's own words may already say it ("No signal — choose another source").
        return why if why.lower().startswith("no ") else f"No frames: {why}"

    def notify_error(self, message: str) -> None:
        is_model = getattr(self.worker, "is_model_error", None)
        self._say_error_once(message, "model" if callable(is_model) and is_model(message)
                             else "")  # fmt: skip

    def _card(self, message: str, level: str, topic: str = "", model: str = "") -> None:
        """A card; one about a model (``topic`` "model") closes once a model loads."""
        try:
            takes = inspect.signature(self.notifier.notify).parameters
        except (TypeError, ValueError):
            takes = {}
        extra = {k: v for k, v in (("topic", topic), ("short", card_text(message, model)))
                 if v and k in takes}  # fmt: skip
        self.notifier.notify(message, level, **extra)  # a stand-in: the plain sentence

    def _say_error_once(self, message: str, topic: str = "") -> None:
        """A failed source arrives twice, in either order: as the source's "failed" event
        and as the pipeline's error. One problem is one card, not a "×2" badge; the same
        sentence later (the user tries again) is shown again."""
        now = time.monotonic()
        last, at = self._last_error
        self._last_error = (message, now)
        if message == last and now - at < SAME_ERROR_S:
            return
        self._card(message, "error", topic, self.model_path or "")

    @staticmethod
    def _model_title(model: Any) -> str:
        name, task = getattr(model, "name", ""), getattr(model, "task", "")
        return f"{name} · {task}" if name and task else str(name or "Model")

    def on_model_changed(self, model: Any) -> None:
        self._running = model
        self._fail_streak = 0
        # This one loads: the cards about earlier models' failures are history (a source's
        # warnings stay, they still hold).
        if hasattr(self.notifier, "dismiss_topic"):
            self.notifier.dismiss_topic("model")
        if hasattr(self.results, "set_status") and self._latest is None:
            # A source that already failed says so; "waiting" would wait for ever.
            failed = self._source_state_text
            self.results.set_status(self._model_title(model), self._no_frames(failed, "")
                                    if failed else "Waiting for the first frame…")
        path = str(getattr(model, "path", "") or self._pending_model or "")
        self.model_path = path or self.model_path
        self.setWindowTitle(f"edgeui — {getattr(model, 'name', Path(path).stem)}")
        self.show_sliders_for(getattr(model, "task", "") or None)
        thresholds = getattr(model, "thresholds", None)
        if thresholds is not None:
            self.conf_slider.set_value(getattr(thresholds, "conf", self.conf_slider.value()))
            self.iou_slider.set_value(getattr(thresholds, "iou", self.iou_slider.value()))
        if path:
            self.model_picker.set_current(path)
            self.model_picker.set_status(path, True, "")
            if self._stand_in_model is not None and Path(path) == Path(self._stand_in_model):
                self._stand_in_model = self._model_to_remember = None  # once: chosen later, kept
            else:
                self._model_to_remember = str(Path(path).expanduser().absolute())

    def on_model_failed(self, path: str, message: str) -> None:
        self.model_picker.set_status(path, False, message)
        self._card(message, "error", "model", path)
        if self.model_path:
            self.model_picker.set_current(self.model_path)
        if self._running is None and hasattr(self.results, "set_status"):
            self.results.idle_text = ("Preview only: the model could not be loaded; open "
                                      "another with Ctrl+O.")
            self.results.set_status("No model running", self.results.idle_text)

    def show_sliders_for(self, task: str | None) -> None:
        """Show only the sliders that act on ``task`` (none without a model)."""
        shown = controls.sliders_for(task)
        self.conf_action.setVisible(shown["conf"])
        self.iou_action.setVisible(shown["iou"])
        self.opacity_action.setVisible(shown["mask"])
        self.slider_separator.setVisible(any(shown.values()))

    def set_busy(self, busy: bool) -> None:
        self.busy_action.setVisible(bool(busy))

    # --- user -> worker -------------------------------------------------------------------
    def load_model(self, path: str, options: Any = None) -> None:
        """Ask the worker to switch to a model file (the current one runs until it's ready)."""
        self._pending_model = str(path)
        if self._running is None and hasattr(self.results, "idle_text"):
            self.results.idle_text = "Loading the model…"
        if options is None:
            options = self._model_options(str(path))
        self.worker.set_model_path(str(path), options)

    def run_demo(self) -> None:
        """Load the demo: its model (when installed) and its source, as on first run."""
        try:
            from edgeui.engine import demo

            plan = demo.demo_plan()
        except Exception as exc:
            self.notifier.notify(error_message(exc), "error")
            return
        if plan.model_path is not None:
            self.model_picker.add_model_path(str(plan.model_path))
            self.load_model(str(plan.model_path), demo.demo_model_options())
        self.set_source(plan.source_uri, dict(plan.source_options) or None)
        self.notifier.notify(plan.message, "info")

    def _model_options(self, path: str) -> Any:
        """ModelOptions from the remembered per-model settings (threads, provider...)."""
        try:
            from edgeui.engine import demo

            if demo.is_demo_model(path):  # BlazeFace needs its card overrides, wherever chosen
                return demo.demo_model_options()
        except ImportError:
            pass
        if self.settings is None or not hasattr(self.settings, "model_settings"):
            return None
        try:
            from edgeui.engine.model import ModelOptions
            from edgeui.engine.runtimes.base import RuntimeOptions

            ms = self.settings.model_settings(path)
            rt: dict[str, Any] = {}
            for key in ("threads", "provider", "delegate"):
                if getattr(ms, key, None) is not None:
                    rt[key] = getattr(ms, key)
            overrides = {k: getattr(ms, k) for k in ("conf", "iou", "top_k")
                         if getattr(ms, k, None) is not None}
            runtime = RuntimeOptions(**rt) if rt else RuntimeOptions()
            return ModelOptions(runtime=runtime, overrides=overrides)
        except Exception:  # settings are a convenience: a bad entry never blocks a model
            log.debug("per-model settings not applied", exc_info=True)
            return None

    def set_source(self, uri: str, options: dict[str, Any] | None = None) -> None:
        if options is None:
            options = controls.source_options(uri, self.camera_request)
        if self.worker.set_source(uri, options or None) is False:
            # It could not even be made (a folder with no images): the card says why, the
            # current source runs on, and nothing here changes (nor is remembered).
            return
        self._expected = source_label(uri)
        self._countdown.stop()  # the previous source's
        self.view.set_state_text("Connecting…")
        self.view.set_stale(True)  # the picture on screen is the previous source's
        self._switched_while_paused = self.worker.is_paused()
        self.source_picker.set_current(uri)
        self._source_shape = _source_shape(uri)
        self._frame_source = ""
        self._outage, self._warned = "", False
        self.header.set_source(uri, still=self._source_shape == "still")
        if hasattr(self.results, "set_still"):
            self.results.set_still(self._source_shape == "still")
        # Remembered once it delivers (its "live" event): one that fails is not kept.
        self._to_remember = uri

    def _remember_source(self) -> None:
        """The chosen source works: keep it in the recent list and as the last source."""
        uri, self._to_remember = self._to_remember, None
        if uri is not None and uri == self._stand_in_source:
            self._stand_in_source = None  # once: the user choosing it later is remembered
            return
        remembered = _remembered_source(uri) if uri else None
        if remembered and self.settings is not None and hasattr(
                self.settings, "add_recent_source"):  # fmt: skip
            self.settings.add_recent_source(remembered)
            self.settings.last_source = remembered

    def _forget_source(self) -> None:
        """The chosen source failed before it ever worked: off the picker's list too,
        unless an earlier run remembered it (it worked then; a camera may be back)."""
        uri, self._to_remember = self._to_remember, None
        if not uri or not hasattr(self.source_picker, "forget"):
            return
        from edgeui.config import entry_key

        saved = getattr(self.settings, "recent_sources", None) or []
        keys = {entry_key(s) for s in saved}
        remembered = _remembered_source(uri)
        if entry_key(uri) not in keys and (remembered is None or
                                           entry_key(remembered) not in keys):  # fmt: skip
            self.source_picker.forget(uri)

    def _threshold(self, **change: float) -> None:
        self.worker.set_thresholds(**change)
        if self.settings is not None and self.model_path and hasattr(
            self.settings, "update_model_settings"
        ):
            self.settings.update_model_settings(self.model_path, **change)

    def toggle_pause(self) -> None:
        if self.worker.is_paused():
            self.worker.resume()
            self.pause_action.setChecked(False)
            self.pause_action.setText("Pause")
            self.view.set_state_text(self._source_state_text)
        else:
            self.worker.pause()
            self.pause_action.setChecked(True)
            self.pause_action.setText("Resume")
            if not self._source_state_text:  # "Reconnecting…" says more than "Paused"
                self.view.set_state_text("Paused")
        self.header.set_paused(self.worker.is_paused())
        if hasattr(self.results, "set_paused"):
            self.results.set_paused(self.worker.is_paused())
        self.pause_action.setIcon(icon("play" if self.worker.is_paused() else "pause"))

    def snapshot(self) -> tuple[Path, Path] | None:
        if self._latest is None:
            self.notifier.notify("Nothing to snapshot yet: wait for the first frame.", "warning")
            return None
        folder = getattr(self.settings, "snapshots_dir", "") if self.settings else ""
        if not folder:
            from edgeui.config import default_snapshots_dir

            folder = str(default_snapshots_dir())
        try:
            self._flush_panel()  # the panel shows the result the snapshot saves
            png, js = controls.save_snapshot(self.view, self._latest, folder)
        except Exception as exc:
            self.notifier.notify(error_message(exc), "error")
            return None
        self.notifier.notify(f"Snapshot saved: {png}", "info")
        self.snapshot_saved.emit(str(png), str(js))
        return png, js

    def _flush_panel(self) -> None:
        flush = getattr(self.results, "flush", None)
        if callable(flush):
            flush()

    def grab_window(self) -> QPixmap:
        """The window as it looks, with the panel showing the result the view draws: the
        panel's text is refreshed at most every RESULT_INTERVAL_S, and a screenshot taken
        in between would show the overlay of one frame beside the numbers of an earlier
        one (``--screenshot`` takes it through here)."""
        self._flush_panel()
        return self.grab()

    def _fit_to_screen(self, width: int, height: int) -> None:
        """Start at width x height, or smaller on a smaller screen (a 1024x600 panel)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        # The offscreen platform's "screen" is a fixed 800x800 stand-in: nothing to fit.
        if screen is not None and QGuiApplication.platformName() != "offscreen":
            avail = screen.availableGeometry()
            if avail.width() > 0 and avail.height() > 0:
                width, height = min(width, avail.width()), min(height, avail.height())
        self.resize(width, height)

    def set_display_fps(self, fps: float | None) -> None:
        """Show at most ``fps`` frames a second (None or 0: automatic, see ``ui.pacing``).

        Results are then delivered and painted less often, leaving that CPU to inference:
        on a 2-core machine painting a 60 Hz live view costs ~12 % of the inference rate.
        A rate set here is kept as it is; automatic pacing never overrides it.
        """
        hz = fps if fps and fps > 0 else None
        self._user_display_fps = hz
        self._apply_display_rate(hz)

    def _apply_display_rate(self, hz: float | None) -> None:
        self._display_rate = hz
        self.worker.set_max_delivery_rate(hz)
        self.view.set_max_paint_rate(hz)

    def _pace_display(self, stats: Any) -> None:
        """Once a second (on the worker's stats): measure what the view costs the GUI
        thread and, unless the user chose a rate, steer the repaint rate (inference first)."""
        now, cpu, painted = time.perf_counter(), time.thread_time(), self.view.frames_painted
        t0, cpu0, painted0 = self._pace_mark
        elapsed = now - t0
        if elapsed < PACE_INTERVAL_S:
            return
        self._pace_mark = (now, cpu, painted)
        painted_fps = (painted - painted0) / elapsed
        ceiling = self.view.refresh_rate()
        if self._user_display_fps is None:
            rate: float | None = pacing.next_display_rate(
                painted_fps, (cpu - cpu0) / elapsed, pacing.inference_busy(stats), ceiling,
                paced=self._display_rate is not None)
            if rate is not None and rate >= ceiling - 0.5:
                rate = None  # the screen's rate: not paced
            current = self._display_rate
            if (rate is None) != (current is None) or (
                    rate is not None and current is not None
                    and abs(rate - current) > 0.1 * current):  # fmt: skip
                self._apply_display_rate(rate)
        if hasattr(self.results, "show_display_rate"):
            self.results.show_display_rate(
                painted_fps, paced=self._user_display_fps is None and self._display_rate
                is not None)  # fmt: skip

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.leave_fullscreen()
        else:
            self.side_panel.hide()
            self.toolbar.hide()
            self.show_full_screen()

    def show_full_screen(self) -> None:
        """Fullscreen on this window's screen (sized first: without a window manager, e.g.
        a kiosk X server, showFullScreen alone leaves the window at its old size)."""
        screen = self.screen()
        if screen is not None:
            self.setGeometry(screen.geometry())
        self.showFullScreen()
        self.fullscreen_action.setIcon(icon("exit-fullscreen"))

    def leave_fullscreen(self) -> None:
        if self.isFullScreen():
            self.side_panel.show()
            self.toolbar.show()
            self.showNormal()
            self.fullscreen_action.setIcon(icon("fullscreen"))

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        if watched is getattr(self, "notifier", None) and event.type() in (
                QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show,
                QEvent.Type.Hide):  # fmt: skip
            self._keep_state_clear()
        return super().eventFilter(watched, event)

    def _keep_state_clear(self) -> None:
        """Tell the view how much of its bottom the cards cover (they share one cell)."""
        n = self.notifier
        covered = self.view.height() - n.y() if n.isVisible() and not n.isHidden() else 0
        self.view.set_bottom_inset(max(0, covered))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.WindowStateChange:
            self.header.set_large(self.isFullScreen())  # booth mode: legible from 2 m
        super().changeEvent(event)

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a model", "", "Models (*.onnx *.tflite);;All files (*)"
        )
        if path:
            self.model_picker.add_model_path(path)
            self.load_model(path)

    def open_inspector(self) -> None:
        if not self.model_path:
            self.notifier.notify("No model is running yet: open one with Ctrl+O.", "warning")
            return
        try:
            from edgeui.ui.widgets.inspector import InspectorDialog
        except ImportError:
            self.notifier.notify("The model inspector is not available in this build.", "warning")
            return
        dialog = InspectorDialog(self.model_path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    # --- drag and drop --------------------------------------------------------------------
    @staticmethod
    def _model_files(event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls()
                if u.isLocalFile() and u.toLocalFile().lower().endswith(MODEL_SUFFIXES)]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._model_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        files = self._model_files(event)
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        for path in files:
            self.model_picker.add_model_path(path)
        self.load_model(files[0])

    # --- shutdown -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self._countdown.stop()
        self.worker.stop()
        if self._model_to_remember is not None and self.settings is not None \
                and self._fail_streak == 0:  # fmt: skip
            # Chosen but never given a frame (camera unplugged, paused, file ended): kept,
            # as a model is when it runs; one whose frames all failed is not.
            self.settings.last_model, self._model_to_remember = self._model_to_remember, None
        if self.settings is not None and hasattr(self.settings, "save"):
            try:
                self.settings.save()
            except Exception as exc:  # never keep a window open because settings failed
                log.warning("settings not saved: %s", exc)
        super().closeEvent(event)
