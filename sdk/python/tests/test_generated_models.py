"""Models generated with tensorflow-cpu 2.21 (tests/models/make_models.py) against TensorFlow's own outputs.

The .tflite files and the reference outputs (.npz) are committed, so these tests need no TensorFlow.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import GENERATED

import litert_sdk
from litert_sdk import CompiledModel, errors

MANIFEST = json.loads((GENERATED / "manifest.json").read_text())["models"]


def ref(name: str) -> np.lib.npyio.NpzFile:
    return np.load(GENERATED / f"{name}.npz")


def model(name: str) -> str:
    return str(GENERATED / f"{name}.tflite")


def test_multi_signature_binds_by_name_not_position():
    r = ref("multi_signature")
    interp = litert_sdk.Interpreter(model_path=model("multi_signature"))
    sigs = interp.get_signature_list()
    assert set(sigs) == {"add", "project"}
    assert sorted(sigs["add"]["inputs"]) == ["a", "b"] and sorted(sigs["add"]["outputs"]) == ["difference", "sum"]
    add = interp.get_signature_runner("add")
    out = add(a=r["add/in/a"], b=r["add/in/b"])
    np.testing.assert_array_equal(out["sum"], r["add/out/sum"])
    np.testing.assert_array_equal(out["difference"], r["add/out/difference"])
    proj = interp.get_signature_runner("project")(x=r["project/in/x"])
    np.testing.assert_allclose(proj["y"], r["project/out/y"], rtol=1e-6, atol=1e-6)
    # The runtime's input order (b, a) differs from the flatbuffer's sorted order: dicts make it irrelevant.
    cm = CompiledModel.from_file(model("multi_signature"))
    add_sig = MANIFEST["multi_signature"]["signatures"]["add"]
    assert cm.input_names("add") == add_sig["litert_compiled_model_input_order"]
    out2 = cm.run({"b": r["add/in/b"], "a": r["add/in/a"]}, signature="add")
    np.testing.assert_array_equal(out2["difference"], r["add/out/difference"])
    # Positional inputs follow the runtime order.
    pos = cm.run([r[f"add/in/{n}"] for n in cm.input_names("add")], signature="add")
    np.testing.assert_array_equal(pos[cm.output_names("add").index("sum")], r["add/out/sum"])


def test_int8_quantized_model_matches_tensorflow():
    r = ref("int8_quant")
    interp = litert_sdk.Interpreter(model_path=model("int8_quant"))
    interp.allocate_tensors()
    (inp,), (out,) = interp.get_input_details(), interp.get_output_details()
    assert inp["dtype"] is np.int8 and out["dtype"] is np.int8
    scale, zero = out["quantization"]
    assert scale > 0
    qp = out["quantization_parameters"]
    assert qp["scales"].dtype == np.float32 and qp["zero_points"].dtype == np.int32
    interp.set_tensor(inp["index"], r["serving_default/in/x"])
    interp.invoke()
    got = interp.get_tensor(out["index"])
    np.testing.assert_array_equal(got, r["serving_default/out/logits"])  # identical to tf.lite.Interpreter
    # Dequantized output vs the float Keras model, within the tolerance measured at generation.
    tol = MANIFEST["int8_quant"]["signatures"]["serving_default"]["dequantized_vs_float"]["suggested_atol"]
    np.testing.assert_allclose(scale * (got.astype(np.float32) - zero), r["serving_default/float_out/logits"], atol=tol)
    # Per-channel quantized weights are visible in the tensor details.
    assert any(d["quantization_parameters"]["scales"].size > 1 for d in interp.get_tensor_details())


@pytest.mark.parametrize("case", ["batch1", "batch4", "batch7"])
def test_dynamic_batch_matches_tensorflow(case):
    r = ref("dynamic_batch")
    x = r[f"serving_default/{case}/in/x"]
    interp = litert_sdk.Interpreter(model_path=model("dynamic_batch"))
    runner = interp.get_signature_runner()
    assert runner.get_input_details()["x"]["shape_signature"].tolist() == [-1, 8]
    out = runner(x=x)
    np.testing.assert_allclose(out["probs"], r[f"serving_default/{case}/out/probs"], rtol=1e-5, atol=1e-6)
    cm = CompiledModel.from_file(model("dynamic_batch"))
    (y,) = cm.run([x])
    assert cm.output_shape(0) == (x.shape[0], 3)
    np.testing.assert_allclose(y, r[f"serving_default/{case}/out/probs"], rtol=1e-5, atol=1e-6)


def test_dynamic_batch_resizes_back_and_forth():
    r = ref("dynamic_batch")
    cm = CompiledModel.from_file(model("dynamic_batch"))
    for case in ["batch4", "batch1", "batch7", "batch4"]:
        (y,) = cm.run([r[f"serving_default/{case}/in/x"]])
        np.testing.assert_allclose(y, r[f"serving_default/{case}/out/probs"], rtol=1e-5, atol=1e-6)


DTYPES = sorted(MANIFEST["dtypes"]["signatures"])


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_numpy_dtype_round_trips(dtype):
    r = ref("dtypes")
    x, y = r[f"{dtype}/in/x"], r[f"{dtype}/out/y"]
    assert x.dtype == np.dtype(dtype)
    cm = CompiledModel.from_file(model("dtypes"))
    out = cm.run({"x": x}, signature=dtype)
    assert out["y"].dtype == y.dtype
    np.testing.assert_array_equal(out["y"], y)
    runner = litert_sdk.Interpreter(model_path=model("dtypes")).get_signature_runner(dtype)
    np.testing.assert_array_equal(runner(x=x)["y"], y)
    with pytest.raises(errors.InvalidArgumentError, match=f"expects {dtype}"):
        cm.run({"x": np.zeros(x.shape, np.float32 if dtype != "float32" else np.float64)}, signature=dtype)


def test_all_dtypes_covered():
    assert set(DTYPES) >= {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
                           "uint32", "uint64", "bool", "complex64"}


def test_types_numpy_cannot_hold_raise_unsupported():
    # bfloat16 has no numpy dtype: a clear UnsupportedError, not garbage (strings: test_strings.py).
    cm = CompiledModel.from_file(model("dtype_bfloat16"))
    spec = cm.signature().inputs[0][1]
    assert spec.type_name == "bfloat16"
    with pytest.raises(errors.UnsupportedError, match=spec.type_name):
        cm.run({"x": np.zeros(spec.shape, np.float32)})
    interp = litert_sdk.Interpreter(model_path=model("dtype_bfloat16"))
    with pytest.raises(errors.UnsupportedError):
        interp.get_signature_runner()(x=np.zeros(spec.shape, np.float32))


def test_complex128_models_are_refused_with_a_model_error():
    # The runtime's C API refuses to load models containing complex128 ("Element type (11) not supported").
    with pytest.raises(errors.LiteRtError) as info:
        CompiledModel.from_file(model("dtype_complex128"))
    assert info.value.status_name is not None


def test_resource_variables_persist_and_reset_really_resets():
    r = ref("variables")
    seq = MANIFEST["variables"]["sequence"]
    interp = litert_sdk.Interpreter(model_path=model("variables"))
    runners = {k: interp.get_signature_runner(k) for k in ("increment", "read")}

    def replay():
        for entry in seq:
            got = runners[entry["signature"]]()["value"]
            np.testing.assert_array_equal(got, r[f"{entry['key_prefix']}/out/value"], err_msg=entry["key_prefix"])
            assert got.tolist() == entry["value"]

    replay()  # state persists across signatures, matching TensorFlow step by step
    initial = r[f"{seq[0]['key_prefix']}/out/value"]
    assert not np.array_equal(runners["read"]()["value"], initial)
    interp.reset_all_variables()  # the peer's reset leaves them trained; ours recompiles
    np.testing.assert_array_equal(runners["read"]()["value"], initial)
    replay()


def test_signature_returning_a_variable_directly_fails_loudly():
    # Runtime limitation (libLiteRt 2.3.0): an output that *is* a variable's tensor cannot be bound to a host buffer.
    # The SDK must raise, never return the garbage value the runtime produces on its first call.
    interp = litert_sdk.Interpreter(model_path=model("variables_scalar"))
    with pytest.raises(errors.RuntimeFailure, match="allocation"):
        interp.get_signature_runner("read")()
