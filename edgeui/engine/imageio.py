"""Decoding images into the engine's one pixel format: contiguous BGR uint8 (H, W, 3)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgeui.errors import ImageReadError

# Keep gray and 16-bit as stored (as_bgr converts them) but let OpenCV apply the EXIF
# orientation: it does for every flag except exactly IMREAD_UNCHANGED, so a phone's portrait
# JPEG (stored sideways with Orientation=6) comes out upright, as in any image viewer. The
# only thing lost against IMREAD_UNCHANGED is alpha, which as_bgr drops anyway.
DECODE_FLAGS = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR


def as_bgr(image: np.ndarray) -> np.ndarray:
    """Any decoded image (gray, BGR, BGRA; uint8 or uint16) as contiguous BGR uint8."""
    if image.dtype != np.uint8:
        if image.dtype == np.uint16:
            image = (image >> 8).astype(np.uint8)
        else:
            image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ImageReadError(f"unsupported image shape {image.shape}; expected H x W x 3 colour.")


def decode_image(path: str | Path) -> np.ndarray | None:
    """An image file as BGR uint8, upright as its EXIF orientation says, or None when it can't
    be read or decoded.

    np.fromfile + imdecode instead of imread: works with non-ASCII paths on Windows.
    """
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    image = cv2.imdecode(data, DECODE_FLAGS) if data.size else None
    return None if image is None else as_bgr(image)

