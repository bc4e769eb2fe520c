"""String tensors: numpy/Python values <-> TFLite's packed string format.

A TFLite string tensor (element type ``string``, TensorFlow's ``tf.string``) holds its elements in one buffer::

    int32 count                      # number of strings (the tensor's element count)
    int32 offsets[count + 1]         # byte offset of each string from the buffer start, then the end offset
    bytes data                       # the strings back to back (no terminators)

(little endian). libLiteRt's CompiledModel takes such a buffer as a host-memory tensor buffer of any size and copies
string outputs into a host buffer that must be large enough (it fails the run otherwise); see flex/README.md.

Inputs accept ``str`` / ``bytes`` scalars, numpy arrays of ``bytes_`` (``S``), ``str_`` (``U``) or object dtype holding
``bytes`` / ``str``, and nested lists of those; ``str`` is encoded as UTF-8. Outputs are numpy object arrays of
``bytes``, as ``ai_edge_litert`` returns them.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from .errors import InvalidArgumentError, RuntimeFailure

__all__ = ["PackedStrings", "pack", "unpack", "is_string_value"]

_MAX_BYTES = 2**31 - 1  # offsets are int32


class PackedStrings(tuple):  # type: ignore[type-arg]
    """``(data, shape)``: a string tensor in TFLite's packed format, as the native core takes it."""

    __slots__ = ()

    def __new__(cls, data: bytes, shape: tuple[int, ...]) -> PackedStrings:
        return super().__new__(cls, (data, shape))

    @property
    def data(self) -> bytes:
        return self[0]  # type: ignore[no-any-return]

    @property
    def shape(self) -> tuple[int, ...]:
        return self[1]  # type: ignore[no-any-return]


def is_string_value(value: Any) -> bool:
    """True for values :func:`pack` takes as they are (str, bytes, string/bytes/object arrays)."""
    if isinstance(value, (str, bytes, bytearray, np.str_, np.bytes_)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "SUO"


def _as_bytes(item: Any, name: str) -> bytes:
    if isinstance(item, bytes):  # also np.bytes_
        return bytes(item)
    if isinstance(item, str):  # also np.str_
        return item.encode("utf-8")
    if isinstance(item, (bytearray, memoryview)):
        return bytes(item)
    raise InvalidArgumentError(
        f"input {name!r} is a string tensor: its elements must be str or bytes, got {type(item).__name__}"
    )


def pack(value: Any, name: str = "input") -> PackedStrings:
    """``value`` (see the module docstring) in TFLite's packed string format, with its shape."""
    if isinstance(value, PackedStrings):
        return value
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        items = [_as_bytes(value, name)]
        shape: tuple[int, ...] = ()
    else:
        if isinstance(value, np.ndarray):
            arr = value
        else:
            try:
                arr = np.asarray(value, dtype=object)
            except Exception as e:  # noqa: BLE001 - ragged nesting and the like
                raise InvalidArgumentError(f"input {name!r} cannot be converted to a string tensor: {e}") from None
        if arr.dtype.kind not in "SUO":
            raise InvalidArgumentError(
                f"input {name!r} is a string tensor: pass str/bytes or an array of dtype bytes_, str_ or object, "
                f"got an array of dtype {arr.dtype}"
            )
        shape = tuple(int(d) for d in arr.shape)
        if arr.dtype.kind == "S" and arr.ndim == 0:  # tflite_runtime keeps a 0-d bytes_ value's trailing NUL bytes
            items = [arr.tobytes()]  # (numpy's item access drops them)
        else:
            items = [_as_bytes(x, name) for x in arr.reshape(-1).tolist()]
    n = len(items)
    header = 4 * (n + 2)
    total = header + sum(len(b) for b in items)
    if total > _MAX_BYTES:
        raise InvalidArgumentError(
            f"input {name!r}: {total} bytes of strings exceed TFLite's 2 GiB string tensor limit")
    offsets = [header]
    for b in items:
        offsets.append(offsets[-1] + len(b))
    data = struct.pack(f"<{n + 2}i", n, *offsets) + b"".join(items)
    return PackedStrings(data, shape)


def unpack(data: bytes | memoryview, shape: tuple[int, ...] | list[int]) -> np.ndarray:
    """A numpy object array of ``bytes`` of ``shape`` from a packed string buffer (which may have trailing bytes)."""
    buf = memoryview(data).cast("B") if not isinstance(data, bytes) else data
    size = len(buf)
    dims = tuple(int(d) for d in shape)
    want = 1
    for d in dims:
        want *= d
    if size < 4:
        raise RuntimeFailure(f"string tensor buffer of {size} bytes is too short for TFLite's packed format")
    (count,) = struct.unpack_from("<i", buf, 0)
    if count < 0:
        raise RuntimeFailure(f"string tensor buffer has a negative count ({count})")
    if count != want:
        # libLiteRt does not lay out string outputs before the run (their size is only known then): after a resize
        # it still reports the old shape (measured: a [-1, 1] reshape of 3 strings reports [1, 1]). The strings are
        # right; take the leading dimension from their count.
        rest = 1
        for d in dims[1:]:
            rest *= d
        dims = (count // rest, *dims[1:]) if dims and rest and count % rest == 0 else (count,)
    if size < 4 * (count + 2):
        raise RuntimeFailure("string tensor buffer too short for its offsets")
    offsets = struct.unpack_from(f"<{count + 1}i", buf, 4)
    out = np.empty(count, dtype=object)
    for i in range(count):
        a, b = offsets[i], offsets[i + 1]
        if a < 0 or b < a or b > size:
            raise RuntimeFailure(f"string tensor has bad offsets ({a}, {b}) for a {size}-byte buffer")
        out[i] = bytes(buf[a:b])
    return out.reshape(dims)
