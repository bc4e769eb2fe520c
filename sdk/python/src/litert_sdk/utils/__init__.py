"""Pure-numpy pre/post-processing utilities for detection models.

* :mod:`.anchors` - SSD anchor generation (MediaPipe ``SsdAnchorsCalculator``).
* :mod:`.letterbox` - aspect-preserving resize and coordinate mapping.
* :mod:`.detection` - sigmoid, IoU, (weighted) NMS and SSD box decoding.
* :mod:`.image` - image to normalised NHWC tensor.

Only numpy is required.
"""

from __future__ import annotations

from .anchors import SSDAnchorOptions, generate_anchors
from .detection import (
    Detection,
    DetectionDecodeOptions,
    WeightedNMSResult,
    decode_boxes,
    decode_detections,
    decode_scores,
    iou,
    non_max_suppression,
    sigmoid,
    weighted_non_max_suppression,
)
from .image import image_to_tensor, normalize
from .letterbox import (
    LetterboxInfo,
    letterbox,
    resize_bilinear,
    scale_from_letterbox,
    to_letterbox,
)

__all__ = [
    "Detection",
    "DetectionDecodeOptions",
    "LetterboxInfo",
    "SSDAnchorOptions",
    "WeightedNMSResult",
    "decode_boxes",
    "decode_detections",
    "decode_scores",
    "generate_anchors",
    "image_to_tensor",
    "iou",
    "letterbox",
    "non_max_suppression",
    "normalize",
    "resize_bilinear",
    "scale_from_letterbox",
    "sigmoid",
    "to_letterbox",
    "weighted_non_max_suppression",
]
