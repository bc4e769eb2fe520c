"""The fuzzer's semantic mutations (sdk/python/fuzz/fuzz_model.py) find the fields they mean to change and change
only those, keeping the model well-formed where the new value allows it."""

from __future__ import annotations

import random
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
import fuzz_model  # noqa: E402
from kernel_rule_models import conv, quantized_binary  # noqa: E402


def _changed(a: bytes, b: bytes) -> list[int]:
    return [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]


def test_layout_finds_semantic_fields() -> None:
    data = quantized_binary("ADD", "int8", 0.5, 0.25, 0.125, options=(11, {0: ("i8", 0), 1: ("bool", True)}))
    lay = fuzz_model.scan_layout(data)
    assert sorted(struct.unpack_from("<f", data, p)[0] for p in lay.scales) == [0.125, 0.25, 0.5]
    assert [struct.unpack_from("<q", data, p)[0] for p in lay.zero_points] == [0, 0, 0]
    assert len(lay.opcodes) == 1 and lay.opcodes[0][0] is not None and lay.opcodes[0][1] is not None
    assert len(lay.options) == 2 and len(lay.options_types) == 1
    assert [[struct.unpack_from("<i", data, p)[0] for p in dims] for dims in lay.shapes] == [[1, 4]] * 3


def test_each_kind_changes_only_its_fields() -> None:
    data = conv("CONV_2D", "int8", 8, 8)
    lay = fuzz_model.scan_layout(data)
    allowed = {
        "scale": {p + k for p in lay.scales for k in range(4)},
        "zero_point": {p + k for p in lay.zero_points for k in range(8)},
        "option": {p + k for p, size in lay.options for k in range(size)},
        "options_type": set(lay.options_types),
        "shape": {p + k for dims in lay.shapes for p in dims for k in range(4)},
        "opcode": {p + k for dep, b in lay.opcodes for p, size in ((dep, 1), (b, 4)) if p is not None
                   for k in range(size)},
    }
    seen = set()
    everything = set().union(*allowed.values())
    for i in range(400):
        buf = bytearray(data)
        assert fuzz_model.semantic_mutation(buf, lay, random.Random(i))
        diff = set(_changed(data, bytes(buf)))
        assert len(buf) == len(data) and diff <= everything, (i, sorted(diff - everything))
        for kind, positions in allowed.items():
            if diff and diff <= positions:
                seen.add(kind)
    assert seen == set(allowed), seen


def test_opcode_swaps_keep_the_operand_count_group() -> None:
    data = quantized_binary("ADD", "int8", 1.0, 1.0, 1.0)
    lay = fuzz_model.scan_layout(data)
    dep, builtin = lay.opcodes[0]
    binary = set(fuzz_model._OPCODE_GROUPS[0])
    codes = []
    for i in range(300):
        buf = bytearray(data)
        rng = random.Random(i)
        while True:
            state = rng.getstate()
            if rng.choices(["scale", "zero_point", "option", "options_type", "shape", "opcode"],
                           [4, 2, 4, 1, 4, 3])[0] == "opcode":
                rng.setstate(state)
                break
        fuzz_model.semantic_mutation(buf, lay, rng)
        code = struct.unpack_from("<i", buf, builtin)[0]
        assert buf[dep] == min(code, 127)
        codes.append(code)
    in_group = np.mean([c in binary for c in codes])
    assert 0.75 < in_group < 1.0, in_group  # 85% from the group, the rest any code


def test_input_values_include_the_traps() -> None:
    a = fuzz_model._fill([4], np.int32, 6)
    assert a.tolist() == [-2**31, -1, -2**31, -1]
    assert np.isnan(fuzz_model._fill([2], np.float32, 7)).all()
    assert fuzz_model._fill([3], np.int8, 0).tolist() == [0, 0, 0]
    assert fuzz_model._fill([2], np.uint8, 5).tolist() == [255, 255]
