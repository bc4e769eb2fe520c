"""Verification of TFLite flatbuffers before the runtime sees the bytes.

Three layers, written from the public facts of the FlatBuffers binary format and of the TFLite schema
(``schema.fbs``, file identifier ``"TFL3"``, schema version 3):

* **Structure** (the FlatBuffers verifier rules): every uoffset/soffset/vtable lies inside the buffer and is aligned,
  vtable sizes are even and at least 4, every field lies inside its table and is aligned to its size, vectors and
  strings fit in the buffer, strings are NUL-terminated, offsets are non-zero and below 2**31, tables are counted
  (at most 1,000,000) and nesting is bounded (the walk follows the schema, so the depth is at most 6).
* **Semantics** (what the runtime indexes with): tensor buffer indices, operator opcode indices, operator and
  subgraph tensor indices, signature tensor and subgraph indices, metadata buffer indices, control-flow subgraph
  indices (and no recursion between subgraphs), shapes (non-negative, rank <= 8; ``-1`` allowed in shape
  signatures), constant data sizes, quantization parameters (counts, finite scales, zero points in range), sparse
  index metadata, UTF-8 names, and data stored outside the flatbuffer (``offset``/``size`` of buffers and large
  custom options) within the file.
* **Graph** (what the runtime's kernels trust; each rule comes from a crash found by fuzzing, see
  ``sdk/python/fuzz/README.md``): omitted (``-1``) operands only where the operator accepts them, operand counts of
  common builtin operators, one writer per tensor and no writes to inputs or constants, and, for common operators,
  the declared output shape equal to the shape the kernel computes and the element types of data operands equal
  (:class:`_ShapeChecker`); values assigned to and read from one resource variable agree; and the operand facts the
  kernels and XNNPACK trust without checking (requantization limits, bias lengths, integer division), in
  :mod:`._kernel_rules`.

The walk is vectorised with numpy: all tables of one kind (e.g. every tensor of every subgraph) are checked with a
handful of array operations, so a 6 MB model verifies in a few milliseconds.

Entry points: :func:`verify_model` (list of problems, empty when the model is valid) and
:func:`verify_model_bytes` (raises :class:`~litert_sdk.errors.ModelError`).
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._arrays import isin, unique
from ._kernel_rules import OperatorView, check_kernel_rules, per_op
from .errors import ModelError

__all__ = ["verify_model", "verify_model_bytes", "VerificationStats"]

FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3
MAX_RANK = 8  # LITERT_TENSOR_MAX_RANK
MAX_TENSOR_BYTES = 1 << 48  # 256 TiB: larger static tensors are rejected (and byte counts stay far from overflow)
MAX_TABLES = 1_000_000  # the FlatBuffers verifier's default table budget
MAX_DEPTH = 64  # the FlatBuffers verifier's default nesting budget (the schema walk needs at most 6)
STATUS_INVALID_FLATBUFFER = 501  # kLiteRtStatusErrorInvalidFlatbuffer
MAX_PROBLEMS = 20  # semantic problems collected before giving up
_OFFSET_LIMIT = 1 << 31  # uoffset/soffset values must fit in a signed 32-bit int

# BuiltinOperator codes that refer to other subgraphs, and the operator-code value of custom ops.
_OP_CALL, _OP_CUSTOM, _OP_IF, _OP_WHILE, _OP_CALL_ONCE = 31, 32, 118, 119, 129
_OP_STABLEHLO = {"custom_call": 173, "reduce": 174, "scatter": 190, "reduce_window": 198, "sort": 199,
                 "while": 200, "composite": 206}

# TensorType -> element size in bytes; types missing here (string, resource, variant, int4, int2) have no fixed size.
_TYPE_SIZES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 8: 8, 9: 1, 10: 8, 11: 16, 12: 8, 15: 4, 16: 2, 18: 2}

# Field kinds of option tables: ("vec", element size), ("str",), ("subgraph",) = int32 subgraph index,
# ("subgraph_u",) = uint32 subgraph index, ("subgraphs",) = [int] subgraph indices.
_V4, _V8, _V1, _STR = ("vec", 4), ("vec", 8), ("vec", 1), ("str", 0)
_SG, _SGU, _SGS = ("subgraph", 4), ("subgraph_u", 4), ("subgraphs", 4)

# Options tables (by union type index) that hold offsets or subgraph indices: {slot: kind}. Every other options
# table holds only scalars; its vtable and field bounds are still verified generically.
_BUILTIN_OPTIONS_FIELDS: dict[int, dict[int, tuple[str, int]]] = {
    3: {1: _V4, 2: _V4},  # ConcatEmbeddingsOptions: num_columns_per_channel, embedding_dim_per_channel
    16: {0: _SGU},  # CallOptions.subgraph
    17: {0: _V4},  # ReshapeOptions.new_shape
    30: {0: _V4},  # SqueezeOptions.squeeze_dims
    92: {0: _SG, 1: _SG},  # IfOptions: then/else subgraph
    93: {0: _SG, 1: _SG},  # WhileOptions: cond/body subgraph
    103: {0: _SG},  # CallOnceOptions.init_subgraph_index
    111: {0: _STR, 1: _STR},  # VarHandleOptions: container, shared_name
    115: {0: _V4},  # BucketizeOptions.boundaries
}
_BUILTIN_OPTIONS_2_FIELDS: dict[int, dict[int, tuple[str, int]]] = {
    2: {0: _V8},  # StablehloBroadcastInDimOptions
    3: {0: _V8, 1: _V8, 2: _V8},  # StablehloSliceOptions
    4: {0: _V8, 1: _V8, 2: _V8, 3: _V8, 4: _V1, 7: _V8, 10: _V8, 13: _V8, 16: _V4},  # StablehloConvolutionOptions
    5: {0: _STR, 2: _STR, 4: _SGS, 5: _V1},  # StablehloCustomCallOptions
    6: {0: _V8, 1: _SG},  # StablehloReduceOptions
    7: {1: _V8, 2: _V8, 3: _V8, 6: _SG},  # StablehloScatterOptions
    9: {0: _V8},  # StablehloDynamicSliceOptions
    10: {0: _V8, 1: _V8, 2: _V8},  # StablehloPadOptions
    12: {0: _V8, 1: _V8, 2: _V8, 3: _V8, 4: _V4},  # StablehloDotGeneralOptions
    13: {0: _V8, 1: _V8, 2: _V8, 3: _V8, 4: _V8, 5: _SG},  # StablehloReduceWindowOptions
    14: {2: _SG},  # StablehloSortOptions.comparator_subgraph_index
    15: {0: _SG, 1: _SG},  # StablehloWhileOptions
    16: {0: _V8, 1: _V8, 2: _V8, 4: _V8},  # StablehloGatherOptions
    17: {0: _V8},  # StablehloTransposeOptions
    21: {0: _STR, 1: _SG, 2: _V1},  # StableHLOCompositeOptions
}
# Operators that run other subgraphs: opcode -> (options union 1 or 2, options type, subgraph-index slots). Their
# references are followed even when the options are absent or of another type (the runtime then reads 0).
_CONTROL_FLOW = {
    _OP_CALL: (1, 16, (0,)), _OP_IF: (1, 92, (0, 1)), _OP_WHILE: (1, 93, (0, 1)), _OP_CALL_ONCE: (1, 103, (0,)),
    _OP_STABLEHLO["reduce"]: (2, 6, (1,)), _OP_STABLEHLO["scatter"]: (2, 7, (6,)),
    _OP_STABLEHLO["reduce_window"]: (2, 13, (5,)), _OP_STABLEHLO["sort"]: (2, 14, (2,)),
    _OP_STABLEHLO["while"]: (2, 15, (0, 1)), _OP_STABLEHLO["composite"]: (2, 21, (1,)),
}
# Builtin operators that accept omitted (-1) inputs, and at which positions (None: any position). Kernels of other
# operators dereference every input: an omitted one crashes the runtime (found by fuzzing: ADD with input -1).
_LSTM_LIKE = (16, 35, 44, 46, 52)  # LSTM, UNIDIRECTIONAL_SEQUENCE_RNN/LSTM, BIDIRECTIONAL_SEQUENCE_RNN/LSTM
_OPTIONAL_INPUTS: dict[int, frozenset[int] | None] = {
    3: frozenset({2}), 4: frozenset({2}), 9: frozenset({2}), 132: frozenset({2}),  # CONV_2D/DEPTHWISE/FC/CONV_3D bias
    67: frozenset({3}), 141: frozenset({3}), 27: frozenset({3}), 15: frozenset({2}),  # TRANSPOSE_CONV(3D), SVDF, LSH
    **{op: None for op in _LSTM_LIKE}, _OP_CUSTOM: None, 51: None,  # DELEGATE
}
_OPTIONAL_OUTPUTS = frozenset({*_LSTM_LIKE, _OP_CUSTOM, 51})
# Operand counts of common builtin operators: opcode -> (min inputs, max inputs, min outputs, max outputs), None for
# "any". Kernels index their operands by position, and not all of them check the counts (found by fuzzing: a
# FULLY_CONNECTED turned into SPLIT crashes the runtime). Operators missing here are not checked.
_N = None
_ARITY: dict[int, tuple[int, int | None, int, int | None]] = {
    **{op: (1, 1, 1, 1) for op in (1, 5, 6, 8, 11, 12, 13, 14, 17, 19, 20, 21, 25, 26, 28, 43, 47, 50, 53, 59, 66, 73,
                                   75, 76, 77, 87, 92, 93, 98, 101, 104, 108, 110, 111, 114, 116, 117, 124, 150,
                                   158)},
    **{op: (2, 2, 1, 1) for op in (0, 7, 18, 23, 34, 36, 39, 40, 41, 42, 54, 55, 56, 57, 58, 61, 62, 63, 69, 70, 71,
                                   72, 74, 78, 79, 81, 82, 84, 86, 89, 90, 91, 94, 95, 97, 99, 100, 105, 107, 126,
                                   128, 130, 140, 145)},
    **{op: (3, 3, 1, 1) for op in (37, 38, 60, 64, 65, 96, 123, 151)},
    2: (1, _N, 1, 1), 83: (1, _N, 1, 1), 106: (1, _N, 1, 1),  # CONCATENATION, PACK, ADD_N
    3: (2, 3, 1, 1), 4: (3, 3, 1, 1), 9: (2, 3, 1, 2), 22: (1, 2, 1, 1), 67: (3, 4, 1, 1),  # conv, FC, reshape
    45: (4, 4, 1, 1), 48: (2, 2, 2, 2), 49: (2, 2, 1, _N), 102: (3, 3, 1, _N), 88: (1, 1, 1, _N),  # slice, split
    85: (4, 4, 1, 1), 103: (1, 1, 2, 2),  # ONE_HOT, UNIQUE
    129: (0, 0, 0, 0), 142: (0, 0, 1, 1), 143: (1, 1, 1, 1), 144: (2, 2, 0, 0),  # CALL_ONCE, variables
}
# TensorType values of integer types (INT32, UINT8, INT64, INT16, INT8, UINT64, UINT32, UINT16, INT4).
_INTEGER_TYPES = np.array([2, 3, 4, 7, 9, 12, 15, 16, 17], np.int64)
# TensorType -> element size as a lookup table over the type byte.
_SIZE_LUT = np.zeros(256, np.int64)
for _t, _s in _TYPE_SIZES.items():
    _SIZE_LUT[_t] = _s

@dataclass
class VerificationStats:
    """Facts gathered while verifying (used by the fuzzer to skip inputs that only stress allocation)."""

    num_subgraphs: int = 0
    num_tensors: int = 0
    num_operators: int = 0
    num_buffers: int = 0
    max_tensor_bytes: int = 0  # largest static tensor size (shape x element size), 0 when unknown
    tables: int = 0
    problems: list[str] = field(default_factory=list)
    # per subgraph, {tensor index: shape signature, else shape} of the tensors that carry one (valid models only)
    shape_signatures: list[dict[int, tuple[int, ...]]] | None = None
    # {(subgraph, tensor): computed shape} of computed tensors whose declared shape differs: TFLite takes declared
    # shapes of computed tensors as hints (Prepare recomputes them); the SDK loads the model with the computed ones
    shape_hints: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    variable_tensors: int = 0  # TFLite variable tensors (state the classic interpreter keeps between runs)


class _Structural(Exception):
    """The bytes are not a well-formed flatbuffer: the walk cannot go on."""


class _TooMany(Exception):
    """Enough semantic problems were found."""


class _Tables:
    """A set of tables of one kind, checked together: positions, vtables, vtable and object sizes."""

    __slots__ = ("pos", "vt", "vtsize", "objsize", "label")

    def __init__(self, pos: np.ndarray, vt: np.ndarray, vtsize: np.ndarray, objsize: np.ndarray,
                 label: Callable[[int], str]) -> None:
        self.pos, self.vt, self.vtsize, self.objsize, self.label = pos, vt, vtsize, objsize, label

    def __len__(self) -> int:
        return len(self.pos)


_EMPTY = np.zeros(0, np.int64)
_KEY = 1 << 32  # (subgraph, tensor) pairs as subgraph * _KEY + tensor


def _segments(lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For vectors of lengths ``lens``: the owner and the local index of each element of their concatenation."""
    total = int(lens.sum())
    if total == 0:
        return _EMPTY, _EMPTY
    owner = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    local = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)
    return owner, local


class _Verifier:
    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self.u8 = np.frombuffer(data, np.uint8)
        n = self.n = len(self.u8)
        self.i8 = self.u8.view(np.int8)
        self.u16 = np.frombuffer(data, "<u2", count=n // 2)
        self.i32 = np.frombuffer(data, "<i4", count=n // 4)
        self.u32 = np.frombuffer(data, "<u4", count=n // 4)
        self.i64 = np.frombuffer(data, "<i8", count=n // 8)
        self.u64 = np.frombuffer(data, "<u8", count=n // 8)
        self.stats = VerificationStats()
        self.problems = self.stats.problems
        self.subgraph_outputs: list[list[int]] = []  # output tensors of each subgraph (set by dataflow)
        self.subgraph_inputs: list[list[int]] = []  # input tensors of each subgraph (set by dataflow)

    # -- reporting ---------------------------------------------------------------------------------------------
    @staticmethod
    def _structural(bad: np.ndarray, label: Callable[[int], str], at: np.ndarray, problem: str) -> None:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _Structural(f"malformed flatbuffer: {label(i)}: {problem} (at byte {int(at[i])})")

    def problem(self, message: str) -> None:
        self.problems.append(message)
        if len(self.problems) >= MAX_PROBLEMS:
            raise _TooMany()

    def problems_where(self, bad: np.ndarray, message: Callable[[int], str]) -> None:
        if not bad.any():
            return
        for i in np.flatnonzero(bad)[: MAX_PROBLEMS]:
            self.problem(message(int(i)))

    # -- flatbuffer primitives (vectorised) ------------------------------------------------------------------
    def tables(self, pos: np.ndarray, label: Callable[[int], str], depth: int) -> _Tables:
        """Checks tables starting at ``pos``: soffset and vtable in bounds and aligned, sane vtable/object sizes."""
        pos = np.asarray(pos, np.int64)
        self.stats.tables += len(pos)
        if self.stats.tables > MAX_TABLES:
            raise _Structural(f"malformed flatbuffer: more than {MAX_TABLES} tables")
        if depth > MAX_DEPTH:
            raise _Structural(f"malformed flatbuffer: tables nested deeper than {MAX_DEPTH}")
        if not len(pos):
            return _Tables(pos, pos, pos, pos, label)
        n = self.n
        self._structural(((pos & 3) != 0) | (pos < 0) | (pos + 4 > n), label, pos, "table out of bounds or misaligned")
        vt = pos - self.i32[pos >> 2]
        self._structural((vt < 0) | ((vt & 1) != 0) | (vt + 4 > n), label, pos, "vtable out of bounds or misaligned")
        half = vt >> 1
        vtsize = self.u16[half].astype(np.int64)
        objsize = self.u16[half + 1].astype(np.int64)
        self._structural((vtsize < 4) | ((vtsize & 1) != 0) | (vt + vtsize > n), label, vt,
                         "vtable size is odd, too small or runs past the end of the buffer")
        self._structural((objsize < 4) | (pos + objsize > n), label, pos,
                         "table size is too small or runs past the end of the buffer")
        return _Tables(pos, vt, vtsize, objsize, label)

    def field(self, t: _Tables, slot: int, size: int, name: str) -> np.ndarray:
        """Absolute positions of field ``slot`` (0 where absent); checks it lies in its table and is aligned."""
        vo = 4 + 2 * slot
        present = t.vtsize > vo
        if not present.any():
            return np.zeros(len(t), np.int64)
        off = self.u16[np.where(present, (t.vt + vo) >> 1, 0)].astype(np.int64) * present
        nz = off != 0
        fp = (t.pos + off) * nz
        bad = nz & ((off < 4) | (off + size > t.objsize) | ((fp & (size - 1)) != 0))
        self._structural(bad, t.label, fp, f"field {name!r} lies outside its table or is misaligned")
        return fp

    def scalar(self, t: _Tables, slot: int, kind: str, name: str, default: int = 0) -> np.ndarray:
        view = {"u8": self.u8, "i8": self.i8, "u16": self.u16, "i32": self.i32, "u32": self.u32,
                "i64": self.i64, "u64": self.u64}[kind]
        size = view.itemsize
        fp = self.field(t, slot, size, name)
        vals = view[fp // size].astype(np.int64 if kind != "u64" else np.uint64)
        return np.where(fp != 0, vals, default)

    def offset(self, t: _Tables, slot: int, name: str) -> np.ndarray:
        """Targets of the uoffset field ``slot`` (0 where absent)."""
        fp = self.field(t, slot, 4, name)
        has = fp != 0
        if not has.any():
            return fp
        u = self.u32[fp >> 2].astype(np.int64) * has
        self._structural(has & ((u == 0) | (u >= _OFFSET_LIMIT) | (fp + u >= self.n)), t.label, fp,
                         f"offset of field {name!r} is zero or points outside the buffer")
        return fp + u

    def vector(self, t: _Tables, slot: int, elem: int, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(element start, length, present) of vector field ``slot`` of every table in ``t``."""
        tgt = self.offset(t, slot, name)
        has = tgt != 0
        if not has.any():
            return tgt + 4, tgt, has
        self._structural(has & (((tgt & 3) != 0) | (tgt + 4 > self.n)), t.label, tgt,
                         f"vector {name!r} is misaligned or out of bounds")
        ln = self.u32[tgt >> 2].astype(np.int64) * has
        self._structural(tgt + 4 + ln * elem > self.n, t.label, tgt, f"vector {name!r} runs past the end of the buffer")
        return tgt + 4, ln, has

    def string(self, t: _Tables, slot: int, name: str, utf8: bool = False) -> np.ndarray:
        """Presence of string field ``slot``; checks bounds, the NUL terminator and (``utf8``) the encoding."""
        start, ln, has = self.vector(t, slot, 1, name)
        end = start + ln
        bad = has & (end >= self.n)
        self._structural(bad, t.label, start, f"string {name!r} runs past the end of the buffer")
        bad = has & (self.u8[np.where(has, end, 0)] != 0)
        self._structural(bad, t.label, end, f"string {name!r} is not NUL-terminated")
        if utf8 and has.any():
            # names are handed to Python as str: they must be UTF-8 (fast path: all ASCII)
            owner, local = _segments(ln)
            chars = self.u8[start[owner] + local]
            if (chars >= 0x80).any():
                for i in unique(owner[chars >= 0x80])[0]:
                    raw = bytes(self.u8[start[i]: end[i]])
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError:
                        self.problem(f"{t.label(int(i))}: {name} {raw[:40]!r} is not valid UTF-8")
        return has

    def table_field(self, t: _Tables, slot: int, name: str, label: Callable[[int, int], str], depth: int
                    ) -> tuple[_Tables, np.ndarray]:
        """The sub-tables of field ``slot`` (only where present) and the index of their parent in ``t``."""
        tgt = self.offset(t, slot, name)
        owner = np.flatnonzero(tgt)
        return self.tables(tgt[owner], lambda i: label(int(owner[i]), 0), depth), owner

    def table_vector(self, t: _Tables, slot: int, name: str, label: Callable[[int, int], str], depth: int
                     ) -> tuple[_Tables, np.ndarray, np.ndarray, np.ndarray]:
        """The tables of vector field ``slot``: (tables, owner index in ``t``, index in the vector, lengths)."""
        start, ln, _ = self.vector(t, slot, 4, name)
        owner, local = _segments(ln)
        elem = start[owner] + 4 * local
        u = self.u32[elem >> 2].astype(np.int64)
        lab = lambda i: label(int(owner[i]), int(local[i]))  # noqa: E731
        self._structural((u == 0) | (u >= _OFFSET_LIMIT) | (elem + u >= self.n), lab, elem,
                         "table offset is zero or points outside the buffer")
        return self.tables(elem + u, lab, depth), owner, local, ln

    def gather(self, start: np.ndarray, ln: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Contents of vectors (4-byte aligned starts): (values, owner, local index)."""
        view = {"i32": self.i32, "u16": self.u16, "u8": self.u8}[kind]
        owner, local = _segments(ln)
        size = view.itemsize
        pos = start[owner] + size * local
        return view[pos // size].astype(np.int64), owner, local

    # -- the TFLite schema walk ---------------------------------------------------------------------------------
    def run(self) -> None:
        n = self.n
        if n < 8:
            raise _Structural(f"model is too short to be a TFLite flatbuffer ({n} bytes)")
        ident = bytes(self.u8[4:8])
        if ident != FILE_IDENTIFIER:
            raise _Structural(f"not a TFLite model: file identifier is {ident!r}, expected {FILE_IDENTIFIER!r}")
        root = int(self.u32[0])
        if root == 0 or root >= _OFFSET_LIMIT or root >= n:
            raise _Structural(f"malformed flatbuffer: root table offset {root} is outside the buffer ({n} bytes)")
        model = self.tables(np.array([root], np.int64), lambda i: "model", 1)

        version = int(self.scalar(model, 0, "u32", "version")[0])
        if version != SCHEMA_VERSION:
            self.problem(f"model schema version is {version}, the runtime supports version {SCHEMA_VERSION}")

        # operator codes
        codes, _, _, ln = self.table_vector(model, 1, "operator_codes", lambda o, i: f"operator code {i}", 2)
        n_codes = int(ln[0])
        dep = self.scalar(codes, 0, "i8", "deprecated_builtin_code")
        has_custom = self.string(codes, 1, "custom_code", utf8=True)
        builtin = self.scalar(codes, 3, "i32", "builtin_code")
        self.problems_where((dep < 0) | (builtin < 0), lambda i: f"operator code {i} has a negative builtin code "
                                                                 f"({int(dep[i])}, {int(builtin[i])})")
        opcode = np.maximum(dep, builtin)
        self.problems_where((opcode == _OP_CUSTOM) & ~has_custom,
                            lambda i: f"operator code {i} is CUSTOM but has no custom_code")

        # subgraphs
        subgraphs, _, _, ln = self.table_vector(model, 2, "subgraphs", lambda o, i: f"subgraph {i}", 2)
        n_sub = self.stats.num_subgraphs = int(ln[0])
        if n_sub == 0:
            self.problem("the model has no subgraphs")
        self.string(model, 3, "description")

        # buffers
        buffers, _, _, ln = self.table_vector(model, 4, "buffers", lambda o, i: f"buffer {i}", 2)
        n_buf = self.stats.num_buffers = int(ln[0])
        if not self.offset(model, 4, "buffers")[0]:
            self.problem("the model has no buffers vector")
        buf_data_start, buf_data_len, _ = self.vector(buffers, 0, 1, "data")
        buf_off = self.scalar(buffers, 1, "u64", "offset").astype(np.uint64)
        buf_size = self.scalar(buffers, 2, "u64", "size").astype(np.uint64)
        external = buf_off > 1
        # offset + size <= n, computed without uint64 wrap-around
        bad = external & ((buf_off > np.uint64(n)) | (buf_size > np.uint64(n) - np.minimum(buf_off, np.uint64(n))))
        self.problems_where(bad, lambda i: f"buffer {i} stores {int(buf_size[i])} bytes at file offset "
                                           f"{int(buf_off[i])}, past the end of the file ({n} bytes)")
        buf_bytes = np.where(external, np.minimum(buf_size, np.uint64(n)).astype(np.int64), buf_data_len)
        self.buf_pos = np.where(external, np.minimum(buf_off, np.uint64(n)).astype(np.int64), buf_data_start)
        self.buf_bytes = buf_bytes

        # metadata
        start, ln, _ = self.vector(model, 5, 4, "metadata_buffer")
        vals, _, local = self.gather(start, ln, "i32")
        self.problems_where((vals < 0) | (vals >= n_buf), lambda i: f"metadata_buffer entry {int(local[i])} "
                            f"references buffer {int(vals[i])} but the model has {n_buf} buffers")
        meta, _, mlocal, _ = self.table_vector(model, 6, "metadata", lambda o, i: f"metadata {i}", 2)
        has_name = self.string(meta, 0, "name", utf8=True)
        self.problems_where(~has_name, lambda i: f"metadata {int(mlocal[i])} has no name")
        mbuf = self.scalar(meta, 1, "u32", "buffer")
        self.problems_where(mbuf >= n_buf, lambda i: f"metadata {int(mlocal[i])} references buffer "
                            f"{int(mbuf[i])} but the model has {n_buf} buffers")

        n_tensors = self.subgraphs(subgraphs, n_sub, n_codes, opcode, n_buf, buf_bytes)
        self.signature_defs(model, n_sub, n_tensors)

    def subgraphs(self, sg: _Tables, n_sub: int, n_codes: int, opcode: np.ndarray, n_buf: int,
                  buf_bytes: np.ndarray) -> np.ndarray:
        # tensors of every subgraph at once
        tensors, t_sg, t_local, n_tensors = self.table_vector(
            sg, 0, "tensors", lambda s, i: f"tensor {i} of subgraph {s}", 3)
        self.stats.num_tensors = len(tensors)
        tlabel = lambda i: f"tensor {int(t_local[i])} of subgraph {int(t_sg[i])}"  # noqa: E731
        for s in np.flatnonzero(self.offset(sg, 0, "tensors") == 0):
            self.problem(f"subgraph {int(s)} has no tensors vector")

        shape_start, shape_len, has_shape = self.vector(tensors, 0, 4, "shape")
        ttype = self.scalar(tensors, 1, "i8", "type")
        tbuf = self.scalar(tensors, 2, "u32", "buffer")
        self.string(tensors, 3, "name", utf8=True)
        sig_start, sig_len, has_sig = self.vector(tensors, 7, 4, "shape_signature")
        self.scalar(tensors, 8, "u8", "has_rank")

        self.t_first = np.cumsum(n_tensors) - n_tensors  # global index of each subgraph's tensor 0
        self.t_count = n_tensors
        self.t_shape = (shape_start, shape_len)
        self.t_has_shape = has_shape
        self.t_sig = (sig_start, sig_len, has_sig)
        self.t_type, self.t_buf = ttype, tbuf
        self.tensors = tensors  # read by the kernel rules (_kernel_rules.py)
        self.problems_where(tbuf >= n_buf, lambda i: f"{tlabel(i)} references buffer {int(tbuf[i])} but the model "
                                                     f"has {n_buf} buffers")
        self.problems_where(shape_len > MAX_RANK, lambda i: f"{tlabel(i)} has rank {int(shape_len[i])}, more than "
                                                            f"the runtime's maximum of {MAX_RANK}")
        self.problems_where(sig_len > MAX_RANK, lambda i: f"{tlabel(i)} has a shape signature of rank "
                                                          f"{int(sig_len[i])}, more than {MAX_RANK}")
        dims, d_owner, d_local = self.gather(shape_start, np.minimum(shape_len, MAX_RANK), "i32")
        self.problems_where(dims < 0, lambda i: f"{tlabel(int(d_owner[i]))} has a negative dimension "
                                                f"{int(dims[i])} at axis {int(d_local[i])} of its shape")
        sdims, s_owner, s_local = self.gather(sig_start, np.minimum(sig_len, MAX_RANK), "i32")
        self.problems_where(sdims < -1, lambda i: f"{tlabel(int(s_owner[i]))} has dimension {int(sdims[i])} at axis "
                                                  f"{int(s_local[i])} of its shape signature (only -1 may be negative)")

        # static sizes (element count as float to stay overflow-free) and constant data sizes
        esize = _SIZE_LUT[ttype & 0xFF]
        count = np.ones(len(tensors), np.float64)
        if len(dims):
            np.multiply.at(count, d_owner, np.maximum(dims, 0).astype(np.float64))
        tensor_bytes = count * esize
        if len(tensor_bytes):
            self.stats.max_tensor_bytes = int(min(tensor_bytes.max(), 2.0**62))
        self.problems_where(tensor_bytes > MAX_TENSOR_BYTES, lambda i: f"{tlabel(i)} would take "
                            f"{tensor_bytes[i]:.3g} bytes, more than {MAX_TENSOR_BYTES} (its size cannot be "
                            f"allocated on any host)")

        self.quantization(tensors, tlabel, shape_start, shape_len)
        sparse = self.sparsity(tensors, tlabel, shape_start, shape_len, ttype, tbuf, n_buf, buf_bytes)
        variants, v_owner, v_local, _ = self.table_vector(
            tensors, 9, "variant_tensors", lambda o, i: f"variant subtype {i} of {tlabel(o)}", 4)
        _, vlen, _ = self.vector(variants, 0, 4, "shape")
        self.scalar(variants, 1, "i8", "type")
        self.scalar(variants, 2, "u8", "has_rank")
        self.problems_where(vlen > MAX_RANK, lambda i: f"variant subtype {int(v_local[i])} of "
                            f"{tlabel(int(v_owner[i]))} has rank {int(vlen[i])}, more than {MAX_RANK}")

        valid = tbuf < n_buf
        have = np.zeros(len(tensors), np.int64)
        have[valid] = buf_bytes[tbuf[valid]]
        self.constant_keys = t_sg[have > 0] * _KEY + t_local[have > 0]
        is_var = self.scalar(tensors, 5, "u8", "is_variable") != 0
        self.variable_keys = t_sg[is_var] * _KEY + t_local[is_var]
        self.stats.variable_tensors = int(is_var.sum())
        const = valid & (esize > 0) & ~sparse & (shape_len <= MAX_RANK) & (have > 0)
        for i in np.flatnonzero(const & (have != tensor_bytes))[:MAX_PROBLEMS]:
            need = float(tensor_bytes[i])
            shape = [int(d) for d in dims[d_owner == i]]
            self.problem(f"{tlabel(int(i))} has shape {shape} of {_TYPE_NAMES.get(int(ttype[i]), int(ttype[i]))} "
                         f"({int(need) if need < 2**62 else 'too many'} bytes) but its buffer {int(tbuf[i])} "
                         f"holds {int(have[i])} bytes")

        # subgraph inputs / outputs
        for slot, what in ((1, "input"), (2, "output")):
            start, ln, _ = self.vector(sg, slot, 4, what + "s")
            vals, owner, local = self.gather(start, ln, "i32")
            limit = n_tensors[owner]
            for i in np.flatnonzero((vals < 0) | (vals >= limit))[:MAX_PROBLEMS]:
                self.problem(f"{what} {int(local[i])} of subgraph {int(owner[i])} is tensor {int(vals[i])} but the "
                             f"subgraph has {int(limit[i])} tensors")
        self.string(sg, 4, "name", utf8=True)
        self.scalar(sg, 5, "i32", "debug_metadata_index")

        self.operators(sg, n_sub, n_codes, opcode, n_tensors)
        return n_tensors

    def quantization(self, tensors: _Tables, tlabel: Callable[[int], str], shape_start: np.ndarray,
                     shape_len: np.ndarray) -> None:
        q, q_owner = self.table_field(tensors, 4, "quantization",
                                      lambda o, _: f"quantization of {tlabel(o)}", 4)
        if not len(q):
            return
        self.vector(q, 0, 4, "min")
        self.vector(q, 1, 4, "max")
        s_start, n_scale, has_scale = self.vector(q, 2, 4, "scale")
        z_start, n_zp, has_zp = self.vector(q, 3, 8, "zero_point")
        # values the kernels divide by and offset with: scales finite and >= 0, zero points within the type's range
        # (found by fuzzing: a NaN scale or a zero point of 1e11 crashes the XNNPACK delegate at compile time)
        scales, sc_owner, _ = self.gather(s_start, n_scale, "i32")
        scales = scales.astype(np.uint32).view(np.float32) if len(scales) else np.zeros(0, np.float32)
        bad = ~np.isfinite(scales) | (scales < 0)
        # integer tensors are computed with these scales: zero or subnormal ones make the kernels' multipliers
        # overflow (found by fuzzing with atheris: an int8 scale of 0 or 1e-40 crashes LiteRtCreateCompiledModel)
        if len(scales):
            owner_type = self.t_type[q_owner[sc_owner]] & 0xFF
            bad |= isin(owner_type, _INTEGER_TYPES) & (scales < np.finfo(np.float32).tiny)
        self.problems_where(bad, lambda i: f"quantization of {tlabel(int(q_owner[sc_owner[i]]))} has scale "
                                           f"{float(scales[i])}")
        lo, zp_owner, zp_local = self.gather(z_start, n_zp * 2, "i32")
        if len(lo):
            zps = (lo[1::2] << 32) | (lo[0::2] & 0xFFFFFFFF)
            zp_owner = zp_owner[0::2]
            ttype = self.t_type[q_owner[zp_owner]]
            lo_lim = np.select([ttype == 9, ttype == 3, ttype == 7, ttype == 17], [-128, 0, -32768, -8], -(1 << 31))
            hi_lim = np.select([ttype == 9, ttype == 3, ttype == 7, ttype == 17], [127, 255, 32767, 7], (1 << 31) - 1)
            bad = (zps < lo_lim) | (zps > hi_lim)
            self.problems_where(bad, lambda i: f"quantization of {tlabel(int(q_owner[zp_owner[i]]))} has zero point "
                                               f"{int(zps[i])}, outside the range of its type")
        dtype = self.scalar(q, 4, "u8", "details_type")
        qdim = self.scalar(q, 6, "i32", "quantized_dimension")
        details, d_owner = self.table_field(q, 5, "details", lambda o, _: f"quantization details of "
                                            f"{tlabel(int(q_owner[o]))}", 5)
        custom = dtype[d_owner] == 1  # CustomQuantization { custom: [ubyte] }
        if custom.any():
            sub = np.flatnonzero(custom)
            self.vector(_Tables(details.pos[sub], details.vt[sub], details.vtsize[sub], details.objsize[sub],
                                lambda i: details.label(int(sub[i]))), 0, 1, "custom")
        # the runtime reads zero points wherever there are scales (found by fuzzing: a missing zero_point vector
        # crashes the model loader)
        self.problems_where(has_scale != has_zp, lambda i: f"quantization of {tlabel(int(q_owner[i]))} has "
                            f"{'scales but no zero points' if has_scale[i] else 'zero points but no scales'}")
        both = has_scale & has_zp
        self.problems_where(both & (n_scale != n_zp), lambda i: f"quantization of {tlabel(int(q_owner[i]))} has "
                            f"{int(n_scale[i])} scales but {int(n_zp[i])} zero points")
        rank = shape_len[q_owner]
        per_channel = both & (n_scale > 1)
        bad_dim = per_channel & ((qdim < 0) | (qdim >= rank))
        self.problems_where(bad_dim, lambda i: f"quantization of {tlabel(int(q_owner[i]))} has quantized_dimension "
                            f"{int(qdim[i])} but the tensor has rank {int(rank[i])}")
        ok = per_channel & ~bad_dim & (rank <= MAX_RANK)
        if ok.any():
            idx = np.flatnonzero(ok)
            dim = self.i32[(shape_start[q_owner[idx]] >> 2) + qdim[idx]].astype(np.int64)
            wrong = n_scale[idx] != dim
            self.problems_where(wrong, lambda j: f"quantization of {tlabel(int(q_owner[idx[j]]))} has "
                                f"{int(n_scale[idx[j]])} scales but dimension {int(qdim[idx[j]])} has size "
                                f"{int(dim[j])}")

    def sparsity(self, tensors: _Tables, tlabel: Callable[[int], str], shape_start: np.ndarray, shape_len: np.ndarray,
                 ttype: np.ndarray, tbuf: np.ndarray, n_buf: int, buf_bytes: np.ndarray) -> np.ndarray:
        """Verifies sparsity parameters; returns a mask of the tensors that have them."""
        sparse = np.zeros(len(tensors), bool)
        sp, s_owner = self.table_field(tensors, 6, "sparsity", lambda o, _: f"sparsity of {tlabel(o)}", 4)
        if not len(sp):
            return sparse
        sparse[s_owner] = True
        to_start, to_len, _ = self.vector(sp, 0, 4, "traversal_order")
        bm_start, bm_len, _ = self.vector(sp, 1, 4, "block_map")
        dm, dm_owner, dm_local, dm_len = self.table_vector(
            sp, 2, "dim_metadata", lambda o, i: f"dimension metadata {i} of sparse {tlabel(int(s_owner[o]))}", 5)
        fmt = self.scalar(dm, 0, "i8", "format")
        dense_size = self.scalar(dm, 1, "i32", "dense_size")
        seg = self.sparse_index_vectors(dm, 2, "array_segments")
        ind = self.sparse_index_vectors(dm, 4, "array_indices")
        first_dm = np.cumsum(dm_len) - dm_len
        for k in range(len(sp)):
            t = int(s_owner[k])
            label = f"sparse {tlabel(t)}"
            rank = int(shape_len[t])
            if rank > MAX_RANK:
                continue  # reported already
            shape = [int(v) for v in self.i32[(shape_start[t] >> 2): (shape_start[t] >> 2) + rank]]
            order = [int(v) for v in self.i32[(to_start[k] >> 2): (to_start[k] >> 2) + int(to_len[k])]]
            bmap = [int(v) for v in self.i32[(bm_start[k] >> 2): (bm_start[k] >> 2) + int(bm_len[k])]]
            nb = len(bmap)
            if len(order) != rank + nb or int(dm_len[k]) != len(order):
                self.problem(f"{label} has {len(order)} traversal dimensions, {int(dm_len[k])} dimension "
                             f"metadata and {nb} block dimensions for rank {rank}")
                continue
            if sorted(order[:rank]) != list(range(rank)) or sorted(order[rank:]) != list(range(rank, rank + nb)):
                self.problem(f"{label} has an invalid traversal order {order}")
                continue
            if any(not 0 <= b < rank for b in bmap):
                self.problem(f"{label} has an invalid block map {bmap}")
                continue
            base = int(first_dm[k])
            levels = range(base, base + len(order))
            # sizes of the expanded (blocked) dimensions
            dense = {int(order[j]): int(dense_size[base + j]) for j in range(len(order))}
            sizes = list(shape) + [dense[rank + b] for b in range(nb)]
            ok = True
            for b, d in enumerate(bmap):
                block = sizes[rank + b]
                if block <= 0 or shape[d] % block:
                    self.problem(f"{label}: block size {block} does not divide dimension {d} of size {shape[d]}")
                    ok = False
                    break
                sizes[d] = shape[d] // block
            if not ok:
                continue
            count = 1
            for j, lv in zip(range(len(order)), levels, strict=False):
                dim_size = sizes[order[j]]
                if int(fmt[lv]) == 0:  # DENSE
                    if int(dense_size[lv]) != dim_size:
                        self.problem(f"{label}: dense dimension {j} has size {int(dense_size[lv])}, "
                                     f"expected {dim_size}")
                        ok = False
                        break
                    count *= dim_size
                elif int(fmt[lv]) == 1:  # SPARSE_CSR
                    segs, idxs = seg[lv], ind[lv]
                    if segs is None or idxs is None:
                        self.problem(f"{label}: sparse dimension {j} has no segments or indices")
                        ok = False
                        break
                    if len(segs) != count + 1 or segs[0] != 0 or (np.diff(segs) < 0).any() or segs[-1] != len(idxs):
                        self.problem(f"{label}: sparse dimension {j} has inconsistent segments")
                        ok = False
                        break
                    if len(idxs) and (idxs.min() < 0 or idxs.max() >= dim_size):
                        self.problem(f"{label}: sparse dimension {j} has indices outside [0, {dim_size})")
                        ok = False
                        break
                    count = len(idxs)
                else:
                    self.problem(f"{label}: dimension {j} has unknown format {int(fmt[lv])}")
                    ok = False
                    break
                if count > (1 << 40):
                    self.problem(f"{label}: too many elements")
                    ok = False
                    break
            if not ok:
                continue
            es = _TYPE_SIZES.get(int(ttype[t]), 0)
            b = int(tbuf[t])
            if es and b < n_buf and int(buf_bytes[b]) and int(buf_bytes[b]) != count * es:
                self.problem(f"{label} describes {count} stored values ({count * es} bytes) but its buffer "
                             f"{b} holds {int(buf_bytes[b])} bytes")
        return sparse

    def sparse_index_vectors(self, dm: _Tables, type_slot: int, name: str) -> list[np.ndarray | None]:
        """Values of the SparseIndexVector union field (Int32Vector / Uint16Vector / Uint8Vector) per table."""
        utype = self.scalar(dm, type_slot, "u8", name + "_type")
        sub, owner = self.table_field(dm, type_slot + 1, name, lambda o, _: f"{name} of {dm.label(o)}", 6)
        out: list[np.ndarray | None] = [None] * len(dm)
        if not len(sub):
            return out
        kinds = {1: ("i32", 4), 2: ("u16", 2), 3: ("u8", 1)}
        for code, (kind, size) in kinds.items():
            sel = np.flatnonzero(utype[owner] == code)
            if not len(sel):
                continue
            part = _Tables(sub.pos[sel], sub.vt[sel], sub.vtsize[sel], sub.objsize[sel],
                           lambda i, sel=sel: sub.label(int(sel[i])))
            start, ln, _ = self.vector(part, 0, size, "values")
            vals, v_owner, _ = self.gather(start, ln, kind)
            bounds = np.concatenate([[0], np.cumsum(ln)])
            for j, o in enumerate(owner[sel]):
                out[int(o)] = vals[bounds[j]: bounds[j + 1]]
        return out

    def options(self, ops: _Tables, type_slot: int, table_slot: int, fields: dict[int, dict[int, tuple[str, int]]],
                name: str, olabel: Callable[[int], str]) -> dict[int, dict[int, np.ndarray]]:
        """Verifies a builtin-options union of every operator; returns {union type: {slot: per-op subgraph values}}."""
        utype = self.scalar(ops, type_slot, "u8", name + "_type")
        tabs, owner = self.table_field(ops, table_slot, name, lambda o, _: f"{name} of {olabel(o)}", 5)
        refs: dict[int, dict[int, np.ndarray]] = {}
        if not len(tabs):
            return refs
        ut = utype[owner]
        for code in unique(ut)[0]:
            spec = fields.get(int(code))
            if not spec:
                continue
            sel = np.flatnonzero(ut == code)
            part = _Tables(tabs.pos[sel], tabs.vt[sel], tabs.vtsize[sel], tabs.objsize[sel],
                           lambda i, sel=sel: tabs.label(int(sel[i])))
            for slot, (kind, size) in spec.items():
                if kind == "vec":
                    self.vector(part, slot, size, f"field {slot}")
                elif kind == "str":
                    self.string(part, slot, f"field {slot}")
                elif kind == "subgraphs":
                    start, ln, _ = self.vector(part, slot, 4, f"field {slot}")
                    vals, v_owner, _ = self.gather(start, ln, "i32")
                    per_op = np.full(len(ops), -2, np.int64)
                    # keep one (the worst) value per operator for the range check
                    for v, o in zip(vals, v_owner, strict=False):
                        op = int(owner[sel[o]])
                        if per_op[op] == -2 or v < 0 or v > per_op[op]:
                            per_op[op] = int(v)
                    refs.setdefault(int(code), {})[slot] = per_op
                else:
                    vals = self.scalar(part, slot, "u32" if kind == "subgraph_u" else "i32", f"field {slot}")
                    per_op = np.full(len(ops), -2, np.int64)  # -2: not this options type
                    per_op[owner[sel]] = vals
                    refs.setdefault(int(code), {})[slot] = per_op
        return refs

    def operators(self, sg: _Tables, n_sub: int, n_codes: int, opcode: np.ndarray, n_tensors: np.ndarray) -> None:
        ops, o_sg, o_local, n_ops = self.table_vector(sg, 3, "operators",
                                                      lambda s, i: f"operator {i} of subgraph {s}", 3)
        self.op_local = o_local
        self.stats.num_operators = len(ops)
        olabel = lambda i: f"operator {int(o_local[i])} of subgraph {int(o_sg[i])}"  # noqa: E731
        code_index = self.scalar(ops, 0, "u32", "opcode_index")
        bad_code = code_index >= n_codes
        self.problems_where(bad_code, lambda i: f"{olabel(i)} uses operator code {int(code_index[i])} but the model "
                                                f"has {n_codes} operator codes")
        limit = n_tensors[o_sg] if len(ops) else _EMPTY
        code = np.where(bad_code, -1, opcode[np.minimum(code_index, max(n_codes - 1, 0))] if n_codes else -1)
        in_len = _EMPTY
        io: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for slot, what in ((1, "input"), (2, "output"), (8, "intermediate")):
            start, ln, _ = self.vector(ops, slot, 4, what + "s")
            if slot == 1:
                in_len = ln
            vals, owner, local = io[what] = self.gather(start, ln, "i32")
            lim = limit[owner]
            for i in np.flatnonzero((vals < -1) | (vals >= lim))[:MAX_PROBLEMS]:
                self.problem(f"{olabel(int(owner[i]))} {what} {int(local[i])} is tensor {int(vals[i])} but the "
                             f"subgraph has {int(lim[i])} tensors")
            if what == "intermediate":
                continue
            omitted = np.flatnonzero(vals == -1)
            for i in omitted[: 4 * MAX_PROBLEMS]:
                op = int(owner[i])
                c = int(code[op])
                allowed = (c in _OPTIONAL_OUTPUTS) if what == "output" else (
                    c in _OPTIONAL_INPUTS and (_OPTIONAL_INPUTS[c] is None or int(local[i]) in _OPTIONAL_INPUTS[c]))
                if not allowed and c >= 0:
                    self.problem(f"{olabel(op)} (builtin operator {c}) has an omitted (-1) {what} at position "
                                 f"{int(local[i])}, which that operator does not accept")
        self.op_code = code
        self.dataflow(sg, o_sg, io, olabel)
        _, out_len, _ = self.vector(ops, 2, 4, "outputs")
        for op in range(len(ops)):
            arity = _ARITY.get(int(code[op]))
            if arity is None:
                continue
            lo, hi, olo, ohi = arity
            ni, no = int(in_len[op]), int(out_len[op])
            if ni < lo or (hi is not None and ni > hi) or no < olo or (ohi is not None and no > ohi):
                self.problem(f"{olabel(op)} (builtin operator {int(code[op])}) has {ni} inputs and {no} outputs; it "
                             f"takes {_count(lo, hi)} inputs and {_count(olo, ohi)} outputs")
        _, mut_len, has_mut = self.vector(ops, 7, 1, "mutating_variable_inputs")
        self.problems_where(has_mut & (mut_len != 0) & (mut_len != in_len),
                            lambda i: f"{olabel(i)} has {int(mut_len[i])} mutating_variable_inputs flags for "
                                      f"{int(in_len[i])} inputs")
        self.vector(ops, 5, 1, "custom_options")
        self.scalar(ops, 6, "i8", "custom_options_format")
        large_off = self.scalar(ops, 9, "u64", "large_custom_options_offset").astype(np.uint64)
        large_size = self.scalar(ops, 10, "u64", "large_custom_options_size").astype(np.uint64)
        n = np.uint64(self.n)
        bad = (large_off > 1) & ((large_off > n) | (large_size > n - np.minimum(large_off, n)))
        self.problems_where(bad, lambda i: f"{olabel(i)} stores {int(large_size[i])} bytes of custom options at file "
                                           f"offset {int(large_off[i])}, past the end of the file ({self.n} bytes)")
        self.scalar(ops, 13, "i32", "debug_metadata_index")
        refs1 = self.options(ops, 3, 4, _BUILTIN_OPTIONS_FIELDS, "builtin_options", olabel)
        refs2 = self.options(ops, 11, 12, _BUILTIN_OPTIONS_2_FIELDS, "builtin_options_2", olabel)

        if not self.problems:
            _ShapeChecker(self, ops, o_sg, o_local, code, io).run()
        if not self.problems:  # what kernels and XNNPACK trust (bias lengths, requantization limits, ...)
            check_kernel_rules(self, ops, o_sg, o_local, code, io)

        # Subgraph references: range and recursion.
        edges: set[tuple[int, int]] = set()

        def add_refs(vals: np.ndarray, what: str) -> None:
            for i in np.flatnonzero(vals != -2):
                v = int(vals[i])
                if not 0 <= v < n_sub:
                    self.problem(f"{olabel(int(i))} refers to subgraph {v} ({what}) but the model has "
                                 f"{n_sub} subgraphs")
                else:
                    edges.add((int(o_sg[i]), v))

        followed: set[tuple[int, int]] = set()
        for op_code, (union, utype, slots) in _CONTROL_FLOW.items():
            is_op = code == op_code
            if not is_op.any():
                continue
            followed.add((union, utype))
            got = (refs1 if union == 1 else refs2).get(utype, {})
            for slot in slots:
                vals = got.get(slot, np.full(len(ops), -2, np.int64))
                add_refs(np.where(is_op, np.where(vals == -2, 0, vals), -2), f"options field {slot}")
            for slot, vals in got.items():  # fields of the same options on other operators
                if slot not in slots:
                    add_refs(vals, f"options field {slot}")
                else:
                    add_refs(np.where(is_op, -2, vals), f"options field {slot}")
        for union, refs in ((1, refs1), (2, refs2)):
            for utype, got in refs.items():
                if (union, utype) in followed:
                    continue
                for slot, vals in got.items():
                    add_refs(vals, f"options field {slot}")
        cycle = _find_cycle(edges, n_sub)
        if cycle:
            self.problem("subgraphs call each other recursively: " + " -> ".join(str(s) for s in cycle))

    def dataflow(self, sg: _Tables, o_sg: np.ndarray, io: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                 olabel: Callable[[int], str]) -> None:
        """Each tensor has at most one writer, operators do not write subgraph inputs or constants, and every
        subgraph output is written by an operator or is an input or a constant."""
        out_vals, out_owner, _ = io["output"]
        keep = out_vals >= 0
        written_sg = o_sg[out_owner[keep]]
        written = written_sg * _KEY + out_vals[keep]
        uniq, first, counts = unique(written)
        for k in np.flatnonzero(counts > 1)[:MAX_PROBLEMS]:
            self.problem(f"tensor {int(uniq[k] % _KEY)} of subgraph {int(uniq[k] // _KEY)} is written by "
                         f"{int(counts[k])} operators")
        start, ln, _ = self.vector(sg, 1, 4, "inputs")
        in_vals, in_owner, in_local = self.gather(start, ln, "i32")
        self.subgraph_inputs = per_op((in_vals, in_owner, in_local), len(self.t_first))  # (IF branches)
        inputs = in_owner * _KEY + in_vals
        bad = isin(written, inputs)
        writer = out_owner[keep]
        self.problems_where(bad, lambda i: f"{olabel(int(writer[i]))} writes tensor {int(written[i] % _KEY)}, "
                                           f"an input of its subgraph")
        const = self.constant_keys
        bad = isin(written, const)
        self.problems_where(bad, lambda i: f"{olabel(int(writer[i]))} writes tensor {int(written[i] % _KEY)}, "
                                           f"which is a constant")
        start, ln, _ = self.vector(sg, 2, 4, "outputs")
        vals, owner, local = self.gather(start, ln, "i32")
        self.subgraph_outputs = per_op((vals, owner, local), len(self.t_first))  # (IF branches: _ShapeChecker)
        outputs = owner * _KEY + vals
        ok = (isin(outputs, uniq) | isin(outputs, inputs) | isin(outputs, const)
              | isin(outputs, self.variable_keys))
        self.problems_where(~ok, lambda i: f"output {int(local[i])} of subgraph {int(owner[i])} is tensor "
                                           f"{int(vals[i])}, which no operator writes and which is neither an input "
                                           f"nor a constant")
        # Resource handles are read only after an operator (VAR_HANDLE) wrote them, unless they are subgraph inputs
        # (found by fuzzing: an ASSIGN_VARIABLE whose handle no VAR_HANDLE had produced corrupted the heap). Other
        # tensors may legitimately be read before any write (a corpus model does), so only handles are checked.
        o_local = self.op_local
        r_vals, r_owner, r_local = io["input"]
        in_range = (r_vals >= 0) & (r_vals < self.t_count[o_sg[r_owner]]) if len(r_vals) else np.zeros(0, bool)
        glob_t = self.t_first[o_sg[r_owner]] + np.where(in_range, r_vals, 0) if len(r_vals) else r_vals
        is_handle = (self.t_type[glob_t] == 13) if len(r_vals) else np.zeros(0, bool)
        is_handle |= isin(self.op_code[r_owner], (143, 144)) & (r_local == 0)
        read = in_range & is_handle
        keys = o_sg[r_owner[read]] * _KEY + r_vals[read]
        reader = r_owner[read]
        ready = isin(keys, inputs) | isin(keys, const) | isin(keys, self.variable_keys)
        pos = np.searchsorted(uniq, keys)
        found = (pos < len(uniq)) & (uniq[np.minimum(pos, max(len(uniq) - 1, 0))] == keys) if len(uniq) else \
            np.zeros(len(keys), bool)
        first_writer = writer[first[np.minimum(pos, max(len(uniq) - 1, 0))]] if len(uniq) else np.zeros(len(keys), int)
        earlier = found & (o_local[first_writer] < o_local[reader])
        self.problems_where(~(ready | earlier), lambda i: f"{olabel(int(reader[i]))} reads resource handle "
                            f"{int(keys[i] % _KEY)} before any operator (VAR_HANDLE) writes it")

    def signature_defs(self, model: _Tables, n_sub: int, n_tensors: np.ndarray) -> None:
        sigs, _, s_local, _ = self.table_vector(model, 7, "signature_defs", lambda o, i: f"signature {i}", 2)
        if not len(sigs):
            return
        has_key = self.string(sigs, 2, "signature_key", utf8=True)
        self.problems_where(~has_key, lambda i: f"signature {i} has no signature_key")
        sub = self.scalar(sigs, 4, "u32", "subgraph_index")
        self.problems_where(sub >= n_sub, lambda i: f"signature {i} refers to subgraph {int(sub[i])} but the model has "
                                                    f"{n_sub} subgraphs")
        for slot, what in ((0, "input"), (1, "output")):
            maps, m_owner, m_local, _ = self.table_vector(
                sigs, slot, what + "s", lambda o, i, w=what: f"{w} {i} of signature {o}", 3)
            has_name = self.string(maps, 0, "name", utf8=True)
            for i in np.flatnonzero(~has_name)[:MAX_PROBLEMS]:
                self.problem(f"{what} {int(m_local[i])} of signature {int(m_owner[i])} has no name")
            idx = self.scalar(maps, 1, "u32", "tensor_index")
            sg_of = sub[m_owner]
            lim = np.where(sg_of < n_sub, n_tensors[np.minimum(sg_of, max(n_sub - 1, 0))] if n_sub else 0, 1 << 40)
            for i in np.flatnonzero(idx >= lim)[:MAX_PROBLEMS]:
                self.problem(f"{what} {int(m_local[i])} of signature {int(m_owner[i])} is tensor {int(idx[i])} but "
                             f"subgraph {int(sg_of[i])} has {int(lim[i])} tensors")


class _ShapeChecker(OperatorView):
    """Declared output shapes against the shapes the kernels will compute from the declared input shapes.

    The runtime trusts the shapes stored in the file in places (its XNNPACK delegate plans buffers from them, resource
    variables keep the size first assigned), so a model whose options, constants or operand indices make a kernel
    compute another shape corrupts memory (found by fuzzing streaming models with resource variables). For the
    operators below the verifier recomputes the output shape and requires it to match; operators that involve a
    dynamic (-1) or unknown shape are skipped. Values assigned to and read from one resource variable must agree.
    """

    _UNARY = frozenset({6, 8, 14, 19, 20, 21, 25, 28, 47, 53, 59, 66, 73, 75, 76, 87, 92, 93, 98, 101, 104, 108,
                        111, 114, 116, 117, 150})
    _COMPARE = frozenset({58, 61, 62, 63, 71, 72})  # LESS, GREATER, GREATER_EQUAL, LESS_EQUAL, EQUAL, NOT_EQUAL
    _LOGICAL = frozenset({84, 86, 87})  # LOGICAL_OR, LOGICAL_AND, LOGICAL_NOT
    _BINARY = frozenset({0, 18, 41, 42, 55, 57, 58, 61, 62, 63, 71, 72, 78, 84, 86, 90, 95, 99})
    # Operators whose output has the element type of their data operands: opcode -> positions of those inputs
    # (None: all inputs). The XNNPACK delegate copies by the output's type (found by fuzzing: RESHAPE from an int32
    # tensor to an int8 output corrupted the heap).
    _SAME_TYPE: dict[int, tuple[int, ...] | None] = {
        **{op: (0,) for op in (1, 5, 11, 12, 14, 17, 19, 20, 21, 22, 23, 25, 26, 28, 34, 36, 37, 38, 39, 43, 45, 50,
                               59, 65, 69, 70, 97, 98, 100, 101, 105, 107, 117, 130)},
        **{op: None for op in (0, 2, 18, 41, 42, 55, 57, 78, 83, 90, 95, 99)},
        60: (0, 2),  # PADV2: input, constant value
    }

    def __init__(self, v: _Verifier, ops: _Tables, o_sg: np.ndarray, o_local: np.ndarray, code: np.ndarray,
                 io: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        super().__init__(v, ops, o_sg, o_local, code, io)
        self.opt: dict[int, tuple[int, int, int, int]] | None = None
        self.opt_type = v.scalar(ops, 3, "u8", "builtin_options_type")
        self.unknown: set[tuple[int, int]] = set()  # (subgraph, tensor) whose declared shape is not a fact

    # -- tensor facts ------------------------------------------------------------------------------------------
    def shape(self, sg: int, t: int) -> list[int] | None:
        """Declared static shape, or None when the tensor is dynamic or its rank is unknown."""
        if (sg, t) in self.unknown:
            return None
        hinted = self.v.stats.shape_hints.get((sg, t))
        if hinted is not None:
            return list(hinted)
        v = self.v
        g = int(v.t_first[sg]) + t
        start, ln = v.t_shape
        sig_start, sig_len, has_sig = v.t_sig
        n = int(ln[g])
        if n > MAX_RANK:
            return None
        if has_sig[g]:
            m = int(sig_len[g])
            sig = v.i32[(int(sig_start[g]) >> 2): (int(sig_start[g]) >> 2) + m]
            if m != n or (sig < 0).any():
                return None
        return v.i32[(int(start[g]) >> 2): (int(start[g]) >> 2) + n].tolist()

    def const_ints(self, sg: int, t: int) -> list[int] | None:
        """Values of a constant int32 tensor, or None."""
        v = self.v
        g = int(v.t_first[sg]) + t
        if int(v.t_type[g]) != 2:
            return None
        b = int(v.t_buf[g])
        size = int(v.buf_bytes[b])
        pos = int(v.buf_pos[b])
        if size <= 0 or size % 4 or pos + size > v.n:
            return None
        return np.frombuffer(bytes(self.data[pos: pos + size]), "<i4").tolist()

    def _options_table(self, op: int) -> tuple[int, int, int, int] | None:
        if self.opt is None:
            tabs, owner = self.v.table_field(self.ops, 4, "builtin_options", lambda o, _: self.ops.label(o), 5)
            self.opt = {int(o): (int(tabs.pos[k]), int(tabs.vt[k]), int(tabs.vtsize[k]), int(tabs.objsize[k]))
                        for k, o in enumerate(owner)}
        return self.opt.get(op)

    def _field(self, op: int, slot: int, size: int) -> int:
        """Position of a field of the operator's (verified) options table, 0 when absent."""
        tab = self._options_table(op)
        if tab is None:
            return 0
        pos, vt, vtsize, objsize = tab
        vo = 4 + 2 * slot
        if vo >= vtsize:
            return 0
        off = struct.unpack_from("<H", self.data, vt + vo)[0]
        if not off:
            return 0
        if off < 4 or off + size > objsize or (pos + off) % size:
            raise _Structural(f"malformed flatbuffer: {self.ops.label(op)}: options field {slot} lies outside its "
                              f"table or is misaligned (at byte {pos + off})")
        return pos + off

    def option(self, op: int, slot: int, fmt: str, default: int) -> int:
        """A scalar field of the operator's builtin options."""
        fp = self._field(op, slot, struct.calcsize(fmt))
        return struct.unpack_from(fmt, self.data, fp)[0] if fp else default

    def var_name(self, op: int) -> tuple[bytes, bytes]:
        """(container, shared_name) of a VAR_HANDLE operator (strings verified by the options pass).

        Without VarHandleOptions (absent, or options of another type) the runtime sees no name: all such handles are
        taken as one variable (found by fuzzing: a VAR_HANDLE whose options type was changed aliased two variables
        of different shapes and corrupted the heap)."""
        if int(self.opt_type[op]) != 111 or self._options_table(op) is None:
            return b"", b""
        names = []
        for slot in (0, 1):
            fp = self._field(op, slot, 4)
            if not fp:
                names.append(b"")
                continue
            tgt = fp + struct.unpack_from("<I", self.data, fp)[0]
            ln = struct.unpack_from("<I", self.data, tgt)[0]
            names.append(bytes(self.data[tgt + 4: tgt + 4 + ln]))
        return names[0], names[1]

    def _check_if_branches(self, op: int, sg: int, ins: list[int], outs: list[int], label: str) -> None:
        """An IF output the model declares with a static shape must have that shape and element type in each branch
        that declares a static shape for it: the runtime lays the IF output out from its declaration and copies the
        branch's result into it (found by fuzzing: a branch output of [64, 1536] into an IF output of [1, 1]
        corrupted the heap; an IF output declared with no shape takes the branch's). Likewise each branch input must
        have the element type and (where both are static) the shape of the IF input it receives: the runtime resizes
        the branch's inputs to the IF's, and a branch computing from other shapes than it declares wrote past the
        IF output's buffer (found by fuzzing: a [64, 1] IF input into a branch input declared [1, 64] made the branch
        output [64, 64] where [1, 1] was declared: heap corruption)."""
        v = self.v
        for slot in (0, 1):  # IfOptions.then_subgraph_index, else_subgraph_index
            b = self.option(op, slot, "<i", -1)
            if not 0 <= b < len(v.subgraph_outputs):
                continue
            branch_ins = v.subgraph_inputs[b] if b < len(v.subgraph_inputs) else []
            if len(branch_ins) != len(ins) - 1:
                v.problem(f"{label} (IF) passes {max(len(ins) - 1, 0)} inputs to its branch subgraph {b}, which has "
                          f"{len(branch_ins)}")
                continue
            for k, outer, inner in self._branch_mismatches(sg, ins[1:], b, branch_ins):
                v.problem(f"{label} (IF) passes {outer} as input {k} of branch subgraph {b}, which declares {inner}")
            branch = v.subgraph_outputs[b]
            if len(branch) != len(outs):
                v.problem(f"{label} (IF) has {len(outs)} outputs but its branch subgraph {b} has {len(branch)}")
                continue
            for k, outer, inner in self._branch_mismatches(sg, outs, b, branch):
                v.problem(f"{label} (IF) declares output {k} as {outer} but branch subgraph {b} gives {inner}")

    def _branch_mismatches(self, sg: int, tensors: list[int], b: int,
                           branch: list[int]) -> Iterator[tuple[int, str, str]]:
        """``(position, "type shape" outside, "type shape" in the branch)`` for each pair of an IF's tensors and its
        branch subgraph's that differ in element type or, where both are static, in shape."""
        v = self.v
        for k, (t, bt) in enumerate(zip(tensors, branch, strict=False)):
            if t < 0 or not 0 <= bt < int(v.t_count[b]):
                continue
            outer, inner = self.shape(sg, t), self.shape(b, bt)
            types = int(v.t_type[int(v.t_first[sg]) + t]), int(v.t_type[int(v.t_first[b]) + bt])
            if types[0] != types[1] or (outer is not None and inner is not None and outer != inner):
                yield (k, f"{_TYPE_NAMES.get(types[0], types[0])} {outer}",
                       f"{_TYPE_NAMES.get(types[1], types[1])} {inner}")

    # -- inference ---------------------------------------------------------------------------------------------
    def infer(self, op: int, c: int, sg: int, ins: list[int]) -> list[int] | None:
        """The output shape the kernel computes, or None when it cannot be inferred here."""
        shapes = [None if t < 0 else self.shape(sg, t) for t in ins]
        if c in self._UNARY:
            return shapes[0] if shapes else None
        if c in self._BINARY:
            if len(shapes) != 2 or shapes[0] is None or shapes[1] is None:
                return None
            a, b = shapes
            r = max(len(a), len(b))
            a, b = [1] * (r - len(a)) + a, [1] * (r - len(b)) + b
            out = []
            for x, y in zip(a, b, strict=False):
                if x != y and 1 not in (x, y):
                    return [-2]  # not broadcastable
                out.append(max(x, y) if 0 not in (x, y) else 0)
            return out
        if c == 22:  # RESHAPE: the element count is kept; a constant new shape gives the output shape
            if not shapes or shapes[0] is None:
                return None
            count = int(np.prod(shapes[0], dtype=np.int64))
            new = self.const_ints(sg, ins[1]) if len(ins) > 1 and ins[1] >= 0 else None
            if new is None:
                return [-3, count]
            if len(new) > MAX_RANK or sum(d == -1 for d in new) > 1 or any(d < -1 for d in new):
                return [-2]
            known = int(np.prod([d for d in new if d != -1], dtype=np.int64))
            if -1 in new:
                if known == 0 or count % known:
                    return [-2]
                new = [count // known if d == -1 else d for d in new]
            return new if int(np.prod(new, dtype=np.int64)) == count else [-2]
        if c in (94, 130):  # FILL(dims, value), BROADCAST_TO(input, shape): the output shape is a constant
            dims = self.const_ints(sg, ins[0] if c == 94 else ins[1]) if len(ins) == 2 and min(ins) >= 0 else None
            if dims is None:
                return None
            return dims if len(dims) <= MAX_RANK and min(dims, default=0) >= 0 else [-2]
        if c == 2:  # CONCATENATION
            if any(sh is None for sh in shapes) or not shapes:
                return None
            rank = len(shapes[0])
            axis = self.option(op, 0, "<i", 0)
            axis = axis + rank if axis < 0 else axis
            if not 0 <= axis < rank or any(len(sh) != rank for sh in shapes):
                return [-2]
            out = list(shapes[0])
            for sh in shapes[1:]:
                if any(sh[k] != out[k] for k in range(rank) if k != axis):
                    return [-2]
                out[axis] += sh[axis]
            return out
        if c == 45:  # STRIDED_SLICE
            return self.strided_slice(op, sg, ins, shapes)
        x = shapes[0] if shapes else None
        if x is None:
            return None
        const = [self.const_ints(sg, t) if t >= 0 else None for t in ins[1:]]
        rank = len(x)
        if c in (34, 60, 100):  # PAD, PADV2, MIRROR_PAD: [rank, 2] constant paddings
            pads = const[0] if const else None
            if pads is None:
                return None
            if len(pads) != 2 * rank or min(pads, default=0) < 0:
                return [-2]
            return [d + pads[2 * k] + pads[2 * k + 1] for k, d in enumerate(x)]
        if c == 39:  # TRANSPOSE
            perm = const[0] if const else None
            if perm is None:
                return None
            perm = [p + rank if p < 0 else p for p in perm]
            return [x[p] for p in perm] if sorted(perm) == list(range(rank)) else [-2]
        if c == 65:  # SLICE(begin, size)
            if len(const) != 2 or const[0] is None or const[1] is None:
                return None
            begin, size = const
            if len(begin) != rank or len(size) != rank:
                return [-2]
            out = []
            for d, b, n in zip(x, begin, size, strict=False):
                n = d - b if n == -1 else n
                if b < 0 or n < 0 or b + n > d:
                    return [-2]
                out.append(n)
            return out
        if c in (40, 74, 81, 82, 89, 91, 140):  # MEAN, SUM, REDUCE_*: constant axes, ReducerOptions.keep_dims
            axes = const[0] if const else None
            if axes is None:
                return None
            axes = {a + rank if a < 0 else a for a in axes}
            if any(not 0 <= a < rank for a in axes):
                return [-2]
            keep = self.option(op, 0, "<b", 0)
            return [1 if k in axes else d for k, d in enumerate(x) if keep or k not in axes]
        if c == 69:  # TILE
            mult = const[0] if const else None
            if mult is None:
                return None
            if len(mult) != rank or min(mult, default=0) < 0:
                return [-2]
            return [d * m for d, m in zip(x, mult, strict=False)]
        if c == 70:  # EXPAND_DIMS
            axis = const[0] if const else None
            if axis is None or len(axis) != 1:
                return None
            a = axis[0] + rank + 1 if axis[0] < 0 else axis[0]
            return x[:a] + [1] + x[a:] if 0 <= a <= rank else [-2]
        if c in (23, 97):  # RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR: constant [height, width]
            size = const[0] if const else None
            if size is None or rank != 4:
                return None
            return [x[0], size[0], size[1], x[3]] if len(size) == 2 and min(size) >= 0 else [-2]
        if c in (1, 12, 17) and rank == 4:  # AVERAGE / L2 / MAX_POOL_2D
            padding, sw, sh_, fw, fh = (self.option(op, 0, "<b", 0), self.option(op, 1, "<i", 0),
                                        self.option(op, 2, "<i", 0), self.option(op, 3, "<i", 0),
                                        self.option(op, 4, "<i", 0))
            if min(sw, sh_, fw, fh) <= 0:
                return [-2]
            if padding == 0:
                return [x[0], -(-x[1] // sh_), -(-x[2] // sw), x[3]]
            return [x[0], max(0, -(-(x[1] - fh + 1) // sh_)), max(0, -(-(x[2] - fw + 1) // sw)), x[3]]
        if c in (5, 26) and rank == 4:  # DEPTH_TO_SPACE, SPACE_TO_DEPTH
            b = self.option(op, 0, "<i", 0)
            if b <= 0:
                return [-2]
            n_, h, w, ch = x
            if c == 5:
                return [n_, h * b, w * b, ch // (b * b)] if ch % (b * b) == 0 else [-2]
            return [n_, h // b, w // b, ch * b * b] if h % b == 0 and w % b == 0 else [-2]
        if c == 67:  # TRANSPOSE_CONV(output_shape, weights, input[, bias]): the output shape is a constant
            out = self.const_ints(sg, ins[0]) if ins and ins[0] >= 0 else None
            if out is None:
                return None
            return out if len(out) == 4 and min(out) >= 0 else [-2]
        if c in (3, 4):  # CONV_2D, DEPTHWISE_CONV_2D
            if len(shapes) < 2 or shapes[0] is None or shapes[1] is None or len(shapes[0]) != 4 or len(shapes[1]) != 4:
                return None
            n_, h, w, _ = shapes[0]
            _, kh, kw, oc = shapes[1]
            if c == 3:
                oc = shapes[1][0]
                padding, sw, sh_, dw, dh = (self.option(op, 0, "<b", 0), self.option(op, 1, "<i", 0),
                                            self.option(op, 2, "<i", 0), self.option(op, 4, "<i", 1),
                                            self.option(op, 5, "<i", 1))
            else:
                padding, sw, sh_, dw, dh = (self.option(op, 0, "<b", 0), self.option(op, 1, "<i", 0),
                                            self.option(op, 2, "<i", 0), self.option(op, 5, "<i", 1),
                                            self.option(op, 6, "<i", 1))
            if min(sw, sh_, dw, dh) <= 0:
                return [-2]
            if padding == 0:  # SAME
                oh, ow = -(-h // sh_), -(-w // sw)
            else:  # VALID
                ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
                oh, ow = max(0, -(-(h - ekh + 1) // sh_)), max(0, -(-(w - ekw + 1) // sw))
            return [n_, oh, ow, oc]
        if c == 9:  # FULLY_CONNECTED
            if len(shapes) < 2 or shapes[0] is None or shapes[1] is None or len(shapes[1]) != 2:
                return None
            units, depth = shapes[1]
            count = int(np.prod(shapes[0], dtype=np.int64))
            if depth <= 0 or count % depth:
                return [-2]
            keep = self.option(op, 2, "<b", 0)
            if keep:
                return list(shapes[0][:-1]) + [units]
            return [count // depth, units]  # (the kernel's Prepare makes it 2-D whatever the declared rank)
        return None

    def strided_slice(self, op: int, sg: int, ins: list[int], shapes: list[list[int] | None]) -> list[int] | None:
        if len(ins) != 4 or shapes[0] is None:
            return None
        begin, end, strides = (self.const_ints(sg, t) for t in ins[1:])
        if begin is None or end is None or strides is None:
            return None
        bm, em, ellipsis, new_axis, shrink = (self.option(op, k, "<i", 0) for k in range(5))
        use_offset = self.option(op, 5, "<b", 0)
        dims = shapes[0]
        k = len(begin)
        # several ellipses, or mask bits past the spec (found by fuzzing: ellipsis_mask=0b1101 with a 4-element
        # spec crashes the runtime at compile time)
        if any(m < 0 or m >> k for m in (bm, em, ellipsis, new_axis, shrink)) or ellipsis & (ellipsis - 1):
            return [-2]
        if ellipsis or new_axis or len(end) != k or len(strides) != k or k > len(dims):
            return None
        out = []
        for i, d in enumerate(dims):
            if i >= k:
                out.append(d)
                continue
            s = strides[i]
            if s == 0:
                return [-2]
            b = begin[i]
            if bm >> i & 1:
                b = 0 if s > 0 else d - 1
            else:
                b = b + d if b < 0 else b
                b = min(max(b, 0), d) if s > 0 else min(max(b, -1), d - 1)
            if shrink >> i & 1:
                continue
            e = end[i] + (begin[i] if use_offset else 0)
            if em >> i & 1:
                e = d if s > 0 else -1
            else:
                e = e + d if e < 0 else e
                e = min(max(e, 0), d) if s > 0 else min(max(e, -1), d - 1)
            length = -(-(e - b) // s) if s > 0 else -(-(b - e) // -s)
            out.append(max(0, length))
        return out

    # -- checks ------------------------------------------------------------------------------------------------
    def run(self) -> None:
        v = self.v
        variables: dict[tuple[bytes, bytes], list[tuple[str, list[int] | None, int]]] = {}
        handles: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        for op in range(len(self.ops)):
            c = int(self.code[op])
            sg = int(self.o_sg[op])
            ins, outs = self.ins[op], self.outs[op]
            label = f"operator {int(self.o_local[op])} of subgraph {sg}"
            if c == 142 and len(outs) == 1 and outs[0] >= 0:  # VAR_HANDLE
                handles[(sg, outs[0])] = self.var_name(op)
                continue
            if c in (143, 144):  # READ_VARIABLE / ASSIGN_VARIABLE
                value = outs[0] if c == 143 and len(outs) == 1 else (ins[1] if c == 144 and len(ins) == 2 else -1)
                name = handles.get((sg, ins[0])) if ins and ins[0] >= 0 else None
                if name is not None and value >= 0:
                    g = int(v.t_first[sg]) + value
                    variables.setdefault(name, []).append((label, self.shape(sg, value), int(v.t_type[g])))
                continue
            same = self._SAME_TYPE.get(c, ())
            if same != () and outs and outs[0] >= 0:
                types = [int(v.t_type[int(v.t_first[sg]) + outs[0]])]
                positions = range(len(ins)) if same is None else same
                types += [int(v.t_type[int(v.t_first[sg]) + ins[k]]) for k in positions if k < len(ins) and ins[k] >= 0]
                if len(set(types)) > 1:
                    v.problem(f"{label} (builtin operator {c}) mixes element types "
                              f"{[_TYPE_NAMES.get(t, t) for t in types]} (output first) where they must all be the "
                              f"same")
                    continue
            if c in self._COMPARE or c in self._LOGICAL:
                if outs and outs[0] >= 0:
                    first = int(v.t_first[sg])
                    out_type = int(v.t_type[first + outs[0]])
                    in_types = {int(v.t_type[first + t]) for t in ins if t >= 0}
                    wrong = out_type != 6 or len(in_types) > 1 or (c in self._LOGICAL and in_types - {6})
                    if wrong:  # found by fuzzing: PRELU turned into LESS writes bools into a float output
                        v.problem(f"{label} (builtin operator {c}) has output type "
                                  f"{_TYPE_NAMES.get(out_type, out_type)} and input types "
                                  f"{sorted(str(_TYPE_NAMES.get(t, t)) for t in in_types)} (it needs bool "
                                  f"output{' and inputs' if c in self._LOGICAL else ' and inputs of one type'})")
                        continue
            if c in (49, 102, 88):  # SPLIT, SPLIT_V, UNPACK: one output per piece
                pieces = self.option(op, 0, "<i", 0)
                if pieces != len(outs):
                    v.problem(f"{label} (builtin operator {c}) splits into {pieces} pieces but has {len(outs)} outputs")
                continue
            if c == 118:  # IF: its outputs take the shape of the branch the run takes; the declared one is a guess
                self._check_if_branches(op, sg, ins, outs, label)
                self.unknown.update((sg, t) for t in outs if t >= 0)
                continue
            if len(outs) != 1 or outs[0] < 0:
                continue
            got = self.infer(op, c, sg, ins)
            if got is None:
                continue
            declared = self.shape(sg, outs[0])
            if declared is None:
                continue
            if got == [-2]:
                v.problem(f"{label} (builtin operator {c}) has operands whose shapes it cannot combine")
            elif got[:1] == [-3]:  # (an element count only: a RESHAPE to a computed shape)
                if int(np.prod(declared, dtype=np.int64)) != got[1]:
                    v.problem(f"{label} (builtin operator {c}) declares output shape {declared} but computes "
                              f"{got[1]} elements")
            elif got != declared and not (c == 9 and int(np.prod(got, dtype=np.int64))
                                          == int(np.prod(declared, dtype=np.int64))):
                # (a FULLY_CONNECTED declared with another rank but as many elements, as converters write it: the
                # runtime's buffers are right, and its Prepare reshapes the output)
                # A hint, as in TFLite: the kernel computes `got` in Prepare. The SDK loads the model with it
                # (verify_model_bytes), since parts of libLiteRt plan buffers from declared shapes.
                v.stats.shape_hints[(sg, outs[0])] = list(got)
        for (_container, shared), uses in variables.items():
            known = [(lab, sh, ty) for lab, sh, ty in uses if sh is not None]
            if len({(tuple(sh), ty) for _, sh, ty in known}) > 1:
                desc = ", ".join(f"{lab}: {sh}" for lab, sh, _ in known[:4])
                v.problem(f"resource variable {shared.decode('utf-8', 'replace')!r} is assigned and read with "
                          f"different shapes or types ({desc})")


_TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool", 7: "int16",
               8: "complex64", 9: "int8", 10: "float64", 11: "complex128", 12: "uint64", 13: "resource",
               14: "variant", 15: "uint32", 16: "uint16", 17: "int4", 18: "bfloat16"}


def _count(lo: int, hi: int | None) -> str:
    return str(lo) if hi == lo else f"{lo} to {'any number' if hi is None else hi}"


def _find_cycle(edges: set[tuple[int, int]], n: int) -> list[int] | None:
    """A cycle in the subgraph call graph (as a list of subgraph indices), or None."""
    graph: dict[int, list[int]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    state = [0] * n  # 0 new, 1 on stack, 2 done
    for root in sorted(graph):
        if state[root]:
            continue
        stack = [(root, iter(sorted(graph.get(root, ()))))]
        path = [root]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state[nxt] == 1:
                return path[path.index(nxt):] + [nxt]
            elif state[nxt] == 0:
                state[nxt] = 1
                stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
                path.append(nxt)
    return None


def _shape_signatures(v: _Verifier) -> list[dict[int, tuple[int, ...]]]:
    start, ln = v.t_shape
    sig_start, sig_len, has_sig = v.t_sig
    use_start = (np.where(has_sig, sig_start, start) >> 2).tolist()
    use_len = np.where(has_sig, sig_len, ln).tolist()
    present = (has_sig | v.t_has_shape).tolist()
    i32 = v.i32
    out: list[dict[int, tuple[int, ...]]] = []
    for first, count in zip(v.t_first.tolist(), v.t_count.tolist(), strict=False):
        sigs: dict[int, tuple[int, ...]] = {}
        for j in range(count):
            g = first + j
            if present[g]:
                a = use_start[g]
                sigs[j] = tuple(i32[a:a + use_len[g]].tolist())
        out.append(sigs)
    return out


def _stats(data: bytes | bytearray | memoryview, signatures: bool = False) -> VerificationStats:
    v = _Verifier(data)
    try:
        v.run()
        if signatures and not v.problems:
            v.stats.shape_signatures = _shape_signatures(v)
    except _Structural as e:
        v.problems.append(str(e))
    except _TooMany:
        pass
    except (IndexError, ValueError, OverflowError, MemoryError, struct.error) as e:  # never let a bad file escape
        v.problems.append(f"malformed flatbuffer: {type(e).__name__} while reading it")
    return v.stats


def verify_model(data: bytes | bytearray | memoryview | str | os.PathLike[str]) -> list[str]:
    """Problems found in a TFLite model (bytes or a path); an empty list when the model is valid.

    Structural problems stop the check (the rest cannot be read safely); up to 20 semantic problems are listed.
    """
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            data = f.read()
    return list(_stats(data).problems)


def verify_model_bytes(data: bytes | bytearray | memoryview) -> list[dict[int, tuple[int, ...]]]:
    """Raises :class:`~litert_sdk.errors.ModelError` naming the first problem when ``data`` is not a valid model.

    The error carries the runtime's status for such models, ``InvalidFlatbuffer`` (501), as if the runtime had
    rejected them itself. Returns the tensors' shape signatures read on the way (per subgraph, ``{tensor index:
    shape_signature}``, the shape where a tensor has no signature), which the C API does not report.
    """
    return verify_for_runtime(data)[1]


_Verdict = tuple[bytes | None, list[dict[int, tuple[int, ...]]]]
# Verdicts of models verified in this process, keyed by (length, fingerprint) and kept with the bytes they are for:
# loading the same bytes again (a model per thread, per request, ...) skips the verifier; a verdict is only reused for
# bytes equal to those verified. Bounded by count and by the bytes held.
_VERDICTS: OrderedDict[tuple[int, int], tuple[Any, _Verdict, dict[str, Any]]] = OrderedDict()
_VERDICTS_LOCK = threading.Lock()
_VERDICTS_MAX, _VERDICTS_MAX_BYTES = 32, 256 << 20
_FINGERPRINT_ALL = 1 << 20  # models up to this size are fingerprinted whole; larger ones by head, tail and a sample


def _fingerprint(raw: bytes | memoryview) -> int:
    """A cheap key for the verdict cache (CRC-32 of the whole model when small, else of its first and last 256 KiB
    and every 4093rd byte: a whole CRC of a 14 MB model costs 4 ms). Equal keys are confirmed by comparing bytes."""
    if len(raw) <= _FINGERPRINT_ALL:
        return zlib.crc32(raw)
    mv = memoryview(raw)
    c = zlib.crc32(mv[: 1 << 18])
    c = zlib.crc32(mv[-(1 << 18):], c)
    return zlib.crc32(mv[::4093].tobytes(), c)


def _same_bytes(a: bytes | memoryview, b: bytes | memoryview) -> bool:
    """``a == b`` for bytes and read-only byte views alike (a memoryview compares element by element: 30 ms for
    14 MB; compared as 8-byte words, 2 ms)."""
    if isinstance(a, bytes) and isinstance(b, bytes):
        return a == b
    if isinstance(a, memoryview) and isinstance(b, memoryview) and a.obj is b.obj and a.nbytes == b.nbytes:
        return True  # (views of one immutable buffer: a model file's memory reused by _model_files)
    if len(a) != len(b):
        return False
    words = len(a) // 8
    return bool(np.array_equal(np.frombuffer(a, np.uint64, count=words), np.frombuffer(b, np.uint64, count=words))
                and memoryview(a)[words * 8:] == memoryview(b)[words * 8:])


def verify_for_runtime(data: bytes | bytearray | memoryview, memo: list[dict[str, Any]] | None = None,
                       immutable: bool = False) -> _Verdict:
    """:func:`verify_model_bytes`, and the bytes the runtime should load: None when ``data`` itself will do, else
    the model with the computed shapes of tensors whose declared shape differs (``VerificationStats.shape_hints``:
    TFLite takes declared shapes of computed tensors as hints, parts of libLiteRt plan buffers from them) or with
    fused LSTM state moved to resource variables. Verdicts are remembered for the same bytes; ``memo``, when given,
    receives a dict kept with the verdict, where callers may keep other facts derived from these bytes.

    ``immutable``: ``data`` is a buffer no one will write to again (a model file read into the memory the runtime
    loads from): it is verified, and remembered, without a copy."""
    if isinstance(data, bytes):
        raw: bytes | memoryview = data
    elif immutable:
        raw = memoryview(data).cast("B")
    else:
        raw = bytes(data)
    key = (len(raw), _fingerprint(raw))
    with _VERDICTS_LOCK:
        hit = _VERDICTS.get(key)
    if hit is not None and _same_bytes(hit[0], raw):
        with _VERDICTS_LOCK:
            if key in _VERDICTS:
                _VERDICTS.move_to_end(key)
        fixed, sigs = hit[1]
        if memo is not None:
            memo.append(hit[2])
        return fixed, [dict(d) for d in sigs]
    verdict = _verify_for_runtime(raw)
    kept: dict[str, Any] = {}
    if memo is not None:
        memo.append(kept)
    if len(raw) <= _VERDICTS_MAX_BYTES // 4:
        with _VERDICTS_LOCK:
            _VERDICTS[key] = (raw, (verdict[0], [dict(d) for d in verdict[1]]), kept)
            held = sum(len(v[0]) + len(v[1][0] or b"") for v in _VERDICTS.values())
            while len(_VERDICTS) > _VERDICTS_MAX or held > _VERDICTS_MAX_BYTES:
                _, (old, (old_fixed, _), _) = _VERDICTS.popitem(last=False)
                held -= len(old) + len(old_fixed or b"")
    return verdict


def _verify_for_runtime(data: bytes | memoryview) -> _Verdict:
    stats = _stats(data, signatures=True)
    problems = stats.problems
    if problems:
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        raise ModelError(f"invalid TFLite model: {problems[0]}{more}", STATUS_INVALID_FLATBUFFER)
    sigs = stats.shape_signatures or []
    fixed = None
    if stats.shape_hints:
        from ._rewrite import RewriteError, set_tensor_shapes

        try:
            fixed = set_tensor_shapes(bytes(data), stats.shape_hints)
        except RewriteError as e:  # (e.g. fields past the schema this SDK knows: found by fuzzing)
            (sg, t), shape = next(iter(stats.shape_hints.items()))
            raise ModelError(f"invalid TFLite model: tensor {t} of subgraph {sg} is declared with another shape than "
                             f"the {shape} its operator computes, and the model cannot be rewritten with the computed "
                             f"shape ({e})", STATUS_INVALID_FLATBUFFER) from None
        for (sg, t), shape in stats.shape_hints.items():
            if sg < len(sigs):
                sigs[sg][t] = tuple(shape)
    if stats.variable_tensors:
        # libLiteRt refuses variable tensors: fused LSTMs get their state in resource variables instead (a model
        # this cannot rewrite is left as it is; the runtime's refusal then gets a typed error, model._load_failure)
        from ._recurrent import expand_lstm_state
        from ._rewrite import RewriteError

        try:
            expanded = expand_lstm_state(bytes(data) if fixed is None else fixed)
        except RewriteError:
            expanded = None
        if expanded is not None:
            again = _stats(expanded, signatures=True)
            if again.problems:  # never hand the runtime an unverified rewrite
                raise ModelError(f"internal error: the LSTM state rewrite made an invalid model: {again.problems[0]}",
                                 STATUS_INVALID_FLATBUFFER)
            fixed, sigs = expanded, again.shape_signatures or []
    return fixed, sigs
