"""litert_sdk.verification: the one accuracy check (verify_compiled_model and ``litert-sdk verify`` used to be two
loops with different tolerances, NaN handling and integer rules) and the one seeded input generator."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import litert_sdk
from litert_sdk import Options, cli, vision
from litert_sdk.verification import compare_compiled, compare_outputs, random_input, verify_compiled_model

MODELS = Path(__file__).resolve().parent / "models"
FACE = str(vision.DEFAULT_FACE_MODEL)


def test_compare_outputs_rules() -> None:
    w = np.array([1.0, -4.0, np.nan, np.inf])
    assert compare_outputs(w, w) == (0.0, 4.0)  # NaN/inf at the same places: equal; max|want| over finite values
    assert compare_outputs(w + [0.5, 0, 0, 0], w) == (0.5, 4.0)
    assert compare_outputs(np.array([1.0, -4.0, 0.0, np.inf]), w)[0] == math.inf  # NaN on one side only
    assert compare_outputs(np.zeros(3), np.zeros(4))[0] == math.inf  # shapes differ


def test_random_input_kinds() -> None:
    rng = np.random.default_rng(0)
    f = random_input((100,), np.float32, rng)
    assert f.dtype == np.float32 and f.min() >= -1 and f.max() <= 1
    i = random_input((100,), np.int32, rng)
    assert i.dtype == np.int32 and 0 <= i.min() and i.max() < 10
    q = random_input((1000,), np.int8, rng)
    assert q.min() < -100 and q.max() > 100
    assert random_input((5,), np.bool_, rng).dtype == np.bool_
    with pytest.raises(litert_sdk.InvalidArgumentError):
        random_input((2,), np.dtype("U3"), rng)


def test_cli_verify_and_verify_compiled_model_give_the_same_numbers(capsys) -> None:
    """Same model, options, seed and runs: the CLI's JSON equals the report of the function."""
    report = verify_compiled_model(FACE, Options.cpu_only(num_threads=1), runs=2, seed=4, rtol=1e-4, atol=1e-5)
    code = cli.main(["verify", FACE, "--threads", "1", "--runs", "2", "--seed", "4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == cli.EXIT_OK and report.passed and out["passed"]
    for o in out["outputs"]:
        assert o["max_abs_error"] == report.max_abs_error[o["name"]]
        assert o["tolerance"] == report.tolerance[o["name"]]
        assert o["reference_max_abs"] == report.reference_max_abs[o["name"]]
    assert max(report.max_abs_error.values()) > 0  # XNNPACK and the reference kernels do differ a little


def test_integer_outputs_may_differ_by_one_step() -> None:
    report = verify_compiled_model(MODELS / "int8_quant.tflite", Options.cpu_only(num_threads=1), runs=3, atol=0,
                                   rtol=0)
    assert report.tolerance == {"logits": 1.0}
    assert report.passed, report


def test_input_shapes_and_given_inputs(peer) -> None:
    """A dynamic batch resized to 3 for both compiles; given inputs are used as they are (checked against the
    peer's result through the reported reference magnitude)."""
    path = MODELS / "dynamic_batch.tflite"
    report = verify_compiled_model(path, Options.cpu_only(num_threads=1), input_shapes={"x": [3, 8]}, runs=2)
    assert report.passed and report.runs == 2
    x = np.linspace(-2, 2, 16, dtype=np.float32).reshape(2, 8)
    interp = peer.Interpreter(model_path=str(path))
    interp.resize_tensor_input(0, [2, 8])
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    want = interp.get_tensor(interp.get_output_details()[0]["index"])
    with litert_sdk.CompiledModel.from_file(path) as a, litert_sdk.CompiledModel.from_file(path) as b:
        a.resize_input("x", [2, 8])
        b.resize_input("x", [2, 8])
        seen = []
        rep = compare_compiled(a, b, inputs=lambda rng: seen.append(rng) or {"x": x}, runs=2)
    assert len(seen) == 2 and rep.max_abs_error == {"probs": 0.0}
    assert rep.reference_max_abs["probs"] == pytest.approx(float(np.abs(want).max()), rel=1e-6)
