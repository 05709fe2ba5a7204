"""ndarray <-> QImage without copying the pixels.

``QImage(buffer, ...)`` does not own the buffer: the array must outlive the image. The
helpers here keep a reference to the array on the returned object so callers cannot get
that wrong.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


class ArrayImage(QImage):
    """A QImage viewing a numpy array; holds the array so the pixels stay valid."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray, fmt: QImage.Format) -> None:
        h, w = array.shape[:2]
        super().__init__(array.data, w, h, int(array.strides[0]), fmt)
        self.array = array


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """Wrap a BGR uint8 (H, W, 3) array, or a grey (H, W) one, as a QImage (no pixel copy).

    Arrays whose rows are not contiguous are copied once (a crop or a flipped view); the
    common case — a frame straight from a source — is never copied.
    """
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
    elif image.ndim == 3 and image.shape[2] == 3:
        fmt = QImage.Format.Format_BGR888
    elif image.ndim == 3 and image.shape[2] == 4:
        fmt = QImage.Format.Format_ARGB32  # BGRA in memory on little-endian machines
    else:
        raise ValueError(f"expected an (H, W[, 3|4]) image, got shape {image.shape}")
    # Qt needs each row contiguous; the stride between rows may be anything.
    if image.strides[-1] != image.itemsize or (
        image.ndim == 3 and image.strides[1] != image.shape[2] * image.itemsize
    ):
        image = np.ascontiguousarray(image)
    return ArrayImage(image, fmt)


def qimage_to_bgr(image: QImage) -> np.ndarray:
    """Copy a QImage into a new BGR uint8 (H, W, 3) array (snapshots, tests)."""
    img = image.convertToFormat(QImage.Format.Format_BGR888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : w * 3].reshape(h, w, 3).copy()
