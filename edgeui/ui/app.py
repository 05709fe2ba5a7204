"""The desktop app's entry point: ``edgeui [--model M] [--source S] [--screenshot PNG ...]``.

Bootstraps QApplication (high-DPI, excepthooks routed to the notifier and the log), builds
the worker and the window, starts the demo when nothing was asked for, and makes sure the
inference thread is stopped and joined — and the camera released — however the app ends.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

log = logging.getLogger("edgeui")


def build_parser() -> argparse.ArgumentParser:
    from edgeui.cli import Parser  # one-line argument errors, like every command

    p = Parser(
        prog="edgeui", description="The edgeui desktop app: live view of a model's results."
    )
    p.add_argument("--model", "-m", help="model file (.onnx or .tflite) to start with")
    p.add_argument("--source", "-s", help="camera index, device, file, folder, URL or 'synthetic'")
    p.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window, then quit")
    p.add_argument("--quit-after", type=_seconds, metavar="SECONDS",
                   help="quit after this many seconds (with --screenshot: take it then)")
    p.add_argument("--fullscreen", action="store_true", help="start fullscreen")
    p.add_argument("--kiosk", action="store_true", help="fullscreen, no side panel or toolbar")
    p.add_argument("--display-fps", type=_display_fps, metavar="FPS",
                   help="show at most FPS frames a second (default: the screen's refresh "
                        "rate, fewer while inference runs flat out); lower leaves more CPU to "
                        "inference on small devices")
    p.add_argument("--debug", action="store_true", help="debug logging and tracebacks")
    from edgeui.commands.camera_options import add_camera_arguments

    add_camera_arguments(p)  # for every camera opened, whoever picks it
    return p


class _NotifyHandler(logging.Handler):
    def __init__(self, notify: Any) -> None:
        super().__init__(logging.WARNING)
        self._notify = notify

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "error" if record.levelno >= logging.ERROR else "warning"
            self._notify(record.getMessage(), level, logged=True)
        except Exception:  # pragma: no cover - a window being torn down: the log has it
            pass


def route_engine_warnings(notify: Any) -> logging.Handler:
    """Show the engine's warnings in the app too, not only in the log: a provider that fell
    back to CPU, a model whose outputs are NaN, a picture a slideshow skipped. ``notify``
    must be safe to call from any thread (the notifier's is)."""
    handler = _NotifyHandler(notify)
    logging.getLogger("edgeui.engine").addHandler(handler)
    return handler


def _x11_display_unreachable() -> bool:
    """True only when DISPLAY names a local X server (":0") that nothing answers on, and
    Qt has no Wayland or explicit platform to use instead (it would abort)."""
    display = os.environ.get("DISPLAY", "")
    match = re.fullmatch(r":(\d+)(?:\.\d+)?", display)
    if (not sys.platform.startswith("linux") or not match or os.environ.get("QT_QPA_PLATFORM")
            or os.environ.get("WAYLAND_DISPLAY")):  # fmt: skip
        return False
    import socket

    path = f"/tmp/.X11-unix/X{match.group(1)}"
    for address in ("\0" + path, path):  # the abstract socket first, as Xlib does
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect(address)
                return False
            except OSError:
                continue
    return True


def _wayland_display_unreachable() -> bool:
    """True only when WAYLAND_DISPLAY is Qt's only way to a screen (no DISPLAY, no explicit
    platform) and its socket is not there (Qt would abort)."""
    name = os.environ.get("WAYLAND_DISPLAY", "")
    if (not sys.platform.startswith("linux") or not name or os.environ.get("DISPLAY")
            or os.environ.get("QT_QPA_PLATFORM")):  # fmt: skip
        return False
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR", "")
    path = Path(name) if Path(name).is_absolute() else Path(runtime_dir or "/nonexistent") / name
    return not path.exists()


def _display_fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1.0 <= value <= 1000.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of frames from 1 to 1000")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1e7:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


class _LowerLevelFormatter(logging.Formatter):
    """"edgeui: error: …" as the commands write it, not logging's "ERROR"."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace(
            f"edgeui: {record.levelname}:", f"edgeui: {record.levelname.lower()}:", 1)


class _ErrorBridge:
    """Routes uncaught exceptions from any thread to the notifier (via a queued signal)."""

    def __init__(self, notify: Any) -> None:
        from PySide6.QtCore import QObject, Signal

        class _Bridge(QObject):
            message = Signal(str)

        self._bridge = _Bridge()
        self._bridge.message.connect(notify)
        self._old_hook = sys.excepthook
        self._old_thread_hook = threading.excepthook

    def install(self) -> None:
        sys.excepthook = self._hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        sys.excepthook = self._old_hook
        threading.excepthook = self._old_thread_hook

    def _report(self, exc_type: type, exc: BaseException, tb: Any) -> None:
        from edgeui.ui.worker import error_message

        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        # RuntimeError: the bridge is gone (shutting down); the log has it.
        with contextlib.suppress(RuntimeError):
            self._bridge.message.emit(error_message(exc))

    def _hook(self, exc_type: type, exc: BaseException, tb: Any) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._old_hook(exc_type, exc, tb)
            return
        self._report(exc_type, exc, tb)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self._report(args.exc_type, args.exc_value, args.exc_traceback)


QUIT_SIGNAL_POLL_MS = 250  # how soon a Ctrl-C or SIGTERM is seen while Qt's loop waits


def install_quit_signals(quit_app: Any) -> Any:
    """Ctrl-C (SIGINT) and SIGTERM (systemd stopping a kiosk) quit the app the normal way:
    ``quit_app`` runs on the GUI thread (the window closes, the worker stops, settings are
    saved, probe children are killed). Python runs a signal handler only when the
    interpreter gets control, which Qt's event loop does not give it while it waits: a
    timer hands it control a few times a second (portable, unlike a wakeup fd on Windows).
    A second signal while quitting takes the default action (a stuck quit can still be
    killed). Returns a function that restores the previous handlers and stops the timer;
    does nothing (and returns a no-op) outside the main thread."""
    import signal

    from PySide6.QtCore import QTimer

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    names = ["SIGINT", "SIGTERM"]
    sigs = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {sig: signal.getsignal(sig) for sig in sigs}

    def handle(signum: int, frame: Any) -> None:
        # Once: the next one ends the process outright (a KeyboardInterrupt raised in a Qt
        # slot would only be printed), for a quit that hangs.
        for sig in sigs:
            signal.signal(sig, signal.SIG_DFL)
        log.warning("%s received: quitting", signal.Signals(signum).name)
        QTimer.singleShot(0, quit_app)

    for sig in sigs:
        signal.signal(sig, handle)
    timer = QTimer()
    timer.timeout.connect(lambda: None)  # Python gets control: pending handlers run
    timer.start(QUIT_SIGNAL_POLL_MS)

    def restore() -> None:
        timer.stop()
        for sig, old in previous.items():
            if old is not None:
                signal.signal(sig, old)

    return restore


def screenshot_problem(target: str) -> str:
    """Why a screenshot cannot be written to ``target`` ("" when it can)."""
    path = Path(target).expanduser()
    folder = path.parent
    if not folder.is_dir():
        return f"cannot write the screenshot {target}: the folder {folder} does not exist."
    if not os.access(folder, os.W_OK):
        return f"cannot write the screenshot {target}: the folder {folder} is not writable."
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp"):
        return f"cannot write the screenshot {target}: give a .png (or .jpg, .bmp) file name."
    return ""


DEMO_MESSAGE_MS = 30_000  # the first-run note stays long enough to be read at a booth
MODEL_WAIT_S = 60.0  # how long a scripted run waits past --quit-after for the named model


def configure_app(app: Any) -> None:
    """Names (for settings paths) and the dark theme with its icons."""
    from edgeui.ui.widgets.style import apply_theme

    app.setApplicationName("edgeui")
    app.setOrganizationName("edgeui")
    app.setApplicationDisplayName("edgeui")
    apply_theme(app)


def _was_the_demo(last_model: str, last_source: str) -> tuple[bool, bool]:
    """Whether the remembered model / source is the demo's own (its model inside the installed
    package, its photos in the cache): when those move (a venv rebuilt, a cache wiped), the
    demo is simply started again, with no note about a missing file."""
    from edgeui.engine.sources.base import strip_file_scheme

    try:
        from edgeui.engine import demo
    except ImportError:
        return False, False
    # The demo's own folder in the cache (another "demo-photos", on a stick, is the user's).
    photos = bool(last_source) and Path(
        strip_file_scheme(last_source)).expanduser() == demo.demo_photos_path()
    return bool(last_model) and demo.is_demo_model(last_model), photos


class StartPlan(NamedTuple):
    """What the app opens at start, and the note to show about it."""

    model: str | None
    options: Any
    source: str
    source_options: dict[str, Any]
    message: str
    # The demo stands in for a remembered model / source that is missing now (a drive not
    # mounted yet): it runs, but is not saved over what the user chose.
    stand_in_model: bool = False
    stand_in_source: bool = False


def _start_plan(args: argparse.Namespace, settings: Any) -> StartPlan:
    """The command line wins; then what the user last ran (a kiosk or desktop restart comes
    back to it); the demo fills in only what is still missing, and only a demo model shown
    says "Demo". A remembered file that is missing is said, and stays remembered.
    """
    model, options, source, source_options, message = args.model, None, args.source, {}, ""
    last_model = str(getattr(settings, "last_model", "") or "") if settings is not None else ""
    last_source = str(getattr(settings, "last_source", "") or "") if settings is not None else ""
    from edgeui.engine.sources.base import redact

    demo_model_was, demo_source_was = _was_the_demo(last_model, last_source)
    missing: list[str] = []
    if not model and last_model:
        if Path(last_model).is_file():
            model = last_model
        elif not demo_model_was:
            missing.append(f"the last model, {last_model}")
    if not source and last_source:
        from edgeui.ui.main_window import _remembered_source

        # Worth opening: anything but a local file or folder that is gone (a camera or a
        # stream not there yet is retried as usual).
        if _remembered_source(last_source) is not None:
            source = last_source
        elif not demo_source_was:
            missing.append(f"the last source, {redact(last_source)}")
    stand_in_model = not model and bool(last_model) and not demo_model_was
    stand_in_source = not source and bool(last_source) and not demo_source_was
    if model and source:
        return StartPlan(model, options, source, source_options, message)
    try:
        from edgeui.engine import demo
    except ImportError:
        demo = None
    if demo is not None:
        try:
            plan = demo.demo_plan()
        except Exception as exc:  # the demo is a nicety: never let it stop the app
            log.warning("demo unavailable: %s", exc)
            plan = None
        if plan is not None:
            demo_model = not model
            if demo_model and plan.model_path is not None:
                model = str(plan.model_path)
                options = demo.demo_model_options()
            if demo_model:  # the demo, or why it is not installed
                message = plan.message if not source or plan.model_path is None else (
                    "Demo: face detection. To try your own model, drop an .onnx or .tflite "
                    "file on the window or press Ctrl+O.")
            if not source:
                source, source_options = plan.source_uri, dict(plan.source_options)
    if not source:
        source = "synthetic"
    if not model and not message:
        message = ("No model yet: open an .onnx or .tflite file with Ctrl+O, or drop one on "
                   "the window.")
    if missing:
        gone = " and ".join(missing)
        instead = "showing the demo instead" if model else "nothing to show instead"
        message = (f"{gone[0].upper()}{gone[1:]} {'are' if len(missing) > 1 else 'is'} not "
                   f"there (a drive not mounted yet?): {instead}; "
                   f"{'they stay' if len(missing) > 1 else 'it stays'} remembered. {message}")
    return StartPlan(model, options, source, source_options, message.strip(),
                     stand_in_model, stand_in_source)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app; returns the process exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="edgeui: %(levelname)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_LowerLevelFormatter("edgeui: %(levelname)s: %(message)s"))
    if args.screenshot:
        problem = screenshot_problem(args.screenshot)
        if problem:  # say so before any window opens, not silently after the delay
            print(f"edgeui: error: {problem}", file=sys.stderr)
            return 2
    no_display = sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
        and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))  # fmt: skip
    if no_display and args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    elif no_display:
        # Qt would abort (SIGABRT) with advice to reinstall; say what is really missing.
        print("edgeui: error: no display to open the window on (DISPLAY and WAYLAND_DISPLAY "
              "are not set); start it from a desktop session, set QT_QPA_PLATFORM=eglfs or "
              "linuxfb on a kiosk without a desktop, or use `edgeui run` to work headless.",
              file=sys.stderr)
        return 2
    elif _wayland_display_unreachable():
        print(f"edgeui: error: cannot connect to the Wayland display "
              f"{os.environ['WAYLAND_DISPLAY']} (its socket is not in "
              f"{os.environ.get('XDG_RUNTIME_DIR') or 'XDG_RUNTIME_DIR, which is not set'}); "
              "check that the desktop session is running, or use `edgeui run` to work "
              "headless.", file=sys.stderr)
        return 2
    elif _x11_display_unreachable():
        print(f"edgeui: error: cannot connect to the display {os.environ['DISPLAY']} (no X "
              f"server answers there); check that the desktop session is running and DISPLAY "
              f"is right, or use `edgeui run` to work headless.", file=sys.stderr)
        return 2
    from edgeui.engine.sources.camera import configure_v4l_select_timeout
    from edgeui.engine.sources.capture import quiet_native_logs

    quiet_native_logs(not args.debug)  # FFmpeg's own lines: the notifier says it once
    configure_v4l_select_timeout()  # V4L2's frame wait: once, before any capture thread

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from edgeui.commands.camera_options import camera_options_from_args
    from edgeui.engine import probe
    from edgeui.ui.main_window import MainWindow
    from edgeui.ui.worker import InferenceWorker

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "edgeui"])
    configure_app(app)

    settings = None
    try:
        from edgeui.config import Settings

        settings = Settings.load()
    except Exception as exc:
        log.warning("settings not loaded: %s", exc)

    plan = _start_plan(args, settings)
    model, options, source, source_options, message = plan[:5]
    worker = InferenceWorker(source=source)
    window = MainWindow(worker, settings)
    window.camera_request = camera_options_from_args(args)
    window.stand_in_for_remembered(model if plan.stand_in_model else None,
                                   source if plan.stand_in_source else None)
    # A script taking a screenshot must be able to tell that the model it named never ran.
    named = Path(args.model).expanduser().absolute() if args.model else None
    named_outcome: list[bool] = []  # [True] once the named model runs, [False] if it failed

    def _is_named(path: Any) -> bool:
        return named is not None and Path(str(path)).expanduser().absolute() == named

    worker.model_changed.connect(
        lambda m: named_outcome.append(True) if _is_named(getattr(m, "path", "")) else None)
    worker.model_failed.connect(
        lambda path, _message: named_outcome.append(False) if _is_named(path) else None)
    if args.display_fps is not None:
        window.set_display_fps(args.display_fps)
    bridge = _ErrorBridge(window.notify_error)
    bridge.install()
    warnings_to_notifier = route_engine_warnings(window.notifier.notify)
    # A model check still running in a child process ends first: the worker's thread may
    # be waiting for it, and quitting must not wait for the check (nor leave it behind).
    app.aboutToQuit.connect(probe.stop_children)
    app.aboutToQuit.connect(worker.stop)  # joins the thread and releases the camera

    if getattr(settings, "error", None) is not None:
        window.notifier.notify(str(settings.error), "warning")
    if message:
        window.notifier.notify(message, "info", DEMO_MESSAGE_MS)
    window.set_source(source, source_options or None)
    if model:
        window.model_picker.add_model_path(model)
        window.load_model(model, options)
    worker.start()

    if args.kiosk:
        window.toggle_fullscreen()
    elif args.fullscreen:
        window.show_full_screen()
    else:
        window.show()

    if args.screenshot or args.quit_after is not None:
        delay = args.quit_after if args.quit_after is not None else 3.0
        target = args.screenshot

        # A slow load (a big model, the TFLite check) must not end a scripted run before
        # it is known whether the named model runs: wait for it, up to a minute more.
        give_up_at = time.monotonic() + max(0.0, delay) + MODEL_WAIT_S

        def finish() -> None:
            if named is not None and not named_outcome and time.monotonic() < give_up_at:
                QTimer.singleShot(100, finish)
                return
            if target and not window.grab_window().save(str(Path(target).expanduser())):
                print(f"edgeui: error: could not write the screenshot {target}; check the "
                      "folder is writable and the name ends in .png.", file=sys.stderr)
                window.close()
                app.exit(2)
                return
            window.close()
            if named is not None and not named_outcome:
                print(f"edgeui: error: {args.model}: still loading after "
                      f"{MODEL_WAIT_S:g} s more than --quit-after.", file=sys.stderr)
            app.exit(0 if named is None or named_outcome[:1] == [True] else 2)

        QTimer.singleShot(int(max(0.0, delay) * 1000), finish)

    def quit_on_signal() -> None:
        window.close()  # closeEvent: the worker stops, the settings are saved
        app.quit()  # aboutToQuit: probe children killed, even if the window stays open

    restore_signals = install_quit_signals(quit_on_signal)
    log.debug("ready: the window is up; Ctrl-C or SIGTERM quits")
    try:
        code = app.exec()
    finally:
        restore_signals()
        logging.getLogger("edgeui.engine").removeHandler(warnings_to_notifier)
        worker.stop()
        bridge.uninstall()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
