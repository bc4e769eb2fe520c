"""Tests for litert_sdk.utils.detection."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from litert_sdk.utils.anchors import SSDAnchorOptions, generate_anchors
from litert_sdk.utils.detection import (
    Detection,
    DetectionDecodeOptions,
    decode_boxes,
    decode_detections,
    decode_scores,
    iou,
    non_max_suppression,
    sigmoid,
    weighted_non_max_suppression,
)


# ---------------------------------------------------------------- references
def pair_iou(a: np.ndarray, b: np.ndarray) -> float:
    ax0, ay0, ax1, ay1 = (float(v) for v in a)
    bx0, by0, bx1, by1 = (float(v) for v in b)
    area_a = max(ax1 - ax0, 0.0) * max(ay1 - ay0, 0.0)
    area_b = max(bx1 - bx0, 0.0) * max(by1 - by0, 0.0)
    iw = max(min(ax1, bx1) - max(ax0, bx0), 0.0)
    ih = max(min(ay1, by1) - max(ay0, by0), 0.0)
    inter = iw * ih
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def reference_nms(boxes: np.ndarray, scores: np.ndarray, thr: float,
                  score_thr: float = -math.inf, max_det: int | None = None) -> list[int]:
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    keep: list[int] = []
    for i in order:
        if max_det is not None and len(keep) >= max_det:
            break
        if not scores[i] >= score_thr:
            continue
        if any(pair_iou(boxes[i], boxes[j]) > thr for j in keep):
            continue
        keep.append(i)
    return keep


def reference_weighted_nms(boxes: np.ndarray, scores: np.ndarray, kps: np.ndarray,
                           thr: float) -> list[tuple[int, list[float], list[float]]]:
    """Transcription of MediaPipe's WeightedNonMaxSuppression (non-degenerate boxes)."""
    remained = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    out: list[tuple[int, list[float], list[float]]] = []
    while remained:
        top = remained[0]
        candidates: list[int] = []
        rest: list[int] = []
        for idx in remained:
            (candidates if pair_iou(boxes[idx], boxes[top]) > thr else rest).append(idx)
        total = math.fsum(float(scores[c]) for c in candidates)
        box = [math.fsum(float(boxes[c][k]) * float(scores[c]) for c in candidates) / total
               for k in range(4)]
        kp = [math.fsum(float(kps[c].reshape(-1)[k]) * float(scores[c]) for c in candidates) / total
              for k in range(kps.shape[1] * 2)]
        out.append((top, box, kp))
        if len(rest) == len(remained):
            break
        remained = rest
    return out


def random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.uniform(0, 1, size=(n, 2))
    wh = rng.uniform(0.05, 0.4, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


# -------------------------------------------------------------------- sigmoid
def test_sigmoid_values() -> None:
    x = np.linspace(-20, 20, 81)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(sigmoid(x) + sigmoid(-x), 1.0, rtol=1e-12)
    assert float(sigmoid(0.0)) == 0.5


def test_sigmoid_extremes_no_warnings() -> None:
    x64 = np.array([-1e308, -1000.0, -800.0, 745.0, 1000.0, 1e308, -np.inf, np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            out64 = sigmoid(x64)
            out32 = sigmoid(np.array([-3e38, -1000, -745, 745, 1000, 3e38, -np.inf, np.inf],
                                     dtype=np.float32))
            out16 = sigmoid(np.array([-60000, 60000], dtype=np.float16))
    np.testing.assert_array_equal(out64, [0, 0, 0, 1, 1, 1, 0, 1])
    np.testing.assert_array_equal(out32, [0, 0, 0, 1, 1, 1, 0, 1])
    np.testing.assert_array_equal(out16, [0, 1])
    assert out32.dtype == np.float32 and out16.dtype == np.float16
    assert sigmoid(np.array([1, 2])).dtype == np.float64
    assert np.isnan(sigmoid(np.nan))


# ------------------------------------------------------------------------ IoU
def test_iou_hand_computed() -> None:
    a = np.array([[0, 0, 2, 2], [0, 0, 4, 4]], dtype=np.float64)
    b = np.array([[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6], [2, 0, 3, 2], [1, 1, 2, 2]],
                 dtype=np.float64)
    expected = np.array([
        [1 / 7, 1.0, 0.0, 0.0, 1 / 4],
        [4 / 16, 4 / 16, 0.0, 2 / 16, 1 / 16],
    ])
    out = iou(a, b)
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(iou(b, a), expected.T, rtol=1e-12)


def test_iou_degenerate_and_dtypes() -> None:
    zero = np.array([[1, 1, 1, 1]], dtype=np.float32)
    inverted = np.array([[2, 2, 1, 1]], dtype=np.float32)
    assert iou(zero, zero)[0, 0] == 0
    assert iou(inverted, np.array([[0, 0, 3, 3]], np.float32))[0, 0] == 0
    assert iou(zero, zero).dtype == np.float32
    assert iou([[0, 0, 1, 1]], [[0, 0, 1, 1]]).dtype == np.float64
    assert iou(np.zeros((0, 4)), np.zeros((3, 4))).shape == (0, 3)


def test_iou_matches_pairwise_reference() -> None:
    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 20), random_boxes(rng, 15)
    ref = np.array([[pair_iou(x, y) for y in b] for x in a])
    np.testing.assert_allclose(iou(a, b), ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("bad", [np.zeros((3, 3)), np.zeros(4), np.zeros((2, 4, 1))])
def test_iou_invalid(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="shape"):
        iou(bad, np.zeros((1, 4)))


# ------------------------------------------------------------------------ NMS
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("thr", [0.0, 0.1, 0.3, 0.5, 0.7, 1.0])
def test_nms_matches_bruteforce(seed: int, thr: float) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    boxes = random_boxes(rng, n)
    boxes[::7] = boxes[0]  # exact duplicates
    scores = np.round(rng.uniform(0, 1, size=n), 1)  # many ties
    got = non_max_suppression(boxes, scores, thr)
    assert got.dtype == np.intp
    assert got.tolist() == reference_nms(boxes, scores, thr)
    got = non_max_suppression(boxes, scores, thr, score_threshold=0.35, max_detections=5)
    assert got.tolist() == reference_nms(boxes, scores, thr, 0.35, 5)


def test_nms_threshold_is_strict() -> None:
    boxes = np.array([[0, 0, 2, 1], [0, 0, 1, 1]], dtype=np.float64)  # IoU exactly 0.5
    scores = np.array([0.9, 0.8])
    assert non_max_suppression(boxes, scores, 0.5).tolist() == [0, 1]
    assert non_max_suppression(boxes, scores, 0.49).tolist() == [0]


def test_nms_ties_lower_index_first() -> None:
    boxes = np.array([[0, 0, 1, 1]] * 3, dtype=np.float64)
    scores = np.array([0.5, 0.7, 0.7])
    assert non_max_suppression(boxes, scores, 0.5).tolist() == [1]


def test_nms_edge_cases() -> None:
    boxes = np.array([[0, 0, 1, 1], [2, 2, 3, 3]], dtype=np.float32)
    scores = np.array([0.2, np.nan], dtype=np.float32)
    assert non_max_suppression(boxes, scores, 0.5).tolist() == [0]
    assert non_max_suppression(boxes, scores, 0.5, max_detections=0).tolist() == []
    assert non_max_suppression(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)
    assert non_max_suppression(boxes, [0.1, 0.9], 0.5, score_threshold=0.2).tolist() == [1]


def test_nms_invalid_arguments() -> None:
    boxes = np.zeros((3, 4))
    with pytest.raises(ValueError, match="scores"):
        non_max_suppression(boxes, np.zeros(2), 0.5)
    with pytest.raises(ValueError, match="max_detections"):
        non_max_suppression(boxes, np.zeros(3), 0.5, max_detections=-1)
    with pytest.raises(ValueError, match="NaN"):
        non_max_suppression(boxes, np.zeros(3), float("nan"))
    with pytest.raises(ValueError, match="keypoints"):
        weighted_non_max_suppression(boxes, np.zeros(3), 0.5, keypoints=np.zeros((3, 2)))


# --------------------------------------------------------------- weighted NMS
def test_weighted_nms_hand_computed() -> None:
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [5.0, 5.0, 6.0, 6.0], [0.1, 0.0, 1.1, 1.0]])
    scores = np.array([0.9, 0.5, 0.1])
    kps = np.array([[[0.2, 0.4]], [[5.5, 5.5]], [[1.2, 0.4]]])
    res = weighted_non_max_suppression(boxes, scores, 0.3, keypoints=kps)
    assert res.indices.tolist() == [0, 1]
    np.testing.assert_allclose(res.scores, [0.9, 0.5], rtol=1e-6)
    np.testing.assert_allclose(res.boxes, [[0.01, 0.0, 1.01, 1.0], [5.0, 5.0, 6.0, 6.0]], atol=1e-6)
    np.testing.assert_allclose(res.keypoints, [[[0.3, 0.4]], [[5.5, 5.5]]], atol=1e-6)
    assert res.boxes.dtype == np.float32 and res.keypoints.dtype == np.float32


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("thr", [0.1, 0.3, 0.6])
def test_weighted_nms_matches_reference(seed: int, thr: float) -> None:
    rng = np.random.default_rng(100 + seed)
    n = 40
    centers = rng.uniform(0.2, 0.8, size=(4, 2))
    c = centers[rng.integers(0, 4, size=n)] + rng.normal(0, 0.03, size=(n, 2))
    wh = rng.uniform(0.1, 0.2, size=(n, 2))
    boxes = np.concatenate([c - wh / 2, c + wh / 2], axis=1)
    scores = np.round(rng.uniform(0.05, 1, size=n), 2)
    kps = rng.uniform(0, 1, size=(n, 3, 2))
    res = weighted_non_max_suppression(boxes, scores, thr, keypoints=kps)
    ref = reference_weighted_nms(boxes, scores, kps, thr)
    assert res.indices.tolist() == [r[0] for r in ref]
    np.testing.assert_allclose(res.boxes, [r[1] for r in ref], atol=1e-6)
    np.testing.assert_allclose(res.keypoints.reshape(len(ref), -1), [r[2] for r in ref],
                               atol=1e-6)
    np.testing.assert_allclose(res.scores, scores[res.indices], rtol=1e-6)


def test_weighted_nms_limits_and_empty() -> None:
    boxes = np.array([[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 5, 5]], dtype=np.float64)
    scores = np.array([0.3, 0.9, 0.6])
    res = weighted_non_max_suppression(boxes, scores, 0.5, max_detections=2)
    assert res.indices.tolist() == [1, 2]
    assert res.keypoints.shape == (2, 0, 2)
    res = weighted_non_max_suppression(boxes, scores, 0.5, score_threshold=0.95)
    assert res.boxes.shape == (0, 4) and res.scores.shape == (0,)
    # degenerate top box still forms its own cluster and the rest is processed
    boxes[1] = [2, 2, 2, 2]
    assert weighted_non_max_suppression(boxes, scores, 0.5).indices.tolist() == [1, 2, 0]


# ------------------------------------------------------------------- decoding
def test_decode_boxes_hand_computed_reverse_order() -> None:
    opts = DetectionDecodeOptions(x_scale=128, y_scale=128, w_scale=128, h_scale=128,
                                  num_keypoints=2, keypoint_coord_offset=4,
                                  reverse_output_order=True)
    anchors = np.array([[0.5, 0.5, 1.0, 1.0], [0.25, 0.75, 0.5, 0.5]], dtype=np.float32)
    raw = np.array([
        # x, y, w, h, kp0 (x, y), kp1 (x, y)
        [12.8, -6.4, 64.0, 32.0, 12.8, 25.6, 0.0, 0.0],
        [12.8, -6.4, 64.0, 32.0, 12.8, 25.6, -64.0, 64.0],
    ], dtype=np.float32)
    boxes, kps = decode_boxes(raw, anchors, opts)
    assert boxes.dtype == np.float32 and kps.shape == (2, 2, 2)
    # box 0: center (0.6, 0.45), size (0.5, 0.25)
    # box 1: center (0.25 + 0.05, 0.75 - 0.025), size (0.25, 0.125)
    np.testing.assert_allclose(boxes, [[0.35, 0.325, 0.85, 0.575],
                                       [0.175, 0.6625, 0.425, 0.7875]], atol=1e-6)
    np.testing.assert_allclose(kps, [[[0.6, 0.7], [0.5, 0.5]],
                                     [[0.3, 0.85], [0.0, 1.0]]], atol=1e-6)


def test_decode_boxes_default_order_exponential_offset_and_flip() -> None:
    opts = DetectionDecodeOptions(x_scale=10, y_scale=20, w_scale=5, h_scale=5,
                                  num_keypoints=1, keypoint_coord_offset=6,
                                  num_values_per_keypoint=3, box_coord_offset=1,
                                  apply_exponential_on_box_size=True)
    anchors = np.array([[0.5, 0.5, 0.2, 0.4]])
    # [pad, y, x, h, w, pad, ky, kx, extra]
    raw = np.array([[99.0, 2.0, 1.0, 0.0, 5 * math.log(2), 99.0, -10.0, 5.0, 99.0]])
    boxes, kps = decode_boxes(raw, anchors, opts)
    # x_c = 1/10*0.2+0.5 = 0.52 ; y_c = 2/20*0.4+0.5 = 0.54 ; w = 2*0.2 ; h = 1*0.4
    np.testing.assert_allclose(boxes, [[0.32, 0.34, 0.72, 0.74]], atol=1e-6)
    np.testing.assert_allclose(kps, [[[0.6, 0.3]]], atol=1e-6)
    flipped = dataclasses.replace(opts, flip_vertically=True)
    fboxes, fkps = decode_boxes(raw[None], anchors, flipped)  # batch dim accepted
    np.testing.assert_allclose(fboxes, [[0.32, 0.26, 0.72, 0.66]], atol=1e-6)
    np.testing.assert_allclose(fkps, [[[0.6, 0.7]]], atol=1e-6)


def test_decode_scores_clipping_and_classes() -> None:
    opts = DetectionDecodeOptions.face_detection_short_range()
    scores, classes = decode_scores(np.array([[1000.0], [-1000.0], [0.0]]), opts)
    np.testing.assert_allclose(scores, [1 / (1 + math.exp(-100)), 0, 0.5], atol=1e-7)
    assert scores.dtype == np.float32 and classes.tolist() == [0, 0, 0]
    raw = np.array([[[0.1, 0.7, 0.7], [0.9, 0.2, 0.3]]])
    no_sigmoid = DetectionDecodeOptions(x_scale=1, y_scale=1, w_scale=1, h_scale=1)
    scores, classes = decode_scores(raw, no_sigmoid)
    np.testing.assert_allclose(scores, [0.7, 0.9], rtol=1e-6)
    assert classes.tolist() == [1, 0]


def test_presets() -> None:
    face = DetectionDecodeOptions.face_detection_short_range()
    assert (face.x_scale, face.y_scale, face.w_scale, face.h_scale) == (128,) * 4
    assert face.num_keypoints == 6 and face.keypoint_coord_offset == 4
    assert face.score_clipping_thresh == 100.0 and face.min_score_thresh == 0.5
    assert face.reverse_output_order and face.sigmoid_score
    assert (face.num_boxes, face.num_coords) == (896, 16)
    for preset, anchors in [
        (DetectionDecodeOptions.face_detection_full_range,
         SSDAnchorOptions.face_detection_full_range),
        (DetectionDecodeOptions.palm_detection, SSDAnchorOptions.palm_detection),
        (DetectionDecodeOptions.pose_detection, SSDAnchorOptions.pose_detection),
    ]:
        opts = preset()
        assert opts.num_boxes == generate_anchors(anchors()).shape[0]


def _face_raw_outputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    anchors = generate_anchors(SSDAnchorOptions.face_detection_short_range())
    raw_boxes = np.zeros((1, 896, 16), dtype=np.float32)
    raw_boxes[0, :, 2:4] = 12.8  # 0.1 x 0.1 boxes centred on anchors
    raw_scores = np.full((1, 896, 1), -50.0, dtype=np.float32)
    # two overlapping detections around anchor 0/1 (same cell) and one far away.
    raw_boxes[0, 1, 0] = 1.28  # shifted by 0.01
    raw_boxes[0, 0, 4:] = 12.8  # keypoints of box 0 shifted by +0.1
    raw_scores[0, 0, 0] = 3.0
    raw_scores[0, 1, 0] = 1.0
    raw_scores[0, 895, 0] = 2.0
    raw_scores[0, 2, 0] = -0.1  # sigmoid(-0.1) < 0.5 -> filtered by min score
    return raw_boxes, raw_scores, anchors


def test_decode_detections_weighted() -> None:
    raw_boxes, raw_scores, anchors = _face_raw_outputs()
    opts = DetectionDecodeOptions.face_detection_short_range()
    dets = decode_detections(raw_boxes, raw_scores, anchors, opts)
    assert len(dets) == 2
    assert all(isinstance(d, Detection) for d in dets)
    s0, s1 = 1 / (1 + math.exp(-3)), 1 / (1 + math.exp(-1))
    assert dets[0].score == pytest.approx(s0, rel=1e-6)
    assert dets[1].score == pytest.approx(1 / (1 + math.exp(-2)), rel=1e-6)
    a = anchors[0]
    x_shift = 0.01 * s1 / (s0 + s1)
    np.testing.assert_allclose(
        dets[0].box, [a[0] - 0.05 + x_shift, a[1] - 0.05, a[0] + 0.05 + x_shift, a[1] + 0.05],
        atol=1e-6)
    kp_expected = (np.array([a[0], a[1]]) + 0.1) * s0 / (s0 + s1) + np.array([a[0], a[1]]) * (
        s1 / (s0 + s1))
    np.testing.assert_allclose(dets[0].keypoints, np.tile(kp_expected, (6, 1)), atol=1e-6)
    assert dets[0].keypoints.shape == (6, 2)
    assert dets[0].width == pytest.approx(0.1, abs=1e-6)
    assert dets[0].height == pytest.approx(0.1, abs=1e-6)
    assert dets[0].class_id == 0


def test_decode_detections_hard_nms_and_thresholds() -> None:
    raw_boxes, raw_scores, anchors = _face_raw_outputs()
    opts = DetectionDecodeOptions.face_detection_short_range()
    dets = decode_detections(raw_boxes, raw_scores, anchors, opts, weighted=False)
    assert len(dets) == 2
    a = anchors[0]
    np.testing.assert_allclose(dets[0].box, [a[0] - 0.05, a[1] - 0.05, a[0] + 0.05,
                                             a[1] + 0.05], atol=1e-6)
    dets = decode_detections(raw_boxes, raw_scores, anchors, opts, score_threshold=0.0,
                             min_suppression_threshold=1.0, weighted=False)
    assert len(dets) == 896
    dets = decode_detections(raw_boxes, raw_scores, anchors, opts, max_detections=1)
    assert len(dets) == 1


def test_decode_detections_drops_negative_size_boxes() -> None:
    raw_boxes, raw_scores, anchors = _face_raw_outputs()
    raw_boxes[0, 895, 2] = -12.8
    opts = DetectionDecodeOptions.face_detection_short_range()
    assert len(decode_detections(raw_boxes, raw_scores, anchors, opts)) == 1


def test_decode_invalid_arguments() -> None:
    opts = DetectionDecodeOptions.face_detection_short_range()
    anchors = generate_anchors(SSDAnchorOptions.face_detection_short_range())
    with pytest.raises(ValueError, match="anchors"):
        decode_boxes(np.zeros((895, 16)), anchors[:895].T, opts)
    with pytest.raises(ValueError, match="896"):
        decode_boxes(np.zeros((895, 16)), anchors[:895], opts)
    with pytest.raises(ValueError, match="values per box"):
        decode_boxes(np.zeros((896, 12)), anchors, opts)
    with pytest.raises(ValueError, match="batch"):
        decode_boxes(np.zeros((2, 896, 16)), anchors, opts)
    with pytest.raises(ValueError, match="raw_scores"):
        decode_detections(np.zeros((896, 16)), np.zeros(10), anchors, opts)
    small = DetectionDecodeOptions(x_scale=1, y_scale=1, w_scale=1, h_scale=1,
                                   num_keypoints=2, keypoint_coord_offset=4)
    with pytest.raises(ValueError, match="at least 8"):
        decode_boxes(np.zeros((1, 7)), np.zeros((1, 4)), small)
    with pytest.raises(ValueError, match="x_scale"):
        DetectionDecodeOptions(x_scale=0, y_scale=1, w_scale=1, h_scale=1)
    with pytest.raises(ValueError, match="num_keypoints"):
        DetectionDecodeOptions(x_scale=1, y_scale=1, w_scale=1, h_scale=1, num_keypoints=-1)
