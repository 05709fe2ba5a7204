"""Detection decoders on synthetic outputs: boxes land on the right SOURCE pixels."""

from __future__ import annotations

import numpy as np
import pytest

from edgeui.engine.decoders import get_decoder
from edgeui.engine.decoders.detection import grid
from tests.engine.decoder_helpers import COCO, TRANSFORMS, ctx, to_input, xyxy_to_xywh

# Two objects in source pixels (valid for every transform in TRANSFORMS, smallest 320x240).
OBJECTS = [((20, 30, 120, 150), 0, 0.9), ((150, 60, 300, 200), 2, 0.75)]


def anchor_free_output(t, n=8400, nc=80, normalized=False, noise=True, rng_seed=0):
    """[1, 4+nc, n] with OBJECTS at anchors 100 and 5000, weak noise elsewhere."""
    rng = np.random.default_rng(rng_seed)
    out = np.zeros((4 + nc, n), np.float32)
    out[:4] = rng.uniform(50, 500, (4, n))
    if noise:
        out[4:] = rng.uniform(0, 0.2, (nc, n))
    for anchor, (box, cls, score) in zip((100, 5000), OBJECTS, strict=True):
        xywh = xyxy_to_xywh(to_input(box, t))
        if normalized:
            xywh = xywh / [t.input_w, t.input_h, t.input_w, t.input_h]
            out[:4, anchor] = xywh
        out[:4, anchor] = xywh
        out[4 + cls, anchor] = score
        # A weaker duplicate of the same object on a neighbouring anchor: NMS must drop it.
        out[:4, anchor + 1] = xywh * 1.01
        out[4 + cls, anchor + 1] = score - 0.1
    if normalized:
        out[:4] = np.where(out[:4] > 1.5, out[:4] / 640.0, out[:4])
    return out[None]


def assert_objects(result, t, objects=OBJECTS, labels=COCO):
    dets = result.detections
    assert result.task == "detection"
    assert (result.image_width, result.image_height) == (t.source_w, t.source_h)
    assert len(dets) == len(objects)
    for (box, cls, score), got_box, got_score, got_cls, label in zip(
        objects, dets.boxes, dets.scores, dets.class_ids, dets.labels, strict=True
    ):
        np.testing.assert_allclose(got_box, box, atol=0.5)
        assert got_score == pytest.approx(score, abs=1e-5)
        assert got_cls == cls
        assert label == labels[cls]


@pytest.mark.parametrize("name", list(TRANSFORMS))
@pytest.mark.parametrize("transposed", [False, True])
def test_anchor_free_pixels(name, transposed):
    t = TRANSFORMS[name]
    out = anchor_free_output(t)
    if transposed:
        out = out.transpose(0, 2, 1).copy()
    res = get_decoder("anchor_free").decode([out], ctx(t, COCO))
    assert_objects(res, t)


@pytest.mark.parametrize("name", ["center", "stretch"])
def test_anchor_free_normalized_detected_and_forced(name):
    t = TRANSFORMS[name]
    out = anchor_free_output(t, normalized=True)
    dec = get_decoder("anchor_free")
    assert_objects(dec.decode([out], ctx(t, COCO)), t)
    assert_objects(dec.decode([out], ctx(t, COCO, params={"normalized": True})), t)
    # Forcing pixels on normalised boxes gives tiny boxes near the origin, not our objects.
    forced = dec.decode([out], ctx(t, COCO, params={"normalized": False}))
    assert len(forced.detections) == 0 or forced.detections.boxes.max() < 5


def test_anchor_free_conf_threshold_respected():
    t = TRANSFORMS["center"]
    res = get_decoder("anchor_free").decode([anchor_free_output(t)], ctx(t, conf_threshold=0.8))
    assert len(res.detections) == 1 and res.detections.scores[0] == pytest.approx(0.9)
    assert res.detections.labels == ("class 0",)  # no labels: a readable fallback name


def test_anchor_free_class_aware_overlaps_survive():
    t = TRANSFORMS["center"]
    out = anchor_free_output(t, noise=False)
    out[0, :, 7000] = out[0, :, 100]  # same box as object 0 ...
    out[0, 4:, 7000] = 0
    out[0, 4 + 5, 7000] = 0.6  # ... but another class
    res = get_decoder("anchor_free").decode([out], ctx(t))
    assert sorted(res.detections.class_ids.tolist()) == [0, 2, 5]


def test_anchor_free_empty_and_box_in_padding():
    t = TRANSFORMS["center"]
    dec = get_decoder("anchor_free")
    res = dec.decode([np.zeros((1, 84, 8400), np.float32)], ctx(t))
    assert len(res.detections) == 0 and res.detections.boxes.shape == (0, 4)
    out = np.zeros((1, 84, 8400), np.float32)
    out[0, :4, 0] = [320, 40, 100, 40]  # wholly inside the top letterbox band (pad_y = 80)
    out[0, 4, 0] = 0.9
    assert len(dec.decode([out], ctx(t)).detections) == 0


def test_anchor_free_max_detections():
    t = TRANSFORMS["center"]
    out = np.zeros((1, 84, 8400), np.float32)
    xs = np.arange(50) * 12 + 10
    out[0, 0, :50], out[0, 1, :50], out[0, 2:4, :50] = xs, 300, 8
    out[0, 4, :50] = 0.9
    res = get_decoder("anchor_free").decode([out], ctx(t, max_detections=10))
    assert len(res.detections) == 10


def yolo_objectness_output(t, rows, nc=80, normalized=False):
    out = np.zeros((rows, 5 + nc), np.float32)
    for i, (box, cls, score) in zip((10, 2000), OBJECTS, strict=True):
        xywh = xyxy_to_xywh(to_input(box, t))
        if normalized:
            xywh = xywh / [t.input_w, t.input_h, t.input_w, t.input_h]
        out[i, :4] = xywh
        out[i, 4] = 0.95  # objectness
        out[i, 5 + cls] = score / 0.95
    return out[None]


@pytest.mark.parametrize("name", list(TRANSFORMS))
@pytest.mark.parametrize("normalized", [False, True])
def test_yolov5(name, normalized):
    t = TRANSFORMS[name]
    out = yolo_objectness_output(t, 25200, normalized=normalized)
    out[0, 3000, :4] = [300, 300, 50, 50]
    out[0, 3000, 4] = 0.2  # low objectness: score 0.2 x 1.0 is under the threshold
    out[0, 3000, 5 + 7] = 1.0
    assert_objects(get_decoder("yolov5").decode([out], ctx(t, COCO)), t)


def yolox_raw(t, strides=(8, 16, 32)):
    """Encode OBJECTS as raw YOLOX rows at the cells holding their centres (stride 16)."""
    cells, cell_strides = grid((t.input_h, t.input_w), strides)
    out = np.zeros((1, len(cells), 85), np.float32)
    out[0, :, :2] = np.random.default_rng(2).uniform(0, 1, (len(cells), 2))
    for box, cls, score in OBJECTS:
        cx, cy, w, h = xyxy_to_xywh(to_input(box, t))
        # first stride-16 cell with this (gx, gy)
        gx, gy = int(cx // 16), int(cy // 16)
        i = np.flatnonzero((cell_strides == 16) & (cells[:, 0] == gx) & (cells[:, 1] == gy))[0]
        out[0, i, :4] = [cx / 16 - gx, cy / 16 - gy, np.log(w / 16), np.log(h / 16)]
        out[0, i, 4] = 0.9
        out[0, i, 5 + cls] = score / 0.9
    return out


def test_yolox_grid_decode_topleft_letterbox():
    from tests.engine.decoder_helpers import letterbox

    t = letterbox(640, 480, 416, 416, "topleft")  # yolox_nano's preprocessing
    out = yolox_raw(t)
    assert out.shape == (1, 3549, 85)
    assert_objects(get_decoder("yolox").decode([out], ctx(t, COCO)), t)


@pytest.mark.parametrize("name", ["center", "stretch"])
def test_yolox_grid_decode_640(name):
    t = TRANSFORMS[name]
    assert_objects(get_decoder("yolox").decode([yolox_raw(t)], ctx(t, COCO)), t)


def test_yolox_already_decoded_export():
    t = TRANSFORMS["center"]
    out = yolo_objectness_output(t, 8400)  # pixel xywh, as decode_in_inference exports give
    assert_objects(get_decoder("yolox").decode([out], ctx(t, COCO)), t)


def test_yolox_wrong_grid_is_a_clear_error():
    from edgeui.errors import UnsupportedModelError

    t = TRANSFORMS["center"]
    out = np.zeros((1, 1000, 85), np.float32)
    out[0, 0, 4], out[0, 0, 5] = 0.9, 0.9
    with pytest.raises(UnsupportedModelError, match="grid cells"):
        get_decoder("yolox").decode([out], ctx(t))


def test_yolo_objectness_empty():
    t = TRANSFORMS["center"]
    for kind, rows in (("yolov5", 25200), ("yolox", 8400)):
        res = get_decoder(kind).decode([np.zeros((1, rows, 85), np.float32)], ctx(t))
        assert len(res.detections) == 0


# --- SSD TFLite_Detection_PostProcess -------------------------------------------------
def ssd_arrays(t, n=10):
    boxes = np.zeros((1, n, 4), np.float32)
    classes = np.zeros((1, n), np.float32)
    scores = np.zeros((1, n), np.float32)
    objs = [*OBJECTS, ((10, 10, 50, 50), 1, 0.1)]  # the last is under the threshold
    for i, (box, cls, score) in enumerate(objs):
        x1, y1, x2, y2 = to_input(box, t)
        boxes[0, i] = [y1 / t.input_h, x1 / t.input_w, y2 / t.input_h, x2 / t.input_w]
        classes[0, i], scores[0, i] = cls, score
    # A stale row past `count` must be ignored even with a high score.
    boxes[0, 5], classes[0, 5], scores[0, 5] = [0.1, 0.1, 0.5, 0.5], 3, 0.99
    count = np.array([len(objs)], np.float32)
    return boxes, classes, scores, count


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_ssd_tf1_and_tf2_orders_agree(name):
    from edgeui.engine.decoders import sniff_all
    from edgeui.engine.decoders.base import SniffHints
    from edgeui.engine.types import TensorSpec

    t = TRANSFORMS[name]
    boxes, classes, scores, count = ssd_arrays(t)
    dec = get_decoder("ssd_postprocess")
    orders = {
        "tf1": [boxes, classes, scores, count],
        "tf2": [scores, boxes, count, classes],
        "other": [classes, count, scores, boxes],
    }
    inputs = [TensorSpec("in", (1, 300, 300, 3), "uint8")]
    for arrays in orders.values():
        specs = [TensorSpec(f"o{i}", a.shape, "float32") for i, a in enumerate(arrays)]
        claim = sniff_all(inputs, specs, SniffHints())
        assert claim is not None and claim.kind == "ssd_postprocess"
        res = dec.decode(arrays, ctx(t, COCO, params=claim.params))
        assert_objects(res, t)
        # No params at all (a sidecar naming only the decoder) works too.
        assert_objects(dec.decode(arrays, ctx(t, COCO)), t)


def test_ssd_labels_offset_and_conf():
    t = TRANSFORMS["center"]
    arrays = list(ssd_arrays(t))
    # A TF label map starting with "???": class 0 is names[1].
    names = ("???", "person", "bicycle", "car")
    res = get_decoder("ssd_postprocess").decode(arrays, ctx(t, names, offset=1))
    assert res.detections.labels == ("person", "car")
    res = get_decoder("ssd_postprocess").decode(arrays, ctx(t, conf_threshold=0.05))
    assert len(res.detections) == 3


def test_ssd_zero_count():
    t = TRANSFORMS["center"]
    boxes, classes, scores, _ = ssd_arrays(t)
    res = get_decoder("ssd_postprocess").decode(
        [boxes, classes, scores, np.zeros(1, np.float32)], ctx(t)
    )
    assert len(res.detections) == 0


# --- end-to-end -------------------------------------------------------------------------
def e2e(t, normalized=False, seven=False):
    rows = np.zeros((300, 6), np.float32)
    for i, (box, cls, score) in enumerate(OBJECTS):
        b = to_input(box, t)
        if normalized:
            b = b / [t.input_w, t.input_h, t.input_w, t.input_h]
        rows[i] = [*b, score, cls]
    rows[2] = [10, 10, 20, 20, 0.05, 4]  # under the threshold
    if seven:  # YOLOv7 end2end: batch, x1, y1, x2, y2, class, score
        rows = np.concatenate([np.zeros((300, 1), np.float32), rows[:, :4], rows[:, [5, 4]]], 1)
        return rows
    return rows[None]


@pytest.mark.parametrize("name", list(TRANSFORMS))
@pytest.mark.parametrize("variant", ["pixels", "normalized", "seven"])
def test_end_to_end(name, variant):
    t = TRANSFORMS[name]
    out = e2e(t, normalized=variant == "normalized", seven=variant == "seven")
    assert_objects(get_decoder("end_to_end").decode([out], ctx(t, COCO)), t)


def test_end_to_end_empty():
    t = TRANSFORMS["center"]
    dec = get_decoder("end_to_end")
    assert len(dec.decode([np.zeros((1, 300, 6), np.float32)], ctx(t)).detections) == 0
    assert len(dec.decode([np.zeros((1, 0, 6), np.float32)], ctx(t)).detections) == 0


@pytest.mark.parametrize(
    ("kind", "shape"),
    [("anchor_free", (1, 84, 0)), ("anchor_free", (1, 0, 84)), ("yolov5", (1, 0, 85)),
     ("yolox", (1, 0, 85)), ("end_to_end", (1, 0, 7))],
)  # fmt: skip
def test_zero_anchor_outputs_give_no_detections(kind, shape):
    t = TRANSFORMS["center"]
    res = get_decoder(kind).decode([np.zeros(shape, np.float32)], ctx(t))
    assert res.detections is not None and len(res.detections) == 0
