"""ndarray <-> QImage without copying the pixels.

``QImage(buffer, ...)`` does not own the buffer: the array must outlive the image. The
helpers here keep a reference to the array on the returned object so callers cannot get
that wrong.
"""

from __future__ import annotations

import cv2
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


class FrameScaler:
    """Scales a BGR/grey/BGRA frame to a device-pixel size as an RGB32 QImage, reusing buffers.

    Painting a frame that Qt has to scale costs ~1 ms per paint on a laptop CPU, spread over
    Qt's image-scaling threads, with the GIL held by the drawImage call throughout (so the
    inference thread's Python stalls meanwhile). Here OpenCV converts and resizes instead —
    bilinear, or area averaging when shrinking below half size so detail does not alias —
    with the GIL released, into buffers that live as long as the size does; the result is
    drawn 1:1, a plain blit. The scaled image is cached per (frame, size): a repaint with
    no new frame (a new result, a state message) costs nothing here.
    """

    def __init__(self) -> None:
        self._frame: np.ndarray | None = None  # the frame the cached image was made from
        self._size: tuple[int, int] = (0, 0)
        self._bgra: np.ndarray | None = None  # the frame converted, at its own size
        self._out: np.ndarray | None = None  # the scaled frame
        self._image: QImage | None = None  # wraps _out

    def clear(self) -> None:
        """Forget the cached frame (the buffers are kept for the next one)."""
        self._frame = None

    def scaled(self, frame: np.ndarray, width: int, height: int) -> QImage:
        """``frame`` at ``width`` x ``height`` pixels, as RGB32 (ARGB32 for a 4-channel frame).

        The image views a buffer that the next frame of the same size overwrites: draw it
        (drawing copies the pixels) before asking for another.
        """
        size = (max(1, int(width)), max(1, int(height)))
        if frame is self._frame and size == self._size and self._image is not None:
            return self._image
        channels = 1 if frame.ndim == 2 else int(frame.shape[2]) if frame.ndim == 3 else 0
        if frame.dtype != np.uint8 or channels not in (1, 3, 4):
            raise ValueError(f"expected a uint8 (H, W[, 3|4]) image, got {frame.shape}")
        fmt = QImage.Format.Format_ARGB32 if channels == 4 else QImage.Format.Format_RGB32
        if self._out is None or self._out.shape[1::-1] != size or self._image is None \
                or self._image.format() != fmt:  # fmt: skip
            self._out = np.empty((size[1], size[0], 4), np.uint8)
            self._image = ArrayImage(self._out, fmt)
        h, w = frame.shape[:2]
        code = cv2.COLOR_GRAY2BGRA if channels == 1 else cv2.COLOR_BGR2BGRA
        if (w, h) == size:
            if channels == 4:
                np.copyto(self._out, frame)
            else:
                cv2.cvtColor(frame, code, dst=self._out)
        else:
            bgra = frame
            if channels != 4:
                # Converted at the source size: for the usual upscale, fewer pixels to touch.
                if self._bgra is None or self._bgra.shape[:2] != (h, w):
                    self._bgra = np.empty((h, w, 4), np.uint8)
                bgra = cv2.cvtColor(frame, code, dst=self._bgra)
            shrink = size[0] < w / 2 or size[1] < h / 2
            interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            cv2.resize(bgra, size, dst=self._out, interpolation=interp)
        self._frame, self._size = frame, size
        return self._image
