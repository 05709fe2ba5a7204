"""The camera options of `run`, `bench` and the app: what size, rate and pixel format to ask a
camera for. Light to import (the engine is imported when the options are used)."""

from __future__ import annotations

import argparse
from typing import Any


def _checked(check: str, text: str, problem: str = "") -> Any:
    """The engine's ``check`` (in sources.camera) of a flag's text; its error as argparse's:
    ``'TEXT' problem`` when given, else ``'TEXT': the engine's sentence``."""
    from edgeui.engine.sources import camera
    from edgeui.errors import SourceError

    try:
        return getattr(camera, check)(text)
    except (ValueError, SourceError) as exc:
        said = f" {problem}" if problem else ": " + str(exc).split(": ", 1)[1].rstrip(".")
        raise argparse.ArgumentTypeError(f"{text!r}{said}") from None


def camera_fps(text: str) -> float:
    """A frame rate above 0 (and at most 1000)."""
    return float(_checked("check_camera_fps", text,
                          "is not a frame rate above 0 and at most 1000, like 30"))


def camera_size(text: str) -> str:
    """WIDTHxHEIGHT, checked here so a typo fails before the model loads."""
    _checked("parse_camera_size", text)
    return text


def pixel_format(text: str) -> str:
    return str(_checked("check_pixel_format", text,
                        "is not a pixel format of up to four characters, like MJPG or YUYV"))


CAMERA_FLAGS = ("--camera-size", "--camera-fps", "--camera-format")


def add_camera_arguments(parser: argparse.ArgumentParser) -> None:
    """What to ask a camera for; the driver picks the nearest mode it has (and we say so)."""
    g = parser.add_argument_group("camera")
    g.add_argument("--camera-size", type=camera_size, metavar="WxH",
                   help="ask the camera for this frame size, e.g. 1280x720")
    g.add_argument("--camera-fps", type=camera_fps, metavar="F",
                   help="ask the camera for this frame rate")
    g.add_argument("--camera-format", type=pixel_format, metavar="FOURCC",
                   help="ask the camera for this pixel format: MJPG gives high resolutions at "
                   "full rate over USB 2, YUYV is uncompressed (`edgeui sources` lists them)")


def camera_options_from_args(args: argparse.Namespace, source: str | None = None,
                             ) -> dict[str, Any]:
    """``open_source`` options from the camera flags. With ``source`` (a command that runs one
    source), flags given for a source that is not a camera are an error, not ignored."""
    from edgeui.engine.sources import open_source, source_kind
    from edgeui.engine.sources.base import redact
    from edgeui.engine.sources.camera import camera_request
    from edgeui.errors import ConfigError

    options = camera_request(getattr(args, "camera_size", None),
                             getattr(args, "camera_fps", None),
                             getattr(args, "camera_format", None))
    if options and source is not None and source_kind(str(source)) != "camera":
        open_source(str(source))  # a missing file is the first thing to say
        given = [flag for flag in CAMERA_FLAGS
                 if getattr(args, flag[2:].replace("-", "_"), None) is not None]
        raise ConfigError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} "
                          f"to cameras, and {redact(str(source))} is not one; give a camera "
                          "as --source or leave the camera options out.")
    return options
