"""Image to model-input tensor helpers (resize / letterbox + normalisation).

To map model outputs back to the source image when letterboxing, call
:func:`~litert_sdk.utils.letterbox.letterbox` yourself (it returns the
:class:`~litert_sdk.utils.letterbox.LetterboxInfo`) and pass the result to
:func:`image_to_tensor` without ``size``::

    boxed, info = letterbox(image.astype(np.float32), (128, 128))
    tensor = image_to_tensor(boxed)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .letterbox import letterbox, resize_bilinear

__all__ = ["image_to_tensor", "normalize"]


def _channel_param(name: str, value: float | Sequence[float],
                   channels: int | None) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != (channels or 1)):
        raise ValueError(
            f"{name} must be a scalar or have one value per channel "
            f"({channels or 1}), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def _check_range(name: str, value: tuple[float, float]) -> tuple[float, float]:
    if len(value) != 2:
        raise ValueError(f"{name} must be a (low, high) pair, got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return lo, hi


def normalize(image: NDArray[Any], value_range: tuple[float, float] | None = None, *,
              mean: float | Sequence[float] | None = None,
              std: float | Sequence[float] | None = None,
              input_range: tuple[float, float] = (0.0, 255.0),
              dtype: DTypeLike = np.float32) -> NDArray[np.floating[Any]]:
    """Normalise pixel values to floats.

    Two modes (mutually exclusive):

    * ``value_range=(lo, hi)``: linearly map ``input_range`` (default
      ``(0, 255)``, whatever the input dtype) onto ``(lo, hi)``; e.g.
      ``(-1, 1)`` maps 0 -> -1 and 255 -> 1 exactly. This is the default with
      ``(-1, 1)`` when neither mode is given.
    * ``mean`` / ``std``: ``(x - mean) / std`` on the raw values (as in TFLite
      metadata ``NormalizationOptions``; e.g. ``mean=127.5, std=127.5``). Either
      may be a scalar or per-channel sequence; missing ones default to 0 / 1.

    Values outside ``input_range`` are not clipped. Computed in float64 and
    returned as ``dtype`` (a floating dtype).
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype == np.bool_ or not (
        np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)
    ):
        raise ValueError(f"image dtype must be integer or floating, got {image.dtype}")
    out_dtype = np.dtype(dtype)
    if not np.issubdtype(out_dtype, np.floating):
        raise ValueError(f"dtype must be a floating dtype, got {out_dtype}")
    x = image.astype(np.float64)

    if mean is not None or std is not None:
        if value_range is not None:
            raise ValueError("pass either value_range or mean/std, not both")
        channels = image.shape[-1] if image.ndim == 3 else None
        m = _channel_param("mean", 0.0 if mean is None else mean, channels)
        s = _channel_param("std", 1.0 if std is None else std, channels)
        if np.any(s == 0):
            raise ValueError("std must be non-zero")
        out = (x - m) / s
    else:
        lo, hi = _check_range("value_range", value_range or (-1.0, 1.0))
        in_lo, in_hi = _check_range("input_range", input_range)
        if not in_hi > in_lo:
            raise ValueError(f"input_range must satisfy low < high, got {input_range!r}")
        out = (x - in_lo) / (in_hi - in_lo) * (hi - lo) + lo
    result: NDArray[np.floating[Any]] = out.astype(out_dtype)
    return result


def image_to_tensor(image: NDArray[Any], size: tuple[int, int] | None = None, *,
                    keep_aspect_ratio: bool = True,
                    value_range: tuple[float, float] | None = None,
                    mean: float | Sequence[float] | None = None,
                    std: float | Sequence[float] | None = None,
                    input_range: tuple[float, float] = (0.0, 255.0),
                    pad_value: float | Sequence[float] = 0.0,
                    dtype: DTypeLike = np.float32) -> NDArray[np.floating[Any]]:
    """Convert an ``(H, W, C)`` (or ``(H, W)``) image to a ``(1, h, w, C)`` tensor.

    Args:
        image: image array, typically ``uint8`` RGB. A 2-D image gets one
            channel.
        size: optional ``(height, width)`` of the model input. The image is
            resized in floating point (bilinear, OpenCV half-pixel convention)
            before normalisation: letterboxed (aspect ratio kept, centred,
            padded with ``pad_value`` in raw pixel units) if
            ``keep_aspect_ratio``, else stretched.
        keep_aspect_ratio: letterbox (default) or plain resize.
        value_range, mean, std, input_range: see :func:`normalize`.
        pad_value: letterbox fill value, in input units (0 -> ``value_range``
            low end).
        dtype: floating output dtype (default float32).

    Returns:
        C-contiguous NHWC tensor with batch size 1.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3:
        raise ValueError(f"image must have shape (H, W, C) or (H, W), got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0 or image.shape[2] == 0:
        raise ValueError(f"image must not be empty, got shape {image.shape}")
    if image.dtype == np.bool_ or not (
        np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)
    ):
        raise ValueError(f"image dtype must be integer or floating, got {image.dtype}")
    pixels = image
    if size is not None:
        work = image.astype(np.float64 if image.dtype == np.float64 else np.float32)
        if keep_aspect_ratio:
            pixels, _ = letterbox(work, size, pad_value)
        else:
            pixels = resize_bilinear(work, size)
    tensor = normalize(pixels, value_range, mean=mean, std=std,
                       input_range=input_range, dtype=dtype)
    return np.ascontiguousarray(tensor[None])
