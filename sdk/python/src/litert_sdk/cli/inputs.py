"""Inputs for ``litert-sdk run`` / ``bench`` / ``verify``: files (.npy, .npz, images) coerced to the model's inputs,
and seeded random data."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._cli_base import (
    CliError,
)
from .._cli_base import check_input_file as _check_input_file
from .._cli_base import one_line as _one_line
from ..verification import random_input
from ._model import _current_shape, _fmt_shape, _resolve_name


def _random_inputs(cm: Any, spec: Any, rng: np.random.Generator, names: Sequence[str] | None = None
                   ) -> dict[str, np.ndarray]:
    out = {}
    for name, t in spec.inputs:
        if names is not None and name not in names:
            continue
        if t.dtype is None:
            raise CliError(f"input {name!r} has type {t.type_name}: give it explicitly, no random data for it")
        shape = _current_shape(cm, spec, name)
        if any(d < 0 for d in shape):
            raise CliError(f"input {name!r} has a dynamic shape {list(t.shape or ())}: set one with "
                           f"--shape {name}=D0,D1,...")
        out[name] = random_input(shape, t.dtype, rng)  # (litert_sdk.verification: the SDK's one generator)
    return out


def _parse_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise CliError(f"--image-range expects LO,HI (e.g. 0,1 or -1,1), got {text!r}") from None
    if not hi > lo:
        raise CliError(f"--image-range must satisfy LO < HI, got {text!r}")
    return lo, hi


def image_to_input(image: np.ndarray, shape: Sequence[int], dtype: np.dtype, name: str, *,
                   value_range: tuple[float, float] | None = None, quantization: Any = None,
                   letterbox: bool = False) -> np.ndarray:
    """Convert a uint8 RGB image to an image-like input of ``shape`` (NHWC/NCHW/HWC, 1/3/4 channels).

    Float inputs get pixel values mapped to ``value_range`` (default ``[0, 1]``). Integer inputs get raw pixels
    (uint8) or pixels - 128 (int8), or, when ``value_range`` is given and the input is quantized, the range
    quantized with the input's scale and zero point.
    """
    from ..utils import letterbox as _letterbox
    from ..utils import resize_bilinear

    dims = [int(d) for d in shape]
    dt = np.dtype(dtype)
    nchw = False
    if len(dims) == 4:
        if dims[0] not in (1, -1):
            raise CliError(f"input {name!r} has batch size {dims[0]}; an image fills a batch of 1")
        if dims[3] not in (1, 3, 4) and dims[1] in (1, 3, 4):
            nchw = True
        body = dims[1:]
    elif len(dims) == 3:
        if dims[2] not in (1, 3, 4) and dims[0] in (1, 3, 4):
            nchw = True
        body = dims
    else:
        raise CliError(f"input {name!r} has shape {_fmt_shape(dims)}, which is not an image (expected [1, H, W, C], "
                       "[1, C, H, W] or [H, W, C]); give a .npy file instead")
    c, h, w = (body[0], body[1], body[2]) if nchw else (body[2], body[0], body[1])
    if c not in (1, 3, 4):
        raise CliError(f"input {name!r} has {c} channels; images can fill 1, 3 or 4 channels")
    if h <= 0 or w <= 0:
        raise CliError(f"input {name!r} has a dynamic image size {_fmt_shape(dims)}: set it with --shape")
    rgb = image
    if c == 1:
        pix = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))[:, :, None]
    elif c == 4:
        pix = np.concatenate([rgb.astype(np.float32), np.full(rgb.shape[:2] + (1,), 255.0, np.float32)], axis=2)
    else:
        pix = rgb.astype(np.float32)
    if pix.shape[:2] != (h, w):
        pix = _letterbox(pix, (h, w), 0.0)[0] if letterbox else resize_bilinear(pix, (h, w))
    if np.issubdtype(dt, np.floating):
        lo, hi = value_range or (0.0, 1.0)
        data = pix / 255.0 * (hi - lo) + lo
    elif np.issubdtype(dt, np.integer):
        info = np.iinfo(dt)
        if value_range is not None and quantization is not None and np.asarray(quantization.scales).size == 1:
            lo, hi = value_range
            real = pix / 255.0 * (hi - lo) + lo
            scale = float(np.asarray(quantization.scales).ravel()[0])
            zp = int(np.asarray(quantization.zero_points).ravel()[0])
            data = np.rint(real / scale + zp)
        else:
            data = np.rint(pix) - (128 if dt == np.int8 else 0)
        data = np.clip(data, info.min, info.max)
    else:
        raise CliError(f"input {name!r} has type {dt}; images can only fill numeric inputs")
    if nchw:
        data = np.transpose(data, (2, 0, 1))
    if len(dims) == 4:
        data = data[None]
    return np.ascontiguousarray(data.astype(dt))


def coerce_array(arr: np.ndarray, name: str, dtype: np.dtype, signature_shape: Sequence[int] | None,
                 current_shape: Sequence[int], source: str) -> np.ndarray:
    """Check/convert an array loaded from a file for input ``name``; clear errors instead of runtime failures."""
    dt = np.dtype(dtype)
    if arr.dtype != dt:
        ok = (arr.dtype.kind in "fc" and dt.kind in "fc") or (
            arr.dtype.kind in "iub" and dt.kind in "iu" and arr.size and
            int(arr.min()) >= np.iinfo(dt).min and int(arr.max()) <= np.iinfo(dt).max) or (
            arr.dtype.kind in "iu" and dt.kind == "f") or (arr.dtype.kind == "b" and dt.kind == "b")
        if not ok and arr.size == 0 and arr.dtype.kind in "iub" and dt.kind in "iu":
            ok = True
        if not ok:
            raise CliError(f"input {name!r} expects {dt}, {source} holds {arr.dtype} values that do not convert "
                           f"(e.g. np.save(..., x.astype(np.{dt.name})))")
        arr = arr.astype(dt)
    cur = tuple(int(d) for d in current_shape)
    sig = tuple(int(d) for d in signature_shape) if signature_shape is not None else cur

    def fits(s: tuple[int, ...]) -> bool:
        return len(s) == len(sig) and all(d == e or e < 0 for d, e in zip(s, sig, strict=False))

    if arr.shape == cur or fits(arr.shape):
        return np.ascontiguousarray(arr)
    if len(arr.shape) + 1 == len(sig) and sig[0] in (1, -1) and fits((1,) + arr.shape):
        return np.ascontiguousarray(arr[None])
    raise CliError(f"input {name!r} expects shape {_fmt_shape(cur)}"
                   + (f" (signature {_fmt_shape(sig)})" if sig != cur else "")
                   + f", {source} has shape {_fmt_shape(arr.shape)}")


def _load_npz(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise CliError(f"cannot read {path}: {_one_line(e)}") from None


def _load_inputs(cm: Any, spec: Any, items: Sequence[str], args: argparse.Namespace) -> dict[str, np.ndarray]:
    from ..vision import load_image

    feed: dict[str, np.ndarray] = {}
    value_range = _parse_range(args.image_range) if args.image_range else None
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:  # a bare .npz: arrays by input name
            path, name = item, ""
        _check_input_file(path)
        suffix = Path(path).suffix.lower()
        if not name:
            if suffix != ".npz":
                raise CliError(f"--input {item!r}: use NAME=FILE (a bare file must be an .npz keyed by input name)")
            for key, arr in _load_npz(path).items():
                real = _resolve_name(spec, key)
                t = dict(spec.inputs)[real]
                feed[real] = coerce_array(arr, real, t.dtype, t.shape, _current_shape(cm, spec, real),
                                          f"{path}[{key}]")
            continue
        real = _resolve_name(spec, name)
        t = dict(spec.inputs)[real]
        if t.dtype is None:
            raise CliError(f"input {real!r} has type {t.type_name}, which cannot be loaded from a file")
        if suffix == ".npy":
            try:
                arr = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as e:
                raise CliError(f"cannot read {path}: {_one_line(e)}") from None
            source = path
        elif suffix == ".npz":
            arrays = _load_npz(path)
            if name in arrays:
                arr = arrays[name]
            elif real in arrays:
                arr = arrays[real]
            elif len(arrays) == 1:
                arr = next(iter(arrays.values()))
            else:
                raise CliError(f"{path} has arrays {sorted(arrays)}; none is named {name!r}")
            source = path
        else:
            image = load_image(path)
            arr = image_to_input(image, _current_shape(cm, spec, real), t.dtype, real, value_range=value_range,
                                 quantization=t.quantization, letterbox=args.letterbox)
            source = path
        feed[real] = coerce_array(arr, real, t.dtype, t.shape, _current_shape(cm, spec, real), source)
    return feed
