"""Compile errors carry the runtime's own reason (what ai-edge-litert 2.3.0 reports for the same model) and name the
operators involved."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import litert_sdk
from litert_sdk import errors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from tflite_builder import add_model, build_model  # noqa: E402


def _model(version_of_second: int | None = None, version: int = 99) -> bytes:
    """ADD at ``version``; with ``version_of_second``, two ADDs (codes 0 at version 1 and 1 at that version)."""
    d = add_model()
    if version_of_second is None:
        d["operator_codes"][0]["version"] = version
        return build_model(d)
    d["operator_codes"].append({"deprecated_builtin_code": 0, "builtin_code": 0, "version": version_of_second})
    sg = d["subgraphs"][0]
    sg["tensors"].append({"shape": [1, 4], "type": 0, "buffer": 4, "name": "z"})
    d["buffers"].append({})
    sg["operators"].append({"opcode_index": 1, "inputs": [2, 1], "outputs": [3],
                            "builtin_options_type": 11, "builtin_options": {0: ("i8", 0)}})
    sg["outputs"] = [3]
    d["signature_defs"][0]["outputs"] = [{"name": "z", "tensor_index": 3}]
    return build_model(d)


def _peer_reason(peer: object, data: bytes) -> str:
    with pytest.raises(Exception) as info:
        it = peer.Interpreter(model_content=data)
        it.allocate_tensors()
    return str(info.value).splitlines()[0]


def test_unknown_op_version_carries_the_runtime_reason(peer: object) -> None:
    data = _model()
    reason = _peer_reason(peer, data)
    assert reason.startswith("Didn't find op for builtin opcode 'ADD' version '99'")
    with pytest.raises(errors.RuntimeFailure) as info:
        litert_sdk.CompiledModel.from_buffer(data)
    assert reason in str(info.value) and info.value.status == 3
    assert "(at operator 0 (ADD, version 99) of subgraph 0)" in str(info.value)
    with pytest.raises(errors.RuntimeFailure, match="version '99'.*operator 0 \\(ADD, version 99\\)"):
        litert_sdk.Interpreter(model_content=data).allocate_tensors()


def test_the_operator_named_is_the_one_with_the_bad_code(peer: object, tmp_path: Path) -> None:
    data = _model(version_of_second=42)
    reason = _peer_reason(peer, data)
    path = tmp_path / "two_adds.tflite"
    path.write_bytes(data)
    with pytest.raises(errors.RuntimeFailure) as info:
        litert_sdk.CompiledModel.from_file(str(path))  # models from files: the bytes are re-read for the operators
    text = str(info.value)
    assert reason in text and "version '42'" in text
    assert "(at operator 1 (ADD, version 42) of subgraph 0)" in text and "operator 0 " not in text


def test_reason_is_captured_when_runtime_output_is_not_quiet(peer: object) -> None:
    native = litert_sdk._runtime.native()
    was = native.quiet()
    native.set_quiet(False)
    try:
        with pytest.raises(errors.RuntimeFailure, match="Didn't find op for builtin opcode 'ADD' version '7'"):
            litert_sdk.CompiledModel.from_buffer(_model(version=7))
    finally:
        native.set_quiet(was)


def test_valid_version_still_compiles_and_runs() -> None:
    cm = litert_sdk.CompiledModel.from_buffer(_model(version=1))
    x = np.arange(4, dtype=np.float32).reshape(1, 4)
    np.testing.assert_array_equal(cm.run({"x": x})["y"], x + np.array([1, 2, 3, 4], np.float32))
