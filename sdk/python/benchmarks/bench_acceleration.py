"""Acceleration benchmark: CPU thread scaling and XNNPACK weight-cache compile time, as ratios from one run.

    python sdk/python/benchmarks/bench_acceleration.py [--models-dir DIR] [--runs N]

Prints a markdown table. Models default to the shared corpus in <repo>/.cache/models (or $LITERT_SDK_MODELS).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import litert_sdk
from litert_sdk import CompiledModel, Options

REPO = Path(__file__).resolve().parents[3]
MODELS = ["mp-py__pose_landmark_full.tflite", "mp-py__hand_landmark_full.tflite", "mp-py__palm_detection_full.tflite"]


def median_ms(cm: CompiledModel, feed: dict, runs: int) -> float:
    for _ in range(5):
        cm.run(feed)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        cm.run(feed)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--models-dir", type=Path, default=Path(os.environ.get("LITERT_SDK_MODELS", REPO / ".cache" / "models"))
    )
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"litert_sdk runtime {litert_sdk.runtime_version()}, {os.cpu_count()} CPUs\n")
    print(
        "| model | 1 thread ms | 2 threads ms | speed-up | compile ms (no cache) | compile ms (cache reused) | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in MODELS:
        path = args.models_dir / name
        if not path.is_file():
            continue
        model = litert_sdk.Model.from_file(path)
        sig = model.signature()
        feed = {n: rng.standard_normal([1 if d < 0 else d for d in t.shape]).astype(np.float32) for n, t in sig.inputs}
        t1 = median_ms(CompiledModel(model, Options.cpu_only(num_threads=1)), feed, args.runs)
        t2 = median_ms(CompiledModel(model, Options.cpu_only(num_threads=2)), feed, args.runs)
        with tempfile.TemporaryDirectory() as d:
            cache = Path(d) / "w.cache"
            opts = Options.cpu_only(num_threads=1, weight_cache_path=cache)
            cold = CompiledModel(model, Options.cpu_only(num_threads=1)).compile_time_ms
            CompiledModel(model, opts)  # writes the cache
            warm = statistics.median(CompiledModel(model, opts).compile_time_ms for _ in range(5))
            cold = statistics.median([cold] + [CompiledModel(model, Options.cpu_only(num_threads=1)).compile_time_ms
                                               for _ in range(4)])
        print(f"| {name} | {t1:.2f} | {t2:.2f} | {t1 / t2:.2f}x | {cold:.1f} | {warm:.1f} | {cold / warm:.1f}x |")


if __name__ == "__main__":
    main()
