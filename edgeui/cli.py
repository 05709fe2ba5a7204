"""The one entry point: ``edgeui`` (the app) and ``edgeui infer|inspect|run|bench|sources``.

Subcommands live in ``edgeui.commands.<name>`` and are imported only when used, so
``edgeui infer`` never loads Qt and ``edgeui`` (the app) never parses what it doesn't need.
Each command module has ``add_arguments(parser)`` and ``main(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from edgeui import __version__
from edgeui.errors import EdgeUIError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "infer": ("edgeui.commands.infer", "run a model on one image"),
    "inspect": ("edgeui.commands.inspect", "show what edgeui understands about a model"),
    "run": ("edgeui.commands.run", "run a model on a live source, headless (JSON lines)"),
    "bench": ("edgeui.commands.bench", "measure the bare runtime against the full pipeline"),
    "sources": ("edgeui.commands.sources", "list the cameras on this machine"),
}


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: "edgeui: error: --iou: ... (see `edgeui infer --help`)"."""

    def error(self, message: str) -> NoReturn:
        # argparse says "argument --iou/-i: ..."; the option the user typed is enough.
        message = re.sub(r"^argument ([^:/ ]+)(?:/\S+)?: ", r"\1: ", message)
        choice = re.search(r"invalid choice: (.*) \(choose from (.*)\)$", message)
        if choice:
            options = choice.group(2).replace("'", "")
            message = message[: choice.start()] + f"{choice.group(1)} is not one of {options}"
        self.exit(2, f"edgeui: error: {message} (see `{self.prog} --help`)\n")


class _LowerLevel(logging.Formatter):
    """"edgeui: warning: ..." like "edgeui: error: ..." (logging's names are upper case)."""

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        return super().format(record)


def _setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_LowerLevel("edgeui: %(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler])


def build_parser() -> argparse.ArgumentParser:
    from edgeui.ui.app import build_parser as app_parser  # argparse only: no Qt imported

    app_usage = app_parser().format_usage().replace("usage: ", "", 1).strip()
    parser = Parser(
        prog="edgeui",
        description="Run ONNX and TFLite vision models on live input. "
        "Without a command, starts the desktop app.",
        epilog=f"Without a command, the desktop app:\n  {app_usage}\n"
        "(`edgeui --model M --help` describes its options.)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"edgeui {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks and debug logs")
        importlib.import_module(module_name).add_arguments(p)
    return parser


class _CtrlCWhileStarting:
    """Ctrl-C during start-up (parsing, the heavy imports of numpy, OpenCV, a runtime) is
    noted and honoured once they are done (exit 130): raised inside an import it would print
    a traceback, or numpy's advice on a "broken" install."""

    def __init__(self) -> None:
        self.pressed = False
        self._previous: object = None

    def __enter__(self) -> _CtrlCWhileStarting:
        try:
            self._previous = signal.signal(signal.SIGINT, self._note)
        except ValueError:  # not the main thread (a test calling main()): nothing to defer
            self._previous = None
        return self

    def _note(self, _signum: int, _frame: object) -> None:
        self.pressed = True

    def __exit__(self, *_exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_probe"]:  # internal: load a model in a child process (engine/probe.py)
        from edgeui.engine.probe import child_main

        return child_main(argv[1:])
    first = next((a for a in argv if not a.startswith("-")), None)
    app_options = [a for a in argv if a.startswith("--") and a not in ("--help", "--debug")]
    help_asked = bool({"-h", "--help"} & set(argv))
    if first not in COMMANDS and "--version" not in argv and (not help_asked or app_options):
        # No subcommand: the desktop app, with its own options (--model, --source, ...).
        from edgeui.ui.app import main as app_main

        return app_main(argv)
    with _CtrlCWhileStarting() as starting:
        parser = build_parser()
        args = parser.parse_args(argv)
        _setup_logging(args.debug)
        if args.command in ("run", "bench", "sources"):  # the commands that open captures
            from edgeui.engine.sources.capture import quiet_native_logs

            quiet_native_logs(not args.debug)
        if args.command in ("run", "bench"):  # the commands that read cameras
            from edgeui.engine.sources import camera

            # Once, here on the main thread before any capture thread (V4L2 only).
            camera.configure_v4l_select_timeout(getattr(args, "stall_timeout", 5.0))
        module = importlib.import_module(COMMANDS[args.command][0])
    if starting.pressed:
        return 130
    try:
        code = int(module.main(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe fails here, not at exit
        return code
    except BrokenPipeError:
        # `edgeui infer ... --json | head -c 300`: the reader left. Point stdout at devnull so
        # that the interpreter's own flush at exit fails no more (Python docs' recipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what the shell reports for `yes | head`
    except EdgeUIError as exc:
        if args.debug:
            raise
        print(f"edgeui: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
