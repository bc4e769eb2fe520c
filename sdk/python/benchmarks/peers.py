"""Peer benchmark sections: litert_sdk vs ai-edge-litert vs a raw C driver on libLiteRt, on the same model files.

Each section runs in its own process (run_all.py starts them) and writes a JSON document::

    python peers.py latency --models A.tflite B.tflite --threads 1 2 --raw-driver EXE --json OUT
    python peers.py tiny    --model sine_float.tflite --raw-driver EXE --json OUT
    python peers.py load    --models A.tflite B.tflite --raw-driver EXE --json OUT
    python peers.py imports --model sine_float.tflite --json OUT

Every measurement is repeated in interleaved rounds (contender A, B, C, ... then again, the order rotated each
round), so machine load falls on all contenders alike. Reported values are medians over rounds of per-round medians;
ratios are medians of the per-round ratios (paired by round). Timed Python loops run with the garbage collector off,
like ``timeit``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PEER = "ai-edge-litert"
RAW = "raw C driver"
FLOOR = "floor binding (minimal C-API prototype)"


# ---------------------------------------------------------------------------------------------------- helpers
def med(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def per_call_us(fn: Callable[[], object], n: int) -> list[float]:
    """Times ``n`` calls one by one (µs each)."""
    clock = time.perf_counter
    out = []
    for _ in range(n):
        t0 = clock()
        fn()
        out.append((clock() - t0) * 1e6)
    return out


def block_us(loop: Callable[[int], object], k: int, blocks: int) -> list[float]:
    """``blocks`` timings of ``loop(k)`` (k iterations), as µs per iteration."""
    clock = time.perf_counter
    out = []
    for _ in range(blocks):
        t0 = clock()
        loop(k)
        out.append((clock() - t0) * 1e6 / k)
    return out


class GcOff:
    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.collect()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was:
            gc.enable()


@dataclass
class Contender:
    """One thing being timed. ``measure()`` returns (median µs, min µs) for one round."""

    name: str
    measure: Callable[[], tuple[float, float]]
    group: str = ""  # "ours" / "peer" / "raw"
    medians: list[float] = field(default_factory=list)
    mins: list[float] = field(default_factory=list)


def interleaved(contenders: list[Contender], rounds: int) -> None:
    """Measure every contender once per round, rotating the order each round."""
    n = len(contenders)
    for r in range(rounds):
        for j in range(n):
            c = contenders[(j + r) % n]
            m, lo = c.measure()
            c.medians.append(m)
            c.mins.append(lo)


def paired_ratio(a: Contender, b: Contender) -> float:
    return med([x / y for x, y in zip(a.medians, b.medians, strict=False) if y > 0])


class RawDriver:
    """The raw C driver in --serve mode: compiled once, answers timing commands on stdin."""

    def __init__(self, exe: str, model: Path, threads: int, lib_dir: str | None, log: Any) -> None:
        cmd = [exe, str(model), "--threads", str(threads), "--serve", "--warmup", "5"]
        if lib_dir:
            cmd += ["--lib-dir", lib_dir]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1
        )
        self.ready = self._read()
        if "threads" not in self.ready:
            raise RuntimeError(f"raw driver failed to start: {self.ready}")

    def _read(self) -> dict[str, float]:
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(f"raw driver exited with {self.proc.wait()}")
        out = {}
        for tok in line.split():
            k, _, v = tok.partition("=")
            try:
                out[k] = float(v)
            except ValueError:
                pass
        return out

    def command(self, line: str) -> dict[str, float]:
        self.proc.stdin.write(line + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return self._read()

    def close(self) -> None:
        try:
            self.proc.stdin.write("quit\n")  # type: ignore[union-attr]
            self.proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        self.proc.wait(timeout=30)


def sdk_lib_dir() -> str:
    import litert_sdk

    return str(Path(litert_sdk.__file__).parent)


def random_input(shape: Any, dtype: Any, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = [1 if int(d) < 0 else int(d) for d in shape]
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    return np.zeros(shape, dt)


def table(header: list[str], rows: list[list[Any]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(sep) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(x: float, digits: int = 2) -> str:
    if x != x:  # nan
        return "n/a"
    return f"{x:.{digits}f}"


def goal(name: str, value: float, target: float, detail: str, lower_is_better: bool = True) -> dict[str, Any]:
    met = value <= target if lower_is_better else value >= target
    return {"goal": name, "value": value, "target": target, "met": bool(met), "detail": detail}


# ------------------------------------------------------------------------------------------ peer constructors
def peer_interpreter(path: Path, threads: int) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    return it


def peer_compiled(path: Path, threads: int, weight_cache: str = "") -> Any:
    from ai_edge_litert.compiled_model import CompiledModel
    from ai_edge_litert.options import CpuOptions, Options

    return CompiledModel.from_file(
        str(path), options=Options(cpu_options=CpuOptions(num_threads=threads, xnnpack_weight_cache_path=weight_cache))
    )


# --------------------------------------------------------------------------------------------- big-model latency
def _latency_one(
    args: argparse.Namespace, path: Path, threads: int, lib_dir: str, log: Any, notes: list[str]
) -> tuple[list[list[Any]], list[tuple[float, float, str]]]:
    """All contenders on one model at one thread count: table rows and (ratio, min ratio, label) for the goal."""
    import litert_sdk

    rows: list[list[Any]] = []
    worst: list[tuple[float, float, str]] = []
    label = f"{path.stem} / {threads}T"
    contenders: list[Contender] = []
    closers: list[Callable[[], object]] = []
    n, warm = args.runs, args.warmup

    def py(name: str, group: str, fn: Callable[[], object]) -> None:
        def measure() -> tuple[float, float]:
            with GcOff():
                for _ in range(warm):
                    fn()
                t = per_call_us(fn, n)
            return med(t), min(t)

        contenders.append(Contender(name, measure, group))

    raw = RawDriver(args.raw_driver, path, threads, lib_dir, log)
    closers.append(raw.close)

    def raw_measure() -> tuple[float, float]:
        raw.command(f"run {warm}")
        r = raw.command(f"run {n}")
        return r["median_us"], r["min_us"]

    contenders.append(Contender(f"{RAW} (LiteRtRunCompiledModel)", raw_measure, "raw"))
    # A/A control: a second, identical raw driver process; its ratio to the first shows the measurement noise.
    raw2 = RawDriver(args.raw_driver, path, threads, lib_dir, log)
    closers.append(raw2.close)

    def raw2_measure() -> tuple[float, float]:
        raw2.command(f"run {warm}")
        r = raw2.command(f"run {n}")
        return r["median_us"], r["min_us"]

    contenders.append(Contender(f"{RAW}, second process (A/A control)", raw2_measure, "raw"))

    # ours: CompiledModel with persistent buffers (the binding's equivalent of the raw driver)
    cm = litert_sdk.CompiledModel.from_file(path, litert_sdk.Options.cpu_only(num_threads=threads))
    x = random_input(cm.input_shape(0), cm.signature().inputs[0][1].dtype)
    cm.input_buffer(0)[...] = x
    closers.append(cm.close)
    py("litert_sdk CompiledModel.run_buffers()", "ours", cm.run_buffers)
    it = litert_sdk.Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    closers.append(it.close)
    py("litert_sdk Interpreter.invoke()", "ours", it.invoke)
    cm2 = litert_sdk.CompiledModel.from_file(path, litert_sdk.Options.cpu_only(num_threads=threads))
    closers.append(cm2.close)
    feed = [x]
    py("litert_sdk CompiledModel.run([x]) (copies in+out)", "ours", lambda: cm2.run(feed))

    pit = peer_interpreter(path, threads)
    pit.set_tensor(pit.get_input_details()[0]["index"], x)
    py(f"{PEER} Interpreter.invoke()", "peer", pit.invoke)
    pcm = peer_compiled(path, threads)
    ins, outs = pcm.create_input_buffers(0), pcm.create_output_buffers(0)
    ins[0].write(x)
    py(
        f"{PEER} CompiledModel.run_by_index() (persistent buffers)",
        "peer",
        lambda: pcm.run_by_index(0, ins, outs),
    )

    # same results everywhere (sanity; the raw driver feeds its own input)
    cm.run_buffers()
    pit.invoke()
    want = pit.get_tensor(pit.get_output_details()[0]["index"])
    got = cm.output_buffer(0)
    if not np.allclose(got.reshape(-1), want.reshape(-1), rtol=1e-4, atol=1e-4):
        notes.append(
            f"{label}: litert_sdk and {PEER} outputs differ (max abs diff "
            f"{float(np.abs(got.reshape(-1) - want.reshape(-1)).max()):.3g})"
        )

    interleaved(contenders, args.rounds)
    raw_c = contenders[0]
    by = {c.name: c for c in contenders}
    pairs = {
        "litert_sdk CompiledModel.run_buffers()": f"{PEER} CompiledModel.run_by_index() (persistent buffers)",
        "litert_sdk Interpreter.invoke()": f"{PEER} Interpreter.invoke()",
        "litert_sdk CompiledModel.run([x]) (copies in+out)": (
            f"{PEER} CompiledModel.run_by_index() (persistent buffers)"
        ),
    }
    for c in contenders:
        vs_raw = paired_ratio(c, raw_c) if c is not raw_c else 1.0
        peer_name = pairs.get(c.name)
        vs_peer = paired_ratio(c, by[peer_name]) if peer_name else float("nan")
        vs_raw_min = min(c.mins) / min(raw_c.mins)
        rows.append(
            [
                label,
                c.name,
                fmt(med(c.medians) / 1e3, 3),
                fmt(min(c.mins) / 1e3, 3),
                fmt(vs_raw, 3) + "x",
                fmt(vs_raw_min, 3) + "x",
                fmt(vs_peer, 3) + "x" if peer_name else "",
            ]
        )
        if c.name in ("litert_sdk CompiledModel.run_buffers()", "litert_sdk Interpreter.invoke()") or (
            "A/A control" in c.name
        ):
            worst.append((vs_raw, vs_raw_min, f"{label}, {c.name.replace('litert_sdk ', '')}"))
    for close in closers:
        close()
    return rows, worst


def section_latency(args: argparse.Namespace) -> dict[str, Any]:
    log = open(args.log, "a") if args.log else subprocess.DEVNULL
    lib_dir = sdk_lib_dir()
    rows, goals_rows, notes = [], [], []
    worst_raw = []  # (median ratio, min ratio, label)
    control = []  # the same for the A/A control
    for path in map(Path, args.models):
        for threads in args.threads:
            r, w = _latency_one(args, path, threads, lib_dir, log, notes)
            rows += r
            worst_raw += [x for x in w if "A/A control" not in x[2]]
            control += [x for x in w if "A/A control" in x[2]]
            gc.collect()  # the configuration's models are released here
    if worst_raw:
        noise = [abs(r - 1) for r, _, _ in control]
        notes.append(
            "A/A control (second raw driver process vs the first): median ratios "
            + ", ".join(f"{r:.3f}x" for r, _, _ in control)
            + f"; differences up to {100 * max(noise):.1f}% are measurement noise on this machine."
        )
        v, _, where = max(worst_raw)
        within = sum(1 for r, _, _ in worst_raw if r <= 1.02)
        goals_rows.append(
            goal(
                "big-model latency within 2% of the raw C driver (median ratio; worst of "
                "run_buffers / Interpreter.invoke over models x threads)",
                v,
                1.02,
                f"worst: {where}; {within} of {len(worst_raw)} within 2%; median of all: "
                f"{med([r for r, _, _ in worst_raw]):.3f}x",
            )
        )
        v, _, where = max((m, r, w) for r, m, w in worst_raw)
        within = sum(1 for _, m, _ in worst_raw if m <= 1.02)
        goals_rows.append(
            goal(
                "  (same on the fastest run of each contender: less sensitive to other processes)",
                v,
                1.02,
                f"worst: {where}; {within} of {len(worst_raw)} within 2%",
            )
        )
    doc = table(
        ["model / threads", "contender", "median ms", "min ms", "vs raw C (median)", "vs raw C (min)", "ours / peer"],
        rows,
        "llrrrrr",
    )
    notes.append(
        "Python contenders time each call with perf_counter; the raw C driver times LiteRtRunCompiledModel "
        "with steady_clock in its own process, on its own (equally sized, persistent, 64-byte aligned) "
        "buffers. 'ours / peer' pairs run_buffers and run([x]) with the peer's CompiledModel, "
        "Interpreter.invoke with the peer's Interpreter.invoke."
    )
    return {
        "title": "Big-model latency (one run on pre-set inputs; per-call medians)",
        "tables": [doc],
        "goals": goals_rows,
        "notes": notes,
        "params": {"rounds": args.rounds, "runs_per_round": args.runs, "warmup": args.warmup},
    }


# ------------------------------------------------------------------------------------------- tiny round trip
def section_tiny(args: argparse.Namespace) -> dict[str, Any]:
    import litert_sdk
    from litert_sdk import _runtime

    log = open(args.log, "a") if args.log else subprocess.DEVNULL
    path = Path(args.model)
    k, blocks = args.block, args.blocks
    x = np.array([[0.5]], np.float32)

    it = litert_sdk.Interpreter(model_path=str(path), num_threads=1)
    it.allocate_tensors()
    ii, oo = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    cm = litert_sdk.CompiledModel.from_file(path, litert_sdk.Options.cpu_only(num_threads=1))
    cmb = litert_sdk.CompiledModel.from_file(path, litert_sdk.Options.cpu_only(num_threads=1))
    cmb.resize_input(0, x.shape)
    in_view, out_view = cmb.input_buffer(0), cmb.output_buffer(0)
    pit = peer_interpreter(path, 1)
    pii, poo = pit.get_input_details()[0]["index"], pit.get_output_details()[0]["index"]
    pcm = peer_compiled(path, 1)
    pins, pouts = pcm.create_input_buffers(0), pcm.create_output_buffers(0)
    raw = RawDriver(args.raw_driver, path, 1, sdk_lib_dir(), log)
    floor = None
    if args.floor_dir:  # the minimal C-API binding (raw_driver/floor_binding.c), when run_all.py could build it
        sys.path.insert(0, args.floor_dir)
        import _litert_floor

        floor = _litert_floor.Model(str(path), 1)
        floor_out = np.empty((1, 1), np.float32)

    # sanity: all agree
    it.set_tensor(ii, x)
    it.invoke()
    pit.set_tensor(pii, x)
    pit.invoke()
    notes = []
    if not np.allclose(it.get_tensor(oo), pit.get_tensor(poo), rtol=1e-5):
        notes.append("litert_sdk and ai-edge-litert disagree on the tiny model")

    # --- round-trip loops (written the way a user would: bound methods in locals) ---
    def ours_interp(n: int) -> None:
        st, inv, gt = it.set_tensor, it.invoke, it.get_tensor
        for _ in range(n):
            st(ii, x)
            inv()
            gt(oo)

    it_out = np.empty((1, 1), np.float32)

    def ours_run_into(n: int) -> None:
        run = it.run
        for _ in range(n):
            run(x, it_out)

    def ours_run_new(n: int) -> None:
        run = it.run
        for _ in range(n):
            run(x)

    def ours_cm_run(n: int) -> None:
        run, feed = cm.run, [x]
        for _ in range(n):
            run(feed)

    def ours_cm_buffers(n: int) -> None:
        rb, copyto = cmb.run_buffers, np.copyto
        for _ in range(n):
            copyto(in_view, x)
            rb()
            out_view.copy()

    def peer_interp(n: int) -> None:
        st, inv, gt = pit.set_tensor, pit.invoke, pit.get_tensor
        for _ in range(n):
            st(pii, x)
            inv()
            gt(poo)

    def peer_cm(n: int) -> None:
        w, run, rd = pins[0].write, pcm.run_by_index, pouts[0].read
        for _ in range(n):
            w(x)
            run(0, pins, pouts)
            rd(1, np.float32)

    def floor_3calls(n: int) -> None:
        st, inv, gt = floor.set_input, floor.invoke, floor.get_output
        for _ in range(n):
            st(0, x)
            inv()
            gt(0)

    def floor_fused(n: int) -> None:
        run = floor.run
        for _ in range(n):
            run(x, floor_out)

    def py_block(loop: Callable[[int], object]) -> Callable[[], tuple[float, float]]:
        def measure() -> tuple[float, float]:
            with GcOff():
                loop(min(k, 500))  # warm-up
                t = block_us(loop, k, blocks)
            return med(t), min(t)

        return measure

    def raw_block(cmd: str) -> Callable[[], tuple[float, float]]:
        def measure() -> tuple[float, float]:
            r = raw.command(f"{cmd} {blocks} {k}")
            return r["median_us"], r["min_us"]

        return measure

    rt = [
        Contender(f"{RAW}: memcpy in, LiteRtRunCompiledModel, memcpy out", raw_block("rtblock"), "raw"),
        Contender("litert_sdk Interpreter set_tensor / invoke / get_tensor", py_block(ours_interp), "ours"),
        Contender("litert_sdk CompiledModel.run([x])", py_block(ours_cm_run), "ours"),
        Contender("litert_sdk Interpreter.run(x) (fused, new output array)", py_block(ours_run_new), "ours"),
        Contender(
            "litert_sdk Interpreter.run(x, out) (fused, into a preallocated output)", py_block(ours_run_into), "ours"
        ),
        Contender(
            "litert_sdk CompiledModel copyto(input_buffer) / run_buffers / output_buffer.copy()",
            py_block(ours_cm_buffers),
            "ours",
        ),
        Contender(f"{PEER} Interpreter set_tensor / invoke / get_tensor", py_block(peer_interp), "peer"),
        Contender(f"{PEER} CompiledModel write / run_by_index / read", py_block(peer_cm), "peer"),
    ]
    if floor is not None:
        rt += [
            Contender(f"{FLOOR}: set_input / invoke / get_output", py_block(floor_3calls), "floor"),
            Contender(f"{FLOOR}: fused run(x, out) into a preallocated output", py_block(floor_fused), "floor"),
        ]

    # --- breakdown: each piece on its own ---
    native = _runtime.native()
    ncm = it._cm  # the native compiled model behind the Interpreter
    sig = it._primary_index
    slot_in, slot_out = it._input_by_tensor[ii], it._output_by_tensor[oo]

    def rep(f: Callable[[], object]) -> Callable[[int], None]:
        def loop(n: int) -> None:
            for _ in range(n):
                f()

        return loop

    def rep_st(f: Callable[..., object], *a: Any) -> Callable[[int], None]:
        def loop(n: int) -> None:
            for _ in range(n):
                f(*a)

        return loop

    def empty(n: int) -> None:
        for _ in range(n):
            pass

    def noop() -> None:
        return None

    def peer_native(method: str, *a: Any) -> Callable[[int], None]:
        # ai-edge-litert refuses to run while anything else holds its native interpreter (a refcount check), so
        # the bound native method is looked up inside the loop function and dropped when it returns.
        def loop(n: int) -> None:
            f = getattr(pit._interpreter, method)
            for _ in range(n):
                f(*a)

        return loop

    parts = [
        ("Python: empty loop iteration", empty),
        ("Python: call of an empty Python function", rep(noop)),
        ("nanobind: call of a trivial native function (_native.quiet())", rep(native.quiet)),
        ("ours Interpreter.set_tensor(i, x)", rep_st(it.set_tensor, ii, x)),
        ("ours native cm.set_input(sig, slot, x)", rep_st(ncm.set_input, sig, slot_in, x)),
        ("ours Interpreter.invoke()", rep(it.invoke)),
        ("ours native cm.invoke(sig)", rep_st(ncm.invoke, sig)),
        ("ours Interpreter.get_tensor(o)", rep_st(it.get_tensor, oo)),
        ("ours native cm.get_output(sig, slot)", rep_st(ncm.get_output, sig, slot_out)),
        ("ours native cm.output_view(sig, slot)", rep_st(ncm.output_view, sig, slot_out)),
        ("ours CompiledModel.run_buffers()", rep(cmb.run_buffers)),
        ("numpy: np.copyto(1x1 view, x)", rep_st(np.copyto, in_view, x)),
        ("numpy: 1x1 array .copy()", rep(out_view.copy)),
        ("peer Interpreter.set_tensor(i, x)", rep_st(pit.set_tensor, pii, x)),
        ("peer native _interpreter.SetTensor(i, x)", peer_native("SetTensor", pii, x)),
        ("peer Interpreter.invoke()", rep(pit.invoke)),
        ("peer native _interpreter.Invoke()", peer_native("Invoke")),
        ("peer Interpreter.get_tensor(o)", rep_st(pit.get_tensor, poo)),
        ("peer native _interpreter.GetTensor(o, 0)", peer_native("GetTensor", poo, 0)),
    ]
    if floor is not None:
        parts += [
            (f"{FLOOR}: set_input(0, x)", rep_st(floor.set_input, 0, x)),
            (f"{FLOOR}: invoke() (GIL held)", rep(floor.invoke)),
            (f"{FLOOR}: invoke_nogil() (GIL released)", rep(floor.invoke_nogil)),
            (f"{FLOOR}: get_output(0)", rep_st(floor.get_output, 0)),
        ]
    bd = [Contender(name, py_block(loop), "part") for name, loop in parts]
    bd.append(Contender(f"{RAW}: LiteRtRunCompiledModel alone", raw_block("block"), "raw"))

    interleaved(rt + bd, args.rounds)
    raw.close()

    by = {c.name: c for c in rt + bd}
    peer_it = by[f"{PEER} Interpreter set_tensor / invoke / get_tensor"]
    rows = []
    for c in rt:
        rows.append([c.name, fmt(med(c.medians), 3), fmt(min(c.mins), 3), fmt(paired_ratio(c, peer_it), 2) + "x"])
    empty_loop = by["Python: empty loop iteration"]
    bd_rows = []
    for c in bd:
        net = (
            [m - e for m, e in zip(c.medians, empty_loop.medians, strict=False)]
            if c.group == "part" and c is not empty_loop
            else c.medians
        )
        bd_rows.append([c.name, fmt(med(c.medians), 3), fmt(med(net), 3)])
    ours_it = by["litert_sdk Interpreter set_tensor / invoke / get_tensor"]
    goals_rows = [
        goal(
            "tiny round trip at most 1.0x ai-edge-litert's Interpreter (ours Interpreter set_tensor/invoke/get_tensor)",
            paired_ratio(ours_it, peer_it),
            1.0,
            f"{fmt(med(ours_it.medians), 3)} us vs {fmt(med(peer_it.medians), 3)} us",
        )
    ]
    best = min((c for c in rt if c.group == "ours"), key=lambda c: med(c.medians))
    goals_rows.append(
        goal("tiny round trip, fused (best litert_sdk API), at most 0.7x ai-edge-litert's Interpreter",
             paired_ratio(best, peer_it), 0.7, best.name)
    )
    if floor is not None:
        f3 = by[f"{FLOOR}: set_input / invoke / get_output"]
        ff = by[f"{FLOOR}: fused run(x, out) into a preallocated output"]
        notes.append(
            f"The {FLOOR} is raw_driver/floor_binding.c: plain CPython + numpy C API over the same "
            f"LiteRtRunCompiledModel, no locking, GIL held. It shows what a binding can reach on this runtime: "
            f"{fmt(med(f3.medians), 3)} us ({fmt(paired_ratio(f3, peer_it), 2)}x the peer) with three calls, "
            f"{fmt(med(ff.medians), 3)} us ({fmt(paired_ratio(ff, peer_it), 2)}x) with one fused call."
        )
    raw_run = by[f"{RAW}: LiteRtRunCompiledModel alone"]
    summary = {
        "raw_run_us": med(raw_run.medians),
        "ours_native_invoke_us": med(by["ours native cm.invoke(sig)"].medians) - med(empty_loop.medians),
        "peer_native_invoke_us": med(by["peer native _interpreter.Invoke()"].medians) - med(empty_loop.medians),
    }
    return {
        "title": f"Tiny-model round trip ({path.stem}: set input -> run -> get output, 1 thread)",
        "tables": [
            table(["round trip", "median us", "min us", "vs peer Interpreter"], rows),
            "Where the time goes (each call alone, in a loop; 'net' subtracts the empty loop iteration):\n\n"
            + table(["call", "median us per call", "net us"], bd_rows),
        ],
        "goals": goals_rows,
        "notes": notes,
        "summary": summary,
        "params": {"rounds": args.rounds, "blocks": blocks, "iterations_per_block": k},
    }


# --------------------------------------------------------------------------------------------- load / compile
def _load_one(
    args: argparse.Namespace, path: Path, lib_dir: str, tmp: Path, threads: int, notes: list[str],
    measured: dict[str, dict[str, float]] | None = None,
) -> list[list[Any]]:
    """Load/compile contenders on one model, interleaved: table rows. ``measured`` receives, per model, the paired
    ours/peer ratios by contender and the compile speed-ups of weight-cache reuse ("gain <contender>")."""
    import litert_sdk

    rows: list[list[Any]] = []
    ours_cache, peer_cache, raw_cache = (
        tmp / f"{path.stem}.ours.cache",
        tmp / f"{path.stem}.peer.cache",
        tmp / f"{path.stem}.raw.cache",
    )
    probe = litert_sdk.CompiledModel.from_file(path, litert_sdk.Options.cpu_only(num_threads=threads))
    x = random_input(probe.input_shape(0), probe.signature().inputs[0][1].dtype)
    probe.close()

    def ours_cm(cache: Path | None) -> Callable[[], tuple[float, float]]:
        opts = (
            litert_sdk.Options.cpu_only(num_threads=threads, weight_cache_path=cache)
            if cache
            else litert_sdk.Options.cpu_only(num_threads=threads)
        )

        def go() -> tuple[float, float]:
            t0 = time.perf_counter()
            cm = litert_sdk.CompiledModel.from_file(path, opts)
            t1 = time.perf_counter()
            cm.input_buffer(0)[...] = x
            cm.run_buffers()
            t2 = time.perf_counter()
            cm.close()
            return (t2 - t0) * 1e3, (t1 - t0) * 1e3

        return go

    def ours_it() -> tuple[float, float]:
        t0 = time.perf_counter()
        it = litert_sdk.Interpreter(model_path=str(path), num_threads=threads)
        it.allocate_tensors()
        t1 = time.perf_counter()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        t2 = time.perf_counter()
        it.close()
        return (t2 - t0) * 1e3, (t1 - t0) * 1e3

    def peer_it() -> tuple[float, float]:
        t0 = time.perf_counter()
        it = peer_interpreter(path, threads)
        t1 = time.perf_counter()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        t2 = time.perf_counter()
        del it
        return (t2 - t0) * 1e3, (t1 - t0) * 1e3

    def peer_cm(cache: Path | None) -> Callable[[], tuple[float, float]]:
        def go() -> tuple[float, float]:
            t0 = time.perf_counter()
            cm = peer_compiled(path, threads, str(cache) if cache else "")
            t1 = time.perf_counter()
            ins, outs = cm.create_input_buffers(0), cm.create_output_buffers(0)
            ins[0].write(x)
            cm.run_by_index(0, ins, outs)
            t2 = time.perf_counter()
            del ins, outs
            cm.close()
            return (t2 - t0) * 1e3, (t1 - t0) * 1e3

        return go

    def raw(cache: Path | None) -> Callable[[], tuple[float, float]]:
        def go() -> tuple[float, float]:
            cmd = [
                args.raw_driver,
                str(path),
                "--threads",
                str(threads),
                "--load-repeats",
                "2",
                "--lib-dir",
                lib_dir,
            ]
            if cache:
                cmd += ["--weight-cache", str(cache)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
            last = dict(tok.split("=") for tok in out[-1].split())  # the second load: a warm process
            return float(last["total_ms"]), float(last["load_ms"]) + float(last["compile_ms"])

        return go

    # write the caches once (not timed)
    ours_cm(ours_cache)()
    peer_cm(peer_cache)()
    raw(raw_cache)()
    if not ours_cache.exists():
        notes.append(f"{path.stem}: litert_sdk wrote no weight cache file")
    if not peer_cache.exists():
        notes.append(f"{path.stem}: ai-edge-litert wrote no weight cache file")

    # (name, group, measure, the no-cache contender this one is the weight-cache variant of)
    specs = [
        (f"{RAW}: create model + compile", "raw", raw(None), None),
        (f"{RAW}: same, weight cache reused", "raw", raw(raw_cache), f"{RAW}: create model + compile"),
        ("litert_sdk CompiledModel.from_file", "ours", ours_cm(None), None),
        (
            "litert_sdk CompiledModel.from_file, weight cache reused",
            "ours",
            ours_cm(ours_cache),
            "litert_sdk CompiledModel.from_file",
        ),
        ("litert_sdk Interpreter(...) + allocate_tensors()", "ours", ours_it, None),
        (f"{PEER} CompiledModel.from_file", "peer", peer_cm(None), None),
        (
            f"{PEER} CompiledModel.from_file, weight cache reused",
            "peer",
            peer_cm(peer_cache),
            f"{PEER} CompiledModel.from_file",
        ),
        (f"{PEER} Interpreter(...) + allocate_tensors()", "peer", peer_it, None),
    ]
    contenders = []
    compile_ms: dict[str, list[float]] = {}
    for name, group, fn, _ in specs:

        def measure(fn: Callable[[], tuple[float, float]] = fn, name: str = name) -> tuple[float, float]:
            total, comp = fn()
            compile_ms.setdefault(name, []).append(comp)
            return total, total

        contenders.append(Contender(name, measure, group))
    for c in contenders:  # warm the process (first-use costs are measured by the imports section)
        c.measure()
    compile_ms.clear()
    interleaved(contenders, args.rounds)
    by = {c.name: c for c in contenders}
    pair = {
        "litert_sdk CompiledModel.from_file": f"{PEER} CompiledModel.from_file",
        "litert_sdk CompiledModel.from_file, weight cache reused": (
            f"{PEER} CompiledModel.from_file, weight cache reused"
        ),
        "litert_sdk Interpreter(...) + allocate_tensors()": f"{PEER} Interpreter(...) + allocate_tensors()",
    }
    for (name, _, _, base), c in zip(specs, contenders, strict=False):
        p = pair.get(c.name)
        gain = ""
        if base:
            comp = med([a / b for a, b in zip(compile_ms[base], compile_ms[name], strict=False) if b > 0])
            gain = f"{fmt(comp, 2)}x / {fmt(paired_ratio(by[base], c), 2)}x"
            if measured is not None:
                measured.setdefault(path.stem, {})["gain " + c.name] = comp
        if p and measured is not None:
            measured.setdefault(path.stem, {})[c.name] = paired_ratio(c, by[p])
        rows.append(
            [
                path.stem,
                c.name,
                fmt(med(compile_ms[c.name]), 2),
                fmt(med(c.medians), 2),
                gain,
                fmt(paired_ratio(c, by[p]), 2) + "x" if p else "",
            ]
        )
    return rows


def section_load(args: argparse.Namespace) -> dict[str, Any]:
    lib_dir = sdk_lib_dir()
    tmp = Path(tempfile.mkdtemp(prefix="litert-bench-"))
    rows: list[list[Any]] = []
    notes: list[str] = []
    threads = 1
    measured: dict[str, dict[str, float]] = {}
    for path in map(Path, args.models):
        rows += _load_one(args, path, lib_dir, tmp, threads, notes, measured)
    shutil.rmtree(tmp, ignore_errors=True)
    goals_rows = []
    for contender, what in (("litert_sdk Interpreter(...) + allocate_tensors()", "Interpreter construct + allocate"),
                            ("litert_sdk CompiledModel.from_file", "CompiledModel.from_file")):
        got = [(m[contender], model) for model, m in measured.items() if contender in m]
        if got:
            v, where = max(got)
            goals_rows.append(goal(f"{what} at most 1.0x ai-edge-litert's (worst model)", v, 1.0,
                                   f"worst: {where}; " + ", ".join(f"{mo} {r:.2f}x" for r, mo in sorted(got))))
    shares = []
    for model, m in measured.items():
        ours = m.get("gain litert_sdk CompiledModel.from_file, weight cache reused")
        raw = m.get(f"gain {RAW}: same, weight cache reused")
        if ours and raw and raw > 1.5:  # (models where the cache matters in raw C)
            shares.append(((ours - 1) / (raw - 1), model, ours, raw))
    if shares:
        v, where, ours, raw = min(shares)
        goals_rows.append(goal("weight-cache reuse reaches at least 80% of the raw C driver's compile speed-up "
                               "(share of the speed-up, worst model)", v, 0.8,
                               f"worst: {where}: {ours:.2f}x vs raw C {raw:.2f}x", lower_is_better=False))
    return {
        "title": "Load / compile time (warm process, 1 thread; median over rounds)",
        "tables": [
            table(
                [
                    "model",
                    "contender",
                    "construct/compile ms",
                    "to first result ms",
                    "weight-cache speed-up (compile / first result)",
                    "ours / peer",
                ],
                rows,
                "llrrrr",
            )
        ],
        "goals": goals_rows,
        "notes": notes
        + [
            "'construct/compile' = model load + compile (Interpreter: constructor + allocate_tensors; "
            "raw C: LiteRtCreateModelFromFile + LiteRtCreateCompiledModel); 'to first result' adds "
            "binding the buffers and the first run (the runtime finishes some preparation lazily)."
        ],
        "params": {"rounds": args.rounds, "threads": threads},
    }


# ------------------------------------------------------------------------------------------- import time / RSS
_PROBE = r"""
import json, sys, time
def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1
exec(sys.argv[1])  # untimed set-up
r0 = rss_kib()
t0 = time.perf_counter()
exec(sys.argv[2])
t1 = time.perf_counter()
r1 = rss_kib()
exec(sys.argv[3])
t2 = time.perf_counter()
r2 = rss_kib()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "load_ms": (t2 - t1) * 1e3, "rss0": r0, "rss1": r1, "rss2": r2}))
"""


def section_imports(args: argparse.Namespace) -> dict[str, Any]:
    model = repr(str(Path(args.model)))
    ours_it = (
        "import litert_sdk; litert_sdk.Interpreter",
        f"it = litert_sdk.Interpreter(model_path={model}, num_threads=1); it.allocate_tensors()",
    )
    peer_it = (
        "from ai_edge_litert.interpreter import Interpreter",
        f"it = Interpreter(model_path={model}, num_threads=1); it.allocate_tensors()",
    )
    # (row, pre-imported (untimed), import statement, first-load statement)
    cases = [
        ("python (nothing imported)", "pass", "pass", "pass"),
        ("numpy alone", "pass", "import numpy", "pass"),
        ("litert_sdk Interpreter", "pass", *ours_it),
        (f"{PEER} Interpreter", "pass", *peer_it),
        (
            "litert_sdk CompiledModel",
            "pass",
            "import litert_sdk; litert_sdk.CompiledModel",
            f"cm = litert_sdk.CompiledModel.from_file({model}); cm.run_buffers()",
        ),
        (
            f"{PEER} CompiledModel",
            "pass",
            "from ai_edge_litert.compiled_model import CompiledModel",
            f"cm = CompiledModel.from_file({model}); b = cm.create_input_buffers(0); "
            "o = cm.create_output_buffers(0); cm.run_by_index(0, b, o)",
        ),
        ("litert_sdk Interpreter, numpy already imported", "import numpy", *ours_it),
        (f"{PEER} Interpreter, numpy already imported", "import numpy", *peer_it),
    ]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    results: dict[str, dict[str, list[float]]] = {c[0]: {} for c in cases}

    def once(case: tuple[str, str, str, str]) -> None:
        name, pre, imp, load = case
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", _PROBE, pre, imp, load], capture_output=True, text=True, env=env)
        wall = (time.perf_counter() - t0) * 1e3
        if p.returncode != 0:
            raise RuntimeError(f"import probe {name!r} failed: {p.stderr[-2000:]}")
        d = json.loads(p.stdout.strip().splitlines()[-1])
        d["wall_ms"] = wall
        for k, v in d.items():
            results[name].setdefault(k, []).append(float(v))

    for case in cases:  # warm the file cache (and .pyc files where writable) once
        once(case)
    for r in results.values():
        r.clear()
    for r in range(args.rounds):
        for j in range(len(cases)):
            once(cases[(j + r) % len(cases)])

    def m(name: str, key: str) -> float:
        return med(results[name][key])

    def pr(a: str, b: str, key: str) -> float:
        return med([x / y for x, y in zip(results[a][key], results[b][key], strict=False) if y > 0])

    rows = []
    pairs = {
        "litert_sdk Interpreter": f"{PEER} Interpreter",
        "litert_sdk CompiledModel": f"{PEER} CompiledModel",
        "litert_sdk Interpreter, numpy already imported": f"{PEER} Interpreter, numpy already imported",
    }
    for name, *_ in cases:
        rss_import = (m(name, "rss1") - m(name, "rss0")) / 1024
        rss_total = m(name, "rss2") / 1024
        p = pairs.get(name)
        rows.append(
            [
                name,
                fmt(m(name, "import_ms"), 1),
                fmt(m(name, "import_ms") + m(name, "load_ms"), 1),
                fmt(m(name, "wall_ms"), 0),
                fmt(m(name, "rss1") / 1024, 1),
                fmt(rss_import, 1),
                fmt(rss_total, 1),
                fmt(pr(name, p, "import_ms"), 2) + "x" if p else "",
                fmt(
                    med(
                        [
                            (a + b) / (c + d)
                            for a, b, c, d in zip(
                                results[name]["import_ms"],
                                results[name]["load_ms"],
                                results[p]["import_ms"],
                                results[p]["load_ms"], strict=False,
                            )
                        ]
                    ),
                    2,
                )
                + "x"
                if p
                else "",
                fmt((m(name, "rss1")) / m(p, "rss1"), 2) + "x" if p else "",
            ]
        )
    def _import_and_load_goal(name: str, case: str, target: float) -> dict[str, Any]:
        """import + first load, ours over the peer's (median of the per-round ratios)."""
        ours, peer = results[f"litert_sdk {case}"], results[f"{PEER} {case}"]
        ratios = [(a + b) / (c + d) for a, b, c, d in zip(ours["import_ms"], ours["load_ms"], peer["import_ms"],
                                                          peer["load_ms"], strict=False)]
        detail = " ms vs ".join(fmt(m(f"{who} {case}", "import_ms") + m(f"{who} {case}", "load_ms"), 1)
                                for who in ("litert_sdk", PEER))
        return goal(name, med(ratios), target, detail + " ms")

    g = [
        goal(
            "import at most 0.5x ai-edge-litert's (Interpreter: import + resolve the class)",
            pr("litert_sdk Interpreter", f"{PEER} Interpreter", "import_ms"),
            0.5,
            f"{fmt(m('litert_sdk Interpreter', 'import_ms'), 1)} ms vs "
            f"{fmt(m(f'{PEER} Interpreter', 'import_ms'), 1)} ms",
        ),
        goal(
            "  (import with numpy already imported, Interpreter)",
            pr(
                "litert_sdk Interpreter, numpy already imported",
                f"{PEER} Interpreter, numpy already imported",
                "import_ms",
            ),
            0.5,
            f"{fmt(m('litert_sdk Interpreter, numpy already imported', 'import_ms'), 1)} ms vs "
            f"{fmt(m(f'{PEER} Interpreter, numpy already imported', 'import_ms'), 1)} ms",
        ),
        _import_and_load_goal("  (import + first model load, Interpreter)", "Interpreter", 0.5),
        _import_and_load_goal("cold start at most 1.0x ai-edge-litert's (numpy already imported: import + first tiny "
                              "model + allocate)", "Interpreter, numpy already imported", 1.0),
    ]
    return {
        "title": "Import time and memory (fresh interpreter process per measurement)",
        "tables": [
            table(
                [
                    "what",
                    "import ms",
                    "import + first load ms",
                    "process wall ms",
                    "RSS after import MiB",
                    "RSS added by import MiB",
                    "RSS after first load MiB",
                    "import ours/peer",
                    "import+load ours/peer",
                    "RSS ours/peer",
                ],
                rows,
                "lrrrrrrrrr",
            )
        ],
        "goals": g,
        "notes": [
            f"import = `import litert_sdk; litert_sdk.Interpreter` (resp. `from ai_edge_litert.interpreter import "
            "Interpreter`, the CompiledModel equivalents) timed inside a fresh `python -c` process, numpy not "
            "pre-imported unless the row says so; "
            f"first load = construct + allocate (+ one run for CompiledModel) of {Path(args.model).name}; "
            "process wall includes interpreter start-up and exit. RSS from /proc/self/status VmRSS."
        ],
        "params": {"rounds": args.rounds},
    }


# ------------------------------------------------------------------------------------------------------- main
SECTIONS = {"latency": section_latency, "tiny": section_tiny, "load": section_load, "imports": section_imports}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("section", choices=sorted(SECTIONS))
    ap.add_argument("--models", nargs="*", default=[])
    ap.add_argument("--model", default="")
    ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--runs", type=int, default=40, help="timed runs per contender and round (latency)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--block", type=int, default=4000, help="iterations per timed block (tiny)")
    ap.add_argument("--blocks", type=int, default=3, help="timed blocks per contender and round (tiny)")
    ap.add_argument("--raw-driver", default="")
    ap.add_argument("--floor-dir", default="", help="directory holding the built _litert_floor module (tiny)")
    ap.add_argument("--log", default="", help="append the raw driver's stderr here")
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    doc = SECTIONS[args.section](args)
    doc["seconds"] = time.perf_counter() - t0
    Path(args.json).write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
