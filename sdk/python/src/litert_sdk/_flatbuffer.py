"""Reads the few TFLite flatbuffer fields the runtime's C API does not report (tensor shape signatures), and model
files (:func:`read_model_bytes`, which checks the path with ``os.stat`` first: only regular files are opened).

Uses the ``flatbuffers`` package's table accessors with field slots from the public TFLite schema
(Model.subgraphs = 2, SubGraph.tensors = 0, Tensor.shape = 0, Tensor.shape_signature = 7). The package is imported
when signatures are read, so reading a file does not pay for it.
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flatbuffers import table

__all__ = ["shape_signatures", "read_model_bytes", "read_model_file", "check_model_file"]

_MODEL_SUBGRAPHS = 2
_SUBGRAPH_TENSORS = 0
_TENSOR_SHAPE = 0
_TENSOR_SHAPE_SIGNATURE = 7


def _vector_pos(t: table.Table, slot: int) -> tuple[int, int] | None:
    o = t.Offset(4 + 2 * slot)
    if not o:
        return None
    return t.Vector(o), t.VectorLen(o)


def _int32_vector(t: table.Table, slot: int, int32_flags: Any) -> tuple[int, ...] | None:
    o = t.Offset(4 + 2 * slot)
    if not o:
        return None
    return tuple(int(v) for v in t.GetVectorAsNumpy(int32_flags, o))


def shape_signatures(buf: bytes | memoryview | mmap.mmap) -> list[dict[int, tuple[int, ...]]]:
    """Per subgraph, ``{tensor_index: shape_signature}`` for tensors that carry one (else their shape).

    Returns an empty list when the bytes cannot be read as a TFLite model (the runtime reports that error).
    """
    import flatbuffers
    from flatbuffers import number_types, table

    i32 = number_types.Int32Flags
    try:
        data = bytearray(buf) if not isinstance(buf, (bytes, bytearray)) else buf
        root = flatbuffers.encode.Get(flatbuffers.packer.uoffset, data, 0)
        model = table.Table(data, root)
        subgraphs = _vector_pos(model, _MODEL_SUBGRAPHS)
        if subgraphs is None:
            return []
        start, count = subgraphs
        out: list[dict[int, tuple[int, ...]]] = []
        for i in range(count):
            sg = table.Table(data, model.Indirect(start + 4 * i))
            sigs: dict[int, tuple[int, ...]] = {}
            tensors = _vector_pos(sg, _SUBGRAPH_TENSORS)
            if tensors is not None:
                tstart, tcount = tensors
                for j in range(tcount):
                    t = table.Table(data, sg.Indirect(tstart + 4 * j))
                    sig = _int32_vector(t, _TENSOR_SHAPE_SIGNATURE, i32)
                    if sig is None:
                        sig = _int32_vector(t, _TENSOR_SHAPE, i32)
                    if sig is not None:
                        sigs[j] = sig
            out.append(sigs)
        return out
    except (IndexError, ValueError, TypeError, OverflowError, MemoryError):  # malformed: let the runtime report it
        return []


_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    for test, name in _FILE_KINDS:
        if test(mode):
            return name
    return "a special file"


def _not_regular(path: str, mode: int) -> Exception:
    from .errors import ModelError

    if stat.S_ISDIR(mode):
        # "model file not found" stays in the message: code that matched it for directories keeps working.
        return ModelError(f"model file not found: {path!r} is a directory, not a model file")
    return ModelError(f"model path {path!r} is not a regular file: it is {_kind(mode)}; give a .tflite file")


def check_model_file(path: str | os.PathLike[str]) -> os.stat_result:
    """``os.stat`` the model path; raise :class:`~litert_sdk.errors.ModelError` unless it is an existing regular file.

    A missing path is reported as "model file not found", a directory as such, and anything else that is not a
    regular file (a FIFO, a device such as ``/dev/zero``, a socket) as "not a regular file"; such paths are never
    opened (opening a FIFO for reading blocks until a writer appears, a device can be endless).
    """
    from .errors import ModelError

    p = os.fspath(path)
    shown = p if isinstance(p, str) else os.fsdecode(p)
    try:
        st = os.stat(p)
    except (FileNotFoundError, NotADirectoryError):
        raise ModelError(f"model file not found: {shown!r}") from None
    except PermissionError:
        raise ModelError(f"cannot read model file {shown!r}: permission denied") from None
    except (OSError, ValueError) as e:  # ValueError: an embedded NUL byte
        raise ModelError(f"cannot read model file {shown!r}: {getattr(e, 'strerror', None) or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(shown, st.st_mode)
    return st


def read_model_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a model file. Raises :class:`~litert_sdk.errors.ModelError` for a missing path, a directory or
    anything that is not a regular file (see :func:`check_model_file`), and when the file cannot be read."""
    return read_model_file(path, None)  # type: ignore[return-value]


def read_model_file(path: str | os.PathLike[str], allocate: Callable[[int], tuple[Any, Any]] | None) -> Any:
    """The bytes of a model file, read once: when ``allocate`` is given, into the writable buffer of
    ``allocate(size) -> (result, buffer)``, and ``result`` is returned; else as ``bytes``. Errors as
    :func:`read_model_bytes`; a file that shrinks while it is read is a ModelError too."""
    from .errors import ModelError

    check_model_file(path)
    p = os.fspath(path)
    shown = p if isinstance(p, str) else os.fsdecode(p)
    # O_NONBLOCK: should the path have been replaced by a FIFO since the stat, opening it does not wait for a writer;
    # fstat on the open descriptor then rejects it. (No effect on regular files.)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise ModelError(f"model file not found: {shown!r}") from None
    except OSError as e:
        raise ModelError(f"cannot read model file {shown!r}: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(shown, st.st_mode)
        with os.fdopen(fd, "rb", closefd=True) as f:
            fd = -1
            try:
                if allocate is None:
                    return f.read()
                out, buffer = allocate(st.st_size)
                view = memoryview(buffer).cast("B")
                done = 0
                while done < len(view):
                    n = f.readinto(view[done:])
                    if not n:
                        raise ModelError(f"cannot read model file {shown!r}: it shrank from {len(view)} to {done} "
                                         "bytes while being read")
                    done += n
                return out
            except OSError as e:
                raise ModelError(f"cannot read model file {shown!r}: {e.strerror or e}") from None
    finally:
        if fd >= 0:
            os.close(fd)
