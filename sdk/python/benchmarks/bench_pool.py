"""Pool benchmark: throughput of a pool of 2 single-threaded models vs one, as a ratio from one run.

    python sdk/python/benchmarks/bench_pool.py [--models-dir DIR] [--seconds S] [--rounds N] [--model NAME ...]

Every model is compiled with 1 CPU thread. "1 x" drives one Interpreter (CompiledModel) from one Python thread;
"pool(2)" drives an InterpreterPool(2) (CompiledModelPool(2)) from 2 Python threads. Both are measured for
``--seconds`` in alternating rounds; the ratio is the median of the per-round ratios (the best round is shown too).
The runtime releases the GIL while it runs, so with 2 free cores the ratio approaches 2 when per-run work dominates
the Python overhead. The last column is the CPU share other processes took meanwhile (Linux): a busy machine, not
the pool, explains a low ratio there.
Prints a markdown table. Models default to the shared corpus in <repo>/.cache/models (or $LITERT_SDK_MODELS).
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import litert_sdk
from litert_sdk.concurrency import CompiledModelPool, InterpreterPool

REPO = Path(__file__).resolve().parents[3]
MODELS = ["mp-py__face_detection_short_range.tflite", "mp-py__palm_detection_lite.tflite"]


def _busy_jiffies() -> int | None:
    """Busy CPU time of the whole machine (Linux /proc/stat), to tell how much other processes took."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # minus idle and iowait


def throughput(step: Callable[[int], object], threads: int, seconds: float) -> tuple[float, float | None]:
    """(runs/s of ``step(thread_index)`` called in a loop by ``threads`` threads for ``seconds``, share of the
    machine's CPU used by other processes meanwhile, or None where that is unknown)."""
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def loop(k: int) -> None:
        start.wait()
        n = 0
        while not stop.is_set():
            step(k)
            n += 1
        counts[k] = n

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    t0, cpu0, busy0 = time.perf_counter(), os.times(), _busy_jiffies()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    cpu1, busy1 = os.times(), _busy_jiffies()
    other = None
    if busy0 is not None and busy1 is not None:
        ours = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        foreign = (busy1 - busy0) / os.sysconf("SC_CLK_TCK") - ours
        other = max(0.0, foreign) / (wall * (os.cpu_count() or 1))
    return sum(counts) / wall, other


def bench(
    single: Callable[[int], object], pooled: Callable[[int], object], seconds: float, rounds: int
) -> dict[str, float]:
    for _ in range(20):  # warm up both
        single(0)
        pooled(0)
        pooled(1)
    ones, pools, ratios, others = [], [], [], []
    for _ in range(rounds):
        a, oa = throughput(single, 1, seconds)
        b, ob = throughput(pooled, 2, seconds)
        ones.append(a)
        pools.append(b)
        ratios.append(b / a)
        others += [o for o in (oa, ob) if o is not None]
    return {
        "one": statistics.median(ones),
        "pool": statistics.median(pools),
        "ratio": statistics.median(ratios),
        "best": max(ratios),
        "other": statistics.median(others) if others else float("nan"),
    }


def row(name: str, api: str, r: dict[str, float]) -> str:
    return (f"| {name} | {api} | {r['one']:.0f} | {r['pool']:.0f} | {r['ratio']:.2f}x | {r['best']:.2f}x "
            f"| {100 * r['other']:.0f}% |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--models-dir", type=Path, default=Path(os.environ.get("LITERT_SDK_MODELS", REPO / ".cache" / "models"))
    )
    ap.add_argument("--seconds", type=float, default=1.0, help="measuring time per configuration and round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--model", action="append", help="corpus file name (repeatable); default: " + ", ".join(MODELS))
    args = ap.parse_args()
    names = args.model or MODELS
    rng = np.random.default_rng(0)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"litert_sdk runtime {litert_sdk.runtime_version()}, {cpus} usable CPUs, num_threads=1 per model, "
          f"{args.seconds:g} s x {args.rounds} rounds\n")
    print("| model | API | 1 x runs/s | pool(2) runs/s | ratio (median) | best round | other processes' CPU |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in names:
        path = args.models_dir / name
        if not path.is_file():
            print(f"| {name} | missing from {args.models_dir} | | | | | |")
            continue
        it = litert_sdk.Interpreter(model_path=str(path), num_threads=1)
        it.allocate_tensors()
        inputs = [
            [rng.standard_normal(d["shape"]).astype(d["dtype"]) for d in it.get_input_details()] for _ in range(2)
        ]
        with InterpreterPool(2).initialize(path, num_threads=1) as pool:
            for xs in inputs:  # the pool computes what one interpreter computes
                got = pool.run_for_multiple_inputs(xs)
                want = it.run_for_multiple_inputs(xs)
                assert all(np.array_equal(got[k], want[k]) for k in want), "pool and interpreter disagree"
            r = bench(
                lambda k, it=it, inputs=inputs: it.run_for_multiple_inputs(inputs[k]),
                lambda k, pool=pool, inputs=inputs: pool.run_for_multiple_inputs(inputs[k]),
                args.seconds,
                args.rounds,
            )
        print(row(name, "Interpreter / InterpreterPool", r), flush=True)
        it.close()

        cm = litert_sdk.CompiledModel.from_file(path, litert_sdk.Options().with_cpu(num_threads=1))
        feeds = [
            {n: rng.standard_normal(cm.input_shape(n)).astype(t.dtype) for n, t in cm.signature().inputs}
            for _ in range(2)
        ]
        with CompiledModelPool(2).initialize(path, num_threads=1) as cpool:
            r = bench(
                lambda k, cm=cm, feeds=feeds: cm.run(feeds[k]),
                lambda k, cpool=cpool, feeds=feeds: cpool.run(feeds[k]),
                args.seconds,
                args.rounds,
            )
        print(row(name, "CompiledModel / CompiledModelPool", r), flush=True)
        cm.close()


if __name__ == "__main__":
    main()
