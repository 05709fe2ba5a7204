"""Source image (BGR uint8) -> model input tensor, plus the transform to map results back.

Pure functions over numpy/OpenCV. The hot path avoids copies it can: a letterbox writes the
resized image straight into a padded canvas, colour swap and normalisation happen in one pass
while changing layout.
"""

from __future__ import annotations

import cv2
import numpy as np

from edgeui.engine.imageio import as_bgr, decode_image
from edgeui.engine.modelcard.card import PreprocessSpec
from edgeui.engine.types import ImageTransform
from edgeui.errors import ImageReadError

_INTERPOLATION = {
    "linear": cv2.INTER_LINEAR,
    "nearest": cv2.INTER_NEAREST,
    "area": cv2.INTER_AREA,
    "cubic": cv2.INTER_CUBIC,
}


def _fill_border(canvas: np.ndarray, x: int, y: int, w: int, h: int, value: int) -> None:
    """Fill only the letterbox border; the image is written over the rest."""
    canvas[:y] = value
    canvas[y + h :] = value
    canvas[y : y + h, :x] = value
    canvas[y : y + h, x + w :] = value


def resize_image(
    image: np.ndarray, spec: PreprocessSpec
) -> tuple[np.ndarray, ImageTransform]:
    """Resize (stretch) or letterbox a BGR image to the model's input size."""
    src_h, src_w = image.shape[:2]
    dst_h, dst_w = spec.height, spec.width
    interp = _INTERPOLATION.get(spec.interpolation, cv2.INTER_LINEAR)
    if spec.resize == "letterbox":
        scale = min(dst_w / src_w, dst_h / src_h)
        new_w = max(1, min(dst_w, round(src_w * scale)))
        new_h = max(1, min(dst_h, round(src_h * scale)))
        if spec.letterbox_align == "topleft":
            pad_x = pad_y = 0
        else:
            pad_x, pad_y = (dst_w - new_w) // 2, (dst_h - new_h) // 2
        canvas = np.empty((dst_h, dst_w, 3), dtype=np.uint8)
        _fill_border(canvas, pad_x, pad_y, new_w, new_h, spec.pad_value)
        region = canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w]
        if (new_w, new_h) == (src_w, src_h):
            region[...] = image
        else:
            cv2.resize(image, (new_w, new_h), dst=region, interpolation=interp)
        transform = ImageTransform(
            src_w, src_h, dst_w, dst_h, new_w / src_w, new_h / src_h, float(pad_x), float(pad_y)
        )
        return canvas, transform
    if (src_w, src_h) == (dst_w, dst_h):
        resized = image
    else:
        resized = cv2.resize(image, (dst_w, dst_h), interpolation=interp)
    return resized, ImageTransform(src_w, src_h, dst_w, dst_h, dst_w / src_w, dst_h / src_h)


def _color_convert(image: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    if spec.channels == 1 or spec.color == "GRAY":
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[:, :, None]
    if spec.color == "RGB":
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def _planes(image: np.ndarray, spec: PreprocessSpec) -> list[np.ndarray]:
    """Contiguous channel planes of a BGR image in the model's colour order."""
    if spec.channels == 1 or spec.color == "GRAY":
        return [cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)]
    planes = list(cv2.split(image))
    return planes[::-1] if spec.color == "RGB" else planes


def _normalize_inplace(out: np.ndarray, spec: PreprocessSpec, channel_axis: int) -> None:
    channels = out.shape[channel_axis]
    std = np.asarray(spec.std[:channels], np.float32)
    mean = np.asarray(spec.mean[:channels], np.float32)
    gain, bias = 1.0 / std, -mean / std
    if np.all(gain == gain[0]) and np.all(bias == bias[0]):
        if gain[0] != 1.0:
            out *= gain[0]
        if bias[0] != 0.0:
            out += bias[0]
        return
    shape = [1] * out.ndim
    shape[channel_axis] = channels
    out *= gain.reshape(shape)
    out += bias.reshape(shape)


def to_tensor(image: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    """Resized BGR uint8 HWC -> batched tensor in the model's colour order, layout and dtype.

    NCHW float takes the planes from cv2.split (contiguous, C++), which with the colour
    swap folded into the plane order costs a third of a strided numpy transpose.
    """
    if spec.raw_pixels:
        colored = _color_convert(image, spec)
        tensor = colored if spec.layout == "NHWC" else colored.transpose(2, 0, 1)
        tensor = np.ascontiguousarray(tensor[None])
        return tensor if spec.dtype == "uint8" else tensor.astype(_float_or_input_dtype(spec.dtype))
    if spec.layout == "NCHW":
        planes = _planes(image, spec)
        h, w = image.shape[:2]
        out = np.empty((1, len(planes), h, w), np.float32)
        for c, plane in enumerate(planes):
            out[0, c] = plane
        _normalize_inplace(out, spec, channel_axis=1)
    else:
        out = _color_convert(image, spec)[None].astype(np.float32)
        _normalize_inplace(out, spec, channel_axis=3)
    return out if spec.dtype == "float32" else out.astype(_float_or_input_dtype(spec.dtype))


def _float_or_input_dtype(dtype: str) -> str:
    # Quantised inputs get float values here; the runtime quantises at its boundary.
    return "float32" if dtype in ("uint8", "int8", "int16") else dtype


def preprocess(image: np.ndarray, spec: PreprocessSpec) -> tuple[np.ndarray, ImageTransform]:
    """BGR uint8 image -> (input tensor, transform from input pixels back to the source)."""
    image = as_bgr(image)
    resized, transform = resize_image(image, spec)
    return to_tensor(resized, spec), transform


def read_image(path: str) -> np.ndarray:
    """Decode an image file to BGR uint8 with one clear error when it can't be read."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise ImageReadError(f"{p}: image not found; check the path.")
    if p.is_dir():
        raise ImageReadError(f"{p}: is a folder; give the path of an image file.")
    image = decode_image(p)
    if image is None:
        raise ImageReadError(
            f"{p}: not an image OpenCV can decode; use a JPEG, PNG, BMP, TIFF or WebP file."
        )
    return image
