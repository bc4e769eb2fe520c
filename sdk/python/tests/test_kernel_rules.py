"""Kernel rules (litert_sdk._kernel_rules): models that pass every structural and shape check yet crash the runtime's
kernels are refused at verify time with a typed ModelError naming the operator, the tensor and the rule. Each crash
case first shows, in a child process, that the peer runtime (ai-edge-litert 2.3.0, same kernels) dies on the model."""

from __future__ import annotations

import math
import signal
from pathlib import Path

import numpy as np
import pytest
from kernel_rule_models import SANITIZED, conv, died_of, quantized_binary, run_child

from litert_sdk import errors
from litert_sdk._kernel_rules import REQUANT_RULES, multiplier_below_one_ok, requant_problem
from litert_sdk._verifier import verify_model, verify_model_bytes

F32_ABOVE = float(np.nextafter(np.float32(2.0**-19), np.float32(1)))  # the float32 just above 2^-19


# ---- the fixed-point arithmetic, against math ------------------------------------------------------------------------
def test_multiplier_below_one_matches_q31_rounding() -> None:
    assert multiplier_below_one_ok(0.5) and multiplier_below_one_ok(1 - 2.0**-31)  # Q31 significand 2^31 - 1
    assert multiplier_below_one_ok(2.0**-60)  # tiny multipliers are flushed to zero, not refused
    assert not multiplier_below_one_ok(1.0) and not multiplier_below_one_ok(1.5)
    assert not multiplier_below_one_ok(0.0) and not multiplier_below_one_ok(math.nan)
    # within half a Q31 step of one (half away from zero), the significand rounds up to 2^31: exponent 1
    assert not multiplier_below_one_ok(1 - 2.0**-32) and not multiplier_below_one_ok(1 - 2.0**-33)
    assert multiplier_below_one_ok(1 - 2.0**-32 - 2.0**-40)
    assert not multiplier_below_one_ok(math.nextafter(1.0, 0.0))


@pytest.mark.parametrize("op, dtype, limit", [
    ("ADD", "int8", 2.0**-19), ("ADD", "uint8", 2.0**-19), ("ADD", "int16", 2.0**-14),
    ("SQUARED_DIFFERENCE", "int8", 2.0**-12)])
def test_requant_limit_is_the_kernel_limit(op: str, dtype: str, limit: float) -> None:
    """With input scales 1, the output scale at which the output multiplier reaches one is refused, the next float32
    above it accepted, everything smaller refused."""
    rule = REQUANT_RULES[op]
    above = float(np.nextafter(np.float32(limit), np.float32(1)))
    assert requant_problem(rule, dtype, 1.0, 1.0, above, pot=False) is None
    assert requant_problem(rule, dtype, 1.0, 1.0, limit, pot=False) is not None
    assert requant_problem(rule, dtype, 1.0, 1.0, limit / 1000, pot=False) is not None
    assert verify_model(quantized_binary(op, dtype, 1.0, 1.0, above)) == []
    problems = verify_model(quantized_binary(op, dtype, 1.0, 1.0, limit))
    assert len(problems) == 1 and f"operator 0 ({op}) of subgraph 0" in problems[0]
    assert "output tensor 2 'y'" in problems[0] and "requantization rule" in problems[0]


def test_sub_refuses_only_a_multiplier_of_one() -> None:
    """SUB quantizes an output multiplier above one with another (checked) routine: only m <= 1 can abort."""
    assert verify_model(quantized_binary("SUB", "int8", 1.0, 1.0, 2.0**-19))
    assert verify_model(quantized_binary("SUB", "int8", 1.0, 1.0, 2.0**-25)) == []
    assert verify_model(quantized_binary("SUB", "int8", 1.0, 1.0, F32_ABOVE)) == []


def test_int16_power_of_two_path_is_not_refused() -> None:
    """int16 ADD with AddOptions.pot_scale_int16 (default true) and power-of-two scales has no multipliers."""
    pot = (11, {1: ("bool", True)})
    assert verify_model(quantized_binary("ADD", "int16", 1.0, 1.0, 2.0**-20, options=pot)) == []
    assert verify_model(quantized_binary("ADD", "int16", 1.0, 1.0, 2.0**-20, options=(11, {1: ("bool", False)})))
    assert verify_model(quantized_binary("ADD", "int16", 1.0, 1.0, 1e-6, options=pot))  # 1e-6 is no power of two


def test_mul_has_no_requantization_limit() -> None:
    assert verify_model(quantized_binary("MUL", "int8", 1.0, 1.0, 2.0**-40)) == []


# ---- child processes: the peer dies, the SDK refuses ----------------------------------------------------------------
REQUANT_CRASHES = [("ADD", "int8", 1.0, 2.0**-19), ("ADD", "uint8", 1.0, 2.0**-20), ("ADD", "int16", 1.0, 2.0**-14),
                   ("SUB", "int8", 1.0, 2.0**-19), ("SUB", "int16", 1.0, 2.0**-14),
                   ("SQUARED_DIFFERENCE", "int8", 1.0, 2.0**-12),
                   # 2 * max input scale overflows float32: input multipliers 0 (SUB's output multiplier is fine)
                   ("SUB", "int8", 3e38, 1.0), ("ADD", "uint8", 3e38, 1.0)]


@pytest.mark.parametrize("op, dtype, si, so", REQUANT_CRASHES)
def test_requant_abort_is_refused(op: str, dtype: str, si: float, so: float, tmp_path: Path, peer: object) -> None:
    data = quantized_binary(op, dtype, si, si, so)
    unguarded = run_child(tmp_path, data, "peer")
    assert died_of(unguarded, signal.SIGABRT), (unguarded.returncode, unguarded.stdout, unguarded.stderr[-500:])
    guarded = run_child(tmp_path, data, "sdk")
    assert guarded.returncode == 0, guarded.stderr[-2000:]
    lines = guarded.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["Interpreter", "ModelError"], ["CompiledModel", "ModelError"]]
    assert all(f"operator 0 ({op}) of subgraph 0" in line and "requantization rule" in line for line in lines)


def test_requant_just_inside_the_limit_runs_like_the_peer(tmp_path: Path, peer: object) -> None:
    data = quantized_binary("ADD", "int8", 1.0, 1.0, F32_ABOVE)
    feeds = ("[[1, -2, 3, 0]]", "[[0, 1, -1, 0]]")
    ref = run_child(tmp_path, data, "peer", *feeds)
    got = run_child(tmp_path, data, "sdk", *feeds)
    assert ref.returncode == 0 and got.returncode == 0, (ref.stderr[-500:], got.stderr[-500:])
    values = ref.stdout.split(" ", 3)[3].strip()
    assert got.stdout.splitlines() == [f"Interpreter ran {values}", f"CompiledModel ran {values}"]


CONV_CASES = [(op, dtype) for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV") for dtype in ("float32", "int8")]


@pytest.mark.parametrize("op, dtype", CONV_CASES)
def test_short_bias_is_refused(op: str, dtype: str, tmp_path: Path, peer: object) -> None:
    """A bias of 1 value for 2^20 output channels: the peer's XNNPACK reads past it (SIGSEGV for int8; for float32
    it runs on out-of-bounds values, seen as non-zero outputs of an all-zero model); the SDK names the rule."""
    data = conv(op, dtype, 1 << 20, 1)
    unguarded = run_child(tmp_path, data, "peer", timeout=300)
    if dtype == "int8" and not SANITIZED:  # (ASan's allocator pads the heap: the read may not fault there)
        assert died_of(unguarded, signal.SIGSEGV), (unguarded.returncode, unguarded.stdout)
    elif dtype == "int8":
        assert unguarded.returncode < 0 or unguarded.stdout.startswith("ran "), unguarded.stderr[-500:]
    else:
        # float32: the peer accepts the model and reads 2^20 - 1 floats past the bias (what it reads, and so whether
        # the all-zero model's output shows garbage or the process dies, depends on the heap)
        assert unguarded.returncode < 0 or unguarded.stdout.startswith("ran "), unguarded.stderr[-500:]
    guarded = run_child(tmp_path, data, "sdk", timeout=300)
    assert guarded.returncode == 0, guarded.stderr[-2000:]
    lines = guarded.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["Interpreter", "ModelError"], ["CompiledModel", "ModelError"]]
    assert all(f"operator 0 ({op}) of subgraph 0: bias tensor 2 'bias' has 1 elements" in line
               and "rule: bias length == output channels" in line for line in lines), lines


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED"])
@pytest.mark.parametrize("bias_len", [15, 17])
def test_bias_length_must_equal_output_channels(op: str, bias_len: int) -> None:
    assert verify_model(conv(op, "float32", 16, 16)) == []
    with pytest.raises(errors.ModelError, match=rf"operator 0 \({op}\).*bias tensor 2 'bias' has {bias_len} "):
        verify_model_bytes(conv(op, "int8", 16, bias_len))


def test_valid_conv_matches_the_peer(peer: object) -> None:
    import litert_sdk

    data = conv("CONV_2D", "float32", 16, 16)
    ref = peer.Interpreter(model_content=data)
    ref.allocate_tensors()
    x = np.full((1, 1, 1, 1), 3.0, np.float32)
    ref.set_tensor(ref.get_input_details()[0]["index"], x)
    ref.invoke()
    got = litert_sdk.CompiledModel.from_buffer(data).run([x])[0]
    np.testing.assert_array_equal(got, ref.get_tensor(ref.get_output_details()[0]["index"]))


def test_split_needs_its_own_options(tmp_path: Path, peer: object) -> None:
    """SPLIT reads SplitOptions.num_splits without checking the options' type: with ConcatenationOptions (whose
    axis field passes for num_splits) the peer segfaults at allocation; the SDK names the rule."""
    from kernel_rule_models import split

    assert verify_model(split(35)) == []
    ok = run_child(tmp_path, split(35), "sdk", "[[1.5, 2.5, 3.5]]")
    assert ok.stdout.splitlines()[0] == "Interpreter ran [1.5, 2.5, 3.5]", ok.stdout
    data = split(10)
    unguarded = run_child(tmp_path, data, "peer", "[[1.5, 2.5, 3.5]]")
    assert died_of(unguarded, signal.SIGSEGV), (unguarded.returncode, unguarded.stdout)
    guarded = run_child(tmp_path, data, "sdk", "[[1.5, 2.5, 3.5]]")
    lines = guarded.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["Interpreter", "ModelError"], ["CompiledModel", "ModelError"]]
    assert all("operator 0 (SPLIT) of subgraph 0 has builtin options of union type 10, not SplitOptions (35)" in line
               for line in lines), lines


BELOW_ONE = float(np.nextafter(np.float32(1), np.float32(0)))


@pytest.mark.parametrize("op", ["LESS", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "EQUAL", "NOT_EQUAL"])
def test_comparison_input_scales(op: str) -> None:
    """Each input scale is a multiplier: exactly 1.0 or none (0) is refused, just below or above one is not."""
    from kernel_rule_models import comparison

    for dtype in ("int8", "uint8"):
        assert verify_model(comparison(op, dtype, BELOW_ONE, 0.5)) == []
        assert verify_model(comparison(op, dtype, 2.0, 100.0)) == []
        problems = verify_model(comparison(op, dtype, 0.5, 1.0))
        assert len(problems) == 1 and f"operator 0 ({op}) of subgraph 0: {dtype} input 1 tensor 1 'b' has scale 1" \
            in problems[0], problems
        assert len(verify_model(comparison(op, dtype, None, None))) == 2
    equality = op in ("EQUAL", "NOT_EQUAL")
    assert bool(verify_model(comparison(op, "int16", 1.0, 0.5))) == equality  # int16 only for EQUAL/NOT_EQUAL
    assert verify_model(comparison(op, "int16", None, 0.5)) == []  # plain int16 comparison
    assert bool(verify_model(comparison(op, "int16", 0.5, None))) == equality


@pytest.mark.parametrize("op, dtype, s1, s2", [("LESS", "int8", 0.5, 1.0), ("GREATER_EQUAL", "uint8", 1.0, 1.0),
                                               ("EQUAL", "int16", 1.0, 0.5), ("NOT_EQUAL", "int8", None, None)])
def test_comparison_abort_is_refused(op: str, dtype: str, s1: float | None, s2: float | None, tmp_path: Path,
                                     peer: object) -> None:
    from kernel_rule_models import comparison

    data = comparison(op, dtype, s1, s2)
    unguarded = run_child(tmp_path, data, "peer")
    assert died_of(unguarded, signal.SIGABRT), (unguarded.returncode, unguarded.stdout)
    guarded = run_child(tmp_path, data, "sdk")
    lines = guarded.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["Interpreter", "ModelError"], ["CompiledModel", "ModelError"]]
    assert all(f"operator 0 ({op}) of subgraph 0: {dtype} input" in line and "quantized comparisons" in line
               for line in lines), lines


def test_atan2_does_not_broadcast(tmp_path: Path, peer: object) -> None:
    """ATAN2 reads input 1 with input 0's element count: x [2^20, 4] with c [1, 4] segfaults the peer (found by the
    semantic fuzzer); the SDK refuses it and still runs equal shapes like the peer."""
    from kernel_rule_models import atan2

    data = atan2([1 << 20, 4], [1, 4])
    unguarded = run_child(tmp_path, data, "peer", timeout=300)
    assert unguarded.returncode < 0 or unguarded.stdout.startswith("ran "), unguarded.stderr[-500:]
    guarded = run_child(tmp_path, data, "sdk", timeout=300)
    lines = guarded.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["Interpreter", "ModelError"], ["CompiledModel", "ModelError"]]
    assert all("operator 0 (ATAN2) of subgraph 0: input 1 tensor 1 'c' has shape [1, 4] but input 0 tensor 0 'x' has "
               "shape [1048576, 4]" in line for line in lines), lines
    ok = atan2([1, 4], [1, 4])
    feeds = ("[[1.0, -1.0, 0.0, 2.0]]",)
    ref, got = run_child(tmp_path, ok, "peer", *feeds), run_child(tmp_path, ok, "sdk", *feeds)
    values = ref.stdout.split(" ", 3)[3].strip()
    np.testing.assert_allclose(eval(values), np.arctan2([1, -1, 0, 2], 1), rtol=1e-6)  # the peer is right
    assert got.stdout.splitlines() == [f"Interpreter ran {values}", f"CompiledModel ran {values}"]
