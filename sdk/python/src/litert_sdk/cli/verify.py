"""``litert-sdk verify``: outputs of an accelerated compile compared with the CPU reference kernels; with ``--web``,
LiteRT.js in headless Chromium compared with the native compile."""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._cli_base import (
    EXIT_ACCELERATOR,
    EXIT_MISMATCH,
    EXIT_OK,
    EXIT_RUNTIME,
    CliError,
)
from .._cli_base import one_line as _one_line
from ..errors import LiteRtError
from ..verification import compare_compiled, compare_outputs
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
    if getattr(args, "web", False):
        return _verify_web(args, rtol, atol)
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
        _print_results(results, passed)
    cm.close()
    ref.close()
    return EXIT_OK if passed else EXIT_MISMATCH


def _print_results(results: list[dict[str, Any]], passed: bool) -> None:
    width = max((len(r["name"]) for r in results), default=4)
    for r in results:
        print(f"  {'ok  ' if r['ok'] else 'FAIL'} {r['name']:<{width}}  max abs {r['max_abs_error']:.3g}  "
              f"max rel {r['max_rel_error']:.3g}  (|ref| <= {r['reference_max_abs']:.4g}, "
              f"tolerance {r['tolerance']:.3g})")
    print("PASS" if passed else "FAIL: outputs differ beyond the tolerance")


def _verify_web(args: argparse.Namespace, rtol: float, atol: float) -> int:
    """``verify --web``: LiteRT.js in headless Chromium against this native compile, on the same seeded inputs
    (litert_sdk.verification's generator and comparison)."""
    from ..web import WebRuntimeMissingError, run_in_browser

    c = compile_from_args(args)
    spec, cm = c.spec, c.cm
    try:
        rng = np.random.default_rng(args.seed)
        feeds = [_random_inputs(cm, spec, rng) for _ in range(args.runs)]
        try:
            want = [cm.run(f, spec.key) for f in feeds]
        except LiteRtError as e:
            raise CliError(f"running the model natively failed: {_one_line(e, 300)}", EXIT_RUNTIME) from None
    finally:
        cm.close()
    try:
        web = run_in_browser(args.model, feeds, accelerator=args.web_accelerator, timeout=args.timeout)
    except WebRuntimeMissingError as e:
        raise CliError(str(e), EXIT_ACCELERATOR) from None
    except (LiteRtError, TimeoutError) as e:
        raise CliError(f"running the model in the browser failed: {_one_line(e, 400)}", EXIT_RUNTIME) from None
    names = list(spec.output_names)
    by_name = sorted(web.output_names) == sorted(names)  # else by position
    abs_err = dict.fromkeys(names, 0.0)
    scale = dict.fromkeys(names, 0.0)
    for got, ref in zip(web.outputs, want, strict=True):
        for i, n in enumerate(names):
            g = got[n] if by_name else got[web.output_names[i]]
            err, ref_max = compare_outputs(g, ref[n])
            abs_err[n] = max(abs_err[n], err)
            if not math.isnan(ref_max):
                scale[n] = max(scale[n], ref_max)
    out_types = dict(spec.outputs)
    results = []
    for n in names:
        tol = atol + rtol * scale[n]
        dt = out_types[n].dtype
        if dt is not None and np.issubdtype(dt, np.integer):
            tol = max(tol, 1.0)
        rel = abs_err[n] / scale[n] if scale[n] > 0 else (0.0 if abs_err[n] == 0 else math.inf)
        results.append({"name": n, "max_abs_error": abs_err[n], "max_rel_error": rel, "reference_max_abs": scale[n],
                        "tolerance": tol, "ok": bool(abs_err[n] <= tol)})
    passed = all(r["ok"] for r in results)
    native = f"native {args.accelerator}" + (f" {args.kernel_mode}" if args.kernel_mode else " xnnpack" if
                                              args.accelerator == "cpu" else "")
    latency = sorted(web.latency_ms)[len(web.latency_ms) // 2]
    if args.json:
        print(json.dumps({"model": os.fspath(args.model), "signature": spec.key, "candidate": "litert.js",
                          "accelerator": web.accelerator, "requested_accelerator": args.web_accelerator,
                          "fallback_reason": web.fallback_reason, "fully_accelerated": web.fully_accelerated,
                          "reference": native, "runs": args.runs, "seed": args.seed, "rtol": rtol, "atol": atol,
                          "web_latency_ms": web.latency_ms, "passed": passed, "outputs": results}, indent=2))
    else:
        ran = web.accelerator + (f" (fell back from {args.web_accelerator}: {web.fallback_reason})"
                                 if web.fallback_reason else "")
        print(f"verify --web {Path(args.model).name}: LiteRT.js in headless Chromium on {ran} vs {native}, "
              f"{args.runs} seeded random input set(s), browser latency {latency:.2f} ms (median); pass if "
              f"max|err| <= atol + rtol * max|ref| (rtol={rtol:g}, atol={atol:g})")
        _print_results(results, passed)
    return EXIT_OK if passed else EXIT_MISMATCH
