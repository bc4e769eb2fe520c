"""Reads the few TFLite flatbuffer fields the runtime's C API does not report (tensor shape signatures), and model
files.

Uses the ``flatbuffers`` package's table accessors with field slots from the public TFLite schema
(Model.subgraphs = 2, SubGraph.tensors = 0, Tensor.shape = 0, Tensor.shape_signature = 7). The package is imported
when signatures are read, so reading a file does not pay for it.
"""

from __future__ import annotations

import mmap
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flatbuffers import table

__all__ = ["shape_signatures", "read_model_bytes"]

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


def read_model_bytes(path: str | os.PathLike[str]) -> bytes:
    with open(path, "rb") as f:
        return f.read()
