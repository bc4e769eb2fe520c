"""The SDK's dependency-free PNG codec (litert_sdk._png) and image loading without Pillow."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

from litert_sdk import _png, vision


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def _reference_filter(rows: list[bytes], filters: list[int], bpp: int) -> bytes:
    """Straightforward per-byte PNG filtering (the spec's formulas), independent of the codec's numpy code."""
    out = bytearray()
    prev = bytes(len(rows[0]))
    for row, ftype in zip(rows, filters, strict=False):
        out.append(ftype)
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 0:
                pred = 0
            elif ftype == 1:
                pred = a
            elif ftype == 2:
                pred = b
            elif ftype == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out.append((x - pred) & 0xFF)
        prev = row
    return bytes(out)


def _handmade_png(img: np.ndarray, filters: list[int], color_type: int, depth: int = 8, idat_parts: int = 1,
                  plte: bytes | None = None, trns: bytes | None = None) -> bytes:
    h, w = img.shape[:2]
    stride_img = img.astype(img.dtype.newbyteorder(">")).reshape(h, -1).view(np.uint8)
    bpp = max(1, stride_img.shape[1] // w)
    data = zlib.compress(_reference_filter([bytes(r) for r in stride_img], filters, bpp))
    parts = [data[i * len(data) // idat_parts:(i + 1) * len(data) // idat_parts] for i in range(idat_parts)]
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0))
    out += _chunk(b"tEXt", b"Comment\x00ignored ancillary chunk")
    if plte is not None:
        out += _chunk(b"PLTE", plte)
    if trns is not None:
        out += _chunk(b"tRNS", trns)
    for p in parts:
        out += _chunk(b"IDAT", p)
    return out + _chunk(b"IEND", b"")


@pytest.fixture
def photo() -> np.ndarray:
    return vision.sample_image()[40:90, 60:131]  # 50 x 71 crop: odd width, real texture


@pytest.mark.parametrize("color_type,channels", [(0, 1), (2, 3), (4, 2), (6, 4)])
def test_decodes_every_filter_type(photo: np.ndarray, color_type: int, channels: int) -> None:
    rgba = np.concatenate([photo, photo[..., :1] // 2 + 7], axis=2)
    img = rgba[..., :channels] if channels != 2 else rgba[..., [0, 3]]
    filters = [i % 5 for i in range(img.shape[0])]  # None, Sub, Up, Average, Paeth, ...
    decoded = _png.decode_png(_handmade_png(img, filters, color_type, idat_parts=3))
    expected = img[..., 0] if channels == 1 else img
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, expected)


def test_decodes_16_bit_and_palette(photo: np.ndarray) -> None:
    img16 = photo.astype(np.uint16) * 257 + 3
    filters = [(i * 3) % 5 for i in range(img16.shape[0])]
    out16 = _png.decode_png(_handmade_png(img16, filters, 2, depth=16))
    assert out16.dtype == np.uint16
    np.testing.assert_array_equal(out16, img16)

    lut = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [10, 20, 30]], np.uint8)
    index = (np.arange(35 * 9).reshape(35, 9) % 4).astype(np.uint8)
    png = _handmade_png(index[..., None], [4] * 35, 3, plte=lut.tobytes())
    np.testing.assert_array_equal(_png.decode_png(png), lut[index])
    png_t = _handmade_png(index[..., None], [1] * 35, 3, plte=lut.tobytes(), trns=bytes([0, 128]))
    rgba = _png.decode_png(png_t)
    assert rgba.shape == (35, 9, 4)
    np.testing.assert_array_equal(rgba[..., 3], np.array([0, 128, 255, 255], np.uint8)[index])


@pytest.mark.parametrize("shape,dtype", [((50, 71, 3), np.uint8), ((50, 71, 4), np.uint8), ((50, 71), np.uint8),
                                         ((50, 71, 2), np.uint8), ((50, 71, 3), np.uint16), ((1, 1, 3), np.uint8),
                                         ((3, 1), np.uint8)])
def test_round_trip(shape: tuple[int, ...], dtype: type, tmp_path) -> None:
    rng = np.random.default_rng(sum(shape))
    noise = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
    smooth = (np.indices(shape).sum(axis=0) * 5).astype(dtype)  # favours Sub/Up/Paeth rows
    for img in (noise, smooth):
        path = tmp_path / "x.png"
        _png.write_png(path, img)
        back = _png.read_png(path)
        assert back.dtype == img.dtype
        np.testing.assert_array_equal(back, img)


def test_encoder_output_is_standard_png(photo: np.ndarray) -> None:
    pil = pytest.importorskip("PIL.Image")
    data = _png.encode_png(photo)
    np.testing.assert_array_equal(np.asarray(pil.open(io.BytesIO(data))), photo)
    # and PNGs written by Pillow (its own filter choices) decode identically
    buf = io.BytesIO()
    pil.fromarray(photo).save(buf, "PNG", optimize=True)
    np.testing.assert_array_equal(_png.decode_png(buf.getvalue()), photo)


def test_errors(photo: np.ndarray) -> None:
    good = _png.encode_png(photo)
    with pytest.raises(_png.PngError, match="signature"):
        _png.decode_png(b"GIF89a" + good[6:])
    corrupt = bytearray(good)
    corrupt[40] ^= 0xFF
    with pytest.raises(_png.PngError, match="CRC|corrupt"):
        _png.decode_png(bytes(corrupt))
    with pytest.raises(_png.PngError, match="truncated"):
        _png.decode_png(good[: len(good) // 2])
    interlaced = bytearray(good)
    ihdr = bytearray(interlaced[16:29])
    ihdr[12] = 1
    interlaced[8:33] = _chunk(b"IHDR", bytes(ihdr))
    with pytest.raises(_png.PngError, match="interlaced"):
        _png.decode_png(bytes(interlaced))
    with pytest.raises(_png.PngError, match="uint8 or uint16"):
        _png.encode_png(photo.astype(np.float32))
    with pytest.raises(_png.PngError, match="shape"):
        _png.encode_png(np.zeros((4, 4, 5), np.uint8))


def test_bundled_photo_loads_without_pillow() -> None:
    code = (
        "import sys; sys.modules['PIL'] = None; sys.modules['PIL.Image'] = None\n"
        "from litert_sdk import vision\n"
        "img = vision.sample_image(); print(img.shape, img.dtype)\n"
        "try:\n"
        "    vision.load_image(vision.DEFAULT_FACE_MODEL)\n"
        "except ValueError as e:\n"
        "    print('needs Pillow' if 'Pillow' in str(e) else e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["(256, 256, 3) uint8", "needs Pillow"]


def test_sample_photo_is_small_and_rgb() -> None:
    assert vision.SAMPLE_IMAGE.stat().st_size < 200_000
    img = vision.sample_image()
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8
    assert 60 < img.mean() < 200 and img.std() > 30  # a photo, not a blank


def test_to_rgb8_conversions() -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(vision.to_rgb8(gray), np.repeat(gray[..., None], 3, axis=2))
    rgba = np.dstack([gray, gray, gray, gray])
    assert vision.to_rgb8(rgba).shape == (3, 4, 3)
    assert vision.to_rgb8(np.full((2, 2, 3), 1.0)).max() == 255
    assert vision.to_rgb8(np.full((2, 2), 65535, np.uint16)).max() == 255
    with pytest.raises(ValueError):
        vision.to_rgb8(np.zeros((2, 2, 5), np.uint8))
