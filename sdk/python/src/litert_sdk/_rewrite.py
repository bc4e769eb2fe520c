"""Rewrites a TFLite model so the runtime's client custom-op kernels work on it.

The runtime (libLiteRt 2.3.0) has four traps for custom ops that this module removes by editing the flatbuffer:

1. ``user_data`` is shared by every node with the same custom code, and ``Init`` gets no node identity, so two nodes
   of one op with different attributes would share the attributes of whichever was initialised last. Nodes whose
   custom options or static output shapes differ get their own custom code (``"Name#1"``, ``"Name#2"``, ...); the
   SDK registers one kernel instance per code.
2. Constant inputs must be 64-byte aligned ("Unaligned host memory pointer"). Constant buffers read by custom ops
   that are not 64-byte aligned are copied to 64-byte aligned positions (the model is loaded from a 64-byte
   aligned block).
3. The runtime registers client kernels for op version 1 only; a custom op with another version in the model is
   "unresolved". Custom-op versions are set to 1.
4. The runtime's built-in resolver has stub kernels for the MediaPipe ops XNNPACK implements itself
   (``Convolution2DTransposeBias``, ``MaxPoolingWithArgmax2D``, ``MaxUnpooling2D``); they fail ("Stub operation
   invoked") wherever XNNPACK does not take the node, and they win over client kernels of the same name. Nodes of
   these ops get codes of their own (``"Name#0"``, ...) when a kernel is supplied for them (``reserved``).
5. (Nothing to fix, but recorded:) the static input/output shapes of each code's nodes, which Python kernels
   without an output-shape function use.

How: the original flatbuffer is kept byte for byte (at a 64-byte aligned offset) behind a new region that holds a
new root ``Model`` table and the tables that change (operator codes, the operators whose code changes and the
subgraphs and vectors that hold them, buffers that move, aligned copies of their data). Flatbuffer offsets are
relative and point forward, so every untouched object of the original is referenced where it is; the few absolute
file offsets the schema has (``Buffer.offset`` and ``Operator.large_custom_options_offset`` of large models) are
shifted in place. Field slots come from the public TFLite schema.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RewriteError", "CustomOpNode", "ModelAnalysis", "RewriteResult", "analyze", "assign_codes",
           "rewrite_for_custom_ops", "operator_io"]

ALIGNMENT = 64
CUSTOM_OPCODE = 32
CODE_SEPARATOR = "#"
# Custom codes the runtime resolves to its own stub kernels (XNNPACK-only MediaPipe ops).
RUNTIME_STUB_OPS = frozenset({"Convolution2DTransposeBias", "MaxPoolingWithArgmax2D", "MaxUnpooling2D"})

# TFLite schema slots (table field ids).
_MODEL_OPERATOR_CODES, _MODEL_SUBGRAPHS, _MODEL_BUFFERS = 1, 2, 4
_SUBGRAPH_TENSORS, _SUBGRAPH_OPERATORS = 0, 3
_TENSOR_SHAPE, _TENSOR_BUFFER, _TENSOR_SHAPE_SIGNATURE = 0, 2, 7
_OP_OPCODE_INDEX, _OP_INPUTS, _OP_OUTPUTS, _OP_CUSTOM_OPTIONS = 0, 1, 2, 5
_OP_LARGE_OPTIONS_OFFSET, _OP_LARGE_OPTIONS_SIZE = 9, 10
_OPCODE_DEPRECATED, _OPCODE_CUSTOM, _OPCODE_VERSION, _OPCODE_BUILTIN = 0, 1, 2, 3
_BUFFER_DATA, _BUFFER_OFFSET, _BUFFER_SIZE = 0, 1, 2

# Field kinds of the tables copied field by field: "o" = offset to a sub-object, else a struct format.
_MODEL_FIELDS = {0: "<I", 1: "o", 2: "o", 3: "o", 4: "o", 5: "o", 6: "o", 7: "o", 8: "o", 9: "o"}
_SUBGRAPH_FIELDS = {0: "o", 1: "o", 2: "o", 3: "o", 4: "o", 5: "<i"}
_OPERATOR_FIELDS = {0: "<I", 1: "o", 2: "o", 3: "<B", 4: "o", 5: "o", 6: "<b", 7: "o", 8: "o", 9: "<Q", 10: "<Q",
                    11: "<B", 12: "o", 13: "<i"}


class RewriteError(ValueError):
    """The model cannot be rewritten (malformed, or fields this schema version does not know)."""


# ---------------------------------------------------------------------------------------------------- reading
class _Table:
    __slots__ = ("d", "pos", "vt", "vt_size")

    def __init__(self, d: bytes | bytearray, pos: int) -> None:
        self.d = d
        self.pos = pos
        self.vt = pos - struct.unpack_from("<i", d, pos)[0]
        self.vt_size = struct.unpack_from("<H", d, self.vt)[0]
        if self.vt < 0 or self.vt_size < 4 or self.vt + self.vt_size > len(d):
            raise RewriteError(f"bad vtable at {self.vt}")

    def slots(self) -> list[int]:
        return [s for s in range((self.vt_size - 4) // 2) if self.field_pos(s) is not None]

    def field_pos(self, slot: int) -> int | None:
        o = 4 + 2 * slot
        if o + 2 > self.vt_size:
            return None
        off = struct.unpack_from("<H", self.d, self.vt + o)[0]
        return self.pos + off if off else None

    def scalar(self, slot: int, fmt: str, default: Any = 0) -> Any:
        p = self.field_pos(slot)
        return default if p is None else struct.unpack_from(fmt, self.d, p)[0]

    def target(self, slot: int) -> int | None:
        p = self.field_pos(slot)
        return None if p is None else p + struct.unpack_from("<I", self.d, p)[0]

    def vector(self, slot: int, element_size: int = 1) -> tuple[int, int] | None:
        """(start of the elements, length) of a vector field; RewriteError when its ``element_size``-byte elements
        would run past the buffer (a field read as another options type than the one written: found by fuzzing)."""
        t = self.target(slot)
        if t is None:
            return None
        n = struct.unpack_from("<I", self.d, t)[0]
        if t + 4 + n * element_size > len(self.d):
            raise RewriteError(f"malformed model: a vector of {n} elements at byte {t} runs past the end")
        return t + 4, n

    def tables(self, slot: int) -> list[_Table]:
        v = self.vector(slot, 4)
        if v is None:
            return []
        start, n = v
        out = []
        for i in range(n):
            p = start + 4 * i
            out.append(_Table(self.d, p + struct.unpack_from("<I", self.d, p)[0]))
        return out

    def ints(self, slot: int, fmt: str = "<i") -> tuple[int, ...] | None:
        size = struct.calcsize(fmt)
        v = self.vector(slot, size)
        if v is None:
            return None
        start, n = v
        return struct.unpack_from(f"<{n}{fmt[-1]}", self.d, start) if size else ()

    def string(self, slot: int) -> str | None:
        v = self.vector(slot)
        if v is None:
            return None
        start, n = v
        return bytes(self.d[start:start + n]).decode("utf-8", "replace")

    def blob(self, slot: int) -> bytes | None:
        v = self.vector(slot)
        if v is None:
            return None
        start, n = v
        return bytes(self.d[start:start + n])


@dataclass(frozen=True)
class CustomOpNode:
    """One node of a custom op in the original model."""

    subgraph: int
    index: int                  # position in the subgraph's operator list
    name: str                   # the op's custom code in the original model
    options: bytes              # custom options (attributes)
    inputs: tuple[int, ...]     # tensor indices (-1: omitted optional input)
    outputs: tuple[int, ...]
    input_shapes: tuple[tuple[int, ...] | None, ...]
    output_shapes: tuple[tuple[int, ...] | None, ...]


@dataclass
class ModelAnalysis:
    """What the rewrite needs to know about a model's custom ops."""

    nodes: list[CustomOpNode] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)           # custom code -> version in the model
    unaligned_buffers: list[int] = field(default_factory=list)       # constant buffers read by custom ops

    @property
    def names(self) -> list[str]:
        return sorted({n.name for n in self.nodes})


@dataclass
class RewriteResult:
    """The model to compile and the custom codes to register in it.

    ``codes`` maps every custom code of the rewritten model to the op name (the kernel) it needs; ``io_shapes`` gives,
    per code, the distinct (input shapes, output shapes) of its nodes (None for dynamic/unknown shapes).
    """

    data: bytes
    changed: bool
    codes: dict[str, str]
    io_shapes: dict[str, list[tuple[tuple[tuple[int, ...] | None, ...], tuple[tuple[int, ...] | None, ...]]]]
    renamed_nodes: int = 0
    realigned_buffers: int = 0
    versions_fixed: int = 0


class _Model:
    """Parsed view of the parts of a TFLite model the rewrite touches."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 8:
            raise RewriteError("too short to be a TFLite model")
        self.d = data
        try:
            self.root = _Table(data, struct.unpack_from("<I", data, 0)[0])
            unknown = [s for s in self.root.slots() if s not in _MODEL_FIELDS]
            if unknown:
                raise RewriteError(f"Model has fields this SDK does not know: {unknown}")
            self.opcodes = self.root.tables(_MODEL_OPERATOR_CODES)
            self.subgraphs = self.root.tables(_MODEL_SUBGRAPHS)
            self.buffers = self.root.tables(_MODEL_BUFFERS)
        except (struct.error, IndexError) as e:
            raise RewriteError(f"malformed model: {e}") from None

    def opcode_info(self, index: int) -> tuple[int, str | None, int]:
        """(builtin code, custom code, version) of operator code `index`."""
        t = self.opcodes[index]
        builtin = max(t.scalar(_OPCODE_DEPRECATED, "<b", 0), t.scalar(_OPCODE_BUILTIN, "<i", 0))
        return builtin, t.string(_OPCODE_CUSTOM), t.scalar(_OPCODE_VERSION, "<i", 1)

    def op_options(self, op: _Table) -> bytes:
        opts = op.blob(_OP_CUSTOM_OPTIONS)
        if opts is not None:
            return opts
        off = op.scalar(_OP_LARGE_OPTIONS_OFFSET, "<Q", 0)
        size = op.scalar(_OP_LARGE_OPTIONS_SIZE, "<Q", 0)
        if off > 1 and size:
            return bytes(self.d[off:off + size])
        return b""


def operator_io(data: bytes, subgraph: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(inputs, outputs) of every operator of a subgraph as the model stores them: -1 marks an omitted optional
    operand (the runtime's description leaves those out)."""
    try:
        ops = _Model(data).subgraphs[subgraph].tables(_SUBGRAPH_OPERATORS)
        return [(tuple(op.ints(_OP_INPUTS) or ()), tuple(op.ints(_OP_OUTPUTS) or ())) for op in ops]
    except (struct.error, IndexError) as e:
        raise RewriteError(f"malformed model: {e}") from None


def _tensor_shape(t: _Table) -> tuple[int, ...] | None:
    sig = t.ints(_TENSOR_SHAPE_SIGNATURE)
    shape = t.ints(_TENSOR_SHAPE)
    if sig is not None and any(d < 0 for d in sig):
        return None
    return tuple(shape) if shape is not None else None


_TENSOR_IS_VARIABLE = 5


def variable_tensors(data: bytes) -> list[tuple[int, int, str, int | None]]:
    """TFLite variable tensors (``is_variable``: state that the classic interpreter keeps between runs, e.g. of
    UNIDIRECTIONAL_SEQUENCE_LSTM): (subgraph, tensor, name, builtin code of the first operator that takes it)."""
    m = _Model(data)
    found = []
    for si, sg in enumerate(m.subgraphs):
        tensors = sg.tables(_SUBGRAPH_TENSORS)
        users: dict[int, int] = {}
        for op in sg.tables(_SUBGRAPH_OPERATORS):
            code = m.opcode_info(op.scalar(_OP_OPCODE_INDEX, "<I", 0))[0]
            for i in op.ints(_OP_INPUTS) or ():
                users.setdefault(i, code)
        for ti, t in enumerate(tensors):
            if t.scalar(_TENSOR_IS_VARIABLE, "<B", 0):
                found.append((si, ti, t.string(_TENSOR_NAME) or "", users.get(ti)))
    return found


def _analyze(m: _Model) -> ModelAnalysis:
    out = ModelAnalysis()
    custom_idx: dict[int, str] = {}
    for i in range(len(m.opcodes)):
        builtin, custom, version = m.opcode_info(i)
        if builtin == CUSTOM_OPCODE and custom:
            custom_idx[i] = custom
            out.versions[custom] = version
    if not custom_idx:
        return out
    unaligned: set[int] = set()
    for si, sg in enumerate(m.subgraphs):
        tensors = sg.tables(_SUBGRAPH_TENSORS)
        for oi, op in enumerate(sg.tables(_SUBGRAPH_OPERATORS)):
            idx = op.scalar(_OP_OPCODE_INDEX, "<I", 0)
            name = custom_idx.get(idx)
            if name is None:
                continue
            ins = tuple(op.ints(_OP_INPUTS) or ())
            outs = tuple(op.ints(_OP_OUTPUTS) or ())
            in_shapes = tuple(_tensor_shape(tensors[t]) if 0 <= t < len(tensors) else None for t in ins)
            out_shapes = tuple(_tensor_shape(tensors[t]) if 0 <= t < len(tensors) else None for t in outs)
            out.nodes.append(CustomOpNode(si, oi, name, m.op_options(op), ins, outs, in_shapes, out_shapes))
            for t in ins:
                if not 0 <= t < len(tensors):
                    continue
                b = tensors[t].scalar(_TENSOR_BUFFER, "<I", 0)
                if 0 < b < len(m.buffers):
                    v = m.buffers[b].vector(_BUFFER_DATA)
                    if v is not None and v[1] > 0 and v[0] % ALIGNMENT:
                        unaligned.add(b)
    out.unaligned_buffers = sorted(unaligned)
    return out


def analyze(data: bytes) -> ModelAnalysis:
    """Custom-op nodes, versions and unaligned constant inputs of a model."""
    return _analyze(_Model(data))


# ---------------------------------------------------------------------------------------------------- writing
class _Writer:
    """Lays out new objects front to back in a region placed before the original model.

    References go to objects written later (``("new", id)``) or into the original model (``("old", pos)``), so every
    offset points forward, as flatbuffers require. Positions are absolute (the region starts at byte 8).
    """

    BASE = 8

    def __init__(self) -> None:
        self.buf = bytearray()
        self.obj_pos: list[int] = []
        self.fixups: list[tuple[int, tuple[str, int]]] = []

    def _abs(self) -> int:
        return self.BASE + len(self.buf)

    def _pad_to(self, alignment: int, extra: int = 0) -> None:
        """Pad so that (position + extra) is a multiple of `alignment`."""
        while (self._abs() + extra) % alignment:
            self.buf.append(0)

    def _new_obj(self, pos: int) -> int:
        self.obj_pos.append(pos)
        return len(self.obj_pos) - 1

    def table(self, fields: dict[int, tuple[str, Any]]) -> int:
        """fields: slot -> ("o", target) or (struct format, value) or ("raw", bytes)."""
        items = []
        for slot, (kind, value) in fields.items():
            if kind == "o":
                items.append((slot, 4, kind, value))
            elif kind == "raw":
                items.append((slot, len(value), kind, value))
            else:
                items.append((slot, struct.calcsize(kind), kind, value))
        nslots = max(fields) + 1 if fields else 0
        vt_size = 4 + 2 * nslots
        # inline layout: soffset, then fields by decreasing size (each naturally aligned; table start 8-aligned)
        offsets: dict[int, int] = {}
        cursor = 4
        for slot, size, _, _ in sorted(items, key=lambda it: -it[1]):
            align = min(size, 8) if size in (1, 2, 4, 8) else 1
            cursor = (cursor + align - 1) // align * align
            offsets[slot] = cursor
            cursor += size
        tbl_size = (cursor + 3) // 4 * 4
        # vtable, then pad so the table starts 8-aligned
        self._pad_to(2)
        vt_pos = self._abs()
        vt = bytearray(struct.pack("<HH", vt_size, tbl_size))
        for s in range(nslots):
            vt += struct.pack("<H", offsets.get(s, 0))
        self.buf += vt
        self._pad_to(8)
        tpos = self._abs()
        body = bytearray(tbl_size)
        struct.pack_into("<i", body, 0, tpos - vt_pos)
        for slot, size, kind, value in items:
            o = offsets[slot]
            if kind == "o":
                self.fixups.append((tpos + o, value))
            elif kind == "raw":
                body[o:o + size] = value
            else:
                struct.pack_into(kind, body, o, value)
        self.buf += body
        return self._new_obj(tpos)

    def offset_vector(self, targets: list[tuple[str, int]]) -> int:
        self._pad_to(4)
        pos = self._abs()
        self.buf += struct.pack("<I", len(targets))
        for i, t in enumerate(targets):
            self.fixups.append((pos + 4 + 4 * i, t))
        self.buf += bytes(4 * len(targets))
        return self._new_obj(pos)

    def bytes_vector(self, data: bytes, alignment: int = 4) -> int:
        self._pad_to(max(4, alignment), extra=4)
        pos = self._abs()
        self.buf += struct.pack("<I", len(data)) + data
        return self._new_obj(pos)

    def int32_vector(self, values: list[int]) -> int:
        self._pad_to(4)
        pos = self._abs()
        self.buf += struct.pack(f"<I{len(values)}i", len(values), *values)
        return self._new_obj(pos)

    def string(self, s: str) -> int:
        raw = s.encode("utf-8")
        self._pad_to(4)
        pos = self._abs()
        self.buf += struct.pack("<I", len(raw)) + raw + b"\0"
        return self._new_obj(pos)

    def finish(self, root: int, old: bytes | bytearray) -> bytes:
        old_base = (self._abs() + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
        out = bytearray(old_base) + old
        out[self.BASE:self.BASE + len(self.buf)] = self.buf
        struct.pack_into("<I", out, 0, self.obj_pos[root])
        out[4:8] = old[4:8]  # file identifier ("TFL3")
        for pos, (kind, value) in self.fixups:
            target = self.obj_pos[value] if kind == "new" else old_base + value
            if target <= pos:
                raise RewriteError("internal error: backward reference")
            struct.pack_into("<I", out, pos, target - pos)
        return bytes(out)


def _copy_fields(t: _Table, kinds: dict[int, str], what: str) -> dict[int, tuple[str, Any]]:
    fields: dict[int, tuple[str, Any]] = {}
    for slot in t.slots():
        kind = kinds.get(slot)
        if kind is None:
            raise RewriteError(f"{what} has field {slot}, which this SDK does not know")
        p = t.field_pos(slot)
        assert p is not None
        if kind == "o":
            fields[slot] = ("o", ("old", p + struct.unpack_from("<I", t.d, p)[0]))
        else:
            fields[slot] = ("raw", bytes(t.d[p:p + struct.calcsize(kind)]))
    return fields


def io_shapes_spec(entries: list[Any]) -> str:
    """``RewriteResult.io_shapes`` of one code as the string a native kernel's ``configure_instance`` gets
    (``custom_ops/include/litert_sdk/custom_op_api.h``): entries ``<input shapes>|<output shapes>`` joined by
    ``;``, each shape ``[d,d,...]`` or ``?`` (not static), e.g. ``"[2,8,8,1][4]|[3,3,1,4]"``."""

    def shapes(ss: Any) -> str:
        return "".join("?" if s is None else "[" + ",".join(str(int(d)) for d in s) + "]" for s in ss)

    return ";".join(shapes(ins) + "|" + shapes(outs) for ins, outs in entries)


def assign_codes(nodes: list[CustomOpNode], reserved: frozenset[str] | set[str] = frozenset()
                 ) -> dict[tuple[int, int], str]:
    """The custom code each node gets, by (subgraph, operator index).

    Nodes of one op share a code only when their custom options *and* their static output shapes are identical
    (a kernel instance is shared by every node of its code and gets no node identity: e.g. two ``FlexRestoreV2``
    nodes with the same attributes but different output shapes must not share the shapes a kernel looks up). The
    first group keeps the op's code; the others get ``Name#1``, ``Name#2``, ... (``reserved`` ops start at ``#0``).
    """
    groups: dict[str, list[tuple[bytes, tuple[Any, ...]]]] = {}
    out: dict[tuple[int, int], str] = {}
    for n in nodes:
        g = groups.setdefault(n.name, [])
        key = (n.options, n.output_shapes)
        if key not in g:
            g.append(key)
        k = g.index(key)
        out[(n.subgraph, n.index)] = n.name if k == 0 and n.name not in reserved else f"{n.name}{CODE_SEPARATOR}{k}"
    return out


def rewrite_for_custom_ops(data: bytes, *, align_all: bool = False,
                           reserved: frozenset[str] | set[str] = frozenset()) -> RewriteResult:
    """Rewrite `data` (a TFLite model) for client custom-op kernels; see the module docstring.

    Returns the original bytes (``changed=False``) when nothing needs to change. ``align_all`` realigns every
    constant buffer, not only those read by custom ops. Nodes of the ops named in ``reserved`` (custom codes the
    runtime resolves itself, see :data:`RUNTIME_STUB_OPS`) always get new codes.
    """
    m = _Model(data)
    a = _analyze(m)
    node_codes = assign_codes(a.nodes, reserved)

    def code_of(n: CustomOpNode) -> str:
        return node_codes[(n.subgraph, n.index)]

    codes: dict[str, str] = {}
    io_shapes: dict[str, list[Any]] = {}
    for n in a.nodes:
        c = code_of(n)
        codes[c] = n.name
        entry = (n.input_shapes, n.output_shapes)
        lst = io_shapes.setdefault(c, [])
        if entry not in lst:
            lst.append(entry)

    buffers_to_move = set(a.unaligned_buffers)
    if align_all:
        for b, bt in enumerate(m.buffers):
            v = bt.vector(_BUFFER_DATA)
            if b > 0 and v is not None and v[1] > 0 and v[0] % ALIGNMENT:
                buffers_to_move.add(b)
    bad_versions = {i for i in range(len(m.opcodes))
                    if m.opcode_info(i)[0] == CUSTOM_OPCODE and m.opcode_info(i)[1] and m.opcode_info(i)[2] != 1}
    renamed = [n for n in a.nodes if code_of(n) != n.name]
    if not renamed and not buffers_to_move and not bad_versions:
        return RewriteResult(bytes(data), False, codes, io_shapes)

    w = _Writer()
    old = bytearray(data)
    # Shift the absolute file offsets of large-model storage (the original moves back by the new region).
    # The shift is only known at the end; record the places and patch them after laying out the region.
    absolute_fields: list[int] = []
    for bt in m.buffers:
        if bt.scalar(_BUFFER_OFFSET, "<Q", 0) > 1:
            p = bt.field_pos(_BUFFER_OFFSET)
            assert p is not None
            absolute_fields.append(p)
    for sg in m.subgraphs:
        for op in sg.tables(_SUBGRAPH_OPERATORS):
            if op.scalar(_OP_LARGE_OPTIONS_OFFSET, "<Q", 0) > 1:
                p = op.field_pos(_OP_LARGE_OPTIONS_OFFSET)
                assert p is not None
                absolute_fields.append(p)

    # Which operator-code index each new code gets: group 0 keeps the op's index, others are appended.
    name_to_index = {}
    for i in range(len(m.opcodes)):
        builtin, custom, _ = m.opcode_info(i)
        if builtin == CUSTOM_OPCODE and custom and custom not in name_to_index:
            name_to_index[custom] = i
    extra_codes: list[str] = []
    code_index: dict[str, int] = {}
    for c, name in codes.items():
        if c == name:
            code_index[c] = name_to_index[name]
    for c in sorted(c for c in codes if c not in code_index):
        code_index[c] = len(m.opcodes) + len(extra_codes)
        extra_codes.append(c)

    renamed_by_sg: dict[int, dict[int, int]] = {}
    for n in renamed:
        renamed_by_sg.setdefault(n.subgraph, {})[n.index] = code_index[code_of(n)]

    # Objects are emitted in reference order (model -> vectors -> tables -> strings -> data): every offset points
    # forward. The new Model table copies the original's fields; changed vectors are replaced below.
    model_fields = _copy_fields(m.root, _MODEL_FIELDS, "Model")
    opcode_targets: list[Any] = []
    new_opcode_tables: list[tuple[int, str, Any]] = []   # (slot in vector, custom code, old table or None)
    for i, t in enumerate(m.opcodes):
        if i in bad_versions:
            new_opcode_tables.append((i, m.opcode_info(i)[1] or "", t))
            opcode_targets.append(None)
        else:
            opcode_targets.append(("old", t.pos))
    for c in extra_codes:
        new_opcode_tables.append((len(opcode_targets), c, None))
        opcode_targets.append(None)
    rewrite_opcodes = bool(new_opcode_tables)
    rewrite_subgraphs = bool(renamed_by_sg)
    rewrite_buffers = bool(buffers_to_move)

    # Object ids are assigned in emission order and a reference only needs its target's final position, so the
    # model table is emitted first with the ids of objects emitted after it (reserved here in emission order).
    next_id = 1

    def reserve() -> int:
        nonlocal next_id
        next_id += 1
        return next_id - 1

    opcodes_vec = reserve() if rewrite_opcodes else None
    opcode_table_ids = {slot: reserve() for slot, _, _ in new_opcode_tables}
    subgraphs_vec = reserve() if rewrite_subgraphs else None
    sg_table_ids = {si: reserve() for si in sorted(renamed_by_sg)}
    ops_vec_ids = {si: reserve() for si in sorted(renamed_by_sg)}
    op_table_ids = {(si, oi): reserve() for si in sorted(renamed_by_sg) for oi in sorted(renamed_by_sg[si])}
    buffers_vec = reserve() if rewrite_buffers else None
    buffer_table_ids = {b: reserve() for b in sorted(buffers_to_move)}
    string_ids = {slot: reserve() for slot, _, _ in new_opcode_tables}
    data_ids = {b: reserve() for b in sorted(buffers_to_move)}

    if rewrite_opcodes:
        model_fields[_MODEL_OPERATOR_CODES] = ("o", ("new", opcodes_vec))
    if rewrite_subgraphs:
        model_fields[_MODEL_SUBGRAPHS] = ("o", ("new", subgraphs_vec))
    if rewrite_buffers:
        model_fields[_MODEL_BUFFERS] = ("o", ("new", buffers_vec))
    ids = [w.table(model_fields)]

    if rewrite_opcodes:
        targets = [t if t is not None else ("new", opcode_table_ids[i]) for i, t in enumerate(opcode_targets)]
        ids.append(w.offset_vector(targets))
        for slot, _code, old_t in new_opcode_tables:
            f: dict[int, tuple[str, Any]] = {}
            if old_t is not None:
                f = _copy_fields(old_t, {0: "<b", 1: "o", 2: "<i", 3: "<i"}, "OperatorCode")
            f[_OPCODE_DEPRECATED] = ("<b", CUSTOM_OPCODE)
            f[_OPCODE_BUILTIN] = ("<i", CUSTOM_OPCODE)
            f[_OPCODE_VERSION] = ("<i", 1)
            f[_OPCODE_CUSTOM] = ("o", ("new", string_ids[slot]))
            ids.append(w.table(f))
    if rewrite_subgraphs:
        sg_targets = [("new", sg_table_ids[si]) if si in renamed_by_sg else ("old", sg.pos)
                      for si, sg in enumerate(m.subgraphs)]
        ids.append(w.offset_vector(sg_targets))
        for si in sorted(renamed_by_sg):
            f = _copy_fields(m.subgraphs[si], _SUBGRAPH_FIELDS, "SubGraph")
            f[_SUBGRAPH_OPERATORS] = ("o", ("new", ops_vec_ids[si]))
            ids.append(w.table(f))
        for si in sorted(renamed_by_sg):
            ops = m.subgraphs[si].tables(_SUBGRAPH_OPERATORS)
            ids.append(w.offset_vector([("new", op_table_ids[(si, oi)]) if oi in renamed_by_sg[si] else ("old", op.pos)
                                        for oi, op in enumerate(ops)]))
        for si in sorted(renamed_by_sg):
            ops = m.subgraphs[si].tables(_SUBGRAPH_OPERATORS)
            for oi in sorted(renamed_by_sg[si]):
                f = _copy_fields(ops[oi], _OPERATOR_FIELDS, "Operator")
                f[_OP_OPCODE_INDEX] = ("<I", renamed_by_sg[si][oi])
                ids.append(w.table(f))
    if rewrite_buffers:
        ids.append(w.offset_vector([("new", buffer_table_ids[b]) if b in buffers_to_move else ("old", bt.pos)
                                    for b, bt in enumerate(m.buffers)]))
        for b in sorted(buffers_to_move):
            ids.append(w.table({_BUFFER_DATA: ("o", ("new", data_ids[b]))}))
    for _slot, code, _ in new_opcode_tables:
        ids.append(w.string(code))
    for b in sorted(buffers_to_move):
        blob = m.buffers[b].blob(_BUFFER_DATA) or b""
        ids.append(w.bytes_vector(blob, ALIGNMENT))
    if ids != list(range(len(ids))) or len(ids) != next_id:
        raise RewriteError("internal error: object ids out of order")

    # shift absolute offsets by where the original ends up
    old_base = (w._abs() + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
    for p in absolute_fields:
        struct.pack_into("<Q", old, p, struct.unpack_from("<Q", old, p)[0] + old_base)
    out = w.finish(0, old)
    return RewriteResult(out, True, codes, io_shapes, renamed_nodes=len(renamed),
                         realigned_buffers=len(buffers_to_move), versions_fixed=len(bad_versions))


# ---------------------------------------------------------------------------------------------------- output copies
_TENSOR_FIELDS = {0: "o", 1: "<b", 2: "<I", 3: "o", 4: "o", 5: "<B", 6: "o", 7: "o", 8: "<B", 9: "o"}
_TENSOR_NAME = 3
_OP_BUILTIN_OPTIONS_TYPE, _OP_BUILTIN_OPTIONS = 3, 4
CONCATENATION_OPCODE = 2
_CONCATENATION_OPTIONS = 10  # BuiltinOptions.ConcatenationOptions
COPY_SUFFIX = "/litert_sdk_copy_source"


class _Emitter:
    """Emits a tree of new objects breadth first: each object's id is its emission index, and every reference
    points to an object emitted after its referrer (or into the original model), as flatbuffers require."""

    def __init__(self) -> None:
        self.w = _Writer()
        self.queue: list[tuple[str, Any]] = []

    def ref(self, kind: str, payload: Any) -> tuple[str, int]:
        """A reference to a new object ("table": fields, "vec": targets, "ints": int32 values, "str": text)."""
        self.queue.append((kind, payload))
        return ("new", len(self.queue) - 1)

    def run(self) -> None:
        i = 0
        while i < len(self.queue):
            kind, payload = self.queue[i]
            if kind == "table":
                oid = self.w.table({s: (k, v() if callable(v) else v) for s, (k, v) in payload.items()})
            elif kind == "vec":
                oid = self.w.offset_vector([t() if callable(t) else t for t in payload])
            elif kind == "ints":
                oid = self.w.int32_vector(payload)
            elif kind == "bytes":
                oid = self.w.bytes_vector(payload, 16)
            else:
                oid = self.w.string(payload)
            if oid != i:
                raise RewriteError("internal error: object ids out of order")
            i += 1


def add_output_copies(data: bytes, targets: dict[int, list[int]]) -> bytes:
    """The model with each target tensor (``{subgraph: [tensor, ...]}``) written by a single-input CONCATENATION
    (a copy) from a new tensor that its producer writes instead.

    The runtime cannot bind output buffers to some tensors: those whose producer is laid out during the run (a
    RESHAPE or FILL whose shape operand is computed) fail with ``subgraph.cc ... allocation_type`` from the second run
    on, after a first run that leaves the output unwritten. A copy's output is an ordinary arena tensor. Tensors
    without a producer in the subgraph are left alone.
    """
    m = _Model(data)
    concat_index = next((i for i in range(len(m.opcodes)) if m.opcode_info(i)[0] == CONCATENATION_OPCODE), None)
    add_opcode = concat_index is None
    if concat_index is None:
        concat_index = len(m.opcodes)
    e = _Emitter()
    old = bytearray(data)
    changed: dict[int, tuple[list[int], dict[int, int]]] = {}  # sg -> (operator order with copies, copy ops)
    for si, wanted in sorted(targets.items()):
        sg = m.subgraphs[si]
        ops = sg.tables(_SUBGRAPH_OPERATORS)
        producer = {}
        for oi, op in enumerate(ops):
            for t in op.ints(_OP_OUTPUTS) or ():
                producer[t] = oi
        wanted = sorted({t for t in wanted if t in producer})
        if wanted:
            changed[si] = (wanted, producer)  # type: ignore[assignment]
    if not changed:
        return bytes(data)

    def old_ref(t: _Table) -> tuple[str, int]:
        return ("old", t.pos)

    # Referrers are created before what they reference (ids are emission order; payloads are filled in later).
    model_fields = _copy_fields(m.root, _MODEL_FIELDS, "Model")
    e.ref("table", model_fields)
    if add_opcode:
        opcodes: list[Any] = [old_ref(t) for t in m.opcodes]
        model_fields[_MODEL_OPERATOR_CODES] = ("o", e.ref("vec", opcodes))
        opcodes.append(e.ref("table", {_OPCODE_DEPRECATED: ("<b", CONCATENATION_OPCODE), _OPCODE_VERSION: ("<i", 1),
                                       _OPCODE_BUILTIN: ("<i", CONCATENATION_OPCODE)}))
    sg_refs: list[Any] = []
    model_fields[_MODEL_SUBGRAPHS] = ("o", e.ref("vec", sg_refs))
    for si, sg in enumerate(m.subgraphs):
        if si not in changed:
            sg_refs.append(old_ref(sg))
            continue
        wanted, producer = changed[si]  # type: ignore[misc]
        tensors = sg.tables(_SUBGRAPH_TENSORS)
        ops = sg.tables(_SUBGRAPH_OPERATORS)
        sg_fields = _copy_fields(sg, _SUBGRAPH_FIELDS, "SubGraph")
        sg_refs.append(e.ref("table", sg_fields))
        tensor_refs: list[Any] = [old_ref(t) for t in tensors]
        sg_fields[_SUBGRAPH_TENSORS] = ("o", e.ref("vec", tensor_refs))
        op_refs: list[Any] = []
        sg_fields[_SUBGRAPH_OPERATORS] = ("o", e.ref("vec", op_refs))
        source = {t: len(tensors) + k for k, t in enumerate(wanted)}  # target -> new source tensor
        for t in wanted:
            f = _copy_fields(tensors[t], _TENSOR_FIELDS, "Tensor")
            tensor_refs.append(e.ref("table", f))
            name = tensors[t].string(_TENSOR_NAME) or f"tensor{t}"
            f[_TENSOR_NAME] = ("o", e.ref("str", name + COPY_SUFFIX))
        by_producer: dict[int, list[int]] = {}
        for t in wanted:
            by_producer.setdefault(producer[t], []).append(t)
        for oi, op in enumerate(ops):
            if oi not in by_producer:
                op_refs.append(old_ref(op))
                continue
            f = _copy_fields(op, _OPERATOR_FIELDS, "Operator")
            op_refs.append(e.ref("table", f))
            f[_OP_OUTPUTS] = ("o", e.ref("ints", [source.get(t, t) for t in op.ints(_OP_OUTPUTS) or ()]))
            for t in by_producer[oi]:
                c: dict[int, Any] = {_OP_OPCODE_INDEX: ("<I", concat_index),
                                     _OP_BUILTIN_OPTIONS_TYPE: ("<B", _CONCATENATION_OPTIONS)}
                op_refs.append(e.ref("table", c))
                c[_OP_INPUTS] = ("o", e.ref("ints", [source[t]]))
                c[_OP_OUTPUTS] = ("o", e.ref("ints", [t]))
                c[_OP_BUILTIN_OPTIONS] = ("o", e.ref("table", {0: ("<i", 0), 1: ("<b", 0)}))  # axis 0, no activation
    return _finish(e, m, old)


def _finish(e: _Emitter, m: _Model, old: bytearray) -> bytes:
    """Emits the new objects before the original model and moves the original's file offsets (external buffers,
    large custom options) by the length of what was added."""
    e.run()
    return finish_rewrite(m, e, old)


def finish_rewrite(m: _Model, e: _Emitter, old: bytearray) -> bytes:
    """The model file: the emitted objects (root = object 0), then the original bytes ``old`` with the absolute file
    offsets they hold (``Buffer.offset``, ``Operator.large_custom_options_offset``) shifted by the new region."""
    old_base = (e.w._abs() + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
    for bt in m.buffers:
        if bt.scalar(_BUFFER_OFFSET, "<Q", 0) > 1:
            p = bt.field_pos(_BUFFER_OFFSET)
            assert p is not None
            struct.pack_into("<Q", old, p, struct.unpack_from("<Q", old, p)[0] + old_base)
    for sg in m.subgraphs:
        for op in sg.tables(_SUBGRAPH_OPERATORS):
            if op.scalar(_OP_LARGE_OPTIONS_OFFSET, "<Q", 0) > 1:
                p = op.field_pos(_OP_LARGE_OPTIONS_OFFSET)
                assert p is not None
                struct.pack_into("<Q", old, p, struct.unpack_from("<Q", old, p)[0] + old_base)
    return e.w.finish(0, old)


def set_tensor_shapes(data: bytes, shapes: dict[tuple[int, int], list[int]]) -> bytes:
    """The model with the declared shape (and shape signature, where it has one) of each ``(subgraph, tensor)``
    replaced: TFLite recomputes the shapes of computed tensors in Prepare and takes the declared ones as hints, but
    parts of libLiteRt plan from the declared shapes, so the SDK hands it the computed ones."""
    if not shapes:
        return bytes(data)
    m = _Model(data)
    e = _Emitter()
    old = bytearray(data)
    model_fields = _copy_fields(m.root, _MODEL_FIELDS, "Model")
    e.ref("table", model_fields)
    sg_refs: list[Any] = []
    model_fields[_MODEL_SUBGRAPHS] = ("o", e.ref("vec", sg_refs))
    by_sg: dict[int, dict[int, list[int]]] = {}
    for (si, t), shape in shapes.items():
        by_sg.setdefault(si, {})[t] = list(shape)
    for si, sg in enumerate(m.subgraphs):
        if si not in by_sg:
            sg_refs.append(("old", sg.pos))
            continue
        tensors = sg.tables(_SUBGRAPH_TENSORS)
        sg_fields = _copy_fields(sg, _SUBGRAPH_FIELDS, "SubGraph")
        sg_refs.append(e.ref("table", sg_fields))
        tensor_refs: list[Any] = []
        sg_fields[_SUBGRAPH_TENSORS] = ("o", e.ref("vec", tensor_refs))
        for ti, t in enumerate(tensors):
            if ti not in by_sg[si]:
                tensor_refs.append(("old", t.pos))
                continue
            f = _copy_fields(t, _TENSOR_FIELDS, "Tensor")
            tensor_refs.append(e.ref("table", f))
            f[_TENSOR_SHAPE] = ("o", e.ref("ints", by_sg[si][ti]))
            if t.ints(_TENSOR_SHAPE_SIGNATURE) is not None:
                f[_TENSOR_SHAPE_SIGNATURE] = ("o", e.ref("ints", by_sg[si][ti]))
    return _finish(e, m, old)
