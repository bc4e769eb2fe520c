"""``litert-sdk verify``: outputs of an accelerated compile compared with the CPU reference kernels."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .._cli_base import (
    EXIT_ACCELERATOR,
    EXIT_MISMATCH,
    EXIT_OK,
    EXIT_RUNTIME,
    CliError,
)
from .._cli_base import one_line as _one_line
from ..errors import LiteRtError
from ..verification import compare_compiled
from ._model import (
    _apply_shapes,
    _compile,
    _options,
    compile_from_args,
)
from .inputs import _random_inputs


def cmd_verify(args: argparse.Namespace) -> int:
    loose = args.fp16 or args.accelerator == "gpu"
    rtol = args.rtol if args.rtol is not None else (2e-2 if loose else 1e-4)
    atol = args.atol if args.atol is not None else (1e-3 if loose else 1e-5)
    if args.runs < 1:
        raise CliError("--runs must be at least 1")
    if rtol < 0 or atol < 0:
        raise CliError("--rtol and --atol must not be negative")
    c = compile_from_args(args, allow_fallback=False)
    spec, cm = c.spec, c.cm
    if c.fallback_reason:
        cm.close()
        raise CliError(f"GPU accelerator unavailable (the runtime fell back to the CPU: "
                       f"{_one_line(c.fallback_reason, 200)}); nothing to verify", EXIT_ACCELERATOR)
    ref, _ = _compile(c.model, _options("cpu", 1, "reference", custom_ops=c.custom_ops), "cpu")
    _apply_shapes(ref, spec, c.shapes)
    try:  # (the SDK's one accuracy check: litert_sdk.verification)
        report = compare_compiled(cm, ref, spec.key, inputs=lambda rng: _random_inputs(cm, spec, rng), runs=args.runs,
                                  seed=args.seed, rtol=rtol, atol=atol)
    except LiteRtError as e:
        if not isinstance(e, ValueError):
            raise CliError(f"running the model failed: {_one_line(e, 300)}", EXIT_RUNTIME) from None
        raise
    results = [{"name": n, "max_abs_error": report.max_abs_error[n], "max_rel_error": report.max_rel_error[n],
                "reference_max_abs": report.reference_max_abs[n], "tolerance": report.tolerance[n],
                "ok": bool(report.max_abs_error[n] <= report.tolerance[n])} for n in spec.output_names]
    passed = all(r["ok"] for r in results)
    what = (f"{args.accelerator}" + (f" {args.kernel_mode}" if args.kernel_mode else " xnnpack" if
                                     args.accelerator == "cpu" else "") + (" fp16" if args.fp16 else ""))
    if args.json:
        print(json.dumps({"model": os.fspath(args.model), "signature": spec.key, "candidate": what,
                          "reference": "cpu reference kernels", "runs": args.runs, "seed": args.seed, "rtol": rtol,
                          "atol": atol, "passed": passed, "outputs": results}, indent=2))
    else:
        print(f"verify {Path(args.model).name}: {what} vs cpu reference kernels, {args.runs} seeded random input "
              f"set(s); pass if max|err| <= atol + rtol * max|ref| (rtol={rtol:g}, atol={atol:g})")
        width = max((len(r["name"]) for r in results), default=4)
        for r in results:
            print(f"  {'ok  ' if r['ok'] else 'FAIL'} {r['name']:<{width}}  max abs {r['max_abs_error']:.3g}  "
                  f"max rel {r['max_rel_error']:.3g}  (|ref| <= {r['reference_max_abs']:.4g}, "
                  f"tolerance {r['tolerance']:.3g})")
        print("PASS" if passed else "FAIL: outputs differ beyond the tolerance")
    cm.close()
    ref.close()
    return EXIT_OK if passed else EXIT_MISMATCH
