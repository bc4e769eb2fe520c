"""Models that break (or just meet) a kernel rule of litert_sdk._kernel_rules, and a child-process runner that shows
what the peer runtime and the SDK do with them (a crash kills only the child)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from tflite_builder import build_model  # noqa: E402

# TFLite schema values used to build the models (BuiltinOperator, TensorType, BuiltinOptions).
OPS = {"ADD": 0, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4, "FULLY_CONNECTED": 9, "MUL": 18, "SUB": 41, "DIV": 42,
       "TRANSPOSE_CONV": 67, "FLOOR_DIV": 90, "FLOOR_MOD": 95, "SQUARED_DIFFERENCE": 99}
TYPES = {"float32": 0, "int32": 2, "uint8": 3, "int64": 4, "int16": 7, "int8": 9}
CONV_OPTIONS = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 8, "TRANSPOSE_CONV": 49}


def _model(op: str, tensors: list[dict[str, Any]], buffers: list[dict[str, Any]], inputs: list[int],
           op_inputs: list[int], out: int, options: tuple[int, dict[int, Any]] | None = None) -> bytes:
    operator: dict[str, Any] = {"opcode_index": 0, "inputs": op_inputs, "outputs": [out]}
    if options is not None:
        operator["builtin_options_type"], operator["builtin_options"] = options
    tensors = [{k: v for k, v in t.items() if v is not None} for t in tensors]
    return build_model({
        "version": 3,
        "operator_codes": [{"deprecated_builtin_code": OPS[op], "builtin_code": OPS[op], "version": 1}],
        "subgraphs": [{"tensors": tensors, "inputs": inputs, "outputs": [out], "operators": [operator]}],
        "buffers": buffers,
    })


def quantized_binary(op: str, dtype: str, s1: float, s2: float, so: float,
                     options: tuple[int, dict[int, Any]] | None = None) -> bytes:
    """``y = op(a, b)``: a, b inputs and y output of type ``dtype`` [1, 4] with the given scales."""
    zp = 128 if dtype == "uint8" else 0
    tensors = [{"shape": [1, 4], "type": TYPES[dtype], "buffer": i + 1, "name": name,
                "quantization": {"scale": [s], "zero_point": [zp]}}
               for i, (name, s) in enumerate((("a", s1), ("b", s2), ("y", so)))]
    return _model(op, tensors, [{}, {}, {}, {}], [0, 1], [0, 1], 2, options)


def conv(op: str, dtype: str, channels: int, bias_len: int) -> bytes:
    """A 1x1 convolution-like operator from one input channel to ``channels`` channels, all-zero filter and bias
    (of ``bias_len`` values), input x of shape [1, 1, 1, 1] ([1, 1] for FULLY_CONNECTED)."""
    npt = np.float32 if dtype == "float32" else np.int8
    q = (lambda s: {"scale": [s], "zero_point": [0]}) if dtype == "int8" else (lambda s: None)
    w_shape = {"CONV_2D": [channels, 1, 1, 1], "DEPTHWISE_CONV_2D": [1, 1, 1, channels],
               "TRANSPOSE_CONV": [channels, 1, 1, 1], "FULLY_CONNECTED": [channels, 1]}[op]
    x_shape, y_shape = ([1, 1], [1, channels]) if op == "FULLY_CONNECTED" else ([1, 1, 1, 1], [1, 1, 1, channels])
    tensors = [
        {"shape": x_shape, "type": TYPES[dtype], "buffer": 1, "name": "x", "quantization": q(0.5)},
        {"shape": w_shape, "type": TYPES[dtype], "buffer": 2, "name": "w", "quantization": q(0.5)},
        {"shape": [bias_len], "type": TYPES["float32" if dtype == "float32" else "int32"], "buffer": 3,
         "name": "bias", "quantization": q(0.25)},
        {"shape": y_shape, "type": TYPES[dtype], "buffer": 4, "name": "y", "quantization": q(0.5)},
    ]
    bias_t = np.float32 if dtype == "float32" else np.int32
    buffers: list[dict[str, Any]] = [{}, {}, {"data": np.zeros(w_shape, npt).tobytes()},
                                     {"data": np.zeros([bias_len], bias_t).tobytes()}, {}]
    stride = {0: ("i8", 1), 1: ("i32", 1), 2: ("i32", 1)}  # VALID padding, stride 1
    if op == "TRANSPOSE_CONV":
        tensors.append({"shape": [4], "type": TYPES["int32"], "buffer": 5, "name": "output_shape"})
        buffers.append({"data": np.array(y_shape, np.int32).tobytes()})
        return _model(op, tensors, buffers, [0], [4, 1, 0, 2], 3, (CONV_OPTIONS[op], stride))
    options = {"CONV_2D": stride, "DEPTHWISE_CONV_2D": {**stride, 3: ("i32", channels)}, "FULLY_CONNECTED": {}}[op]
    return _model(op, tensors, buffers, [0], [0, 1, 2], 3, (CONV_OPTIONS[op], options))


def integer_division(op: str, dtype: str, divisor: list[int] | None = None,
                     dividend: list[int] | None = None) -> bytes:
    """``z = op(x, y)`` on ``dtype`` [4]; x and y are inputs unless given as constants."""
    npt = np.int32 if dtype == "int32" else np.int64
    tensors = [{"shape": [4], "type": TYPES[dtype], "buffer": i + 1, "name": n} for i, n in enumerate("xyz")]
    buffers: list[dict[str, Any]] = [{}, {}, {}, {}]
    inputs = []
    for k, const in enumerate((dividend, divisor)):
        if const is None:
            inputs.append(k)
        else:
            buffers[k + 1] = {"data": np.array(const, npt).tobytes()}
    return _model(op, tensors, buffers, inputs, [0, 1], 2)


CHILD = r"""
import sys, numpy as np
path, who = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
feeds = [np.asarray(eval(a)) for a in sys.argv[3:]]
if who == "peer":
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_content=data)
    it.allocate_tensors()
    for k, d in enumerate(it.get_input_details()):
        it.set_tensor(d["index"], feeds[k].astype(d["dtype"]) if k < len(feeds) else np.zeros(d["shape"], d["dtype"]))
    it.invoke()
    y = it.get_tensor(it.get_output_details()[0]["index"])
    print("ran", int(np.count_nonzero(y)), y.size, y.ravel()[:8].tolist(), flush=True)
else:
    import litert_sdk
    from litert_sdk import errors
    dtypes = []
    for api in ("Interpreter", "CompiledModel"):
        try:
            if api == "Interpreter":
                it = litert_sdk.Interpreter(model_content=data)
                it.allocate_tensors()
                dtypes = [d["dtype"] for d in it.get_input_details()]
                for k, d in enumerate(it.get_input_details()):
                    it.set_tensor(d["index"], feeds[k].astype(d["dtype"]) if k < len(feeds)
                                  else np.zeros(d["shape"], d["dtype"]))
                it.invoke()
                y = it.get_tensor(it.get_output_details()[0]["index"])
            else:
                cm = litert_sdk.CompiledModel.from_buffer(data)
                y = cm.run([f.astype(t) for f, t in zip(feeds, dtypes)])[0] if feeds else None
            print(api, "ran", None if y is None else y.ravel()[:8].tolist(), flush=True)
        except errors.LiteRtError as e:
            print(api, type(e).__name__, str(e).replace(chr(10), " "), flush=True)
"""


def run_child(tmp_path: Path, data: bytes, who: str, *feeds: str,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Runs the model in a fresh interpreter: ``who`` is ``"peer"`` (ai-edge-litert) or ``"sdk"`` (litert_sdk)."""
    path = tmp_path / f"model-{who}.tflite"
    path.write_bytes(data)
    return subprocess.run([sys.executable, "-c", CHILD, str(path), who, *feeds], capture_output=True, text=True,
                          timeout=timeout)


def computed_floor_mod(dtype: str) -> bytes:
    """``z = FLOOR_MOD(x + y, y)``: the dividend is computed by an ADD, so no input check can bound it."""
    t = TYPES[dtype]
    tensors = [{"shape": [4], "type": t, "buffer": i + 1, "name": n} for i, n in enumerate(("x", "y", "s", "z"))]
    return build_model({
        "version": 3,
        "operator_codes": [{"deprecated_builtin_code": OPS["ADD"], "builtin_code": OPS["ADD"], "version": 1},
                           {"deprecated_builtin_code": OPS["FLOOR_MOD"], "builtin_code": OPS["FLOOR_MOD"],
                            "version": 1}],
        "subgraphs": [{"tensors": tensors, "inputs": [0, 1], "outputs": [3], "operators": [
            {"opcode_index": 0, "inputs": [0, 1], "outputs": [2]},
            {"opcode_index": 1, "inputs": [2, 1], "outputs": [3]}]}],
        "buffers": [{}, {}, {}, {}, {}],
    })


def split(options_type: int | None) -> bytes:
    """``y = SPLIT(axis=1, x)`` into one piece, x float32 [1, 3]; options of union type ``options_type`` whose
    field 0 is 1 (num_splits for SplitOptions = 35, axis for ConcatenationOptions = 10), or none."""
    tensors = [{"shape": [], "type": TYPES["int32"], "buffer": 1, "name": "axis"},
               {"shape": [1, 3], "type": TYPES["float32"], "buffer": 2, "name": "x"},
               {"shape": [1, 3], "type": TYPES["float32"], "buffer": 3, "name": "y"}]
    buffers: list[dict[str, Any]] = [{}, {"data": np.int32(1).tobytes()}, {}, {}]
    options = None if options_type is None else (options_type, {0: ("i32", 1)})
    operator: dict[str, Any] = {"opcode_index": 0, "inputs": [0, 1], "outputs": [2]}
    if options is not None:
        operator["builtin_options_type"], operator["builtin_options"] = options
    return build_model({
        "version": 3, "operator_codes": [{"deprecated_builtin_code": 49, "builtin_code": 49, "version": 1}],
        "subgraphs": [{"tensors": tensors, "inputs": [1], "outputs": [2], "operators": [operator]}],
        "buffers": buffers})


COMPARISONS = {"LESS": 58, "GREATER": 61, "GREATER_EQUAL": 62, "LESS_EQUAL": 63, "EQUAL": 71, "NOT_EQUAL": 72}


def comparison(op: str, dtype: str, s1: float | None, s2: float | None) -> bytes:
    """``y = op(a, b)``: a, b inputs of ``dtype`` [1, 4] with scales s1, s2 (None: no quantization), y bool."""
    zp = 128 if dtype == "uint8" else 0
    tensors: list[dict[str, Any]] = [
        {"shape": [1, 4], "type": TYPES[dtype], "buffer": i + 1, "name": name,
         "quantization": None if s is None else {"scale": [s], "zero_point": [zp]}}
        for i, (name, s) in enumerate((("a", s1), ("b", s2)))]
    tensors.append({"shape": [1, 4], "type": 6, "buffer": 3, "name": "y"})  # BOOL
    code = COMPARISONS[op]
    tensors = [{k: v for k, v in t.items() if v is not None} for t in tensors]
    return build_model({
        "version": 3, "operator_codes": [{"deprecated_builtin_code": code, "builtin_code": code, "version": 1}],
        "subgraphs": [{"tensors": tensors, "inputs": [0, 1], "outputs": [2],
                       "operators": [{"opcode_index": 0, "inputs": [0, 1], "outputs": [2]}]}],
        "buffers": [{}, {}, {}, {}]})


def atan2(x_shape: list[int], c_shape: list[int]) -> bytes:
    """``y = ATAN2(x, c)``: x float32 input, c a float32 constant of ones, y declared with x's shape."""
    tensors = [{"shape": x_shape, "type": TYPES["float32"], "buffer": 1, "name": "x"},
               {"shape": c_shape, "type": TYPES["float32"], "buffer": 2, "name": "c"},
               {"shape": x_shape, "type": TYPES["float32"], "buffer": 3, "name": "y"}]
    return build_model({
        "version": 3, "operator_codes": [{"deprecated_builtin_code": 127, "builtin_code": 156, "version": 1}],
        "subgraphs": [{"tensors": tensors, "inputs": [0], "outputs": [2],
                       "operators": [{"opcode_index": 0, "inputs": [0, 1], "outputs": [2]}]}],
        "buffers": [{}, {}, {"data": np.ones(c_shape, np.float32).tobytes()}, {}]})


# Under ci/sanitizers.sh (LITERT_SDK_SANITIZER=asan) the children run with ASan preloaded: its handler turns a deadly
# signal into an abort, and its allocator lays the heap out differently (an out-of-bounds read may not fault).
SANITIZED = bool(os.environ.get("LITERT_SDK_SANITIZER"))


def died_of(proc: subprocess.CompletedProcess[str], sig: int) -> bool:
    """The child died of ``sig`` (under ASan: of SIGABRT, which its handler turns deadly signals into)."""
    return proc.returncode == -sig or (SANITIZED and proc.returncode == -signal.SIGABRT)
