"""A small dependency-free PNG codec (numpy + zlib) for the SDK's sample image, demo and CLI.

Reads non-interlaced PNGs with 8-bit samples (grayscale, grayscale+alpha, RGB, RGBA, 8-bit palette, with all five
filter types including Paeth) and 16-bit grayscale/RGB(A) (returned as ``uint16``). Writes 8-bit (or 16-bit)
grayscale, grayscale+alpha, RGB and RGBA, choosing a filter per row. Other PNGs (interlaced, 1/2/4-bit) raise
:class:`PngError`; :func:`litert_sdk.vision.load_image` falls back to Pillow for them when it is installed.
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import Any

import numpy as np

__all__ = ["PngError", "decode_png", "encode_png", "is_png", "read_png", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# color type -> samples per pixel
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_COLOR_TYPE_FOR_CHANNELS = {1: 0, 2: 4, 3: 2, 4: 6}
_MAX_PIXELS = 1 << 28  # refuse absurd sizes from corrupt headers before allocating


class PngError(ValueError):
    """The data is not a PNG this codec can read, or the array cannot be written as a PNG."""


def is_png(data: bytes) -> bool:
    return data[:8] == _SIGNATURE


# ------------------------------------------------------------------------------------------------------- decoding
def _chunks(data: bytes):
    pos = 8
    n = len(data)
    while pos + 8 <= n:
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 8 + length
        if end + 4 > n:
            raise PngError(f"truncated PNG: chunk {ctype!r} runs past the end of the data")
        body = data[pos + 8:end]
        (crc,) = struct.unpack(">I", data[end:end + 4])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise PngError(f"corrupt PNG: CRC mismatch in chunk {ctype.decode('latin-1')!r}")
        yield ctype, body
        if ctype == b"IEND":
            return
        pos = end + 4
    raise PngError("truncated PNG: no IEND chunk")


def _unfilter_slow(ftype: int, line: bytearray, prev: bytes | bytearray, bpp: int) -> None:
    """Average (3) and Paeth (4) filters: sequential along the row, done on Python ints."""
    n = len(line)
    if ftype == 3:
        for i in range(n):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        return
    for i in range(n):
        if i >= bpp:
            a = line[i - bpp]
            c = prev[i - bpp]
        else:
            a = c = 0
        b = prev[i]
        p = a + b - c
        pa = abs(p - a)
        pb = abs(p - b)
        pc = abs(p - c)
        if pa <= pb and pa <= pc:
            pred = a
        elif pb <= pc:
            pred = b
        else:
            pred = c
        line[i] = (line[i] + pred) & 0xFF


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    expected = height * (stride + 1)
    if len(raw) < expected:
        raise PngError(f"corrupt PNG: image data has {len(raw)} bytes, expected {expected}")
    rows = np.frombuffer(raw, dtype=np.uint8, count=expected).reshape(height, stride + 1)
    filters = rows[:, 0]
    if filters.max(initial=0) > 4:
        raise PngError(f"corrupt PNG: unknown filter type {int(filters.max())}")
    out = np.empty((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        ftype = int(filters[y])
        line = rows[y, 1:]
        if ftype == 0:
            cur = line
        elif ftype == 1:  # Sub: running sum per byte lane, modulo 256
            cur = (np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint64) & 0xFF).astype(np.uint8).reshape(-1)
        elif ftype == 2:  # Up
            cur = line + prev  # uint8 arithmetic wraps modulo 256
        else:
            buf = bytearray(line.tobytes())
            _unfilter_slow(ftype, buf, prev.tobytes(), bpp)
            cur = np.frombuffer(bytes(buf), dtype=np.uint8)
        out[y] = cur
        prev = out[y]
    return out


def decode_png(data: bytes) -> np.ndarray:
    """Decode PNG bytes to an array: ``(H, W)`` grayscale, ``(H, W, 2)`` gray+alpha, ``(H, W, 3)`` RGB or
    ``(H, W, 4)`` RGBA; ``uint8`` (``uint16`` for 16-bit files). Palette images become RGB (RGBA with ``tRNS``)."""
    data = bytes(data)
    if not is_png(data):
        raise PngError("not a PNG file (bad signature)")
    header: tuple[int, ...] | None = None
    idat: list[bytes] = []
    palette: bytes | None = None
    trns: bytes | None = None
    for ctype, body in _chunks(data):
        if ctype == b"IHDR":
            if len(body) != 13:
                raise PngError("corrupt PNG: bad IHDR chunk")
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"PLTE":
            palette = body
        elif ctype == b"tRNS":
            trns = body
        elif ctype == b"IDAT":
            idat.append(body)
    if header is None:
        raise PngError("corrupt PNG: no IHDR chunk")
    width, height, depth, color, compression, filter_method, interlace = header
    if color not in _CHANNELS:
        raise PngError(f"corrupt PNG: unknown color type {color}")
    if compression != 0 or filter_method != 0:
        raise PngError("corrupt PNG: unknown compression or filter method")
    if interlace != 0:
        raise PngError("interlaced (Adam7) PNGs are not supported by the built-in codec; install Pillow")
    if depth not in (8, 16) or (color == 3 and depth != 8):
        raise PngError(f"{depth}-bit PNGs (color type {color}) are not supported by the built-in codec; install Pillow")
    if width == 0 or height == 0 or width * height > _MAX_PIXELS:
        raise PngError(f"unsupported PNG size {width}x{height}")
    if not idat:
        raise PngError("corrupt PNG: no image data")
    channels = _CHANNELS[color]
    bpp = channels * depth // 8
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise PngError(f"corrupt PNG: {e}") from None
    pixels = _unfilter(raw, height, width * bpp, bpp)
    if depth == 16:
        img = pixels.view(">u2").astype(np.uint16).reshape(height, width, channels)
    else:
        img = pixels.reshape(height, width, channels)
    if color == 3:
        if palette is None or len(palette) % 3:
            raise PngError("corrupt PNG: palette image without a valid PLTE chunk")
        lut = np.frombuffer(palette, dtype=np.uint8).reshape(-1, 3)
        if trns:
            alpha = np.full(len(lut), 255, dtype=np.uint8)
            alpha[: min(len(trns), len(lut))] = np.frombuffer(trns, dtype=np.uint8)[: len(lut)]
            lut = np.concatenate([lut, alpha[:, None]], axis=1)
        index = img[..., 0]
        if int(index.max()) >= len(lut):
            raise PngError("corrupt PNG: palette index out of range")
        return np.ascontiguousarray(lut[index])
    if channels == 1:
        return np.ascontiguousarray(img[..., 0])
    return np.ascontiguousarray(img)


def read_png(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a PNG file (see :func:`decode_png`)."""
    with open(path, "rb") as f:
        return decode_png(f.read())


# ------------------------------------------------------------------------------------------------------- encoding
def _filter_rows(img: np.ndarray, bpp: int) -> np.ndarray:
    """All five filters for every row at once; pick per row the one with the smallest sum of |signed bytes|
    (the heuristic libpng recommends)."""
    x = img.astype(np.int16)  # (H, stride)
    h, stride = x.shape
    a = np.zeros_like(x)
    a[:, bpp:] = x[:, :-bpp]
    b = np.zeros_like(x)
    b[1:] = x[:-1]
    c = np.zeros_like(x)
    c[1:, bpp:] = x[:-1, :-bpp]
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
    candidates = np.stack([x, x - a, x - b, x - ((a + b) >> 1), x - paeth]).astype(np.uint8)  # wraps mod 256
    cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)  # (5, H)
    best = np.argmin(cost, axis=0)
    out = np.empty((h, stride + 1), dtype=np.uint8)
    out[:, 0] = best
    out[:, 1:] = candidates[best, np.arange(h)]
    return out


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def encode_png(image: Any, compress_level: int = 9) -> bytes:
    """Encode a ``uint8`` (or ``uint16``) array ``(H, W)``, ``(H, W, 1|2|3|4)`` as PNG bytes."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in _COLOR_TYPE_FOR_CHANNELS:
        raise PngError(f"PNG images must have shape (H, W) or (H, W, 1|2|3|4), got {np.shape(image)}")
    if img.dtype not in (np.uint8, np.uint16):
        raise PngError(
            f"PNG images must be uint8 or uint16, got {img.dtype} (convert with np.clip(...).astype(np.uint8))"
        )
    h, w, channels = img.shape
    if h == 0 or w == 0:
        raise PngError(f"cannot write an empty image of shape {img.shape}")
    depth = 8 * img.dtype.itemsize
    bpp = channels * img.dtype.itemsize
    raw = np.ascontiguousarray(img.astype(img.dtype.newbyteorder(">"), copy=False)).view(np.uint8).reshape(h, w * bpp)
    filtered = _filter_rows(raw, bpp)
    header = struct.pack(">IIBBBBB", w, h, depth, _COLOR_TYPE_FOR_CHANNELS[channels], 0, 0, 0)
    return b"".join([
        _SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"IDAT", zlib.compress(filtered.tobytes(), compress_level)),
        _chunk(b"IEND", b""),
    ])


def write_png(path: str | os.PathLike[str], image: Any, compress_level: int = 9) -> None:
    """Write an array as a PNG file (see :func:`encode_png`)."""
    data = encode_png(image, compress_level)
    with open(path, "wb") as f:
        f.write(data)
