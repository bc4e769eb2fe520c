"""UNIDIRECTIONAL_SEQUENCE_LSTM with its state in TFLite variable tensors, rewritten into builtin operators with the
state in resource variables.

libLiteRt refuses every model with a variable tensor ("Variable tensors not yet supported"). The classic interpreter
keeps a fused LSTM's output state and cell state in two variable tensors from one run to the next, and
``reset_all_variables()`` gives them their initial values again. This module unrolls each float
UNIDIRECTIONAL_SEQUENCE_LSTM over its (static) time steps into FULLY_CONNECTED / ADD / MUL / LOGISTIC / activation
operators that read the state from two resource variables at the start of the run and assign the new state at the end.
A CALL_ONCE subgraph gives the variables the variable tensors' initial values, so a fresh compile (what the SDK's
``reset_all_variables()`` does) starts over from them. Peepholes, CIFG (no input gate), projection and the cell and
projection clips follow the kernel's definition; layer normalization and quantized LSTMs are refused
(``RewriteError`` naming the reason), and the load then fails with the typed error for variable tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._rewrite import (
    _BUFFER_DATA,
    _MODEL_BUFFERS,
    _MODEL_FIELDS,
    _MODEL_OPERATOR_CODES,
    _MODEL_SUBGRAPHS,
    _OP_INPUTS,
    _OP_OPCODE_INDEX,
    _OP_OUTPUTS,
    _OPCODE_BUILTIN,
    _OPCODE_DEPRECATED,
    _OPCODE_VERSION,
    _SUBGRAPH_FIELDS,
    _SUBGRAPH_OPERATORS,
    _SUBGRAPH_TENSORS,
    _TENSOR_BUFFER,
    _TENSOR_FIELDS,
    _TENSOR_IS_VARIABLE,
    _TENSOR_NAME,
    _TENSOR_SHAPE,
    RewriteError,
    _copy_fields,
    _Emitter,
    _finish,
    _Model,
    _Table,
)

__all__ = ["UNIDIRECTIONAL_SEQUENCE_LSTM", "expand_lstm_state"]

# Builtin operator codes (TFLite schema, BuiltinOperator).
ADD, FULLY_CONNECTED, LOGISTIC, MUL, RELU, RELU_N1_TO_1, RELU6, TANH, SUB = 0, 9, 14, 18, 19, 20, 21, 28, 41
UNIDIRECTIONAL_SEQUENCE_LSTM, MAXIMUM, MINIMUM, PACK, UNPACK = 44, 55, 57, 83, 88
CALL_ONCE, VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE = 129, 142, 143, 144
# BuiltinOptions union types, and their fields used here.
_FC_OPTIONS, _ADD_OPTIONS, _MUL_OPTIONS, _SUB_OPTIONS, _PACK_OPTIONS, _UNPACK_OPTIONS = 8, 11, 21, 28, 59, 64
_LSTM_OPTIONS, _CALL_ONCE_OPTIONS, _VAR_HANDLE_OPTIONS = 71, 103, 111
_OP_BUILTIN_OPTIONS_TYPE, _OP_BUILTIN_OPTIONS = 3, 4
_SUBGRAPH_INPUTS, _SUBGRAPH_OUTPUTS, _SUBGRAPH_NAME = 1, 2, 4
# TensorType
FLOAT32, RESOURCE = 0, 13
# ActivationFunctionType -> the operator that applies it (NONE: identity)
_ACTIVATION_OPS = {1: RELU, 2: RELU_N1_TO_1, 3: RELU6, 4: TANH, 6: LOGISTIC}
# UNIDIRECTIONAL_SEQUENCE_LSTM operand positions
_X, _W, _R, _PEEP, _BIAS, _PROJ_W, _PROJ_B, _H, _C, _LAYER_NORM = 0, (1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11), \
    (12, 13, 14, 15), 16, 17, 18, 19, (20, 21, 22, 23)
MAX_UNROLLED_STEPS = 4096  # an LSTM over more time steps is refused (the unrolled graph would be too large)


@dataclass
class _Node:
    """A new flatbuffer object: ("table", {slot: (fmt, value or _Node)}), ("vec", [_Node | old position]),
    ("ints", [...]), ("str", text) or ("bytes", data)."""

    kind: str
    payload: Any


def _emit(e: _Emitter, node: Any) -> tuple[str, int]:
    """Emits `node` and what it references, referrer first (as the emitter requires)."""
    if isinstance(node, tuple):  # ("old", position)
        return node
    if node.kind == "table":
        fields: dict[int, tuple[str, Any]] = {}
        ref = e.ref("table", fields)
        for slot, (fmt, value) in node.payload.items():
            fields[slot] = (fmt, _emit(e, value)) if fmt == "o" else (fmt, value)
        return ref
    if node.kind == "vec":
        items: list[Any] = []
        ref = e.ref("vec", items)
        items.extend(_emit(e, c) for c in node.payload)
        return ref
    return e.ref(node.kind, node.payload)


def _table(**slots: Any) -> _Node:
    return _Node("table", {int(k[1:]): v for k, v in slots.items()})


@dataclass
class _Subgraph:
    """A subgraph being rewritten: the old tensors (by position) and the new ones, and the new operator list."""

    model: _Rewrite
    first_new: int
    tensors: list[Any] = field(default_factory=list)  # old positions or new tensor tables
    ops: list[Any] = field(default_factory=list)

    def tensor(self, shape: list[int], name: str, dtype: int = FLOAT32, buffer: int = 0) -> int:
        fields: dict[int, tuple[str, Any]] = {_TENSOR_SHAPE: ("o", _Node("ints", list(shape))),
                                              1: ("<b", dtype), _TENSOR_BUFFER: ("<I", buffer),
                                              _TENSOR_NAME: ("o", _Node("str", name))}
        self.tensors.append(_Node("table", fields))
        return len(self.tensors) - 1

    def const(self, values: np.ndarray, name: str) -> int:
        values = np.ascontiguousarray(values, dtype=np.float32)
        return self.tensor(list(values.shape), name, FLOAT32, self.model.buffer(values.tobytes()))

    def op(self, code: int, inputs: list[int], outputs: list[int], options_type: int = 0,
           options: dict[int, tuple[str, Any]] | None = None) -> None:
        fields: dict[int, tuple[str, Any]] = {_OP_OPCODE_INDEX: ("<I", self.model.opcode(code)),
                                              _OP_INPUTS: ("o", _Node("ints", inputs)),
                                              _OP_OUTPUTS: ("o", _Node("ints", outputs))}
        if options_type:
            fields[_OP_BUILTIN_OPTIONS_TYPE] = ("<B", options_type)
            fields[_OP_BUILTIN_OPTIONS] = ("o", _Node("table", options or {}))
        self.ops.append(_Node("table", fields))

    def unary(self, code: int, x: int, shape: list[int], name: str) -> int:
        out = self.tensor(shape, name)
        self.op(code, [x], [out])
        return out

    def binary(self, code: int, a: int, b: int, shape: list[int], name: str) -> int:
        out = self.tensor(shape, name)
        options_type = {ADD: _ADD_OPTIONS, MUL: _MUL_OPTIONS, SUB: _SUB_OPTIONS}.get(code, 0)
        self.op(code, [a, b], [out], options_type, {})
        return out

    def fully_connected(self, x: int, weights: int, bias: int, shape: list[int], name: str) -> int:
        out = self.tensor(shape, name)
        self.op(FULLY_CONNECTED, [x, weights, bias], [out], _FC_OPTIONS, {})
        return out

    def handle(self, shared_name: str) -> int:
        h = self.tensor([], shared_name + "/handle", RESOURCE)
        self.op(VAR_HANDLE, [], [h], _VAR_HANDLE_OPTIONS,
                {0: ("o", _Node("str", "")), 1: ("o", _Node("str", shared_name))})
        return h


class _Rewrite:
    """The model-level parts: operator codes and buffers added by the rewrite."""

    def __init__(self, m: _Model) -> None:
        self.m = m
        self.codes = [m.opcode_info(i) for i in range(len(m.opcodes))]
        self.new_codes: list[int] = []
        self.new_buffers: list[bytes] = []

    def opcode(self, code: int) -> int:
        for i, (builtin, custom, _) in enumerate(self.codes):
            if builtin == code and custom is None:
                return i
        self.codes.append((code, None, 1))
        self.new_codes.append(code)
        return len(self.codes) - 1

    def buffer(self, data: bytes) -> int:
        self.new_buffers.append(data)
        return len(self.m.buffers) + len(self.new_buffers) - 1


def _shape(t: _Table) -> list[int]:
    return list(t.ints(_TENSOR_SHAPE) or ())


def _float_data(m: _Model, t: _Table) -> bytes | None:
    b = t.scalar(_TENSOR_BUFFER, "<I", 0)
    if 0 < b < len(m.buffers):
        raw = m.buffers[b].blob(_BUFFER_DATA)
        return raw or None
    return None


def _options(m: _Model, op: _Table) -> tuple[int, float, float, bool]:
    """(fused activation, cell clip, projection clip, time major) of an LSTM operator."""
    if op.scalar(_OP_BUILTIN_OPTIONS_TYPE, "<B", 0) != _LSTM_OPTIONS:
        return 4, 0.0, 0.0, False  # the kernel's defaults: TANH, no clips, batch major
    pos = op.target(_OP_BUILTIN_OPTIONS)
    if pos is None:
        return 4, 0.0, 0.0, False
    opt = _Table(m.d, pos)
    return (opt.scalar(0, "<b", 0), opt.scalar(1, "<f", 0.0), opt.scalar(2, "<f", 0.0), bool(opt.scalar(3, "<B", 0)))


def _unroll(g: _Subgraph, m: _Model, tensors: list[_Table], op: _Table, k: int,
            init: list[tuple[str, list[int], bytes]]) -> None:
    """Appends the unrolled LSTM `op` (the k-th rewritten) to `g`; adds its variables' initial values to `init`."""
    ins = list(op.ints(_OP_INPUTS) or ())
    ins += [-1] * (24 - len(ins))
    outs = list(op.ints(_OP_OUTPUTS) or ())
    present = lambda i: ins[i] >= 0  # noqa: E731
    if len(outs) != 1:
        raise RewriteError(f"LSTM operator with {len(outs)} outputs")
    if any(present(i) for i in _LAYER_NORM):
        raise RewriteError("layer-normalized LSTM")
    used = [ins[i] for i in range(24) if present(i)]
    if any(tensors[t].scalar(1, "<b", 0) != FLOAT32 for t in used + outs):
        raise RewriteError("LSTM with non-float32 operands (quantized or hybrid)")
    act, cell_clip, proj_clip, time_major = _options(m, op)
    if act not in (0, *_ACTIVATION_OPS):
        raise RewriteError(f"LSTM activation {act}")
    x_shape = _shape(tensors[ins[_X]])
    h_shape, c_shape = _shape(tensors[ins[_H]]), _shape(tensors[ins[_C]])
    if len(x_shape) != 3 or len(h_shape) != 2 or len(c_shape) != 2 or min(x_shape + h_shape + c_shape) <= 0:
        raise RewriteError(f"LSTM shapes {x_shape}, {h_shape}, {c_shape}")
    steps, batch = (x_shape[0], x_shape[1]) if time_major else (x_shape[1], x_shape[0])
    if steps > MAX_UNROLLED_STEPS:
        raise RewriteError(f"LSTM over {steps} time steps (more than {MAX_UNROLLED_STEPS})")
    n_out, n_cell = h_shape[1], c_shape[1]
    if h_shape[0] != batch or c_shape[0] != batch:
        raise RewriteError("LSTM state batch differs from the input batch")
    for pos, var in ((_H, "h"), (_C, "c")):
        t = tensors[ins[pos]]
        data = _float_data(m, t) or bytes(4 * int(np.prod(_shape(t))))
        init.append((f"litert_sdk_lstm{k}_{var}", _shape(t), data))
    name = f"litert_sdk_lstm{k}"
    h_handle, c_handle = g.handle(f"{name}_h"), g.handle(f"{name}_c")
    h = g.tensor([batch, n_out], f"{name}/h0")
    g.op(READ_VARIABLE, [h_handle], [h])
    c = g.tensor([batch, n_cell], f"{name}/c0")
    g.op(READ_VARIABLE, [c_handle], [c])
    axis = 0 if time_major else 1
    xs = [g.tensor([batch, x_shape[2]], f"{name}/x{t}") for t in range(steps)]
    g.op(UNPACK, [ins[_X]], xs, _UNPACK_OPTIONS, {0: ("<i", steps), 1: ("<i", axis)})
    cell = [batch, n_cell]
    one = g.const(np.ones([1], np.float32), f"{name}/one") if not present(_W[0]) else -1
    clip = (g.const(np.array([cell_clip], np.float32), f"{name}/cell_clip"),
            g.const(np.array([-cell_clip], np.float32), f"{name}/-cell_clip")) if cell_clip > 0 else None
    pclip = (g.const(np.array([proj_clip], np.float32), f"{name}/proj_clip"),
             g.const(np.array([-proj_clip], np.float32), f"{name}/-proj_clip")) if proj_clip > 0 else None

    def activation(x: int, shape: list[int], label: str) -> int:
        return x if act == 0 else g.unary(_ACTIVATION_OPS[act], x, shape, label)

    def gate(x: int, h: int, s: str, j: int, peep: int | None, label: str) -> int:
        """Gate ``j`` of the step with input ``x``, previous output ``h`` and tensor name prefix ``s``."""
        z = g.binary(ADD, g.fully_connected(x, ins[_W[j]], ins[_BIAS[j]], cell, f"{s}/{label}_x"),
                     g.fully_connected(h, ins[_R[j]], -1, cell, f"{s}/{label}_h"), cell, f"{s}/{label}_z")
        if peep is not None and present(_PEEP[j if j < 2 else 2]):
            z = g.binary(ADD, z, g.binary(MUL, ins[_PEEP[j if j < 2 else 2]], peep, cell, f"{s}/{label}_p"), cell,
                         f"{s}/{label}_zp")
        return z

    hs = []
    for step, x in enumerate(xs):
        s = f"{name}/t{step}"
        f = g.unary(LOGISTIC, gate(x, h, s, 1, c, "f"), cell, f"{s}/f")
        i = g.unary(LOGISTIC, gate(x, h, s, 0, c, "i"), cell, f"{s}/i") if present(_W[0]) else \
            g.binary(SUB, one, f, cell, f"{s}/i")
        cand = activation(gate(x, h, s, 2, None, "g"), cell, f"{s}/g")
        c = g.binary(ADD, g.binary(MUL, f, c, cell, f"{s}/fc"), g.binary(MUL, i, cand, cell, f"{s}/ig"), cell,
                     f"{s}/c")
        if clip is not None:
            c = g.binary(MAXIMUM, g.binary(MINIMUM, c, clip[0], cell, f"{s}/c_min"), clip[1], cell, f"{s}/c_clip")
        o = g.unary(LOGISTIC, gate(x, h, s, 3, c, "o"), cell, f"{s}/o")
        out = g.binary(MUL, o, activation(c, cell, f"{s}/act_c"), cell, f"{s}/m")
        if present(_PROJ_W):
            out = g.fully_connected(out, ins[_PROJ_W], ins[_PROJ_B], [batch, n_out], f"{s}/proj")
            if pclip is not None:
                out = g.binary(MAXIMUM, g.binary(MINIMUM, out, pclip[0], [batch, n_out], f"{s}/p_min"), pclip[1],
                               [batch, n_out], f"{s}/p_clip")
        h = out
        hs.append(h)
    g.op(PACK, hs, [outs[0]], _PACK_OPTIONS, {0: ("<i", steps), 1: ("<i", axis)})
    g.op(ASSIGN_VARIABLE, [h_handle, h], [])
    g.op(ASSIGN_VARIABLE, [c_handle, c], [])


def expand_lstm_state(data: bytes) -> bytes:
    """The model with every UNIDIRECTIONAL_SEQUENCE_LSTM that keeps state in variable tensors unrolled, its state in
    resource variables, and no variable tensors left. RewriteError when the model has an operator with variable
    tensors that this cannot rewrite (other recurrent operators, quantized or layer-normalized LSTMs)."""
    m = _Model(data)
    rw = _Rewrite(m)
    lstm_ops: dict[int, list[int]] = {}
    for si, sg in enumerate(m.subgraphs):
        tensors = sg.tables(_SUBGRAPH_TENSORS)
        variables = {i for i, t in enumerate(tensors) if t.scalar(_TENSOR_IS_VARIABLE, "<B", 0)}
        if not variables:
            continue
        seen: set[int] = set()
        for oi, op in enumerate(sg.tables(_SUBGRAPH_OPERATORS)):
            ins = set(op.ints(_OP_INPUTS) or ())
            if ins & variables:
                code = rw.codes[op.scalar(_OP_OPCODE_INDEX, "<I", 0)][0]
                if code != UNIDIRECTIONAL_SEQUENCE_LSTM:
                    raise RewriteError(f"operator {oi} of subgraph {si} (builtin operator {code}) keeps state in "
                                       "variable tensors")
                lstm_ops.setdefault(si, []).append(oi)
                seen |= ins & variables
        if variables - seen:
            raise RewriteError(f"variable tensors of subgraph {si} that no LSTM operator uses")
    if not lstm_ops:
        return bytes(data)

    init: list[tuple[str, list[int], bytes]] = []
    new_subgraphs: dict[int, _Node] = {}
    init_index = len(m.subgraphs)
    k = 0
    for si, op_indices in lstm_ops.items():
        sg = m.subgraphs[si]
        tensors = sg.tables(_SUBGRAPH_TENSORS)
        ops = sg.tables(_SUBGRAPH_OPERATORS)
        g = _Subgraph(rw, len(tensors))
        for t in tensors:
            if t.scalar(_TENSOR_IS_VARIABLE, "<B", 0):
                f = _copy_fields(t, _TENSOR_FIELDS, "Tensor")
                del f[_TENSOR_IS_VARIABLE]
                g.tensors.append(_Node("table", f))
            else:
                g.tensors.append(("old", t.pos))
        if k == 0:
            g.op(CALL_ONCE, [], [], _CALL_ONCE_OPTIONS, {0: ("<i", init_index)})
        for oi, op in enumerate(ops):
            if oi in op_indices:
                _unroll(g, m, tensors, op, k, init)
                k += 1
            else:
                g.ops.append(("old", op.pos))
        fields = _copy_fields(sg, _SUBGRAPH_FIELDS, "SubGraph")
        fields[_SUBGRAPH_TENSORS] = ("o", _Node("vec", g.tensors))
        fields[_SUBGRAPH_OPERATORS] = ("o", _Node("vec", g.ops))
        new_subgraphs[si] = _Node("table", fields)

    # The CALL_ONCE subgraph: each variable gets the initial value of the variable tensor it replaces.
    ig = _Subgraph(rw, 0)
    for shared_name, shape, value in init:
        h = ig.handle(shared_name)
        v = ig.tensor(shape, shared_name + "/initial", FLOAT32, rw.buffer(value))
        ig.op(ASSIGN_VARIABLE, [h, v], [])
    init_sg = _Node("table", {_SUBGRAPH_TENSORS: ("o", _Node("vec", ig.tensors)),
                              _SUBGRAPH_INPUTS: ("o", _Node("ints", [])),
                              _SUBGRAPH_OUTPUTS: ("o", _Node("ints", [])),
                              _SUBGRAPH_OPERATORS: ("o", _Node("vec", ig.ops)),
                              _SUBGRAPH_NAME: ("o", _Node("str", "litert_sdk_lstm_state_init"))})

    root = _copy_fields(m.root, _MODEL_FIELDS, "Model")
    root[_MODEL_SUBGRAPHS] = ("o", _Node("vec", [new_subgraphs.get(i, ("old", s.pos))
                                                 for i, s in enumerate(m.subgraphs)] + [init_sg]))
    root[_MODEL_OPERATOR_CODES] = ("o", _Node("vec", [("old", t.pos) for t in m.opcodes] + [
        _Node("table", {_OPCODE_DEPRECATED: ("<b", min(c, 127)), _OPCODE_VERSION: ("<i", 1),
                        _OPCODE_BUILTIN: ("<i", c)}) for c in rw.new_codes]))
    root[_MODEL_BUFFERS] = ("o", _Node("vec", [("old", b.pos) for b in m.buffers] + [
        _Node("table", {_BUFFER_DATA: ("o", _Node("bytes", d))}) for d in rw.new_buffers]))
    e = _Emitter()
    _emit(e, _Node("table", root))
    return _finish(e, m, bytearray(data))
