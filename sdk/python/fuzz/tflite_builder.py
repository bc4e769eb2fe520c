"""A tiny TFLite flatbuffer writer for tests and fuzz seeds: models described as plain dicts.

Field slots follow the public TFLite schema (``schema.fbs``). Values are written exactly as given (negative
dimensions, out-of-range indices...), so tests can build precisely the invalid model they need::

    model = build_model({
        "version": 3,
        "operator_codes": [{"builtin_code": 0}],                       # ADD
        "subgraphs": [{"tensors": [...], "inputs": [0, 1], "outputs": [2], "operators": [...]}],
        "buffers": [{}, {"data": b"..."}],
    })

:func:`add_model` returns the description of a small valid model (``y = x + c`` with a constant ``c``) that tests
mutate one field at a time.
"""

from __future__ import annotations

import copy
from typing import Any

import flatbuffers
import numpy as np

__all__ = ["build_model", "add_model", "SCHEMA"]

# table -> field name -> (slot, kind). Kinds: scalar kinds (i8 u8 bool i16 i32 u32 i64 u64 f32), "str",
# "vec:<scalar kind>", "table:<Table>", "vec:table:<Table>".
SCHEMA: dict[str, dict[str, tuple[int, str]]] = {
    "Model": {"version": (0, "u32"), "operator_codes": (1, "vec:table:OperatorCode"),
              "subgraphs": (2, "vec:table:SubGraph"), "description": (3, "str"), "buffers": (4, "vec:table:Buffer"),
              "metadata_buffer": (5, "vec:i32"), "metadata": (6, "vec:table:Metadata"),
              "signature_defs": (7, "vec:table:SignatureDef")},
    "OperatorCode": {"deprecated_builtin_code": (0, "i8"), "custom_code": (1, "str"), "version": (2, "i32"),
                     "builtin_code": (3, "i32")},
    "SubGraph": {"tensors": (0, "vec:table:Tensor"), "inputs": (1, "vec:i32"), "outputs": (2, "vec:i32"),
                 "operators": (3, "vec:table:Operator"), "name": (4, "str")},
    "Tensor": {"shape": (0, "vec:i32"), "type": (1, "i8"), "buffer": (2, "u32"), "name": (3, "str"),
               "quantization": (4, "table:QuantizationParameters"), "is_variable": (5, "bool"),
               "sparsity": (6, "table:SparsityParameters"), "shape_signature": (7, "vec:i32"),
               "has_rank": (8, "bool"), "variant_tensors": (9, "vec:table:VariantSubType")},
    "QuantizationParameters": {"min": (0, "vec:f32"), "max": (1, "vec:f32"), "scale": (2, "vec:f32"),
                               "zero_point": (3, "vec:i64"), "details_type": (4, "u8"),
                               "details": (5, "table:CustomQuantization"), "quantized_dimension": (6, "i32")},
    "CustomQuantization": {"custom": (0, "vec:u8")},
    "SparsityParameters": {"traversal_order": (0, "vec:i32"), "block_map": (1, "vec:i32"),
                           "dim_metadata": (2, "vec:table:DimensionMetadata")},
    "DimensionMetadata": {"format": (0, "i8"), "dense_size": (1, "i32"), "array_segments_type": (2, "u8"),
                          "array_segments": (3, "table:Int32Vector"), "array_indices_type": (4, "u8"),
                          "array_indices": (5, "table:Int32Vector")},
    "Int32Vector": {"values": (0, "vec:i32")},
    "VariantSubType": {"shape": (0, "vec:i32"), "type": (1, "i8"), "has_rank": (2, "bool")},
    "Operator": {"opcode_index": (0, "u32"), "inputs": (1, "vec:i32"), "outputs": (2, "vec:i32"),
                 "builtin_options_type": (3, "u8"), "builtin_options": (4, "table:Options"),
                 "custom_options": (5, "vec:u8"), "custom_options_format": (6, "i8"),
                 "mutating_variable_inputs": (7, "vec:bool"), "intermediates": (8, "vec:i32"),
                 "large_custom_options_offset": (9, "u64"), "large_custom_options_size": (10, "u64"),
                 "builtin_options_2_type": (11, "u8"), "builtin_options_2": (12, "table:Options")},
    # Options tables are given as {slot: (kind, value)} since their layout depends on the union type.
    "Buffer": {"data": (0, "vec:u8"), "offset": (1, "u64"), "size": (2, "u64")},
    "Metadata": {"name": (0, "str"), "buffer": (1, "u32")},
    "TensorMap": {"name": (0, "str"), "tensor_index": (1, "u32")},
    "SignatureDef": {"inputs": (0, "vec:table:TensorMap"), "outputs": (1, "vec:table:TensorMap"),
                     "signature_key": (2, "str"), "subgraph_index": (4, "u32")},
}

_SCALARS = {
    "i8": ("PrependInt8", "PrependInt8Slot", 1), "u8": ("PrependUint8", "PrependUint8Slot", 1),
    "bool": ("PrependBool", "PrependBoolSlot", 1), "i16": ("PrependInt16", "PrependInt16Slot", 2),
    "i32": ("PrependInt32", "PrependInt32Slot", 4), "u32": ("PrependUint32", "PrependUint32Slot", 4),
    "i64": ("PrependInt64", "PrependInt64Slot", 8), "u64": ("PrependUint64", "PrependUint64Slot", 8),
    "f32": ("PrependFloat32", "PrependFloat32Slot", 4),
}


def _vector(b: flatbuffers.Builder, kind: str, values: Any) -> int:
    if kind == "u8" and isinstance(values, (bytes, bytearray)):
        # 16-byte alignment, as the TFLite writer does for buffer data
        b.StartVector(1, len(values), 16)
        b.head = b.head - len(values)
        b.Bytes[b.head: b.head + len(values)] = values
        return b.EndVector()
    prepend, _, size = _SCALARS[kind]
    values = list(values)
    b.StartVector(size, len(values), size)
    for v in reversed(values):
        getattr(b, prepend)(v)
    return b.EndVector()


def _table(b: flatbuffers.Builder, table: str, obj: dict[str, Any]) -> int:
    if table == "Options":
        fields = {f"slot{slot}": (slot, kind) for slot, (kind, _) in obj.items()}
        obj = {f"slot{slot}": value for slot, (_, value) in obj.items()}
    else:
        fields = SCHEMA[table]
    unknown = set(obj) - set(fields)
    if unknown:
        raise KeyError(f"{table} has no field(s) {sorted(unknown)}")
    # children first (flatbuffers are built bottom-up)
    offsets: dict[str, int] = {}
    for name, value in obj.items():
        slot, kind = fields[name]
        if value is None or kind in _SCALARS:
            continue
        if kind == "str":
            offsets[name] = b.CreateString(value)
        elif kind.startswith("vec:table:"):
            children = [_table(b, kind[len("vec:table:"):], v) for v in value]
            b.StartVector(4, len(children), 4)
            for c in reversed(children):
                b.PrependUOffsetTRelative(c)
            offsets[name] = b.EndVector()
        elif kind.startswith("vec:"):
            offsets[name] = _vector(b, kind[4:], value)
        elif kind.startswith("table:"):
            offsets[name] = _table(b, kind[len("table:"):], value)
    b.StartObject(max((s for s, _ in fields.values()), default=-1) + 1)
    for name, value in obj.items():
        slot, kind = fields[name]
        if value is None:
            continue
        if kind in _SCALARS:
            _, prepend_slot, _ = _SCALARS[kind]
            # force the value to be written even when it equals the schema default
            getattr(b, prepend_slot)(slot, value, None)
        else:
            b.PrependUOffsetTRelativeSlot(slot, offsets[name], 0)
    return b.EndObject()


def build_model(desc: dict[str, Any], file_identifier: bytes = b"TFL3") -> bytes:
    """Serialises a model description (see :data:`SCHEMA` for the field names) to TFLite flatbuffer bytes."""
    b = flatbuffers.Builder(1024)
    root = _table(b, "Model", desc)
    b.Finish(root, file_identifier=file_identifier)
    return bytes(b.Output())


_ADD_CONSTANT = np.array([1.0, 2.0, 3.0, 4.0], np.float32)


def add_model() -> dict[str, Any]:
    """``y = x + c``: x float32[1, 4] input, c a float32[1, 4] constant (1, 2, 3, 4), one ADD, one signature."""
    return copy.deepcopy({
        "version": 3,
        "description": "litert-sdk test model",
        "operator_codes": [{"deprecated_builtin_code": 0, "builtin_code": 0, "version": 1}],
        "subgraphs": [{
            "name": "main",
            "tensors": [
                {"shape": [1, 4], "type": 0, "buffer": 1, "name": "x"},
                {"shape": [1, 4], "type": 0, "buffer": 2, "name": "c"},
                {"shape": [1, 4], "type": 0, "buffer": 3, "name": "y"},
            ],
            "inputs": [0],
            "outputs": [2],
            "operators": [{"opcode_index": 0, "inputs": [0, 1], "outputs": [2],
                           "builtin_options_type": 11, "builtin_options": {0: ("i8", 0)}}],  # AddOptions
        }],
        "buffers": [{}, {}, {"data": _ADD_CONSTANT.tobytes()}, {}],
        "signature_defs": [{"signature_key": "serving_default", "subgraph_index": 0,
                            "inputs": [{"name": "x", "tensor_index": 0}],
                            "outputs": [{"name": "y", "tensor_index": 2}]}],
    })


ADD_CONSTANT = _ADD_CONSTANT
