"""Isolation benchmark: per-run latency of IsolatedModel (the runtime in a worker process, I/O through shared
memory) against in-process CompiledModel.run on the same model, as a ratio from one run, plus the worker's start.

    python sdk/python/benchmarks/bench_isolation.py [--models-dir DIR] [--runs N] [--rounds R]

Models: the tiny sine model (the per-run overhead dominates) and the face detector / selfie segmenter (the runtime's
work dominates). Rounds alternate in-process and isolated runs; the ratio is the median of per-round median ratios.
Prints a markdown table. Models default to the corpus in <repo>/.cache/models (or $LITERT_SDK_MODELS).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from pathlib import Path

import numpy as np

import litert_sdk
from litert_sdk.isolation import IsolatedModel

REPO = Path(__file__).resolve().parents[3]
MODELS = ["tflm__sine_float.tflite", "mp-py__face_detection_short_range.tflite", "mp-py__selfie_segmentation.tflite"]


def _median_ms(step, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", type=Path,
                    default=Path(os.environ.get("LITERT_SDK_MODELS", REPO / ".cache" / "models")))
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print("| model | in-process ms | isolated ms | ratio (median of rounds) | overhead ms | worker start s |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for name in MODELS:
        path = args.models_dir / name
        cm = litert_sdk.CompiledModel.from_file(path)
        spec = cm.signature()
        feed = {n: rng.uniform(-1, 1, cm.input_shape(n)).astype(t.dtype) for n, t in spec.inputs}
        t0 = time.perf_counter()
        iso = IsolatedModel(path)
        start_s = time.perf_counter() - t0
        for _ in range(10):
            cm.run(feed)
            iso.run(feed)
        ratios, ins, outs = [], [], []
        for _ in range(args.rounds):
            a = _median_ms(functools.partial(cm.run, feed), args.runs)
            b = _median_ms(functools.partial(iso.run, feed), args.runs)
            ins.append(a)
            outs.append(b)
            ratios.append(b / a)
        a, b = statistics.median(ins), statistics.median(outs)
        print(f"| {name} | {a:.3f} | {b:.3f} | {statistics.median(ratios):.2f}x | {b - a:.3f} | {start_s:.2f} |")
        iso.close()
        cm.close()


if __name__ == "__main__":
    main()
