"""Custom-op plumbing: model rewriting, Python kernels, kernel registration, CustomOpError, library loading."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from flatbuffers import flexbuffers
from test_custom_ops_builder import Graph, Op, build, single_op_model

import litert_sdk
from litert_sdk import CompiledModel, CpuOptions, Interpreter, Model, Options, _rewrite
from litert_sdk.custom_ops import (
    CustomOpLibrary,
    decode_attributes,
    load_custom_op_library,
    mediapipe_ops,
    python_op,
    register_python_op,
    registered_custom_ops,
    unregister_custom_op,
)
from litert_sdk.errors import CustomOpError, InvalidArgumentError, NotFoundError, RuntimeFailure

MODELS = Path(__file__).resolve().parent / "models"
CUMPROD = MODELS / "custom_cumprod.tflite"


@pytest.fixture(scope="module")
def cumprod_ref() -> tuple[np.ndarray, np.ndarray]:
    ref = np.load(MODELS / "custom_cumprod.npz")
    return ref["serving_default/in/x"], ref["serving_default/out/y"]


def cumprod_kernel(inputs, attrs):
    assert attrs == {"T": 0, "Tidx": 2, "exclusive": False, "reverse": False}
    x, axis = inputs
    return np.cumprod(x, axis=int(axis))


def scale_model(factors: list[float], version: int = 1) -> bytes:
    """x -> Scale(f0) -> Scale(f1) -> ... -> y, every node the custom op "Scale" with {"factor": f} attributes."""
    g = Graph()
    t = g.tensor("x", (2, 3))
    g.inputs = [t]
    for i, f in enumerate(factors):
        nxt = g.tensor(f"s{i}", (2, 3))
        g.ops.append(Op("Scale", [t], [nxt], flexbuffers.Dumps({"factor": float(f)}), version))
        t = nxt
    g.outputs = [t]
    return build(g)


SCALE = python_op("Scale", lambda inputs, attrs: inputs[0] * attrs["factor"])


# ---------------------------------------------------------------------------------------------------- rewriting
def test_rewrite_realigns_constant_inputs_of_custom_ops():
    data = CUMPROD.read_bytes()
    before = _rewrite.analyze(data)
    assert [n.name for n in before.nodes] == ["Cumprod"]
    assert before.unaligned_buffers, "the converter's axis constant is not 64-byte aligned"
    result = _rewrite.rewrite_for_custom_ops(data)
    assert result.changed and result.realigned_buffers == len(before.unaligned_buffers)
    assert result.codes == {"Cumprod": "Cumprod"}
    after = _rewrite.analyze(result.data)
    assert after.unaligned_buffers == []
    assert [(n.name, n.options, n.inputs, n.outputs) for n in after.nodes] == \
           [(n.name, n.options, n.inputs, n.outputs) for n in before.nodes]
    # the rewritten model is the same model: same signatures, same constants
    a, b = Model.from_buffer(data), Model.from_buffer(result.data)
    assert a.signature_keys == b.signature_keys
    axis = a.subgraphs[0].ops[0].inputs[1]
    np.testing.assert_array_equal(a.constant(axis), b.constant(axis))


def test_rewrite_gives_nodes_with_different_attributes_their_own_codes():
    data = scale_model([2.0, 3.0, 2.0, 5.0], version=2)
    result = _rewrite.rewrite_for_custom_ops(data)
    assert result.changed
    assert result.codes == {"Scale": "Scale", "Scale#1": "Scale", "Scale#2": "Scale"}
    assert result.versions_fixed == 1 and result.renamed_nodes == 2
    m = Model.from_buffer(result.data)
    assert [op.custom_code for op in m.subgraphs[0].ops] == ["Scale", "Scale#1", "Scale", "Scale#2"]
    assert _rewrite.analyze(result.data).versions == {"Scale": 1, "Scale#1": 1, "Scale#2": 1}


def test_rewrite_splits_codes_by_static_output_shapes():
    # Two nodes with identical options (e.g. two FlexRestoreV2 nodes of one checkpoint) but different static output
    # shapes: a kernel instance (one per code) gets no node identity, so they must not share a code.
    g = Graph()
    x = g.tensor("x", (2, 3))
    g.inputs = [x]
    a, b, c = g.tensor("a", (2, 3)), g.tensor("b", (4,)), g.tensor("c", (2, 3))
    opts = flexbuffers.Dumps({"tensor": "same"})
    g.ops += [Op("Restore", [x], [a], opts), Op("Restore", [x], [b], opts), Op("Restore", [x], [c], opts)]
    g.outputs = [a, b, c]
    data = build(g)
    result = _rewrite.rewrite_for_custom_ops(data)
    assert result.codes == {"Restore": "Restore", "Restore#1": "Restore"}
    assert result.io_shapes == {"Restore": [(((2, 3),), ((2, 3),))], "Restore#1": [(((2, 3),), ((4,),))]}
    m = Model.from_buffer(result.data)
    assert [op.custom_code for op in m.subgraphs[0].ops] == ["Restore", "Restore#1", "Restore"]
    # a kernel without an output-shape function takes each code's static shapes (ambiguous before the split)
    op = python_op("Restore", lambda inputs, attrs: inputs[0])
    cm = CompiledModel(Model.from_buffer(data), Options(custom_ops=[op]))
    assert [cm.output_shape(i) for i in range(3)] == [(2, 3), (4,), (2, 3)]


def test_rewrite_keeps_models_that_need_nothing():
    data = scale_model([2.0, 2.0])
    result = _rewrite.rewrite_for_custom_ops(data)
    assert not result.changed and result.data == data
    assert result.codes == {"Scale": "Scale"}
    assert result.io_shapes["Scale"] == [(((2, 3),), ((2, 3),))]


def test_rewrite_renames_runtime_stub_ops_only_when_asked():
    data = single_op_model("Convolution2DTransposeBias", [("x", (1, 2, 2, 1))], [("y", (1, 4, 4, 1))])
    assert not _rewrite.rewrite_for_custom_ops(data).changed
    result = _rewrite.rewrite_for_custom_ops(data, reserved=_rewrite.RUNTIME_STUB_OPS)
    assert result.codes == {"Convolution2DTransposeBias#0": "Convolution2DTransposeBias"}


def test_rewrite_of_a_real_mediapipe_model(corpus):
    data = (corpus / "mp-py__face_landmark_with_attention.tflite").read_bytes()
    result = _rewrite.rewrite_for_custom_ops(data)
    # three crops with different landmark subsets; the same bilinear crop size; landmark transforms without options
    # but with three different output shapes (codes are split by static output shapes too)
    assert sorted(result.codes) == ["Landmarks2TransformMatrix", "Landmarks2TransformMatrix#1",
                                    "Landmarks2TransformMatrix#2", "TransformLandmarks", "TransformLandmarks#1",
                                    "TransformLandmarks#2", "TransformTensorBilinear"]
    assert result.versions_fixed == 3  # the model's v2 ops
    before, after = Model.from_buffer(data), Model.from_buffer(result.data)
    assert len(before.subgraphs[0].ops) == len(after.subgraphs[0].ops)
    assert [s.key for s in before.signatures] == [s.key for s in after.signatures]


@pytest.mark.parametrize("name", ["microww__alexa.tflite", "oww__hey_jarvis.tflite", "tflm__sine_float.tflite",
                                  "mp-py__face_detection_full_range_sparse.tflite"])
def test_rewrite_machinery_preserves_models(corpus, name, rng):
    """Realigning every constant (new Model, buffer tables, data) of models with resource variables, control flow,
    dynamic shapes and sparse weights gives bit-identical results."""
    data = (corpus / name).read_bytes()
    result = _rewrite.rewrite_for_custom_ops(data, align_all=True)
    assert result.changed and result.realigned_buffers > 0
    a, b = CompiledModel.from_buffer(data), CompiledModel.from_buffer(result.data)
    feeds = {}
    for n, spec in a.signature().inputs:
        shape = [1 if d < 0 else d for d in a.input_shape(n)]
        feeds[n] = (rng.standard_normal(shape) if spec.dtype.kind == "f" else rng.integers(-5, 5, shape)).astype(
            spec.dtype)
    for _ in range(2):  # twice: state (resource variables) evolves the same way
        want, got = a.run(feeds), b.run(feeds)
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])


def test_decode_attributes():
    assert decode_attributes(b"") == b""
    assert decode_attributes(flexbuffers.Dumps({"a": 1, "b": [1, 2]})) == {"a": 1, "b": [1, 2]}
    assert decode_attributes(struct.pack("<3i", 1, 2, 2)) == struct.pack("<3i", 1, 2, 2)


# ---------------------------------------------------------------------------------------------- Python kernels
def test_python_kernel_runs_the_converted_cumprod_model(cumprod_ref):
    x, y = cumprod_ref
    cm = CompiledModel.from_file(CUMPROD, Options(custom_ops=[python_op("Cumprod", cumprod_kernel)]))
    np.testing.assert_array_equal(cm.run({"x": x})["y"], y)
    np.testing.assert_array_equal(cm.run({"x": x})["y"], y)  # again: kernels are reused across runs


def test_nodes_with_different_attributes_get_their_own_attributes():
    cm = CompiledModel.from_buffer(scale_model([2.0, 3.0, 2.0, 5.0], version=2), Options(custom_ops=[SCALE]))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(cm.run([x])[0], x * 60)


@pytest.mark.parametrize("mode", ["xnnpack", "builtin", "reference"])
def test_python_kernel_in_every_kernel_mode(mode):
    cm = CompiledModel.from_buffer(scale_model([2.0, 3.0]),
                                   Options(cpu=CpuOptions(kernel_mode=mode), custom_ops=[SCALE]))
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(cm.run([x])[0], x * 6)


def test_output_shapes_function_and_dynamic_model_shapes():
    # the model says [1, 1]: only the output-shape function knows the real shape
    data = single_op_model("Tile2", [("x", (2, 3))], [("y", (1, 1))])
    op = python_op("Tile2", lambda inputs, attrs: np.tile(inputs[0], (1, 2)),
                   output_shapes=lambda shapes, attrs: [(shapes[0][0], shapes[0][1] * 2)])
    cm = CompiledModel.from_buffer(data, Options(custom_ops=[op]))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = cm.run([x])[0]
    assert out.shape == (2, 6)
    np.testing.assert_array_equal(out, np.tile(x, (1, 2)))


def test_interpreter_and_signature_runner_with_custom_ops(cumprod_ref):
    x, y = cumprod_ref
    interp = Interpreter(model_path=str(CUMPROD), options=Options(custom_ops=[python_op("Cumprod", cumprod_kernel)]))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), y)
    np.testing.assert_array_equal(interp.get_signature_runner()(x=x)["y"], y)


def test_process_wide_registry(cumprod_ref):
    x, y = cumprod_ref
    register_python_op("Cumprod", cumprod_kernel)
    try:
        assert "Cumprod" in registered_custom_ops()
        np.testing.assert_array_equal(CompiledModel.from_file(CUMPROD).run({"x": x})["y"], y)
        # options win over the registry
        doubled = python_op("Cumprod", lambda i, a: 2 * np.cumprod(i[0], axis=int(i[1])))
        np.testing.assert_allclose(CompiledModel.from_file(CUMPROD, Options(custom_ops=[doubled])).run({"x": x})["y"],
                                   2 * y)
    finally:
        assert unregister_custom_op("Cumprod")
    assert "Cumprod" not in registered_custom_ops()


def test_without_a_kernel_the_op_is_unresolved(cumprod_ref):
    cm = CompiledModel.from_file(CUMPROD)
    with pytest.raises(RuntimeFailure, match="unresolved custom op"):
        cm.run({"x": cumprod_ref[0]})


# -------------------------------------------------------------------------------------------- failures surface
def test_failing_python_kernel_raises_custom_op_error_and_the_model_recovers(cumprod_ref):
    x, y = cumprod_ref

    def picky(inputs, attrs):
        if (inputs[0] < 0).any():
            raise ValueError("negative input")
        return np.cumprod(inputs[0], axis=int(inputs[1]))

    cm = CompiledModel.from_file(CUMPROD, Options(custom_ops=[python_op("Cumprod", picky)]))
    with pytest.raises(CustomOpError, match="negative input") as info:
        cm.run({"x": -np.abs(x)})
    assert isinstance(info.value, RuntimeFailure) and "Cumprod" in str(info.value)
    np.testing.assert_array_equal(cm.run({"x": np.abs(x)})["y"], np.abs(y))


def test_python_kernel_returning_the_wrong_shape_fails():
    cm = CompiledModel.from_buffer(scale_model([2.0]), Options(custom_ops=[python_op("Scale", lambda i, a: i[0][:1])]))
    with pytest.raises(CustomOpError, match="shape"):
        cm.run([np.ones((2, 3), np.float32)])


def test_failing_output_shape_function_fails_before_running():
    def shapes(input_shapes, attrs):
        raise RuntimeError("no idea")

    op = python_op("Scale", lambda i, a: i[0], output_shapes=shapes)
    with pytest.raises(CustomOpError, match="no idea"):
        CompiledModel.from_buffer(scale_model([2.0]), Options(custom_ops=[op])).run([np.ones((2, 3), np.float32)])


def test_failing_native_kernel_init_fails_the_compile():
    # TransformTensorBilinear needs a flexbuffer map of attributes; these options are not one
    data = single_op_model("TransformTensorBilinear", [("f", (1, 4, 4, 1)), ("m", (1, 4, 4))],
                           [("y", (1, 2, 2, 1))], b"\x07\x07\x07")
    with pytest.raises(CustomOpError, match="TransformTensorBilinear.*Init.*flexbuffer"):
        CompiledModel.from_buffer(data, Options().with_mediapipe_custom_ops())


def test_failing_native_kernel_shapes_fail_the_allocation():
    attrs = flexbuffers.Dumps({"subset_idxs": [0, 99], "left_rotation_idx": 0, "right_rotation_idx": 1,
                               "target_rotation_radians": 0.0, "output_width": 4, "output_height": 4,
                               "scale_x": 1.0, "scale_y": 1.0})
    data = single_op_model("Landmarks2TransformMatrix", [("lm", (1, 5, 3))], [("m", (1, 4, 4))], attrs)
    cm = CompiledModel.from_buffer(data, Options().with_mediapipe_custom_ops())
    with pytest.raises(CustomOpError, match="GetOutputLayouts.*subset index 99 out of range"):
        cm.run([np.zeros((1, 5, 3), np.float32)])


def test_failing_native_kernel_run_never_returns_outputs():
    g = Graph()
    lm = g.tensor("lm", (1, 3, 2), np.int32)  # TransformLandmarks computes in float32 only
    m = g.tensor("m", (1, 4, 4))
    y = g.tensor("y", (1, 3, 2), np.int32)
    g.inputs, g.outputs = [lm, m], [y]
    g.ops.append(Op("TransformLandmarks", [lm, m], [y]))
    cm = CompiledModel.from_buffer(build(g), Options().with_mediapipe_custom_ops())
    with pytest.raises(CustomOpError, match="TransformLandmarks.*Run failed.*float32"):
        cm.run([np.zeros((1, 3, 2), np.int32), np.eye(4, dtype=np.float32)[None]])


# ------------------------------------------------------------------------------------------ libraries, options
def test_mediapipe_library_and_options():
    lib = mediapipe_ops()
    assert isinstance(lib, CustomOpLibrary) and lib is mediapipe_ops()
    assert sorted(lib.names) == sorted(litert_sdk.custom_ops.MEDIAPIPE_OPS)
    assert lib.op("TransformLandmarks").origin == lib.path
    with pytest.raises(NotFoundError):
        lib.op("Nope")
    opts = Options().with_mediapipe_custom_ops()
    assert [op.name for op in opts.custom_ops] == lib.names
    assert [op.name for op in Options(custom_ops=lib).custom_ops] == lib.names
    assert [op.name for op in opts.with_custom_ops(SCALE).custom_ops] == lib.names + ["Scale"]
    with pytest.raises(InvalidArgumentError):
        Options(custom_ops=["Scale"])
    assert litert_sdk.load_custom_op_library is load_custom_op_library


def test_loading_what_is_not_a_custom_op_library(tmp_path):
    with pytest.raises(NotFoundError):
        load_custom_op_library(tmp_path / "missing.so")
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"not a shared library")
    with pytest.raises(RuntimeFailure, match="cannot load"):
        load_custom_op_library(junk)
    runtime = next(p for p in Path(litert_sdk.__file__).parent.iterdir() if p.stem == "libLiteRt")
    with pytest.raises(InvalidArgumentError, match="litert_sdk_custom_ops_v1"):
        load_custom_op_library(runtime)


# ------------------------------------------------------------------- library ABI: op_struct_size, configure_instance
_PROBE_SOURCE = r"""
/* A custom-op library that logs what the SDK calls; built twice: with the current LiteRtSdkCustomOp (PROBE_NEW) and
 * with the struct as it was before configure_instance was appended (a library built against the older header). */
#include <stdio.h>
#include <string.h>
#include "litert_sdk/custom_op_api.h"

static char g_log[4096];
static int g_instances;
static void note(const char* s) { strncat(g_log, s, sizeof(g_log) - strlen(g_log) - 1); }
LITERT_SDK_CUSTOM_OP_EXPORT const char* probe_log(void) { return g_log; }

static LiteRtStatus init(void* u, const void* d, size_t n) { (void)u; (void)d; (void)n; return kLiteRtStatusOk; }
static LiteRtStatus layouts(void* u, size_t ni, const LiteRtLayout* il, size_t no, LiteRtLayout* ol) {
  (void)u; (void)ni; (void)il; (void)no; (void)ol; return kLiteRtStatusOk;  /* (only compiled, never run) */
}
static LiteRtStatus run(void* u, size_t ni, const LiteRtTensorBuffer* i, size_t no, LiteRtTensorBuffer* o) {
  (void)u; (void)ni; (void)i; (void)no; (void)o; return kLiteRtStatusOk;
}
static LiteRtStatus destroy(void* u) { (void)u; return kLiteRtStatusOk; }
static void* create(void* op_data) { (void)op_data; note("create;"); return (void*)(long)(++g_instances); }
static void destroy_instance(void* inst) { (void)inst; note("destroy;"); }
static const char* last_error(void* inst) { (void)inst; return "seven is not allowed"; }

#ifdef PROBE_NEW
static int configure(void* inst, const char* code, const char* io_shapes) {
  char line[512];
  snprintf(line, sizeof line, "configure %ld %s %s;", (long)inst, code, io_shapes);
  note(line);
  return strstr(io_shapes, "[7]") ? 3 : 0;
}
#define OP(name) {name, 1, {init, layouts, run, destroy}, create, destroy_instance, last_error, NULL, configure}
typedef LiteRtSdkCustomOp ProbeOp;
#else
#define OP(name) {name, 1, {init, layouts, run, destroy}, create, destroy_instance, last_error, NULL}
typedef struct {  /* LiteRtSdkCustomOp before configure_instance */
  const char* name; int version; LiteRtCustomOpKernel kernel; void* (*create_instance)(void*);
  void (*destroy_instance)(void*); const char* (*last_error)(void*); void* op_data;
} ProbeOp;
typedef char probe_size_check[sizeof(ProbeOp) == LITERT_SDK_CUSTOM_OP_V1_BASE_SIZE ? 1 : -1];
#endif
static const ProbeOp kOps[] = {OP("ProbeA"), OP("Probe")};
static const LiteRtSdkCustomOpTable kTable = {LITERT_SDK_CUSTOM_OP_API_VERSION, sizeof(ProbeOp), "probe", 2,
                                              (const LiteRtSdkCustomOp*)kOps};
LITERT_SDK_CUSTOM_OP_EXPORT int litert_sdk_custom_ops_v1(const LiteRtSdkCustomOpTable** table) {
  *table = &kTable;
  return 0;
}
"""


@pytest.fixture(scope="module")
def probe_libraries(tmp_path_factory) -> dict[str, Path]:
    """{"new": ..., "old": ...}: the probe library built with the current and with the original op struct."""
    import shutil
    import subprocess
    import sys

    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    repo = Path(__file__).resolve().parents[3]
    header = repo / "custom_ops" / "include" / "litert_sdk" / "custom_op_api.h"
    if cc is None or sys.platform == "win32":
        pytest.skip("no C compiler")
    if not header.is_file():
        pytest.skip("the custom-op API header is not available (tests run outside the source tree)")
    d = tmp_path_factory.mktemp("probe")
    src = d / "probe.c"
    src.write_text(_PROBE_SOURCE)
    out = {}
    for kind, defs in (("new", ["-DPROBE_NEW"]), ("old", [])):
        lib = d / f"libprobe_{kind}{'.dylib' if sys.platform == 'darwin' else '.so'}"
        cmd = [cc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", *defs, "-I", str(repo / "custom_ops" / "include"),
               "-I", str(repo / "runtime" / "include"), "-o", str(lib), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        out[kind] = lib
    return out


def _probe_log(lib: Path) -> str:
    import ctypes

    fn = ctypes.CDLL(str(lib)).probe_log
    fn.restype = ctypes.c_char_p
    return fn().decode()


def _probe_model(second_output: tuple[int, ...]) -> bytes:
    """x -> Probe -> a [2,3] and x -> Probe -> b (second_output): identical options, different static shapes."""
    g = Graph()
    x = g.tensor("x", (2, 3))
    g.inputs = [x]
    a, b = g.tensor("a", (2, 3)), g.tensor("b", second_output)
    opts = flexbuffers.Dumps({"tensor": "same"})
    g.ops += [Op("Probe", [x], [a], opts), Op("Probe", [x], [b], opts)]
    g.outputs = [a, b]
    return build(g)


def test_library_gets_each_codes_static_shapes_through_configure_instance(probe_libraries):
    lib = load_custom_op_library(probe_libraries["new"])
    assert lib.names == ["ProbeA", "Probe"]
    cm = CompiledModel.from_buffer(_probe_model((4,)), Options(custom_ops=lib))
    log = _probe_log(probe_libraries["new"])
    assert log == "create;configure 1 Probe [2,3]|[2,3];create;configure 2 Probe#1 [2,3]|[4];", log
    del cm
    import gc

    gc.collect()
    assert _probe_log(probe_libraries["new"]).endswith("destroy;destroy;")


def test_failing_configure_instance_fails_the_compile(probe_libraries):
    lib = load_custom_op_library(probe_libraries["new"])
    with pytest.raises(CustomOpError, match=r"Probe.*node code 'Probe#1'.*configure_instance failed with 3: seven"):
        CompiledModel.from_buffer(_probe_model((7,)), Options(custom_ops=lib))


def test_library_built_with_the_original_op_struct_still_loads(probe_libraries):
    # op_struct_size == LITERT_SDK_CUSTOM_OP_V1_BASE_SIZE: the SDK steps through the table with it and never reads
    # configure_instance (instances are created, never configured). Where the current struct has configure_instance,
    # the old table has the next op's name: reading it as a function would crash.
    lib = load_custom_op_library(probe_libraries["old"])
    assert lib.names == ["ProbeA", "Probe"]
    _cm = CompiledModel.from_buffer(_probe_model((4,)), Options(custom_ops=lib))  # (alive while the log is read)
    assert _probe_log(probe_libraries["old"]) == "create;create;"


@pytest.mark.parametrize("spec", ["[2,3", "[2,3]", "[2,x]|[1]", "[1]|[2];", "[99999999999]|[1]", "[-1]|[1]",
                                  "[1]|[2]|[3]", "[1];[2]", "[1]|[2]\0"])
def test_malformed_io_shapes_are_rejected(spec):
    native = litert_sdk._runtime.native()
    kernel = mediapipe_ops()[0]._native_kernel
    with pytest.raises(InvalidArgumentError, match="io_shapes"):
        native.Options().add_custom_op("X", kernel, spec)
    native.Options().add_custom_op("X", kernel, "[2,3]?[]|[4];[1,3]?[]|[4]")  # well-formed


def test_io_shapes_spec():
    assert _rewrite.io_shapes_spec([]) == ""
    assert _rewrite.io_shapes_spec([(((2, 3), None, ()), ((4,),)), (((1, 3), None, ()), ((4,),))]) == \
        "[2,3]?[]|[4];[1,3]?[]|[4]"
