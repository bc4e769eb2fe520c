"""Benchmarks against peers, reported as ratios from one run: litert_sdk vs ai-edge-litert vs a raw C driver.

    python sdk/python/benchmarks/run_all.py [--quick] [--out results.md] [--models-dir DIR] [--tf-python PYTHON]

Run it with the interpreter that has litert_sdk and ai-edge-litert installed. It

1. generates MobileNetV2 (float, random weights) with tensorflow into <repo>/.cache/bench-models/ when it is not
   there yet: with ``--tf-python`` / $LITERT_SDK_TF_PYTHON, or this interpreter if it has tensorflow (else the
   model is skipped, with a note);
2. compiles the raw C driver (raw_driver/raw_driver.cc, our ABI header, the libLiteRt of the installed litert_sdk)
   with $CXX (default g++) -O2 into <repo>/.cache/bench/, and the minimal CPython binding used as a reference
   (raw_driver/floor_binding.c, $CC, needs the Python headers; skipped with a note without them);
3. runs the sections, each in its own process (peers.py latency / tiny / load / imports, and bench_pool.py);
4. prints one markdown report (goals first) and writes it to ``--out`` (default
   sdk/python/benchmarks/results/peers.md, git-ignored) with the raw numbers next to it (.json) and the sections'
   stderr under results/logs/.

Corpus models (selfie_segmentation, tflm__sine_float, the pool models) come from ``--models-dir``, default
$LITERT_SDK_MODELS or <repo>/.cache/models (``bash .ci/run`` or ``python models/fetch_corpus.py`` fill it).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CACHE = REPO / ".cache"
BENCH_MODELS = CACHE / "bench-models"
MOBILENET = "mobilenet_v2_float.tflite"
SELFIE = "mp-py__selfie_segmentation.tflite"
POSE_LANDMARK = "mp-py__pose_landmark_full.tflite"
SINE = "tflm__sine_float.tflite"

PROFILES = {
    # section -> extra arguments
    "full": {
        "latency": ["--rounds", "30", "--runs", "12", "--warmup", "2"],
        "tiny": ["--rounds", "15", "--blocks", "3", "--block", "4000"],
        "load": ["--rounds", "15"],
        "imports": ["--rounds", "15"],
        "pool": ["--seconds", "1.0", "--rounds", "5"],
    },
    "quick": {
        "latency": ["--rounds", "6", "--runs", "8", "--warmup", "1"],
        "tiny": ["--rounds", "3", "--blocks", "2", "--block", "2000"],
        "load": ["--rounds", "3"],
        "imports": ["--rounds", "3"],
        "pool": ["--seconds", "0.5", "--rounds", "3"],
    },
}
SECTIONS = ["latency", "tiny", "load", "pool", "imports"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def has_module(python: str, module: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    try:
        return subprocess.run([python, "-c", code], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def tf_python(arg: str | None) -> str | None:
    for cand in (arg, os.environ.get("LITERT_SDK_TF_PYTHON"), sys.executable):
        if cand and has_module(cand, "tensorflow"):
            return cand
    return None


def ensure_mobilenet(arg: str | None, notes: list[str]) -> Path | None:
    path = BENCH_MODELS / MOBILENET
    if path.is_file():
        return path
    py = tf_python(arg)
    if py is None:
        notes.append(
            f"MobileNetV2 skipped: no interpreter with tensorflow (give --tf-python or LITERT_SDK_TF_PYTHON) "
            f"and no cached {MOBILENET}."
        )
        return None
    log(f"generating {MOBILENET} with tensorflow (once; cached in .cache/bench-models) ...")
    p = subprocess.run([py, str(HERE / "make_bench_models.py"), str(BENCH_MODELS)], capture_output=True, text=True)
    if p.returncode != 0 or not path.is_file():
        notes.append(f"MobileNetV2 skipped: generating it failed ({p.stderr.strip().splitlines()[-1:] or '?'}).")
        return None
    notes.append(f"Generated {MOBILENET} in this run: {p.stdout.strip().splitlines()[-1]}.")
    return path


def runtime_lib_dir(arg: str | None) -> Path | None:
    if arg:
        return Path(arg)
    spec = importlib.util.find_spec("litert_sdk")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def build_raw_driver(lib_dir: Path | None, notes: list[str]) -> str | None:
    src = HERE / "raw_driver" / "raw_driver.cc"
    header = REPO / "runtime" / "include" / "litert_sdk" / "litert_c_abi.h"
    lib = lib_dir / "libLiteRt.so" if lib_dir else None
    if lib is None or not lib.is_file():
        notes.append("Raw C driver skipped: libLiteRt.so not found (give --runtime-lib-dir).")
        return None
    exe = CACHE / "bench" / "raw_driver"
    stamp = CACHE / "bench" / "raw_driver.lib"
    newest = max(src.stat().st_mtime, header.stat().st_mtime, lib.stat().st_mtime)
    if exe.is_file() and exe.stat().st_mtime >= newest and stamp.is_file() and stamp.read_text() == str(lib_dir):
        return str(exe)
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        notes.append("Raw C driver skipped: no C++ compiler (set CXX).")
        return None
    exe.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        cxx,
        "-O2",
        "-std=c++17",
        "-I",
        str(REPO / "runtime" / "include"),
        str(src),
        "-o",
        str(exe),
        "-L",
        str(lib_dir),
        "-lLiteRt",
        f"-Wl,-rpath,{lib_dir}",
    ]
    log("compiling the raw C driver ...")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        notes.append(f"Raw C driver skipped: compiling failed: {p.stderr.strip()[-500:]}")
        return None
    stamp.write_text(str(lib_dir))
    return str(exe)


def build_floor_binding(lib_dir: Path | None, notes: list[str]) -> str | None:
    """Compile raw_driver/floor_binding.c (the minimal CPython binding used as a reference) for this interpreter."""
    import sysconfig

    try:
        import numpy
    except ImportError:
        return None
    src = HERE / "raw_driver" / "floor_binding.c"
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    out_dir = CACHE / "bench" / f"floor-{sys.implementation.cache_tag}"
    so = out_dir / f"_litert_floor{suffix}"
    lib = lib_dir / "libLiteRt.so" if lib_dir else None
    if lib is None or not lib.is_file():
        return None
    if so.is_file() and so.stat().st_mtime >= max(src.stat().st_mtime, lib.stat().st_mtime):
        return str(out_dir)
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    py_inc = sysconfig.get_paths().get("include", "")
    if not cc or not Path(py_inc, "Python.h").is_file():
        notes.append("Floor binding skipped: no C compiler or no Python headers.")
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        cc,
        "-O2",
        "-std=c11",
        "-shared",
        "-fPIC",
        "-I",
        py_inc,
        "-I",
        numpy.get_include(),
        "-I",
        str(REPO / "runtime" / "include"),
        str(src),
        "-o",
        str(so),
        "-L",
        str(lib_dir),
        "-lLiteRt",
        f"-Wl,-rpath,{lib_dir}",
    ]
    log("compiling the floor binding ...")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        notes.append(f"Floor binding skipped: compiling failed: {p.stderr.strip()[-300:]}")
        return None
    return str(out_dir)


def versions() -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m, litert_sdk\n"
        "v = {'litert_sdk': litert_sdk.__version__, 'runtime': litert_sdk.runtime_version()}\n"
        "try: v['ai_edge_litert'] = m.version('ai-edge-litert')\n"
        "except Exception: v['ai_edge_litert'] = 'missing'\n"
        "v['numpy'] = m.version('numpy')\n"
        "print(json.dumps(v))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else {}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def run_section(name: str, cmd: list[str], logs: Path) -> tuple[int, float]:
    t0 = time.perf_counter()
    with open(logs / f"{name}.log", "w") as err:
        p = subprocess.run(cmd, stdout=subprocess.PIPE if name == "pool" else subprocess.DEVNULL, stderr=err, text=True)
    if name == "pool":
        (logs / "pool.stdout").write_text(p.stdout or "")
    return p.returncode, time.perf_counter() - t0


def pool_doc(stdout: str, quick: bool) -> dict[str, Any]:
    lines = stdout.splitlines()
    tab = [ln for ln in lines if ln.startswith("|")]
    head = next((ln for ln in lines if ln.strip() and not ln.startswith("|")), "")
    return {
        "title": "Pool throughput on this machine (bench_pool.py: 1 model vs a pool of 2, 1 thread each)",
        "tables": ["\n".join(tab)] if tab else [],
        "goals": [],
        "notes": [head.strip()] + (["quick mode: 0.5 s x 3 rounds"] if quick else []),
    }


def render(docs: list[tuple[str, dict[str, Any]]], header: list[str], notes: list[str]) -> str:
    out = ["# litert_sdk vs peers", ""] + header + [""]
    goals = [g for _, d in docs for g in d.get("goals", [])]
    if goals:
        out += [
            "## Goals",
            "",
            "| goal | measured (ours / reference) | target | met | detail |",
            "|---|---:|---:|---|---|",
        ]
        for g in goals:
            val = "n/a" if g["value"] != g["value"] else f"{g['value']:.3f}x"
            out.append(
                f"| {g['goal']} | {val} | {g['target']:.2f}x | {'yes' if g['met'] else '**no**'} | {g['detail']} |"
            )
        out.append("")
    for name, d in docs:
        out += [f"## {d.get('title', name)}", ""]
        for t in d.get("tables", []):
            out += [t, ""]
        for n in d.get("notes", []):
            if n:
                out.append(f"- {n}")
        params = d.get("params")
        if params:
            out.append(
                f"- parameters: {', '.join(f'{k}={v}' for k, v in params.items())}; section took "
                f"{d.get('seconds', 0):.0f} s"
            )
        out.append("")
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (about a minute); numbers are noisier")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "peers.md", help="markdown report to write")
    ap.add_argument("--models-dir", type=Path, default=Path(os.environ.get("LITERT_SDK_MODELS", CACHE / "models")))
    ap.add_argument(
        "--tf-python",
        default=None,
        help="python with tensorflow, to generate MobileNetV2 "
        "(default: $LITERT_SDK_TF_PYTHON, else this interpreter if it has tensorflow)",
    )
    ap.add_argument(
        "--runtime-lib-dir",
        default=None,
        help="directory of the libLiteRt.so the raw driver links (default: the installed litert_sdk's)",
    )
    ap.add_argument("--only", nargs="*", choices=SECTIONS, help="run only these sections")
    args = ap.parse_args()
    t_start = time.perf_counter()
    started = datetime.datetime.now()
    profile = PROFILES["quick" if args.quick else "full"]
    notes: list[str] = []

    for mod in ("litert_sdk", "ai_edge_litert"):
        if importlib.util.find_spec(mod) is None:
            sys.exit(
                f"run_all.py: {mod} is not importable by {sys.executable}; install the SDK and "
                "ai-edge-litert==2.3.0 into this interpreter"
            )
    out_dir = args.out.resolve().parent
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / "sections"
    tmp.mkdir(exist_ok=True)

    sine, selfie = args.models_dir / SINE, args.models_dir / SELFIE
    missing = [p.name for p in (sine, selfie) if not p.is_file()]
    if missing:
        sys.exit(
            f"run_all.py: {', '.join(missing)} missing from {args.models_dir} (set --models-dir or "
            "LITERT_SDK_MODELS to the model corpus)"
        )
    mobilenet = ensure_mobilenet(args.tf_python, notes)
    big = [str(p) for p in (mobilenet, selfie) if p is not None]
    # the load goals' other models: the bundled face detector and MediaPipe's full pose landmark model
    from litert_sdk.vision import DEFAULT_FACE_MODEL

    load_extra = [str(p) for p in (DEFAULT_FACE_MODEL, args.models_dir / POSE_LANDMARK) if Path(p).is_file()]
    lib_dir = runtime_lib_dir(args.runtime_lib_dir)
    raw = build_raw_driver(lib_dir, notes)
    if raw is None:
        sys.exit("run_all.py: the raw C driver is needed for the latency, tiny and load sections: " + " ".join(notes))

    floor = build_floor_binding(lib_dir, notes)
    vers = versions()
    load_before = loadavg()
    peers = str(HERE / "peers.py")
    commands = {
        "latency": [sys.executable, peers, "latency", "--models", *big, "--threads", "1", "2", "--raw-driver", raw],
        "tiny": [sys.executable, peers, "tiny", "--model", str(sine), "--raw-driver", raw]
        + (["--floor-dir", floor] if floor else []),
        "load": [sys.executable, peers, "load", "--models", *big, *load_extra, "--raw-driver", raw],
        "imports": [sys.executable, peers, "imports", "--model", str(sine)],
        "pool": [sys.executable, str(HERE / "bench_pool.py"), "--models-dir", str(args.models_dir)],
    }
    selected = [s for s in SECTIONS if not args.only or s in args.only]
    docs: list[tuple[str, dict[str, Any]]] = []
    for i, name in enumerate(selected, 1):
        cmd = commands[name] + profile[name]
        js = tmp / f"{name}.json"
        if name != "pool":
            cmd += (
                ["--json", str(js), "--log", str(logs / f"{name}.raw_driver.log")]
                if name != "imports"
                else ["--json", str(js)]
            )
        log(f"[{i}/{len(selected)}] {name} ...")
        rc, secs = run_section(name, cmd, logs)
        log(
            f"[{i}/{len(selected)}] {name} done in {secs:.0f} s"
            + (f" (exit {rc}, see {logs / (name + '.log')})" if rc else "")
        )
        if rc != 0:
            notes.append(f"Section {name} failed (exit {rc}); its stderr is in results/logs/{name}.log.")
            continue
        if name == "pool":
            doc = pool_doc((logs / "pool.stdout").read_text(), args.quick)
            doc["seconds"] = secs
        else:
            doc = json.loads(js.read_text())
        docs.append((name, doc))

    wall = time.perf_counter() - t_start
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    header = [
        f"- started {started.strftime('%Y-%m-%d %H:%M')}, {'quick' if args.quick else 'full'} profile, "
        f"suite wall time **{wall:.0f} s**",
        f"- {cpu_model()}, {cpus} usable CPUs; load average {load_before} before, {loadavg()} after "
        "(other processes share the machine: compare within a row's round-paired ratios, not across runs)",
        f"- Python {platform.python_version()}; litert_sdk {vers.get('litert_sdk', '?')} on libLiteRt "
        f"{vers.get('runtime', '?')}; peer ai-edge-litert {vers.get('ai_edge_litert', '?')}; "
        f"numpy {vers.get('numpy', '?')}",
        "- ratios < 1 mean ours is faster / smaller; every ratio is the median of per-round ratios "
        "(contenders interleaved round by round)",
    ]
    report = render(docs, header, notes)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report + "\n")
    args.out.with_suffix(".json").write_text(
        json.dumps({"sections": dict(docs), "notes": notes, "wall_s": wall}, indent=1)
    )
    log(f"wrote {args.out} ({wall:.0f} s)")


if __name__ == "__main__":
    main()
