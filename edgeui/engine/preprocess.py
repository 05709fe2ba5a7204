"""Source image (BGR uint8) -> model input tensor, plus the transform to map results back.

Pure functions over numpy/OpenCV. The hot path avoids copies it can: a letterbox writes the
resized image straight into a padded canvas, colour swap and normalisation happen in one pass
while changing layout.
"""

from __future__ import annotations

import functools

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


def _letterbox_geometry(src_w: int, src_h: int, spec: PreprocessSpec) -> tuple[int, int, int, int]:
    """(new_w, new_h, pad_x, pad_y): the resized picture's size and place in the input."""
    dst_h, dst_w = spec.height, spec.width
    scale = min(dst_w / src_w, dst_h / src_h)
    new_w = max(1, min(dst_w, round(src_w * scale)))
    new_h = max(1, min(dst_h, round(src_h * scale)))
    if spec.letterbox_align == "topleft":
        return new_w, new_h, 0, 0
    return new_w, new_h, (dst_w - new_w) // 2, (dst_h - new_h) // 2


def _letterbox_transform(src_w: int, src_h: int, spec: PreprocessSpec) -> ImageTransform:
    new_w, new_h, pad_x, pad_y = _letterbox_geometry(src_w, src_h, spec)
    return ImageTransform(src_w, src_h, spec.width, spec.height, new_w / src_w, new_h / src_h,
                          float(pad_x), float(pad_y))


def resize_image(
    image: np.ndarray, spec: PreprocessSpec
) -> tuple[np.ndarray, ImageTransform]:
    """Resize (stretch) or letterbox a BGR image to the model's input size."""
    src_h, src_w = image.shape[:2]
    dst_h, dst_w = spec.height, spec.width
    interp = _INTERPOLATION.get(spec.interpolation, cv2.INTER_LINEAR)
    if spec.resize == "letterbox":
        new_w, new_h, pad_x, pad_y = _letterbox_geometry(src_w, src_h, spec)
        canvas = np.empty((dst_h, dst_w, 3), dtype=np.uint8)
        _fill_border(canvas, pad_x, pad_y, new_w, new_h, spec.pad_value)
        region = canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w]
        if (new_w, new_h) == (src_w, src_h):
            region[...] = image
        else:
            cv2.resize(image, (new_w, new_h), dst=region, interpolation=interp)
        return canvas, _letterbox_transform(src_w, src_h, spec)
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


@functools.lru_cache(maxsize=64)
def _gain_bias(mean: tuple[float, ...], std: tuple[float, ...], channels: int,
               ) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """(gain, bias) so that x * gain + bias == (x - mean) / std: scalars when every channel
    shares them (cached: per frame this is two lookups, not a dozen numpy calls)."""
    std_arr = np.asarray(std[:channels], np.float32)
    mean_arr = np.asarray(mean[:channels], np.float32)
    gain, bias = 1.0 / std_arr, -mean_arr / std_arr
    if np.all(gain == gain[0]) and np.all(bias == bias[0]):
        return float(gain[0]), float(bias[0])
    return gain, bias


def _normalize_inplace(out: np.ndarray, spec: PreprocessSpec, channel_axis: int) -> None:
    channels = out.shape[channel_axis]
    gain, bias = _gain_bias(tuple(spec.mean), tuple(spec.std), channels)
    if isinstance(gain, float):
        if gain != 1.0:
            out *= np.float32(gain)
        if bias != 0.0:
            out += np.float32(bias)
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


def _letterbox_nchw(image: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    """Letterbox straight into a float NCHW tensor: the picture's planes are written into
    their place and only the border is filled, with no padded uint8 canvas in between (less
    memory touched per frame: this runs right after inference, with cold caches)."""
    src_h, src_w = image.shape[:2]
    new_w, new_h, x, y = _letterbox_geometry(src_w, src_h, spec)
    if (new_w, new_h) != (src_w, src_h):
        interp = _INTERPOLATION.get(spec.interpolation, cv2.INTER_LINEAR)
        image = cv2.resize(image, (new_w, new_h), interpolation=interp)
    planes = _planes(image, spec)
    out = np.empty((1, len(planes), spec.height, spec.width), np.float32)
    chw, pad = out[0], spec.pad_value
    if y > 0:
        chw[:, :y] = pad
    if y + new_h < spec.height:
        chw[:, y + new_h :] = pad
    if x > 0:
        chw[:, y : y + new_h, :x] = pad
    if x + new_w < spec.width:
        chw[:, y : y + new_h, x + new_w :] = pad
    for c, plane in enumerate(planes):
        out[0, c, y : y + new_h, x : x + new_w] = plane
    _normalize_inplace(out, spec, channel_axis=1)
    return out if spec.dtype == "float32" else out.astype(_float_or_input_dtype(spec.dtype))


def preprocess(image: np.ndarray, spec: PreprocessSpec) -> tuple[np.ndarray, ImageTransform]:
    """BGR uint8 image -> (input tensor, transform from input pixels back to the source)."""
    image = as_bgr(image)
    if spec.resize == "letterbox" and spec.layout == "NCHW" and not spec.raw_pixels:
        src_h, src_w = image.shape[:2]
        return _letterbox_nchw(image, spec), _letterbox_transform(src_w, src_h, spec)
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
