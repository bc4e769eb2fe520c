"""Tests for litert_sdk.utils.letterbox."""

from __future__ import annotations

import numpy as np
import pytest

from litert_sdk.utils.letterbox import (
    LetterboxInfo,
    letterbox,
    resize_bilinear,
    scale_from_letterbox,
    to_letterbox,
)

SIZES = [
    ((480, 270), (256, 256)),  # portrait
    ((270, 480), (192, 192)),  # landscape
    ((100, 100), (128, 128)),  # square
    ((37, 91), (65, 49)),  # odd sizes, non-square target
    ((91, 37), (128, 96)),
    ((64, 128), (128, 256)),  # same aspect ratio: no padding
]


# ------------------------------------------------------------------- geometry
def test_info_landscape() -> None:
    info = LetterboxInfo.compute((480, 640), (256, 256))
    assert info.scale == pytest.approx(0.4)
    assert info.resized_hw == (192, 256)
    assert info.pad == (0, 32)
    assert info.pad_right == 0
    assert info.pad_bottom == 32
    assert info.pad_normalized == (0.0, 0.125)
    assert info.original_hw == (480, 640)
    assert info.target_hw == (256, 256)


def test_info_portrait_odd_padding() -> None:
    info = LetterboxInfo.compute((20, 9), (20, 20))
    assert info.resized_hw == (20, 9)
    assert info.pad == (5, 0)
    assert info.pad_right == 6


@pytest.mark.parametrize(("orig", "target"), SIZES)
@pytest.mark.parametrize("pixels", [False, True])
def test_round_trip_points_and_boxes(orig: tuple[int, int], target: tuple[int, int],
                                     pixels: bool) -> None:
    info = LetterboxInfo.compute(orig, target)
    rng = np.random.default_rng(0)
    scale = np.array([orig[1], orig[0]], dtype=np.float64) if pixels else np.ones(2)
    points = rng.uniform(-0.2, 1.2, size=(50, 2)) * scale
    boxes = rng.uniform(0, 1, size=(7, 3, 4)) * np.tile(scale, 2)
    for coords in (points, boxes):
        lb = to_letterbox(coords, info, pixels=pixels)
        assert lb.shape == coords.shape
        back = scale_from_letterbox(lb, info, pixels=pixels)
        np.testing.assert_allclose(back, coords, rtol=0, atol=1e-6)
    # and the other direction, starting in the letterboxed frame
    q = rng.uniform(0, 1, size=(20, 2))
    np.testing.assert_allclose(
        to_letterbox(scale_from_letterbox(q, info, pixels=pixels), info, pixels=pixels),
        q, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("orig", "target"), SIZES)
def test_known_points(orig: tuple[int, int], target: tuple[int, int]) -> None:
    info = LetterboxInfo.compute(orig, target)
    th, tw = target
    left, top = info.pad
    rh, rw = info.resized_hw
    content_corners = np.array([[left / tw, top / th], [(left + rw) / tw, (top + rh) / th]])
    np.testing.assert_allclose(scale_from_letterbox(content_corners, info),
                               [[0, 0], [1, 1]], atol=1e-12)
    np.testing.assert_allclose(scale_from_letterbox(content_corners, info, pixels=True),
                               [[0, 0], [orig[1], orig[0]]], atol=1e-9)
    box = scale_from_letterbox(content_corners.reshape(1, 4), info)
    np.testing.assert_allclose(box, [[0, 0, 1, 1]], atol=1e-12)


def test_landscape_mapping_values() -> None:
    info = LetterboxInfo.compute((480, 640), (256, 256))
    # y: padding 32/256 = 0.125 on top, content height 0.75
    np.testing.assert_allclose(scale_from_letterbox([0.5, 0.125], info), [0.5, 0.0])
    np.testing.assert_allclose(scale_from_letterbox([0.25, 0.5], info, pixels=True),
                               [160.0, 240.0])
    np.testing.assert_allclose(to_letterbox([320.0, 480.0], info, pixels=True),
                               [0.5, 0.875])


def test_coordinate_dtypes() -> None:
    info = LetterboxInfo.compute((10, 20), (16, 16))
    assert scale_from_letterbox(np.zeros((3, 2), np.float32), info).dtype == np.float32
    assert scale_from_letterbox(np.zeros((3, 2), np.int64), info).dtype == np.float64
    assert to_letterbox([[1, 2, 3, 4]], info, pixels=True).dtype == np.float64


# -------------------------------------------------------------------- letterbox
def test_padding_placement_landscape() -> None:
    image = np.full((480, 640, 3), 255, dtype=np.uint8)
    out, info = letterbox(image, (256, 256), pad_value=0)
    assert out.shape == (256, 256, 3) and out.dtype == np.uint8
    assert info.pad == (0, 32)
    assert np.all(out[:32] == 0)
    assert np.all(out[32:224] == 255)
    assert np.all(out[224:] == 0)


def test_padding_placement_portrait_odd_and_per_channel_value() -> None:
    image = np.full((20, 9, 3), 200, dtype=np.uint8)
    out, info = letterbox(image, (20, 20), pad_value=(1, 2, 3))
    assert info.pad == (5, 0)
    np.testing.assert_array_equal(out[:, :5], np.broadcast_to([1, 2, 3], (20, 5, 3)))
    np.testing.assert_array_equal(out[:, 14:], np.broadcast_to([1, 2, 3], (20, 6, 3)))
    assert np.all(out[:, 5:14] == 200)


def test_letterbox_grayscale_and_float() -> None:
    image = np.full((30, 10), 0.25, dtype=np.float32)
    out, info = letterbox(image, (12, 12), pad_value=-1.0)
    assert out.shape == (12, 12) and out.dtype == np.float32
    assert info.resized_hw == (12, 4) and info.pad == (4, 0)
    assert np.all(out[:, 4:8] == np.float32(0.25))
    assert np.all(out[:, :4] == -1) and np.all(out[:, 8:] == -1)


def test_letterbox_content_matches_resize() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(37, 91, 3), dtype=np.uint8)
    out, info = letterbox(image, (65, 49))
    left, top = info.pad
    rh, rw = info.resized_hw
    np.testing.assert_array_equal(out[top:top + rh, left:left + rw],
                                  resize_bilinear(image, (rh, rw)))


def test_no_padding_same_aspect() -> None:
    image = np.arange(64 * 128, dtype=np.float64).reshape(64, 128)
    out, info = letterbox(image, (64, 128))
    assert info.pad == (0, 0) and info.scale == 1.0
    np.testing.assert_array_equal(out, image)


# ------------------------------------------------------------------------ resize
@pytest.mark.parametrize("size", [(1, 1), (7, 3), (64, 64), (200, 31)])
def test_resize_constant_stays_constant(size: tuple[int, int]) -> None:
    image = np.full((23, 17, 3), (77, 0, 255), dtype=np.uint8)
    out = resize_bilinear(image, size)
    assert out.shape == (*size, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.broadcast_to([77, 0, 255], out.shape))
    fimage = np.full((23, 17), 0.3, dtype=np.float32)
    fout = resize_bilinear(fimage, size)
    assert fout.dtype == np.float32
    np.testing.assert_array_equal(fout, np.float32(0.3))


def test_resize_hand_computed_upsample_1d() -> None:
    image = np.array([[0.0, 100.0]])
    # half-pixel centres: src x = (x + 0.5) * 0.5 - 0.5 = -0.25, 0.25, 0.75, 1.25 (clamped)
    np.testing.assert_allclose(resize_bilinear(image, (1, 4)), [[0, 25, 75, 100]])
    np.testing.assert_array_equal(resize_bilinear(image.astype(np.uint8), (1, 4)),
                                  [[0, 25, 75, 100]])


def test_resize_hand_computed_2d() -> None:
    image = np.array([[0.0, 10.0], [20.0, 30.0]])
    expected = np.array([
        [0.0, 2.5, 7.5, 10.0],
        [5.0, 7.5, 12.5, 15.0],
        [15.0, 17.5, 22.5, 25.0],
        [20.0, 22.5, 27.5, 30.0],
    ])
    np.testing.assert_allclose(resize_bilinear(image, (4, 4)), expected)


def test_resize_hand_computed_downsample() -> None:
    np.testing.assert_allclose(resize_bilinear(np.array([[0.0, 10.0, 20.0, 30.0]]), (1, 2)),
                               [[5.0, 25.0]])
    # ratio 1.5: src x = 0.25 and 1.75
    np.testing.assert_allclose(resize_bilinear(np.array([[0.0, 30.0, 60.0]]), (1, 2)),
                               [[7.5, 52.5]])
    # 3x3 -> 1x1 samples the centre pixel
    image = np.arange(9, dtype=np.float64).reshape(3, 3)
    np.testing.assert_allclose(resize_bilinear(image, (1, 1)), [[4.0]])


def test_resize_channels_independent_and_rounding() -> None:
    image = np.zeros((2, 2, 2), dtype=np.uint8)
    image[..., 0] = [[0, 1], [0, 1]]
    image[..., 1] = [[0, 3], [0, 3]]
    out = resize_bilinear(image, (2, 4))
    # channel 1: 0, 0.75, 2.25, 3 -> 0, 1, 2, 3 ; channel 0: 0, .25, .75, 1 -> 0, 0, 1, 1
    np.testing.assert_array_equal(out[0, :, 1], [0, 1, 2, 3])
    np.testing.assert_array_equal(out[0, :, 0], [0, 0, 1, 1])


def test_resize_same_size_returns_copy() -> None:
    image = np.ones((3, 4), dtype=np.uint8)
    out = resize_bilinear(image, (3, 4))
    np.testing.assert_array_equal(out, image)
    assert out is not image


def test_pillow_backend_if_available() -> None:
    pytest.importorskip("PIL.Image")
    image = np.full((10, 20, 3), 42, dtype=np.uint8)
    out = resize_bilinear(image, (5, 7), backend="pillow")
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    assert np.all(out == 42)


# ------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("image", "target"),
    [
        (np.zeros((4,), np.uint8), (2, 2)),
        (np.zeros((1, 4, 4, 3), np.uint8), (2, 2)),
        (np.zeros((0, 4, 3), np.uint8), (2, 2)),
        (np.zeros((4, 4, 3), np.uint8), (-2, 2)),
        (np.zeros((4, 4, 3), np.uint8), (2, 0)),
        (np.zeros((4, 4, 3), np.uint8), (2, 2, 2)),
        (np.zeros((4, 4, 3), bool), (2, 2)),
    ],
)
def test_invalid_letterbox_arguments(image: np.ndarray, target: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        letterbox(image, target)  # type: ignore[arg-type]


def test_invalid_pad_and_backend() -> None:
    image = np.zeros((4, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="pad_value"):
        letterbox(image, (8, 8), pad_value=(1, 2))
    with pytest.raises(ValueError, match="out of range"):
        letterbox(image, (8, 8), pad_value=-1)
    with pytest.raises(ValueError, match="backend"):
        resize_bilinear(image, (8, 8), backend="cv2")  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 5)])
def test_invalid_coordinates(shape: tuple[int, ...]) -> None:
    info = LetterboxInfo.compute((10, 10), (20, 20))
    with pytest.raises(ValueError, match="last axis"):
        scale_from_letterbox(np.zeros(shape), info)
    with pytest.raises(ValueError, match="last axis"):
        to_letterbox(np.zeros(shape), info)
    with pytest.raises(ValueError):
        scale_from_letterbox(1.0, info)
