"""Tests for litert_sdk.utils.image."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from litert_sdk.utils.image import image_to_tensor, normalize
from litert_sdk.utils.letterbox import letterbox, resize_bilinear


def _ramp() -> np.ndarray:
    return np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)


# ------------------------------------------------------------------ normalize
def test_normalize_minus_one_one_exact() -> None:
    out = normalize(np.array([0, 255, 51], dtype=np.uint8), (-1.0, 1.0))
    assert out.dtype == np.float32
    assert out[0] == -1.0 and out[1] == 1.0
    assert out[2] == np.float32(51 / 255 * 2 - 1)


def test_normalize_default_is_minus_one_one() -> None:
    image = _ramp()
    np.testing.assert_array_equal(normalize(image), normalize(image, (-1.0, 1.0)))


def test_normalize_zero_one_exact() -> None:
    image = _ramp()
    out = normalize(image, (0.0, 1.0))
    assert out[0, 0, 0] == 0.0 and out[-1, -1, 2] == 1.0
    np.testing.assert_array_equal(out, (image / 255.0).astype(np.float32))


def test_normalize_mean_std_exact_and_per_channel() -> None:
    image = np.array([[[0, 255, 127]]], dtype=np.uint8)
    out = normalize(image, mean=127.5, std=127.5)
    np.testing.assert_array_equal(out, [[[-1.0, 1.0, np.float32(-0.5 / 127.5)]]])
    out = normalize(image, mean=(0.0, 255.0, 27.0), std=(1.0, 5.0, 100.0))
    np.testing.assert_array_equal(out, [[[0.0, 0.0, 1.0]]])
    np.testing.assert_array_equal(normalize(image, std=255.0), image / np.float32(255.0))


def test_normalize_input_range_and_dtype() -> None:
    image = np.array([0.0, 0.5, 1.0])
    out = normalize(image, (-1.0, 1.0), input_range=(0.0, 1.0), dtype=np.float64)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [-1.0, 0.0, 1.0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(value_range=(0.0, 1.0), mean=1.0), "not both"),
        (dict(mean=(1.0, 2.0)), "mean"),
        (dict(std=0.0), "std"),
        (dict(dtype=np.int32), "floating"),
        (dict(input_range=(1.0, 1.0)), "input_range"),
        (dict(value_range=(0.0,)), "value_range"),
    ],
)
def test_normalize_invalid(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        normalize(np.zeros((2, 2, 3), np.uint8), **kwargs)


# ------------------------------------------------------------- image_to_tensor
def test_image_to_tensor_no_resize() -> None:
    image = _ramp()
    tensor = image_to_tensor(image)
    assert tensor.shape == (1, 16, 16, 3) and tensor.dtype == np.float32
    assert tensor.flags["C_CONTIGUOUS"]
    assert tensor[0, 0, 0, 0] == -1.0 and tensor[0, -1, -1, 0] == 1.0
    np.testing.assert_array_equal(tensor[0], normalize(image, (-1.0, 1.0)))


def test_image_to_tensor_letterbox_values() -> None:
    image = np.full((480, 640, 3), 255, dtype=np.uint8)
    image[:, :, 1] = 0
    tensor = image_to_tensor(image, (128, 128), value_range=(-1.0, 1.0))
    assert tensor.shape == (1, 128, 128, 3)
    # 640x480 -> 128x96 content, 16 rows of padding top and bottom (pad 0 -> -1)
    assert np.all(tensor[0, :16] == -1.0) and np.all(tensor[0, 112:] == -1.0)
    assert np.all(tensor[0, 16:112, :, 0] == 1.0)
    assert np.all(tensor[0, 16:112, :, 1] == -1.0)


def test_image_to_tensor_letterbox_pad_value_and_zero_one() -> None:
    image = np.full((10, 20, 3), 255, dtype=np.uint8)
    tensor = image_to_tensor(image, (20, 20), value_range=(0.0, 1.0), pad_value=127.5)
    assert np.all(tensor[0, :5] == 0.5) and np.all(tensor[0, 15:] == 0.5)
    assert np.all(tensor[0, 5:15] == 1.0)


def test_image_to_tensor_matches_manual_pipeline() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    boxed, _ = letterbox(image.astype(np.float32), (32, 32))
    np.testing.assert_array_equal(image_to_tensor(image, (32, 32))[0],
                                  normalize(boxed, (-1.0, 1.0)))
    stretched = resize_bilinear(image.astype(np.float32), (24, 40))
    tensor = image_to_tensor(image, (24, 40), keep_aspect_ratio=False, mean=127.5, std=127.5)
    assert tensor.shape == (1, 24, 40, 3)
    np.testing.assert_array_equal(tensor[0], normalize(stretched, mean=127.5, std=127.5))


def test_image_to_tensor_stretch_constant_and_grayscale() -> None:
    image = np.full((7, 3), 255, dtype=np.uint8)
    tensor = image_to_tensor(image, (5, 9), keep_aspect_ratio=False)
    assert tensor.shape == (1, 5, 9, 1)
    assert np.all(tensor == 1.0)


@pytest.mark.parametrize(
    ("image", "size"),
    [
        (np.zeros((4,), np.uint8), None),
        (np.zeros((1, 4, 4, 3), np.uint8), None),
        (np.zeros((0, 4, 3), np.uint8), None),
        (np.zeros((4, 4, 3), bool), None),
        (np.zeros((4, 4, 3), np.uint8), (-1, 4)),
        (np.zeros((4, 4, 3), np.uint8), (4, 0)),
    ],
)
def test_image_to_tensor_invalid(image: np.ndarray, size: tuple[int, int] | None) -> None:
    with pytest.raises(ValueError):
        image_to_tensor(image, size)
