#!/usr/bin/env python3
"""Generate the small .tflite test models and their TensorFlow reference outputs.

The SDK's tests compare the runtime's results against the ``.npz`` files written
here, so CI never needs TensorFlow.  This script is the only place TensorFlow is
used; it is not imported by the SDK or by the tests.

Regenerate (needs ``tensorflow-cpu==2.21.0``, ``numpy`` and, for the sanity check,
``ai-edge-litert==2.3.0``; nothing from ``litert_sdk`` is imported)::

    python sdk/python/tests/models/make_models.py

Everything is written next to this file (``NAME.tflite``, ``NAME.npz`` and
``manifest.json``).  All randomness uses fixed seeds and the ``.npz`` archives
are written with fixed zip timestamps, so a rerun with the same package
versions reproduces the files byte for byte.

Models
------
multi_signature
    ``tf.Module`` with two signatures, converted with
    ``TFLiteConverter.from_concrete_functions([...], module)``:

    * ``add(b, a)`` -> ``{"sum": a + b, "difference": a - b}``;
      ``a`` is float32[2,3], ``b`` is float32[3] (broadcast).  The Python
      argument order is (b, a).  The converter sorts the SignatureDef's
      inputs/outputs by name -- (a, b) and (difference, sum), which is also
      what ai-edge-litert's Interpreter reports -- while the subgraph keeps
      Python order for inputs, (b, a), and (sum, difference) for outputs, and
      LiteRT's CompiledModel (C API) reports that subgraph order.  Never rely
      on positions; the manifest records every order.
    * ``project(x)`` -> ``{"y": x @ W + bias}``; x float32[1,4], W/bias constant.

int8_quant
    Keras conv net 16x16x3 -> Conv2D(8, 3x3) -> ReLU -> MaxPool 2x2 ->
    Flatten -> Dense(4), fully integer quantized (int8 in/out, per-channel
    conv/dense weights) with a seeded representative data set; converted
    with ``from_keras_model`` (``from_concrete_functions`` would keep Keras 3
    weights as resource variables).
    Keys: ``serving_default/in/x`` and ``serving_default/out/logits`` are the
    int8 tensors (output from TF's own ``tf.lite.Interpreter``);
    ``serving_default/float_in/x`` is the dequantized int8 input and
    ``serving_default/float_out/logits`` the float Keras model's output for it.

dynamic_batch
    Keras ``Input((None, 8))`` -> Dense(3, softmax); the input's
    shape_signature is [-1, 8].  Reference cases for batch 1, 4 and 7.

dtypes
    One signature per dtype, named after the dtype (``float32``, ``int8`` ...),
    each with input ``x`` (shape [2,3]) and output ``y``, using one cheap
    builtin op that keeps the dtype (see ``DTYPE_CASES``; ADD/MUL need Flex for
    float16/float64/int8/uint8/uint16/uint64, so those use CAST, GATHER or
    RESHAPE).  Dtypes the converter or ai-edge-litert reject would be listed
    under ``manifest["models"]["dtypes"]["unsupported_dtypes"]`` (none with
    tensorflow-cpu 2.21 + ai-edge-litert 2.3.0).

dtype_bfloat16, dtype_complex128
    Single-signature models like one dtypes signature, kept in their own files
    so ``dtypes.tflite`` stays loadable everywhere: bfloat16 was not in the
    requested list and npz cannot store it portably (the npz holds the raw
    uint16 bit patterns under ``.../in/x.bits`` and ``.../out/y.bits``);
    complex128 runs in ai-edge-litert's Interpreter but LiteRT's C-API model
    loader (CompiledModel) rejects the whole model ("Element type (11) not
    currently supported").

string_input
    ``y = tf.gather(x, [2, 0, 1])`` on a tf.string input of shape [3] (GATHER
    is a builtin that accepts strings), so the SDK can test that string
    tensors give a clear error.  npz stores the strings as ``S`` (bytes).

variables
    ``tf.Module`` with a float32[1] ``tf.Variable`` counter (initial value 10)
    and signatures ``increment()`` (count += 1, returns the new value: the ADD
    result) and ``read()`` (returns the variable); converted with resource
    variables enabled and TFLITE_BUILTINS only.  Both signatures take no
    inputs; the output is ``value``.  Used to test that reset really resets.
    Multi-step key scheme: ``<signature>/step<NN>/out/<name>`` where NN is the
    global step number; ``manifest[...]["sequence"]`` lists the calls in
    order, all on ONE interpreter created fresh before step 00.

variables_scalar
    The same with a scalar counter whose outputs come straight from
    READ_VARIABLE.  ai-edge-litert's Interpreter runs it correctly, but
    LiteRT 2.3.0's CompiledModel returns wrong values on the first call and
    then fails ("Failed to set custom allocation for output"); kept so the
    SDK can test how it reports that.

custom_cumprod
    ``y = tf.math.cumprod(x, axis=1) * 2`` with ``allow_custom_ops=True``:
    the cumprod becomes a CUSTOM op with custom_code ``Cumprod``.  ai-edge-litert
    cannot run it (the manifest records its error).  Input float32[2,5].

npz key scheme
--------------
* single case: ``<signature>/in/<input>`` and ``<signature>/out/<output>``
* several cases of one signature: ``<signature>/<case>/in/<input>`` and
  ``<signature>/<case>/out/<output>``; the manifest lists the case names
  under ``signatures[<signature>]["cases"]``.

manifest.json
-------------
For every model: file, size, sha256, builtin/custom op list, and per signature
the inputs/outputs (name, dtype, shape, shape_signature, quantization), the
I/O name orders as seen by: the Python function (``python_arg_order``), the
flatbuffer SignatureDef (``flatbuffer_signature_*_order``), the subgraph
(``subgraph_*_order``), ai-edge-litert's Interpreter
(``ai_edge_litert_*_order``) and LiteRT's CompiledModel C-API path
(``litert_compiled_model_*_order``); ``max_abs_diff_vs_tf`` (ai-edge-litert
Interpreter vs the TF reference) and ``suggested_atol``.  Each model's
``litert_compiled_model`` entry records the same reference cases replayed on
``ai_edge_litert.compiled_model.CompiledModel`` (informational; dtypes the
Python TensorBuffer wrapper cannot read/write are marked "not run").
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import time
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# oneDNN may reorder float math; disable it so float references are stable.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PYTHONHASHSEED", "0")

# (imported after the environment variables above)
import numpy as np
import tensorflow as tf

try:  # only used for the sanity check; the files are written without it
    from ai_edge_litert.interpreter import Interpreter as LiteRtInterpreter
except ImportError:  # pragma: no cover
    LiteRtInterpreter = None

try:
    from ai_edge_litert.compiled_model import CompiledModel
except ImportError:  # pragma: no cover - optional, newer API
    CompiledModel = None

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
SEED = 1234
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _seed_everything(seed: int = SEED) -> None:
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _dtype_name(dt) -> str:
    if isinstance(dt, tf.dtypes.DType):
        return dt.name
    dt = np.dtype(dt)
    if dt.kind in ("S", "O"):  # bytes or object (Python str / bytes)
        return "string"
    return dt.name


def _save_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed with fixed timestamps (byte-reproducible)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            arr = np.asarray(arrays[key])
            if arr.dtype == object:
                raise TypeError(f"{key}: object arrays are not allowed in npz")
            info = zipfile.ZipInfo(key + ".npy", date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            data = io.BytesIO()
            np.lib.format.write_array(data, arr, allow_pickle=False)
            zf.writestr(info, data.getvalue())
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def _read_flatbuffer(model_bytes: bytes):
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils.read_model_from_bytearray(bytearray(model_bytes))


def _dec(s):
    return s.decode() if isinstance(s, bytes) else s


def _flatbuffer_info(model_bytes: bytes) -> dict:
    """Op list and signature/subgraph orders as stored in the flatbuffer."""
    from tensorflow.lite.python import schema_util
    from tensorflow.lite.tools import flatbuffer_utils

    m = _read_flatbuffer(model_bytes)
    op_names = {}
    for i, oc in enumerate(m.operatorCodes):
        code = schema_util.get_builtin_code_from_operator_code(oc)
        if oc.customCode is not None:
            op_names[i] = "CUSTOM:" + _dec(oc.customCode)
        else:
            op_names[i] = flatbuffer_utils.opcode_to_name(m, i)
            if op_names[i] is None:
                op_names[i] = str(code)
    ops = set()
    for sg in m.subgraphs:
        for op in sg.operators or []:
            ops.add(op_names[op.opcodeIndex])
    sigs = {}
    for sd in m.signatureDefs or []:
        sg = m.subgraphs[sd.subgraphIndex]
        by_tensor_in = {t.tensorIndex: _dec(t.name) for t in sd.inputs or []}
        by_tensor_out = {t.tensorIndex: _dec(t.name) for t in sd.outputs or []}
        tensor_names = [_dec(t.name) for t in sg.tensors]
        sigs[_dec(sd.signatureKey)] = {
            "subgraph_index": int(sd.subgraphIndex),
            "flatbuffer_signature_input_order": [_dec(t.name) for t in sd.inputs or []],
            "flatbuffer_signature_output_order": [_dec(t.name) for t in sd.outputs or []],
            "subgraph_input_order": [
                by_tensor_in.get(int(i), tensor_names[int(i)]) for i in (sg.inputs if sg.inputs is not None else [])
            ],
            "subgraph_output_order": [
                by_tensor_out.get(int(i), tensor_names[int(i)]) for i in (sg.outputs if sg.outputs is not None else [])
            ],
        }
    return {"ops": sorted(ops), "num_subgraphs": len(m.subgraphs), "signatures": sigs}


def _per_channel_weight_info(model_bytes: bytes) -> list[dict]:
    """Quantization of constant int8 weight tensors (shows per-channel)."""
    from tensorflow.lite.tools import flatbuffer_utils

    m = _read_flatbuffer(model_bytes)
    out = []
    for sg in m.subgraphs:
        for t in sg.tensors:
            q = t.quantization
            if q is None or q.scale is None or len(q.scale) <= 1:
                continue
            out.append(
                {
                    "tensor": _dec(t.name),
                    "dtype": flatbuffer_utils.type_to_name(t.type).lower(),
                    "shape": [int(d) for d in t.shape],
                    "num_scales": len(q.scale),
                    "quantized_dimension": int(q.quantizedDimension),
                }
            )
    return out


def _tensor_detail(d: dict) -> dict:
    out = {
        "dtype": _dtype_name(d["dtype"]),
        "shape": [int(x) for x in d["shape"]],
        "shape_signature": [int(x) for x in d["shape_signature"]],
    }
    qp = d.get("quantization_parameters") or {}
    scales = np.asarray(qp.get("scales", []))
    if scales.size:
        out["quantization"] = {
            "scale": [float(s) for s in scales],
            "zero_point": [int(z) for z in np.asarray(qp["zero_points"])],
            "quantized_dimension": int(qp.get("quantized_dimension", 0)),
        }
    return out


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise AssertionError(f"shape mismatch {a.shape} vs {b.shape}")
    if a.dtype.kind in "SUO" or b.dtype.kind in "SUO":
        return 0.0 if np.array_equal(a.astype("S"), b.astype("S")) else float("inf")
    if a.dtype == np.bool_:
        return float(np.count_nonzero(a != b))
    if a.dtype.kind == "c":
        return float(np.max(np.abs(a.astype(np.complex128) - b.astype(np.complex128)), initial=0.0))
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)), initial=0.0))


def _convert(concrete_functions, module, **opts) -> bytes:
    conv = tf.lite.TFLiteConverter.from_concrete_functions(concrete_functions, module)
    for k, v in opts.items():
        setattr(conv, k, v)
    return conv.convert()


def _convert_keras(model, **opts) -> bytes:
    """Keras models go through from_keras_model: it freezes the weights.

    (from_concrete_functions([...], keras_model) keeps Keras 3 weights as
    resource variables -- VAR_HANDLE/READ_VARIABLE -- which breaks calibration.)
    The model's dict output names become the signature output names.
    """
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    for k, v in opts.items():
        setattr(conv, k, v)
    with contextlib.redirect_stdout(io.StringIO()):  # "Saved artifact at ..."
        return conv.convert()


def _outputs_numpy(result) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in result.items()}


class ModelWriter:
    """Collects one model's files and manifest entry."""

    def __init__(self, name: str, description: str):
        self.name = name
        self.description = description
        self.arrays: dict[str, np.ndarray] = {}
        self.entry: dict = {"description": description, "signatures": {}}
        self.model_bytes: bytes | None = None
        # (signature, inputs, expected outputs) in call order, replayed on
        # LiteRT's CompiledModel (the C-API path) by _compiled_model_check.
        self.cm_runs: list[tuple[str, dict, dict]] = []

    def set_model(self, model_bytes: bytes) -> None:
        self.model_bytes = model_bytes
        fb = _flatbuffer_info(model_bytes)
        self.entry["file"] = f"{self.name}.tflite"
        self.entry["npz"] = f"{self.name}.npz"
        self.entry["size_bytes"] = len(model_bytes)
        self.entry["sha256"] = hashlib.sha256(model_bytes).hexdigest()
        self.entry["ops"] = fb["ops"]
        self.entry["num_subgraphs"] = fb["num_subgraphs"]
        for key, info in fb["signatures"].items():
            self.entry["signatures"].setdefault(key, {}).update(info)

    def sig(self, key: str) -> dict:
        return self.entry["signatures"].setdefault(key, {})

    def add_case(self, sig: str, inputs: dict, outputs: dict, case: str | None = None, *, in_tag="in", out_tag="out"):
        prefix = f"{sig}/" + (f"{case}/" if case else "")
        for k, v in inputs.items():
            self.arrays[f"{prefix}{in_tag}/{k}"] = np.asarray(v)
        for k, v in outputs.items():
            self.arrays[f"{prefix}{out_tag}/{k}"] = np.asarray(v)
        if case:
            cases = self.sig(sig).setdefault("cases", [])
            if case not in cases:
                cases.append(case)

    def write(self) -> None:
        assert self.model_bytes is not None
        with open(os.path.join(OUT_DIR, f"{self.name}.tflite"), "wb") as f:
            f.write(self.model_bytes)
        _save_npz(os.path.join(OUT_DIR, f"{self.name}.npz"), self.arrays)
        self.entry["npz_keys"] = sorted(self.arrays)


def _litert_describe(mw: ModelWriter, interp) -> None:
    """Record signature I/O details as ai-edge-litert reports them."""
    sig_list = interp.get_signature_list()
    for key in sig_list:
        runner = interp.get_signature_runner(key)
        ind = runner.get_input_details()
        outd = runner.get_output_details()
        s = mw.sig(key)
        s["inputs"] = [dict(name=n, **_tensor_detail(ind[n])) for n in sig_list[key]["inputs"]]
        s["outputs"] = [dict(name=n, **_tensor_detail(outd[n])) for n in sig_list[key]["outputs"]]
        s["ai_edge_litert_input_order"] = list(sig_list[key]["inputs"])
        s["ai_edge_litert_output_order"] = list(sig_list[key]["outputs"])
    if CompiledModel is not None:
        try:
            cm = CompiledModel.from_buffer(mw.model_bytes)
            cl = cm.get_signature_list()
            for key, v in cl.items():
                mw.sig(key)["litert_compiled_model_input_order"] = list(v["inputs"])
                mw.sig(key)["litert_compiled_model_output_order"] = list(v["outputs"])
        except Exception as e:  # noqa: BLE001
            mw.entry["litert_compiled_model_error"] = _short(e)


def _verify(mw: ModelWriter, sig: str, inputs: dict, expected: dict, *, interp=None, tol: float = 0.0):
    """Run one signature in ai-edge-litert and record max abs diff vs TF."""
    if LiteRtInterpreter is None:
        raise RuntimeError("ai-edge-litert is needed for the sanity check")
    if interp is None:
        interp = LiteRtInterpreter(model_content=mw.model_bytes)
    mw.cm_runs.append((sig, inputs, expected))
    got = interp.get_signature_runner(sig)(**inputs)
    s = mw.sig(sig)
    worst = s.get("max_abs_diff_vs_tf", 0.0)
    for k, v in expected.items():
        d = _max_abs_diff(got[k], v)
        if np.asarray(got[k]).dtype != np.asarray(v).dtype and np.asarray(v).dtype.kind not in "SO":
            raise AssertionError(f"{mw.name}/{sig}/{k}: dtype {got[k].dtype} vs {np.asarray(v).dtype}")
        if d > tol:
            raise AssertionError(f"{mw.name}/{sig}/{k}: max abs diff {d} > {tol}")
        worst = max(worst, d)
    s["max_abs_diff_vs_tf"] = worst
    s["suggested_atol"] = tol
    return got


# dtypes ai_edge_litert's Python TensorBuffer can read/write.
_CM_PY_DTYPES = {"float32", "float16", "int32", "int8", "uint8", "bool", "bfloat16"}


def _short(e: BaseException) -> str:
    return " ".join(f"{type(e).__name__}: {e}".split())[:300]


def _compiled_model_check(mw: ModelWriter) -> None:
    """Replay mw.cm_runs on ai_edge_litert.compiled_model.CompiledModel.

    This is the LiteRT C-API path (what the SDK binds), as opposed to the
    classic tflite Interpreter used by _verify.  Informational: recorded in
    the manifest under "litert_compiled_model", never fatal.
    """
    info = {}
    mw.entry["litert_compiled_model"] = info
    if CompiledModel is None:
        info["loads"] = None
        return
    try:
        cm = CompiledModel.from_buffer(mw.model_bytes)
    except Exception as e:  # noqa: BLE001
        info["loads"] = False
        info["error"] = _short(e)
        return
    info["loads"] = True
    per_sig = info.setdefault("signatures", {})
    for sig, inputs, expected in mw.cm_runs:
        r = per_sig.setdefault(sig, {"runs_ok": 0, "runs_failed": 0, "max_abs_diff_vs_tf": 0.0})
        arrays = [np.asarray(v) for v in list(inputs.values()) + list(expected.values())]
        missing = sorted({_dtype_name(a.dtype) for a in arrays} - _CM_PY_DTYPES)
        if missing:
            r["not_run"] = f"the Python TensorBuffer wrapper has no {missing}"
            continue
        try:
            details = cm.get_input_tensor_details(sig)
            for name, v in inputs.items():
                if list(details[name]["shape"]) != list(np.shape(v)):
                    cm.resize_input_tensor_by_name(sig, name, list(np.shape(v)))
            in_bufs = {n: cm.create_input_buffer_by_name(sig, n) for n in inputs}
            for n, v in inputs.items():
                in_bufs[n].write(np.ascontiguousarray(v))
            out_bufs = {n: cm.create_output_buffer_by_name(sig, n) for n in expected}
            cm.run_by_name(sig, in_bufs, out_bufs)
            got = {}
            for n, v in expected.items():
                v = np.asarray(v)
                got[n] = out_bufs[n].read(v.size, v.dtype).reshape(v.shape)
        except Exception as e:  # noqa: BLE001
            r["runs_failed"] += 1
            r.setdefault("first_error", _short(e))
            continue
        r["runs_ok"] += 1
        tol = mw.sig(sig).get("suggested_atol") or 0.0
        d = max(_max_abs_diff(got[n], v) for n, v in expected.items())
        if d <= tol:
            r["max_abs_diff_vs_tf"] = max(r["max_abs_diff_vs_tf"], d)
        else:  # wrong values (garbage would make the manifest non-reproducible)
            r["runs_wrong_values"] = r.get("runs_wrong_values", 0) + 1
    for r in per_sig.values():
        if "not_run" in r:
            r["matches_tf"] = "not run"
        else:
            r["matches_tf"] = r["runs_failed"] == 0 and not r.get("runs_wrong_values")


# --------------------------------------------------------------------------
# 1. multi_signature
# --------------------------------------------------------------------------


class _MultiSig(tf.Module):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(SEED + 1)
        self.w = tf.constant(rng.standard_normal((4, 3)).astype(np.float32))
        self.bias = tf.constant(np.array([0.5, -1.0, 2.0], np.float32))

    # Python order (b, a); signature order after conversion is (a, b).
    @tf.function(
        input_signature=[
            tf.TensorSpec([3], tf.float32, name="b"),
            tf.TensorSpec([2, 3], tf.float32, name="a"),
        ]
    )
    def add(self, b, a):
        return {"sum": a + b, "difference": a - b}

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")])
    def project(self, x):
        return {"y": tf.matmul(x, self.w) + self.bias}


def make_multi_signature() -> ModelWriter:
    mw = ModelWriter(
        "multi_signature", "tf.Module with signatures add(b, a) -> {sum, difference} and project(x) -> {y}"
    )
    m = _MultiSig()
    cfs = [m.add.get_concrete_function(), m.project.get_concrete_function()]
    mw.set_model(_convert(cfs, m))
    mw.sig("add")["python_arg_order"] = ["b", "a"]
    mw.sig("project")["python_arg_order"] = ["x"]

    rng = np.random.default_rng(SEED + 2)
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((3,)).astype(np.float32)
    out = _outputs_numpy(m.add(b=tf.constant(b), a=tf.constant(a)))
    mw.add_case("add", {"a": a, "b": b}, out)
    x = rng.standard_normal((1, 4)).astype(np.float32)
    outp = _outputs_numpy(m.project(x=tf.constant(x)))
    mw.add_case("project", {"x": x}, outp)

    interp = LiteRtInterpreter(model_content=mw.model_bytes)
    _litert_describe(mw, interp)
    _verify(mw, "add", {"a": a, "b": b}, out, interp=interp, tol=1e-6)
    _verify(mw, "project", {"x": x}, outp, interp=interp, tol=1e-5)
    return mw


# --------------------------------------------------------------------------
# 2. int8_quant
# --------------------------------------------------------------------------


def make_int8_quant() -> ModelWriter:
    _seed_everything(SEED + 10)
    keras = tf.keras
    inp = keras.Input((16, 16, 3), batch_size=1, name="x")
    h = keras.layers.Conv2D(8, 3, padding="same", name="conv")(inp)
    h = keras.layers.ReLU(name="relu")(h)
    h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    out = keras.layers.Dense(4, name="dense")(h)
    model = keras.Model(inp, {"logits": out})

    rng = np.random.default_rng(SEED + 11)
    calib = rng.uniform(-1.0, 1.0, size=(64, 1, 16, 16, 3)).astype(np.float32)

    def rep():
        for sample in calib:
            yield {"x": sample}

    tfl = _convert_keras(
        model,
        optimizations=[tf.lite.Optimize.DEFAULT],
        representative_dataset=rep,
        target_spec=_builtins_int8_spec(),
        inference_input_type=tf.int8,
        inference_output_type=tf.int8,
    )
    mw = ModelWriter("int8_quant", "Keras conv net, full integer (int8 in/out, per-channel weights)")
    mw.set_model(tfl)
    mw.entry["per_channel_weights"] = _per_channel_weight_info(tfl)
    mw.sig("serving_default")["python_arg_order"] = ["x"]

    interp = LiteRtInterpreter(model_content=tfl)
    _litert_describe(mw, interp)
    s = mw.sig("serving_default")
    (iq,) = [t["quantization"] for t in s["inputs"]]
    (oq,) = [t["quantization"] for t in s["outputs"]]
    in_scale, in_zp = iq["scale"][0], iq["zero_point"][0]
    out_scale, out_zp = oq["scale"][0], oq["zero_point"][0]

    # Reference int8 outputs from TF's own interpreter; float from Keras.
    tf_interp = tf.lite.Interpreter(model_content=tfl)
    tf_runner = tf_interp.get_signature_runner("serving_default")
    xf = rng.uniform(-1.0, 1.0, size=(1, 16, 16, 3)).astype(np.float32)
    xq = np.clip(np.round(xf / in_scale) + in_zp, -128, 127).astype(np.int8)
    x_deq = ((xq.astype(np.float32) - in_zp) * in_scale).astype(np.float32)
    yq = np.asarray(tf_runner(x=xq)["logits"])
    yf = model(x_deq, training=False)["logits"].numpy().astype(np.float32)
    mw.add_case("serving_default", {"x": xq}, {"logits": yq})
    mw.add_case("serving_default", {"x": x_deq}, {"logits": yf}, in_tag="float_in", out_tag="float_out")

    _verify(mw, "serving_default", {"x": xq}, {"logits": yq}, interp=interp, tol=0)
    y_deq = (yq.astype(np.float32) - out_zp) * out_scale
    dq = float(np.max(np.abs(y_deq - yf)))
    s["dequantized_vs_float"] = {
        "max_abs_diff": dq,
        "max_abs_diff_in_output_scales": dq / out_scale,
        "suggested_atol": float(np.ceil(dq / out_scale + 2) * out_scale),
        "float_output_range": [float(yf.min()), float(yf.max())],
    }
    s["int8_exact_vs_tf_interpreter"] = True
    return mw


def _builtins_int8_spec():
    spec = tf.lite.TargetSpec()
    spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return spec


# --------------------------------------------------------------------------
# 3. dynamic_batch
# --------------------------------------------------------------------------


def make_dynamic_batch() -> ModelWriter:
    _seed_everything(SEED + 20)
    keras = tf.keras
    inp = keras.Input((8,), name="x")
    out = keras.layers.Dense(3, activation="softmax", name="dense")(inp)
    model = keras.Model(inp, {"probs": out})

    def serve(x):
        return {"probs": model(x, training=False)["probs"]}

    mw = ModelWriter("dynamic_batch", "Keras Dense(3, softmax) on input [-1, 8]")
    mw.set_model(_convert_keras(model))
    mw.sig("serving_default")["python_arg_order"] = ["x"]
    interp = LiteRtInterpreter(model_content=mw.model_bytes)
    _litert_describe(mw, interp)
    rng = np.random.default_rng(SEED + 21)
    for n in (1, 4, 7):
        x = rng.standard_normal((n, 8)).astype(np.float32)
        y = _outputs_numpy(serve(tf.constant(x)))
        mw.add_case("serving_default", {"x": x}, y, case=f"batch{n}")
        # a fresh interpreter per batch, and the shared one (resizes in place)
        _verify(mw, "serving_default", {"x": x}, y, tol=1e-6)
        _verify(mw, "serving_default", {"x": x}, y, interp=interp, tol=1e-6)
    return mw


# --------------------------------------------------------------------------
# 4. dtypes (+ bfloat16, string)
# --------------------------------------------------------------------------


def _via_f32_times_two(x):
    return tf.cast(tf.cast(x, tf.float32) * 2.0, x.dtype)


def _gather_rows(x):
    return tf.gather(x, [1, 0])


def _reshape(x):
    return tf.reshape(x, [3, 2])


# dtype -> (op description, fn).  Chosen after probing tensorflow-cpu 2.21 +
# ai-edge-litert 2.3.0: e.g. ADD/MUL reject float16/float64/int8/uint8/uint16/
# uint64 (need Flex), so those go through CAST, GATHER or RESHAPE.
DTYPE_CASES = {
    "float16": ("cast to float32, *2, cast back (CAST, MUL, CAST)", _via_f32_times_two),
    "float32": ("x + x (ADD)", lambda x: x + x),
    "float64": ("cast to float32, *2, cast back (CAST, MUL, CAST)", _via_f32_times_two),
    "int8": ("gather rows [1, 0] (GATHER)", _gather_rows),
    "int16": ("x + x (ADD)", lambda x: x + x),
    "int32": ("x + x (ADD)", lambda x: x + x),
    "int64": ("x + x (ADD)", lambda x: x + x),
    "uint8": ("gather rows [1, 0] (GATHER)", _gather_rows),
    "uint16": ("cast to float32, *2, cast back (CAST, MUL, CAST)", _via_f32_times_two),
    "uint32": ("x + x (ADD)", lambda x: x + x),
    "uint64": ("reshape to [3, 2] (RESHAPE)", _reshape),
    "bool": ("logical_not (LOGICAL_NOT)", tf.logical_not),
    "complex64": ("x * x (MUL)", lambda x: x * x),
    "complex128": ("reshape to [3, 2] (RESHAPE)", _reshape),
}
# Dtypes tried with every candidate op below; expected to fail.
DTYPE_EXTRA_TRIES = {
    "complex128": [("x * x (MUL)", lambda x: x * x), ("x + x (ADD)", lambda x: x + x)],
    "uint64": [("x + x (ADD)", lambda x: x + x), ("cast via float32", _via_f32_times_two)],
}


class _DtypeModule(tf.Module):
    pass


def _dtype_sample(name: str, rng) -> np.ndarray:
    shape = (2, 3)
    if name == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if name.startswith("complex"):
        re = rng.integers(-4, 5, size=shape)
        im = rng.integers(-4, 5, size=shape)
        return (re + 1j * im).astype(name)
    if name.startswith("float") or name == "bfloat16":
        v = rng.standard_normal(shape) * 3
        if name == "bfloat16":
            import ml_dtypes

            return v.astype(np.float32).astype(ml_dtypes.bfloat16)
        return v.astype(name)
    info = np.iinfo(name)
    lo, hi = max(info.min, -50), min(info.max, 50)
    return rng.integers(lo, hi + 1, size=shape).astype(name)


def _named_dtype_function(name: str, fn):
    def f(x):
        return {"y": fn(x)}

    f.__name__ = f.__qualname__ = name
    return tf.function(f, input_signature=[tf.TensorSpec([2, 3], tf.as_dtype(name), name="x")])


def _dtype_function(tf_dtype, fn):
    return _named_dtype_function(tf_dtype.name, fn).get_concrete_function()


def _try_dtype(name: str, desc: str, fn, rng) -> tuple[bool, str]:
    """Convert+run one dtype on its own; returns (ok, reason)."""
    tf_dtype = tf.as_dtype(name)
    try:
        cf = _dtype_function(tf_dtype, fn)
    except Exception as e:  # noqa: BLE001
        return False, f"TF tracing failed for {desc}: {type(e).__name__}"
    try:
        tfl = _convert([cf], _DtypeModule())
    except Exception as e:  # noqa: BLE001
        lines = [ln.strip() for ln in str(e).splitlines() if "error:" in ln]
        msg = lines[0].split("error:", 1)[1].strip() if lines else str(e).splitlines()[0]
        return False, f"converter rejects {desc}: {msg}"
    x = _dtype_sample(name, rng)
    try:
        got = LiteRtInterpreter(model_content=tfl).get_signature_runner("serving_default")(x=x)["y"]
    except Exception as e:  # noqa: BLE001
        return False, f"ai-edge-litert 2.3.0 fails for {desc}: {str(e).strip()[:200]}"
    ref = cf(x=tf.constant(x))["y"].numpy()
    if got.dtype != ref.dtype or _max_abs_diff(got, ref) != 0:
        return False, f"ai-edge-litert result differs for {desc}"
    return True, ""


# Dtypes that work in ai-edge-litert's Interpreter but get their own file:
# bfloat16 (not in the requested list; npz cannot hold it portably) and
# complex128 (LiteRT's C-API model loader -- CompiledModel -- rejects the
# whole model: "Element type (11) not currently supported").
SEPARATE_FILE_DTYPES = {
    "bfloat16": ("cast to float32, *2, cast back (CAST, MUL, CAST)", _via_f32_times_two),
    "complex128": DTYPE_CASES.pop("complex128"),
}


def _single_dtype_model(name: str, desc: str, fn, rng) -> ModelWriter:
    ok, reason = _try_dtype(name, desc, fn, rng)
    if not ok:
        raise RuntimeError(f"{name}: {reason}")
    mw = ModelWriter(f"dtype_{name}", f"{name} x[2,3] -> y: {desc}")
    mod = _DtypeModule()
    setattr(mod, name, _named_dtype_function(name, fn))
    mw.set_model(_convert([getattr(mod, name).get_concrete_function()], mod))
    interp = LiteRtInterpreter(model_content=mw.model_bytes)
    _litert_describe(mw, interp)
    (key,) = interp.get_signature_list()
    x = _dtype_sample(name, rng)
    y = getattr(mod, name)(tf.constant(x))["y"].numpy()
    if name == "bfloat16":
        mw.add_case(key, {"x.bits": x.view(np.uint16)}, {"y.bits": y.view(np.uint16)})
        mw.entry["npz_note"] = "bfloat16 data stored as raw uint16 bit patterns under x.bits / y.bits"
    else:
        mw.add_case(key, {"x": x}, {"y": y})
    mw.sig(key)["op"] = desc
    mw.sig(key)["python_arg_order"] = ["x"]
    _verify(mw, key, {"x": x}, {"y": y}, interp=interp, tol=0)
    return mw


def make_dtypes() -> list[ModelWriter]:
    rng = np.random.default_rng(SEED + 30)
    unsupported = {}
    working = {}
    for name, (desc, fn) in DTYPE_CASES.items():
        ok, reason = _try_dtype(name, desc, fn, rng)
        if ok:
            working[name] = (desc, fn)
        else:
            unsupported[name] = [reason]
    # Record why the cheaper/real-arithmetic ops were not used.
    op_rejections = {}
    for name, tries in DTYPE_EXTRA_TRIES.items():
        for desc, fn in tries:
            ok, reason = _try_dtype(name, desc, fn, rng)
            op_rejections.setdefault(name, []).append(reason if not ok else f"{desc}: works")
    for name in ("float16", "float64", "int8", "uint8", "uint16", "uint64", "complex64"):
        ok, reason = _try_dtype(name, "x + x (ADD)", lambda x: x + x, rng)
        op_rejections.setdefault(name, []).append(reason if not ok else "x + x (ADD): works")

    module = _DtypeModule()
    cfs = []
    for name, (_desc, fn) in working.items():
        # The signature key is the traced function's name, so name it.
        setattr(module, name, _named_dtype_function(name, fn))
        cfs.append(getattr(module, name).get_concrete_function())
    tfl = _convert(cfs, module)
    mw = ModelWriter("dtypes", "one signature per dtype: x[2,3] -> y via one builtin op")
    mw.set_model(tfl)
    mw.entry["unsupported_dtypes"] = unsupported
    mw.entry["rejected_ops_per_dtype"] = op_rejections
    mw.entry["separate_files"] = {n: f"dtype_{n}.tflite" for n in SEPARATE_FILE_DTYPES}
    interp = LiteRtInterpreter(model_content=tfl)
    _litert_describe(mw, interp)
    # The converter names each signature after the Module attribute.
    assert set(interp.get_signature_list()) == set(working), interp.get_signature_list()
    for name, (desc, _fn) in working.items():
        x = _dtype_sample(name, rng)
        y = _outputs_numpy(getattr(module, name)(tf.constant(x)))
        s = mw.sig(name)
        s["op"] = desc
        s["python_arg_order"] = ["x"]
        mw.add_case(name, {"x": x}, y)
        _verify(mw, name, {"x": x}, y, interp=interp, tol=0)

    writers = [mw]
    for name, (desc, fn) in SEPARATE_FILE_DTYPES.items():
        writers.append(_single_dtype_model(name, desc, fn, rng))
    return writers


def make_string_input() -> ModelWriter:
    class S(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([3], tf.string, name="x")])
        def serve(self, x):
            return {"y": tf.gather(x, [2, 0, 1])}

    m = S()
    cf = m.serve.get_concrete_function()
    mw = ModelWriter("string_input", "tf.string x[3] -> y = gather(x, [2, 0, 1]) (builtin GATHER)")
    mw.set_model(_convert([cf], m))
    interp = LiteRtInterpreter(model_content=mw.model_bytes)
    _litert_describe(mw, interp)
    (key,) = interp.get_signature_list()
    x = np.array([b"alpha", b"", b"gamma-ray"], dtype="S9")
    y = m.serve(tf.constant(x))["y"].numpy().astype("S9")
    mw.add_case(key, {"x": x}, {"y": y})
    mw.sig(key)["python_arg_order"] = ["x"]
    _verify(mw, key, {"x": x}, {"y": y}, interp=interp, tol=0)
    return mw


# --------------------------------------------------------------------------
# 5. variables
# --------------------------------------------------------------------------


class _Counter(tf.Module):
    """float32[1] counter; increment() returns the ADD result."""

    def __init__(self):
        super().__init__()
        self.count = tf.Variable([10.0], dtype=tf.float32, name="count")

    @tf.function(input_signature=[])
    def increment(self):
        new = self.count + 1.0
        self.count.assign(new)
        return {"value": new}

    @tf.function(input_signature=[])
    def read(self):
        return {"value": self.count.read_value()}


class _ScalarCounter(tf.Module):
    """Scalar counter whose outputs come straight from READ_VARIABLE."""

    def __init__(self):
        super().__init__()
        self.count = tf.Variable(10.0, dtype=tf.float32, name="count")

    @tf.function(input_signature=[])
    def increment(self):
        self.count.assign_add(1.0)
        return {"value": self.count.read_value()}

    @tf.function(input_signature=[])
    def read(self):
        return {"value": self.count.read_value()}


VARIABLE_SEQUENCE = ["read", "increment", "increment", "increment", "read", "increment", "increment", "read"]


def make_variables(name: str, module_cls, description: str) -> ModelWriter:
    m = module_cls()
    cfs = [m.increment.get_concrete_function(), m.read.get_concrete_function()]
    spec = tf.lite.TargetSpec()
    spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    tfl = _convert(cfs, m, experimental_enable_resource_variables=True, target_spec=spec)
    mw = ModelWriter(name, description)
    mw.set_model(tfl)
    interp = LiteRtInterpreter(model_content=tfl)
    _litert_describe(mw, interp)
    seq = []
    runners = {k: interp.get_signature_runner(k) for k in ("increment", "read")}
    for step, sig in enumerate(VARIABLE_SEQUENCE):
        case = f"step{step:02d}"
        ref = _outputs_numpy(getattr(m, sig)())
        mw.add_case(sig, {}, ref, case=case)
        got = runners[sig]()
        mw.cm_runs.append((sig, {}, ref))
        d = _max_abs_diff(got["value"], ref["value"])
        if d != 0:
            raise AssertionError(f"{name} {case} {sig}: {got} vs {ref}")
        s = mw.sig(sig)
        s["max_abs_diff_vs_tf"] = max(s.get("max_abs_diff_vs_tf", 0.0), d)
        s["suggested_atol"] = 0.0
        s["python_arg_order"] = []
        seq.append({"step": step, "signature": sig, "key_prefix": f"{sig}/{case}", "value": ref["value"].tolist()})
    mw.entry["sequence"] = seq
    mw.entry["initial_value"] = 10.0
    # What ai-edge-litert's reset_all_variables() does to a resource variable.
    try:
        interp.reset_all_variables()
        after = runners["read"]()["value"].tolist()
        mw.entry["ai_edge_litert_read_after_reset_all_variables"] = after
    except Exception as e:  # noqa: BLE001
        mw.entry["ai_edge_litert_read_after_reset_all_variables"] = "error: " + _short(e)
    fresh = LiteRtInterpreter(model_content=tfl)
    mw.entry["ai_edge_litert_read_on_fresh_interpreter"] = fresh.get_signature_runner("read")()["value"].tolist()
    return mw


# --------------------------------------------------------------------------
# 6. custom_cumprod
# --------------------------------------------------------------------------


def make_custom_cumprod() -> ModelWriter:
    class C(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([2, 5], tf.float32, name="x")])
        def serve(self, x):
            return {"y": tf.math.cumprod(x, axis=1) * 2.0}

    m = C()
    cf = m.serve.get_concrete_function()
    mw = ModelWriter("custom_cumprod", "y = cumprod(x, axis=1) * 2 with a CUSTOM 'Cumprod' op")
    mw.set_model(_convert([cf], m, allow_custom_ops=True))
    if "CUSTOM:Cumprod" not in mw.entry["ops"]:
        raise AssertionError(f"expected CUSTOM:Cumprod, got {mw.entry['ops']}")
    mw.entry["custom_ops"] = ["Cumprod"]
    fb = _read_flatbuffer(mw.model_bytes)
    for oc_i, oc in enumerate(fb.operatorCodes):
        if oc.customCode is not None:
            for sg in fb.subgraphs:
                for op in sg.operators:
                    if op.opcodeIndex == oc_i:
                        opts = bytes(op.customOptions) if op.customOptions is not None else b""
                        mw.entry["custom_options_hex"] = opts.hex()
    rng = np.random.default_rng(SEED + 50)
    x = rng.uniform(0.5, 1.5, size=(2, 5)).astype(np.float32)
    y = _outputs_numpy(m.serve(tf.constant(x)))
    key = "serving_default"
    mw.add_case(key, {"x": x}, y)
    s = mw.sig(key)
    s["python_arg_order"] = ["x"]
    s["max_abs_diff_vs_tf"] = None
    s["suggested_atol"] = 1e-5
    s["inputs"] = [{"name": "x", "dtype": "float32", "shape": [2, 5], "shape_signature": [2, 5]}]
    s["outputs"] = [{"name": "y", "dtype": "float32", "shape": [2, 5], "shape_signature": [2, 5]}]
    mw.cm_runs.append((key, {"x": x}, y))
    try:
        it = LiteRtInterpreter(model_content=mw.model_bytes)
        it.get_signature_runner(key)(x=x)
        mw.entry["ai_edge_litert_error"] = None
    except Exception as e:  # noqa: BLE001
        mw.entry["ai_edge_litert_error"] = " ".join(str(e).split())[:300]
    return mw


# --------------------------------------------------------------------------


def main() -> int:
    t0 = time.monotonic()
    _seed_everything()
    if LiteRtInterpreter is None:
        print("ai-edge-litert is required for the sanity check", file=sys.stderr)
        return 1
    writers = [make_multi_signature(), make_int8_quant(), make_dynamic_batch()]
    writers.extend(make_dtypes())
    writers.append(make_string_input())
    writers.append(
        make_variables(
            "variables",
            _Counter,
            "resource variable counter float32[1] (initial 10): increment() -> value+1, read() -> value",
        )
    )
    writers.append(
        make_variables(
            "variables_scalar",
            _ScalarCounter,
            "same as variables but a scalar counter whose outputs come straight from READ_VARIABLE "
            "(LiteRT 2.3.0 CompiledModel mis-handles these outputs; see litert_compiled_model)",
        )
    )
    writers.append(make_custom_cumprod())

    import ai_edge_litert

    manifest = {
        "generator": "make_models.py",
        "regenerate": "python sdk/python/tests/models/make_models.py",
        "tensorflow_version": tf.__version__,
        "verified_with": "ai-edge-litert " + getattr(ai_edge_litert, "__version__", "2.3.0"),
        "npz_key_scheme": {
            "single_case": "<signature>/in/<input>, <signature>/out/<output>",
            "multi_case": "<signature>/<case>/in/<input>, <signature>/<case>/out/<output>; "
            "cases listed in signatures[<signature>].cases",
            "int8_quant_float_reference": "serving_default/float_in/x, serving_default/float_out/logits",
            "variables": "<signature>/stepNN/out/value; order of calls in models.variables.sequence",
            "bfloat16": "raw uint16 bit patterns under <name>.bits",
        },
        "models": {},
    }
    total = 0
    for w in writers:
        _compiled_model_check(w)
        w.write()
        manifest["models"][w.name] = w.entry
        total += w.entry["size_bytes"]
        assert w.entry["size_bytes"] < 200 * 1024, w.name
    assert total < 1024 * 1024, total
    with open(os.path.join(OUT_DIR, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    for w in writers:
        sigs = w.entry["signatures"]
        diffs = {k: v.get("max_abs_diff_vs_tf") for k, v in sigs.items()}
        print(f"{w.name:16s} {w.entry['size_bytes']:7d} B  max|litert-tf|={diffs}")
    print(f"total tflite bytes: {total}; took {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
