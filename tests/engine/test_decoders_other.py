"""Classification, segmentation and pose decoders on synthetic outputs."""

from __future__ import annotations

import numpy as np
import pytest

from edgeui.engine.decoders import get_decoder
from edgeui.engine.types import COCO_KEYPOINTS, TensorSpec
from tests.engine.decoder_helpers import TRANSFORMS, ctx, letterbox, stretch, to_input

T = TRANSFORMS["center"]


# --- classification ---------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 5), (5,), (1, 1, 1, 5)])
def test_classification_logits_are_softmaxed(shape):
    logits = np.array([1.0, 3.0, -2.0, 0.5, 2.0], np.float32)
    res = get_decoder("classification").decode(
        [logits.reshape(shape)], ctx(T, ("a", "b", "c", "d", "e"), top_k=3)
    )
    expected = np.exp(logits) / np.exp(logits).sum()
    assert [c.index for c in res.classes] == [1, 4, 0]
    assert [c.label for c in res.classes] == ["b", "e", "a"]
    np.testing.assert_allclose([c.score for c in res.classes], expected[[1, 4, 0]], rtol=1e-5)
    assert res.task == "classification" and (res.image_width, res.image_height) == (640, 480)


def test_classification_probabilities_kept_as_they_are():
    probs = np.array([[0.1, 0.7, 0.2]], np.float32)
    res = get_decoder("classification").decode([probs], ctx(T, top_k=5))
    assert [c.index for c in res.classes] == [1, 2, 0]
    assert res.classes[0].score == pytest.approx(0.7)


def test_classification_quantized_distribution_not_softmaxed():
    # A uint8 softmax (scale 1/256) rounds the small tail to 0: its sum is well under 1.
    probs = np.zeros(1001, np.float32)
    probs[286], probs[285] = 0.8203125, 0.0390625
    spec = TensorSpec("out", (1, 1001), "uint8", scale=1 / 256, zero_point=0)
    res = get_decoder("classification").decode(
        [probs[None]], ctx(T, ("background", "tench"), offset=0, output_specs=(spec,), top_k=2)
    )
    assert res.classes[0].index == 286 and res.classes[0].score == pytest.approx(0.8203125)


def test_classification_background_offset_labels():
    probs = np.zeros((1, 4), np.float32)
    probs[0, 2] = 1.0
    # 4 outputs (0 = background), label file without the background entry: offset -1.
    res = get_decoder("classification").decode([probs], ctx(T, ("cat", "dog", "fox"), -1))
    assert res.classes[0].index == 2 and res.classes[0].label == "dog"


def test_classification_leaves_out_zero_scores():
    # A quantised softmax: two real classes, the other 998 rounded to exactly 0.
    probs = np.zeros((1, 1000), np.float32)
    probs[0, 7], probs[0, 3] = 0.9, 0.1
    spec = TensorSpec("out", (1, 1000), "uint8", scale=1 / 256, zero_point=0)
    res = get_decoder("classification").decode([probs], ctx(T, output_specs=(spec,), top_k=5))
    assert [c.index for c in res.classes] == [7, 3]


def test_classification_ties_go_to_the_lower_index():
    # Many tied best scores (a coarsely quantised output): argpartition alone picks any.
    probs = np.round(np.random.default_rng(0).random(1000), 1).astype(np.float32)
    probs /= probs.sum()
    res = get_decoder("classification").decode([probs[None]], ctx(T, top_k=5))
    assert [c.index for c in res.classes] == list(np.flatnonzero(probs == probs.max())[:5])
    probs = np.array([[0.2, 0.3, 0.2, 0.3]], np.float32)
    res = get_decoder("classification").decode([probs], ctx(T, top_k=3))
    assert [c.index for c in res.classes] == [1, 3, 0]


def test_classification_activation_override():
    v = np.array([[0.0, 2.0]], np.float32)
    res = get_decoder("classification").decode([v], ctx(T, params={"activation": "sigmoid"}))
    assert res.classes[0].score == pytest.approx(1 / (1 + np.exp(-2.0)))


# --- segmentation -----------------------------------------------------------------------
def seg_scene(t, size):
    """A class map at model resolution `size` with class 3 in the source box (100,100)-(300,300)
    of a 640x480 source, class 1 in the padding (which must be cropped away)."""
    h, w = size
    m = np.ones((h, w), np.int64)
    x1, y1, x2, y2 = t.content_region()
    fy, fx = h / t.input_h, w / t.input_w
    m[int(y1 * fy) : int(y2 * fy), int(x1 * fx) : int(x2 * fx)] = 0
    b = to_input((100, 100, 300, 300), t)
    m[int(b[1] * fy) : int(b[3] * fy), int(b[0] * fx) : int(b[2] * fx)] = 3
    return m


def check_seg(res, t):
    seg = res.segmentation
    assert res.task == "segmentation"
    assert seg.class_map.shape == (t.source_h, t.source_w) and seg.class_map.dtype == np.uint8
    assert seg.class_map[200, 200] == 3 and seg.class_map[10, 10] == 0
    assert 1 not in np.unique(seg.class_map)  # the padding class never reaches the source
    frac = seg.class_fractions()
    assert frac["class 3"] == pytest.approx(200 * 200 / (t.source_w * t.source_h), rel=0.05)


@pytest.mark.parametrize("name", ["center", "topleft", "downscale"])
@pytest.mark.parametrize("layout", ["argmax", "NHWC", "NCHW"])
@pytest.mark.parametrize("size", [(640, 640), (160, 160)])
def test_segmentation_layouts(name, layout, size):
    t = TRANSFORMS[name]
    m = seg_scene(t, size)
    if layout == "argmax":
        out = m[None]
    else:
        scores = np.eye(21, dtype=np.float32)[m]  # (H, W, 21) one-hot
        out = scores[None] if layout == "NHWC" else scores.transpose(2, 0, 1)[None]
    dec = get_decoder("segmentation")
    check_seg(dec.decode([out], ctx(t, params={"layout": layout})), t)
    check_seg(dec.decode([out], ctx(t)), t)  # layout found from the array alone


def test_segmentation_stretch_and_labels():
    t = stretch(320, 240, 513, 513)
    m = np.zeros((513, 513), np.int64)
    m[:, 257:] = 12  # right half of the image
    res = get_decoder("segmentation").decode(
        [m[None]], ctx(t, ("background", *(f"c{i}" for i in range(1, 12)), "dog"))
    )
    cm = res.segmentation.class_map
    assert cm.shape == (240, 320) and cm[:, 165:].min() == 12 and cm[:, :155].max() == 0
    assert set(res.segmentation.class_fractions()) == {"background", "dog"}


def test_segmentation_single_class_probability_map():
    t = letterbox(100, 100, 64, 64)
    probs = np.zeros((1, 1, 64, 64), np.float32)
    probs[0, 0, :32] = 0.9
    cm = get_decoder("segmentation").decode([probs], ctx(t)).segmentation.class_map
    assert cm[10, 50] == 1 and cm[90, 50] == 0


# --- pose -------------------------------------------------------------------------------
def test_movenet_maps_to_source():
    t = letterbox(640, 480, 192, 192)
    kp = np.zeros((1, 1, 17, 3), np.float32)
    src = np.stack([np.linspace(100, 500, 17), np.linspace(50, 400, 17)], axis=1)
    for k, (x, y) in enumerate(src):
        xi, yi = x * t.scale_x + t.pad_x, y * t.scale_y + t.pad_y
        kp[0, 0, k] = [yi / 192, xi / 192, 0.8]
    res = get_decoder("movenet").decode([kp], ctx(t))
    assert res.task == "pose" and len(res.poses) == 1
    np.testing.assert_allclose(res.poses.keypoints[0, :, :2], src, atol=1e-3)
    assert res.poses.names == COCO_KEYPOINTS and len(res.poses.edges) == 16
    assert res.poses.scores[0] == pytest.approx(0.8)


@pytest.mark.parametrize(("conf", "found"), [(0.9, 0), (0.5, 1), (0.1, 1)])
def test_movenet_obeys_the_confidence_threshold(conf, found):
    kp = np.zeros((1, 1, 17, 3), np.float32)
    kp[..., :2], kp[..., 2] = 0.5, 0.6
    res = get_decoder("movenet").decode([kp], ctx(T, conf_threshold=conf))
    assert len(res.poses) == found


def test_movenet_nobody_gives_no_pose():
    res = get_decoder("movenet").decode([np.zeros((1, 1, 17, 3), np.float32)], ctx(T))
    assert len(res.poses) == 0


def test_movenet_multipose():
    t = letterbox(640, 480, 256, 256)
    out = np.zeros((1, 6, 56), np.float32)
    x1, y1, x2, y2 = to_input((100, 100, 200, 300), t) / 256
    out[0, 0, :51] = np.tile([(y1 + y2) / 2, (x1 + x2) / 2, 0.7], 17)
    out[0, 0, 51:] = [y1, x1, y2, x2, 0.6]
    out[0, 1, 55] = 0.1  # under the threshold
    res = get_decoder("movenet_multipose").decode([out], ctx(t))
    assert len(res.poses) == 1
    np.testing.assert_allclose(res.poses.boxes[0], [100, 100, 200, 300], atol=0.01)
    np.testing.assert_allclose(res.poses.keypoints[0, 0], [150, 200, 0.7], atol=0.01)


@pytest.mark.parametrize("normalized", [False, True])
def test_anchor_free_pose(normalized):
    t = TRANSFORMS["center"]
    out = np.zeros((56, 8400), np.float32)
    box = to_input((100, 50, 300, 400), t)
    kps_src = np.stack([np.linspace(120, 280, 17), np.linspace(60, 390, 17)], 1)
    kps_in = kps_src * [t.scale_x, t.scale_y] + [t.pad_x, t.pad_y]
    for a, score in ((10, 0.9), (11, 0.8)):  # a duplicate that NMS removes
        out[:4, a] = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0],
                      box[3] - box[1]]  # fmt: skip
        out[4, a] = score
        trip = np.concatenate([kps_in, np.full((17, 1), 0.95)], 1)
        out[5:, a] = trip.reshape(-1)
    if normalized:
        out[[0, 2]] /= 640
        out[[1, 3]] /= 640
        out[5::3] /= 640
        out[6::3] /= 640
    res = get_decoder("anchor_free_pose").decode([out[None]], ctx(t))
    assert len(res.poses) == 1
    np.testing.assert_allclose(res.poses.boxes[0], [100, 50, 300, 400], atol=0.05)
    np.testing.assert_allclose(res.poses.keypoints[0, :, :2], kps_src, atol=0.05)
    np.testing.assert_allclose(res.poses.keypoints[0, :, 2], 0.95, atol=1e-6)
    empty = get_decoder("anchor_free_pose").decode([np.zeros((1, 56, 8400), np.float32)], ctx(t))
    assert len(empty.poses) == 0
