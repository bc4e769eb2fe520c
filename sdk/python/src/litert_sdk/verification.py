"""Accuracy of a compiled model against a reference compile: the one check behind :func:`verify_compiled_model` and
``litert-sdk verify``, and the one generator of seeded random inputs.

The rule: an output passes when ``max|got - want| <= atol + rtol * max|want|`` over every run, with NaNs at the same
places counted as equal and a NaN or infinity on one side only as an infinite error; integer (quantized) outputs
may differ by one step of rounding.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._lazy import np
from .compiled_model import CompiledModel
from .errors import InvalidArgumentError
from .model import Model, SignatureSpec
from .options import CpuOptions, Options

__all__ = ["VerificationReport", "compare_outputs", "compare_compiled", "random_input", "verify_compiled_model"]


def random_input(shape: Sequence[int], dtype: Any, rng: np.random.Generator) -> np.ndarray:
    """Seeded random data for one input: floats uniform in [-1, 1], small non-negative integers for 32/64-bit ints
    (often indices or lengths), the full range for 8/16-bit ints (quantized data), random booleans; complex numbers
    with uniform real and imaginary parts."""
    dt = np.dtype(dtype)
    shape = tuple(int(d) for d in shape)
    if np.issubdtype(dt, np.floating):
        return rng.uniform(-1.0, 1.0, shape).astype(dt)
    if dt == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if np.issubdtype(dt, np.integer):
        if dt.itemsize >= 4:
            return rng.integers(0, 10, shape, dtype=dt, endpoint=False)
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
    if np.issubdtype(dt, np.complexfloating):
        return (rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)).astype(dt)
    raise InvalidArgumentError(f"cannot make random data of type {dt}")


def compare_outputs(got: Any, want: Any) -> tuple[float, float]:
    """``(max|got - want|, max|want| over its finite values)``; NaNs (and equal infinities) at the same places count
    as equal, a NaN or infinity on one side only and a shape mismatch as an infinite error."""
    g = np.asarray(got).astype(np.float64)
    w = np.asarray(want).astype(np.float64)
    if g.shape != w.shape:
        return math.inf, math.nan
    same = (np.isnan(g) & np.isnan(w)) | (g == w)  # (equal infinities too)
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(g - w))
    diff = np.where(np.isnan(diff), np.inf, diff)
    finite = w[np.isfinite(w)]
    return (float(diff.max()) if diff.size else 0.0), (float(np.abs(finite).max()) if finite.size else 0.0)


def _relative(max_abs: float, ref: float) -> float:
    return max_abs / ref if ref > 0 else (0.0 if max_abs == 0 else math.inf)


@dataclass(frozen=True)
class VerificationReport:
    """Outputs of a compile compared with a reference compile on the same inputs (maxima over the runs)."""

    max_abs_error: dict[str, float]
    max_rel_error: dict[str, float]
    """``max_abs_error / reference_max_abs`` per output."""
    reference_max_abs: dict[str, float]
    rtol: float
    atol: float
    did_fallback: bool
    fallback_reason: str | None
    runs: int
    tolerance: dict[str, float]
    """The error each output may have: ``atol + rtol * reference_max_abs``, at least 1 for integer outputs."""

    @property
    def passed(self) -> bool:
        """Every output within its tolerance."""
        return all(err <= self.tolerance[k] for k, err in self.max_abs_error.items())

    def __str__(self) -> str:
        lines = [f"{'PASS' if self.passed else 'FAIL'} ({self.runs} run(s), rtol={self.rtol}, atol={self.atol}"
                 + (f", fell back to CPU: {self.fallback_reason}" if self.did_fallback else "") + ")"]
        for k in self.max_abs_error:
            lines.append(f"  {k}: max abs {self.max_abs_error[k]:.3g}, max rel {self.max_rel_error[k]:.3g}, "
                         f"tolerance {self.tolerance[k]:.3g}")
        return "\n".join(lines)


def compare_compiled(test: CompiledModel, ref: CompiledModel, signature: str | int | None = None, *,
                     inputs: Mapping[str, Any] | Callable[[np.random.Generator], Mapping[str, Any]] | None = None,
                     runs: int = 1, seed: int = 0, rtol: float = 1e-3, atol: float = 1e-4) -> VerificationReport:
    """Runs ``test`` and ``ref`` on the same inputs and reports the largest errors. ``inputs``: the inputs of every
    run, or a function of the seeded generator giving each run's; by default seeded random data of the current input
    shapes (:func:`random_input`), a new set each run. Both must have the signature's inputs at the same shapes."""
    if runs < 1:
        raise InvalidArgumentError(f"runs must be at least 1, got {runs}")
    if rtol < 0 or atol < 0:
        raise InvalidArgumentError(f"rtol and atol must not be negative, got rtol={rtol}, atol={atol}")
    spec: SignatureSpec = test.signature(signature)
    rng = np.random.default_rng(seed)
    abs_err = dict.fromkeys(spec.output_names, 0.0)
    scale = dict.fromkeys(spec.output_names, 0.0)
    for _ in range(runs):
        if inputs is None:
            feed = _random_feed(test, spec, rng)
        else:
            feed = dict(inputs(rng) if callable(inputs) else inputs)
        got = test.run(feed, spec.key)
        want = ref.run(feed, spec.key)
        for n in spec.output_names:
            err, ref_max = compare_outputs(got[n], want[n])
            abs_err[n] = max(abs_err[n], err)
            scale[n] = max(scale[n], ref_max) if not math.isnan(ref_max) else scale[n]
    out_types = dict(spec.outputs)
    tolerance = {}
    for n in spec.output_names:
        tol = atol + rtol * scale[n]
        dt = out_types[n].dtype
        if dt is not None and np.issubdtype(dt, np.integer):
            tol = max(tol, 1.0)  # quantized outputs: one step of rounding difference is expected
        tolerance[n] = tol
    rel = {n: _relative(abs_err[n], scale[n]) for n in spec.output_names}
    return VerificationReport(abs_err, rel, scale, rtol, atol, test.did_fallback, test.fallback_reason, runs,
                              tolerance)


def _random_feed(cm: CompiledModel, spec: SignatureSpec, rng: np.random.Generator) -> dict[str, np.ndarray]:
    feed = {}
    for name, t in spec.inputs:
        if t.dtype is None:
            raise InvalidArgumentError(f"input {name!r} has type {t.type_name}: give it explicitly, no random data "
                                       "for it")
        shape = tuple(int(d) for d in cm.input_shape(name, spec.key))
        if any(d < 0 for d in shape):
            raise InvalidArgumentError(f"input {name!r} has a dynamic shape {list(t.shape or ())}: give it a "
                                       "shape (input_shapes=) or the inputs")
        feed[name] = random_input(shape, t.dtype, rng)
    return feed


def verify_compiled_model(
    model: Model | str | os.PathLike[str],
    options: Options,
    *,
    reference: Options | None = None,
    inputs: Mapping[str, Any] | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    signature: str | int | None = None,
    runs: int = 1,
    seed: int = 0,
    rtol: float = 1e-3,
    atol: float = 1e-4,
) -> VerificationReport:
    """Compare a model compiled with ``options`` against a CPU reference (reference kernels by default).

    Inputs are the given ones or seeded random data (:func:`random_input`) of the inputs' shapes, resized first to
    ``input_shapes`` where given. Errors are the maxima over ``runs`` input sets; see the module's pass rule.
    """
    if not isinstance(model, Model):
        model = Model.from_file(model)
    ref_opts = reference or Options(cpu=CpuOptions(num_threads=1, kernel_mode="reference"))
    with CompiledModel(model, options) as test, CompiledModel(model, ref_opts) as ref:
        spec = test.signature(signature)
        for name, dims in (input_shapes or {}).items():
            test.resize_input(name, list(dims), spec.key)
            ref.resize_input(name, list(dims), spec.key)
        return compare_compiled(test, ref, spec.key, inputs=inputs, runs=runs, seed=seed, rtol=rtol, atol=atol)
