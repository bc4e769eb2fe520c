"""The classic Interpreter API: drop-in behaviour, signatures, typed errors, no console noise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED_FACE_MODEL, TESTS

import litert_sdk
from litert_sdk import errors


def _run_example(import_line: str, model: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    src = (TESTS / "data" / "tflite_runtime_example.py").read_text()
    original = "from tflite_runtime.interpreter import Interpreter"
    assert original in src
    script = tmp_path / f"example_{abs(hash(import_line))}.py"
    script.write_text(src.replace(original, import_line))
    return subprocess.run([sys.executable, str(script), str(model)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("model", ["mp-py__face_detection_short_range.tflite", "mp-py__hand_recrop.tflite"])
def test_unmodified_tflite_runtime_program(model, corpus, peer, tmp_path):
    ours = _run_example("from litert_sdk.interpreter import Interpreter", corpus / model, tmp_path)
    assert ours.returncode == 0, ours.stderr
    ref = _run_example("from ai_edge_litert.interpreter import Interpreter", corpus / model, tmp_path)
    assert ref.returncode == 0, ref.stderr
    assert ours.stdout == ref.stdout
    assert "tensor():" in ours.stdout


def test_plain_run_prints_nothing_to_stderr():
    code = (
        "import numpy as np, litert_sdk\n"
        f"i = litert_sdk.Interpreter(model_path={str(BUNDLED_FACE_MODEL)!r})\n"
        "i.allocate_tensors(); i.invoke()\n"
        f"cm = litert_sdk.CompiledModel.from_file({str(BUNDLED_FACE_MODEL)!r})\n"
        "cm.run([np.zeros((1, 128, 128, 3), np.float32)])\n"
        "print(litert_sdk.runtime_version())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2.3.0"
    assert proc.stderr == ""


def test_runtime_output_is_routed_to_logging(caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="litert_sdk.runtime")
    # A fresh environment and compile in-process: whatever the runtime prints is captured, not lost.
    env = litert_sdk.Environment()
    litert_sdk.CompiledModel(litert_sdk.Model.from_file(BUNDLED_FACE_MODEL, env))
    for rec in caplog.records:
        assert rec.name == "litert_sdk.runtime" and rec.levelno == logging.DEBUG


def test_details_and_tensor_access(corpus):
    interp = litert_sdk.Interpreter(model_path=str(BUNDLED_FACE_MODEL))
    interp.allocate_tensors()
    (inp,) = interp.get_input_details()
    assert inp["name"] == "input" and inp["dtype"] is np.float32
    assert inp["shape"].tolist() == [1, 128, 128, 3]
    outs = interp.get_output_details()
    assert [o["name"] for o in outs] == ["regressors", "classificators"]
    assert [o["shape"].tolist() for o in outs] == [[1, 896, 16], [1, 896, 1]]
    x = np.linspace(-1, 1, 128 * 128 * 3, dtype=np.float32).reshape(1, 128, 128, 3)
    interp.set_tensor(inp["index"], x)
    np.testing.assert_array_equal(interp.get_tensor(inp["index"]), x)
    # tensor() views the runtime's buffer: writing through it is what invoke sees.
    interp.tensor(inp["index"])()[...] = x
    interp.invoke()
    y1 = interp.get_tensor(outs[0]["index"])
    view = interp.tensor(outs[0]["index"])
    np.testing.assert_array_equal(view(), y1)
    assert interp.last_inference_duration_us > 0
    # Constant tensors are readable (weights), intermediates raise a clear error.
    details = interp.get_tensor_details()
    assert len(details) > 100 and [d["index"] for d in details] == sorted(d["index"] for d in details)
    model = litert_sdk.Model.from_file(BUNDLED_FACE_MODEL)
    sg = model.subgraphs[0]
    const_idx = next(i for op in sg.ops for i in op.inputs if i >= 0 and model.constant(i) is not None)
    assert isinstance(interp.get_tensor(const_idx), np.ndarray)
    produced = {o for op in sg.ops for o in op.outputs} - set(sg.outputs)
    with pytest.raises(errors.UnsupportedError, match="intermediate"):
        interp.get_tensor(min(produced))


def test_run_conveniences(corpus):
    interp = litert_sdk.Interpreter.from_file(corpus / "tflm__sine_float.tflite")
    x = np.array([[0.5], [1.0], [1.5]], np.float32)
    y = interp.run(x)  # resizes the dynamic batch
    assert y.shape == (3, 1)
    assert np.allclose(y[:, 0], np.sin(x[:, 0]), atol=0.08)  # the TFLM model approximates sin
    out = np.zeros((3, 1), np.float32)
    res = interp.run_for_multiple_inputs([x], {0: out})
    assert res[0] is out and np.array_equal(out, y)
    buf = litert_sdk.Interpreter.from_buffer((corpus / "tflm__sine_float.tflite").read_bytes())
    assert np.array_equal(buf.run(x), y)


def test_signature_runner_by_name(corpus):
    interp = litert_sdk.Interpreter(model_path=str(corpus / "tflm__sine_float.tflite"))
    assert interp.get_signature_list() == {"serving_default": {"inputs": ["dense_input"], "outputs": ["dense_2"]}}
    runner = interp.get_signature_runner()
    out = runner(dense_input=np.array([[0.25], [2.0]], np.float32))
    assert set(out) == {"dense_2"} and out["dense_2"].shape == (2, 1)
    assert runner.get_input_details()["dense_input"]["shape_signature"].tolist() == [-1, 1]
    with pytest.raises(errors.InvalidArgumentError, match="unknown input"):
        runner(nope=np.zeros((1, 1), np.float32))
    with pytest.raises(errors.InvalidArgumentError, match="missing input"):
        runner()
    with pytest.raises(errors.NotFoundError):
        interp.get_signature_runner("does_not_exist")
    # Models without signatures list none (like tflite_runtime).
    assert litert_sdk.Interpreter(model_path=str(BUNDLED_FACE_MODEL)).get_signature_list() == {}


def test_typed_errors(corpus, tmp_path):
    with pytest.raises(errors.ModelError, match="not found"):
        litert_sdk.Interpreter(model_path=str(tmp_path / "missing.tflite"))
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"this is not a flatbuffer at all" * 4)
    with pytest.raises(errors.ModelError) as info:
        litert_sdk.Interpreter(model_path=str(bad))
    assert info.value.status_name is not None
    with pytest.raises(errors.InvalidArgumentError):
        litert_sdk.Interpreter()
    interp = litert_sdk.Interpreter(model_path=str(BUNDLED_FACE_MODEL))
    interp.allocate_tensors()
    idx = interp.get_input_details()[0]["index"]
    with pytest.raises(errors.InvalidArgumentError, match="expects float32, got float64"):
        interp.set_tensor(idx, np.zeros((1, 128, 128, 3), np.float64))
    with pytest.raises(ValueError, match="expects shape"):  # also a ValueError, like tflite_runtime
        interp.set_tensor(idx, np.zeros((1, 64, 64, 3), np.float32))
    with pytest.raises(errors.InvalidArgumentError, match="not an input"):
        interp.set_tensor(interp.get_output_details()[0]["index"], np.zeros((1, 896, 16), np.float32))
    with pytest.raises(errors.InvalidArgumentError, match="not a tensor"):
        interp.get_tensor(10_000)
    with pytest.raises(errors.InvalidArgumentError):
        interp.resize_tensor_input(idx, [1, -3, 128, 3])
    with pytest.raises(errors.InvalidArgumentError, match="strictly"):
        interp.resize_tensor_input(idx, [2, 128, 128, 3], strict=True)
    with pytest.raises(errors.UnsupportedError):
        litert_sdk.interpreter.load_delegate("libedgetpu.so.1")
    interp.close()
    with pytest.raises(errors.ClosedError):
        interp.invoke()


def test_status_table_matches_native():
    from litert_sdk import _runtime

    info = _runtime.native().abi_info()
    assert info["runtime_version"] == litert_sdk.runtime_version() == "2.3.0"
    assert info["host_memory_alignment"] == 64
    assert info["sizes"] == {"LiteRtLayout": 68, "LiteRtRankedTensorType": 72, "LiteRtEnvOption": 24,
                             "LiteRtCustomOpKernel": 32}
    for status, name in info["statuses"].items():
        assert errors.status_name(status) == name != "UnknownStatus"
    assert len(info["statuses"]) == 31
