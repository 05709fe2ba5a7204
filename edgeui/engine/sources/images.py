"""One image, a folder of images, or a glob: a slideshow at a given fps, or on demand.

With ``hold`` the slideshow looks like a live feed: each image is re-sent at ``fps`` for
``hold`` seconds (so a model runs at its real speed on it), and ``motion`` adds a slow
pan-and-zoom ("Ken Burns") so detections visibly track.
"""

from __future__ import annotations

import glob
import logging
import math
import time
from pathlib import Path

import cv2
import numpy as np

from edgeui.engine.imageio import decode_image
from edgeui.engine.sources.base import (
    IMAGE_SUFFIXES,
    FrameMaker,
    Pacer,
    SourceEnded,
    file_not_found,
    is_pattern,
)
from edgeui.engine.types import Frame
from edgeui.errors import SourceError

log = logging.getLogger(__name__)


def glob_pattern(pattern: Path) -> str:
    """``pattern`` for glob.glob with its longest existing folder taken literally: in
    ``run[3]/*.png`` the folder ``run[3]`` is that folder, not a pattern for ``run3``."""
    parts = pattern.parts
    for i in range(len(parts) - 1, 0, -1):
        prefix = Path(*parts[:i])
        if prefix.is_dir():
            return str(Path(glob.escape(str(prefix)), *parts[i:]))
    return str(pattern)


def list_images(uri: str) -> list[Path]:
    """The image files a path, folder or glob names, sorted (raises SourceError when none).

    A path that exists as given is that file or folder, whatever characters its name has;
    only a path that does not exist and has glob characters is a pattern."""
    path = Path(uri).expanduser()
    if is_pattern(uri):
        found = sorted(glob.glob(glob_pattern(path), recursive=True))
        if not found:  # a mistyped name with "[" in it, or a pattern that matches nothing
            raise SourceError(f"{uri}: file not found, and as a pattern it matches no "
                              "files; check the path.")
        files = [Path(p) for p in found]
        what = "pattern matches"
    elif path.is_dir():
        files = sorted(p for p in path.iterdir())
        what = "folder holds"
    elif path.exists():
        return [path]
    else:
        raise SourceError(file_not_found(uri))
    files = [p for p in files if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        if what == "folder holds":  # a folder is read without its subfolders
            below = str(Path(uri) / "**" / "*.jpg")
            todo = f"check the path (images in subfolders need a pattern, like '{below}')"
        else:
            todo = "check the pattern's names and extensions"
        raise SourceError(f"{uri}: the {what} no images (.jpg, .png, .bmp, ...); {todo}.")
    return files


MOTION_ZOOM = 0.14  # Ken Burns: zoom in by up to 14 % over one hold...
MOTION_PAN = 0.5  # ...while the view drifts across half of the room that zoom leaves
HOLD_FPS = 30.0  # the frame rate of a held slideshow when none is given


def ken_burns(image: np.ndarray, progress: float, direction: int = 1) -> np.ndarray:
    """A pan-and-zoom view of ``image`` at ``progress`` 0..1, same size as the image.

    Eased so that consecutive holds join smoothly; ``direction`` (+1/-1) alternates the drift
    between images. One affine warp: about a millisecond for a 512x512 photo.
    """
    h, w = image.shape[:2]
    t = 0.5 - 0.5 * math.cos(math.pi * min(max(progress, 0.0), 1.0))  # ease in and out
    zoom = 1.0 + MOTION_ZOOM * t
    slack_x, slack_y = w * (1 - 1 / zoom) / 2, h * (1 - 1 / zoom) / 2  # room to pan, px
    dx = direction * MOTION_PAN * slack_x * (2 * t - 1)
    dy = -MOTION_PAN * slack_y * (2 * t - 1) * 0.5
    # Output pixel p shows source pixel centre + (p - centre) / zoom + shift.
    cx, cy = w / 2 + dx, h / 2 + dy
    matrix = np.float32([[zoom, 0, w / 2 - zoom * cx], [0, zoom, h / 2 - zoom * cy]])
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip


class ImageSource:
    """Images as frames. ``fps`` None: on demand (no drops); ``fps`` > 0: a paced slideshow.

    ``loop`` starts again after the last image; otherwise the source ends. Unreadable files
    are skipped with a warning; a source where none can be read fails at open().

    ``hold`` (seconds) shows each image for that long, re-sent at ``fps`` frames a second
    (30 when ``fps`` is not given): a still photo that behaves like a live camera. ``motion``
    (with ``hold``) slowly pans and zooms over each photo.
    """

    def __init__(self, uri: str, *, fps: float | None = None, loop: bool = False,
                 hold: float | None = None, motion: bool = False) -> None:  # fmt: skip
        self.uri = str(uri)
        self.files = list_images(self.uri)
        if hold is not None and hold <= 0:
            raise SourceError(f"{self.uri}: hold must be a positive number of seconds.")
        if hold is not None and not (fps and fps > 0):
            fps = HOLD_FPS
        self.fps = fps
        self.hold = hold
        self.motion = bool(motion and hold)
        self.live = bool(fps and fps > 0)
        self.loop = loop
        self._held: np.ndarray | None = None  # the image being held, decoded once
        self._path = ""  # the file the current image came from: each frame's source
        self._held_since = 0.0
        self._shown = 0  # images shown so far (alternates the pan direction)
        self._pacer = Pacer(fps)
        self._make = FrameMaker(self.uri)
        self._pos = 0
        self._cache: dict[Path, np.ndarray] = {}
        self._opened = False

    def open(self) -> None:
        if self._opened:
            return
        # Fail at once on a folder of broken files rather than after the last one.
        if all(self._load(p) is None for p in self.files):
            raise SourceError(f"{self.uri}: none of the {len(self.files)} image file(s) "
                              "can be decoded.")
        self._pos = 0
        self._held = None
        self._pacer.reset()
        self._opened = True

    def _load(self, path: Path) -> np.ndarray | None:
        image = self._cache.get(path)
        if image is None:
            image = decode_image(path)
            # A single image is decoded once; a folder is decoded as it plays (bounded memory).
            if image is not None and len(self.files) == 1:
                self._cache[path] = image
        return image

    def read(self) -> Frame | None:
        if not self._opened:
            raise SourceError(f"{self.uri}: read() before open().")
        if not self._pacer.due():
            return None
        if self.hold is None:
            image = self._next_image()
            return self._make(image, self._path)
        now = time.monotonic()
        if self._held is None or now - self._held_since >= self.hold:
            self._held = self._next_image()
            self._held_since = now
            self._shown += 1
        if self.motion:
            direction = 1 if self._shown % 2 else -1
            return self._make(ken_burns(self._held, (now - self._held_since) / self.hold,
                                        direction), self._path)  # fmt: skip
        # A copy: whoever gets the frame may draw on it; the held image must stay clean.
        return self._make(self._held.copy(), self._path)

    def _next_image(self) -> np.ndarray:
        """Decode the next readable image and note its path (raises SourceEnded after the
        last one)."""
        for _ in range(len(self.files)):
            if self._pos >= len(self.files):
                if not self.loop:
                    raise SourceEnded(f"{self.uri}: last image shown.")
                self._pos = 0
            path = self.files[self._pos]
            self._pos += 1
            image = self._load(path)
            if image is not None:
                self._path = str(path)
                return image
            log.warning("%s: cannot decode this image; skipped.", path)
        raise SourceEnded(f"{self.uri}: no readable images left.")

    def close(self) -> None:
        self._opened = False
        self._held = None
