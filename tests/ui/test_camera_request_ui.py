"""The app's --camera-size / --camera-fps / --camera-format: asked of every camera it opens."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgeui.ui.app import build_parser


def test_the_app_asks_every_camera_it_opens_and_nothing_else(window, tmp_path: Path) -> None:
    from edgeui.commands.camera_options import camera_options_from_args

    args = build_parser().parse_args(["--source", "clip.mp4", "--camera-size", "1280x720",
                                      "--camera-format", "MJPG"])
    window.camera_request = camera_options_from_args(args)  # as the app does at start
    window.set_source("0")
    assert window.worker._source == "0"  # by URI: it can be opened afresh
    assert window.worker._source_options == {"width": 1280, "height": 720, "fourcc": "MJPG"}
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((8, 8, 3), np.uint8))
    window.set_source(str(folder))  # a slideshow: the camera options are not its business
    assert "fourcc" not in window.worker._source_options


def test_a_source_that_cannot_be_made_leaves_the_current_one_running(window) -> None:
    """An unknown scheme is refused as a missing file is: not handed to the pipeline, where
    it would stop the source on screen and take its name in the header."""
    window.set_source("synthetic@0")
    assert window.worker.set_source("foo://bar") is False
    assert window.worker._source == "synthetic@0"


def test_a_source_chosen_while_paused_keeps_the_old_picture_dimmed_until_resumed(
        window) -> None:
    from types import SimpleNamespace

    from edgeui.engine.sources.base import SourceEvent

    window.toggle_pause()
    window.set_source("synthetic@0")
    window.on_state(SourceEvent("live", "live", "synthetic@0"))  # the new source is up...
    assert window.view.is_stale()  # ...but the picture shown is still the one before
    window.toggle_pause()
    frame = SimpleNamespace(image=np.zeros((48, 64, 3), np.uint8), source="synthetic@0",
                            frame_id=1, timestamp=0.0)
    window.on_result(SimpleNamespace(frame=frame, result=None, model_name="", error=None,
                                     timings=None, runtime="", model=None))
    assert not window.view.is_stale()  # its first frame: live again
