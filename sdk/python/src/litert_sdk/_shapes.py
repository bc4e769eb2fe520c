"""The shape engine: the tensor shapes a model's kernels compute for given input shapes.

libLiteRt's CompiledModel lays out output buffers from shapes it keeps from before a resize wherever shapes flow
through shape operators (``SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE``, ``FILL``, ``BROADCAST_TO``, ...), so the
first run after a resize returns a stale, truncated output and later runs fail ("Custom allocation is too small").
The classic interpreter recomputes every shape in its kernels' Prepare; this module does the same, in Python, for
the builtin operators whose output shape follows from input shapes and from the values of small integer tensors
(constants, or values computed from shapes), and the SDK sizes output buffers from it.

Rules of the propagation:

* Operators are visited in the subgraph's order (TFLite stores them topologically sorted).
* Each tensor gets a shape, and small integer tensors (at most :data:`MAX_VALUE_ELEMENTS` elements) also a value
  when it is known: constants, ``SHAPE``/``RANK`` of a tensor of known shape, and arithmetic on known values.
* An operator this module has no rule for keeps the model's declared output shapes when every input has its
  declared shape (nothing changed upstream: the runtime's own layouts are right there), else its outputs are
  unknown; so is everything computed from them.
* Unknown stays unknown: the SDK then keeps the runtime's layout for that output.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import _schema
from ._lazy import np
from ._rewrite import _Model, _Table
from ._schema import RUNTIME_DYNAMIC_OPS, SHAPE_SOURCE_OPS, SHAPE_VALUE_OPERANDS, VALUE_DEPENDENT_OPS

__all__ = ["ShapeEngine", "ShapeError", "COPYABLE_TYPES", "MAX_VALUE_ELEMENTS", "RUNTIME_DYNAMIC_OPS",
           "SHAPE_SOURCE_OPS", "SHAPE_VALUE_OPERANDS", "VALUE_DEPENDENT_OPS", "dynamic_outputs", "infer_op", "op_name",
           "output_capacity", "outputs_needing_copies"]

MAX_VALUE_ELEMENTS = 1024  # integer tensors up to this size carry values through the propagation

# Builtin operator codes (TFLite schema, BuiltinOperator).
ADD, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D, DEPTH_TO_SPACE = 0, 1, 2, 3, 4, 5
FULLY_CONNECTED, L2_POOL_2D, MAX_POOL_2D, MUL, RESHAPE, RESIZE_BILINEAR = 9, 12, 17, 18, 22, 23
SPACE_TO_DEPTH, CALL, CUSTOM, PAD, GATHER, BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND = 26, 31, 32, 34, 36, 37, 38
TRANSPOSE, MEAN, SUB, DIV, SQUEEZE, STRIDED_SLICE, SPLIT, CAST = 39, 40, 41, 42, 43, 45, 49, 53
ARG_MAX, MAXIMUM, MINIMUM, PADV2, SELECT, SLICE, TRANSPOSE_CONV, TILE, EXPAND_DIMS = 56, 55, 57, 60, 64, 65, 67, 69, 70
SUM, SHAPE, ARG_MIN, REDUCE_PROD, REDUCE_MAX, PACK, ONE_HOT, UNPACK, REDUCE_MIN = 74, 77, 79, 81, 82, 83, 85, 88, 89
FLOOR_DIV, REDUCE_ANY, FILL, FLOOR_MOD, RANGE, RESIZE_NEAREST_NEIGHBOR, MIRROR_PAD = 90, 91, 94, 95, 96, 97, 100
SPLIT_V, ADD_N, GATHER_ND, RANK, SELECT_V2, BATCH_MATMUL, CUMSUM = 102, 106, 107, 110, 123, 126, 128
BROADCAST_TO, REDUCE_ALL, BROADCAST_ARGS, SQUARED_DIFFERENCE, POW = 130, 140, 145, 99, 78
HASHTABLE_FIND, HASHTABLE_SIZE = _schema.BUILTIN_CODES["HASHTABLE_FIND"], _schema.BUILTIN_CODES["HASHTABLE_SIZE"]

op_name = _schema.op_name

# Output shape = shape of input 0.
_UNARY = frozenset({6, 8, 11, 13, 14, 19, 20, 21, 25, 28, 47, 50, 53, 54, 59, 66, 73, 75, 76, 80, 87, 92, 93, 98,
                    101, 104, 105, 108, 111, 114, 116, 117, 124, 128, 150, 152, 158})
# Elementwise with broadcasting over all inputs.
_BROADCAST = frozenset({ADD, MUL, SUB, DIV, MAXIMUM, MINIMUM, 58, 61, 62, 63, 71, 72, POW, 84, 86, FLOOR_DIV,
                        FLOOR_MOD, SQUARED_DIFFERENCE, SELECT_V2, 156, 160, 161})
_COMPARE = {58: np.less, 61: np.greater, 62: np.greater_equal, 63: np.less_equal, 71: np.equal, 72: np.not_equal}
_REDUCE = frozenset({MEAN, SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN, REDUCE_ANY, REDUCE_ALL})
# TFLite tensor types with values this module tracks (int32, int64, bool) and their numpy types.
_VALUE_TYPES = {2: "int32", 4: "int64", 6: "bool"}


class ShapeError(ValueError):
    """Operands whose shapes (or values) the operator cannot combine."""


Shape = tuple[int, ...]
Opt = Callable[[int, str, Any], Any]  # (options field slot, struct format or "ints", default) -> value


@dataclass
class _T:
    """What the propagation knows of one tensor: its shape and, for small integer tensors, its value."""

    shape: Shape | None
    value: Any = None  # numpy array or None


def _broadcast(shapes: Sequence[Shape]) -> Shape:
    rank = max(len(s) for s in shapes)
    out = []
    for k in range(rank):
        dims = {s[k - rank + len(s)] for s in shapes if k - rank + len(s) >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise ShapeError(f"shapes {[list(s) for s in shapes]} cannot be broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def _axis(a: int, rank: int) -> int:
    a = int(a)
    if a < 0:
        a += rank
    if not 0 <= a < max(rank, 1):
        raise ShapeError(f"axis {a} out of range for rank {rank}")
    return a


def _conv_out(size: int, k: int, stride: int, dilation: int, padding: int) -> int:
    if stride <= 0 or dilation <= 0:
        raise ShapeError("strides and dilations must be positive")
    if padding == 0:  # SAME
        return -(-size // stride)
    eff = (k - 1) * dilation + 1
    return max(0, -(-(size - eff + 1) // stride))


def _strided_slice(shape: Shape, begin: Any, end: Any, strides: Any, opt: Opt) -> tuple[Shape, Any]:
    """(output shape, numpy index tuple) of STRIDED_SLICE with constant begin/end/strides (all options)."""
    bm, em, ell, new_axis, shrink = (int(opt(k, "<i", 0)) for k in range(5))
    use_offset = bool(opt(5, "<b", 0))
    k = len(begin)
    if len(end) != k or len(strides) != k:
        raise ShapeError("STRIDED_SLICE begin, end and strides differ in length")
    if any(m < 0 or m >> k for m in (bm, em, ell, new_axis, shrink)) or ell & (ell - 1):
        raise ShapeError("STRIDED_SLICE masks do not fit the spec")
    index: list[Any] = []
    for i in range(k):
        if ell >> i & 1:
            index.append(Ellipsis)
            continue
        if new_axis >> i & 1:
            index.append(None)
            continue
        b, e, s = int(begin[i]), int(end[i]), int(strides[i])
        if s == 0:
            raise ShapeError("STRIDED_SLICE stride 0")
        if use_offset:
            e = b + e
        if shrink >> i & 1:
            index.append(b)
            continue
        index.append(slice(None if bm >> i & 1 else b, None if em >> i & 1 else e, s))
    probe = np.empty(shape, np.bool_) if int(np.prod(shape, dtype=np.int64)) <= (1 << 16) else None
    if probe is not None:
        try:
            return tuple(probe[tuple(index)].shape), tuple(index)
        except IndexError as ex:
            raise ShapeError(f"STRIDED_SLICE out of range: {ex}") from None
    # Large tensors: compute the shape without materialising them (no ellipsis/new-axis in practice).
    if ell or new_axis:
        raise ShapeError("unsupported")  # caught: unknown
    out = []
    for d, ix in zip(shape, list(index) + [slice(None)] * (len(shape) - len(index)), strict=False):
        if isinstance(ix, slice):
            out.append(len(range(*ix.indices(d))))
        elif not -d <= ix < d:
            raise ShapeError("STRIDED_SLICE shrink index out of range")
    return tuple(out), tuple(index)


def infer_op(code: int, ins: Sequence[_T | None], opt: Opt, out_types: Sequence[int]) -> list[_T] | None:
    """Shapes (and small integer values) of one builtin operator's outputs from its inputs; None when unknown.

    ``ins`` has None for omitted optional inputs. Raises :class:`ShapeError` for operands the kernel refuses."""
    shapes = [None if t is None else t.shape for t in ins]
    vals = [None if t is None else t.value for t in ins]
    x = shapes[0] if shapes else None

    def out(shape: Shape, value: Any = None) -> list[_T]:
        if value is not None and out_types:
            dt = _VALUE_TYPES.get(out_types[0])
            value = None if dt is None else np.asarray(value).astype(dt).reshape(shape)
        return [_T(tuple(int(d) for d in shape), value)]

    if code in _UNARY:
        if x is None:
            return None
        v = vals[0]
        if code == 53 and v is not None:  # CAST keeps values
            return out(x, v)
        return out(x, None)
    if code in _BROADCAST:
        present = [s for s in shapes if s is not None]
        if len(present) != len(shapes) or not present:
            return None
        shape = _broadcast(present)
        value = None
        if all(v is not None for v in vals) and len(vals) == 2:
            a, b = (np.asarray(v).astype(np.int64) for v in vals)
            with np.errstate(all="ignore"):
                if code == ADD:
                    value = a + b
                elif code == SUB:
                    value = a - b
                elif code == MUL:
                    value = a * b
                elif code in (FLOOR_DIV, DIV) and (b != 0).all():
                    value = a // b if code == FLOOR_DIV else np.trunc(a / b).astype(np.int64)
                elif code == FLOOR_MOD and (b != 0).all():
                    value = np.mod(a, b)
                elif code == MAXIMUM:
                    value = np.maximum(a, b)
                elif code == MINIMUM:
                    value = np.minimum(a, b)
                elif code in _COMPARE:
                    value = _COMPARE[code](a, b)
        return out(shape, value)
    if code == SHAPE:
        if x is None:
            return None
        return out((len(x),), np.array(x, np.int64))
    if code == RANK:
        return None if x is None else out((), np.array(len(x), np.int64))
    if code == BROADCAST_ARGS:
        if vals[0] is None or vals[1] is None:
            return None if shapes[0] is None or shapes[1] is None else out((max(shapes[0][0], shapes[1][0]),))
        b = _broadcast([tuple(int(d) for d in vals[0]), tuple(int(d) for d in vals[1])])
        return out((len(b),), np.array(b))
    if code == CONCATENATION:
        if any(s is None for s in shapes) or not shapes:
            return None
        rank = len(shapes[0])
        a = _axis(opt(0, "<i", 0), rank)
        if any(len(s) != rank or any(s[k] != shapes[0][k] for k in range(rank) if k != a) for s in shapes):
            raise ShapeError(f"CONCATENATION of shapes {[list(s) for s in shapes]} along axis {a}")
        shape = list(shapes[0])
        shape[a] = sum(s[a] for s in shapes)
        value = np.concatenate([np.asarray(v) for v in vals], a) if all(v is not None for v in vals) else None
        return out(tuple(shape), value)
    if code == PACK:
        if any(s is None for s in shapes) or not shapes:
            return None
        if any(s != shapes[0] for s in shapes):
            raise ShapeError(f"PACK of different shapes {[list(s) for s in shapes]}")
        a = _axis(opt(1, "<i", 0), len(shapes[0]) + 1)
        shape = list(shapes[0])
        shape.insert(a, len(shapes))
        value = np.stack([np.asarray(v) for v in vals], a) if all(v is not None for v in vals) else None
        return out(tuple(shape), value)
    if code == UNPACK:
        if x is None:
            return None
        a = _axis(opt(1, "<i", 0), len(x))
        piece = x[:a] + x[a + 1:]
        v = vals[0]
        return [_T(piece, None if v is None else np.take(v, i, axis=a)) for i in range(x[a])]
    if code in (RESHAPE, SQUEEZE, EXPAND_DIMS):
        if x is None:
            return None
        count = int(np.prod(x, dtype=np.int64))
        if code == SQUEEZE:
            dims = opt(0, "ints", None) or []
            axes = {_axis(d, len(x)) for d in dims} if dims else {k for k, d in enumerate(x) if d == 1}
            if any(x[k] != 1 for k in axes):
                raise ShapeError(f"SQUEEZE of dimension that is not 1 in {list(x)}")
            new = [d for k, d in enumerate(x) if k not in axes]
        elif code == EXPAND_DIMS:
            if vals[1] is None or np.asarray(vals[1]).size != 1:
                return None
            a = int(np.asarray(vals[1]).reshape(-1)[0])
            a = a + len(x) + 1 if a < 0 else a
            if not 0 <= a <= len(x):
                raise ShapeError("EXPAND_DIMS axis out of range")
            new = list(x[:a]) + [1] + list(x[a:])
        else:
            spec = None
            if len(ins) > 1 and ins[1] is not None:
                if vals[1] is None:
                    return None  # value-dependent (or a value this module cannot follow)
                spec = [int(d) for d in np.asarray(vals[1]).reshape(-1)]
                if shapes[1] is not None and len(shapes[1]) != 1 and not (len(shapes[1]) == 0 and spec == []):
                    spec = None
            if spec is None:
                spec = opt(0, "ints", None)
                if spec is None:
                    return None
            if sum(d == -1 for d in spec) > 1 or any(d < -1 for d in spec):
                raise ShapeError(f"RESHAPE to {spec}")
            known = int(np.prod([d for d in spec if d != -1], dtype=np.int64))
            if -1 in spec:
                if known == 0 or count % known:
                    raise ShapeError(f"RESHAPE of {list(x)} to {spec}")
                spec = [count // known if d == -1 else d for d in spec]
            if int(np.prod(spec, dtype=np.int64)) != count:
                raise ShapeError(f"RESHAPE of {list(x)} ({count} elements) to {spec}")
            new = spec
        v = vals[0]
        return out(tuple(new), None if v is None else np.asarray(v).reshape(new))
    if code in (FILL, BROADCAST_TO):
        dims_v = vals[0] if code == FILL else (vals[1] if len(vals) > 1 else None)
        if dims_v is None:
            return None
        dims = tuple(int(d) for d in np.asarray(dims_v).reshape(-1))
        if any(d < 0 for d in dims):
            raise ShapeError(f"{'FILL' if code == FILL else 'BROADCAST_TO'} to negative dims {list(dims)}")
        if code == BROADCAST_TO:
            if x is None:
                return None
            if _broadcast([x, dims]) != dims:
                raise ShapeError(f"BROADCAST_TO of {list(x)} to {list(dims)}")
        src = vals[1] if code == FILL else vals[0]
        value = None
        if src is not None and int(np.prod(dims, dtype=np.int64)) <= MAX_VALUE_ELEMENTS:
            value = np.broadcast_to(np.asarray(src), dims)
        return out(dims, value)
    if code == TILE:
        if x is None or vals[1] is None:
            return None
        mult = [int(m) for m in np.asarray(vals[1]).reshape(-1)]
        if len(mult) != len(x) or min(mult, default=0) < 0:
            raise ShapeError(f"TILE of {list(x)} by {mult}")
        v = vals[0]
        return out(tuple(d * m for d, m in zip(x, mult, strict=False)), None if v is None else np.tile(v, mult))
    if code == STRIDED_SLICE:
        if x is None or any(v is None for v in vals[1:4]) or len(vals) < 4:
            return None
        b, e, s = (np.asarray(v).reshape(-1).tolist() for v in vals[1:4])
        try:
            shape, index = _strided_slice(x, b, e, s, opt)
        except ShapeError as ex:
            if str(ex) == "unsupported":
                return None
            raise
        v = vals[0]
        return out(shape, None if v is None else np.asarray(v)[index])
    if code == SLICE:
        if x is None or vals[1] is None or vals[2] is None:
            return None
        begin = [int(d) for d in np.asarray(vals[1]).reshape(-1)]
        size = [int(d) for d in np.asarray(vals[2]).reshape(-1)]
        if len(begin) != len(x) or len(size) != len(x):
            raise ShapeError("SLICE begin/size rank")
        shape = []
        for d, b, n in zip(x, begin, size, strict=False):
            n = d - b if n == -1 else n
            if b < 0 or n < 0 or b + n > d:
                raise ShapeError(f"SLICE of {list(x)} at {begin} size {size}")
            shape.append(n)
        v = vals[0]
        return out(tuple(shape), None if v is None else
                   np.asarray(v)[tuple(slice(b, b + n) for b, n in zip(begin, shape, strict=False))])
    if code == GATHER:
        if x is None or shapes[1] is None:
            return None
        a = _axis(opt(0, "<i", 0), len(x))
        bd = int(opt(1, "<i", 0))
        idx = shapes[1]
        bd = bd + len(idx) if bd < 0 else bd
        shape = x[:a] + idx[bd:] + x[a + 1:]
        value = None
        if vals[0] is not None and vals[1] is not None and bd == 0:
            iv = np.asarray(vals[1]).astype(np.int64)
            if ((iv < 0) | (iv >= x[a])).any():
                raise ShapeError("GATHER index out of range")
            value = np.take(np.asarray(vals[0]), iv, axis=a)
        return out(shape, value)
    if code in (SPLIT, SPLIT_V):
        n = int(opt(0, "<i", 0))
        data_i, axis_i = (1, 0) if code == SPLIT else (0, 2)
        d, av = shapes[data_i] if len(shapes) > data_i else None, vals[axis_i] if len(vals) > axis_i else None
        if d is None or av is None or n <= 0:
            return None
        a = _axis(int(np.asarray(av).reshape(-1)[0]), len(d))
        if code == SPLIT:
            if d[a] % n:
                raise ShapeError(f"SPLIT of {d[a]} into {n}")
            sizes = [d[a] // n] * n
        else:
            if vals[1] is None:
                return None
            sizes = [int(s) for s in np.asarray(vals[1]).reshape(-1)]
            if sizes.count(-1) == 1:
                sizes[sizes.index(-1)] = d[a] - (sum(sizes) + 1)
            if len(sizes) != n or sum(sizes) != d[a] or min(sizes) < 0:
                raise ShapeError(f"SPLIT_V of {d[a]} into {sizes}")
        return [_T(d[:a] + (sz,) + d[a + 1:]) for sz in sizes]
    if code == TRANSPOSE:
        if x is None or vals[1] is None:
            return None
        perm = [p + len(x) if p < 0 else p for p in (int(p) for p in np.asarray(vals[1]).reshape(-1))]
        if sorted(perm) != list(range(len(x))):
            raise ShapeError(f"TRANSPOSE perm {perm} for rank {len(x)}")
        v = vals[0]
        return out(tuple(x[p] for p in perm), None if v is None else np.transpose(v, perm))
    if code in _REDUCE:
        if x is None or vals[1] is None:
            return None
        axes = {_axis(a, len(x)) for a in np.asarray(vals[1]).reshape(-1).tolist()}
        keep = bool(opt(0, "<b", 0))
        shape = tuple(1 if k in axes else d for k, d in enumerate(x) if keep or k not in axes)
        value = None
        if vals[0] is not None and code in (SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN):
            fn = {SUM: np.sum, REDUCE_PROD: np.prod, REDUCE_MAX: np.max, REDUCE_MIN: np.min}[code]
            value = fn(np.asarray(vals[0]).astype(np.int64), axis=tuple(sorted(axes)), keepdims=keep)
        return out(shape, value)
    if code in (ARG_MAX, ARG_MIN):
        if x is None or vals[1] is None:
            return None
        a = _axis(int(np.asarray(vals[1]).reshape(-1)[0]), len(x))
        return out(x[:a] + x[a + 1:])
    if code in (PAD, PADV2, MIRROR_PAD):
        if x is None or vals[1] is None:
            return None
        pads = np.asarray(vals[1]).reshape(-1).tolist()
        if len(pads) != 2 * len(x) or min(pads, default=0) < 0:
            raise ShapeError(f"PAD of {list(x)} by {pads}")
        return out(tuple(d + pads[2 * k] + pads[2 * k + 1] for k, d in enumerate(x)))
    if code in (RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR):
        if x is None or vals[1] is None or len(x) != 4:
            return None
        size = np.asarray(vals[1]).reshape(-1).tolist()
        if len(size) != 2 or min(size) < 0:
            raise ShapeError(f"RESIZE to {size}")
        return out((x[0], size[0], size[1], x[3]))
    if code in (AVERAGE_POOL_2D, L2_POOL_2D, MAX_POOL_2D):
        if x is None or len(x) != 4:
            return None
        sw, sh, fw, fh = (int(opt(k, "<i", 0)) for k in (1, 2, 3, 4))
        if min(sw, sh, fw, fh) <= 0:
            raise ShapeError("pool strides and filter sizes must be positive")
        pad = int(opt(0, "<b", 0))
        return out((x[0], _conv_out(x[1], fh, sh, 1, pad), _conv_out(x[2], fw, sw, 1, pad), x[3]))
    if code in (CONV_2D, DEPTHWISE_CONV_2D):
        w = shapes[1] if len(shapes) > 1 else None
        if x is None or w is None or len(x) != 4 or len(w) != 4:
            return None
        pad, sw, sh = int(opt(0, "<b", 0)), int(opt(1, "<i", 0)), int(opt(2, "<i", 0))
        dw, dh = (int(opt(4, "<i", 1)), int(opt(5, "<i", 1))) if code == CONV_2D else \
            (int(opt(5, "<i", 1)), int(opt(6, "<i", 1)))
        oc = w[0] if code == CONV_2D else w[3]
        return out((x[0], _conv_out(x[1], w[1], sh, dh, pad), _conv_out(x[2], w[2], sw, dw, pad), oc))
    if code == TRANSPOSE_CONV:
        if vals[0] is None:
            return None
        o = tuple(int(d) for d in np.asarray(vals[0]).reshape(-1))
        if len(o) != 4 or min(o) < 0:
            raise ShapeError(f"TRANSPOSE_CONV output shape {list(o)}")
        return out(o)
    if code == FULLY_CONNECTED:
        w = shapes[1] if len(shapes) > 1 else None
        if x is None or w is None or len(w) != 2:
            return None
        units, depth = w
        count = int(np.prod(x, dtype=np.int64))
        if depth <= 0 or count % depth:
            raise ShapeError(f"FULLY_CONNECTED of {list(x)} with weights {list(w)}")
        if opt(2, "<b", 0):
            return out(tuple(x[:-1]) + (units,))
        return out((count // depth, units))
    if code == BATCH_MATMUL:
        y = shapes[1] if len(shapes) > 1 else None
        if x is None or y is None or len(x) < 2 or len(y) < 2:
            return None
        adj_x, adj_y = bool(opt(0, "<b", 0)), bool(opt(1, "<b", 0))
        m, kx = (x[-1], x[-2]) if adj_x else (x[-2], x[-1])
        ky, n = (y[-1], y[-2]) if adj_y else (y[-2], y[-1])
        if kx != ky:
            raise ShapeError(f"BATCH_MATMUL of {list(x)} and {list(y)}")
        return out(_broadcast([x[:-2], y[:-2]]) + (m, n))
    if code in (DEPTH_TO_SPACE, SPACE_TO_DEPTH):
        if x is None or len(x) != 4:
            return None
        b = int(opt(0, "<i", 0))
        if b <= 0:
            raise ShapeError("block size must be positive")
        n_, h, w_, c = x
        if code == DEPTH_TO_SPACE:
            if c % (b * b):
                raise ShapeError("DEPTH_TO_SPACE channels")
            return out((n_, h * b, w_ * b, c // (b * b)))
        if h % b or w_ % b:
            raise ShapeError("SPACE_TO_DEPTH size")
        return out((n_, h // b, w_ // b, c * b * b))
    if code == SELECT:
        if any(s is None for s in shapes[:3]) or len(shapes) < 3:
            return None
        return out(shapes[1] if shapes[1] == shapes[2] else _broadcast(shapes[:3]))
    if code == ADD_N:
        if any(s is None for s in shapes) or not shapes:
            return None
        return out(_broadcast(shapes))
    if code == RANGE:
        if any(v is None for v in vals[:3]) or len(vals) < 3:
            return None
        start, limit, delta = (np.asarray(v).reshape(-1)[0] for v in vals[:3])
        if delta == 0:
            raise ShapeError("RANGE delta 0")
        n = max(0, int(np.ceil((limit - start) / delta)))
        value = np.arange(start, limit, delta) if n <= MAX_VALUE_ELEMENTS else None
        return out((n,), value)
    if code == HASHTABLE_FIND:  # (table, keys, default): one value per key
        keys = shapes[1] if len(shapes) > 1 else None
        return None if keys is None else out(keys)
    if code == HASHTABLE_SIZE:
        return out((1,))
    if code == ONE_HOT:
        if x is None or vals[1] is None:
            return None
        depth = int(np.asarray(vals[1]).reshape(-1)[0])
        a = int(opt(0, "<i", -1))
        a = len(x) if a == -1 else a
        return out(tuple(x[:a]) + (depth,) + tuple(x[a:]))
    return None


class ShapeEngine:
    """Shape propagation over one model (parsed once from its flatbuffer, which the verifier has checked)."""

    def __init__(self, data: bytes) -> None:
        m = _Model(data)
        self._data = data
        self._buffers = m.buffers
        self._codes = [m.opcode_info(i)[0] for i in range(len(m.opcodes))]
        self._subgraphs = []
        for sg in m.subgraphs:
            tensors = sg.tables(0)
            ops = sg.tables(3)
            self._subgraphs.append((tensors, ops))
        self._static: dict[tuple[int, int], _T] = {}

    @property
    def has_shape_sources(self) -> bool:
        """True when some operator turns shapes into values (SHAPE, RANK, BROADCAST_ARGS)."""
        return any(c in SHAPE_SOURCE_OPS for c in self._codes)

    # -- tensors -----------------------------------------------------------------------------------------------
    def _declared(self, t: _Table) -> Shape | None:
        shape = t.ints(0)
        return None if shape is None else tuple(int(d) for d in shape)

    def _const(self, sg: int, index: int) -> _T | None:
        """The tensor as a constant (shape and, for small integer tensors, value), or None if not constant."""
        key = (sg, index)
        if key in self._static:
            return self._static[key]
        t = self._subgraphs[sg][0][index]
        b = t.scalar(2, "<I", 0)
        result = None
        if 0 < b < len(self._buffers):
            bt = self._buffers[b]
            raw = bt.blob(0)
            if not raw:
                off, size = bt.scalar(1, "<Q", 0), bt.scalar(2, "<Q", 0)
                raw = bytes(self._data[off:off + size]) if off > 1 and size else None
            if raw:
                shape = self._declared(t) or ()
                value = None
                dt = _VALUE_TYPES.get(t.scalar(1, "<b", 0))
                n = int(np.prod(shape, dtype=np.int64))
                if dt is not None and n <= MAX_VALUE_ELEMENTS:
                    arr = np.frombuffer(raw, dtype=np.dtype(dt).newbyteorder("<"))
                    if arr.size == n:
                        value = arr.astype(dt).reshape(shape)
                result = _T(shape, value)
        self._static[key] = result
        return result

    @staticmethod
    def _options(op: _Table) -> Opt:
        target = op.target(4)
        tab = None if target is None else _Table(op.d, target)

        def opt(slot: int, fmt: str, default: Any) -> Any:
            if tab is None:
                return default
            if fmt == "ints":
                v = tab.ints(slot)
                return default if v is None else [int(d) for d in v]
            return tab.scalar(slot, fmt, default)

        return opt

    # -- propagation -------------------------------------------------------------------------------------------
    def propagate(self, subgraph: int, inputs: dict[int, Shape],
                  tainted: dict[int, tuple[int, int]] | None = None) -> dict[int, _T]:
        """Every tensor of `subgraph` the propagation can follow, from the shapes of its input tensors.

        ``tainted``, when given, receives the tensors whose shape depends on input values: tensor -> (operator index,
        builtin code) of the operator that makes it so."""
        tensors, ops = self._subgraphs[subgraph]
        known: dict[int, _T] = {i: _T(tuple(int(d) for d in s)) for i, s in inputs.items()}
        taint: dict[int, tuple[int, int]] = {} if tainted is None else tainted
        derived: set[int] = set()  # tensors whose value is computed from shapes

        def get(i: int) -> _T | None:
            if i < 0:
                return None
            if i not in known:
                c = self._const(subgraph, i)
                if c is not None:
                    known[i] = c
            return known.get(i)

        for oi, op in enumerate(ops):
            code = self._codes[op.scalar(0, "<I", 0)]
            in_idx = list(op.ints(1) or ())
            out_idx = list(op.ints(2) or ())
            ins = [get(i) for i in in_idx]
            if code in SHAPE_SOURCE_OPS or any(i in derived for i in in_idx):
                derived.update(i for i in out_idx if i >= 0)
            source = next((taint[i] for i in in_idx if i in taint), None)
            if source is None and (code in VALUE_DEPENDENT_OPS or code in RUNTIME_DYNAMIC_OPS):
                source = (oi, code)
            if source is None and code in SHAPE_VALUE_OPERANDS:
                # a shape operand whose value only the run knows (values computed from shapes that this module
                # cannot follow leave the output unknown instead: the runtime's layout stands)
                if any(k < len(ins) and in_idx[k] >= 0 and (ins[k] is None or ins[k].value is None)
                       and in_idx[k] not in derived for k in SHAPE_VALUE_OPERANDS[code]):
                    source = (oi, code)
            if source is not None:
                for i in out_idx:
                    if i >= 0:
                        taint[i] = source
                        known.pop(i, None)
                continue
            out_types = [tensors[i].scalar(1, "<b", 0) for i in out_idx if i >= 0]
            results = None
            if code != CUSTOM:
                try:
                    results = infer_op(code, ins, self._options(op), out_types)
                except (ShapeError, ValueError, IndexError, TypeError, ArithmeticError,
                        struct.error):  # (no rule applies)
                    results = None
            if results is None or len(results) != len(out_idx):
                # No rule (or not enough facts): the declared shapes stand when nothing upstream changed.
                unchanged = all(t is not None and t.shape == self._declared(tensors[i])
                                for i, t in zip(in_idx, ins, strict=False) if i >= 0)
                if not unchanged:
                    continue
                results = [_T(self._declared(tensors[i])) for i in out_idx]
            for i, r in zip(out_idx, results, strict=False):
                if i >= 0 and r.shape is not None:
                    known[i] = r
        return known

    def output_shapes(self, subgraph: int, input_tensors: Sequence[int], input_shapes: Sequence[Sequence[int]],
                      output_tensors: Sequence[int]) -> list[Shape | None]:
        """The shapes of `output_tensors` for the given input shapes (None where the propagation cannot tell)."""
        known = self.propagate(subgraph, {int(t): tuple(s) for t, s in zip(input_tensors, input_shapes, strict=False)})
        return [None if known.get(int(t)) is None else known[int(t)].shape for t in output_tensors]


# Schema tensor types a single-input CONCATENATION copies: float32, int32, uint8, int64, bool, int16, int8.
COPYABLE_TYPES = frozenset({0, 2, 3, 4, 6, 7, 9})


def outputs_needing_copies(engine: ShapeEngine, outputs: dict[int, list[int]]) -> dict[int, list[int]]:
    """Of the signature output tensors ``{subgraph: [tensor, ...]}``, those produced by an operator whose shape
    operand is computed (not a constant), by subgraph: the runtime lays such outputs out during the run and cannot
    bind a client buffer to them (``_rewrite.add_output_copies``)."""
    found: dict[int, list[int]] = {}
    for sg, wanted in outputs.items():
        tensors, ops = engine._subgraphs[sg]
        wanted_set = set(wanted)
        for op in ops:
            code = engine._codes[op.scalar(0, "<I", 0)]
            positions = SHAPE_VALUE_OPERANDS.get(code)
            if positions is None:
                continue
            ins = list(op.ints(1) or ())
            computed = any(k < len(ins) and ins[k] >= 0 and engine._const(sg, ins[k]) is None for k in positions)
            if not computed:
                continue
            for t in op.ints(2) or ():
                if t in wanted_set and tensors[t].scalar(1, "<b", 0) in COPYABLE_TYPES:
                    found.setdefault(sg, []).append(int(t))
    return found


def dynamic_outputs(engine: ShapeEngine, subgraph: int, input_tensors: Sequence[int],
                    input_shapes: Sequence[Sequence[int]], output_tensors: Sequence[int]
                    ) -> dict[int, tuple[int, int]]:
    """Output tensors whose shape only the run tells (it depends on tensor values, or the runtime lays the tensor
    out during the run: ``RUNTIME_DYNAMIC_OPS``), with the (operator index, builtin code) that makes them so."""
    taint: dict[int, tuple[int, int]] = {}
    engine.propagate(subgraph, {int(t): tuple(s) for t, s in zip(input_tensors, input_shapes, strict=False)}, taint)
    return {int(t): taint[t] for t in output_tensors if t in taint}


def output_capacity(input_shapes: Sequence[Sequence[int]]) -> int:
    """First buffer size, in elements, for an output whose shape only the run tells; the native layer grows it and
    runs again when the runtime needs more."""
    largest = max((int(np.prod(s, dtype=np.int64)) for s in input_shapes), default=0)
    return max(1024, largest)
