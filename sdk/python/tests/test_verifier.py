"""The model verifier (litert_sdk._verifier): every real model passes, each kind of defect is named precisely, and the
SDK refuses defective models before the runtime sees them."""

from __future__ import annotations

import copy
import math
import os
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BUNDLED_FACE_MODEL, GENERATED, corpus_names

import litert_sdk
from litert_sdk import errors
from litert_sdk._verifier import verify_model, verify_model_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from tflite_builder import ADD_CONSTANT, add_model, build_model  # noqa: E402

BASE = build_model(add_model())


def test_builder_model_is_valid_and_runs() -> None:
    assert verify_model(BASE) == []
    interp = litert_sdk.Interpreter(model_content=BASE)
    interp.allocate_tensors()
    x = np.arange(4, dtype=np.float32).reshape(1, 4)
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), x + ADD_CONSTANT)
    np.testing.assert_array_equal(litert_sdk.CompiledModel.from_buffer(BASE).run({"x": x})["y"], x + ADD_CONSTANT)


@pytest.mark.parametrize("name", corpus_names())
def test_corpus_models_pass(name: str, corpus: Path) -> None:
    assert verify_model(corpus / name) == []


@pytest.mark.parametrize("path", sorted(GENERATED.glob("*.tflite")) + [BUNDLED_FACE_MODEL], ids=lambda p: p.name)
def test_generated_and_bundled_models_pass(path: Path) -> None:
    assert verify_model(path) == []


def test_float_tensors_may_carry_a_zero_scale() -> None:
    """Only integer tensors compute with their scales; a float tensor's zero scale is left alone."""
    d = add_model()
    _sg(d)["tensors"][0].update(quantization={"scale": [0.0], "zero_point": [0]})
    assert not [p for p in verify_model(build_model(d)) if "scale" in p]


def test_shape_signatures_from_the_verifier_match_the_flatbuffers_reader(corpus: Path) -> None:
    """Model loading takes the shape signatures from the verifier's arrays; they are what the flatbuffers package
    reads field by field, on every corpus, generated and bundled model."""
    from litert_sdk._flatbuffer import shape_signatures

    paths = sorted(corpus.glob("*.tflite")) + sorted(GENERATED.glob("*.tflite")) + [BUNDLED_FACE_MODEL]
    assert len(paths) >= 40
    dynamic = 0
    for path in paths:
        data = path.read_bytes()
        got = verify_model_bytes(data)
        assert got == shape_signatures(data), path.name
        dynamic += sum(1 for sg in got for sig in sg.values() if -1 in sig)
    assert dynamic > 0  # some models do carry dynamic (-1) signatures


@pytest.mark.skipif(bool(os.environ.get("LITERT_SDK_SANITIZER")), reason="timings are meaningless under ASan")
def test_verification_is_fast(corpus: Path) -> None:
    """The largest corpus model (6.4 MB) verifies in well under 50 ms."""
    largest = max(corpus.glob("*.tflite"), key=lambda p: p.stat().st_size)
    data = largest.read_bytes()
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        assert verify_model(data) == []
        best = min(best, time.perf_counter() - t0)
    assert best < 0.050, f"{largest.name}: {best * 1e3:.1f} ms"


# -- semantic defects, one per case ---------------------------------------------------------------------------------
def _sg(d: dict[str, Any]) -> dict[str, Any]:
    return d["subgraphs"][0]


def _op(d: dict[str, Any]) -> dict[str, Any]:
    return _sg(d)["operators"][0]


def _with(**tensor0: Any) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        _sg(d)["tensors"][0].update(tensor0)
    return edit


def _add_if_op(d: dict[str, Any]) -> None:
    d["operator_codes"].append({"deprecated_builtin_code": 118, "builtin_code": 118})  # IF
    _sg(d)["tensors"].append({"shape": [], "type": 6, "buffer": 0, "name": "cond"})
    _sg(d)["operators"].append({"opcode_index": 1, "inputs": [3, 0], "outputs": [],
                                "builtin_options_type": 92, "builtin_options": {0: ("i32", 0), 1: ("i32", 0)}})


def _two_writers(d: dict[str, Any]) -> None:
    _sg(d)["operators"].append(copy.deepcopy(_op(d)))


def _tensor_map(name: str | None, index: int) -> dict[str, Any]:
    return {"name": name, "tensor_index": index}


DEFECTS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("buffer index", lambda d: _sg(d)["tensors"][1].update(buffer=99),
     "tensor 1 of subgraph 0 references buffer 99 but the model has 4 buffers"),
    ("opcode index", lambda d: _op(d).update(opcode_index=5),
     "operator 0 of subgraph 0 uses operator code 5 but the model has 1 operator codes"),
    ("operator input", lambda d: _op(d).update(inputs=[0, 7]),
     "operator 0 of subgraph 0 input 1 is tensor 7 but the subgraph has 3 tensors"),
    ("operator output", lambda d: _op(d).update(outputs=[-5]), "output 0 is tensor -5"),
    ("omitted input of ADD", lambda d: _op(d).update(inputs=[0, -1]),
     "has an omitted (-1) input at position 1, which that operator does not accept"),
    ("subgraph input", lambda d: _sg(d).update(inputs=[3]), "input 0 of subgraph 0 is tensor 3 but the subgraph has 3"),
    ("subgraph output", lambda d: _sg(d).update(outputs=[-1]), "output 0 of subgraph 0 is tensor -1"),
    ("negative dimension", _with(shape=[1, -4]), "tensor 0 of subgraph 0 has a negative dimension -4 at axis 1"),
    ("shape signature -2", _with(shape_signature=[-2, 4]), "dimension -2 at axis 0 of its shape signature"),
    ("rank 9", _with(shape=[1] * 9), "has rank 9, more than the runtime's maximum of 8"),
    ("schema version", lambda d: d.update(version=2), "schema version is 2"),
    ("no subgraphs", lambda d: d.update(subgraphs=[], signature_defs=[]), "the model has no subgraphs"),
    ("no buffers", lambda d: d.update(buffers=None), "no buffers vector"),
    ("signature tensor", lambda d: d["signature_defs"][0].update(inputs=[_tensor_map("x", 9)]),
     "input 0 of signature 0 is tensor 9 but subgraph 0 has 3 tensors"),
    ("signature subgraph", lambda d: d["signature_defs"][0].update(subgraph_index=4),
     "signature 0 refers to subgraph 4 but the model has 1 subgraphs"),
    ("signature key", lambda d: d["signature_defs"][0].update(signature_key=None), "signature 0 has no signature_key"),
    ("signature name", lambda d: d["signature_defs"][0].update(outputs=[_tensor_map(None, 2)]),
     "output 0 of signature 0 has no name"),
    ("metadata buffer", lambda d: d.update(metadata=[{"name": "m", "buffer": 40}]),
     "metadata 0 references buffer 40 but the model has 4 buffers"),
    ("metadata_buffer entry", lambda d: d.update(metadata_buffer=[-1]), "metadata_buffer entry 0 references buffer -1"),
    ("external buffer past the end", lambda d: d["buffers"].append({"offset": 10**6, "size": 64}),
     "buffer 4 stores 64 bytes at file offset 1000000, past the end of the file"),
    ("large custom options past the end", lambda d: _op(d).update(large_custom_options_offset=2**40,
                                                                    large_custom_options_size=8),
     "stores 8 bytes of custom options at file offset 1099511627776"),
    ("constant data size", lambda d: d["buffers"][2].update(data=b"\0" * 12),
     "tensor 1 of subgraph 0 has shape [1, 4] of float32 (16 bytes) but its buffer 2 holds 12 bytes"),
    ("custom op without code", lambda d: d["operator_codes"][0].update(deprecated_builtin_code=32, builtin_code=32),
     "operator code 0 is CUSTOM but has no custom_code"),
    ("negative builtin code", lambda d: d["operator_codes"][0].update(deprecated_builtin_code=-3),
     "operator code 0 has a negative builtin code"),
    ("two writers", _two_writers, "tensor 2 of subgraph 0 is written by 2 operators"),
    ("writes an input", lambda d: _op(d).update(outputs=[0]), "writes tensor 0, an input of its subgraph"),
    ("writes a constant", lambda d: _op(d).update(outputs=[1]), "writes tensor 1, which is a constant"),
    ("output nobody writes", lambda d: _sg(d)["tensors"].append({"shape": [1], "type": 0, "buffer": 0, "name": "z"})
     or _sg(d).update(outputs=[2, 3]), "output 1 of subgraph 0 is tensor 3, which no operator writes"),
    ("recursive IF", _add_if_op, "subgraphs call each other recursively: 0 -> 0"),
    ("IF to a missing subgraph", lambda d: (_add_if_op(d), _sg(d)["operators"][1].update(
        builtin_options={0: ("i32", 7), 1: ("i32", 0)})), "refers to subgraph 7"),
    ("operand count", lambda d: _op(d).update(inputs=[0, 1, 0]),
     "(builtin operator 0) has 3 inputs and 1 outputs; it takes 2 inputs and 1 outputs"),
    ("broadcast", lambda d: _sg(d)["tensors"][0].update(shape=[1, 3]), "cannot combine"),
    ("mixed element types", _with(type=2), "mixes element types ['float32', 'int32', 'float32']"),
    ("scales vs zero points", _with(quantization={"scale": [0.5, 0.25], "zero_point": [0]}),
     "has 2 scales but 1 zero points"),
    ("scales without zero points", _with(quantization={"scale": [0.5]}), "has scales but no zero points"),
    ("NaN scale", _with(quantization={"scale": [float("nan")], "zero_point": [0]}), "has scale nan"),
    ("comparison with a float output", lambda d: d["operator_codes"][0].update(deprecated_builtin_code=58,
                                                                               builtin_code=58),
     "(builtin operator 58) has output type float32"),
    ("int8 scale 0", lambda d: _sg(d)["tensors"][0].update(type=9, quantization={"scale": [0.0], "zero_point": [0]}),
     "has scale 0.0"),
    ("int8 subnormal scale", lambda d: _sg(d)["tensors"][0].update(type=9, quantization={"scale": [1e-40],
                                                                                          "zero_point": [0]}),
     "has scale 9.99994"),
    ("int8 zero point", lambda d: _sg(d)["tensors"][0].update(type=9, quantization={"scale": [1.0],
                                                                                      "zero_point": [300]}),
     "zero point 300, outside the range of its type"),
    ("quantized dimension", _with(quantization={"scale": [1.0, 2.0], "zero_point": [0, 0], "quantized_dimension": 3}),
     "quantized_dimension 3 but the tensor has rank 2"),
    ("per-channel count", _with(quantization={"scale": [1.0, 2.0], "zero_point": [0, 0], "quantized_dimension": 1}),
     "has 2 scales but dimension 1 has size 4"),
    ("non-UTF-8 name", _with(name=b"x\xff\xfe"), "name b'x\\xff\\xfe' is not valid UTF-8"),
    ("mutating flags", lambda d: _op(d).update(mutating_variable_inputs=[True]),
     "has 1 mutating_variable_inputs flags for 2 inputs"),
]


@pytest.mark.parametrize("edit,fragment", [c[1:] for c in DEFECTS], ids=[c[0] for c in DEFECTS])
def test_defect_is_named(edit: Callable[[dict[str, Any]], None], fragment: str) -> None:
    desc = add_model()
    edit(desc)
    data = build_model(desc)
    problems = verify_model(data)
    assert any(fragment in p for p in problems), problems
    with pytest.raises(errors.ModelError) as info:
        litert_sdk.Model.from_buffer(data)
    assert str(info.value).startswith("invalid TFLite model: ")
    assert info.value.status_name == "InvalidFlatbuffer"


def test_several_problems_are_counted() -> None:
    desc = add_model()
    for t in _sg(desc)["tensors"]:
        t["buffer"] = 50
    with pytest.raises(errors.ModelError, match=r"references buffer 50 .* \(and 2 more problems\)"):
        verify_model_bytes(build_model(desc))


# -- structural defects -------------------------------------------------------------------------------------------
def _patch(data: bytes, pos: int, fmt: str, value: int) -> bytes:
    buf = bytearray(data)
    struct.pack_into(fmt, buf, pos, value)
    return bytes(buf)


def _root() -> int:
    return struct.unpack_from("<I", BASE, 0)[0]


def _vector_length_pos(marker: bytes) -> int:
    return BASE.index(marker) - 4


STRUCTURAL = [
    ("root offset", lambda: _patch(BASE, 0, "<I", len(BASE) + 8), "root table offset"),
    ("misaligned root", lambda: _patch(BASE, 0, "<I", _root() + 1), "misaligned"),
    ("vtable out of bounds", lambda: _patch(BASE, _root(), "<i", -(2**20)), "vtable out of bounds"),
    ("odd vtable size", lambda: _patch(BASE, _root() - struct.unpack_from("<i", BASE, _root())[0], "<H", 7),
     "vtable size is odd"),
    ("table size", lambda: _patch(BASE, _root() - struct.unpack_from("<i", BASE, _root())[0] + 2, "<H", 60000),
     "table size is too small or runs past the end"),
    ("string without NUL", lambda: _patch(BASE, BASE.index(b"litert-sdk test model") + 21, "<B", 65),
     "is not NUL-terminated"),
    ("string length", lambda: _patch(BASE, _vector_length_pos(b"litert-sdk test model"), "<I", 2**30),
     "runs past the end of the buffer"),
    ("vector length", lambda: _patch(BASE, _vector_length_pos(ADD_CONSTANT.tobytes()), "<I", 0xFFFFFFF0),
     "vector 'data' runs past the end"),
]


@pytest.mark.parametrize("make,fragment", [c[1:] for c in STRUCTURAL], ids=[c[0] for c in STRUCTURAL])
def test_structural_defect_is_named(make: Callable[[], bytes], fragment: str) -> None:
    problems = verify_model(make())
    assert len(problems) == 1 and fragment in problems[0], problems
    with pytest.raises(errors.ModelError, match="malformed flatbuffer|root table"):
        litert_sdk.Interpreter(model_content=make())


def test_random_corruption_never_escapes() -> None:
    """Random byte corruptions of a real model give a list of problems or none, never an exception."""
    data = BUNDLED_FACE_MODEL.read_bytes()
    rng = np.random.default_rng(5)
    for _ in range(300):
        buf = bytearray(data)
        for p in rng.integers(0, len(buf), int(rng.integers(1, 9))):
            buf[int(p)] = int(rng.integers(0, 256))
        assert isinstance(verify_model(bytes(buf)), list)


def test_verify_model_accepts_paths_and_buffers(tmp_path: Path) -> None:
    p = tmp_path / "m.tflite"
    p.write_bytes(BASE)
    assert verify_model(p) == verify_model(str(p)) == verify_model(bytearray(BASE)) == verify_model(memoryview(BASE))
    assert verify_model(b"") == ["model is too short to be a TFLite flatbuffer (0 bytes)"]


# -- graph rules: operators whose kernels would compute another shape than the file declares --------------------
def _graph(opcode: int, inputs: list[dict[str, Any]], out_shape: list[int], options: dict[int, Any] | None = None,
           options_type: int = 0) -> dict[str, Any]:
    """One-operator model: tensors ``inputs`` (a dict may carry "data" for a constant) feeding ``opcode``."""
    tensors, buffers = [], [{}]
    for k, t in enumerate(inputs):
        data = t.pop("data", None)
        buffers.append({"data": data} if data is not None else {})
        tensors.append({"name": f"t{k}", "type": 0, **t, "buffer": len(buffers) - 1})
    buffers.append({})
    tensors.append({"name": "out", "type": inputs[0].get("type", 0), "shape": out_shape, "buffer": len(buffers) - 1})
    op: dict[str, Any] = {"opcode_index": 0, "inputs": list(range(len(inputs))), "outputs": [len(inputs)]}
    if options is not None:
        op.update(builtin_options_type=options_type, builtin_options=options)
    return {"version": 3, "operator_codes": [{"deprecated_builtin_code": min(opcode, 127), "builtin_code": opcode}],
            "subgraphs": [{"tensors": tensors, "inputs": [0], "outputs": [len(inputs)], "operators": [op]}],
            "buffers": buffers}


def _i32(*values: int) -> bytes:
    return np.array(values, np.int32).tobytes()


GRAPH_DEFECTS = [
    ("reshape to another element count",
     _graph(22, [{"shape": [1, 4]}, {"shape": [2], "type": 2, "data": _i32(3, 2)}], [3, 2]), "cannot combine"),
    ("split pieces", _graph(49, [{"shape": [], "type": 2, "data": _i32(1)}, {"shape": [1, 4]}], [1, 2],
                            {0: ("i32", 2)}, 35), "splits into 2 pieces but has 1 outputs"),
    ("huge static tensor", _graph(0, [{"shape": [2**31 - 1] * 3}, {"shape": [1], "data": bytes(4)}], [2**31 - 1] * 3),
     "its size cannot be allocated on any host"),
]


# Declared shapes of computed tensors that differ from what the kernels compute: TFLite takes them as hints and
# recomputes them in Prepare (ai-edge-litert runs these), so the SDK accepts them and loads the computed shapes.
DECLARED_SHAPE_HINTS = [
    ("add declared scalar", _graph(0, [{"shape": [1]}, {"shape": [], "data": np.float32(2).tobytes()}],
                                   []), [1]),
    ("add declared wider", _graph(0, [{"shape": [1, 4]}, {"shape": [1], "data": np.float32(1).tobytes()}], [1, 5]),
     [1, 4]),
    ("reshape", _graph(22, [{"shape": [1, 4]}, {"shape": [2], "type": 2, "data": _i32(2, -1)}], [4, 1]), [2, 2]),
    ("pad", _graph(34, [{"shape": [1, 4]}, {"shape": [2, 2], "type": 2, "data": _i32(0, 0, 1, 1)}], [1, 4]), [1, 6]),
    ("transpose", _graph(39, [{"shape": [2, 3]}, {"shape": [2], "type": 2, "data": _i32(1, 0)}], [2, 3]), [3, 2]),
    ("concatenation", _graph(2, [{"shape": [1, 4]},
                                 {"shape": [1, 3], "data": np.arange(3, dtype=np.float32).tobytes()}],
                             [1, 8], {0: ("i32", 1)}, 10), [1, 7]),
    ("strided slice", _graph(45, [{"shape": [1, 8]}, {"shape": [2], "type": 2, "data": _i32(0, 2)},
                                  {"shape": [2], "type": 2, "data": _i32(1, 8)},
                                  {"shape": [2], "type": 2, "data": _i32(1, 2)}], [1, 6],
                             {0: ("i32", 0)}, 32), [1, 3]),
    ("fully connected", _graph(9, [{"shape": [1, 4]}, {"shape": [3, 4], "data": np.arange(12, dtype=np.float32)
                                                       .tobytes()}], [2, 5]), [1, 3]),
    ("fully connected rank 3", _graph(9, [{"shape": [1, 4]}, {"shape": [3, 4], "data": np.arange(12, dtype=np.float32)
                                                              .tobytes()}], [1, 1, 3]), [1, 3]),
]


@pytest.mark.parametrize("desc,computed", [c[1:] for c in DECLARED_SHAPE_HINTS],
                         ids=[c[0] for c in DECLARED_SHAPE_HINTS])
def test_declared_shapes_of_computed_tensors_are_hints(desc: dict[str, Any], computed: list[int], peer) -> None:
    """Accepted (it was "declares output shape [] but computes [1]"), loaded with the computed shape, and the run
    equals ai-edge-litert's, which recomputes the shape in Prepare."""
    data = build_model(desc)
    assert verify_model(data) == []
    ref = peer.Interpreter(model_content=data)
    ref.allocate_tensors()
    x = np.arange(1, 1 + int(np.prod(desc["subgraphs"][0]["tensors"][0]["shape"])), dtype=np.float32)
    x = x.reshape(desc["subgraphs"][0]["tensors"][0]["shape"])
    ref.set_tensor(ref.get_input_details()[0]["index"], x)
    ref.invoke()
    want = ref.get_tensor(ref.get_output_details()[0]["index"])
    assert list(want.shape) == computed
    interp = litert_sdk.Interpreter(model_content=data)
    interp.allocate_tensors()
    assert list(interp.get_output_details()[0]["shape"]) == computed
    for _ in range(2):
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
        np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), want)
    cm = litert_sdk.CompiledModel.from_buffer(data)
    np.testing.assert_array_equal(cm.run([x])[0], want)
    cm.close()


@pytest.mark.parametrize("desc,fragment", [c[1:] for c in GRAPH_DEFECTS], ids=[c[0] for c in GRAPH_DEFECTS])
def test_graph_defect_is_named(desc: dict[str, Any], fragment: str) -> None:
    problems = verify_model(build_model(desc))
    assert any(fragment in p for p in problems), problems


def test_consistent_graphs_pass() -> None:
    """The same one-operator models with consistent shapes are valid (the inference matches the kernels)."""
    ok = [
        _graph(22, [{"shape": [1, 4]}, {"shape": [2], "type": 2, "data": _i32(2, -1)}], [2, 2]),
        _graph(34, [{"shape": [1, 4]}, {"shape": [2, 2], "type": 2, "data": _i32(0, 0, 1, 1)}], [1, 6]),
        _graph(45, [{"shape": [1, 8]}, {"shape": [2], "type": 2, "data": _i32(0, 2)},
                    {"shape": [2], "type": 2, "data": _i32(1, 8)}, {"shape": [2], "type": 2, "data": _i32(1, 2)}],
               [1, 3], {0: ("i32", 0)}, 32),
    ]
    for desc in ok:
        assert verify_model(build_model(desc)) == []


def test_resource_variable_shapes_must_agree() -> None:
    """A variable assigned a [1, 4] value but read as [1, 2] (the runtime's XNNPACK path overflows its buffer)."""
    handle = {"deprecated_builtin_code": 127, "builtin_code": 142}  # VAR_HANDLE
    desc = {
        "version": 3,
        "operator_codes": [handle, {"deprecated_builtin_code": 127, "builtin_code": 144},  # ASSIGN_VARIABLE
                           {"deprecated_builtin_code": 127, "builtin_code": 143}],  # READ_VARIABLE
        "subgraphs": [{
            "tensors": [{"name": "x", "shape": [1, 4], "type": 0, "buffer": 0},
                        {"name": "h", "shape": [], "type": 13, "buffer": 0},
                        {"name": "y", "shape": [1, 2], "type": 0, "buffer": 0}],
            "inputs": [0], "outputs": [2],
            "operators": [
                {"opcode_index": 0, "inputs": [], "outputs": [1], "builtin_options_type": 111,
                 "builtin_options": {0: ("str", ""), 1: ("str", "state")}},
                {"opcode_index": 1, "inputs": [1, 0], "outputs": []},
                {"opcode_index": 2, "inputs": [1], "outputs": [2]},
            ],
        }],
        "buffers": [{}],
    }
    problems = verify_model(build_model(desc))
    assert any("resource variable 'state' is assigned and read with different shapes" in p for p in problems), problems


def test_unnamed_variable_handles_alias() -> None:
    """VAR_HANDLEs without VarHandleOptions name one variable for the runtime: their uses must agree too."""
    handle = {"deprecated_builtin_code": 127, "builtin_code": 142}
    tensors = [{"name": "a", "shape": [1, 4], "type": 0, "buffer": 0},
               {"name": "b", "shape": [1, 2], "type": 0, "buffer": 0},
               {"name": "h1", "shape": [], "type": 13, "buffer": 0},
               {"name": "h2", "shape": [], "type": 13, "buffer": 0}]
    ops = [{"opcode_index": 0, "inputs": [], "outputs": [2]},  # no options
           {"opcode_index": 0, "inputs": [], "outputs": [3], "builtin_options_type": 2,  # options of another type
            "builtin_options": {0: ("i32", 0)}},
           {"opcode_index": 1, "inputs": [2, 0], "outputs": []},
           {"opcode_index": 1, "inputs": [3, 1], "outputs": []}]
    desc = {"version": 3, "buffers": [{}],
            "operator_codes": [handle, {"deprecated_builtin_code": 127, "builtin_code": 144}],
            "subgraphs": [{"tensors": tensors, "inputs": [0, 1], "outputs": [], "operators": ops}]}
    problems = verify_model(build_model(desc))
    assert any("resource variable '' is assigned and read with different shapes" in p for p in problems), problems


def test_resource_handle_must_be_written_first() -> None:
    """An ASSIGN_VARIABLE whose handle no VAR_HANDLE produced (the runtime would use an arbitrary variable)."""
    desc = {"version": 3, "buffers": [{}],
            "operator_codes": [{"deprecated_builtin_code": 127, "builtin_code": 144}],
            "subgraphs": [{"tensors": [{"name": "x", "shape": [1, 4], "type": 0, "buffer": 0},
                                       {"name": "h", "shape": [], "type": 13, "buffer": 0}],
                           "inputs": [0], "outputs": [],
                           "operators": [{"opcode_index": 0, "inputs": [1, 0], "outputs": []}]}]}
    problems = verify_model(build_model(desc))
    assert any("reads resource handle 1 before any operator (VAR_HANDLE) writes it" in p for p in problems), problems


def test_verdicts_are_reused_only_for_the_same_bytes() -> None:
    """Loading the same bytes again skips the verifier (a verdict cache keyed by length and CRC-32, checked against
    the bytes themselves); other bytes, even of the same length, are verified again."""
    from litert_sdk import _verifier

    data = build_model(add_model())
    first = _verifier.verify_for_runtime(data)
    calls = []
    real = _verifier._verify_for_runtime
    _verifier._verify_for_runtime = lambda raw: calls.append(len(raw)) or real(raw)  # type: ignore[assignment]
    try:
        assert _verifier.verify_for_runtime(bytearray(data)) == first and calls == []  # reused
        bad = bytearray(data)
        struct.pack_into("<I", bad, 0, len(bad) + 8)  # root offset past the end: same length, other bytes
        with pytest.raises(errors.ModelError, match="root table offset"):
            _verifier.verify_for_runtime(bytes(bad))
        assert calls == [len(data)]
        with pytest.raises(errors.ModelError):  # a failed verdict is not remembered as a pass
            litert_sdk.Model.from_buffer(bytes(bad))
    finally:
        _verifier._verify_for_runtime = real  # type: ignore[assignment]
