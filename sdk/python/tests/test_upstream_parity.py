"""Upstream parity of the classic Interpreter API: each case runs against ai_edge_litert.interpreter (the peer,
2.3.0) and litert_sdk.interpreter in the same parametrized test and asserts upstream's documented behaviour
(google-ai-edge/LiteRT tflite/python/interpreter.py). litert_sdk must pass every case the peer passes; where the SDK
deliberately differs (README "Differences from ai_edge_litert"), an SDK-only test pins what it does instead.

The models come from tests/models/make_parity_models.py (TensorFlow 2.21), committed under tests/models/parity/.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import litert_sdk
from litert_sdk import errors

PARITY = Path(__file__).resolve().parent / "models" / "parity"
SIMPLE = PARITY / "simple.tflite"  # x [2, 3] -> y = relu(x * 2 - 3)
MULTI = PARITY / "multi.tflite"  # signatures scalar / encode(b, a) -> zeta, mid, alpha / decode
STRINGS = PARITY / "strings.tflite"  # 0-d string s -> r = reshape(s, [1])
CONV = PARITY / "conv.tflite"  # CONV_2D -> RELU -> MEAN -> FULLY_CONNECTED
SCALAR = PARITY / "scalar.tflite"  # 0-d s -> y = s * s + 1 in the main subgraph
CHAINS = PARITY / "chains.tflite"  # signatures first / second, each with intermediates in its own subgraph

PEER = "ai_edge_litert.interpreter"
SDK = "litert_sdk.interpreter"


@pytest.fixture(params=[PEER, SDK], ids=["peer", "sdk"])
def api(request: pytest.FixtureRequest) -> ModuleType:
    """The interpreter module under test: the peer or litert_sdk."""
    if request.param == PEER:
        return request.getfixturevalue("peer")  # type: ignore[no-any-return]
    return importlib.import_module(SDK)


def simple_expected(x: np.ndarray) -> np.ndarray:
    return np.maximum(x * np.float32(2) - np.float32(3), np.float32(0))


# -- constructor arguments ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["2", 2.0, None.__class__, [2]], ids=["str", "float", "type", "list"])
def test_num_threads_of_the_wrong_type(api: ModuleType, value: Any) -> None:
    with pytest.raises(ValueError, match="^type of num_threads should be int") as info:
        api.Interpreter(model_path=str(SIMPLE), num_threads=value)
    if api.__name__ == SDK:
        assert isinstance(info.value, errors.InvalidArgumentError)


@pytest.mark.parametrize("value", [0, -2, -100])
def test_num_threads_below_one(api: ModuleType, value: int) -> None:
    with pytest.raises(ValueError, match="^num_threads should >= 1"):
        api.Interpreter(model_path=str(SIMPLE), num_threads=value)


@pytest.mark.parametrize("value", [1, 2])
def test_num_threads_accepted(api: ModuleType, value: int) -> None:
    interp = api.Interpreter(model_path=str(SIMPLE), num_threads=value)
    interp.allocate_tensors()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), simple_expected(x))


@pytest.mark.parametrize("value", [litert_sdk.MAX_NUM_THREADS + 1, 100_000, 2**31, 2**40])
def test_sdk_num_threads_past_the_maximum(value: int) -> None:
    """Issue #17: the runtime starts every requested thread (100000 crashed the process at close) or drops the value
    (2**40); the SDK refuses counts past MAX_NUM_THREADS, in the Interpreter and in Options."""
    with pytest.raises(errors.InvalidArgumentError, match=f"^num_threads should <= {litert_sdk.MAX_NUM_THREADS}"):
        litert_sdk.Interpreter(model_path=str(SIMPLE), num_threads=value)
    with pytest.raises(errors.InvalidArgumentError, match="num_threads should <="):
        litert_sdk.Options.cpu_only(num_threads=value)
    with pytest.raises(errors.InvalidArgumentError, match="num_threads should <="):
        litert_sdk.CpuOptions(num_threads=value)
    with pytest.raises(errors.InvalidArgumentError, match="num_threads should <="):  # flutter_litert's options
        litert_sdk.Interpreter(model_path=str(SIMPLE), options=litert_sdk.InterpreterOptions(threads=value))
    with pytest.raises(errors.InvalidArgumentError, match="num_threads should <="):
        litert_sdk.Interpreter(model_path=str(SIMPLE), experimental_delegates=[
            litert_sdk.XNNPackDelegate(litert_sdk.XNNPackDelegateOptions(num_threads=value))])


@pytest.mark.parametrize("value", ["4", 4.0, True])
def test_sdk_options_num_threads_of_the_wrong_type(value: Any) -> None:
    with pytest.raises(errors.InvalidArgumentError, match="^type of num_threads should be int"):
        litert_sdk.CpuOptions(num_threads=value)


def test_sdk_num_threads_minus_one_is_the_default() -> None:
    """-1 lets the runtime decide (TFLite C++ SetNumThreads(-1)); ai-edge-litert 2.3.0's Python check refuses it."""
    assert litert_sdk.CpuOptions(num_threads=-1).effective_num_threads == litert_sdk.default_num_threads()
    interp = litert_sdk.Interpreter(model_path=str(SIMPLE), num_threads=-1)
    assert interp._options.cpu.effective_num_threads == litert_sdk.default_num_threads()
    interp.allocate_tensors()
    x = np.full((2, 3), 4, np.float32)
    interp.set_tensor(0, x)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), simple_expected(x))


def _run_child(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout)


def test_sdk_num_threads_at_the_maximum_runs_and_closes() -> None:
    """MAX_NUM_THREADS itself compiles, runs and closes cleanly (in a child process: a crash is its exit status)."""
    proc = _run_child(f"""
        import numpy as np, litert_sdk
        interp = litert_sdk.Interpreter(model_path={str(SIMPLE)!r}, num_threads=litert_sdk.MAX_NUM_THREADS)
        interp.allocate_tensors()
        interp.set_tensor(0, np.full((2, 3), 5, np.float32))
        interp.invoke()
        print(interp.get_tensor(interp.get_output_details()[0]["index"]).tolist())
        interp.close()
        print("closed")
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["[[7.0,", "7.0,", "7.0],", "[7.0,", "7.0,", "7.0]]", "closed"]


@pytest.mark.parametrize("value", [5, "BUILTIN", None])
def test_unsupported_op_resolver_type(api: ModuleType, value: Any) -> None:
    with pytest.raises(ValueError, match=f"^Unrecognized passed in op resolver type: {value}"):
        api.Interpreter(model_path=str(SIMPLE), experimental_op_resolver_type=value)


@pytest.mark.parametrize("content", [b"not a model at all, just bytes here", b"abc", bytes(64)],
                         ids=["text", "too-short", "zeros"])
def test_invalid_model_content(api: ModuleType, content: bytes) -> None:
    with pytest.raises(ValueError, match="^The model is not a valid Flatbuffer buffer") as info:
        api.Interpreter(model_content=content)
    if api.__name__ == SDK:
        assert isinstance(info.value, errors.ModelError)


def test_invalid_model_file(api: ModuleType, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all, just bytes here")
    with pytest.raises(ValueError, match="^The model is not a valid Flatbuffer buffer"):
        api.Interpreter(model_path=str(bad))


def test_missing_model_file(api: ModuleType, tmp_path: Path) -> None:
    missing = tmp_path / "missing.tflite"
    with pytest.raises(ValueError, match=f"^Could not open '{missing}'") as info:
        api.Interpreter(model_path=str(missing))
    if api.__name__ == SDK:
        assert isinstance(info.value, errors.ModelError)
        assert "not found" in str(info.value)  # the SDK's detail after upstream's text


def test_neither_path_nor_content(api: ModuleType) -> None:
    with pytest.raises(ValueError, match=r"^`model_path` or `model_content` must be specified\."):
        api.Interpreter()


def test_both_path_and_content(api: ModuleType) -> None:
    with pytest.raises(ValueError, match="^Can't both provide `model_path` and `model_content`"):
        api.Interpreter(model_path=str(SIMPLE), model_content=SIMPLE.read_bytes())


# -- details -----------------------------------------------------------------------------------------------------------
DETAIL_KEYS = {"name", "index", "shape", "shape_signature", "dtype", "quantization", "quantization_parameters",
               "sparsity_parameters"}


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    """A details dict with arrays as lists (comparable with ==)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = _plain(v)
        elif isinstance(v, np.ndarray):
            out[k] = (v.dtype.str, v.tolist())
        else:
            out[k] = v
    return out


def test_get_tensor_details_of_every_subgraph(api: ModuleType) -> None:
    interp = api.Interpreter(model_path=str(MULTI))
    assert interp.num_subgraphs() == 3
    names = []
    for sg in range(3):
        details = interp.get_tensor_details(subgraph_index=sg)
        assert details and [d["index"] for d in details] == list(range(len(details)))
        for d in details:
            assert DETAIL_KEYS <= set(d) and set(d["quantization_parameters"]) >= {
                "scales", "zero_points", "quantized_dimension", "block_size"}
            assert d["shape"].dtype == np.int32 and d["shape_signature"].dtype == np.int32
        names.append({d["name"] for d in details})
    assert any("encode_b:0" in n and "encode_a:0" in n for n in names)
    assert any("scalar_s:0" in n for n in names) and any("decode_q:0" in n for n in names)
    assert [_plain(d) for d in interp.get_tensor_details()] == [_plain(d) for d in interp.get_tensor_details(0)]


@pytest.mark.parametrize("sg", [3, -1, 100])
def test_get_tensor_details_subgraph_out_of_range(api: ModuleType, sg: int) -> None:
    interp = api.Interpreter(model_path=str(MULTI))
    with pytest.raises(ValueError, match=f"^subgraph_index is out of range: {sg} for the model, which has 3 subgraphs"):
        interp.get_tensor_details(subgraph_index=sg)


def test_private_tensor_details(api: ModuleType) -> None:
    interp = api.Interpreter(model_path=str(MULTI))
    for sg in range(interp.num_subgraphs()):
        for d in interp.get_tensor_details(subgraph_index=sg):
            assert _plain(interp._get_tensor_details(d["index"], sg)) == _plain(d)
    n = len(interp.get_tensor_details(subgraph_index=0))
    with pytest.raises(ValueError, match=f"^Invalid tensor index {n + 5} exceeds max tensor index {n}"):
        interp._get_tensor_details(n + 5, 0)


def test_ops_details(api: ModuleType) -> None:
    """Before allocate_tensors() (tflite_runtime appends its delegate's DELEGATE node at allocation)."""
    interp = api.Interpreter(model_path=str(CONV))
    ops = interp._get_ops_details()
    assert [o["op_name"] for o in ops] == ["CONV_2D", "MEAN", "FULLY_CONNECTED"]
    assert [o["index"] for o in ops] == [0, 1, 2]
    tensors = {d["index"]: d for d in interp.get_tensor_details()}
    for o in ops:
        assert o["inputs"].dtype == np.int32 and o["outputs"].dtype == np.int32
        assert o["operand_types"] == [tensors[t]["dtype"] for t in o["inputs"] if t != -1]
        assert o["result_types"] == [tensors[t]["dtype"] for t in o["outputs"]]
        assert _plain(interp._get_op_details(o["index"])) == _plain(o)
    assert ops[2]["inputs"].tolist()[-1] == -1  # FULLY_CONNECTED without bias: the omitted operand is -1
    assert ops[0]["inputs"][0] == interp.get_input_details()[0]["index"]
    assert ops[2]["outputs"].tolist() == [interp.get_output_details()[0]["index"]]
    assert ops[1]["operand_types"] == [np.float32, np.int32]
    with pytest.raises(ValueError, match="^Invalid node index"):
        interp._get_op_details(3)


def test_details_match_the_peer(peer: ModuleType) -> None:
    """Every tensor's and (pre-allocation) operator's details as ai-edge-litert reports them."""
    from litert_sdk import interpreter as sdk

    for path in (SIMPLE, MULTI, CONV):
        ref, ours = peer.Interpreter(model_path=str(path)), sdk.Interpreter(model_path=str(path))
        assert [_plain(o) for o in ours._get_ops_details()] == [_plain(o) for o in ref._get_ops_details()]
        for sg in range(ref.num_subgraphs()):
            assert [_plain(d) for d in ours.get_tensor_details(sg)] == [_plain(d) for d in ref.get_tensor_details(sg)]


# -- allocation state and tensor() views -------------------------------------------------------------------------------
def test_invoke_before_allocate_tensors(api: ModuleType) -> None:
    interp = api.Interpreter(model_path=str(SIMPLE))
    with pytest.raises(RuntimeError, match="^Invoke called on model that is not ready"):
        interp.invoke()
    interp.allocate_tensors()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    interp.set_tensor(0, x)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), simple_expected(x))
    interp.resize_tensor_input(0, [2, 3])  # the same shape: still ready
    interp.invoke()
    interp.resize_tensor_input(0, [4, 3])
    with pytest.raises(RuntimeError, match="^Invoke called on model that is not ready"):
        interp.invoke()
    interp.allocate_tensors()
    x4 = np.arange(12, dtype=np.float32).reshape(4, 3)
    interp.set_tensor(0, x4)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), simple_expected(x4))


REFERENCE_TEXT = "^There is at least 1 reference to internal data"


def test_tensor_views_guard_allocate_and_invoke(api: ModuleType) -> None:
    interp = api.Interpreter(model_path=str(SIMPLE))
    interp.allocate_tensors()
    assert interp._safe_to_run()
    inp = interp.tensor(interp.get_input_details()[0]["index"])
    out = interp.tensor(interp.get_output_details()[0]["index"])
    assert interp._safe_to_run()  # holding the functions is fine
    view = inp()
    assert not interp._safe_to_run()
    with pytest.raises(RuntimeError, match=REFERENCE_TEXT):
        interp.allocate_tensors()
    with pytest.raises(RuntimeError, match=REFERENCE_TEXT):
        interp.invoke()
    with pytest.raises(RuntimeError, match=REFERENCE_TEXT):
        interp.resize_tensor_input(0, [2, 3])
    row = view[1]  # a slice keeps the buffer referenced too
    del view
    assert not interp._safe_to_run()
    with pytest.raises(RuntimeError, match=REFERENCE_TEXT):
        interp.invoke()
    del row
    assert interp._safe_to_run()
    for k in range(3):  # the documented usage pattern
        inp().fill(float(k))
        interp.invoke()
        np.testing.assert_array_equal(out(), simple_expected(np.full((2, 3), k, np.float32)))
    assert interp._safe_to_run()
    interp.allocate_tensors()


# -- signature runners -------------------------------------------------------------------------------------------------
class TensorLike:
    """What a tf.Tensor offers a runner: ``shape``, ``dtype`` and ``__array__``."""

    def __init__(self, value: np.ndarray) -> None:
        self._value = value
        self.shape = value.shape
        self.dtype = value.dtype

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._value if dtype is None else self._value.astype(dtype)


def test_runner_resizes_any_dimension(api: ModuleType) -> None:
    """The model's input is [2, 3] with no dynamic dimension: the runner resizes it anyway (non-strict)."""
    runner = api.Interpreter(model_path=str(SIMPLE)).get_signature_runner()
    for shape in [(4, 5), (1, 1), (2, 3), (3, 7)]:
        x = np.linspace(-2, 3, int(np.prod(shape)), dtype=np.float32).reshape(shape)
        out = runner(x=x)
        assert list(out) == ["y"]
        np.testing.assert_array_equal(out["y"], simple_expected(x))
        assert runner.get_input_details()["x"]["shape"].tolist() == list(shape)
        # the model stores no shape signature for x: the current shape is reported as its signature
        assert runner.get_input_details()["x"]["shape_signature"].tolist() == list(shape)


def test_runner_takes_tensor_like_inputs(api: ModuleType) -> None:
    runner = api.Interpreter(model_path=str(SIMPLE)).get_signature_runner()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(runner(x=TensorLike(x))["y"], simple_expected(x))
    x5 = np.arange(10, dtype=np.float32).reshape(2, 5)
    np.testing.assert_array_equal(runner(x=TensorLike(x5))["y"], simple_expected(x5))


def test_sdk_runner_takes_nested_lists(peer: ModuleType) -> None:
    """ai-edge-litert reads ``value.shape`` (AttributeError for a list); the SDK converts lists to the input's dtype."""
    with pytest.raises(AttributeError):
        peer.Interpreter(model_path=str(SIMPLE)).get_signature_runner()(x=[[1, 2, 3], [4, 5, 6]])
    out = litert_sdk.Interpreter(model_path=str(SIMPLE)).get_signature_runner()(x=[[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(out["y"], simple_expected(np.array([[1, 2, 3], [4, 5, 6]], np.float32)))


def test_0d_bytes_input_keeps_trailing_nul_bytes(api: ModuleType) -> None:
    value = np.array(b"ab\x00\x00")  # dtype S4, 0-d
    runner = api.Interpreter(model_path=str(STRINGS)).get_signature_runner()
    out = runner(s=value)["r"]
    assert out.dtype == object and out.tolist() == [b"ab\x00\x00"]
    interp = api.Interpreter(model_path=str(STRINGS))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], value)
    interp.invoke()
    assert interp.get_tensor(interp.get_output_details()[0]["index"]).tolist() == [b"ab\x00\x00"]
    back = interp.get_tensor(interp.get_input_details()[0]["index"])
    assert isinstance(back, np.ndarray) and back.shape == () and back.dtype == object  # 0-d strings stay arrays
    assert back[()] == b"ab\x00\x00"


def test_0d_numeric_outputs_are_numpy_scalars(api: ModuleType) -> None:
    interp = api.Interpreter(model_path=str(MULTI))
    runner = interp.get_signature_runner("scalar")
    out = runner(s=np.array(3.0, np.float32))["sq"]
    assert type(out) is np.float32 and out == np.float32(9.0)
    out = runner(s=np.float32(-4.0))["sq"]
    assert type(out) is np.float32 and out == np.float32(16.0)
    index = runner.get_output_details()["sq"]["index"]
    name = runner.get_output_details()["sq"]["name"]
    sg = next(s for s in range(interp.num_subgraphs())
              if any(d["name"] == name for d in interp.get_tensor_details(subgraph_index=s)))
    value = interp.get_tensor(index, sg)
    assert type(value) is np.float32 and value == np.float32(16.0)


def test_signature_order(api: ModuleType) -> None:
    """Signatures, and a signature's inputs and outputs, in name order (the model declares scalar, encode, decode;
    encode takes (b, a) and returns zeta, mid, alpha)."""
    interp = api.Interpreter(model_path=str(MULTI))
    sigs = interp.get_signature_list()
    assert list(sigs) == ["decode", "encode", "scalar"]
    assert sigs["encode"] == {"inputs": ["a", "b"], "outputs": ["alpha", "mid", "zeta"]}
    runner = interp.get_signature_runner("encode")
    assert list(runner.get_input_details()) == ["a", "b"]
    assert list(runner.get_output_details()) == ["alpha", "mid", "zeta"]
    a = np.array([[1, 2], [3, 4], [5, 6]], np.float32)
    b = np.array([[10, 20], [30, 40], [50, 60]], np.float32)
    out = runner(b=b, a=a)
    assert list(out) == ["alpha", "mid", "zeta"]
    np.testing.assert_array_equal(out["alpha"], b + a)
    np.testing.assert_array_equal(out["mid"], b * a)
    np.testing.assert_array_equal(out["zeta"], b - a)
    np.testing.assert_array_equal(interp.get_signature_runner("decode")(q=np.array([1, 2, 3], np.int32))["out"],
                                  [3, 6, 9])
    full = interp._get_full_signature_list()
    assert list(full) == ["decode", "encode", "scalar"]
    assert list(full["encode"]["inputs"]) == ["a", "b"] and list(full["encode"]["outputs"]) == ["alpha", "mid", "zeta"]
    assert full["encode"]["inputs"]["a"] == runner.get_input_details()["a"]["index"]
    assert full["encode"]["outputs"]["zeta"] == runner.get_output_details()["zeta"]["index"]


# -- InterpreterWithCustomOps ------------------------------------------------------------------------------------------
CUMPROD = PARITY.parent / "custom_cumprod.tflite"  # TF's Cumprod as the custom op "Cumprod" (make_models.py)


def _cumprod_kernel(inputs: list[np.ndarray], attrs: Any) -> np.ndarray:
    x, axis = inputs
    return np.cumprod(x, axis=int(axis))


@pytest.mark.parametrize("registerers", [None, []], ids=["none", "empty"])
def test_interpreter_with_custom_ops_without_registerers(api: ModuleType, registerers: Any) -> None:
    interp = api.InterpreterWithCustomOps(custom_op_registerers=registerers, model_path=str(SIMPLE), num_threads=1)
    assert isinstance(interp, api.Interpreter)
    interp.allocate_tensors()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    interp.set_tensor(0, x)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), simple_expected(x))


def test_sdk_interpreter_with_custom_ops_takes_python_ops() -> None:
    """The SDK's kernels go where tflite_runtime takes registerers; values are TensorFlow's (the npz reference)."""
    ref = np.load(PARITY.parent / "custom_cumprod.npz")
    x, y = ref["serving_default/in/x"], ref["serving_default/out/y"]
    interp = litert_sdk.interpreter.InterpreterWithCustomOps(
        custom_op_registerers=[litert_sdk.python_op("Cumprod", _cumprod_kernel)], model_path=str(CUMPROD))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), y)
    np.testing.assert_array_equal(interp.get_signature_runner()(x=x)["y"], y)
    plain = litert_sdk.Interpreter(model_path=str(CUMPROD))
    plain.allocate_tensors()
    plain.set_tensor(plain.get_input_details()[0]["index"], x)
    with pytest.raises(errors.RuntimeFailure, match="unresolved custom op: Cumprod"):  # without the kernel
        plain.invoke()


def test_sdk_interpreter_with_custom_ops_takes_library_paths() -> None:
    from litert_sdk.custom_ops import mediapipe_library_path

    path = mediapipe_library_path()
    if not path.is_file():
        pytest.skip(f"this build has no MediaPipe custom-op library ({path})")
    interp = litert_sdk.interpreter.InterpreterWithCustomOps(custom_op_registerers=[str(path)],
                                                             model_path=str(SIMPLE))
    assert "Convolution2DTransposeBias" in {op.name for op in interp._options.custom_ops}
    interp.allocate_tensors()
    interp.set_tensor(0, np.ones((2, 3), np.float32))
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]),
                                  simple_expected(np.ones((2, 3), np.float32)))


def test_registerer_symbol_names(api: ModuleType) -> None:
    """tflite_runtime looks a name up as a C++ registerer symbol (ValueError when missing); the SDK cannot call such
    functions (no op resolver in the C API) and says so with UnsupportedError."""
    registerer = "NoSuchRegistererSymbol"
    expected = ValueError if api.__name__ == PEER else errors.UnsupportedError
    with pytest.raises(expected) as info:
        api.InterpreterWithCustomOps(custom_op_registerers=[registerer], model_path=str(SIMPLE))
    if api.__name__ == SDK:
        assert "MutableOpResolver" in str(info.value) and "python_op" in str(info.value)


def test_sdk_registerer_functions_are_refused_with_the_reason() -> None:
    with pytest.raises(errors.UnsupportedError, match="registerer function.*MutableOpResolver"):
        litert_sdk.interpreter.InterpreterWithCustomOps(custom_op_registerers=[lambda resolver: None],
                                                        model_path=str(SIMPLE))
    with pytest.raises(errors.InvalidArgumentError, match="got int"):
        litert_sdk.interpreter.InterpreterWithCustomOps(custom_op_registerers=[42], model_path=str(SIMPLE))


# -- experimental_preserve_all_tensors ---------------------------------------------------------------------------------
def _all_tensors_after_invoke(api: ModuleType, path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the peer warns that the option is meant for debugging
        interp = api.Interpreter(model_path=str(path), experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return {d["name"]: np.asarray(interp.get_tensor(d["index"])) for d in interp.get_tensor_details()}


def test_preserve_all_tensors_reads_intermediates(api: ModuleType) -> None:
    x = np.array([[-1, 0.5, 1], [1.5, 2, 4]], np.float32)
    values = _all_tensors_after_invoke(api, SIMPLE, x)
    np.testing.assert_array_equal(values["mul"], x * np.float32(2))  # the intermediate MUL result
    outputs = [v for k, v in values.items() if k.startswith("PartitionedCall") or k.startswith("Identity")]
    assert outputs, list(values)
    np.testing.assert_array_equal(outputs[0], simple_expected(x))


def test_preserve_all_tensors_matches_the_peer(peer: ModuleType) -> None:
    """Every tensor of the conv model (intermediates inside what XNNPACK runs as one partition) equals
    ai-edge-litert's value with experimental_preserve_all_tensors=True."""
    from litert_sdk import interpreter as sdk

    x = np.random.default_rng(3).standard_normal((1, 8, 8, 3)).astype(np.float32)
    ref = _all_tensors_after_invoke(peer, CONV, x)
    ours = _all_tensors_after_invoke(sdk, CONV, x)
    assert list(ours) == list(ref)
    intermediates = 0
    for name, want in ref.items():
        np.testing.assert_allclose(ours[name], want, rtol=1e-6, atol=1e-6, err_msg=name)
        intermediates += name in ("Mean", "Relu;add;Conv2D;Const_11")
    assert intermediates == 2
    conv = ours["Relu;add;Conv2D;Const_11"]  # the CONV_2D + bias + RELU output: [1, 8, 8, 4], some positive
    assert conv.shape == (1, 8, 8, 4) and (conv >= 0).all() and (conv > 0).any()
    np.testing.assert_allclose(ours["Mean"], conv.mean(axis=(1, 2)), rtol=1e-5)


def test_sdk_intermediates_need_preserve_all_tensors() -> None:
    interp = litert_sdk.Interpreter(model_path=str(SIMPLE))
    interp.allocate_tensors()
    interp.invoke()
    mul = next(d["index"] for d in interp.get_tensor_details() if d["name"] == "mul")
    with pytest.raises(errors.UnsupportedError, match="experimental_preserve_all_tensors=True"):
        interp.get_tensor(mul)


def test_sdk_preserved_model_keeps_the_public_signature() -> None:
    """The extra outputs stay internal: details, signature list and runner results are the original model's."""
    plain = litert_sdk.Interpreter(model_path=str(CONV))
    kept = litert_sdk.Interpreter(model_path=str(CONV), experimental_preserve_all_tensors=True)
    assert kept.get_signature_list() == plain.get_signature_list()
    assert [d["index"] for d in kept.get_output_details()] == [d["index"] for d in plain.get_output_details()]
    x = np.ones((1, 8, 8, 3), np.float32)
    a, b = kept.get_signature_runner()(image=x), plain.get_signature_runner()(image=x)
    assert list(a) == list(b) == ["logits"]
    np.testing.assert_array_equal(a["logits"], b["logits"])


def test_sdk_private_tensor_details_check_the_subgraph() -> None:
    """ai-edge-litert 2.3.0 crashes on _get_tensor_details(0, 5) of a one-subgraph model; the SDK raises."""
    interp = litert_sdk.Interpreter(model_path=str(SIMPLE))
    for sg in (5, -1):
        with pytest.raises(errors.InvalidArgumentError, match="^subgraph_index is out of range"):
            interp._get_tensor_details(0, sg)


def test_sdk_0d_object_bytes_input() -> None:
    """A 0-d object array holding bytes reaches a string input as its value (ai-edge-litert 2.3.0 sends the bytes of
    a pointer instead)."""
    runner = litert_sdk.Interpreter(model_path=str(STRINGS)).get_signature_runner()
    assert runner(s=np.array(b"ab\x00\x00", dtype=object))["r"].tolist() == [b"ab\x00\x00"]
    assert runner(s=b"xyz\x00")["r"].tolist() == [b"xyz\x00"]


def test_real_tf_tensors_as_inputs() -> None:
    """tf.Tensor inputs (upstream's docstring example feeds tf.constant to set_tensor) into set_tensor and a runner,
    for both modules, in a child process (importing TensorFlow is slow and process-wide)."""
    pytest.importorskip("ai_edge_litert")
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed")
    proc = _run_child(f"""
        import os, json
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, tensorflow as tf
        from ai_edge_litert import interpreter as peer
        from litert_sdk import interpreter as sdk
        out = {{}}
        for name, api in (("peer", peer), ("sdk", sdk)):
            interp = api.Interpreter(model_path={str(SIMPLE)!r})
            interp.allocate_tensors()
            x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
            interp.set_tensor(interp.get_input_details()[0]["index"], x)
            interp.invoke()
            a = interp.get_tensor(interp.get_output_details()[0]["index"]).tolist()
            r = api.Interpreter(model_path={str(SIMPLE)!r}).get_signature_runner()
            b = r(x=tf.constant(np.full((3, 4), 2.5, np.float32)))["y"].tolist()
            out[name] = [a, b]
        print("RESULT " + json.dumps(out))
    """, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    import json

    out = json.loads(line[len("RESULT "):])
    want = [simple_expected(np.arange(6, dtype=np.float32).reshape(2, 3)).tolist(),
            simple_expected(np.full((3, 4), 2.5, np.float32)).tolist()]
    assert out["peer"] == want
    assert out["sdk"] == want


def test_runner_argument_errors(api: ModuleType) -> None:
    interp = api.Interpreter(model_path=str(MULTI))
    runner = interp.get_signature_runner("encode")
    x = np.ones((1, 2), np.float32)
    with pytest.raises(ValueError, match="^Invalid number of inputs provided for running a SignatureDef, expected 2 vs "
                                         "provided 1"):
        runner(a=x)
    with pytest.raises(ValueError, match=r"^Invalid Input name \(c\) for SignatureDef"):
        runner(a=x, c=x)
    with pytest.raises(ValueError, match='^Invalid signature_key provided: "nope"'):
        interp.get_signature_runner("nope")
    with pytest.raises(ValueError, match="^SignatureDef signature_key is None and model has 3 Signatures"):
        interp.get_signature_runner()


def test_sdk_closed_takes_precedence_over_the_view_guard() -> None:
    interp = litert_sdk.Interpreter(model_path=str(SIMPLE))
    interp.allocate_tensors()
    view = interp.tensor(0)()
    interp.close()
    with pytest.raises(errors.ClosedError):
        interp.invoke()
    with pytest.raises(errors.ClosedError):
        interp.allocate_tensors()
    assert view.shape == (2, 3)  # the array stays valid memory after close


SCRIPT = """
import hashlib, json
import numpy as np
{import_line}

def digest(a):
    a = np.ascontiguousarray(np.asarray(a))
    return [str(a.dtype), list(a.shape), hashlib.sha256(a.tobytes()).hexdigest()]

report = []
rng = np.random.default_rng(0)
for path in {paths!r}:
    interp = Interpreter(model_path=path, num_threads=2)
    interp.allocate_tensors()
    report.append(interp.get_signature_list())
    report.append([[d["name"], d["index"], d["shape"].tolist(), str(np.dtype(d["dtype"]))]
                   for d in interp.get_input_details() + interp.get_output_details()])
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], (rng.standard_normal(d["shape"]) * 4).astype(d["dtype"]))
    interp.invoke()
    report.append([digest(interp.get_tensor(d["index"])) for d in interp.get_output_details()])
    out = interp.tensor(interp.get_output_details()[0]["index"])
    report.append(digest(out()))
    for key in interp.get_signature_list():
        runner = interp.get_signature_runner(key)
        feeds = {{n: (rng.standard_normal(d["shape"]) * 4).astype(d["dtype"])
                 for n, d in runner.get_input_details().items()}}
        report.append([key, {{k: digest(v) for k, v in runner(**feeds).items()}}])
print("REPORT " + json.dumps(report))
"""


def test_an_ai_edge_litert_script_runs_unchanged_after_swapping_the_import() -> None:
    """The same script, once with ``from ai_edge_litert.interpreter import Interpreter`` and once with
    ``from litert_sdk.interpreter import Interpreter``: identical signatures, details and bit-identical outputs."""
    pytest.importorskip("ai_edge_litert")
    paths = [str(CONV), str(MULTI), str(SIMPLE)]
    reports = []
    for import_line in ("from ai_edge_litert.interpreter import Interpreter",
                        "from litert_sdk.interpreter import Interpreter"):
        proc = _run_child(SCRIPT.format(import_line=import_line, paths=paths))
        assert proc.returncode == 0, proc.stderr[-3000:]
        reports.append(next(x for x in proc.stdout.splitlines() if x.startswith("REPORT ")))
    assert reports[0] == reports[1]
    assert reports[0].count("float32") > 10 and '["encode", {"alpha"' in reports[0]


@pytest.mark.parametrize("value,text", [
    (np.zeros((2, 3)), r"^Cannot set tensor: Got value of type FLOAT64 but expected type FLOAT32 for input 0, name: "),
    (np.zeros((2, 3), np.int32), r"^Cannot set tensor: Got value of type INT32 but expected type FLOAT32 for input 0"),
    (np.zeros((4, 3), np.float32), r"^Cannot set tensor: Dimension mismatch. Got 4 but expected 2 for dimension 0 of "
                                   r"input 0\."),
    (np.zeros((2, 3, 1), np.float32), r"^Cannot set tensor: Dimension mismatch. Got 3 but expected 2 for input 0\."),
], ids=["float64", "int32", "dim0", "rank"])
def test_set_tensor_errors(api: ModuleType, value: np.ndarray, text: str) -> None:
    interp = api.Interpreter(model_path=str(SIMPLE))
    interp.allocate_tensors()
    with pytest.raises(ValueError, match=text):
        interp.set_tensor(0, value)
    interp.set_tensor(0, np.ones((2, 3), np.float32))  # still usable
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]),
                                  simple_expected(np.ones((2, 3), np.float32)))


def test_preserve_all_tensors_on_a_model_without_signatures(peer: ModuleType) -> None:
    """MediaPipe's face detector (no signature defs: the runtime's default signature carries the extra outputs):
    all 250 tensors, intermediates included, equal ai-edge-litert's bit for bit."""
    from conftest import BUNDLED_FACE_MODEL

    from litert_sdk import interpreter as sdk

    x = np.random.default_rng(5).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    ref = _all_tensors_after_invoke(peer, BUNDLED_FACE_MODEL, x)
    ours = _all_tensors_after_invoke(sdk, BUNDLED_FACE_MODEL, x)
    assert len(ref) == 250 and list(ours) == list(ref)
    # DEQUANTIZE outputs of float16 constants: the peer's XNNPACK reads the constants itself and never writes these
    # tensors (their memory holds whatever the planner left there), so they are checked against the constant
    consts = peer.Interpreter(model_path=str(BUNDLED_FACE_MODEL))
    details = {d["index"]: d["name"] for d in consts.get_tensor_details()}
    dequantized = {details[op["outputs"][0]]: consts.get_tensor(op["inputs"][0]).astype(np.float32)
                   for op in consts._get_ops_details() if op["op_name"] == "DEQUANTIZE"}
    assert dequantized
    for name, want in ref.items():
        np.testing.assert_array_equal(ours[name], dequantized.get(name, want), err_msg=name)
    assert sum(v.ndim == 4 and v.shape[1] in (64, 32, 16) for v in ours.values()) > 50  # feature maps were read


def test_tensor_details_follow_a_resize(api: ModuleType) -> None:
    """After a (non-strict) resize and allocate_tensors(), every tensor's details carry its new shape (without the
    default XNNPACK delegate: tflite_runtime leaves the tensors inside a delegated partition at their old shapes)."""
    interp = api.Interpreter(model_path=str(SIMPLE),
                             experimental_op_resolver_type=api.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.resize_tensor_input(0, [4, 5])
    interp.allocate_tensors()
    shapes = {d["name"]: d["shape"].tolist() for d in interp.get_tensor_details()}
    assert shapes["mul"] == [4, 5] and shapes[interp.get_input_details()[0]["name"]] == [4, 5]
    assert shapes[interp.get_output_details()[0]["name"]] == [4, 5]
    assert [v for k, v in shapes.items() if "/y" in k or k.startswith("Const") or v == []]  # scalar constants stay []
    runner = api.Interpreter(model_path=str(CONV)).get_signature_runner()
    out = runner(image=np.ones((3, 8, 8, 3), np.float32))["logits"]
    assert out.shape == (3, 2)


def test_a_runner_of_the_main_subgraph_allocates_it(api: ModuleType) -> None:
    """A signature runner allocates its subgraph: after it ran on the main one, invoke() needs no allocate_tensors()."""
    interp = api.Interpreter(model_path=str(SIMPLE))
    interp.resize_tensor_input(0, [4, 3])
    with pytest.raises(RuntimeError, match="^Invoke called on model that is not ready"):
        interp.invoke()
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    runner = interp.get_signature_runner()
    np.testing.assert_array_equal(runner(x=x)["y"], simple_expected(x))
    del runner  # (ai-edge-litert's runner holds a reference that _safe_to_run() counts)
    interp.set_tensor(0, -x)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), simple_expected(-x))


def test_0d_tensors_of_the_main_subgraph(api: ModuleType) -> None:
    interp = api.Interpreter(model_path=str(SCALAR))
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    assert inp["shape"].tolist() == [] and out["shape"].tolist() == []
    for s in (3.0, -0.5):
        interp.set_tensor(inp["index"], np.array(s, np.float32))
        interp.invoke()
        y = interp.get_tensor(out["index"])
        assert type(y) is np.float32 and y == np.float32(s * s + 1)
        x = interp.get_tensor(inp["index"])
        assert type(x) is np.float32 and x == np.float32(s)
    assert interp.tensor(out["index"])().shape == ()  # views stay 0-d arrays
    interp.set_tensor(inp["index"], np.float32(2.0))  # a numpy scalar as the value
    interp.invoke()
    assert interp.get_tensor(out["index"]) == np.float32(5.0)


def test_preserve_all_tensors_in_every_signature_subgraph(peer: ModuleType) -> None:
    """After both signature runners of a two-subgraph model ran, every tensor of both subgraphs (intermediates
    included) equals ai-edge-litert's with experimental_preserve_all_tensors=True, and the math."""
    import warnings

    from litert_sdk import interpreter as sdk

    x1 = np.array([[0, 1], [2, -3]], np.float32)
    x2 = np.array([1, 2, -3], np.float32)
    values = []
    for api in (peer, sdk):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            interp = api.Interpreter(model_path=str(CHAINS), experimental_preserve_all_tensors=True)
        f = interp.get_signature_runner("first")(x=x1)["f"]
        g = interp.get_signature_runner("second")(x=x2)["g"]
        np.testing.assert_array_equal(f, np.maximum(x1 * 2 - 1, 0) + 3)
        np.testing.assert_array_equal(g, (x2 + 1) * x2 - 2)
        values.append({(sg, d["name"]): np.asarray(interp.get_tensor(d["index"], sg))
                       for sg in range(interp.num_subgraphs()) for d in interp.get_tensor_details(sg)})
    ref, ours = values
    assert list(ours) == list(ref) and len(ref) == 13
    for key, want in ref.items():
        np.testing.assert_array_equal(ours[key], want, err_msg=str(key))
    by_name = {name: v for (_, name), v in ours.items()}
    np.testing.assert_array_equal(by_name["mul"], x1 * 2)  # intermediates of "first"
    np.testing.assert_array_equal(by_name["Relu;sub"], np.maximum(x1 * 2 - 1, 0))
    np.testing.assert_array_equal(by_name["add"], x2 + 1)  # and of "second"
    np.testing.assert_array_equal(by_name["mul1"], (x2 + 1) * x2)
