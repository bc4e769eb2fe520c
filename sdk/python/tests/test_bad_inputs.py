"""Bad inputs of every kind get a typed ``litert_sdk.errors`` exception with a useful message, never a crash.

Table-driven: each case names the call, the exception class and a fragment of its message. The models are the bundled
face detector and small models written by ``fuzz/tflite_builder.py``, so no corpus is needed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BUNDLED_FACE_MODEL

import litert_sdk
from litert_sdk import errors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from tflite_builder import ADD_CONSTANT, add_model, build_model  # noqa: E402

FACE_SHAPE = (1, 128, 128, 3)


def dynamic_add_model() -> bytes:
    """y = x + c with x, y of shape signature [-1, 4] (stored as [1, 4])."""
    desc = add_model()
    for t in (0, 2):
        desc["subgraphs"][0]["tensors"][t]["shape_signature"] = [-1, 4]
    return build_model(desc)


STATIC = build_model(add_model())
DYNAMIC = dynamic_add_model()


@pytest.fixture
def face() -> litert_sdk.Interpreter:
    interp = litert_sdk.Interpreter(model_path=str(BUNDLED_FACE_MODEL), num_threads=1)
    interp.allocate_tensors()
    return interp


@pytest.fixture
def dyn() -> litert_sdk.Interpreter:
    interp = litert_sdk.Interpreter(model_content=DYNAMIC, num_threads=1)
    interp.allocate_tensors()
    return interp


@pytest.fixture
def cm() -> litert_sdk.CompiledModel:
    return litert_sdk.CompiledModel.from_buffer(DYNAMIC)


def _in(i: litert_sdk.Interpreter) -> int:
    return int(i.get_input_details()[0]["index"])


def _out(i: litert_sdk.Interpreter) -> int:
    return int(i.get_output_details()[0]["index"])


# (id, fixture, call, exception class, message fragment)
Case = tuple[str, str, Callable[[Any], Any], type[Exception], str]

CASES: list[Case] = [
    # dtypes
    ("float64 for float32", "face", lambda i: i.set_tensor(_in(i), np.zeros(FACE_SHAPE, np.float64)),
     errors.InvalidArgumentError, "expects float32, got float64"),
    ("int32 for float32", "face", lambda i: i.set_tensor(_in(i), np.zeros(FACE_SHAPE, np.int32)),
     errors.InvalidArgumentError, "expects float32, got int32"),
    ("bool for float32", "face", lambda i: i.set_tensor(_in(i), np.zeros(FACE_SHAPE, bool)),
     errors.InvalidArgumentError, "expects float32, got bool"),
    ("object array", "face", lambda i: i.set_tensor(_in(i), np.empty(FACE_SHAPE, object)),
     errors.InvalidArgumentError, "dtype object"),
    ("str array", "face", lambda i: i.set_tensor(_in(i), np.full(FACE_SHAPE, "a")),
     errors.InvalidArgumentError, "dtype <U1"),
    ("bytes array", "face", lambda i: i.set_tensor(_in(i), np.full(FACE_SHAPE, b"a")),
     errors.InvalidArgumentError, "dtype |S1"),
    ("string value", "dyn", lambda i: i.set_tensor(_in(i), "abc"), errors.InvalidArgumentError,
     "cannot be converted to an array"),
    ("ragged list", "dyn", lambda i: i.set_tensor(_in(i), [[1.0], [2.0, 3.0]]), errors.InvalidArgumentError,
     "cannot be converted to an array"),
    ("object array (runner)", "dyn", lambda i: i.get_signature_runner()(x=np.empty((1, 4), object)),
     errors.InvalidArgumentError, "dtype object"),
    ("float64 (runner)", "dyn", lambda i: i.get_signature_runner()(x=np.zeros((1, 4), np.float64)),
     errors.InvalidArgumentError, "expects float32, got float64"),
    ("object array (compiled model)", "cm", lambda c: c.run([np.empty((1, 4), object)]),
     errors.InvalidArgumentError, "dtype object"),
    ("float64 (compiled model)", "cm", lambda c: c.run({"x": np.zeros((1, 4), np.float64)}),
     errors.InvalidArgumentError, "expects float32, got float64"),
    # shapes
    ("wrong shape", "face", lambda i: i.set_tensor(_in(i), np.zeros((1, 64, 64, 3), np.float32)),
     errors.InvalidArgumentError, "expects shape [1, 128, 128, 3], got [1, 64, 64, 3]"),
    ("scalar for [1, 4]", "dyn", lambda i: i.set_tensor(_in(i), 1.0), errors.InvalidArgumentError,
     "expects shape [1, 4], got []"),
    ("empty array", "dyn", lambda i: i.set_tensor(_in(i), np.zeros((0, 4), np.float32)),
     errors.InvalidArgumentError, "expects shape [1, 4], got [0, 4]"),
    ("None", "face", lambda i: i.set_tensor(_in(i), None), errors.InvalidArgumentError, "to None"),
    ("None (runner)", "dyn", lambda i: i.get_signature_runner()(x=None), errors.InvalidArgumentError, "is None"),
    ("None (compiled model)", "cm", lambda c: c.run({"x": None}), errors.InvalidArgumentError, "is None"),
    # resizes
    ("resize negative", "dyn", lambda i: i.resize_tensor_input(_in(i), [-2, 4]), errors.InvalidArgumentError,
     "negative dimensions"),
    ("resize -1", "cm", lambda c: c.resize_input("x", [-1, 4]), errors.InvalidArgumentError, "negative dimensions"),
    ("resize float dims", "dyn", lambda i: i.resize_tensor_input(_in(i), [1.5, 4]), errors.InvalidArgumentError,
     "sequence of ints"),
    ("resize None", "dyn", lambda i: i.resize_tensor_input(_in(i), None), errors.InvalidArgumentError,
     "sequence of ints"),
    ("resize rank 9", "dyn", lambda i: i.resize_tensor_input(_in(i), [1] * 9), errors.InvalidArgumentError,
     "more than 8 dimensions"),
    ("resize 2**31", "dyn", lambda i: i.resize_tensor_input(_in(i), [2**31, 4]), errors.InvalidArgumentError,
     "larger than 2147483647"),
    ("resize 2**63", "cm", lambda c: c.resize_input("x", [2**63, 4]), errors.InvalidArgumentError,
     "larger than 2147483647"),
    ("resize to terabytes", "dyn", lambda i: i.resize_tensor_input(_in(i), [2**31 - 1, 2**31 - 1]),
     errors.InvalidArgumentError, "of memory available"),
    ("resize to terabytes (runner)", "dyn",
     lambda i: i.get_signature_runner().resize_input("x", [2**31 - 1, 2**20]), errors.InvalidArgumentError,
     "of memory available"),
    ("resize to terabytes (compiled model)", "cm", lambda c: c.resize_input("x", [2**31 - 1, 2**31 - 1]),
     errors.InvalidArgumentError, "of memory available"),
    ("strict resize of a static dim", "dyn", lambda i: i.resize_tensor_input(_in(i), [2, 5], strict=True),
     errors.InvalidArgumentError, "strictly"),
    ("strict resize (compiled model)", "cm", lambda c: c.resize_input("x", [2, 5]), errors.InvalidArgumentError,
     "cannot resize input 'x'"),
    # names and indices
    ("unknown signature", "dyn", lambda i: i.get_signature_runner("nope"), errors.NotFoundError,
     "no signature 'nope'"),
    ("unknown signature (compiled model)", "cm", lambda c: c.run({"x": np.zeros((1, 4), np.float32)}, "nope"),
     errors.NotFoundError, "no signature 'nope'"),
    ("signature index out of range", "cm", lambda c: c.run([np.zeros((1, 4), np.float32)], 3),
     errors.NotFoundError, "out of range"),
    ("unknown input name", "dyn", lambda i: i.get_signature_runner()(nope=np.zeros((1, 4), np.float32)),
     errors.InvalidArgumentError, "unknown input(s) ['nope']"),
    ("missing input", "cm", lambda c: c.run({}), errors.InvalidArgumentError, "missing input(s) ['x']"),
    ("unknown input (compiled model)", "cm", lambda c: c.run({"nope": 1}), errors.InvalidArgumentError,
     "unknown input(s) ['nope']"),
    ("wrong number of inputs", "cm", lambda c: c.run([]), errors.InvalidArgumentError, "takes 1 input(s)"),
    ("inputs of the wrong kind", "cm", lambda c: c.run("abc"), errors.InvalidArgumentError,
     "must be a dict, list/tuple or numpy array"),
    ("unknown output name", "cm", lambda c: c.output_buffer("nope"), errors.NotFoundError, "has no output 'nope'"),
    ("input index out of range", "cm", lambda c: c.input_buffer(7), errors.InvalidArgumentError,
     "input index 7 out of range"),
    ("unknown input (runner resize)", "dyn", lambda i: i.get_signature_runner().resize_input("nope", [1, 4]),
     errors.NotFoundError, "has no input 'nope'"),
    ("tensor index out of range", "face", lambda i: i.get_tensor(10_000), errors.InvalidArgumentError,
     "not a tensor"),
    ("negative tensor index", "face", lambda i: i.get_tensor(-1), errors.InvalidArgumentError, "not a tensor"),
    ("bool tensor index", "face", lambda i: i.get_tensor(True), errors.InvalidArgumentError, "must be an int"),
    ("str tensor index", "face", lambda i: i.set_tensor("x", np.zeros(FACE_SHAPE, np.float32)),
     errors.InvalidArgumentError, "must be an int"),
    ("set an output", "face", lambda i: i.set_tensor(_out(i), np.zeros((1, 896, 16), np.float32)),
     errors.InvalidArgumentError, "not an input"),
    ("other subgraph", "face", lambda i: i.get_tensor(_out(i), 1), errors.UnsupportedError, "main subgraph"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case: Case, request: pytest.FixtureRequest) -> None:
    _, fixture, call, exc, fragment = case
    target = request.getfixturevalue(fixture)
    with pytest.raises(exc) as info:
        call(target)
    assert fragment in str(info.value)
    assert isinstance(info.value, errors.LiteRtError)


def test_object_still_usable_after_errors(dyn: litert_sdk.Interpreter) -> None:
    """A rejected call (huge resize, wrong dtype) leaves the interpreter working."""
    for bad in ([2**31 - 1, 2**31 - 1], [-1, 4], [2**31, 4]):
        with pytest.raises(errors.InvalidArgumentError):
            dyn.resize_tensor_input(_in(dyn), bad)
    with pytest.raises(errors.InvalidArgumentError):
        dyn.set_tensor(_in(dyn), np.zeros((1, 4), np.float64))
    dyn.set_tensor(_in(dyn), np.ones((1, 4), np.float32))
    dyn.invoke()
    np.testing.assert_array_equal(dyn.get_tensor(_out(dyn)), 1 + ADD_CONSTANT[None])


# -- model bytes -----------------------------------------------------------------------------------------------------
MODEL_CASES = [
    ("zero-length content", b"", "too short"),
    ("seven bytes", b"TFL3abc", "too short"),
    ("not a model", b"this is not a flatbuffer at all" * 4, "file identifier"),
    ("wrong identifier", build_model(add_model(), file_identifier=b"ABCD"), "file identifier is b'ABCD'"),
    ("truncated to 12 bytes", STATIC[:12], "outside the buffer"),
    ("truncated to half", STATIC[: len(STATIC) // 2], "malformed flatbuffer"),
    ("cut inside the last string", STATIC[: STATIC.index(b"test model") + 4], "malformed flatbuffer"),
    ("zeros", bytes(1024), "file identifier"),
]


@pytest.mark.parametrize("data,fragment", [c[1:] for c in MODEL_CASES], ids=[c[0] for c in MODEL_CASES])
def test_bad_model_bytes(data: bytes, fragment: str) -> None:
    for make in (lambda: litert_sdk.Interpreter(model_content=data),
                 lambda: litert_sdk.CompiledModel.from_buffer(data),
                 lambda: litert_sdk.Model.from_buffer(bytearray(data))):
        with pytest.raises(errors.ModelError) as info:
            make()
        assert fragment in str(info.value)


@pytest.mark.parametrize("content", ["a str", [1, 2, 3], 42, np.zeros(8, np.uint8)], ids=lambda c: type(c).__name__)
def test_model_content_of_the_wrong_type(content: Any) -> None:
    with pytest.raises(errors.ModelError, match="must be bytes-like"):
        litert_sdk.Interpreter(model_content=content)


def test_bad_model_paths(tmp_path: Path) -> None:
    with pytest.raises(errors.ModelError, match="not found"):
        litert_sdk.Interpreter(model_path=str(tmp_path / "missing.tflite"))
    with pytest.raises(errors.ModelError, match="not found"):
        litert_sdk.Interpreter(model_path=str(tmp_path))  # a directory
    with pytest.raises(errors.ModelError, match="str or os.PathLike"):
        litert_sdk.Interpreter(model_path=123)  # type: ignore[arg-type]
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    with pytest.raises(errors.ModelError, match="too short"):
        litert_sdk.CompiledModel.from_file(empty)
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(BUNDLED_FACE_MODEL.read_bytes()[:5000])
    with pytest.raises(errors.ModelError, match="invalid TFLite model"):
        litert_sdk.Interpreter(model_path=str(truncated))


def test_every_truncation_is_rejected() -> None:
    """Every prefix of a model is rejected with ModelError (the verifier runs before the runtime sees the bytes)."""
    for n in range(0, len(STATIC), 7):
        with pytest.raises(errors.ModelError):
            litert_sdk.Model.from_buffer(STATIC[:n])


def test_bad_constructor_arguments() -> None:
    with pytest.raises(errors.InvalidArgumentError, match="exactly one"):
        litert_sdk.Interpreter()
    with pytest.raises(errors.InvalidArgumentError, match="num_threads"):
        litert_sdk.Interpreter(model_content=STATIC, num_threads=0)
    with pytest.raises(errors.InvalidArgumentError, match="num_threads"):
        litert_sdk.Interpreter(model_content=STATIC, num_threads="2")  # type: ignore[arg-type]


# -- good inputs of unusual form ----------------------------------------------------------------------------------
def test_non_contiguous_arrays_match_contiguous(face: litert_sdk.Interpreter) -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((1, 256, 128, 6)).astype(np.float32)
    strided = base[:, ::2, :, ::2]  # non-contiguous view, shape (1, 128, 128, 3)
    transposed = np.ascontiguousarray(strided).transpose(0, 2, 1, 3).copy().transpose(0, 2, 1, 3)  # F-order-ish
    assert not strided.flags.c_contiguous and not transposed.flags.c_contiguous
    outs = []
    for x in (np.ascontiguousarray(strided), strided, transposed):
        face.set_tensor(_in(face), x)
        face.invoke()
        outs.append([face.get_tensor(d["index"]) for d in face.get_output_details()])
    for other in outs[1:]:
        for a, b in zip(outs[0], other, strict=False):
            np.testing.assert_array_equal(a, b)
    # the same through the CompiledModel API (zero-copy path refuses non-contiguous memory: it copies)
    cm = litert_sdk.CompiledModel.from_file(BUNDLED_FACE_MODEL)
    ref = cm.run([np.ascontiguousarray(strided)])
    got = cm.run([strided])
    for a, b in zip(ref, got, strict=False):
        np.testing.assert_array_equal(a, b)


def test_lists_and_scalars_are_converted(dyn: litert_sdk.Interpreter) -> None:
    dyn.set_tensor(_in(dyn), [[1, 2, 3, 4]])  # nested list of ints -> float32
    dyn.invoke()
    np.testing.assert_array_equal(dyn.get_tensor(_out(dyn)), [[2, 4, 6, 8]])
    cm = litert_sdk.CompiledModel.from_buffer(DYNAMIC)
    (y,) = cm.run([[[0.5, 0.5, 0.5, 0.5]]])
    np.testing.assert_array_equal(y, 0.5 + ADD_CONSTANT[None])


def test_nan_and_inf_inputs_run(dyn: litert_sdk.Interpreter) -> None:
    x = np.array([[np.nan, np.inf, -np.inf, 1.0]], np.float32)
    dyn.set_tensor(_in(dyn), x)
    dyn.invoke()
    y = dyn.get_tensor(_out(dyn))
    assert np.isnan(y[0, 0]) and y[0, 1] == np.inf and y[0, 2] == -np.inf and y[0, 3] == 5.0
    face = litert_sdk.CompiledModel.from_file(BUNDLED_FACE_MODEL)
    outs = face.run([np.full(FACE_SHAPE, np.nan, np.float32)])
    assert all(o.shape for o in outs)  # runs; NaN propagates (no NaN-free guarantee for NaN inputs)
    clean = face.run([np.zeros(FACE_SHAPE, np.float32)])
    assert all(np.isfinite(o).all() for o in clean)  # and the next run on finite input is NaN-free


def test_dynamic_batch_resize_runs(dyn: litert_sdk.Interpreter) -> None:
    dyn.resize_tensor_input(_in(dyn), [3, 4])
    dyn.allocate_tensors()
    dyn.set_tensor(_in(dyn), np.zeros((3, 4), np.float32))
    dyn.invoke()
    np.testing.assert_array_equal(dyn.get_tensor(_out(dyn)), np.tile(ADD_CONSTANT, (3, 1)))


BIG_MODEL_SCRIPT = """
import resource, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from tflite_builder import add_model, build_model
import litert_sdk
rows = int(sys.argv[2])
# y = x + c with x and y of [rows, 2**31 - 1] float32 (rows * 8 GiB each): a valid model larger than this host.
d = add_model()
t = d["subgraphs"][0]["tensors"]
t[0]["shape"] = t[2]["shape"] = [rows, 2**31 - 1]
t[1]["shape"] = [1, 1]
d["buffers"][2]["data"] = np.float32([1]).tobytes()
data = build_model(d)
# safety net for a host with overcommit disabled or more memory than expected: never really allocate it
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
for make in (lambda: litert_sdk.Interpreter(model_content=data).allocate_tensors(),
             lambda: litert_sdk.CompiledModel.from_buffer(data).run([np.zeros((1, 4), np.float32)])):
    try:
        make()
        print("no error")
    except litert_sdk.errors.LiteRtError as e:
        print(type(e).__name__, isinstance(e, MemoryError), str(e)[:200])
"""


@pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_AS and /proc/meminfo")
@pytest.mark.skipif(bool(os.environ.get("LITERT_SDK_SANITIZER")), reason="ASan reserves terabytes of address space")
def test_model_larger_than_memory_is_refused() -> None:
    """A valid model whose tensors exceed the host's memory fails with a typed error (OutOfMemoryError, also a
    MemoryError, or the runtime's own refusal), not with the process being killed."""
    import subprocess

    with open("/proc/meminfo") as f:
        total = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemTotal:"))
    rows = max(2, -(-2 * total // (8 * 2**30)))  # twice the host's memory per tensor
    proc = subprocess.run(
        [sys.executable, "-c", BIG_MODEL_SCRIPT, str(Path(__file__).resolve().parents[1] / "fuzz"), str(rows),
         str(min(total // 2, 16 * 2**30))],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and all(not line.startswith("no error") for line in lines), proc.stdout
    assert all(line.split()[0] in ("OutOfMemoryError", "RuntimeFailure", "CompilationError") for line in lines), lines
