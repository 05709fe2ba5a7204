"""Class-aware NMS: suppression within a class only, thresholds, caps, both code paths."""

from __future__ import annotations

import numpy as np
import pytest

from edgeui.engine.decoders import nms as nms_mod
from edgeui.engine.decoders.nms import box_iou, iou_matrix, nms


def naive_nms(boxes, scores, iou_thr, class_ids):
    order = list(np.argsort(-scores, kind="stable"))
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        order = [
            j
            for j in order
            if class_ids[j] != class_ids[i] or box_iou(boxes[i], boxes[j][None])[0] <= iou_thr
        ]
    return np.array(keep)


def test_overlapping_boxes_same_class_keep_the_best():
    boxes = np.array([[0, 0, 100, 100], [5, 5, 105, 105], [200, 200, 300, 300]], np.float32)
    scores = np.array([0.8, 0.9, 0.7], np.float32)
    keep = nms(boxes, scores, 0.45, class_ids=np.array([0, 0, 0]))
    assert keep.tolist() == [1, 2]


def test_overlapping_boxes_of_different_classes_both_survive():
    boxes = np.array([[0, 0, 100, 100], [5, 5, 105, 105]], np.float32)
    scores = np.array([0.8, 0.9], np.float32)
    assert sorted(nms(boxes, scores, 0.45, class_ids=np.array([0, 1])).tolist()) == [0, 1]
    # Without class ids they are one class and the weaker one goes.
    assert nms(boxes, scores, 0.45).tolist() == [1]


def test_conf_threshold_and_max_det_and_order():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 5000, (50, 2)).astype(np.float32)
    boxes = np.concatenate([xy, xy + 10], axis=1)  # far apart: nothing overlaps
    scores = rng.uniform(0, 1, 50).astype(np.float32)
    keep = nms(boxes, scores, 0.5, conf_threshold=0.5)
    assert set(keep.tolist()) == set(np.flatnonzero(scores >= 0.5).tolist())
    assert np.all(np.diff(scores[keep]) <= 0)  # best first
    assert len(nms(boxes, scores, 0.5, max_det=3)) == 3


def test_empty_inputs():
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)
    assert nms(np.ones((2, 4)), np.array([0.1, 0.2]), 0.5, conf_threshold=0.9).shape == (0,)


@pytest.mark.parametrize("limit", [0, 4096])  # shrinking-remainder path, IoU-matrix path
def test_matches_naive_reference(monkeypatch, limit):
    monkeypatch.setattr(nms_mod, "_MATRIX_LIMIT", limit)
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 200, (300, 2))
    wh = rng.uniform(10, 80, (300, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    scores = rng.uniform(0, 1, 300).astype(np.float32)
    cls = rng.integers(0, 3, 300)
    got = nms(boxes, scores, 0.5, class_ids=cls, max_det=1000)
    assert got.tolist() == naive_nms(boxes, scores, 0.5, cls).tolist()


def test_iou_matrix_values():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    np.testing.assert_allclose(iou_matrix(a, b)[0], [1.0, 50 / 150, 0.0], rtol=1e-6)
