"""A minimal TFLite flatbuffer writer for custom-op test models (one subgraph, custom ops, constant buffers).

Written with the ``flatbuffers`` Builder from the public TFLite schema's field ids; only what the tests need:
Model{version 0, operator_codes 1, subgraphs 2, description 3, buffers 4}, SubGraph{tensors 0, inputs 1, outputs 2,
operators 3, name 4}, Tensor{shape 0, type 1, buffer 2, name 3}, Operator{opcode_index 0, inputs 1, outputs 2,
custom_options 5}, OperatorCode{deprecated_builtin_code 0, custom_code 1, version 2, builtin_code 3}, Buffer{data 0}.
(The module name matches the custom-op test glob; it holds helpers and one self-check.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np

CUSTOM = 32
_TYPES = {np.dtype(np.float32): 0, np.dtype(np.int32): 2}


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: type = np.float32
    data: np.ndarray | None = None  # constant


@dataclass
class Op:
    code: str
    inputs: list[int]
    outputs: list[int]
    options: bytes = b""
    version: int = 1


@dataclass
class Graph:
    tensors: list[Tensor] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)

    def tensor(self, name: str, shape: tuple[int, ...], dtype: type = np.float32,
               data: np.ndarray | None = None) -> int:
        self.tensors.append(Tensor(name, tuple(shape), dtype, data))
        return len(self.tensors) - 1


def _vector(b: flatbuffers.Builder, items: list[int], prepend) -> int:
    b.StartVector(4, len(items), 4)
    for v in reversed(items):
        prepend(v)
    return b.EndVector()


def build(graph: Graph, *, data_pad: int = 0) -> bytes:
    """Serialize ``graph``; ``data_pad`` extra bytes after each constant shift where its data lands."""
    b = flatbuffers.Builder(1024)
    # buffers: 0 is the empty sentinel, then one per constant tensor
    buffer_data: list[bytes | None] = [None]
    tensor_buffer: list[int] = []
    for t in graph.tensors:
        if t.data is not None:
            buffer_data.append(np.ascontiguousarray(t.data, dtype=t.dtype).tobytes())
            tensor_buffer.append(len(buffer_data) - 1)
        else:
            tensor_buffer.append(0)
    buffer_offsets = []
    for data in buffer_data:
        if data is None:
            b.StartObject(3)
            buffer_offsets.append(b.EndObject())
            continue
        if data_pad:
            b.Pad(data_pad)
        vec = b.CreateByteVector(data)
        b.StartObject(3)
        b.PrependUOffsetTRelativeSlot(0, vec, 0)
        buffer_offsets.append(b.EndObject())
    codes: list[tuple[str, int]] = []
    for op in graph.ops:
        if (op.code, op.version) not in codes:
            codes.append((op.code, op.version))
    code_offsets = []
    for name, version in codes:
        s = b.CreateString(name)
        b.StartObject(4)
        b.PrependInt8Slot(0, CUSTOM, 0)
        b.PrependUOffsetTRelativeSlot(1, s, 0)
        b.PrependInt32Slot(2, version, 1)
        b.PrependInt32Slot(3, CUSTOM, 0)
        code_offsets.append(b.EndObject())
    tensor_offsets = []
    for t, buf in zip(graph.tensors, tensor_buffer, strict=False):
        name = b.CreateString(t.name)
        shape = _vector(b, list(t.shape), b.PrependInt32)
        b.StartObject(8)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, _TYPES[np.dtype(t.dtype)], 0)
        b.PrependUint32Slot(2, buf, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        tensor_offsets.append(b.EndObject())
    op_offsets = []
    for op in graph.ops:
        ins = _vector(b, op.inputs, b.PrependInt32)
        outs = _vector(b, op.outputs, b.PrependInt32)
        opts = b.CreateByteVector(op.options) if op.options else None
        b.StartObject(6)
        b.PrependUint32Slot(0, codes.index((op.code, op.version)), 0)
        b.PrependUOffsetTRelativeSlot(1, ins, 0)
        b.PrependUOffsetTRelativeSlot(2, outs, 0)
        if opts is not None:
            b.PrependUOffsetTRelativeSlot(5, opts, 0)
        op_offsets.append(b.EndObject())
    t_vec = _vector(b, tensor_offsets, b.PrependUOffsetTRelative)
    in_vec = _vector(b, graph.inputs, b.PrependInt32)
    out_vec = _vector(b, graph.outputs, b.PrependInt32)
    op_vec = _vector(b, op_offsets, b.PrependUOffsetTRelative)
    sg_name = b.CreateString("main")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, t_vec, 0)
    b.PrependUOffsetTRelativeSlot(1, in_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, out_vec, 0)
    b.PrependUOffsetTRelativeSlot(3, op_vec, 0)
    b.PrependUOffsetTRelativeSlot(4, sg_name, 0)
    sg = b.EndObject()
    sg_vec = _vector(b, [sg], b.PrependUOffsetTRelative)
    codes_vec = _vector(b, code_offsets, b.PrependUOffsetTRelative)
    buf_vec = _vector(b, buffer_offsets, b.PrependUOffsetTRelative)
    desc = b.CreateString("litert-sdk custom-op test model")
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, codes_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, sg_vec, 0)
    b.PrependUOffsetTRelativeSlot(3, desc, 0)
    b.PrependUOffsetTRelativeSlot(4, buf_vec, 0)
    model = b.EndObject()
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


def single_op_model(code: str, inputs: list[tuple[str, tuple[int, ...]] | tuple[str, tuple[int, ...], np.ndarray]],
                    outputs: list[tuple[str, tuple[int, ...]]], options: bytes = b"", version: int = 1) -> bytes:
    """A model made of one custom op: graph inputs are the non-constant inputs, graph outputs all outputs."""
    g = Graph()
    ins = []
    for spec in inputs:
        if len(spec) == 3:
            name, shape, data = spec  # type: ignore[misc]
            ins.append(g.tensor(name, shape, data.dtype.type, data))
        else:
            name, shape = spec  # type: ignore[misc]
            t = g.tensor(name, shape)
            g.inputs.append(t)
            ins.append(t)
    outs = [g.tensor(n, s) for n, s in outputs]
    g.outputs = outs
    g.ops.append(Op(code, ins, outs, options, version))
    return build(g)


def test_builder_makes_a_loadable_model() -> None:
    from litert_sdk import Model

    data = single_op_model("Foo", [("x", (2, 3))], [("y", (2, 3))], b"\x01\x02")
    m = Model.from_buffer(data)
    assert m.custom_op_codes() == ["Foo"]
    op = m.subgraphs[0].ops[0]
    assert op.custom_options == b"\x01\x02"
