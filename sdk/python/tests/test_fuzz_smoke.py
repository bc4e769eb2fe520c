"""A short, deterministic run of the model fuzzer (sdk/python/fuzz) and the fuzzer's past findings as regressions.

Both run in a subprocess: a crash of the runtime must fail the test, not kill pytest.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
HARNESS = FUZZ / "fuzz_model.py"
REPRODUCERS = sorted((FUZZ / "crashes").glob("*.json"))
# Small, fast seeds: the built-in ADD model always, these when the corpus is there.
SEEDS = ["tflm__sine_float.tflite", "litert-cli__dummy_cv_model.tflite", "microww__alexa.tflite",
         "mp-py__hand_recrop.tflite"]


def _env() -> dict[str, str]:
    from conftest import corpus_dir

    return {**os.environ, "LITERT_SDK_MODELS": str(corpus_dir())}


def test_fuzz_smoke_2000_inputs(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HARNESS), "--seed", "20260", "--runs", "2000", "--out", str(tmp_path / "crashes"),
         "--models", *SEEDS],
        capture_output=True, text=True, timeout=600, env=_env(),
    )
    elapsed = time.perf_counter() - t0
    out = proc.stdout
    assert "{" in out, proc.stderr[-3000:]
    result = json.loads(out[out.index("{"):])
    print(f"fuzz smoke: {result['execs']} inputs in {elapsed:.1f} s: rejected {result['rejected']}, ran "
          f"{result['ran']}, skipped {result['skipped']}")
    assert result["execs"] == 2000
    assert result["crashes"] == [], result["crashes"]
    assert result["exceptions"] == [], result["exceptions"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert result["ran"] > 0  # some mutants must still reach the runtime
    assert elapsed < 120  # about 10-20 s on a 2-core machine


def test_fuzzer_is_deterministic() -> None:
    sys.path.insert(0, str(FUZZ))
    import fuzz_model

    a, b = fuzz_model.Generator(5), fuzz_model.Generator(5)
    assert [a(i) for i in range(50)] == [b(i) for i in range(50)]


@pytest.mark.skipif(not REPRODUCERS, reason="no fuzz reproducers")
def test_fuzz_findings_stay_fixed() -> None:
    """Every input the fuzzer ever crashed the SDK with is now rejected (or runs) without a crash."""
    proc = subprocess.run([sys.executable, str(HARNESS), "--run", *map(str, REPRODUCERS)], capture_output=True,
                          text=True, timeout=600, env=_env())
    lines = [line for line in proc.stdout.splitlines() if ": " in line]
    assert proc.returncode == 0, f"crashed after {lines[-1:] or 'start'}: {proc.stderr[-3000:]}"
    outcomes = dict(line.split(": ", 1) for line in lines)
    assert set(outcomes) == {p.name for p in REPRODUCERS}
    bad = {k: v for k, v in outcomes.items() if v not in ("rejected", "ran") and not v.startswith("skipped")}
    assert not bad, bad
    builtin = [p.name for p in REPRODUCERS if "builtin_add" in p.name]
    assert all(outcomes[n] in ("rejected", "ran") for n in builtin)  # these never need the corpus


def test_atheris_engine_smoke(tmp_path: Path, corpus: Path) -> None:
    """The coverage-guided engine (atheris/libFuzzer with the structure-aware mutator) runs 1,500 inputs from the
    corpus seeds without a finding (the `corpus` fixture fetches the seeds, or skips outside strict mode)."""
    pytest.importorskip("atheris")
    seeds, crashes = tmp_path / "seeds", tmp_path / "crashes"
    crashes.mkdir()
    subprocess.run([sys.executable, str(HARNESS), "--write-seeds", str(seeds)], check=True, capture_output=True,
                   timeout=300, env=_env())
    assert len(list(seeds.glob("*.tflite"))) >= 2
    proc = subprocess.run(
        [sys.executable, str(HARNESS), "--engine", "atheris", "-runs=1500", "-seed=20261", "-rss_limit_mb=4096",
         f"-artifact_prefix={crashes}/", str(seeds)],
        capture_output=True, text=True, timeout=600, env=_env(),
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    # libFuzzer may overshoot -runs by a few executions (inputs it reduces after a new coverage find)
    done = re.search(r"Done (\d+) runs", log)
    assert done is not None and 1500 <= int(done.group(1)) <= 1600, log[-3000:]
    assert not list(crashes.iterdir()), log[-3000:]
