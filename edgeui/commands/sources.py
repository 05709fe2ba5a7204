"""`edgeui sources [--json]`: the cameras on this machine (never opens a window)."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--no-probe", action="store_true",
                        help="on Windows and macOS, do not open cameras to find them")


def main(args: argparse.Namespace) -> int:
    from edgeui.engine.sources.devices import list_cameras

    cameras = list_cameras(probe=not args.no_probe)
    if args.json:
        print(json.dumps([c.to_dict() for c in cameras], indent=2))
        return 0
    if not cameras:
        print("No cameras found. Other sources: a video file, an image or folder, "
              "rtsp:// or http(s):// URLs, or synthetic.")
        return 0
    for cam in cameras:
        where = f"index {cam.path}" if cam.path.isdigit() else cam.path
        usb = f", USB {cam.usb_id}" if cam.usb_id else ""
        print(f"{cam.name}\n  --source {cam.source}  ({where}{usb})")
        for fourcc in cam.formats:  # what --camera-format and --camera-size can ask for
            sizes = cam.sizes.get(fourcc, ())
            print(f"  {fourcc}" + (f"  {' '.join(sizes)}" if sizes else ""))
    return 0
