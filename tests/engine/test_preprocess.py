"""Preprocessing: the input tensor a model gets and the way back to source pixels."""

from __future__ import annotations

import numpy as np
import pytest

from edgeui.engine.modelcard.card import PreprocessSpec
from edgeui.engine.preprocess import preprocess, read_image
from edgeui.errors import ImageReadError


def bgr(h: int, w: int, color=(10, 20, 30)) -> np.ndarray:
    img = np.empty((h, w, 3), np.uint8)
    img[:] = color
    return img


def test_letterbox_centre_pads_and_maps_back():
    spec = PreprocessSpec("x", 640, 640, layout="NCHW", resize="letterbox", pad_value=114)
    tensor, tf = preprocess(bgr(480, 640), spec)
    assert tensor.shape == (1, 3, 640, 640) and tensor.dtype == np.float32
    assert (tf.pad_x, tf.pad_y, tf.scale_x) == (0.0, 80.0, 1.0)
    # padding rows hold the pad value (0..1 scaling), content rows the image in RGB order
    assert tensor[0, :, 0, 0] == pytest.approx([114 / 255] * 3)
    assert tensor[0, :, 320, 320] == pytest.approx([30 / 255, 20 / 255, 10 / 255])
    box = tf.to_source_boxes(np.array([[0, 80, 640, 560]], np.float32))
    assert box.tolist() == [[0, 0, 640, 480]]


def test_letterbox_topleft_bgr_0_255_like_yolox():
    spec = PreprocessSpec("x", 416, 416, layout="NCHW", color="BGR", resize="letterbox",
                          letterbox_align="topleft", std=(1.0, 1.0, 1.0))
    tensor, tf = preprocess(bgr(426, 640), spec)
    assert (tf.pad_x, tf.pad_y) == (0.0, 0.0) and tf.scale_x == pytest.approx(0.65)
    assert tensor[0, :, 10, 10].tolist() == [10, 20, 30]  # BGR, unnormalised
    assert tensor[0, :, 415, 10].tolist() == [114, 114, 114]  # padding at the bottom only
    x, _ = tf.to_source_points(np.array([416.0]), np.array([0.0]))
    assert x[0] == pytest.approx(640, abs=1)


def test_stretch_raw_uint8_nhwc_for_quantised_models():
    spec = PreprocessSpec("x", 224, 224, raw_pixels=True, dtype="uint8")
    tensor, tf = preprocess(bgr(100, 300), spec)
    assert tensor.shape == (1, 224, 224, 3) and tensor.dtype == np.uint8
    assert tensor[0, 0, 0].tolist() == [30, 20, 10]
    assert (tf.scale_x, tf.scale_y) == (pytest.approx(224 / 300), pytest.approx(2.24))


def test_mean_std_per_channel():
    spec = PreprocessSpec("x", 8, 8, mean=(10, 20, 30), std=(2, 4, 5), color="BGR")
    tensor, _ = preprocess(bgr(8, 8), spec)
    assert tensor[0, 0, 0].tolist() == pytest.approx([0, 0, 0])


def test_gray_and_bgra_inputs_are_accepted():
    spec = PreprocessSpec("x", 8, 8, channels=1, color="GRAY", raw_pixels=True, dtype="uint8")
    tensor, _ = preprocess(np.full((4, 4, 4), 50, np.uint8), spec)
    assert tensor.shape == (1, 8, 8, 1)
    tensor, _ = preprocess(np.full((4, 4), 50, np.uint8), spec)
    assert tensor[0, 0, 0, 0] == 50


def test_read_image_errors(tmp_path):
    with pytest.raises(ImageReadError, match="not found"):
        read_image(str(tmp_path / "nope.jpg"))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageReadError, match="not an image"):
        read_image(str(bad))
    with pytest.raises(ImageReadError, match="folder"):
        read_image(str(tmp_path))


def test_nchw_per_channel_imagenet_style_normalisation():
    mean, std = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
    spec = PreprocessSpec("x", 4, 4, layout="NCHW", mean=mean, std=std)
    tensor, _ = preprocess(bgr(4, 4, color=(10, 20, 30)), spec)  # BGR -> RGB (30, 20, 10)
    want = [(30 - mean[0]) / std[0], (20 - mean[1]) / std[1], (10 - mean[2]) / std[2]]
    assert tensor.shape == (1, 3, 4, 4) and tensor.flags["C_CONTIGUOUS"]
    assert tensor[0, :, 2, 2] == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("size", [(640, 480), (300, 700), (416, 416), (37, 91)])
@pytest.mark.parametrize("align", ["topleft", "center"])
@pytest.mark.parametrize("color", ["BGR", "RGB", "GRAY"])
def test_letterbox_straight_into_nchw_equals_the_canvas_path(size, align, color):
    """The hot path (planes written into the float tensor, only the border filled) gives
    exactly what letterboxing a uint8 canvas and converting it gives."""
    from edgeui.engine.preprocess import resize_image, to_tensor

    spec = PreprocessSpec(input_name="x", height=416, width=416, layout="NCHW",
                          channels=1 if color == "GRAY" else 3, color=color,
                          resize="letterbox", pad_value=114, letterbox_align=align,
                          mean=(123.7, 116.3, 103.5), std=(58.4, 57.1, 57.4),
                          raw_pixels=False, dtype="float32")
    image = np.random.default_rng(1).integers(0, 255, (size[1], size[0], 3), np.uint8)
    fast, transform = preprocess(image, spec)
    canvas, expected_transform = resize_image(image, spec)
    assert transform == expected_transform
    np.testing.assert_allclose(fast, to_tensor(canvas, spec), atol=1e-5)
