"""Tests for litert_sdk.utils.anchors (MediaPipe SsdAnchorsCalculator port)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from litert_sdk.utils.anchors import SSDAnchorOptions, generate_anchors


def reference_anchors(opts: SSDAnchorOptions) -> list[tuple[float, float, float, float]]:
    """Straight transcription of MediaPipe's GenerateAnchors loop (double precision)."""

    def calculate_scale(min_scale: float, max_scale: float, idx: int, n: int) -> float:
        if n == 1:
            return (min_scale + max_scale) * 0.5
        return min_scale + (max_scale - min_scale) * 1.0 * idx / (n - 1.0)

    anchors: list[tuple[float, float, float, float]] = []
    strides = list(opts.strides)
    layer_id = 0
    while layer_id < opts.num_layers:
        anchor_height: list[float] = []
        anchor_width: list[float] = []
        aspect_ratios: list[float] = []
        scales: list[float] = []
        last_same_stride_layer = layer_id
        while (last_same_stride_layer < len(strides)
               and strides[last_same_stride_layer] == strides[layer_id]):
            scale = calculate_scale(opts.min_scale, opts.max_scale,
                                    last_same_stride_layer, len(strides))
            if last_same_stride_layer == 0 and opts.reduce_boxes_in_lowest_layer:
                aspect_ratios.append(1.0)
                aspect_ratios.append(2.0)
                aspect_ratios.append(0.5)
                scales.append(0.1)
                scales.append(scale)
                scales.append(scale)
            else:
                for ratio in opts.aspect_ratios:
                    aspect_ratios.append(ratio)
                    scales.append(scale)
                if opts.interpolated_scale_aspect_ratio > 0.0:
                    if last_same_stride_layer == len(strides) - 1:
                        scale_next = 1.0
                    else:
                        scale_next = calculate_scale(opts.min_scale, opts.max_scale,
                                                     last_same_stride_layer + 1,
                                                     len(strides))
                    scales.append(math.sqrt(scale * scale_next))
                    aspect_ratios.append(opts.interpolated_scale_aspect_ratio)
            last_same_stride_layer += 1

        for i in range(len(aspect_ratios)):
            ratio_sqrts = math.sqrt(aspect_ratios[i])
            anchor_height.append(scales[i] / ratio_sqrts)
            anchor_width.append(scales[i] * ratio_sqrts)

        if opts.feature_map_height:
            feature_map_height = opts.feature_map_height[layer_id]
            feature_map_width = opts.feature_map_width[layer_id]
        else:
            stride = strides[layer_id]
            feature_map_height = math.ceil(opts.input_size_height / stride)
            feature_map_width = math.ceil(opts.input_size_width / stride)

        for y in range(feature_map_height):
            for x in range(feature_map_width):
                for anchor_id in range(len(anchor_height)):
                    x_center = (x + opts.anchor_offset_x) / feature_map_width
                    y_center = (y + opts.anchor_offset_y) / feature_map_height
                    if opts.fixed_anchor_size:
                        w, h = 1.0, 1.0
                    else:
                        w, h = anchor_width[anchor_id], anchor_height[anchor_id]
                    anchors.append((x_center, y_center, w, h))
        layer_id = last_same_stride_layer
    return anchors


def _assert_matches_reference(opts: SSDAnchorOptions) -> np.ndarray:
    got = generate_anchors(opts)
    ref = np.asarray(reference_anchors(opts), dtype=np.float64).reshape(-1, 4)
    assert got.dtype == np.float32
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
    return got


# ---------------------------------------------------------------------- presets
def test_face_short_range_count_and_endpoints() -> None:
    anchors = generate_anchors(SSDAnchorOptions.face_detection_short_range())
    assert anchors.shape == (896, 4)
    assert anchors.dtype == np.float32
    np.testing.assert_array_equal(anchors[0], [0.03125, 0.03125, 1.0, 1.0])
    np.testing.assert_array_equal(anchors[-1], [0.9375, 0.9375, 1.0, 1.0])
    # 16x16 grid with 2 anchors per cell, then 8x8 with 6 per cell.
    np.testing.assert_array_equal(anchors[1], anchors[0])
    np.testing.assert_array_equal(anchors[2], [0.09375, 0.03125, 1.0, 1.0])
    np.testing.assert_array_equal(anchors[512], [0.0625, 0.0625, 1.0, 1.0])
    assert np.all(anchors[512:518] == anchors[512])


@pytest.mark.parametrize(
    ("preset", "count"),
    [
        (SSDAnchorOptions.face_detection_short_range, 896),
        (SSDAnchorOptions.face_detection_full_range, 2304),
        (SSDAnchorOptions.palm_detection, 2016),
        (SSDAnchorOptions.pose_detection, 2254),
    ],
)
def test_preset_counts_and_reference(preset: Callable[[], SSDAnchorOptions],
                                     count: int) -> None:
    anchors = _assert_matches_reference(preset())
    assert anchors.shape == (count, 4)
    assert np.all((anchors[:, :2] > 0) & (anchors[:, :2] < 1))


def test_full_range_grid() -> None:
    anchors = generate_anchors(SSDAnchorOptions.face_detection_full_range())
    np.testing.assert_allclose(anchors[0], [0.5 / 48, 0.5 / 48, 1, 1])
    np.testing.assert_allclose(anchors[48], [0.5 / 48, 1.5 / 48, 1, 1])


# ------------------------------------------------------- general configurations
def test_non_fixed_sizes_several_aspect_ratios() -> None:
    opts = SSDAnchorOptions(
        input_size_height=128, input_size_width=96, min_scale=0.2, max_scale=0.9,
        num_layers=4, strides=(8, 16, 16, 32), aspect_ratios=(1.0, 2.0, 0.5, 3.0),
        anchor_offset_x=0.5, anchor_offset_y=0.5, interpolated_scale_aspect_ratio=1.0,
        fixed_anchor_size=False,
    )
    anchors = _assert_matches_reference(opts)
    # 16x12 grid * 5 + 8x6 grid * 10 + 4x3 grid * 5
    assert anchors.shape[0] == 16 * 12 * 5 + 8 * 6 * 10 + 4 * 3 * 5
    # First cell: scale 0.2 for ratios 1, 2, 0.5, 3, then interpolated sqrt(s0*s1).
    s0, s1 = 0.2, 0.2 + 0.7 / 3
    expected_w = [s0, s0 * math.sqrt(2), s0 * math.sqrt(0.5), s0 * math.sqrt(3),
                  math.sqrt(s0 * s1)]
    expected_h = [s0, s0 / math.sqrt(2), s0 / math.sqrt(0.5), s0 / math.sqrt(3),
                  math.sqrt(s0 * s1)]
    np.testing.assert_allclose(anchors[:5, 2], expected_w, rtol=1e-6)
    np.testing.assert_allclose(anchors[:5, 3], expected_h, rtol=1e-6)
    np.testing.assert_allclose(anchors[:5, 0], 0.5 / 12)
    np.testing.assert_allclose(anchors[:5, 1], 0.5 / 16)
    # Last layer uses scale_next = 1.0 for the interpolated anchor.
    np.testing.assert_allclose(anchors[-1, 2], math.sqrt(0.9 * 1.0), rtol=1e-6)


def test_ssd_mobilenet_config_with_reduced_lowest_layer() -> None:
    # Classic SSD MobileNet v1 (300x300) config from MediaPipe's object detection graph.
    opts = SSDAnchorOptions(
        input_size_height=300, input_size_width=300, min_scale=0.2, max_scale=0.95,
        num_layers=6, strides=(16, 32, 64, 128, 256, 512),
        aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333),
        reduce_boxes_in_lowest_layer=True,
    )
    anchors = _assert_matches_reference(opts)
    assert anchors.shape == (1917, 4)
    np.testing.assert_allclose(anchors[0], [0.5 / 19, 0.5 / 19, 0.1, 0.1], rtol=1e-6)
    np.testing.assert_allclose(anchors[1, 2:], [0.2 * math.sqrt(2), 0.2 / math.sqrt(2)],
                               rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(input_size_height=100, input_size_width=75, strides=(16, 32),
             num_layers=2, aspect_ratios=(1.0, 0.5)),  # ceil on non-divisible sizes
        dict(input_size_height=64, input_size_width=64, strides=(8,), num_layers=1,
             aspect_ratios=(1.0, 2.0), interpolated_scale_aspect_ratio=0.0),
        dict(input_size_height=64, input_size_width=48, strides=(8, 8, 16),
             num_layers=3, aspect_ratios=(0.5,), anchor_offset_x=0.0,
             anchor_offset_y=1.0, interpolated_scale_aspect_ratio=2.0),
        dict(input_size_height=64, input_size_width=64, strides=(8, 16),
             num_layers=2, aspect_ratios=(1.0,), feature_map_height=(5, 3),
             feature_map_width=(7, 2)),
        dict(input_size_height=64, input_size_width=64, strides=(8, 16),
             num_layers=2, aspect_ratios=(1.0, 4.0), reduce_boxes_in_lowest_layer=True,
             fixed_anchor_size=True),
    ],
)
def test_against_reference(kwargs: dict[str, Any]) -> None:
    opts = SSDAnchorOptions(min_scale=0.1, max_scale=0.8, **kwargs)
    _assert_matches_reference(opts)


def test_ceil_feature_map() -> None:
    opts = SSDAnchorOptions(input_size_height=100, input_size_width=75, min_scale=0.1,
                            max_scale=0.5, num_layers=1, strides=(16,),
                            aspect_ratios=(1.0,), interpolated_scale_aspect_ratio=0.0)
    anchors = generate_anchors(opts)
    assert anchors.shape == (7 * 5, 4)  # ceil(100/16)=7 rows, ceil(75/16)=5 cols
    np.testing.assert_allclose(anchors[-1, :2], [4.5 / 5, 6.5 / 7], rtol=1e-6)


def test_lists_are_accepted_and_options_hashable() -> None:
    list_kwargs: dict[str, Any] = dict(strides=[8, 16], aspect_ratios=[1.0])
    opts = SSDAnchorOptions(input_size_height=32, input_size_width=32, min_scale=0.1,
                            max_scale=0.5, num_layers=2, **list_kwargs)
    assert opts.strides == (8, 16)
    assert hash(opts) == hash(SSDAnchorOptions(
        input_size_height=32, input_size_width=32, min_scale=0.1, max_scale=0.5,
        num_layers=2, strides=(8, 16), aspect_ratios=(1.0,)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(num_layers=2, strides=(8,)), "strides"),
        (dict(num_layers=0, strides=()), "num_layers"),
        (dict(num_layers=1, strides=(0,)), "strides"),
        (dict(num_layers=1, strides=(8,), input_size_height=-1), "input_size"),
        (dict(num_layers=1, strides=(8,), aspect_ratios=(-1.0,)), "aspect_ratios"),
        (dict(num_layers=1, strides=(8,), feature_map_height=(2,)), "feature_map"),
        (dict(num_layers=1, strides=(8.5,)), "integers"),
    ],
)
def test_invalid_options(kwargs: dict[str, Any], match: str) -> None:
    base: dict[str, Any] = dict(input_size_height=32, input_size_width=32,
                                min_scale=0.1, max_scale=0.5)
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        SSDAnchorOptions(**base)


def test_generate_rejects_wrong_type() -> None:
    with pytest.raises(ValueError):
        generate_anchors("face")  # type: ignore[arg-type]
