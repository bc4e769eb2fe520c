"""Integer FLOOR_MOD of INT_MIN by -1 kills the runtime's process with SIGFPE (measured on ai-edge-litert 2.3.0;
DIV and FLOOR_DIV do not). The SDK refuses such runs when the operands are signature inputs or constants (checked
before every run, in every run path) and refuses, at verify time, models whose operands it cannot bound."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kernel_rule_models import computed_floor_mod, died_of, integer_division, run_child

import litert_sdk
from litert_sdk import errors
from litert_sdk._division_guard import division_guards
from litert_sdk._kernel_rules import ALLOW_UNBOUNDED_DIVISION_ENV
from litert_sdk._verifier import verify_model, verify_model_bytes

MIN = {"int32": -2**31, "int64": -2**63}


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_fatal_pair_of_inputs_is_refused(dtype: str, tmp_path: Path, peer: object) -> None:
    data = integer_division("FLOOR_MOD", dtype)
    feeds = (f"[{MIN[dtype]}, 7, 2, 3]", "[-1, 3, 1, 1]")
    unguarded = run_child(tmp_path, data, "peer", *feeds)
    assert died_of(unguarded, signal.SIGFPE), (unguarded.returncode, unguarded.stdout)
    guarded = run_child(tmp_path, data, "sdk", *feeds)
    assert guarded.returncode == 0, guarded.stderr[-2000:]
    lines = guarded.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["Interpreter", "InvalidArgumentError"],
                                                    ["CompiledModel", "InvalidArgumentError"]]
    assert all("operator 0 (FLOOR_MOD) of subgraph 0" in line and f"hold {MIN[dtype]} in the dividend and -1 in "
               "the divisor" in line for line in lines)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_other_values_run_like_the_peer(dtype: str, tmp_path: Path, peer: object) -> None:
    """The fatal values apart (MIN with another divisor, -1 with another dividend) the guarded model runs and
    matches the peer."""
    data = integer_division("FLOOR_MOD", dtype)
    feeds = (f"[{MIN[dtype]}, -7, 7, 5]", "[3, -1, -3, -1]")
    ref = run_child(tmp_path, data, "peer", *feeds)
    got = run_child(tmp_path, data, "sdk", *feeds)
    assert ref.returncode == 0 and got.returncode == 0, (ref.stderr[-500:], got.stderr[-500:])
    values = ref.stdout.split(" ", 3)[3].strip()
    assert values == str([int(v) for v in np.mod(np.array(eval(feeds[0]), dtype), np.array(eval(feeds[1]), dtype))])
    assert got.stdout.splitlines() == [f"Interpreter ran {values}", f"CompiledModel ran {values}"]


BUFFERS_CHILD = r"""
import sys, numpy as np, litert_sdk
cm = litert_sdk.CompiledModel.from_buffer(open(sys.argv[1], "rb").read())
cm.input_buffer(0)[:] = [-2**31, 1, 2, 3]
cm.input_buffer(1)[:] = [-1, 1, 1, 1]
try:
    cm.run_buffers()
    print("ran")
except litert_sdk.errors.InvalidArgumentError as e:
    print("InvalidArgumentError")
it = litert_sdk.Interpreter(model_content=open(sys.argv[1], "rb").read())
it.allocate_tensors()
d = it.get_input_details()
it.set_tensor(d[0]["index"], np.array([-2**31, 1, 2, 3], np.int32))
it.set_tensor(d[1]["index"], np.array([-1, 1, 1, 1], np.int32))
for attempt in range(2):
    try:
        it.invoke()
        print("ran")
    except litert_sdk.errors.InvalidArgumentError:
        print("InvalidArgumentError")
    it.set_tensor(d[1]["index"], np.array([2, 1, 1, 1], np.int32))
print(it.get_tensor(it.get_output_details()[0]["index"]).tolist())
"""


def test_zero_copy_buffers_and_invoke_are_guarded(tmp_path: Path) -> None:
    path = tmp_path / "floor_mod.tflite"
    path.write_bytes(integer_division("FLOOR_MOD", "int32"))
    proc = subprocess.run([sys.executable, "-c", BUFFERS_CHILD, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.splitlines() == ["InvalidArgumentError", "InvalidArgumentError", "ran", "[0, 0, 0, 0]"]


def test_constant_divisor_holding_minus_one_guards_the_dividend(tmp_path: Path, peer: object) -> None:
    data = integer_division("FLOOR_MOD", "int32", divisor=[-1, 2, 3, 4])
    guards = division_guards(litert_sdk.Model.from_buffer(data))
    assert guards == [(0, 0, -1, 2, "operator 0 (FLOOR_MOD) of subgraph 0 (signature '<placeholder signature>')")]
    assert died_of(run_child(tmp_path, data, "peer", "[-2147483648, 1, 1, 1]"), signal.SIGFPE)
    got = run_child(tmp_path, data, "sdk", "[-2147483648, 1, 1, 1]")
    assert [line.split()[1] for line in got.stdout.splitlines()] == ["InvalidArgumentError"] * 2, got.stdout
    got = run_child(tmp_path, data, "sdk", "[-2147483647, 5, -5, 9]")
    assert got.stdout.splitlines() == ["Interpreter ran [0, 1, 1, 1]", "CompiledModel ran [0, 1, 1, 1]"]


def test_constants_that_rule_the_pair_out_need_no_guard() -> None:
    for data in (integer_division("FLOOR_MOD", "int32", divisor=[2, 3, -2, 0]),
                 integer_division("FLOOR_MOD", "int64", dividend=[5, -5, 2**62, 0])):
        assert verify_model(data) == []
        assert division_guards(litert_sdk.Model.from_buffer(data)) == []
    # DIV and FLOOR_DIV survive the pair (measured): no rule, no guard
    assert division_guards(litert_sdk.Model.from_buffer(integer_division("FLOOR_DIV", "int32"))) == []


def test_unbounded_operands_are_refused_at_verify_time(tmp_path: Path, peer: object) -> None:
    data = computed_floor_mod("int32")
    feeds = ("[-2147483647, 0, 0, 0]", "[-1, 1, 1, 1]")  # x + y = INT_MIN, then INT_MIN % -1
    assert died_of(run_child(tmp_path, data, "peer", *feeds), signal.SIGFPE)
    with pytest.raises(errors.ModelError, match=r"operator 1 \(FLOOR_MOD\) of subgraph 0: int32 dividend tensor 2 "
                                                r"'s' and divisor tensor 1 'y' are computed by the model"):
        verify_model_bytes(data)
    got = run_child(tmp_path, data, "sdk", *feeds)
    assert [line.split()[1] for line in got.stdout.splitlines()] == ["ModelError"] * 2, got.stdout
    # the documented opt-out loads it (and runs ordinary values)
    env = {**os.environ, ALLOW_UNBOUNDED_DIVISION_ENV: "1"}
    proc = subprocess.run([sys.executable, "-c", "import sys, numpy as np, litert_sdk; cm = litert_sdk.CompiledModel."
                           "from_buffer(open(sys.argv[1], 'rb').read()); print(cm.run([np.array([5, 6, 7, 8], "
                           "np.int32), np.array([3, 3, 3, 3], np.int32)])[0].tolist())",
                           str(tmp_path / "model-sdk.tflite")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "[2, 0, 1, 2]", (proc.stdout, proc.stderr[-1000:])
