"""Fuzz harness for model loading: mutated .tflite bytes through Interpreter and CompiledModel, one run each.

Every input goes through the public SDK path (``Model.from_buffer`` -> verifier -> runtime load -> compile -> one
invoke). An input may be rejected, but only with a typed ``litert_sdk.errors`` exception: a crash of the process, a
hang or any other exception is a finding.

Two engines (see README.md):

* ``--engine atheris``: coverage-guided libFuzzer via atheris (Python coverage of the SDK and its verifier), with
  the structure-aware mutator below as its custom mutator. Crashes are written by libFuzzer (``-artifact_prefix``).
* ``--engine mutate`` (default): a deterministic, structure-aware mutation fuzzer. A worker process runs inputs
  ``i = start, start+1, ...``, each derived from ``(seed, i)`` alone; the parent watches it, and when the worker
  dies or hangs it regenerates the input in flight, saves it under ``crashes/`` and starts a new worker after it.

Mutations know the flatbuffer layout of each seed model (positions of soffsets, vtable entries, uoffsets, vector
lengths, scalar fields and index vectors, found by walking the seed with the TFLite schema), so most of them hit
the fields the runtime indexes with, not the weights.

Reproduce one input of a run: ``python fuzz_model.py --seed S --reproduce I --out crash.tflite``.
Run a saved file: ``python fuzz_model.py --run FILE`` (exit status 0 when the SDK rejects or runs it cleanly).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tflite_builder import SCHEMA, add_model, build_model  # noqa: E402

# Small, fast corpus models with distinct features (tried in this order of preference), and the weight of each.
DEFAULT_SEEDS = {
    "tflm__sine_float.tflite": 4,  # dynamic batch
    "litert-cli__dummy_cv_model.tflite": 3,  # signature, conv
    "microww__alexa.tflite": 3,  # 2 subgraphs, CALL_ONCE, resource variables, int8 quantization
    "oww__hey_rhasspy.tflite": 1,
    "oww__hey_jarvis.tflite": 1,  # IF with 3 subgraphs, BOOL tensors
    "oww__melspectrogram.tflite": 1,  # dynamic [-1, -1] input
    "mp-py__hand_recrop.tflite": 1,
}
BUILTIN_SEED_WEIGHT = 4  # tflite_builder.add_model()
MAX_RUN_BYTES = 16 << 20  # inputs whose largest tensor is bigger are only loaded, not compiled and run


# ---- layout of a seed model --------------------------------------------------------------------------------------
@dataclass
class Layout:
    """Byte positions of the flatbuffer's structural fields and of its index-like scalars."""

    soffsets: list[int] = field(default_factory=list)
    vtable_sizes: list[int] = field(default_factory=list)  # position of vtable size (object size follows)
    voffsets: list[int] = field(default_factory=list)
    uoffsets: list[int] = field(default_factory=list)
    veclens: list[int] = field(default_factory=list)
    scalars: list[tuple[int, int]] = field(default_factory=list)  # (pos, size)
    indices: list[int] = field(default_factory=list)  # int32 elements of index/shape vectors and u32 index fields
    where: dict[int, str] = field(default_factory=dict)  # position -> "Table.field" (for debugging findings)
    # semantic positions (see semantic_mutation)
    scales: list[int] = field(default_factory=list)  # float32 QuantizationParameters.scale elements
    zero_points: list[int] = field(default_factory=list)  # int64 QuantizationParameters.zero_point elements
    options: list[tuple[int, int]] = field(default_factory=list)  # (pos, size) of builtin options scalars
    options_types: list[int] = field(default_factory=list)  # Operator.builtin_options_type bytes
    shapes: list[list[int]] = field(default_factory=list)  # element positions of each Tensor.shape
    opcodes: list[tuple[int | None, int | None]] = field(default_factory=list)  # (deprecated i8, builtin i32)


_INDEX_VECTORS = {("SubGraph", "inputs"), ("SubGraph", "outputs"), ("Operator", "inputs"), ("Operator", "outputs"),
                  ("Operator", "intermediates"), ("Tensor", "shape"), ("Tensor", "shape_signature"),
                  ("Model", "metadata_buffer"), ("SparsityParameters", "traversal_order"),
                  ("SparsityParameters", "block_map"), ("Int32Vector", "values"), ("VariantSubType", "shape")}
_SIZES = {"i8": 1, "u8": 1, "bool": 1, "i16": 2, "i32": 4, "u32": 4, "i64": 8, "u64": 8, "f32": 4}


def scan_layout(data: bytes) -> Layout:
    """Walks a valid model with the TFLite schema and records where its fields are."""
    lay = Layout()
    n = len(data)
    u16 = lambda p: struct.unpack_from("<H", data, p)[0]  # noqa: E731
    u32 = lambda p: struct.unpack_from("<I", data, p)[0]  # noqa: E731
    i32 = lambda p: struct.unpack_from("<i", data, p)[0]  # noqa: E731
    seen: set[int] = set()
    opcode_fields: dict[int, dict[str, int]] = {}

    def table(pos: int, name: str, depth: int = 0) -> None:
        if pos in seen or depth > 10 or not 0 < pos < n - 4:
            return
        seen.add(pos)
        lay.soffsets.append(pos)
        vt = pos - i32(pos)
        if not 0 <= vt < n - 4:
            return
        lay.vtable_sizes.append(vt)
        vtsize = u16(vt)
        fields = SCHEMA.get(name, {})
        for slot in range((vtsize - 4) // 2):
            vpos = vt + 4 + 2 * slot
            if vpos + 2 > n:
                break
            lay.voffsets.append(vpos)
            off = u16(vpos)
            if not off:
                continue
            fp = pos + off
            kind = next((k for s, k in fields.values() if s == slot), None)
            fname = next((f for f, (s, _) in fields.items() if s == slot), None)
            lay.where[fp] = f"{name}.{fname or slot}"
            if kind is None:  # options tables and unknown fields: scalars (or offsets) of unknown size
                lay.scalars.append((fp, 4 if fp % 4 == 0 else 1))
                if name == "Options":
                    lay.options.append((fp, 4 if fp % 4 == 0 else 1))
                continue
            if kind in _SIZES:
                lay.scalars.append((fp, _SIZES[kind]))
                if (name, fname) == ("Operator", "builtin_options_type"):
                    lay.options_types.append(fp)
                elif name == "OperatorCode" and fname in ("deprecated_builtin_code", "builtin_code"):
                    opcode_fields.setdefault(pos, {})[fname] = fp
                if kind == "u32" and fname in ("buffer", "opcode_index", "tensor_index", "subgraph_index"):
                    lay.indices.append(fp)
                continue
            lay.uoffsets.append(fp)
            tgt = fp + u32(fp)
            if not 0 < tgt < n - 4:
                continue
            if kind.startswith("table:"):
                sub = kind[6:]
                table(tgt, "Options" if sub == "Options" else sub, depth + 1)
            elif kind == "str" or kind.startswith("vec:"):
                lay.veclens.append(tgt)
                count = u32(tgt)
                if kind.startswith("vec:table:"):
                    for j in range(min(count, 100_000)):
                        ep = tgt + 4 + 4 * j
                        if ep + 4 > n:
                            break
                        lay.uoffsets.append(ep)
                        table(ep + u32(ep), kind[10:], depth + 1)
                elif (name, fname) == ("QuantizationParameters", "scale"):
                    lay.scales.extend(tgt + 4 + 4 * j for j in range(min(count, 10_000)))
                elif (name, fname) == ("QuantizationParameters", "zero_point"):
                    lay.zero_points.extend(tgt + 4 + 8 * j for j in range(min(count, 10_000)))
                elif (name, fname) in _INDEX_VECTORS:
                    lay.indices.extend(tgt + 4 + 4 * j for j in range(min(count, 10_000)))
                    if (name, fname) == ("Tensor", "shape") and count:
                        lay.shapes.append([tgt + 4 + 4 * j for j in range(min(count, 8))])
                    for j in range(min(count, 10_000)):
                        lay.where[tgt + 4 + 4 * j] = f"{name}.{fname}[{j}]"

    if n >= 8:
        table(u32(0), "Model")
    lay.opcodes = [(f.get("deprecated_builtin_code"), f.get("builtin_code")) for _, f in sorted(opcode_fields.items())]
    lay.shapes = [list(x) for x in sorted({tuple(v) for v in lay.shapes})]
    # shared vtables are met once per table: keep each position once so that mutations are spread evenly
    for name in ("soffsets", "vtable_sizes", "voffsets", "uoffsets", "veclens", "indices", "scales", "zero_points",
                 "options_types"):
        setattr(lay, name, sorted(set(getattr(lay, name))))
    lay.scalars = sorted(set(lay.scalars))
    lay.options = sorted(set(lay.options))
    return lay


# ---- mutations -------------------------------------------------------------------------------------------------
_INTERESTING_32 = [0, 1, 2, 3, 4, 7, 8, 16, 64, 255, 256, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                   0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFF0, 0x40000000, 0x3FFFFFFF, 1000, 100000]
_INTERESTING_16 = [0, 1, 2, 3, 4, 6, 8, 0x7FFF, 0x8000, 0xFFFF, 0xFFFE, 0x100, 0x1000]
_INTERESTING_8 = [0, 1, 2, 0x7F, 0x80, 0xFF, 0xFE, 16, 32, 118, 119, 129]


def _put(buf: bytearray, pos: int, size: int, value: int) -> None:
    if 0 <= pos and pos + size <= len(buf):
        buf[pos: pos + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def _get(buf: bytearray, pos: int, size: int) -> int:
    if 0 <= pos and pos + size <= len(buf):
        return int.from_bytes(buf[pos: pos + size], "little")
    return 0


def _value(rng: random.Random, old: int, size: int, table: list[int]) -> int:
    r = rng.random()
    if r < 0.45:
        return rng.choice(table)
    if r < 0.8:
        return old + rng.choice([-4, -3, -2, -1, 1, 2, 3, 4, 8, -8, 16, 64, -64])
    if r < 0.9:
        return -rng.randint(1, 3)
    return rng.getrandbits(8 * size)


# Semantic mutations: values that keep the model well-formed but change what the kernels compute with.
# Scales: extremes, powers of two and the ratios at which requantization multipliers leave their range.
_SCALE_FACTORS = [2.0**k for k in (-40, -31, -24, -20, -19, -15, -14, -12, -8, -1, 1, 8, 12, 14, 19, 20, 24, 31)]
_SCALES = [1e-45, 1.2e-38, 1e-30, 1e-10, 2.0**-19, 2.0**-14, 1e-6, 0.5, 1.0, 255.0, 1e10, 3.0e38]
_OPTION_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -2, 0x7F, 0xFF, 1 << 15, 1 << 20, 0x7FFFFFFF, -0x80000000]
_DIMS = [0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 4096, 1 << 20, -1]
# Builtin operator codes grouped by how many operands they take, so a swapped code keeps the operand count.
_OPCODE_GROUPS = [
    [0, 18, 41, 42, 55, 57, 78, 90, 95, 99, 58, 61, 62, 63, 71, 72, 84, 86, 144, 152, 156, 160, 161],  # binary
    [14, 19, 20, 21, 25, 28, 47, 59, 66, 73, 75, 76, 87, 92, 93, 98, 101, 104, 108, 111, 114, 116, 117, 124, 150,
     158, 6, 8, 53, 114],  # unary
    [3, 4, 9, 67, 132],  # convolution-like: input, filter, bias
    [22, 34, 36, 39, 40, 69, 70, 74, 81, 82, 89, 91, 107, 130, 140, 65, 45],  # data + shape/index operand
    [2, 83, 106],  # any number of inputs
]


def semantic_mutation(buf: bytearray, lay: Layout, rng: random.Random) -> bool:
    """One semantic mutation (quantization parameters, option values, operand shapes, operator codes); False when
    the seed has nothing of the chosen kind."""
    kind = rng.choices(["scale", "zero_point", "option", "options_type", "shape", "opcode"], [4, 2, 4, 1, 4, 3])[0]
    if kind == "scale" and lay.scales:
        p = rng.choice(lay.scales)
        old = struct.unpack_from("<f", buf, p)[0] if p + 4 <= len(buf) else 1.0
        new = rng.choice(_SCALES) if rng.random() < 0.4 else old * rng.choice(_SCALE_FACTORS)
        if rng.random() < 0.1:
            new = -new
        if p + 4 <= len(buf):  # an earlier stacked mutation may have truncated the buffer
            struct.pack_into("<f", buf, p, max(-3.4e38, min(3.4e38, new)))
    elif kind == "zero_point" and lay.zero_points:
        p = rng.choice(lay.zero_points)
        _put(buf, p, 8, rng.choice([0, 1, -1, 127, -128, 128, 255, 256, 32767, -32768, 1 << 31]))
    elif kind == "option" and lay.options:
        p, size = rng.choice(lay.options)
        old = _get(buf, p, size)
        _put(buf, p, size, rng.choice(_OPTION_VALUES + [old + 1, old - 1, old * 2]))
    elif kind == "options_type" and lay.options_types:
        _put(buf, rng.choice(lay.options_types), 1, rng.randrange(0, 130))
    elif kind == "shape" and lay.shapes:
        dims = rng.choice(lay.shapes)
        r = rng.random()
        if r < 0.3 and len(dims) > 1:  # swap two dimensions
            a, b = rng.sample(dims, 2)
            va, vb = _get(buf, a, 4), _get(buf, b, 4)
            _put(buf, a, 4, vb)
            _put(buf, b, 4, va)
        elif r < 0.6:  # scale one dimension
            p = rng.choice(dims)
            old = _get(buf, p, 4)
            _put(buf, p, 4, rng.choice([old * 2, max(old // 2, 0), old + 1, max(old - 1, 0), old * 1024]))
        else:  # copy another tensor's dimension, or an interesting one
            p = rng.choice(dims)
            other = rng.choice(rng.choice(lay.shapes))
            _put(buf, p, 4, _get(buf, other, 4) if rng.random() < 0.5 else rng.choice(_DIMS))
    elif kind == "opcode" and lay.opcodes:
        dep, builtin = rng.choice(lay.opcodes)
        old = max(_get(buf, dep, 1) if dep is not None else 0, _get(buf, builtin, 4) if builtin is not None else 0)
        group = next((g for g in _OPCODE_GROUPS if old in g), None) or rng.choice(_OPCODE_GROUPS)
        new = rng.choice(group) if rng.random() < 0.85 else rng.randrange(0, 207)
        if dep is not None:
            _put(buf, dep, 1, min(new, 127))
        if builtin is not None:
            _put(buf, builtin, 4, new)
    else:
        return False
    return True


def mutate(data: bytes, layout: Layout | None, rng: random.Random) -> bytes:
    """One to four stacked mutations of ``data`` (structure-aware when ``layout`` is given)."""
    buf = bytearray(data)
    for _ in range(1 + int(rng.random() ** 2 * 4)):
        if not buf:
            break
        choice = rng.random()
        n = len(buf)
        lay = layout
        if lay is not None and choice < 0.35:
            if semantic_mutation(buf, lay, rng):
                continue
        if lay is not None and choice < 0.75:
            kind = rng.choices(["uoffset", "veclen", "index", "scalar", "soffset", "vtable", "voffset"],
                               [3, 3, 6, 3, 1, 1, 2])[0]
            if kind == "uoffset" and lay.uoffsets:
                p = rng.choice(lay.uoffsets)
                _put(buf, p, 4, _value(rng, _get(buf, p, 4), 4, _INTERESTING_32 + [n, n - 4, n + 4]))
            elif kind == "veclen" and lay.veclens:
                p = rng.choice(lay.veclens)
                old = _get(buf, p, 4)
                _put(buf, p, 4, rng.choice([old + 1, old * 2, 0, old - 1, 0x3FFFFFFF, 0xFFFFFFFF, n, n // 4,
                                            _value(rng, old, 4, _INTERESTING_32)]))
            elif kind == "index" and lay.indices:
                p = rng.choice(lay.indices)
                _put(buf, p, 4, _value(rng, _get(buf, p, 4), 4, _INTERESTING_32 + [-1, -2]))
            elif kind == "scalar" and lay.scalars:
                p, size = rng.choice(lay.scalars)
                table = {1: _INTERESTING_8, 2: _INTERESTING_16}.get(size, _INTERESTING_32)
                _put(buf, p, size, _value(rng, _get(buf, p, size), size, table))
            elif kind == "soffset" and lay.soffsets:
                p = rng.choice(lay.soffsets)
                _put(buf, p, 4, _value(rng, _get(buf, p, 4), 4, _INTERESTING_32 + [n, -n]))
            elif kind == "vtable" and lay.vtable_sizes:
                p = rng.choice(lay.vtable_sizes) + rng.choice([0, 2])
                _put(buf, p, 2, _value(rng, _get(buf, p, 2), 2, _INTERESTING_16))
            elif lay.voffsets:
                p = rng.choice(lay.voffsets)
                _put(buf, p, 2, _value(rng, _get(buf, p, 2), 2, _INTERESTING_16))
            continue
        choice = rng.random()
        if choice < 0.3:  # bit flip
            p = rng.randrange(n)
            buf[p] ^= 1 << rng.randrange(8)
        elif choice < 0.5:  # interesting byte / word
            size = rng.choice([1, 2, 4])
            p = rng.randrange(max(1, n - size))
            _put(buf, p, size, rng.choice({1: _INTERESTING_8, 2: _INTERESTING_16, 4: _INTERESTING_32}[size]))
        elif choice < 0.65:  # truncate
            del buf[rng.randrange(n):]
        elif choice < 0.75:  # overwrite a run of random bytes
            p = rng.randrange(n)
            ln = rng.randint(1, 16)
            buf[p: p + ln] = bytes(rng.getrandbits(8) for _ in range(min(ln, n - p)))
        elif choice < 0.85:  # copy a chunk over another place
            a, b = rng.randrange(n), rng.randrange(n)
            ln = rng.randint(1, 64)
            chunk = bytes(buf[a: a + ln])
            buf[b: b + len(chunk)] = chunk
        elif choice < 0.93:  # insert / delete a few bytes (shifts everything after it)
            p = rng.randrange(n)
            if rng.random() < 0.5:
                buf[p:p] = bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 2, 4, 8])))
            else:
                del buf[p: p + rng.choice([1, 2, 4, 8])]
        else:  # aligned word set to a buffer-relative value
            p = rng.randrange(0, max(1, n - 4), 4)
            _put(buf, p, 4, rng.choice([n, n - p, p, (n - p) + 4, 0x7FFFFFFF]))
    return bytes(buf)


# ---- the target --------------------------------------------------------------------------------------------------
def _zeros(shape: Any, dtype: Any) -> Any:
    import numpy as np

    shape = [max(0, int(s)) for s in shape]
    return np.zeros(shape, dtype)


def _fill(shape: Any, dtype: Any, mode: int) -> Any:
    """Input values of one run (semantic mutation of the inputs, chosen by ``mode``, from the input's hash): zeros
    (half the time), ones, -1, the type's minimum (or -inf), its maximum (or NaN), and alternating min / -1 (the
    integer division trap)."""
    import numpy as np

    a = _zeros(shape, dtype)
    kind = np.dtype(dtype).kind
    if mode < 4 or kind not in "iuf" or not a.size:
        return a
    if kind == "f":
        value = {4: 1.0, 5: -1.0, 6: -np.inf, 7: np.nan}[mode]
        a[...] = value
        return a
    info = np.iinfo(a.dtype)
    value = {4: 1, 5: -1 if kind == "i" else info.max, 6: info.min, 7: info.max}[mode]
    a[...] = value
    if mode == 6 and kind == "i":
        a.reshape(-1)[1::2] = -1
    return a


def run_one(data: bytes) -> str:
    """Runs one input through the SDK; returns "rejected", "ran" or "skipped". Other exceptions are findings."""
    import numpy as np

    import litert_sdk
    from litert_sdk import errors
    from litert_sdk._verifier import _stats

    try:
        model = litert_sdk.Model.from_buffer(data)  # verifies, then the runtime loads it
        if max(_largest_tensor(model), _stats(data).max_tensor_bytes) > MAX_RUN_BYTES:
            return "skipped"  # valid, but only stresses allocation
        options = litert_sdk.Options(cpu=litert_sdk.CpuOptions(num_threads=1))
        mode = hashlib.sha1(data).digest()[0] % 8
        interp = litert_sdk.Interpreter(model_content=data, options=options)
        try:
            interp.get_input_details()
            interp.get_output_details()
            interp.get_signature_list()
            interp.allocate_tensors()
            for d in interp.get_input_details():
                if np.dtype(d["dtype"]).kind not in "biufc":
                    continue
                interp.set_tensor(d["index"], _fill(d["shape"], d["dtype"], mode))
            interp.invoke()
            for d in interp.get_output_details():
                interp.get_tensor(d["index"])
        finally:
            interp.close()
        cm = litert_sdk.CompiledModel(model, options)
        try:
            sig = cm.signature()
            feed = {}
            for name, spec in sig.inputs:
                if spec.dtype is None:
                    raise errors.UnsupportedError("input without numpy dtype")
                feed[name] = _fill(cm.input_shape(name), spec.dtype, mode)
            cm.run(feed)
        finally:
            cm.close()
        return "ran"
    except errors.LiteRtError:
        return "rejected"


def _largest_tensor(model: Any) -> int:
    """Bytes of the largest tensor with a static shape (dynamic dims counted as 1)."""
    import math

    largest = 0
    for sg in model.subgraphs:
        for t in sg.tensors.values():
            if t.shape is not None and t.dtype is not None:
                largest = max(largest, math.prod(max(1, d) for d in t.shape) * t.dtype.itemsize)
    return largest


def run_raw(data: bytes) -> str:
    """Like :func:`run_one` but without the SDK's verifier: what the runtime alone does with the bytes."""
    import numpy as np

    from litert_sdk import _runtime, errors
    from litert_sdk.options import CpuOptions, Options

    native = _runtime.native()
    env = _runtime.default_environment()
    try:
        m = native.Model.from_buffer(env._native, data)
        d = m.describe()
        cm = native.CompiledModel(m, Options(cpu=CpuOptions(num_threads=1)).to_native())
        for s in range(cm.num_signatures):
            arrays = []
            for j, (_, t) in enumerate(d["signatures"][s]["inputs"]):
                shape = cm.input_shape(s, j)
                from litert_sdk._types import numpy_dtype

                dt = numpy_dtype(int(t["element_type"]))
                if dt is None:
                    raise errors.UnsupportedError("no dtype")
                arrays.append(np.zeros([max(0, int(x)) for x in shape], dt))
            cm.run(s, arrays, True)
        cm.close()
        return "ran"
    except errors.LiteRtError:
        return "rejected"


# ---- seeds -------------------------------------------------------------------------------------------------------
def corpus_dir() -> Path | None:
    env = os.environ.get("LITERT_SDK_MODELS")
    candidates = [Path(env)] if env else []
    if len(HERE.parents) > 2:
        candidates.append(HERE.parents[2] / ".cache" / "models")
    return next((c for c in candidates if c.is_dir()), None)


def load_seeds(names: list[str] | None = None) -> list[tuple[str, bytes, int]]:
    """(name, bytes, weight) of the seed models: the built-in ADD model and the corpus models found."""
    seeds = [("builtin_add", build_model(add_model()), BUILTIN_SEED_WEIGHT)]
    corpus = corpus_dir()
    wanted = DEFAULT_SEEDS if names is None else {n: 1 for n in names}
    if corpus is not None:
        for name, weight in wanted.items():
            p = corpus / name
            if p.is_file():
                seeds.append((name, p.read_bytes(), weight))
    extra = HERE / "seeds"
    if names is None and extra.is_dir():
        for p in sorted(extra.glob("*.tflite")):
            seeds.append((p.name, p.read_bytes(), 1))
    return seeds


class Generator:
    """Input ``i`` of a run with seed ``seed``: a deterministic mutation of a weighted choice of seed model."""

    def __init__(self, seed: int, seed_names: list[str] | None = None) -> None:
        self.seed = seed
        self.seeds = load_seeds(seed_names)
        self.layouts = [scan_layout(data) for _, data, _ in self.seeds]
        self.weights = [w for _, _, w in self.seeds]

    def __call__(self, i: int) -> tuple[str, bytes]:
        rng = random.Random(f"{self.seed}:{i}")
        k = rng.choices(range(len(self.seeds)), self.weights)[0]
        name, data, _ = self.seeds[k]
        if rng.random() < 0.02:
            return name, data  # the unmutated seed now and then: it must keep running
        lay = self.layouts[k] if rng.random() < 0.9 else None
        return name, mutate(data, lay, rng)


# ---- the mutation engine -----------------------------------------------------------------------------------------
def _save(out_dir: Path, prefix: str, data: bytes, note: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()[:16]
    path = out_dir / f"{prefix}-{digest}.tflite"
    path.write_bytes(data)
    path.with_suffix(".txt").write_text(note)
    return path


def limit_memory(megabytes: int) -> None:
    """Caps this process's address space, so that an input whose tensors the kernels grow to gigabytes fails with
    an allocation error in the worker instead of taking the machine's memory (Linux; ignored elsewhere)."""
    if megabytes <= 0 or "asan" in os.environ.get("LD_PRELOAD", "") or os.environ.get("LITERT_SDK_SANITIZER"):
        return  # AddressSanitizer reserves terabytes of address space for its shadow memory
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))
    except (ImportError, ValueError, OSError):
        pass


def _worker(seed: int, start: int, stop: int, raw: bool, seed_names: list[str] | None, current: Any,
            counters: Any, findings: Any, memory_mb: int = 0) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    limit_memory(memory_mb)
    gen = Generator(seed, seed_names)
    target = run_raw if raw else run_one
    for i in range(start, stop):
        current.value = i
        name, data = gen(i)
        try:
            outcome = target(data)
        except Exception as e:  # noqa: BLE001 - an untyped exception is a finding
            findings.put((i, name, "exception", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
            outcome = "exception"
        slot = {"rejected": 0, "ran": 1, "skipped": 2, "exception": 3}[outcome]
        with counters.get_lock():
            counters[slot] += 1
    current.value = stop


def fuzz(seed: int, runs: int, start: int = 0, out_dir: Path = HERE / "crashes", timeout: float = 120.0,
         raw: bool = False, seed_names: list[str] | None = None, restart_every: int = 20000,
         progress: float = 60.0, log: Any = None, memory_mb: int = 3072) -> dict[str, Any]:
    """Runs inputs ``start .. start+runs`` of ``seed`` in a watched worker process; returns counts and findings."""
    ctx = mp.get_context("spawn")
    counters = ctx.Array("q", 4)
    current = ctx.Value("q", start)
    findings = ctx.Queue()
    t0 = time.time()
    stop = start + runs
    worker: list[Any] = []

    def stop_worker(signum: int, frame: Any) -> None:  # SIGTERM: take the worker down too
        for w in worker:
            if w.is_alive():
                w.kill()
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop_worker)
    try:
        return _campaign(ctx, seed, start, stop, raw, seed_names, restart_every, progress, log, memory_mb, timeout,
                         out_dir, counters, current, findings, worker, t0)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _campaign(ctx: Any, seed: int, start: int, stop: int, raw: bool, seed_names: list[str] | None,
              restart_every: int, progress: float, log: Any, memory_mb: int, timeout: float, out_dir: Path,
              counters: Any, current: Any, findings: Any, worker: list[Any], t0: float) -> dict[str, Any]:
    gen: Generator | None = None
    crashes: list[dict[str, Any]] = []
    exceptions: list[dict[str, Any]] = []
    last_report = t0
    i = start
    runs = stop - start

    def drain() -> None:
        nonlocal gen
        while True:
            try:
                idx, name, kind, note = findings.get_nowait()
            except Exception:  # noqa: BLE001 - queue empty
                return
            gen = gen or Generator(seed, seed_names)
            _, data = gen(idx)
            path = _save(out_dir, "exception", data, f"seed={seed} index={idx} base={name}\n{note}")
            exceptions.append({"index": idx, "base": name, "file": str(path), "error": note.splitlines()[0]})

    while i < stop:
        chunk_stop = min(stop, i + restart_every)
        current.value = i
        proc = ctx.Process(target=_worker, daemon=True,
                           args=(seed, i, chunk_stop, raw, seed_names, current, counters, findings, memory_mb))
        proc.start()
        worker[:] = [proc]
        last_index, last_change = current.value, time.time()
        while proc.is_alive():
            proc.join(0.5)
            drain()
            now = time.time()
            if current.value != last_index:
                last_index, last_change = current.value, now
            elif now - last_change > timeout and proc.is_alive():
                proc.kill()
                proc.join()
                break
            if log is not None and now - last_report > progress:
                last_report = now
                done = sum(counters[:])
                print(f"[{now - t0:8.0f}s] {done} execs ({done / (now - t0):.0f}/s), rejected {counters[0]}, "
                      f"ran {counters[1]}, skipped {counters[2]}, exceptions {counters[3]}, crashes {len(crashes)}",
                      file=log, flush=True)
        drain()
        if proc.exitcode == 0 and current.value >= chunk_stop:
            i = chunk_stop
            continue
        if proc.exitcode is not None and proc.exitcode > 0:
            raise RuntimeError(f"the fuzz worker failed (exit code {proc.exitcode}); see its traceback above")
        # the worker died (signal / abort) or hung on input `current`
        idx = current.value
        gen = gen or Generator(seed, seed_names)
        name, data = gen(idx)
        kind = "timeout" if proc.exitcode in (None, -9) else "crash"
        path = _save(out_dir, kind, data, f"seed={seed} index={idx} base={name} exitcode={proc.exitcode}\n")
        # Does it crash on its own? If not, an earlier input of this worker corrupted memory without crashing:
        # `--replay-from` reruns the worker's inputs from its start to find it.
        alone = _reproduces_alone(path, raw, timeout)
        path.with_suffix(".txt").write_text(
            f"seed={seed} index={idx} base={name} exitcode={proc.exitcode} alone={alone} worker_start={i}\n")
        crashes.append({"index": idx, "base": name, "kind": kind, "exitcode": proc.exitcode, "file": str(path),
                        "reproduces_alone": alone, "worker_start": i})
        if log is not None:
            print(f"!! {kind} at input {idx} (base {name}, exit code {proc.exitcode}) saved to {path}",
                  file=log, flush=True)
        with counters.get_lock():
            counters[1] += 1
        i = idx + 1
    elapsed = time.time() - t0
    return {"seed": seed, "start": start, "runs": runs, "execs": sum(counters[:]), "rejected": counters[0],
            "ran": counters[1], "skipped": counters[2], "exceptions": exceptions, "crashes": crashes,
            "seconds": round(elapsed, 1)}


def _reproduces_alone(path: Path, raw: bool, timeout: float) -> bool:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", str(path)] + (["--raw"] if raw else [])
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return True
    return proc.returncode != 0


def replay(seed: int, start: int, stop: int, raw: bool = False, seed_names: list[str] | None = None) -> None:
    """Runs inputs ``start .. stop-1`` in this process, printing each index first (finds delayed crashes)."""
    gen = Generator(seed, seed_names)
    target = run_raw if raw else run_one
    for i in range(start, stop):
        name, data = gen(i)
        print(i, name, end=" ", flush=True)
        try:
            print(target(data), flush=True)
        except Exception as e:  # noqa: BLE001
            print(f"exception {type(e).__name__}: {e}", flush=True)


# ---- reproducers -------------------------------------------------------------------------------------------------
# A reproducer is a small JSON file: the seed model it was derived from (a corpus name, or "builtin_add"), that
# model's sha256, and the edits (difflib opcodes) that turn it into the crashing input. No model bytes are stored,
# so reproducers of licence-restricted corpus models can be kept in the repository.
def make_reproducer(data: bytes, base: str, note: str = "") -> dict[str, Any]:
    import numpy as np

    seeds = {name: d for name, d, _ in load_seeds([base] if base != "builtin_add" else [])}
    orig = seeds[base]
    edits: list[list[Any]] = []
    if len(orig) == len(data):  # byte changes only: runs of differing bytes
        a, b = np.frombuffer(orig, np.uint8), np.frombuffer(data, np.uint8)
        diff = np.flatnonzero(a != b).tolist()
        for p in diff:
            if edits and edits[-1][1] == p:
                edits[-1][1] = p + 1
            else:
                edits.append([p, p + 1])
        edits = [[i1, i2, data[i1:i2].hex()] for i1, i2 in edits]
    else:  # an insertion/deletion/truncation: common prefix and suffix, the middle replaced
        pre = 0
        while pre < min(len(orig), len(data)) and orig[pre] == data[pre]:
            pre += 1
        suf = 0
        while suf < min(len(orig), len(data)) - pre and orig[-1 - suf] == data[-1 - suf]:
            suf += 1
        edits = [[pre, len(orig) - suf, data[pre: len(data) - suf].hex()]]
    return {"base": base, "base_sha256": hashlib.sha256(orig).hexdigest(), "length": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "edits": edits, "note": note}


def load_reproducer(path: Path) -> bytes | None:
    """The input a reproducer describes, or None when its seed model is not available here."""
    import json

    rep = json.loads(Path(path).read_text())
    seeds = {name: d for name, d, _ in load_seeds([rep["base"]] if rep["base"] != "builtin_add" else [])}
    orig = seeds.get(rep["base"])
    if orig is None or hashlib.sha256(orig).hexdigest() != rep["base_sha256"]:
        return None
    out = bytearray()
    pos = 0
    for i1, i2, new in rep["edits"]:
        out += orig[pos:i1] + bytes.fromhex(new)
        pos = i2
    out += orig[pos:]
    data = bytes(out)
    if hashlib.sha256(data).hexdigest() != rep["sha256"]:
        raise ValueError(f"{path}: rebuilt input does not match its sha256")
    return data


# ---- atheris -------------------------------------------------------------------------------------------------------
def atheris_main(argv: list[str], seed_names: list[str] | None) -> None:
    import atheris

    with atheris.instrument_imports(include=["litert_sdk"]):
        import litert_sdk  # noqa: F401
        import litert_sdk._verifier  # noqa: F401
        import litert_sdk.compiled_model  # noqa: F401
        import litert_sdk.interpreter  # noqa: F401
        import litert_sdk.model  # noqa: F401

    seeds = load_seeds(seed_names)
    layouts = {hashlib.sha1(d).digest(): scan_layout(d) for _, d, _ in seeds}
    seed_data = [d for _, d, _ in seeds]

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        r = rng.random()
        if r < 0.1 or len(data) < 8:
            data = rng.choice(seed_data)
        lay = layouts.get(hashlib.sha1(data).digest())
        if lay is None and rng.random() < 0.5:
            return atheris.Mutate(data, max(max_size, len(data)))
        return mutate(data, lay, rng)[: max(max_size, 8)]

    def test_one_input(data: bytes) -> None:
        run_one(data)

    atheris.Setup(argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


# ---- command line ------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=["mutate", "atheris"], default="mutate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=10000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one input may take before it is a hang")
    ap.add_argument("--raw", action="store_true", help="bypass the SDK's verifier (explore the runtime itself)")
    ap.add_argument("--models", nargs="*", help="corpus model names to use as seeds (default: a built-in set)")
    ap.add_argument("--out", type=Path, default=None, help="crash directory, or the file for --reproduce")
    ap.add_argument("--reproduce", type=int, default=None, help="write input N of --seed to --out")
    ap.add_argument("--run", type=Path, nargs="*", default=None,
                    help="run saved inputs (.tflite) or reproducers (.json) in this process, one line each")
    ap.add_argument("--save-reproducer", type=Path, default=None,
                    help="turn a saved input into a JSON reproducer (edits against its seed model) in --out")
    ap.add_argument("--base", default=None, help="seed model of --save-reproducer (default: from its .txt note)")
    ap.add_argument("--replay-from", type=int, default=None,
                    help="run inputs REPLAY_FROM .. --reproduce of --seed in one process (delayed crashes)")
    ap.add_argument("--progress", type=float, default=60.0)
    ap.add_argument("--memory-mb", type=int, default=3072,
                    help="address-space cap of the worker (and of --run) in MiB; 0 for none")
    ap.add_argument("--write-seeds", type=Path, default=None, help="write the seed models into a folder (atheris)")
    args, rest = ap.parse_known_args(argv)

    if args.run:
        limit_memory(args.memory_mb)
        for path in args.run:
            data = load_reproducer(path) if path.suffix == ".json" else path.read_bytes()
            if data is None:
                print(f"{path.name}: skipped (seed model not available)", flush=True)
                continue
            print(f"{path.name}: {(run_raw if args.raw else run_one)(data)}", flush=True)
        return 0
    if args.save_reproducer is not None:
        import json

        note_file = args.save_reproducer.with_suffix(".txt")
        note = note_file.read_text() if note_file.is_file() else ""
        base = args.base or re.search(r"base=(\S+)", note).group(1)  # type: ignore[union-attr]
        rep = make_reproducer(args.save_reproducer.read_bytes(), base, note.strip())
        out = args.out or HERE / "crashes" / (args.save_reproducer.stem + ".json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rep, indent=1) + "\n")
        print(f"reproducer written to {out}")
        return 0
    if args.replay_from is not None:
        replay(args.seed, args.replay_from, (args.reproduce or args.replay_from) + 1, args.raw, args.models)
        return 0
    if args.reproduce is not None:
        name, data = Generator(args.seed, args.models)(args.reproduce)
        out = args.out or Path(f"input-{args.seed}-{args.reproduce}.tflite")
        out.write_bytes(data)
        print(f"input {args.reproduce} of seed {args.seed} (base {name}) written to {out}")
        return 0
    if args.write_seeds is not None:
        args.write_seeds.mkdir(parents=True, exist_ok=True)
        for name, data, _ in load_seeds(args.models):
            (args.write_seeds / (name if name.endswith(".tflite") else name + ".tflite")).write_bytes(data)
        return 0
    if args.engine == "atheris":
        atheris_main([sys.argv[0]] + rest, args.models)
        return 0
    result = fuzz(args.seed, args.runs, args.start, args.out or HERE / "crashes", args.timeout, args.raw,
                  args.models, progress=args.progress, log=sys.stderr, memory_mb=args.memory_mb)
    import json

    print(json.dumps(result, indent=2))
    return 1 if result["crashes"] or result["exceptions"] else 0


if __name__ == "__main__":
    sys.exit(main())
