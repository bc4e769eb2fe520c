"""Flex per-op overhead: a model with N FlexCumprod nodes vs the same N nodes as a builtin op, after warm-up.

    python flex/benchmarks/bench_flex.py [--nodes 16] [--size 64] [--runs 2000] [--json]

Needs tensorflow-cpu (to build the two models) and litert-sdk-flex. Both models chain N element-wise-cheap ops on a
[1, size] float32 tensor: ``cumprod`` (FlexCumprod, Select TF) and ``cumsum`` (the builtin CUMSUM kernel). The
difference of the per-invoke medians divided by N is the Flex overhead per op (eager op creation, attribute copy,
tensor wrapping, execution through TensorFlow's executor, output copy).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build(kind: str, nodes: int, size: int) -> bytes:
    import tensorflow as tf

    op = tf.math.cumprod if kind == "flex" else tf.math.cumsum

    @tf.function(input_signature=[tf.TensorSpec([1, size], tf.float32)])
    def f(x):
        for _ in range(nodes):
            x = op(x, axis=1, exclusive=False) * 0.5 + 0.5  # keep values bounded
        return x

    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    return conv.convert()


def bench(path: Path, runs: int, warmup: int) -> dict[str, float]:
    import numpy as np

    import litert_sdk

    cm = litert_sdk.CompiledModel.from_file(path)
    x = np.full(cm.input_shape(0), 0.9, np.float32)
    inp = cm.input_buffer(0)
    inp[...] = x
    t0 = time.perf_counter()
    cm.run_buffers()
    first = time.perf_counter() - t0
    for _ in range(warmup):
        cm.run_buffers()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        cm.run_buffers()
        times.append(time.perf_counter() - t)
    return {"first_run_ms": first * 1e3, "median_us": statistics.median(times) * 1e6, "min_us": min(times) * 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        results = {}
        for kind in ("flex", "builtin"):
            p = Path(d) / f"{kind}.tflite"
            p.write_bytes(build(kind, a.nodes, a.size))
            results[kind] = bench(p, a.runs, a.warmup)
    per_op = (results["flex"]["median_us"] - results["builtin"]["median_us"]) / a.nodes
    report = {"nodes": a.nodes, "size": a.size, **results, "flex_overhead_per_op_us": per_op}
    if a.json:
        print(json.dumps(report, indent=2))
        return
    for kind in ("flex", "builtin"):
        r = results[kind]
        print(f"{kind:8s} {a.nodes} x cum{'prod' if kind == 'flex' else 'sum'}: median {r['median_us']:8.1f} us  "
              f"min {r['min_us']:8.1f} us  (first run {r['first_run_ms']:.1f} ms)")
    print(f"Flex overhead per op (median difference / {a.nodes}): {per_op:.1f} us")


if __name__ == "__main__":
    main()
