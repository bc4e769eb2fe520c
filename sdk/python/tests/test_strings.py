"""String tensors (tf.string): TFLite's packed format <-> numpy object arrays of bytes, on every run path.

Models: tests/models/string_input (builtin GATHER on strings; TensorFlow's outputs in its npz) and
flex/tests/models/strings_reshape (builtin RESHAPE of a dynamic [-1] string input to [-1, 1]).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import GENERATED

import litert_sdk
from litert_sdk import CompiledModel, Interpreter, errors
from litert_sdk._strings import PackedStrings, pack, unpack

STRING_INPUT = str(GENERATED / "string_input.tflite")
RESHAPE = str(Path(__file__).resolve().parents[3] / "flex" / "tests" / "models" / "strings_reshape.tflite")


def _ref() -> tuple[np.ndarray, np.ndarray]:
    r = np.load(GENERATED / "string_input.npz")
    return r["serving_default/in/x"], r["serving_default/out/y"]


def _objects(a: np.ndarray) -> np.ndarray:
    return np.array([bytes(v) for v in a.reshape(-1)], dtype=object).reshape(a.shape)


def test_pack_is_tflites_format_and_unpack_inverts_it() -> None:
    p = pack(np.array([b"ab", b"", b"xyz"]))
    assert p.shape == (3,)
    assert p.data == struct.pack("<5i", 3, 20, 22, 22, 25) + b"abxyz"
    assert pack("é").data == struct.pack("<3i", 1, 12, 14) + "é".encode()
    assert pack(b"path").shape == ()
    assert pack([["a", b"b"], ["c", "d"]]).shape == (2, 2)
    back = unpack(p.data + b"\0" * 7, (3,))  # trailing bytes (the output buffer's capacity) are ignored
    assert back.dtype == object and back.tolist() == [b"ab", b"", b"xyz"]
    assert unpack(pack(np.array([["a", "b"]], dtype=object)).data, (1, 2)).tolist() == [[b"a", b"b"]]


@pytest.mark.parametrize("bad", [np.array([1, 2, 3], np.int32), np.array([b"a", 3, b"c"], dtype=object), 3.5])
def test_bad_string_inputs_raise_invalid_argument(bad: object) -> None:
    cm = CompiledModel.from_file(STRING_INPUT)
    with pytest.raises(errors.InvalidArgumentError, match="string tensor"):
        cm.run({"x": bad})
    interp = Interpreter(model_path=STRING_INPUT)
    interp.allocate_tensors()
    with pytest.raises(errors.InvalidArgumentError):
        interp.set_tensor(interp.get_input_details()[0]["index"], bad)


def test_compiled_model_string_input_and_output_match_tensorflow() -> None:
    x, y = _ref()
    cm = CompiledModel.from_file(STRING_INPUT)
    for feed in (x, x.astype(object), [v.decode() for v in x], np.array([v.decode() for v in x])):
        out = cm.run({"x": feed})["y"]
        assert out.dtype == object and out.shape == y.shape
        assert out.tolist() == _objects(y).tolist()
    with pytest.raises(errors.InvalidArgumentError, match="shape"):
        cm.run({"x": x[:2]})  # the model's [3] is static
    with pytest.raises(errors.UnsupportedError, match="no numpy view"):
        cm.output_buffer("y")


def test_interpreter_strings_match_ai_edge_litert(peer) -> None:
    x, y = _ref()
    values = [x, np.array(["π", "", "a\0b"]), np.array([b"1", "two", b"three"], dtype=object)]
    ours = Interpreter(model_path=STRING_INPUT)
    theirs = peer.Interpreter(model_path=STRING_INPUT)
    for interp in (ours, theirs):
        interp.allocate_tensors()
    for key in ("dtype", "shape", "name"):
        assert str(ours.get_input_details()[0][key]) == str(theirs.get_input_details()[0][key])
        assert str(ours.get_output_details()[0][key]) == str(theirs.get_output_details()[0][key])
    for v in values:
        got = []
        for interp in (ours, theirs):
            interp.set_tensor(interp.get_input_details()[0]["index"], v)
            interp.invoke()
            got.append(interp.get_tensor(interp.get_output_details()[0]["index"]))
            got.append(interp.get_tensor(interp.get_input_details()[0]["index"]))
        assert got[0].dtype == got[2].dtype == object
        assert got[0].tolist() == got[2].tolist(), v
        assert got[1].tolist() == got[3].tolist(), v
    assert got[0].tolist() == [b"three", b"1", b"two"]  # gather(x, [2, 0, 1])
    runner = ours.get_signature_runner()
    assert runner(x=x)["y"].tolist() == _objects(y).tolist()


def test_string_input_must_be_set_before_invoke() -> None:
    interp = Interpreter(model_path=STRING_INPUT)
    interp.allocate_tensors()
    with pytest.raises(errors.InvalidArgumentError, match="has not been set"):
        interp.invoke()


def test_string_output_larger_than_its_buffer_grows_it() -> None:
    # The runtime copies string outputs into a host buffer and fails the run when it is too small (1 MiB at first):
    # a typed error saying so, and the next run fits.
    cm = CompiledModel.from_file(STRING_INPUT)
    x = np.array([b"a" * 600_000, b"b" * 600_000, b"c" * 100], dtype=object)
    with pytest.raises(errors.RuntimeFailure, match="run again"):
        cm.run({"x": x})
    out = cm.run({"x": x})["y"]
    assert [len(v) for v in out] == [100, 600_000, 600_000] and out[1] == x[0]


def test_dynamic_string_shapes_follow_the_input() -> None:
    # libLiteRt reports the pre-resize layout for string outputs; the SDK takes the shape from the strings.
    cm = CompiledModel.from_file(RESHAPE)
    r = np.load(RESHAPE.replace(".tflite", ".npz"))
    out = cm.run([r["in:serving_default:s"]])[0]
    assert out.tolist() == _objects(r["out:serving_default:column"]).tolist()  # TensorFlow's output
    for n in (1, 3, 5):
        x = np.array([f"s{i}" * (i + 1) for i in range(n)])
        out = cm.run([x])[0]
        assert out.shape == (n, 1)
        assert out[:, 0].tolist() == [v.encode() for v in x]
    assert isinstance(pack(["a"]), PackedStrings) and litert_sdk.__name__ == "litert_sdk"
