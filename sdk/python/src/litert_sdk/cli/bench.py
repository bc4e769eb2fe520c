"""``litert-sdk bench``: compile time and run latency (median / p90 / mean / min)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._cli_base import (
    EXIT_OK,
    EXIT_RUNTIME,
    PROG,
    CliError,
)
from .._cli_base import one_line as _one_line
from ._model import (
    compile_from_args,
)
from .inputs import _random_inputs


class _Progress:
    """A plain-text progress bar on stderr (only when it is a terminal)."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.total, self.label = total, label
        self.enabled = enabled and total > 0 and sys.stderr.isatty()
        self._last = -1.0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < self.total and now - self._last < 0.05:
            return
        self._last = now
        width = 30
        filled = int(width * done / self.total)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * (len(self.label) + 45) + "\r")
            sys.stderr.flush()


def _bench_stats(times_ms: Sequence[float]) -> dict[str, float]:
    t = np.asarray(times_ms, dtype=np.float64)
    return {
        "median": float(np.median(t)),
        "p90": float(np.percentile(t, 90)),
        "mean": float(t.mean()),
        "min": float(t.min()),
        "max": float(t.max()),
        "std": float(t.std()),
    }


def cmd_bench(args: argparse.Namespace) -> int:
    if args.runs < 1:
        raise CliError("--runs must be at least 1")
    if args.warmup < 0:
        raise CliError("--warmup must not be negative")
    c = compile_from_args(args)
    spec, opts, cm, compile_ms, reason = c.spec, c.options, c.cm, c.compile_ms, c.fallback_reason
    if reason and not args.quiet:
        print(f"{PROG}: warning: GPU unavailable, benchmarking the CPU ({_one_line(reason, 200)})", file=sys.stderr)
    feed = _random_inputs(cm, spec, np.random.default_rng(args.seed))
    # Zero-copy: fill the runtime's input buffers once and time only the invocations.
    try:
        for name, arr in feed.items():
            buf = cm.input_buffer(name, spec.key)
            if buf.shape != arr.shape:
                raise ValueError("buffer shape differs")
            buf[...] = arr

        def invoke() -> None:
            cm.run_buffers(spec.key)
        invoke()
    except Exception:  # noqa: BLE001 - buffers unavailable for this model: time run() with copies instead
        def invoke() -> None:
            cm.run(feed, spec.key)
        try:
            invoke()
        except Exception as e:
            from ..errors import LiteRtError
            if isinstance(e, LiteRtError) and not isinstance(e, ValueError):
                raise CliError(f"running the model failed: {_one_line(e, 300)}", EXIT_RUNTIME) from None
            raise
    progress = _Progress(args.warmup + args.runs, "bench", not args.quiet and not args.json)
    for i in range(args.warmup):
        invoke()
        progress.update(i + 1)
    times = []
    perf = time.perf_counter
    for i in range(args.runs):
        t0 = perf()
        invoke()
        times.append((perf() - t0) * 1e3)
        progress.update(args.warmup + i + 1)
    progress.close()
    stats = _bench_stats(times)
    threads = opts.cpu.effective_num_threads
    kernel = args.kernel_mode or "xnnpack"
    result = {
        "model": os.fspath(args.model),
        "signature": spec.key,
        "accelerator": args.accelerator,
        "fallback": reason,
        "fully_accelerated": bool(cm.is_fully_accelerated()),
        "threads": threads,
        "kernel_mode": kernel,
        "fp16": bool(args.fp16),
        "runs": args.runs,
        "warmup": args.warmup,
        "compile_ms": compile_ms,
        "latency_ms": stats,
        "throughput_per_s": 1e3 / stats["median"] if stats["median"] > 0 else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return EXIT_OK
    where = "cpu" if reason else args.accelerator
    print(f"model: {Path(args.model).name}  signature: {spec.key!r}")
    print(f"accelerator: {where}{' (requested gpu)' if reason else ''}, {kernel} kernels, {threads} thread(s)"
          f"{', fp16' if args.fp16 else ''}; fully accelerated: {'yes' if result['fully_accelerated'] else 'no'}")
    print(f"compile: {compile_ms:.1f} ms; warmup: {args.warmup} run(s)")
    print(f"latency over {args.runs} run(s), ms: median {stats['median']:.3f}  p90 {stats['p90']:.3f}  "
          f"mean {stats['mean']:.3f}  min {stats['min']:.3f}  max {stats['max']:.3f}")
    return EXIT_OK
