"""On-device training with models whose weights are resource variables.

A trainable ``.tflite`` model is a ``tf.Module`` whose weights are ``tf.Variable``\\ s, converted with
``experimental_enable_resource_variables=True``. By convention it exports these signatures (the names can be
changed in :class:`Trainer`):

* ``train(x, y, ...) -> {"loss": ...}``: one optimisation step on one batch (GradientTape + ``assign_sub``);
* ``infer(x, ...) -> {...}``: the forward pass;
* ``get_weights() -> {name: value, ...}`` and ``set_weights(name=value, ...) -> {...}``: read / assign the variables
  (a ``set_weights`` without outputs is pruned by the TFLite converter, so it has to return something).

The variables live in the compiled model and persist across calls of all its signatures; resetting them means
recompiling the model (:meth:`Trainer.reset`). With TFLITE_BUILTINS only (no Flex), a ``train`` signature usually
needs a fixed batch size (the gradient of a broadcast over a dynamic dimension is a Flex op); :meth:`Trainer.fit`
skips a smaller final batch in that case. ``tests/models/make_training_models.py`` shows how such models are built.

Example::

    from litert_sdk.training import Trainer

    trainer = Trainer("mlp.tflite")
    losses = trainer.fit([(x, y) for x, y in batches], epochs=5)
    probs = trainer.infer(x=x_test)["output"]
    trainer.save_weights("mlp_weights.npz")         # .npz, .safetensors or .json; written atomically
    trainer.load_weights("mlp_weights.npz")
    trainer.reset()                                  # back to the model's initial weights

Weights files
-------------
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

Variables in the classic API
----------------------------
:func:`get_variable_tensor_count`, :func:`get_variable_tensor` and :func:`reset_variable_tensors` describe the
resource variables of an :class:`~litert_sdk.Interpreter`'s model from its graph: each variable is a VAR_HANDLE
op (builtin 142); its shape and dtype are those of the values written by ASSIGN_VARIABLE (144) or read by
READ_VARIABLE (143). Its name is the VAR_HANDLE's ``shared_name`` (the ``tf.Module`` attribute path, e.g.
``"w"``), read from the model file, which is only possible when the model was loaded from a file; for a model given
as bytes the runtime's C API does not report ``shared_name``, and the name falls back to the VAR_HANDLE's output
tensor name, which the converter makes unique across the model with a numeric suffix (e.g. ``"w4"``). Variable
*values* cannot be read through the classic API (the runtime exposes no variable tensors); use a ``get_weights``
signature.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import stat
import struct
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ._lifecycle import Closable
from ._variables import (  # (re-exported: they were defined here)
    get_variable_tensor,
    get_variable_tensor_count,
    get_variable_tensors,
    reset_variable_tensors,
)
from .errors import ClosedError, InvalidArgumentError, NotFoundError, UnsupportedError, WeightsFileError
from .interpreter import Interpreter
from .model import Model, SignatureSpec, TensorSpec

__all__ = [
    "Trainer",
    "WeightSpec",
    "WEIGHTS_FORMATS",
    "write_weights",
    "read_weights",
    "get_variable_tensor_count",
    "get_variable_tensor",
    "get_variable_tensors",
    "reset_variable_tensors",
]

_log = logging.getLogger("litert_sdk")

PathLike = Union[str, "os.PathLike[str]"]

#: Weights file formats, by name (also the file suffix).
WEIGHTS_FORMATS = ("npz", "safetensors", "json")

# Largest safetensors header accepted when reading (the reference implementation's limit is 100 MB).
_MAX_HEADER = 100 * 1024 * 1024
# Largest dimension of a weight (tensor dimensions are int32 in the runtime).
_MAX_DIM = 2**31 - 1
# Trainer.load_weights accepts files whose tensors declare at most this many times the model's weight bytes (or
# _LOAD_SLACK_BYTES, whichever is larger): a file that declares more is refused before anything is inflated.
_LOAD_SLACK_FACTOR = 16
_LOAD_SLACK_BYTES = 64 * 1024 * 1024
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


# ---------------------------------------------------------------------------------------------------------------
# Trainer
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightSpec:
    """Name, shape (``-1`` for a dynamic dimension) and dtype of one weight of a trainable model."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype

    def check(self, value: Any, where: str = "") -> np.ndarray:
        """``value`` as an array of this spec's dtype and shape, or InvalidArgumentError."""
        if isinstance(value, np.ndarray):
            arr = value
            if arr.dtype != self.dtype:
                raise InvalidArgumentError(
                    f"{where}weight {self.name!r} must have dtype {self.dtype.name}, got {arr.dtype.name}"
                )
        else:
            try:
                arr = np.asarray(value, dtype=self.dtype)
            except (TypeError, ValueError, OverflowError) as e:
                raise InvalidArgumentError(
                    f"{where}weight {self.name!r} cannot be converted to {self.dtype.name}: {e}"
                ) from None
        if arr.ndim != len(self.shape) or any(s >= 0 and s != d for s, d in zip(self.shape, arr.shape, strict=False)):
            raise InvalidArgumentError(
                f"{where}weight {self.name!r} must have shape {list(self.shape)}, got {list(arr.shape)}"
            )
        return arr


def _spec_dtype(spec: TensorSpec, what: str) -> np.dtype:
    dt = spec.dtype
    if dt is None:
        raise UnsupportedError(f"{what} has element type {spec.type_name}, which numpy cannot hold")
    return dt


class Trainer(Closable):
    """Trains a model on device through its ``train`` signature and manages its weights.

    Args:
        model: a ``.tflite`` path, the model's bytes, or an :class:`~litert_sdk.Interpreter` (shared: its variables
            are the ones trained).
        train_signature: the signature that runs one optimisation step and returns the loss (output ``"loss"``, or
            its only output).
        infer_signature, get_weights_signature, set_weights_signature: the other signatures; each is optional and
            only needed by the methods that use it.
        options: :class:`~litert_sdk.Options` for the interpreter created from a path or bytes.

    The variables persist across calls of all signatures of the one compiled model. Not thread-safe: use one
    Trainer from one thread at a time.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | bytes | bytearray | memoryview | Interpreter,
        *,
        train_signature: str = "train",
        infer_signature: str = "infer",
        get_weights_signature: str = "get_weights",
        set_weights_signature: str = "set_weights",
        options: Any = None,
    ) -> None:
        if isinstance(model, Interpreter):
            if options is not None:
                raise InvalidArgumentError("options cannot be given with an existing Interpreter")
            self._interpreter = model
            self._owns = False
        elif isinstance(model, (bytes, bytearray, memoryview)):
            self._interpreter = Interpreter(model_content=model, options=options)
            self._owns = True
        elif isinstance(model, (str, os.PathLike)):
            self._interpreter = Interpreter(model_path=model, options=options)
            self._owns = True
        else:
            raise InvalidArgumentError(
                f"model must be a path, bytes or an Interpreter, got {type(model).__name__}"
            )
        self._model: Model = self._interpreter._model
        self._sig_names = {
            "train": train_signature,
            "infer": infer_signature,
            "get_weights": get_weights_signature,
            "set_weights": set_weights_signature,
        }
        self._sigs: dict[str, SignatureSpec | None] = {}
        for role, key in self._sig_names.items():
            self._sigs[role] = next((s for s in self._model.signatures if s.key == key and not s.is_default), None)
        train = self._sigs["train"]
        if train is None:
            raise NotFoundError(
                f"the model has no signature {train_signature!r} to train with; signatures: "
                f"{[s.key for s in self._model.signatures]}"
            )
        if "loss" in train.output_names:
            self._loss_name = "loss"
        elif len(train.outputs) == 1:
            self._loss_name = train.output_names[0]
        else:
            raise InvalidArgumentError(
                f"signature {train_signature!r} has outputs {train.output_names}: name the loss 'loss' "
                "or return only the loss"
            )
        #: The train signature's input names in the order tuples are mapped to them (sorted by name, the order
        #: tf.lite.Interpreter.get_signature_list() reports; e.g. ("x", "y")).
        self.train_input_names: tuple[str, ...] = tuple(sorted(train.input_names))
        self._runners: dict[str, Any] = {}
        self.last_train_outputs: dict[str, np.ndarray] = {}
        #: Batches fit() skipped because they were smaller than the train signature's fixed batch size.
        self.skipped_batches = 0

    # -- introspection ---------------------------------------------------------------------------------------------
    @property
    def interpreter(self) -> Interpreter:
        """The interpreter whose variables are trained."""
        return self._interpreter

    def _sig(self, role: str) -> SignatureSpec:
        s = self._sigs[role]
        if s is None:
            raise NotFoundError(
                f"the model has no {self._sig_names[role]!r} signature (needed for {role}); signatures: "
                f"{[x.key for x in self._model.signatures if not x.is_default]}"
            )
        return s

    def _runner(self, role: str) -> Any:
        if getattr(self, "_closed", False):
            raise ClosedError("the trainer is closed")
        r = self._runners.get(role)
        if r is None:
            r = self._runners[role] = self._interpreter.get_signature_runner(self._sig(role).key)
        return r

    @property
    def weight_specs(self) -> dict[str, WeightSpec]:
        """The weights ``set_weights`` accepts (else those ``get_weights`` returns), by name, sorted."""
        if self._sigs["set_weights"] is not None:
            pairs = self._sigs["set_weights"].inputs
        else:
            pairs = self._sig("get_weights").outputs
        return {
            n: WeightSpec(n, tuple(t.shape or ()), _spec_dtype(t, f"weight {n!r}")) for n, t in sorted(pairs)
        }

    @property
    def train_batch_size(self) -> int | None:
        """The train signature's fixed batch size (leading dimension of its inputs), None if dynamic."""
        sizes = {t.shape[0] for _, t in self._sig("train").inputs if t.shape and t.shape[0] >= 0}
        return sizes.pop() if len(sizes) == 1 else None

    # -- inputs ----------------------------------------------------------------------------------------------------
    def _prepare(self, role: str, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
        sig = self._sig(role)
        sig.check_input_names(values)
        out = {}
        for name, spec in sorted(sig.inputs, key=lambda p: p[0]):
            dtype = _spec_dtype(spec, f"input {name!r} of {sig.key!r}")
            v = values[name]
            if v is None:
                raise InvalidArgumentError(f"input {name!r} of {sig.key!r} is None")
            arr = v if isinstance(v, np.ndarray) else np.asarray(v)
            if arr.dtype != dtype:
                if not np.can_cast(arr.dtype, dtype, casting="same_kind"):
                    raise InvalidArgumentError(
                        f"input {name!r} of {sig.key!r} must have dtype {dtype.name}, got {arr.dtype.name}"
                    )
                arr = arr.astype(dtype)
            shape = spec.shape
            if shape is not None and (
                arr.ndim != len(shape) or any(s >= 0 and s != d for s, d in zip(shape, arr.shape, strict=False))
            ):
                fixed = " (the signature has a fixed batch size)" if shape and shape[0] >= 0 else ""
                raise InvalidArgumentError(
                    f"input {name!r} of {sig.key!r} must have shape {list(shape)} (-1: any), got {list(arr.shape)}"
                    + fixed
                )
            out[name] = arr
        return out

    # -- training ------------------------------------------------------------------------------------------------
    def step(self, **batch: Any) -> float:
        """Run one training step on a batch given by input name (``trainer.step(x=..., y=...)``); returns the loss."""
        arrays = self._prepare("train", batch)
        out = self._runner("train")(**arrays)
        self.last_train_outputs = out
        loss = np.asarray(out[self._loss_name])
        if loss.size != 1:
            raise InvalidArgumentError(
                f"output {self._loss_name!r} of {self._sig('train').key!r} has shape {list(loss.shape)}; "
                "a loss must have one element"
            )
        return float(loss.reshape(-1)[0])

    def _batch_dict(self, batch: Any) -> dict[str, Any]:
        if isinstance(batch, Mapping):
            return dict(batch)
        names = self.train_input_names
        if isinstance(batch, (tuple, list)):
            if len(batch) != len(names):
                raise InvalidArgumentError(
                    f"a batch tuple must have {len(names)} element(s) for the inputs {list(names)} (in that order), "
                    f"got {len(batch)}"
                )
            return dict(zip(names, batch, strict=False))
        if isinstance(batch, np.ndarray) and len(names) == 1:
            return {names[0]: batch}
        raise InvalidArgumentError(
            f"a batch must be a dict by input name or a tuple in the order {list(names)}, got {type(batch).__name__}"
        )

    def _is_incomplete(self, batch: dict[str, Any]) -> bool:
        sig = self._sig("train")
        for name, spec in sig.inputs:
            v = batch.get(name)
            if v is None or not spec.shape or spec.shape[0] < 0:
                continue
            shape = np.shape(v)
            if len(shape) == len(spec.shape) and 0 < shape[0] < spec.shape[0] and tuple(shape[1:]) == tuple(
                d if s < 0 else s for s, d in zip(spec.shape[1:], shape[1:], strict=False)
            ):
                return True
        return False

    def fit(
        self,
        dataset: Iterable[Any] | Callable[[], Iterable[Any]],
        epochs: int = 1,
        callback: Callable[[int, int, float], Any] | None = None,
        progress: bool = False,
        *,
        drop_incomplete: bool = True,
    ) -> list[float]:
        """Train for ``epochs`` passes over ``dataset``; returns the loss of every step, in order.

        ``dataset`` yields batches: dicts by train input name, or tuples mapped to :attr:`train_input_names`
        (sorted input names, e.g. ``(x, y)``). It must be re-iterable (a list, a numpy-backed sequence...) or a
        callable returning a fresh iterable per epoch when ``epochs > 1``.

        ``callback(epoch, step, loss)`` is called after every step (0-based epoch, step within the epoch); returning
        ``False`` stops training. With ``progress`` a summary line per epoch goes to stderr.

        When the train signature has a fixed batch size, a smaller batch (typically the last one of an epoch) is
        skipped with ``drop_incomplete`` (counted in :attr:`skipped_batches`, logged once per fit) and raises
        InvalidArgumentError otherwise.
        """
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
            raise InvalidArgumentError(f"epochs must be a non-negative int, got {epochs!r}")
        if callable(dataset) and not isinstance(dataset, Iterable):
            make = dataset
        else:
            if not isinstance(dataset, Iterable):
                raise InvalidArgumentError(f"dataset must be iterable, got {type(dataset).__name__}")
            if epochs > 1 and iter(dataset) is dataset:
                raise InvalidArgumentError(
                    "dataset is a one-shot iterator; for epochs > 1 pass a list or a callable returning an iterable"
                )

            def make() -> Iterable[Any]:
                return dataset  # type: ignore[return-value]

        losses: list[float] = []
        warned = False
        for epoch in range(epochs):
            epoch_losses: list[float] = []
            stop = False
            for batch in make():
                arrays = self._batch_dict(batch)
                if drop_incomplete and self._is_incomplete(arrays):
                    self.skipped_batches += 1
                    if not warned:
                        _log.warning(
                            "skipping a batch smaller than the train signature's fixed batch size %s",
                            self.train_batch_size,
                        )
                        warned = True
                    continue
                loss = self.step(**arrays)
                losses.append(loss)
                epoch_losses.append(loss)
                if callback is not None and callback(epoch, len(epoch_losses) - 1, loss) is False:
                    stop = True
                    break
            if progress:
                mean = sum(epoch_losses) / len(epoch_losses) if epoch_losses else float("nan")
                print(f"epoch {epoch + 1}/{epochs}: {len(epoch_losses)} steps, mean loss {mean:.6g}"
                      + (" (stopped by callback)" if stop else ""), file=sys.stderr, flush=True)
            if stop:
                break
        return losses

    # -- inference -----------------------------------------------------------------------------------------------
    def infer(self, **inputs: Any) -> dict[str, np.ndarray]:
        """Run the infer signature with inputs by name; returns its outputs by name."""
        return self._runner("infer")(**self._prepare("infer", inputs))

    # -- weights ---------------------------------------------------------------------------------------------------
    def get_weights(self) -> dict[str, np.ndarray]:
        """The current weights (copies), by name, sorted."""
        out = self._runner("get_weights")()
        return {k: np.array(out[k], copy=True) for k in sorted(out)}

    def _check_weights(self, weights: Mapping[str, Any], partial: bool, where: str = "") -> dict[str, np.ndarray]:
        if not isinstance(weights, Mapping):
            raise InvalidArgumentError(f"weights must be a mapping name -> array, got {type(weights).__name__}")
        specs = self.weight_specs
        unknown = sorted(k for k in weights if k not in specs)
        if unknown:
            raise NotFoundError(f"{where}unknown weight(s) {unknown}; the model's weights are {list(specs)}")
        missing = sorted(k for k in specs if k not in weights)
        if missing and not partial:
            raise InvalidArgumentError(f"{where}missing weight(s) {missing} (pass partial=True to keep their values)")
        return {k: specs[k].check(v, where) for k, v in weights.items()}

    def set_weights(self, weights: Mapping[str, Any], *, partial: bool = False) -> None:
        """Assign weights by name. Shapes and dtypes must match :attr:`weight_specs` exactly (InvalidArgumentError).

        Every weight must be given unless ``partial`` (the others then keep their current values).
        """
        arrays = self._check_weights(weights, partial)
        sig = self._sig("set_weights")
        if len(arrays) < len(sig.inputs):
            current = self.get_weights()
            for n in sig.input_names:
                if n not in arrays:
                    arrays[n] = current[n]
        self._runner("set_weights")(**arrays)

    def _weights_read_limit(self) -> int | None:
        """Bytes a weights file for this model may declare: the weights' own size with a wide margin (None when a
        weight has a dynamic dimension)."""
        total = 0
        for spec in self.weight_specs.values():
            if any(d < 0 for d in spec.shape):
                return None
            total += math.prod(spec.shape) * spec.dtype.itemsize
        return max(total * _LOAD_SLACK_FACTOR, _LOAD_SLACK_BYTES)

    def save_weights(self, path: PathLike, format: str | None = None) -> None:  # noqa: A002
        """Write the current weights to ``path`` atomically (.npz default, .safetensors or .json; see the module)."""
        write_weights(path, self.get_weights(), format)

    def load_weights(self, path: PathLike, format: str | None = None, *, partial: bool = False) -> None:  # noqa: A002
        """Read weights written by :meth:`save_weights` and assign them.

        Names, shapes and dtypes are checked against the model; a corrupt, truncated or mismatched file raises
        :class:`~litert_sdk.errors.WeightsFileError` and leaves the weights unchanged.
        """
        p = _weights_path(path)
        weights = read_weights(p, format, max_bytes=self._weights_read_limit())
        try:
            arrays = self._check_weights(weights, partial, f"{p!r}: ")
        except InvalidArgumentError as e:
            raise WeightsFileError(f"weights file does not match the model: {e}", p) from None
        self.set_weights(arrays, partial=partial)

    # -- state -----------------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Restore the model's initial weights (and optimiser state): the model is recompiled."""
        if getattr(self, "_closed", False):
            raise ClosedError("the trainer is closed")
        self._interpreter.reset_all_variables()

    def close(self) -> None:
        """Release the interpreter (when the Trainer created it)."""
        if self._owns and not getattr(self, "_closed", False):
            self._interpreter.close()
        self._closed = True

    def __repr__(self) -> str:
        return f"Trainer({self._model!r}, train={self._sig_names['train']!r})"
