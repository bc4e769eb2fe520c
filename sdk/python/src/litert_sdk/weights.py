"""Weights files of trainable models: ``.npz``, ``.safetensors`` and ``.json``, written atomically and read with
bounded memory (:func:`write_weights`, :func:`read_weights`).

The format follows the file name's suffix (or the ``format`` argument):

``.npz`` (default for any other suffix)
    a zip archive with one ``<name>.npy`` member per weight (uncompressed, written without pickles; read with
    ``numpy.load(path, allow_pickle=False)``).
``.safetensors``
    the safetensors layout: an 8-byte little-endian header length N, N bytes of JSON header
    ``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`` padded with
    spaces to a multiple of 8, then the tensors' raw little-endian bytes (C order, contiguous, no holes).
    Supported dtypes: F16, F32, F64, I8, I16, I32, I64, U8, U16, U32, U64, BOOL.
``.json``
    ``{name: {"shape": [...], "dtype": "float32", "data": [...]}}`` with ``data`` flat in C order (nested lists are
    accepted when reading). Floats are written with Python's shortest round-trip repr, so values read back
    bit-identical (NaN payloads excepted; NaN and infinities are written as ``NaN`` / ``Infinity``).

Every write goes to a temporary file in the destination directory (``.<name>.<random>.tmp``), which is flushed,
``fsync``-ed and renamed over the destination with ``os.replace``; on POSIX the directory is then ``fsync``-ed too.
A crash or kill at any moment therefore leaves either the previous file or the complete new one (and possibly a
stale temporary file, which is never read). Reading checks the structure, sizes, names, shapes and dtypes and
raises :class:`~litert_sdk.errors.WeightsFileError` (an ``InvalidArgumentError``) for anything wrong. Reads are
bounded: the sizes a file declares (zip central directory and ``.npy`` headers, the safetensors header, JSON shapes)
are checked against the memory available (and, in :meth:`Trainer.load_weights`, against the model's own weight
size with a wide margin) before anything is inflated or allocated, so a small archive that inflates to gigabytes is
refused at once.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import stat
import struct
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from typing import Any, Union

import numpy as np

from .errors import InvalidArgumentError, WeightsFileError

__all__ = ["WEIGHTS_FORMATS", "read_weights", "write_weights"]

_log = logging.getLogger("litert_sdk")

PathLike = Union[str, "os.PathLike[str]"]

#: Weights file formats, by name (also the file suffix).
WEIGHTS_FORMATS = ("npz", "safetensors", "json")

# Largest safetensors header accepted when reading (the reference implementation's limit is 100 MB).
_MAX_HEADER = 100 * 1024 * 1024
# Largest dimension of a weight (tensor dimensions are int32 in the runtime).
_MAX_DIM = 2**31 - 1
# A weights file takes at most this many bytes per tensor byte (JSON text: about 20 characters per float32).
_TEXT_EXPANSION = 16


# ---------------------------------------------------------------------------------------------------------------
# Weights files
# ---------------------------------------------------------------------------------------------------------------

_ST_DTYPES: dict[str, np.dtype] = {
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
    "I8": np.dtype("i1"), "I16": np.dtype("<i2"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
    "U8": np.dtype("u1"), "U16": np.dtype("<u2"), "U32": np.dtype("<u4"), "U64": np.dtype("<u8"),
    "BOOL": np.dtype("?"),
}
_ST_CODES: dict[str, str] = {v.name: k for k, v in _ST_DTYPES.items()}
_JSON_DTYPES = frozenset(
    ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool"]
)


def _format_of(path: PathLike, fmt: str | None, *, reading: bool) -> str:
    if fmt is not None:
        f = str(fmt).lower().lstrip(".")
        if f not in WEIGHTS_FORMATS:
            raise InvalidArgumentError(f"unknown weights format {fmt!r}; use one of {list(WEIGHTS_FORMATS)}")
        return f
    suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if suffix in WEIGHTS_FORMATS:
        return suffix
    if reading:  # unknown suffix: recognise the content
        try:
            with open(path, "rb") as fh:
                head = fh.read(16)
        except OSError:
            return "npz"  # the read itself reports the error
        stripped = head.lstrip()
        if head.startswith(b"PK"):
            return "npz"
        if stripped.startswith(b"{"):
            return "json"
        return "safetensors"
    return "npz"


def _as_weights(weights: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(weights, Mapping):
        raise InvalidArgumentError(f"weights must be a mapping name -> array, got {type(weights).__name__}")
    out: dict[str, np.ndarray] = {}
    for name, value in weights.items():
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"weight names must be non-empty strings, got {name!r}")
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise InvalidArgumentError(f"weight {name!r} has dtype {arr.dtype}, which cannot be stored in a weights "
                                       "file")
        out[name] = arr
    return out


def _write_npz(fh: Any, weights: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name in sorted(weights):
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(weights[name]), allow_pickle=False)


def _write_safetensors(fh: Any, weights: dict[str, np.ndarray]) -> None:
    header: dict[str, Any] = {"__metadata__": {"format": "np", "producer": "litert_sdk"}}
    blobs = []
    offset = 0
    for name in sorted(weights):
        arr = weights[name]
        code = _ST_CODES.get(arr.dtype.name)
        if code is None:
            raise InvalidArgumentError(f"weight {name!r}: dtype {arr.dtype} cannot be stored in safetensors")
        data = np.ascontiguousarray(arr, dtype=_ST_DTYPES[code]).tobytes()
        header[name] = {"dtype": code, "shape": [int(d) for d in arr.shape],
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    fh.write(struct.pack("<Q", len(text)))
    fh.write(text)
    for b in blobs:
        fh.write(b)


def _write_json(fh: Any, weights: dict[str, np.ndarray]) -> None:
    doc = {}
    for name in sorted(weights):
        arr = weights[name]
        if arr.dtype.name not in _JSON_DTYPES:
            raise InvalidArgumentError(f"weight {name!r}: dtype {arr.dtype} cannot be stored in JSON")
        flat = arr.ravel()
        data = flat.astype(np.float64).tolist() if arr.dtype.kind == "f" else flat.tolist()
        doc[name] = {"shape": [int(d) for d in arr.shape], "dtype": arr.dtype.name, "data": data}
    fh.write(json.dumps(doc, separators=(",", ":")).encode("utf-8"))


_WRITERS = {"npz": _write_npz, "safetensors": _write_safetensors, "json": _write_json}


def _file_mode() -> int:
    """Permissions for a new file: 0o666 minus the process umask (read without changing it where possible)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o644


def _fsync_dir(directory: str) -> None:
    if os.name != "posix":
        return  # directories cannot be opened for fsync on Windows; os.replace is already durable there (NTFS)
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not support fsync on directories
    finally:
        os.close(fd)


def _atomic_write(path: PathLike, write: Callable[[Any], None]) -> None:
    target = os.path.abspath(_weights_path(path))
    directory, base = os.path.split(target)
    if not os.path.isdir(directory):
        raise InvalidArgumentError(f"cannot write {os.fspath(path)!r}: directory {directory!r} does not exist")
    if os.path.isdir(target):
        raise WeightsFileError(f"cannot write weights file {target!r}: it is a directory", target)
    try:
        _write_atomically(target, directory, base, write)
    except OSError as e:
        raise WeightsFileError(f"cannot write weights file {target!r}: {e.strerror or e}", target) from None


def _write_atomically(target: str, directory: str, base: str, write: Callable[[Any], None]) -> None:
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        mode = _file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, mode)
        except OSError:
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def write_weights(path: PathLike, weights: Mapping[str, Any], format: str | None = None) -> None:  # noqa: A002
    """Write ``weights`` (name -> array) to ``path`` atomically, in ``format`` or the one of the file's suffix.

    See the module documentation for the formats and the write protocol.
    """
    fmt = _format_of(_weights_path(path), format, reading=False)
    arrays = _as_weights(weights)
    _atomic_write(path, lambda fh: _WRITERS[fmt](fh, arrays))


def _bad(path: str, why: str) -> WeightsFileError:
    return WeightsFileError(f"invalid weights file {path!r}: {why}", path)


def _weights_path(path: Any) -> str:
    """``path`` as a str: a str or os.PathLike without NUL characters, else WeightsFileError."""
    if not isinstance(path, (str, os.PathLike)):
        raise WeightsFileError(f"a weights file path must be a str or os.PathLike, got {type(path).__name__}")
    p = os.fspath(path)
    if not isinstance(p, str):
        p = os.fsdecode(p)
    if "\0" in p or not p:
        raise WeightsFileError(f"invalid weights file path {p!r}: empty or contains a NUL character", p)
    return p


def _memory_limit() -> int:
    from .compiled_model import _memory_limit as available

    return available()


def _check_shape(path: str, name: str, shape: Any) -> list[int]:
    """A declared shape: a list/tuple of ints in [0, 2**31 - 1] (the runtime's dimensions are int32)."""
    if not isinstance(shape, (list, tuple)) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= _MAX_DIM for d in shape
    ):
        raise _bad(path, f"entry {name!r}: invalid shape {shape!r} (dimensions are ints from 0 to {_MAX_DIM})")
    return list(shape)


def _check_total(path: str, total: int, limit: int, what: str) -> None:
    if total > limit:
        raise _bad(path, f"{what} declare {total} bytes, more than the {limit} bytes allowed (memory available, or "
                         "the model's weights with a margin): refused before reading them")


def _read_npz(path: str, raw: bytes, limit: int) -> dict[str, np.ndarray]:
    # zipfile tolerates bytes after the end-of-central-directory record; a weights file must end with it.
    eocd = raw.rfind(b"PK\x05\x06")
    if eocd < 0 or len(raw) < eocd + 22 or eocd + 22 + struct.unpack("<H", raw[eocd + 20 : eocd + 22])[0] != len(raw):
        raise _bad(path, "not a complete npz (zip) archive: no end-of-archive record at the end (truncated?)")
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise _bad(path, f"not a readable npz (zip) archive: {e}") from None
    out: dict[str, np.ndarray] = {}
    with zf:
        infos = zf.infolist()
        # The central directory's uncompressed sizes bound what inflating can produce: check them first.
        _check_total(path, sum(i.file_size for i in infos), limit, "the archive's members")
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise _bad(path, f"unexpected member {info.filename!r} (only .npy arrays are allowed)")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _bad(path, f"member {info.filename!r} uses compression method {info.compress_type} (only "
                                 "stored and deflated members are read)")
            name = info.filename[: -len(".npy")]
            if name in out:
                raise _bad(path, f"duplicate weight {name!r}")
            out[name] = _read_npy_member(path, zf, info)
    return out


def _read_npy_member(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One .npy member: its header's shape and dtype must account for exactly the member's declared size before
    the data is read (and inflated); the CRC is checked at the end."""
    member = repr(info.filename)
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            if dtype.hasobject:
                raise ValueError(f"dtype {dtype} holds Python objects (pickles are never loaded)")
            dims = _check_shape(path, info.filename, shape)
            header = f.tell()
            nbytes = math.prod(dims) * dtype.itemsize
            if header + nbytes != info.file_size:
                raise _bad(path, f"member {member} declares shape {tuple(dims)} {dtype} ({nbytes} bytes) but holds "
                                 f"{info.file_size - header} bytes of data")
            data = f.read(nbytes)
            if len(data) != nbytes or f.read(1):
                raise ValueError(f"{len(data)} data bytes for {nbytes} declared")
    except WeightsFileError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to decode (CRC, inflate, header) is a corrupt file
        raise _bad(path, f"member {member} cannot be read: {type(e).__name__}: {e}") from None
    arr = np.frombuffer(data, dtype=dtype)
    return arr.reshape(dims, order="F" if fortran else "C").copy()


def _read_safetensors(path: str, raw: bytes, limit: int) -> dict[str, np.ndarray]:
    if len(raw) < 8:
        raise _bad(path, f"truncated: {len(raw)} bytes, a safetensors file starts with an 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > _MAX_HEADER or 8 + n > len(raw):
        raise _bad(path, f"header length {n} does not fit the file's {len(raw)} bytes (truncated or not safetensors)")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _bad(path, f"header is not valid JSON: {type(e).__name__}: {e}") from None
    if not isinstance(header, dict):
        raise _bad(path, "header is not a JSON object")
    data = memoryview(raw)[8 + n :]
    _check_total(path, len(data), limit, "the tensors")
    spans = []
    out: dict[str, np.ndarray] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise _bad(path, f"entry {name!r} must have exactly dtype, shape and data_offsets")
        dtype = _ST_DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
        if dtype is None:
            raise _bad(path, f"entry {name!r}: unsupported dtype {entry['dtype']!r}")
        shape, offsets = _check_shape(path, name, entry["shape"]), entry["data_offsets"]
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
                or not 0 <= offsets[0] <= offsets[1]):
            raise _bad(path, f"entry {name!r}: invalid data_offsets {offsets!r}")
        begin, end = offsets
        expected = math.prod(shape) * dtype.itemsize
        if end - begin != expected:
            raise _bad(path, f"entry {name!r}: {end - begin} data bytes for shape {shape} {entry['dtype']} "
                             f"({expected} expected)")
        if end > len(data):
            raise _bad(path, f"truncated: entry {name!r} ends at byte {end} of the data, which has {len(data)}")
        spans.append((begin, end, name))
        out[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise _bad(path, f"entry {name!r} starts at byte {begin}, expected {pos} (overlapping or holes)")
        pos = end
    if pos != len(data):
        raise _bad(path, f"{len(data) - pos} bytes after the last tensor")
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict):
        raise _bad(path, "__metadata__ is not an object")
    return out


def _read_json(path: str, raw: bytes, limit: int) -> dict[str, np.ndarray]:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _bad(path, f"not valid JSON (truncated or nested too deeply?): {type(e).__name__}: {e}") from None
    if not isinstance(doc, dict):
        raise _bad(path, "the top level must be an object {name: {shape, dtype, data}}")
    out: dict[str, np.ndarray] = {}
    total = 0
    for name, entry in doc.items():
        if not isinstance(entry, dict) or not {"shape", "dtype", "data"} <= set(entry):
            raise _bad(path, f"entry {name!r} must be an object with shape, dtype and data")
        shape, dtype, data = entry["shape"], entry["dtype"], entry["data"]
        if not isinstance(dtype, str) or dtype not in _JSON_DTYPES:
            raise _bad(path, f"entry {name!r}: unsupported dtype {dtype!r}")
        shape = _check_shape(path, name, shape)
        total += math.prod(shape) * np.dtype(dtype).itemsize
        _check_total(path, total, limit, "the entries")
        try:
            arr = np.asarray(data, dtype=np.float64 if np.dtype(dtype).kind == "f" else dtype)
        except (TypeError, ValueError, OverflowError, RecursionError) as e:
            raise _bad(path, f"entry {name!r}: data cannot be read as {dtype}: {e}") from None
        if arr.size != math.prod(shape):
            raise _bad(path, f"entry {name!r}: {arr.size} values for shape {shape}")
        out[name] = arr.astype(dtype).reshape(shape)
    return out


_READERS = {"npz": _read_npz, "safetensors": _read_safetensors, "json": _read_json}


def read_weights(
    path: PathLike, format: str | None = None, *, max_bytes: int | None = None  # noqa: A002
) -> dict[str, np.ndarray]:
    """Read a weights file written by :func:`write_weights` (or any file of the documented formats).

    Reads are bounded: the file must fit in the memory available, and the tensors it declares (zip central
    directory and ``.npy`` headers, safetensors header, JSON shapes) must total at most ``max_bytes`` (default: the
    memory available), checked before anything is inflated or allocated.

    Raises :class:`~litert_sdk.errors.WeightsFileError` when it is missing, not a regular file, too large,
    truncated or malformed.
    """
    p = _weights_path(path)
    fmt = _format_of(p, format, reading=True)
    try:
        st = os.stat(p)
    except OSError as e:
        raise WeightsFileError(f"cannot read weights file {p!r}: {e.strerror or e}", p) from None
    if stat.S_ISDIR(st.st_mode):
        raise WeightsFileError(f"cannot read weights file {p!r}: it is a directory", p)
    if not stat.S_ISREG(st.st_mode):
        raise WeightsFileError(f"cannot read weights file {p!r}: not a regular file", p)
    available = _memory_limit()
    limit = available if max_bytes is None else min(available, max(0, int(max_bytes)))
    if st.st_size > available:
        raise _bad(p, f"the file has {st.st_size} bytes, more than the {available} bytes of memory available")
    if st.st_size > _TEXT_EXPANSION * limit + (1 << 20):  # more than any encoding of `limit` tensor bytes takes
        raise _bad(p, f"the file has {st.st_size} bytes, too many for at most {limit} bytes of tensors; refused "
                      "before reading it")
    try:
        with open(p, "rb") as fh:
            raw = fh.read(available + 1)
    except OSError as e:
        raise WeightsFileError(f"cannot read weights file {p!r}: {e.strerror or e}", p) from None
    return _READERS[fmt](p, raw, limit)
