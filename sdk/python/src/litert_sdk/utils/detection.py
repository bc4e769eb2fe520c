"""Detection post-processing: sigmoid, IoU, (weighted) NMS and SSD box decoding.

Boxes are ``(xmin, ymin, xmax, ymax)`` rows; keypoints are ``(x, y)`` pairs.
Decoding mirrors MediaPipe's ``TensorsToDetectionsCalculator`` and weighted
NMS mirrors the ``WEIGHTED`` algorithm of its ``NonMaxSuppressionCalculator``,
so raw outputs of MediaPipe's SSD-style detectors (BlazeFace, palm, pose) can
be post-processed without MediaPipe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BoxSize",
    "Detection",
    "DetectionDecodeOptions",
    "WeightedNMSResult",
    "decode_boxes",
    "decode_detections",
    "decode_scores",
    "iou",
    "non_max_suppression",
    "sigmoid",
    "weighted_non_max_suppression",
]


# --------------------------------------------------------------------- helpers
def sigmoid(x: ArrayLike) -> NDArray[np.floating[Any]]:
    """Numerically stable logistic function ``1 / (1 + exp(-x))``.

    Never overflows (``exp`` is only evaluated at ``-|x|``), maps ``+inf`` to 1
    and ``-inf`` to 0. Floating inputs keep their dtype; other inputs are
    computed in float64.
    """
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    with np.errstate(under="ignore"):
        z = np.exp(-np.abs(arr))
    result: NDArray[np.floating[Any]] = np.where(arr >= 0, 1 / (1 + z), z / (1 + z))
    return result.astype(arr.dtype, copy=False)


def _as_boxes(boxes: ArrayLike, name: str) -> NDArray[np.floating[Any]]:
    arr = np.asarray(boxes)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(
            f"{name} must have shape (N, 4) as (xmin, ymin, xmax, ymax), got shape "
            f"{arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise ValueError(f"{name} must be real numbers, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    return arr


def _as_scores(scores: ArrayLike, n: int, name: str = "scores") -> NDArray[np.floating[Any]]:
    arr = np.asarray(scores)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) to match boxes, got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def _areas(boxes: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 0)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    result: NDArray[np.floating[Any]] = w * h
    return result


def _iou_one_to_many(box: NDArray[np.floating[Any]], area: Any,
                     boxes: NDArray[np.floating[Any]],
                     areas: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
    iw = np.maximum(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0)
    ih = np.maximum(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0)
    inter = iw * ih
    union = area + areas - inter
    out: NDArray[np.floating[Any]] = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def iou(boxes_a: ArrayLike, boxes_b: ArrayLike) -> NDArray[np.floating[Any]]:
    """Pairwise intersection-over-union.

    Args:
        boxes_a: ``(A, 4)`` boxes ``(xmin, ymin, xmax, ymax)``.
        boxes_b: ``(B, 4)`` boxes.

    Returns:
        ``(A, B)`` matrix. Inverted boxes count as empty; pairs whose union
        is empty get 0. Computed in the common float dtype of the inputs
        (at least float32).
    """
    a = _as_boxes(boxes_a, "boxes_a")
    b = _as_boxes(boxes_b, "boxes_b")
    dtype = np.result_type(a.dtype, b.dtype, np.float32)
    a = a.astype(dtype, copy=False)
    b = b.astype(dtype, copy=False)
    iw = np.maximum(np.minimum(a[:, None, 2], b[None, :, 2])
                    - np.maximum(a[:, None, 0], b[None, :, 0]), 0)
    ih = np.maximum(np.minimum(a[:, None, 3], b[None, :, 3])
                    - np.maximum(a[:, None, 1], b[None, :, 1]), 0)
    inter = iw * ih
    union = _areas(a)[:, None] + _areas(b)[None, :] - inter
    out: NDArray[np.floating[Any]] = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def _check_thresholds(iou_threshold: float, max_detections: int | None) -> None:
    if math.isnan(iou_threshold):
        raise ValueError("iou_threshold must not be NaN")
    if max_detections is not None and max_detections < 0:
        raise ValueError(f"max_detections must be non-negative, got {max_detections}")


def _candidate_order(scores: NDArray[np.floating[Any]],
                     score_threshold: float) -> NDArray[np.intp]:
    """Indices with ``score >= score_threshold`` by decreasing score (stable)."""
    candidates = np.flatnonzero(scores >= score_threshold)
    order = np.argsort(-scores[candidates], kind="stable")
    result: NDArray[np.intp] = candidates[order].astype(np.intp)
    return result


# ------------------------------------------------------------------------- NMS
def non_max_suppression(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float,
                        score_threshold: float = -math.inf,
                        max_detections: int | None = None) -> NDArray[np.intp]:
    """Greedy hard non-maximum suppression.

    Boxes are visited by decreasing score (ties: lower index first); a box is
    dropped when its IoU with an already kept box is strictly greater than
    ``iou_threshold`` (MediaPipe's ``DEFAULT`` algorithm). Boxes with
    ``score < score_threshold`` (or NaN score) are ignored.

    Returns:
        Indices into ``boxes`` of the kept boxes, by decreasing score, at most
        ``max_detections`` of them.
    """
    b = _as_boxes(boxes, "boxes")
    s = _as_scores(scores, b.shape[0])
    _check_thresholds(iou_threshold, max_detections)
    limit = b.shape[0] if max_detections is None else max_detections
    order = _candidate_order(s, score_threshold)
    areas = _areas(b)
    keep: list[int] = []
    while order.size > 0 and len(keep) < limit:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        overlap = _iou_one_to_many(b[i], areas[i], b[rest], areas[rest])
        order = rest[~(overlap > iou_threshold)]
    return np.asarray(keep, dtype=np.intp)


class WeightedNMSResult(NamedTuple):
    """Output of :func:`weighted_non_max_suppression` (``M`` clusters)."""

    boxes: NDArray[np.float32]
    """``(M, 4)`` score-weighted average boxes."""
    scores: NDArray[np.float32]
    """``(M,)`` score of each cluster's top box."""
    keypoints: NDArray[np.float32]
    """``(M, K, 2)`` score-weighted average keypoints (``K = 0`` if none given)."""
    indices: NDArray[np.intp]
    """``(M,)`` index of each cluster's top-scoring box."""


def weighted_non_max_suppression(boxes: ArrayLike, scores: ArrayLike,
                                 iou_threshold: float,
                                 keypoints: ArrayLike | None = None,
                                 score_threshold: float = -math.inf,
                                 max_detections: int | None = None,
                                 ) -> WeightedNMSResult:
    """Weighted NMS as in MediaPipe's ``NonMaxSuppressionCalculator`` (WEIGHTED).

    Repeatedly takes the highest scoring remaining box, forms a cluster of it
    and every remaining box whose IoU with it is strictly greater than
    ``iou_threshold``, removes the cluster and emits the score-weighted mean of
    the cluster's box corners (and keypoints) with the top box's score.

    Differences from MediaPipe: the top box always belongs to its own cluster
    (MediaPipe stops outright if a degenerate top box fails to overlap
    itself), score ties are broken by index, and a cluster whose total score is
    not positive keeps the top box's coordinates.

    Args:
        boxes: ``(N, 4)`` boxes ``(xmin, ymin, xmax, ymax)``.
        scores: ``(N,)`` scores (used as averaging weights).
        iou_threshold: clustering threshold.
        keypoints: optional ``(N, K, 2)`` keypoints averaged like the boxes.
        score_threshold: boxes scoring below it are ignored.
        max_detections: stop after this many clusters.
    """
    b = _as_boxes(boxes, "boxes")
    n = b.shape[0]
    s = _as_scores(scores, n)
    _check_thresholds(iou_threshold, max_detections)
    if keypoints is None:
        kps: NDArray[np.floating[Any]] = np.zeros((n, 0, 2), dtype=np.float64)
    else:
        kps = np.asarray(keypoints, dtype=np.float64)
        if kps.ndim != 3 or kps.shape[0] != n or kps.shape[2] != 2:
            raise ValueError(
                f"keypoints must have shape ({n}, K, 2) to match boxes, got {kps.shape}"
            )
    limit = n if max_detections is None else max_detections
    b64 = b.astype(np.float64)
    s64 = s.astype(np.float64)
    areas = _areas(b)
    order = _candidate_order(s, score_threshold)

    out_boxes: list[NDArray[np.float64]] = []
    out_kps: list[NDArray[np.float64]] = []
    out_idx: list[int] = []
    while order.size > 0 and len(out_idx) < limit:
        top = int(order[0])
        overlap = _iou_one_to_many(b[top], areas[top], b[order], areas[order])
        in_cluster = overlap > iou_threshold
        in_cluster[0] = True
        members = order[in_cluster]
        weights = s64[members]
        total = float(weights.sum())
        if total > 0:
            out_boxes.append(weights @ b64[members] / total)
            out_kps.append(np.tensordot(weights, kps[members], axes=1) / total)
        else:
            out_boxes.append(b64[top])
            out_kps.append(kps[top])
        out_idx.append(top)
        order = order[~in_cluster]

    m, k = len(out_idx), kps.shape[1]
    idx = np.asarray(out_idx, dtype=np.intp)
    return WeightedNMSResult(
        boxes=np.asarray(out_boxes, dtype=np.float32).reshape(m, 4),
        scores=s[idx].astype(np.float32),
        keypoints=np.asarray(out_kps, dtype=np.float32).reshape(m, k, 2),
        indices=idx,
    )


# -------------------------------------------------------------------- decoding
@dataclass(frozen=True)
class DetectionDecodeOptions:
    """Subset of MediaPipe's ``TensorsToDetectionsCalculatorOptions``.

    Defaults follow the proto, except that the four scales are required.
    ``num_boxes`` / ``num_coords``, when set, are only used to validate input
    shapes.
    """

    x_scale: float
    y_scale: float
    w_scale: float
    h_scale: float
    num_keypoints: int = 0
    keypoint_coord_offset: int = 0
    num_values_per_keypoint: int = 2
    box_coord_offset: int = 0
    reverse_output_order: bool = False
    apply_exponential_on_box_size: bool = False
    sigmoid_score: bool = False
    score_clipping_thresh: float | None = None
    min_score_thresh: float | None = None
    flip_vertically: bool = False
    num_boxes: int | None = None
    num_coords: int | None = None

    def __post_init__(self) -> None:
        for name in ("x_scale", "y_scale", "w_scale", "h_scale"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value != 0):
                raise ValueError(f"{name} must be finite and non-zero, got {value}")
        if self.num_keypoints < 0:
            raise ValueError(f"num_keypoints must be non-negative, got {self.num_keypoints}")
        if self.num_values_per_keypoint < 2:
            raise ValueError(
                f"num_values_per_keypoint must be >= 2, got {self.num_values_per_keypoint}"
            )
        if self.keypoint_coord_offset < 0 or self.box_coord_offset < 0:
            raise ValueError("keypoint_coord_offset and box_coord_offset must be non-negative")
        if self.score_clipping_thresh is not None and not self.score_clipping_thresh >= 0:
            raise ValueError(
                f"score_clipping_thresh must be non-negative, got {self.score_clipping_thresh}"
            )
        for name in ("num_boxes", "num_coords"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        needed = self.min_num_coords
        if self.num_coords is not None and self.num_coords < needed:
            raise ValueError(
                f"num_coords={self.num_coords} is too small for the box/keypoint layout "
                f"(needs at least {needed})"
            )

    @property
    def min_num_coords(self) -> int:
        """Smallest number of values per box implied by the offsets."""
        needed = self.box_coord_offset + 4
        if self.num_keypoints:
            needed = max(needed, self.keypoint_coord_offset
                         + (self.num_keypoints - 1) * self.num_values_per_keypoint + 2)
        return needed

    @classmethod
    def _mediapipe_ssd(cls, scale: float, num_keypoints: int, num_boxes: int,
                       min_score_thresh: float) -> DetectionDecodeOptions:
        return cls(
            x_scale=scale, y_scale=scale, w_scale=scale, h_scale=scale,
            num_keypoints=num_keypoints, keypoint_coord_offset=4,
            num_values_per_keypoint=2, box_coord_offset=0,
            reverse_output_order=True, sigmoid_score=True,
            score_clipping_thresh=100.0, min_score_thresh=min_score_thresh,
            num_boxes=num_boxes, num_coords=4 + 2 * num_keypoints,
        )

    @classmethod
    def face_detection_short_range(cls) -> DetectionDecodeOptions:
        """BlazeFace short range: 896 boxes x 16 values, 6 keypoints, scale 128."""
        return cls._mediapipe_ssd(128.0, 6, 896, 0.5)

    @classmethod
    def face_detection_full_range(cls) -> DetectionDecodeOptions:
        """BlazeFace full range: 2304 boxes x 16 values, 6 keypoints, scale 192."""
        return cls._mediapipe_ssd(192.0, 6, 2304, 0.6)

    @classmethod
    def palm_detection(cls) -> DetectionDecodeOptions:
        """Palm detector: 2016 boxes x 18 values, 7 keypoints, scale 192."""
        return cls._mediapipe_ssd(192.0, 7, 2016, 0.5)

    @classmethod
    def pose_detection(cls) -> DetectionDecodeOptions:
        """Pose detector: 2254 boxes x 12 values, 4 keypoints, scale 224."""
        return cls._mediapipe_ssd(224.0, 4, 2254, 0.5)


def _squeeze_batch(arr: NDArray[Any], ndim: int, name: str) -> NDArray[Any]:
    if arr.ndim == ndim + 1:
        if arr.shape[0] != 1:
            raise ValueError(f"{name} has batch size {arr.shape[0]}; only 1 is supported")
        first: NDArray[Any] = arr[0]
        return first
    return arr


def decode_boxes(raw_boxes: ArrayLike, anchors: ArrayLike,
                 options: DetectionDecodeOptions,
                 ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Decode raw SSD regressors like MediaPipe's ``TensorsToDetectionsCalculator``.

    For each box ``i`` with anchor ``(xc, yc, w, h)``::

        x_center = raw_x / x_scale * anchor_w + anchor_xc   (same for y)
        w = raw_w / w_scale * anchor_w      (or exp(raw_w / w_scale) * anchor_w)
        keypoint_x = raw_kx / x_scale * anchor_w + anchor_xc

    Raw values are read as ``(y, x, h, w)`` / ``(ky, kx)`` or, with
    ``reverse_output_order``, as ``(x, y, w, h)`` / ``(kx, ky)``. With
    ``flip_vertically`` y coordinates are mirrored (``y -> 1 - y``).
    Computation is in float32 like MediaPipe.

    Args:
        raw_boxes: ``(N, num_coords)`` (or ``(1, N, num_coords)``) regressors.
        anchors: ``(N, 4)`` anchors ``(x_center, y_center, w, h)``, e.g. from
            :func:`~litert_sdk.utils.anchors.generate_anchors`.
        options: decoding options.

    Returns:
        ``(boxes, keypoints)``: ``(N, 4)`` ``(xmin, ymin, xmax, ymax)`` and
        ``(N, num_keypoints, 2)`` ``(x, y)``, normalized, float32.
    """
    raw = _squeeze_batch(np.asarray(raw_boxes), 2, "raw_boxes")
    anc = np.asarray(anchors)
    if raw.ndim != 2:
        raise ValueError(f"raw_boxes must have shape (N, num_coords), got {raw.shape}")
    if anc.ndim != 2 or anc.shape[1] != 4:
        raise ValueError(f"anchors must have shape (N, 4), got {anc.shape}")
    if raw.shape[0] != anc.shape[0]:
        raise ValueError(
            f"raw_boxes has {raw.shape[0]} boxes but there are {anc.shape[0]} anchors"
        )
    if options.num_boxes is not None and raw.shape[0] != options.num_boxes:
        raise ValueError(f"expected {options.num_boxes} boxes, got {raw.shape[0]}")
    if options.num_coords is not None and raw.shape[1] != options.num_coords:
        raise ValueError(f"expected {options.num_coords} values per box, got {raw.shape[1]}")
    if raw.shape[1] < options.min_num_coords:
        raise ValueError(
            f"raw_boxes has {raw.shape[1]} values per box, the options need at least "
            f"{options.min_num_coords}"
        )
    raw = raw.astype(np.float32, copy=False)
    anc = anc.astype(np.float32, copy=False)
    a_xc, a_yc, a_w, a_h = anc[:, 0], anc[:, 1], anc[:, 2], anc[:, 3]
    x_scale = np.float32(options.x_scale)
    y_scale = np.float32(options.y_scale)
    w_scale = np.float32(options.w_scale)
    h_scale = np.float32(options.h_scale)

    o = options.box_coord_offset
    if options.reverse_output_order:
        x_c, y_c, w, h = raw[:, o], raw[:, o + 1], raw[:, o + 2], raw[:, o + 3]
    else:
        y_c, x_c, h, w = raw[:, o], raw[:, o + 1], raw[:, o + 2], raw[:, o + 3]

    x_c = x_c / x_scale * a_w + a_xc
    y_c = y_c / y_scale * a_h + a_yc
    if options.apply_exponential_on_box_size:
        with np.errstate(over="ignore"):
            h = np.exp(h / h_scale) * a_h
            w = np.exp(w / w_scale) * a_w
    else:
        h = h / h_scale * a_h
        w = w / w_scale * a_w
    half_w = w / np.float32(2)
    half_h = h / np.float32(2)
    boxes = np.stack([x_c - half_w, y_c - half_h, x_c + half_w, y_c + half_h], axis=1)

    k = options.num_keypoints
    kp_cols = options.keypoint_coord_offset + np.arange(k) * options.num_values_per_keypoint
    first = raw[:, kp_cols]
    second = raw[:, kp_cols + 1]
    kx, ky = (first, second) if options.reverse_output_order else (second, first)
    keypoints = np.stack([kx / x_scale * a_w[:, None] + a_xc[:, None],
                          ky / y_scale * a_h[:, None] + a_yc[:, None]], axis=2)

    if options.flip_vertically:
        one = np.float32(1)
        boxes = np.stack([boxes[:, 0], one - boxes[:, 3], boxes[:, 2], one - boxes[:, 1]],
                         axis=1)
        keypoints[..., 1] = one - keypoints[..., 1]
    return boxes.astype(np.float32, copy=False), keypoints.astype(np.float32, copy=False)


def decode_scores(raw_scores: ArrayLike, options: DetectionDecodeOptions,
                  ) -> tuple[NDArray[np.float32], NDArray[np.intp]]:
    """Per-box best score and class like ``TensorsToDetectionsCalculator``.

    With ``sigmoid_score`` the logits are clipped to
    ``[-score_clipping_thresh, score_clipping_thresh]`` (when set) and passed
    through :func:`sigmoid`. ``raw_scores`` may be ``(N,)``, ``(N, C)`` or
    ``(1, N, C)``.

    Returns:
        ``(scores, class_ids)`` of shape ``(N,)``.
    """
    arr = np.asarray(raw_scores)
    if arr.ndim == 3:
        arr = _squeeze_batch(arr, 2, "raw_scores")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(
            f"raw_scores must have shape (N,), (N, C) or (1, N, C), got {np.shape(raw_scores)}"
        )
    scores = arr.astype(np.float32)
    if options.sigmoid_score:
        if options.score_clipping_thresh is not None:
            clip = np.float32(options.score_clipping_thresh)
            scores = np.clip(scores, -clip, clip)
        scores = sigmoid(scores).astype(np.float32, copy=False)
    class_ids = np.argmax(scores, axis=1).astype(np.intp)
    best = scores[np.arange(scores.shape[0]), class_ids]
    return best, class_ids


class BoxSize:
    """``width`` and ``height`` of a detection's ``box`` ``(xmin, ymin, xmax, ymax)``, in its units (a mix-in of
    :class:`Detection` and :class:`litert_sdk.vision.FaceDetection`)."""

    box: Any

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])


@dataclass(frozen=True, eq=False)
class Detection(BoxSize):
    """One detection in normalized coordinates of the model input."""

    box: NDArray[np.float32]
    """``(4,)`` box ``(xmin, ymin, xmax, ymax)``."""
    score: float
    keypoints: NDArray[np.float32]
    """``(K, 2)`` keypoints ``(x, y)``."""
    class_id: int = 0


def decode_detections(raw_boxes: ArrayLike, raw_scores: ArrayLike, anchors: ArrayLike,
                      options: DetectionDecodeOptions,
                      score_threshold: float | None = None,
                      min_suppression_threshold: float = 0.3,
                      weighted: bool = True,
                      max_detections: int | None = None) -> list[Detection]:
    """Decode raw SSD outputs into detections (decode, filter, NMS).

    Equivalent to MediaPipe's ``TensorsToDetectionsCalculator`` followed by
    ``NonMaxSuppressionCalculator`` with IoU overlap and the ``WEIGHTED``
    (default here) or ``DEFAULT`` algorithm.

    Args:
        raw_boxes: ``(N, num_coords)`` or ``(1, N, num_coords)`` regressors.
        raw_scores: ``(N,)``, ``(N, C)`` or ``(1, N, C)`` class logits/scores.
        anchors: ``(N, 4)`` anchors.
        options: decoding options (see the presets on
            :class:`DetectionDecodeOptions`).
        score_threshold: minimum score; defaults to
            ``options.min_score_thresh`` (no filtering if that is ``None``).
        min_suppression_threshold: IoU above which boxes are merged/suppressed.
        weighted: weighted (averaging) NMS if true, else hard NMS.
        max_detections: maximum number of detections returned.

    Returns:
        Detections by decreasing score, normalized to the model input (use
        :func:`~litert_sdk.utils.letterbox.scale_from_letterbox` to map them to
        the original image). Boxes with negative or NaN width/height are
        dropped, as in MediaPipe.
    """
    boxes, keypoints = decode_boxes(raw_boxes, anchors, options)
    scores, class_ids = decode_scores(raw_scores, options)
    if scores.shape[0] != boxes.shape[0]:
        raise ValueError(
            f"raw_scores has {scores.shape[0]} boxes but raw_boxes has {boxes.shape[0]}"
        )
    if score_threshold is None:
        score_threshold = (-math.inf if options.min_score_thresh is None
                           else options.min_score_thresh)
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    valid = np.flatnonzero((scores >= score_threshold) & (widths >= 0) & (heights >= 0))
    v_boxes, v_scores, v_kps = boxes[valid], scores[valid], keypoints[valid]

    if weighted:
        res = weighted_non_max_suppression(v_boxes, v_scores, min_suppression_threshold,
                                           keypoints=v_kps, max_detections=max_detections)
        out_boxes, out_scores, out_kps, picked = res.boxes, res.scores, res.keypoints, res.indices
    else:
        picked = non_max_suppression(v_boxes, v_scores, min_suppression_threshold,
                                     max_detections=max_detections)
        out_boxes, out_scores, out_kps = v_boxes[picked], v_scores[picked], v_kps[picked]
    out_classes = class_ids[valid][picked]
    return [
        Detection(box=out_boxes[i].copy(), score=float(out_scores[i]),
                  keypoints=out_kps[i].copy(), class_id=int(out_classes[i]))
        for i in range(len(picked))
    ]
