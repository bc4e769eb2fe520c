"""Reads the few TFLite flatbuffer fields the runtime's C API does not report everywhere: tensor shape signatures,
and custom codes/options where libLiteRt does not export their getters (libLiteRt.dll 2.3.0).

Uses the ``flatbuffers`` package's table accessors with field slots from the public TFLite schema
(Model.operator_codes = 1, Model.subgraphs = 2, OperatorCode.custom_code = 1, SubGraph.tensors = 0,
SubGraph.operators = 3, Operator.opcode_index = 0, Operator.custom_options = 5, Tensor.shape = 0,
Tensor.shape_signature = 7).
"""

from __future__ import annotations

import mmap
import os

import flatbuffers
from flatbuffers import number_types, table

__all__ = ["shape_signatures", "custom_ops", "read_model_bytes"]

_MODEL_OPERATOR_CODES = 1
_MODEL_SUBGRAPHS = 2
_OPERATOR_CODE_CUSTOM_CODE = 1
_SUBGRAPH_OPERATORS = 3
_OPERATOR_OPCODE_INDEX = 0
_OPERATOR_CUSTOM_OPTIONS = 5
_SUBGRAPH_TENSORS = 0
_TENSOR_SHAPE = 0
_TENSOR_SHAPE_SIGNATURE = 7


def _vector_pos(t: table.Table, slot: int) -> tuple[int, int] | None:
    o = t.Offset(4 + 2 * slot)
    if not o:
        return None
    return t.Vector(o), t.VectorLen(o)


def _int32_vector(t: table.Table, slot: int) -> tuple[int, ...] | None:
    o = t.Offset(4 + 2 * slot)
    if not o:
        return None
    return tuple(int(v) for v in t.GetVectorAsNumpy(number_types.Int32Flags, o))


def shape_signatures(buf: bytes | memoryview | mmap.mmap) -> list[dict[int, tuple[int, ...]]]:
    """Per subgraph, ``{tensor_index: shape_signature}`` for tensors that carry one (else their shape).

    Returns an empty list when the bytes cannot be read as a TFLite model (the runtime reports that error).
    """
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
                    sig = _int32_vector(t, _TENSOR_SHAPE_SIGNATURE)
                    if sig is None:
                        sig = _int32_vector(t, _TENSOR_SHAPE)
                    if sig is not None:
                        sigs[j] = sig
            out.append(sigs)
        return out
    except (IndexError, ValueError, TypeError, OverflowError, MemoryError):  # malformed: let the runtime report it
        return []


def custom_ops(buf: bytes | bytearray) -> list[list[tuple[str | None, bytes | None]]]:
    """Per subgraph and operator (file order), ``(custom code, custom options)`` read from the flatbuffer.

    The runtime reports these through ``LiteRtGetCustomCode`` / ``LiteRtGetCustomOptions``, which libLiteRt.dll 2.3.0
    does not export; the model facade uses this instead there. The code is the operator code's ``custom_code``
    (None when it has none), the options the operator's ``custom_options`` bytes (None when absent). Call it on
    verified models only; returns an empty list when the bytes cannot be read.
    """
    try:
        data = buf if isinstance(buf, (bytes, bytearray)) else bytes(buf)
        model = table.Table(data, flatbuffers.encode.Get(flatbuffers.packer.uoffset, data, 0))
        codes: list[str | None] = []
        vec = _vector_pos(model, _MODEL_OPERATOR_CODES)
        if vec is not None:
            for i in range(vec[1]):
                oc = table.Table(data, model.Indirect(vec[0] + 4 * i))
                o = oc.Offset(4 + 2 * _OPERATOR_CODE_CUSTOM_CODE)
                codes.append(oc.String(o + oc.Pos).decode("utf-8", "replace") if o else None)
        out: list[list[tuple[str | None, bytes | None]]] = []
        subgraphs = _vector_pos(model, _MODEL_SUBGRAPHS)
        for i in range(subgraphs[1] if subgraphs else 0):
            sg = table.Table(data, model.Indirect(subgraphs[0] + 4 * i))  # type: ignore[index]
            ops: list[tuple[str | None, bytes | None]] = []
            vec = _vector_pos(sg, _SUBGRAPH_OPERATORS)
            for j in range(vec[1] if vec else 0):
                op = table.Table(data, sg.Indirect(vec[0] + 4 * j))  # type: ignore[index]
                o = op.Offset(4 + 2 * _OPERATOR_OPCODE_INDEX)
                index = op.Get(number_types.Uint32Flags, o + op.Pos) if o else 0
                opts = _vector_pos(op, _OPERATOR_CUSTOM_OPTIONS)
                ops.append((codes[index] if index < len(codes) else None,
                            bytes(data[opts[0]:opts[0] + opts[1]]) if opts is not None else None))
            out.append(ops)
        return out
    except (IndexError, ValueError, TypeError, OverflowError, MemoryError):
        return []


def read_model_bytes(path: str | os.PathLike[str]) -> bytes:
    with open(path, "rb") as f:
        return f.read()
