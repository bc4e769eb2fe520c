"""ai_edge_litert's CompiledModel / TensorBuffer API: the same test body runs against ai-edge-litert 2.3.0 (the peer)
and litert_sdk, asserting upstream's documented behaviour; outputs are compared bit for bit with ai_edge_litert's
Interpreter (which gives the peer's CompiledModel outputs bit for bit on these models).

Models: the bundled face detector (float32, static shapes), microWakeWord's alexa (int8 in, uint8 out) and the
TFLM sine model (dynamic batch). None computes output shapes at run time (where the peer corrupts its heap).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import GENERATED

import litert_sdk

MANIFEST = json.loads((GENERATED / "manifest.json").read_text())["models"]
FACE = Path(litert_sdk.__file__).parent / "data" / "face_detection_short_range.tflite"
FACE_KEY = "<placeholder signature>"
APIS = ["ai_edge_litert", "litert_sdk"]


@pytest.fixture(params=APIS)
def api(request):
    """The package under test: its CompiledModel, TensorBuffer and HardwareAccelerator, imported the upstream way."""
    if request.param == "ai_edge_litert":
        request.getfixturevalue("peer")  # skips when ai-edge-litert is not installed
        from ai_edge_litert.compiled_model import CompiledModel
        from ai_edge_litert.hardware_accelerator import HardwareAccelerator
        from ai_edge_litert.tensor_buffer import TensorBuffer
    else:
        from litert_sdk.compiled_model import CompiledModel
        from litert_sdk.hardware_accelerator import HardwareAccelerator
        from litert_sdk.tensor_buffer import TensorBuffer
    return SimpleNamespace(name=request.param, CompiledModel=CompiledModel, TensorBuffer=TensorBuffer,
                           HardwareAccelerator=HardwareAccelerator)


def _interpreter_outputs(peer, path, inputs, resize=None):
    """ai_edge_litert Interpreter outputs by tensor name (the reference)."""
    it = peer.Interpreter(model_path=str(path))
    if resize is not None:
        it.resize_tensor_input(0, resize)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs, strict=False):
        it.set_tensor(d["index"], x)
    it.invoke()
    return {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}


def _seeded_input(details, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(details["dtype"])
    if dtype.kind == "f":
        return rng.standard_normal(details["shape"]).astype(dtype)
    return rng.integers(-100, 100, details["shape"]).astype(dtype)


def _read_outputs(model, key, buffers):
    out = {}
    for (_name, d), buf in zip(model.get_output_tensor_details(key).items(), buffers, strict=False):
        out[d["name"]] = buf.read(math.prod(d["shape"]), np.dtype(d["dtype"])).reshape(d["shape"])
    return out


def _assert_bitwise(got, want):
    assert got.keys() == want.keys()
    for k in want:
        assert got[k].dtype == want[k].dtype and got[k].shape == want[k].shape, k
        assert got[k].tobytes() == want[k].tobytes(), f"{k}: max diff {np.abs(got[k] - want[k]).max()}"


def _aligned(shape, dtype, offset=0):
    """A C-contiguous array whose address is 64-byte aligned plus ``offset`` bytes."""
    dtype = np.dtype(dtype)
    n = math.prod(shape) * dtype.itemsize
    raw = np.zeros(n + 128, np.uint8)
    start = (-raw.ctypes.data) % 64 + offset
    a = raw[start:start + n].view(dtype).reshape(shape)
    assert a.ctypes.data % 64 == offset
    return a


# -- imports, signatures, details -------------------------------------------------------------------------------------
def test_hardware_accelerator_values(api):
    import importlib

    compiled_model = importlib.import_module(f"{api.name}.compiled_model")
    # upstream's compiled_model module also provides these names
    assert compiled_model.HardwareAccelerator is api.HardwareAccelerator
    assert compiled_model.TensorBuffer is api.TensorBuffer
    hw = api.HardwareAccelerator
    assert (int(hw.CPU), int(hw.GPU), int(hw.NPU)) == (1, 2, 4)  # LiteRtHwAccelerators bits
    assert int(hw.GPU | hw.CPU) == 3


def test_signature_queries(api):
    m = api.CompiledModel.from_file(str(FACE))
    io = {"inputs": ["input"], "outputs": ["regressors", "classificators"]}
    assert m.get_signature_list() == {FACE_KEY: io}
    assert m.get_num_signatures() == 1
    assert m.get_signature_by_index(0) == {"key": FACE_KEY, **io}
    assert m.get_signature_index(FACE_KEY) == 0
    assert m.get_signature_index("no such signature") == -1


def test_tensor_details_and_buffer_requirements(api):
    m = api.CompiledModel.from_file(str(FACE))
    assert m.get_input_tensor_details(FACE_KEY) == {
        "input": {"name": "input", "index": 0, "dtype": "float32", "shape": [1, 128, 128, 3]}}
    assert m.get_output_tensor_details(FACE_KEY) == {
        "regressors": {"name": "regressors", "index": 175, "dtype": "float32", "shape": [1, 896, 16]},
        "classificators": {"name": "classificators", "index": 174, "dtype": "float32", "shape": [1, 896, 1]}}
    # buffer_size: the tensor's bytes; supported_types: [1] = kLiteRtTensorBufferTypeHostMemory
    assert m.get_input_buffer_requirements(0) == {"buffer_size": 128 * 128 * 3 * 4, "supported_types": [1]}
    assert m.get_output_buffer_requirements(0, 0) == {"buffer_size": 896 * 16 * 4, "supported_types": [1]}
    assert m.get_output_buffer_requirements(1) == {"buffer_size": 896 * 4, "supported_types": [1]}
    ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
    assert [b.get_tensor_details() for b in ins] == [{"dtype": "float32", "shape": [1, 128, 128, 3]}]
    assert [b.get_tensor_details() for b in outs] == [{"dtype": "float32", "shape": [1, 896, 16]},
                                                      {"dtype": "float32", "shape": [1, 896, 1]}]
    assert m.create_output_buffer_by_name(FACE_KEY, "classificators").get_tensor_details() == {
        "dtype": "float32", "shape": [1, 896, 1]}


# -- running -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["face", "microww__alexa.tflite"])
def test_run_by_index_matches_interpreter(api, peer, corpus, model):
    path = FACE if model == "face" else corpus / model
    m = api.CompiledModel.from_file(str(path))
    key = m.get_signature_by_index(0)["key"]
    x = _seeded_input(next(iter(m.get_input_tensor_details(key).values())))
    ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
    ins[0].write(x)
    m.run_by_index(0, ins, outs)
    want = _interpreter_outputs(peer, path, [x])
    _assert_bitwise(_read_outputs(m, key, outs), want)
    # a second run on new input data gives that input's outputs
    x2 = _seeded_input(next(iter(m.get_input_tensor_details(key).values())), seed=1)
    ins[0].write(x2)
    m.run_by_index(0, ins, outs)
    _assert_bitwise(_read_outputs(m, key, outs), _interpreter_outputs(peer, path, [x2]))


def test_run_by_name(api, peer):
    m = api.CompiledModel.from_file(str(FACE))
    x = _seeded_input(m.get_input_tensor_details(FACE_KEY)["input"])
    inp = m.create_input_buffer_by_name(FACE_KEY, "input")
    outs = {n: m.create_output_buffer_by_name(FACE_KEY, n) for n in ("regressors", "classificators")}
    inp.write(x)
    m.run_by_name(FACE_KEY, {"input": inp}, outs)
    _assert_bitwise(_read_outputs(m, FACE_KEY, [outs["regressors"], outs["classificators"]]),
                    _interpreter_outputs(peer, FACE, [x]))


def test_outputs_written_into_host_memory(api, peer):
    """Output buffers over numpy memory (create_from_host_memory): the run writes the results into the arrays."""
    m = api.CompiledModel.from_file(str(FACE))
    x = _seeded_input(m.get_input_tensor_details(FACE_KEY)["input"])
    ins = m.create_input_buffers(0)
    ins[0].write(x)
    reg, cls = _aligned((896 * 16,), np.float32), _aligned((896,), np.float32)
    outs = [api.TensorBuffer.create_from_host_memory(reg), api.TensorBuffer.create_from_host_memory(cls)]
    m.run_by_index(0, ins, outs)
    want = _interpreter_outputs(peer, FACE, [x])
    assert reg.tobytes() == want["regressors"].tobytes()
    assert cls.tobytes() == want["classificators"].tobytes()


def test_input_from_host_memory_is_zero_copy(api, peer):
    """An input buffer over numpy memory is read at each run: changing the array changes the outputs.

    ai_edge_litert's host-memory buffers are rank 1 and its runtime tries to resize the input to the buffer's shape
    ("Cannot auto-resize tensor input"), so it refuses them for inputs of another shape; litert_sdk binds them with
    the input's shape when the sizes match.
    """
    m = api.CompiledModel.from_file(str(FACE))
    x = _aligned((1, 128, 128, 3), np.float32)
    x[...] = _seeded_input(m.get_input_tensor_details(FACE_KEY)["input"])
    buf = api.TensorBuffer.create_from_host_memory(x)
    assert buf.get_tensor_details() == {"dtype": "float32", "shape": [128 * 128 * 3]}
    outs = m.create_output_buffers(0)
    if api.name == "ai_edge_litert":
        with pytest.raises(RuntimeError, match="Cannot auto-resize tensor"):
            m.run_by_index(0, [buf], outs)
        return
    m.run_by_index(0, [buf], outs)
    _assert_bitwise(_read_outputs(m, FACE_KEY, outs), _interpreter_outputs(peer, FACE, [x.copy()]))
    x *= 0.5  # in place: no write()
    m.run_by_index(0, [buf], outs)
    _assert_bitwise(_read_outputs(m, FACE_KEY, outs), _interpreter_outputs(peer, FACE, [x.copy()]))


def test_resize_input_tensor(api, peer, corpus):
    path = corpus / "tflm__sine_float.tflite"
    m = api.CompiledModel.from_file(str(path))
    m.resize_input_tensor(0, [3, 1])  # strict: the batch is dynamic in the model's shape signature
    assert m.get_input_tensor_details("serving_default")["dense_input"]["shape"] == [3, 1]
    assert m.get_output_tensor_details("serving_default")["dense_2"]["shape"] == [3, 1]
    assert m.get_input_buffer_requirements(0)["buffer_size"] == 12
    assert m.get_output_buffer_requirements(0)["buffer_size"] == 12
    ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
    assert outs[0].get_tensor_details() == {"dtype": "float32", "shape": [3, 1]}
    x = np.array([[0.5], [1.0], [1.5]], np.float32)
    ins[0].write(x)
    m.run_by_index(0, ins, outs)
    _assert_bitwise(_read_outputs(m, "serving_default", outs), _interpreter_outputs(peer, path, [x], resize=[3, 1]))
    m.resize_input_tensor_by_name("serving_default", "dense_input", [2, 1])
    assert m.get_input_tensor_details("serving_default")["dense_input"]["shape"] == [2, 1]


def test_resize_fully_dynamic_input_in_child(api, peer, corpus, tmp_path):
    """openWakeWord's melspectrogram (input [-1, -1], shape operators inside): resized to [1, 1280] and run; in a
    child process, as the peer's CompiledModel is known to corrupt its heap on some models with computed shapes."""
    path = corpus / "oww__melspectrogram.tflite"
    x = (np.random.default_rng(0).standard_normal((1, 1280)) * 1000).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code = textwrap.dedent(f"""
        import numpy as np
        from {api.name}.compiled_model import CompiledModel
        m = CompiledModel.from_file({str(path)!r})
        try:  # at the stored input shape [1, 1] the model cannot be prepared
            m.get_output_tensor_details("serving_default")
        except RuntimeError:
            print("unprepared")
        m.resize_input_tensor(0, [1, 1280])
        d = m.get_output_tensor_details("serving_default")["output"]
        print(d["shape"], m.get_output_buffer_requirements(0)["buffer_size"])
        ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
        ins[0].write(np.load({str(tmp_path / "x.npy")!r}))
        m.run_by_index(0, ins, outs)
        np.save({str(tmp_path / "y.npy")!r}, outs[0].read(int(np.prod(d["shape"])), np.float32).reshape(d["shape"]))
    """)
    proc = _run_child(code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["unprepared", "[1,", "1,", "5,", "32]", str(5 * 32 * 4)]
    want = next(iter(_interpreter_outputs(peer, path, [x], resize=[1, 1280]).values()))
    assert np.load(tmp_path / "y.npy").tobytes() == want.tobytes()


def test_strict_resize_of_static_dimension_raises(api):
    m = api.CompiledModel.from_file(str(FACE))
    with pytest.raises(RuntimeError):
        m.resize_input_tensor(0, [2, 128, 128, 3])
    assert m.get_input_tensor_details(FACE_KEY)["input"]["shape"] == [1, 128, 128, 3]


def test_hardware_accel_and_from_buffer(api, peer):
    hw = api.HardwareAccelerator
    by_kw = api.CompiledModel.from_file(str(FACE), hardware_accel=hw.CPU)
    by_pos = api.CompiledModel.from_buffer(FACE.read_bytes(), hw.CPU)
    for m in (by_kw, by_pos):
        assert m.is_fully_accelerated() is True  # every op of the face model runs on XNNPACK
        x = _seeded_input(m.get_input_tensor_details(FACE_KEY)["input"])
        ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
        ins[0].write(x)
        m.run_by_index(0, ins, outs)
        _assert_bitwise(_read_outputs(m, FACE_KEY, outs), _interpreter_outputs(peer, FACE, [x]))
    with pytest.raises(ValueError, match="either options or hardware_accel"):
        api.CompiledModel.from_file(str(FACE), hardware_accel=hw.CPU, options=object())
    with api.CompiledModel.from_file(str(FACE)) as m:
        assert m.get_num_signatures() == 1


# -- generated models (tests/models, TensorFlow's outputs in the .npz files) -------------------------------------------
def test_multi_signature_model(api):
    """Signature and input/output order are the runtime's (as in the manifest); run_by_name binds by name."""
    path = GENERATED / "multi_signature.tflite"
    ref = np.load(GENERATED / "multi_signature.npz")
    sigs = MANIFEST["multi_signature"]["signatures"]
    m = api.CompiledModel.from_file(str(path))
    assert m.get_signature_list() == {
        k: {"inputs": sigs[k]["litert_compiled_model_input_order"],
            "outputs": sigs[k]["litert_compiled_model_output_order"]} for k in ("add", "project")}
    assert [m.get_signature_index(k) for k in ("add", "project")] == [0, 1]
    assert m.get_signature_by_index(1)["key"] == "project"

    inputs = {n: m.create_input_buffer_by_name("add", n) for n in ("a", "b")}
    outputs = {n: m.create_output_buffer_by_name("add", n) for n in ("sum", "difference")}
    for n, b in inputs.items():
        b.write(ref[f"add/in/{n}"])
    m.run_by_name("add", inputs, outputs)
    for n, b in outputs.items():
        assert b.read(6, np.float32).reshape(2, 3).tobytes() == ref[f"add/out/{n}"].tobytes(), n

    ins, outs = m.create_input_buffers(1), m.create_output_buffers(1)
    ins[0].write(ref["project/in/x"])
    m.run_by_index(1, ins, outs)
    np.testing.assert_allclose(outs[0].read(3, np.float32).reshape(1, 3), ref["project/out/y"], rtol=1e-6,
                               atol=float(MANIFEST["multi_signature"]["litert_compiled_model"]["signatures"]
                                          ["project"]["max_abs_diff_vs_tf"]))


def test_bfloat16_model(api):
    """bfloat16 inputs and outputs through ml_dtypes, bit for bit TensorFlow's result."""
    import ml_dtypes

    ref = np.load(GENERATED / "dtype_bfloat16.npz")
    m = api.CompiledModel.from_file(str(GENERATED / "dtype_bfloat16.tflite"))
    assert m.get_input_tensor_details("serving_default")["x"]["dtype"] == "bfloat16"
    ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
    assert outs[0].get_tensor_details() == {"dtype": "bfloat16", "shape": [2, 3]}
    ins[0].write(ref["serving_default/in/x.bits"].view(ml_dtypes.bfloat16))
    m.run_by_index(0, ins, outs)
    got = outs[0].read(6, ml_dtypes.bfloat16)
    assert got.dtype == np.dtype(ml_dtypes.bfloat16)
    assert got.view(np.uint16).reshape(2, 3).tolist() == ref["serving_default/out/y.bits"].tolist()


@pytest.mark.parametrize("sig", ["bool", "float16", "float32", "int8", "int32", "uint8", "int16", "int64"])
def test_dtypes_model(api, sig):
    """One signature per dtype; int16 and int64 buffers are litert_sdk additions (ai_edge_litert: ValueError)."""
    ref = np.load(GENERATED / "dtypes.npz")
    m = api.CompiledModel.from_file(str(GENERATED / "dtypes.tflite"))
    index = m.get_signature_index(sig)
    assert m.get_input_tensor_details(sig)["x"]["dtype"] == sig
    if api.name == "ai_edge_litert" and sig in ("int16", "int64"):
        with pytest.raises(ValueError, match="Unsupported dtype"):
            m.create_input_buffers(index)[0].write(ref[f"{sig}/in/x"])
        return
    ins, outs = m.create_input_buffers(index), m.create_output_buffers(index)
    ins[0].write(ref[f"{sig}/in/x"])
    m.run_by_index(index, ins, outs)
    want = ref[f"{sig}/out/y"]
    assert outs[0].read(want.size, want.dtype).reshape(want.shape).tobytes() == want.tobytes()


# -- TensorBuffer ------------------------------------------------------------------------------------------------------
def test_create_from_host_memory_alignment_rule(api):
    """64-byte aligned arrays are shared (no copy); unaligned ones are copied into aligned memory."""
    aligned = _aligned((16,), np.float32)
    aligned[:] = np.arange(16)
    shared = api.TensorBuffer.create_from_host_memory(aligned)
    aligned[3] = 100.0
    assert shared.read(16, np.float32)[3] == 100.0
    shared.write(np.full(2, -1.0, np.float32))
    assert aligned[:3].tolist() == [-1.0, -1.0, 2.0]

    unaligned = _aligned((16,), np.float32, offset=4)
    unaligned[:] = np.arange(16)
    copied = api.TensorBuffer.create_from_host_memory(unaligned)
    unaligned[3] = 100.0
    assert copied.read(16, np.float32).tolist() == list(range(16))


def test_create_from_host_memory_rejects(api):
    with pytest.raises(ValueError):
        api.TensorBuffer.create_from_host_memory([1.0, 2.0])  # not a numpy array
    with pytest.raises(ValueError):
        api.TensorBuffer.create_from_host_memory(np.zeros((4, 4), np.float32)[:, 1])  # not C-contiguous
    with pytest.raises(ValueError):
        api.TensorBuffer.create_from_host_memory(np.zeros(4, np.float64))  # unsupported dtype


def test_write_and_read(api):
    buf = api.TensorBuffer.create_from_host_memory(_aligned((8,), np.float32))
    buf.write(np.ones(3, np.float32))  # a shorter write fills the start
    assert buf.read(8, np.float32).tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    buf.write(np.arange(16, dtype=np.float32)[::2])  # non-contiguous sources are made contiguous
    assert buf.read(8, np.float32).tolist() == list(range(0, 16, 2))
    buf.write(np.array([1.5], np.float32))
    assert buf.read(1, np.int32)[0] == np.array([1.5], np.float32).view(np.int32)[0]  # bytes reinterpreted
    assert buf.read(4, np.uint8).tolist() == list(np.array([1.5], np.float32).view(np.uint8))
    assert buf.read(0, np.float32).shape == (0,)
    with pytest.raises(RuntimeError, match="larger than the tensor buffer"):
        buf.write(np.zeros(9, np.float32))
    with pytest.raises(RuntimeError, match="larger than the tensor buffer"):
        buf.read(9, np.float32)
    with pytest.raises(ValueError, match="Unsupported dtype"):
        buf.read(1, np.float64)
    with pytest.raises(ValueError):
        buf.write([1.0])


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16", "float8_e4m3fn", "float8_e5m2", "int8", "uint8",
                                        "int32", "bool"])
def test_dtypes_round_trip(api, dtype_name):
    import ml_dtypes

    dtype = np.dtype(getattr(ml_dtypes, dtype_name, None) or dtype_name)
    values = (np.arange(-8, 8) * 0.5).astype(dtype)
    buf = api.TensorBuffer.create_from_host_memory(values)
    assert buf.get_tensor_details() == {"dtype": dtype_name, "shape": [16]}
    got = buf.read(16, dtype)
    assert got.dtype == dtype and got.tobytes() == values.tobytes()
    managed = api.TensorBuffer.create_from_host_memory(_aligned((16,), dtype))
    managed.write(values)
    assert managed.read(16, dtype).tobytes() == values.tobytes()


def test_destroy(api):
    m = api.CompiledModel.from_file(str(FACE))
    ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
    ins[0].destroy()
    ins[0].destroy()  # twice is fine
    with pytest.raises(RuntimeError):
        ins[0].write(np.zeros(4, np.float32))
    with pytest.raises(RuntimeError):
        ins[0].read(1, np.float32)
    with pytest.raises(RuntimeError):
        ins[0].get_tensor_details()
    with pytest.raises(ValueError, match="destroyed"):
        m.run_by_index(0, ins, outs)


def test_bad_signatures_names_and_indices(api):
    m = api.CompiledModel.from_file(str(FACE))
    ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
    with pytest.raises(RuntimeError, match="Signature not found"):
        m.get_input_tensor_details("nope")
    with pytest.raises(RuntimeError, match="not found"):
        m.create_input_buffer_by_name(FACE_KEY, "nope")
    with pytest.raises(RuntimeError, match="not found"):
        m.create_output_buffer_by_name("nope", "regressors")
    with pytest.raises(RuntimeError):
        m.create_input_buffers(3)
    with pytest.raises(RuntimeError):
        m.get_input_buffer_requirements(5)
    with pytest.raises(RuntimeError):
        m.get_output_buffer_requirements(0, 2)
    with pytest.raises(RuntimeError):
        m.run_by_index(0, [], outs)
    with pytest.raises(RuntimeError):
        m.run_by_name("nope", {"input": ins[0]}, {})
    with pytest.raises(ValueError):
        m.resize_input_tensor_by_name(FACE_KEY, "nope", [1, 128, 128, 3])
    with pytest.raises(ValueError):
        m.resize_input_tensor_by_name("nope", "input", [1, 128, 128, 3])


def test_documented_differences(api):
    """The README's rows for run_by_name with missing/unknown input names, 0-d host memory and use after close()."""
    m = api.CompiledModel.from_file(str(FACE))
    ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
    base = np.zeros(32, np.float32)
    k = next(i for i in range(32) if base[i:].ctypes.data % 64)  # misaligned: upstream copies it to align it
    scalar = base[k:k + 1].reshape(())
    if api.name == "ai_edge_litert":
        all_outputs = {"regressors": outs[0], "classificators": outs[1]}
        assert m.run_by_name(FACE_KEY, {}, all_outputs) is None  # missing inputs: returns without raising
        assert m.run_by_name(FACE_KEY, {"nope": ins[0]}, all_outputs) is None
        with pytest.raises(RuntimeError, match="missing some output"):
            m.run_by_name(FACE_KEY, {"input": ins[0]}, {"regressors": outs[0]})
        with pytest.raises(IndexError):
            api.TensorBuffer.create_from_host_memory(scalar)
        m.close()
        with pytest.raises(AttributeError):
            m.get_signature_list()
        return
    with pytest.raises(litert_sdk.errors.RuntimeArgumentError, match=r"missing: \['input'\]"):
        m.run_by_name(FACE_KEY, {}, {"regressors": outs[0], "classificators": outs[1]})
    with pytest.raises(litert_sdk.errors.RuntimeArgumentError, match=r"unknown: \['nope'\]"):
        m.run_by_name(FACE_KEY, {"input": ins[0], "nope": ins[0]}, {"regressors": outs[0], "classificators": outs[1]})
    assert api.TensorBuffer.create_from_host_memory(scalar).get_tensor_details() == {"dtype": "float32", "shape": [1]}
    m.close()
    with pytest.raises(litert_sdk.errors.ClosedError):
        m.get_signature_list()
    with pytest.raises(litert_sdk.errors.ClosedError):
        m.run_by_index(0, ins, outs)


# -- in child processes ------------------------------------------------------------------------------------------------
def _run_child(code, timeout=120):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def test_signature_index_out_of_range(peer):
    """ai_edge_litert aborts the process (a failed LiteRT check); litert_sdk raises a RuntimeError."""
    body = textwrap.dedent(f"""
        from {{pkg}}.compiled_model import CompiledModel
        m = CompiledModel.from_file({str(FACE)!r})
        try:
            m.get_signature_by_index(7)
        except RuntimeError as e:
            print("raised:", e)
    """)
    upstream = _run_child(body.format(pkg="ai_edge_litert"))
    assert upstream.returncode < 0 and "LiteRT check failed" in upstream.stderr
    ours = _run_child(body.format(pkg="litert_sdk"))
    assert ours.returncode == 0, ours.stderr
    assert "raised: Signature index 7 is out of range" in ours.stdout


def test_threads_share_a_model_with_their_own_buffers():
    """Threads running one model on their own TensorBuffers (runs are serialised, the GIL is released in them),
    another destroying buffers and finally closing the model: every result is right and nothing crashes."""
    code = textwrap.dedent(f"""
        import threading
        import numpy as np
        from litert_sdk.compiled_model import CompiledModel
        from litert_sdk.errors import ClosedError, RuntimeArgumentError
        m = CompiledModel.from_file({str(FACE)!r})
        key = m.get_signature_by_index(0)["key"]
        xs = [np.random.default_rng(s).standard_normal((1, 128, 128, 3)).astype(np.float32) for s in range(3)]
        want = [m.run([x])[0] for x in xs]
        errors = []

        def worker(i):
            ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
            ins[0].write(xs[i])
            for _ in range(40):
                m.run_by_index(0, ins, outs)
                got = outs[0].read(896 * 16, np.float32).reshape(1, 896, 16)
                if got.tobytes() != want[i].tobytes():
                    errors.append(i)

        def destroyer():
            for _ in range(40):
                ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
                ins[0].destroy()
                try:
                    m.run_by_index(0, ins, outs)
                except RuntimeArgumentError:
                    pass

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)] + [threading.Thread(target=destroyer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ins, outs = m.create_input_buffers(0), m.create_output_buffers(0)
        m.close()
        try:
            m.run_by_index(0, ins, outs)
        except ClosedError:
            print("closed")
        print("errors", errors)
    """)
    proc = _run_child(code, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["closed", "errors", "[]"]


# A typical ai_edge_litert CompiledModel + TensorBuffer program (as in upstream's docs and tests).
SCRIPT = '''
import sys
import numpy as np
from ai_edge_litert.compiled_model import CompiledModel
from ai_edge_litert.hardware_accelerator import HardwareAccelerator
from ai_edge_litert.tensor_buffer import TensorBuffer

model_path, sine_path, out_path = sys.argv[1:4]
model = CompiledModel.from_file(model_path, hardware_accel=HardwareAccelerator.CPU)
signature = model.get_signature_by_index(0)
key = signature["key"]
input_details = model.get_input_tensor_details(key)
output_details = model.get_output_tensor_details(key)
print("signatures", model.get_num_signatures(), model.get_signature_list())

input_buffers = model.create_input_buffers(0)
output_buffers = model.create_output_buffers(0)
rng = np.random.default_rng(7)
results = {}
for step in range(3):
    for buf, (name, d) in zip(input_buffers, input_details.items()):
        buf.write(rng.standard_normal(d["shape"]).astype(np.dtype(d["dtype"])))
    model.run_by_index(0, input_buffers, output_buffers)
    for buf, (name, d) in zip(output_buffers, output_details.items()):
        n = int(np.prod(d["shape"]))
        results[f"{name}_{step}"] = buf.read(n, np.dtype(d["dtype"])).reshape(d["shape"])

# output written straight into numpy memory, run by name
reg = TensorBuffer.create_from_host_memory(np.zeros(896 * 16, np.float32))
cls = model.create_output_buffer_by_name(key, "classificators")
model.run_by_name(key, {"input": input_buffers[0]}, {"regressors": reg, "classificators": cls})
results["by_name_regressors"] = reg.read(896 * 16, np.float32)
results["by_name_classificators"] = cls.read(896, np.float32)
print("fully accelerated", model.is_fully_accelerated())

# a dynamic batch, resized
sine = CompiledModel.from_file(sine_path)
sine.resize_input_tensor_by_name("serving_default", "dense_input", [4, 1])
ins, outs = sine.create_input_buffers(0), sine.create_output_buffers(0)
ins[0].write(np.linspace(0, 3, 4, dtype=np.float32).reshape(4, 1))
sine.run_by_index(0, ins, outs)
results["sine"] = outs[0].read(4, np.float32)
req = sine.get_output_buffer_requirements(0)
print("requirements", req)
for b in ins + outs + input_buffers + output_buffers:
    b.destroy()
np.savez(out_path, **results)
'''


def test_ai_edge_litert_script_runs_unchanged_after_swapping_the_import(peer, corpus, tmp_path):
    sine = corpus / "tflm__sine_float.tflite"
    ours = SCRIPT.replace("from ai_edge_litert.", "from litert_sdk.")
    assert "ai_edge_litert" not in ours
    runs = {}
    for name, text in (("ai_edge_litert", SCRIPT), ("litert_sdk", ours)):
        script = tmp_path / f"script_{name}.py"  # not ai_edge_litert.py: it would shadow the package
        script.write_text(text)
        out = tmp_path / f"{name}.npz"
        proc = subprocess.run([sys.executable, str(script), str(FACE), str(sine), str(out)], capture_output=True,
                              text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(("signatures", "fully", "requirements"))]
        runs[name] = (lines, dict(np.load(out)))
    (peer_lines, want), (our_lines, got) = runs["ai_edge_litert"], runs["litert_sdk"]
    assert our_lines == peer_lines
    assert len(want) == 9
    _assert_bitwise(got, want)
    assert not np.array_equal(want["regressors_0"], want["regressors_1"])  # each step ran on its own input
