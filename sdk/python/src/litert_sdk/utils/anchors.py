"""SSD anchor generation compatible with MediaPipe's ``SsdAnchorsCalculator``.

The anchors produced here are bit-for-bit the ones MediaPipe computes in C++
(the float32 arithmetic of the calculator is mirrored, including the double
precision step inside ``CalculateScale``), so raw outputs of MediaPipe's
BlazeFace / palm / pose detectors can be decoded with
:func:`litert_sdk.utils.detection.decode_boxes`.

Each anchor is a row ``(x_center, y_center, w, h)`` in normalized ``[0, 1]``
coordinates of the model input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["SSDAnchorOptions", "generate_anchors"]


def _as_int_tuple(name: str, values: Sequence[int]) -> tuple[int, ...]:
    out: list[int] = []
    for v in values:
        if isinstance(v, bool) or int(v) != v:
            raise ValueError(f"{name} must contain integers, got {v!r}")
        out.append(int(v))
    return tuple(out)


def _as_float_tuple(name: str, values: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if any(math.isnan(v) for v in out):
        raise ValueError(f"{name} must not contain NaN")
    return out


@dataclass(frozen=True)
class SSDAnchorOptions:
    """Options of MediaPipe's ``SsdAnchorsCalculatorOptions``.

    Field names and defaults follow ``ssd_anchors_calculator.proto`` so a
    ``.pbtxt`` graph config can be transcribed one-to-one. Sequences may be
    given as lists; they are stored as tuples.

    ``strides`` is required (one per layer): MediaPipe groups consecutive
    layers with equal strides into one anchor grid and derives the grid size
    as ``ceil(input_size / stride)``. ``feature_map_height`` /
    ``feature_map_width`` may optionally override those grid sizes (one per
    layer, as in MediaPipe, where explicit feature maps take precedence).
    ``multiscale_anchor_generation`` is not supported.
    """

    input_size_height: int
    input_size_width: int
    min_scale: float
    max_scale: float
    num_layers: int
    strides: tuple[int, ...] = ()
    aspect_ratios: tuple[float, ...] = ()
    anchor_offset_x: float = 0.5
    anchor_offset_y: float = 0.5
    feature_map_height: tuple[int, ...] = ()
    feature_map_width: tuple[int, ...] = ()
    reduce_boxes_in_lowest_layer: bool = False
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = False

    def __post_init__(self) -> None:
        strides = _as_int_tuple("strides", self.strides)
        fm_h = _as_int_tuple("feature_map_height", self.feature_map_height)
        fm_w = _as_int_tuple("feature_map_width", self.feature_map_width)
        ratios = _as_float_tuple("aspect_ratios", self.aspect_ratios)
        object.__setattr__(self, "strides", strides)
        object.__setattr__(self, "feature_map_height", fm_h)
        object.__setattr__(self, "feature_map_width", fm_w)
        object.__setattr__(self, "aspect_ratios", ratios)

        if self.input_size_height <= 0 or self.input_size_width <= 0:
            raise ValueError(
                "input_size_height and input_size_width must be positive, got "
                f"{self.input_size_height}x{self.input_size_width}"
            )
        if self.num_layers <= 0:
            raise ValueError(f"num_layers must be positive, got {self.num_layers}")
        if len(strides) != self.num_layers:
            raise ValueError(
                f"strides must have num_layers={self.num_layers} entries, "
                f"got {len(strides)}"
            )
        if any(s <= 0 for s in strides):
            raise ValueError(f"strides must be positive, got {strides}")
        if fm_h or fm_w:
            if len(fm_h) != self.num_layers or len(fm_w) != self.num_layers:
                raise ValueError(
                    "feature_map_height and feature_map_width must both have "
                    f"num_layers={self.num_layers} entries, got {len(fm_h)} and "
                    f"{len(fm_w)}"
                )
            if any(v <= 0 for v in fm_h + fm_w):
                raise ValueError("feature map sizes must be positive")
        if any(r <= 0 for r in ratios):
            raise ValueError(f"aspect_ratios must be positive, got {ratios}")
        for name in ("min_scale", "max_scale", "anchor_offset_x", "anchor_offset_y",
                     "interpolated_scale_aspect_ratio"):
            value = float(getattr(self, name))
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value}")

    # ----------------------------------------------------------------- presets
    @classmethod
    def _blaze(cls, size: int, strides: tuple[int, ...], **extra: Any) -> SSDAnchorOptions:
        """The MediaPipe Blaze detectors' shared settings: a square input, scales from 0.1484375 to 0.75, one aspect
        ratio, anchors centred in their cells and of a fixed size."""
        return cls(input_size_height=size, input_size_width=size, min_scale=0.1484375, max_scale=0.75,
                   num_layers=len(strides), strides=strides, aspect_ratios=(1.0,), anchor_offset_x=0.5,
                   anchor_offset_y=0.5, fixed_anchor_size=True, **extra)

    @classmethod
    def face_detection_short_range(cls) -> SSDAnchorOptions:
        """BlazeFace short range (128x128 input, 896 anchors)."""
        return cls._blaze(128, (8, 16, 16, 16), interpolated_scale_aspect_ratio=1.0)

    @classmethod
    def face_detection_full_range(cls) -> SSDAnchorOptions:
        """BlazeFace full range (192x192 input, 2304 anchors)."""
        return cls._blaze(192, (4,), interpolated_scale_aspect_ratio=0.0)

    @classmethod
    def palm_detection(cls) -> SSDAnchorOptions:
        """MediaPipe palm detector (192x192 input, 2016 anchors)."""
        return cls._blaze(192, (8, 16, 16, 16))

    @classmethod
    def pose_detection(cls) -> SSDAnchorOptions:
        """MediaPipe (BlazePose) pose detector (224x224 input, 2254 anchors)."""
        return cls._blaze(224, (8, 16, 32, 32, 32))


def _calculate_scale(min_scale: float, max_scale: float, stride_index: int,
                     num_strides: int) -> np.float32:
    """Mirror of MediaPipe's ``CalculateScale`` including its float/double mix."""
    lo = np.float32(min_scale)
    hi = np.float32(max_scale)
    result: np.float32
    if num_strides == 1:
        result = np.float32((lo + hi) * np.float32(0.5))
        return result
    # C++: min_scale + (max_scale - min_scale) * 1.0 * stride_index / (num_strides - 1.0f)
    diff = float(np.float32(hi - lo))  # float subtraction, promoted to double by "* 1.0"
    denom = float(np.float32(num_strides - 1.0))
    result = np.float32(float(lo) + diff * 1.0 * stride_index / denom)
    return result


def generate_anchors(options: SSDAnchorOptions) -> NDArray[np.float32]:
    """Generate SSD anchors exactly like MediaPipe's ``SsdAnchorsCalculator``.

    Returns:
        ``float32`` array of shape ``(N, 4)`` with columns
        ``(x_center, y_center, w, h)``, normalized to the model input. Anchors
        are ordered by layer group, then row ``y``, column ``x`` and anchor
        shape, as in MediaPipe.
    """
    if not isinstance(options, SSDAnchorOptions):
        raise ValueError(
            f"options must be an SSDAnchorOptions, got {type(options).__name__}"
        )
    strides = options.strides
    num_strides = len(strides)
    one = np.float32(1.0)
    blocks: list[NDArray[np.float32]] = []

    layer_id = 0
    while layer_id < options.num_layers:
        aspect_ratios: list[np.float32] = []
        scales: list[np.float32] = []

        last_same = layer_id
        while last_same < num_strides and strides[last_same] == strides[layer_id]:
            scale = _calculate_scale(options.min_scale, options.max_scale,
                                     last_same, num_strides)
            if last_same == 0 and options.reduce_boxes_in_lowest_layer:
                aspect_ratios += [np.float32(1.0), np.float32(2.0), np.float32(0.5)]
                scales += [np.float32(0.1), scale, scale]
            else:
                for ratio in options.aspect_ratios:
                    aspect_ratios.append(np.float32(ratio))
                    scales.append(scale)
                if options.interpolated_scale_aspect_ratio > 0.0:
                    scale_next = (
                        one if last_same == num_strides - 1
                        else _calculate_scale(options.min_scale, options.max_scale,
                                              last_same + 1, num_strides)
                    )
                    scales.append(np.float32(np.sqrt(np.float32(scale * scale_next))))
                    aspect_ratios.append(
                        np.float32(options.interpolated_scale_aspect_ratio))
            last_same += 1

        ratio_arr = np.asarray(aspect_ratios, dtype=np.float32)
        scale_arr = np.asarray(scales, dtype=np.float32)
        ratio_sqrts = np.sqrt(ratio_arr)
        anchor_h = scale_arr / ratio_sqrts
        anchor_w = scale_arr * ratio_sqrts

        if options.feature_map_height:
            fm_h = options.feature_map_height[layer_id]
            fm_w = options.feature_map_width[layer_id]
        else:
            stride = strides[layer_id]
            fm_h = math.ceil(options.input_size_height / stride)
            fm_w = math.ceil(options.input_size_width / stride)

        num_shapes = ratio_arr.shape[0]
        xs = (np.arange(fm_w, dtype=np.float32) + np.float32(options.anchor_offset_x)) \
            * one / np.float32(fm_w)
        ys = (np.arange(fm_h, dtype=np.float32) + np.float32(options.anchor_offset_y)) \
            * one / np.float32(fm_h)
        block = np.empty((fm_h, fm_w, num_shapes, 4), dtype=np.float32)
        block[..., 0] = xs[None, :, None]
        block[..., 1] = ys[:, None, None]
        if options.fixed_anchor_size:
            block[..., 2] = one
            block[..., 3] = one
        else:
            block[..., 2] = anchor_w[None, None, :]
            block[..., 3] = anchor_h[None, None, :]
        blocks.append(block.reshape(-1, 4))

        layer_id = last_same

    if not blocks:
        return np.zeros((0, 4), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(blocks, axis=0), dtype=np.float32)
