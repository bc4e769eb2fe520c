"""Aspect-preserving resize with centred padding ("letterbox") and its inverse.

Coordinates are handled as arrays whose last axis is either 2 (points
``(x, y)``) or 4 (boxes ``(xmin, ymin, xmax, ymax)``); any leading shape is
kept. By default coordinates are *normalized* (``[0, 1]`` of the image they
refer to); pass ``pixels=True`` to use pixel units of the original image.

Resizing is done in numpy with bilinear interpolation using the half-pixel
convention of OpenCV's ``INTER_LINEAR`` (``align_corners=False``, source
coordinates clamped to the border, no antialiasing). Integer images are
rounded to nearest; OpenCV uses fixed-point weights for ``uint8`` so results
can differ from it by one grey level.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "LetterboxInfo",
    "letterbox",
    "resize_bilinear",
    "scale_from_letterbox",
    "to_letterbox",
]

_ScalarT = TypeVar("_ScalarT", bound=np.generic)

ResizeBackend = Literal["numpy", "pillow"]


def _check_size(name: str, size_hw: Sequence[int]) -> tuple[int, int]:
    if len(size_hw) != 2:
        raise ValueError(f"{name} must be (height, width), got {tuple(size_hw)!r}")
    h, w = size_hw
    if isinstance(h, bool) or isinstance(w, bool) or int(h) != h or int(w) != w:
        raise ValueError(f"{name} must contain integers, got {tuple(size_hw)!r}")
    if h <= 0 or w <= 0:
        raise ValueError(f"{name} must be positive, got {tuple(size_hw)!r}")
    return int(h), int(w)


def _check_image(image: NDArray[Any]) -> None:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim not in (2, 3):
        raise ValueError(
            f"image must have shape (H, W) or (H, W, C), got shape {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image must not be empty, got shape {image.shape}")
    if image.dtype == np.bool_ or not (
        np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)
    ):
        raise ValueError(f"image dtype must be integer or floating, got {image.dtype}")


def _int_limits(dtype: np.dtype[Any]) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _interp_coords(out_size: int, in_size: int) -> tuple[NDArray[np.intp], NDArray[np.intp],
                                                           NDArray[np.float64]]:
    """Neighbour indices and weights for half-pixel bilinear sampling."""
    scale = in_size / out_size
    src = (np.arange(out_size, dtype=np.float64) + 0.5) * scale - 0.5
    src = np.clip(src, 0.0, in_size - 1)
    i0 = np.floor(src).astype(np.intp)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, src - i0


def _resize_pillow(image: NDArray[_ScalarT], out_h: int, out_w: int) -> NDArray[_ScalarT]:
    try:
        pil_image: Any = importlib.import_module("PIL.Image")
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise ImportError("backend='pillow' requires Pillow to be installed") from exc
    if image.dtype != np.uint8 or not (image.ndim == 2 or image.shape[2] in (1, 3, 4)):
        raise ValueError(
            "backend='pillow' supports uint8 images with 1, 3 or 4 channels only, got "
            f"dtype {image.dtype} and shape {image.shape}"
        )
    squeeze = image.ndim == 3 and image.shape[2] == 1
    src = image[..., 0] if squeeze else image
    resampling = getattr(pil_image, "Resampling", pil_image)
    resized = pil_image.fromarray(np.ascontiguousarray(src)).resize(
        (out_w, out_h), resample=resampling.BILINEAR)
    out: NDArray[_ScalarT] = np.asarray(resized, dtype=image.dtype)
    if squeeze:
        out = out[..., None]
    return out


def resize_bilinear(image: NDArray[_ScalarT], size_hw: tuple[int, int], *,
                    backend: ResizeBackend = "numpy") -> NDArray[_ScalarT]:
    """Resize an ``(H, W)`` or ``(H, W, C)`` image to ``size_hw`` bilinearly.

    The numpy backend (default) follows OpenCV ``INTER_LINEAR`` semantics; the
    output has the input's dtype (integer outputs are rounded and clipped).
    ``backend="pillow"`` uses Pillow's ``BILINEAR`` filter instead (uint8 only;
    Pillow antialiases when downscaling, so results differ from numpy's).
    """
    _check_image(image)
    out_h, out_w = _check_size("size_hw", size_hw)
    if backend == "pillow":
        return _resize_pillow(image, out_h, out_w)
    if backend != "numpy":
        raise ValueError(f"backend must be 'numpy' or 'pillow', got {backend!r}")

    in_h, in_w = image.shape[:2]
    if (in_h, in_w) == (out_h, out_w):
        same: NDArray[_ScalarT] = image.copy()
        return same

    work_dtype = np.float32 if image.dtype in (np.float16, np.float32) else np.float64
    y0, y1, wy = _interp_coords(out_h, in_h)
    x0, x1, wx = _interp_coords(out_w, in_w)
    extra = (1,) * (image.ndim - 2)
    wy_b = wy.astype(work_dtype).reshape((-1, 1, *extra))
    wx_b = wx.astype(work_dtype).reshape((1, -1, *extra))

    src = image.astype(work_dtype, copy=False)
    # a + (b - a) * w is exact for constant regions and for w == 0.
    top = src[y0]
    rows = top + (src[y1] - top) * wy_b  # (out_h, in_w, ...)
    left = rows[:, x0]
    out = left + (rows[:, x1] - left) * wx_b  # (out_h, out_w, ...)

    if np.issubdtype(image.dtype, np.integer):
        lo, hi = _int_limits(image.dtype)
        out = np.clip(np.rint(out), lo, hi)
    result: NDArray[_ScalarT] = out.astype(image.dtype, copy=False)
    return result


@dataclass(frozen=True)
class LetterboxInfo:
    """Geometry of a letterbox transform.

    Attributes:
        original_hw: ``(height, width)`` of the source image in pixels.
        target_hw: ``(height, width)`` of the letterboxed output in pixels.
        resized_hw: ``(height, width)`` of the resized image content inside
            the output (the output minus padding).
        scale: resize ratio ``min(target_h / h, target_w / w)``; content size
            is ``round(original * scale)``.
        pad: ``(left, top)`` padding in pixels of the output.
    """

    original_hw: tuple[int, int]
    target_hw: tuple[int, int]
    resized_hw: tuple[int, int]
    scale: float
    pad: tuple[int, int]

    @property
    def pad_normalized(self) -> tuple[float, float]:
        """``(left, top)`` padding as a fraction of the output width/height."""
        return self.pad[0] / self.target_hw[1], self.pad[1] / self.target_hw[0]

    @property
    def pad_right(self) -> int:
        return self.target_hw[1] - self.resized_hw[1] - self.pad[0]

    @property
    def pad_bottom(self) -> int:
        return self.target_hw[0] - self.resized_hw[0] - self.pad[1]

    @classmethod
    def compute(cls, original_hw: tuple[int, int],
                target_hw: tuple[int, int]) -> LetterboxInfo:
        """Letterbox geometry for fitting ``original_hw`` into ``target_hw``."""
        h, w = _check_size("original_hw", original_hw)
        th, tw = _check_size("target_hw", target_hw)
        scale = min(th / h, tw / w)
        new_h = min(th, max(1, round(h * scale)))
        new_w = min(tw, max(1, round(w * scale)))
        pad = ((tw - new_w) // 2, (th - new_h) // 2)
        return cls(original_hw=(h, w), target_hw=(th, tw), resized_hw=(new_h, new_w),
                   scale=scale, pad=pad)


def letterbox(image: NDArray[_ScalarT], target_hw: tuple[int, int],
              pad_value: float | Sequence[float] = 0, *,
              backend: ResizeBackend = "numpy",
              ) -> tuple[NDArray[_ScalarT], LetterboxInfo]:
    """Resize ``image`` into ``target_hw`` keeping its aspect ratio.

    The resized content is centred (extra odd pixel goes right/bottom) and the
    border is filled with ``pad_value`` (a scalar or one value per channel).

    Args:
        image: ``(H, W, C)`` or ``(H, W)`` array, integer or floating.
        target_hw: output ``(height, width)``.
        pad_value: fill value for the padding, in the image's value units.
        backend: resize backend, see :func:`resize_bilinear`.

    Returns:
        ``(letterboxed, info)`` where ``letterboxed`` has shape
        ``target_hw + image.shape[2:]`` and the input dtype.
    """
    _check_image(image)
    info = LetterboxInfo.compute((image.shape[0], image.shape[1]), target_hw)
    fill = np.asarray(pad_value, dtype=np.float64)
    channels = image.shape[2:]
    if fill.ndim > 1 or (fill.ndim == 1 and (not channels or fill.shape[0] != channels[0])):
        raise ValueError(
            f"pad_value must be a scalar or have one value per channel; got shape "
            f"{fill.shape} for image shape {image.shape}"
        )
    if np.issubdtype(image.dtype, np.integer):
        lo, hi = _int_limits(image.dtype)
        if np.any(fill < lo) or np.any(fill > hi) or np.any(np.isnan(fill)):
            raise ValueError(
                f"pad_value {pad_value!r} is out of range for image dtype {image.dtype}"
            )
    th, tw = info.target_hw
    out = np.empty((th, tw, *channels), dtype=image.dtype)
    out[...] = fill.astype(image.dtype)
    content = resize_bilinear(image, info.resized_hw, backend=backend)
    left, top = info.pad
    out[top:top + info.resized_hw[0], left:left + info.resized_hw[1]] = content
    return out, info


def _coords_array(coords: ArrayLike) -> tuple[NDArray[np.float64], np.dtype[Any]]:
    arr = np.asarray(coords)
    if arr.ndim == 0 or arr.shape[-1] not in (2, 4):
        raise ValueError(
            "coordinates must have a last axis of size 2 (x, y) or 4 "
            f"(xmin, ymin, xmax, ymax), got shape {arr.shape}"
        )
    if not (np.issubdtype(arr.dtype, np.number)) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"coordinates must be real numbers, got dtype {arr.dtype}")
    out_dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.dtype(np.float64)
    return arr.astype(np.float64), out_dtype


def _xy_params(arr: NDArray[np.float64], x: tuple[float, float],
               y: tuple[float, float]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-column multiplier and offset vectors for (x, y[, x, y]) layouts."""
    reps = arr.shape[-1] // 2
    mul = np.tile(np.array([x[0], y[0]]), reps)
    add = np.tile(np.array([x[1], y[1]]), reps)
    return mul, add


def scale_from_letterbox(coords: ArrayLike, info: LetterboxInfo, *,
                         pixels: bool = False) -> NDArray[np.floating[Any]]:
    """Map coordinates from the letterboxed frame back to the original image.

    Args:
        coords: points ``(..., 2)`` as ``(x, y)`` or boxes ``(..., 4)`` as
            ``(xmin, ymin, xmax, ymax)``, normalized to the letterboxed image
            (e.g. model outputs).
        info: the :class:`LetterboxInfo` returned by :func:`letterbox`.
        pixels: if true return pixel coordinates of the original image,
            otherwise (default) coordinates normalized to the original image.

    Returns:
        Array of the same shape (float dtype of the input, float64 for
        integer input). Points in the padding map outside ``[0, 1]``; nothing
        is clipped.
    """
    arr, out_dtype = _coords_array(coords)
    th, tw = info.target_hw
    rh, rw = info.resized_hw
    left, top = info.pad
    oh, ow = info.original_hw
    out_w = float(ow) if pixels else 1.0
    out_h = float(oh) if pixels else 1.0
    # x_orig = (x_lb * tw - left) / rw  [* ow]
    mul, add = _xy_params(arr, (tw / rw * out_w, -left / rw * out_w),
                          (th / rh * out_h, -top / rh * out_h))
    result: NDArray[np.floating[Any]] = (arr * mul + add).astype(out_dtype)
    return result


def to_letterbox(coords: ArrayLike, info: LetterboxInfo, *,
                 pixels: bool = False) -> NDArray[np.floating[Any]]:
    """Map coordinates of the original image into the letterboxed frame.

    Inverse of :func:`scale_from_letterbox`. ``coords`` are normalized to the
    original image, or in its pixels if ``pixels=True``; the result is always
    normalized to the letterboxed (model input) image.
    """
    arr, out_dtype = _coords_array(coords)
    th, tw = info.target_hw
    rh, rw = info.resized_hw
    left, top = info.pad
    oh, ow = info.original_hw
    in_w = float(ow) if pixels else 1.0
    in_h = float(oh) if pixels else 1.0
    # x_lb = (x_orig / in_w * rw + left) / tw
    mul, add = _xy_params(arr, (rw / (in_w * tw), left / tw), (rh / (in_h * th), top / th))
    result: NDArray[np.floating[Any]] = (arr * mul + add).astype(out_dtype)
    return result
