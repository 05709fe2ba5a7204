"""One image, a folder of images, or a glob: a slideshow at a given fps, or on demand."""

from __future__ import annotations

import glob
import logging
from pathlib import Path

import cv2
import numpy as np

from edgeui.engine.sources.base import IMAGE_SUFFIXES, FrameMaker, Pacer, SourceEnded
from edgeui.engine.sources.capture import to_bgr
from edgeui.engine.types import Frame
from edgeui.errors import SourceError

log = logging.getLogger(__name__)


def list_images(uri: str) -> list[Path]:
    """The image files a path, folder or glob names, sorted (raises SourceError when none)."""
    path = Path(uri).expanduser()
    if any(ch in uri for ch in "*?["):
        files = [Path(p) for p in sorted(glob.glob(str(path), recursive=True))]
        what = "pattern matches"
    elif path.is_dir():
        files = sorted(p for p in path.iterdir())
        what = "folder holds"
    elif path.exists():
        return [path]
    else:
        raise SourceError(f"{uri}: file not found; check the path.")
    files = [p for p in files if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise SourceError(f"{uri}: the {what} no images (.jpg, .png, .bmp, ...).")
    return files


def read_image(path: Path) -> np.ndarray | None:
    """Decode an image as BGR uint8, or None; works with non-ASCII paths on Windows."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return None if image is None else to_bgr(image)


class ImageSource:
    """Images as frames. ``fps`` None: on demand (no drops); ``fps`` > 0: a paced slideshow.

    ``loop`` starts again after the last image; otherwise the source ends. Unreadable files
    are skipped with a warning; a source where none can be read fails at open().
    """

    def __init__(self, uri: str, *, fps: float | None = None, loop: bool = False) -> None:
        self.uri = str(uri)
        self.files = list_images(self.uri)
        self.fps = fps
        self.live = bool(fps and fps > 0)
        self.loop = loop
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
        self._pacer.reset()
        self._opened = True

    def _load(self, path: Path) -> np.ndarray | None:
        image = self._cache.get(path)
        if image is None:
            image = read_image(path)
            # A single image is decoded once; a folder is decoded as it plays (bounded memory).
            if image is not None and len(self.files) == 1:
                self._cache[path] = image
        return image

    def read(self) -> Frame | None:
        if not self._opened:
            raise SourceError(f"{self.uri}: read() before open().")
        if not self._pacer.due():
            return None
        for _ in range(len(self.files)):
            if self._pos >= len(self.files):
                if not self.loop:
                    raise SourceEnded(f"{self.uri}: last image shown.")
                self._pos = 0
            path = self.files[self._pos]
            self._pos += 1
            image = self._load(path)
            if image is not None:
                return self._make(image)
            log.warning("%s: cannot decode this image; skipped.", path)
        raise SourceEnded(f"{self.uri}: no readable images left.")

    def close(self) -> None:
        self._opened = False
