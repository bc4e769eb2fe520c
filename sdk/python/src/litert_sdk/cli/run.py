"""``litert-sdk run``: one run of a model on given or random inputs, optionally in an isolated worker process."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._cli_base import (
    EXIT_OK,
    EXIT_RUNTIME,
    PROG,
    CliError,
)
from .._cli_base import one_line as _one_line
from ._model import (
    _current_shape,
    _fmt_shape,
    compile_from_args,
)
from .inputs import _load_inputs, _random_inputs


def _summary_rows(outputs: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    rows = []
    for name, a in outputs.items():
        row: dict[str, Any] = {"name": name, "shape": list(a.shape), "dtype": str(a.dtype)}
        if a.size and (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) and not np.iscomplexobj(a):
            x = a.astype(np.float64)
            row.update(min=float(np.nanmin(x)) if not np.isnan(x).all() else math.nan,
                       max=float(np.nanmax(x)) if not np.isnan(x).all() else math.nan, mean=float(np.mean(x)))
        rows.append(row)
    return rows


def cmd_run(args: argparse.Namespace) -> int:
    c = compile_from_args(args)
    spec, opts, cm, compile_ms, reason = c.spec, c.options, c.cm, c.compile_ms, c.fallback_reason
    if reason:
        print(f"{PROG}: warning: GPU unavailable, running on CPU ({_one_line(reason, 200)})", file=sys.stderr)
    feed = _load_inputs(cm, spec, args.input or [], args)
    missing = [n for n in spec.input_names if n not in feed]
    if missing:
        if not args.random_inputs:
            raise CliError(f"missing input(s) {missing}: give --input NAME=FILE (.npy, .npz, .png) or --random-inputs")
        feed.update(_random_inputs(cm, spec, np.random.default_rng(args.seed), missing))
    for name, arr in feed.items():  # resize dynamic inputs to the data
        if tuple(arr.shape) != _current_shape(cm, spec, name):
            cm.resize_input(name, arr.shape, spec.key, strict=False)
    t0 = time.perf_counter()
    try:
        if args.isolated:  # the run itself in a worker process: a crash or a stuck run is an error, not our exit
            from ..isolation import IsolatedModel

            with IsolatedModel(args.model, opts, deadline=args.deadline) as isolated:
                t0 = time.perf_counter()
                outputs = isolated.run(feed, spec.key)
        else:
            outputs = cm.run(feed, spec.key)
    except Exception as e:
        from ..errors import InvalidArgumentError, LiteRtError
        if isinstance(e, InvalidArgumentError):
            raise
        if isinstance(e, LiteRtError):
            raise CliError(f"running the model failed: {_one_line(e, 300)}", EXIT_RUNTIME) from None
        raise
    run_ms = (time.perf_counter() - t0) * 1e3
    saved = None
    if args.output:
        out_path = args.output if args.output.endswith(".npz") else args.output + ".npz"
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {k: np.asarray(v) for k, v in outputs.items()}
        np.savez(out_path, **arrays)
        saved = out_path
    rows = _summary_rows(outputs)
    if args.json:
        print(json.dumps({"signature": spec.key, "compile_ms": compile_ms, "run_ms": run_ms, "outputs": rows,
                          "saved": saved, "fallback": reason}, indent=2))
        return EXIT_OK
    print(f"ran {Path(args.model).name} (signature {spec.key!r}) in {run_ms:.2f} ms (compile {compile_ms:.1f} ms)")
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        stats = (f"min {r['min']:.6g}  max {r['max']:.6g}  mean {r['mean']:.6g}" if "min" in r else "")
        print(f"  {r['name']:<{width}}  {r['dtype']:<8} {_fmt_shape(r['shape']):<18} {stats}")
    if saved:
        print(f"outputs written to {saved}")
    return EXIT_OK
