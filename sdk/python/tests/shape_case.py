"""Runs one shape-engine test model through every litert_sdk API at batch 1, 3, 8 and 3 again (two runs each) and
compares each output with TensorFlow's (the model's .npz) and ai-edge-litert's Interpreter on the same inputs.

Run in a child process by test_shape_engine.py (a crash must fail the test, not kill pytest). Prints one JSON line:
{"checked": N, "failures": [...]}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import litert_sdk

BATCHES = (1, 3, 8, 3)


def _close(got: np.ndarray, want: np.ndarray, tol: float) -> str | None:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if got.dtype == object or want.dtype.kind == "S":  # strings: object arrays of bytes (the .npz holds "S" arrays)
        g, w = [bytes(v) for v in got.ravel()], [bytes(v) for v in want.ravel()]
        return None if g == w else f"strings {g} != {w}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} != {want.dtype}"
    if got.size and not np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol):
        return f"max abs diff {float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))}"
    return None


def main(model_path: str, tf_tol: float) -> None:
    from ai_edge_litert.interpreter import Interpreter as PeerInterpreter

    path = Path(model_path)
    ref = np.load(path.with_suffix(".npz"))
    failures: list[str] = []
    checked = 0

    def check(api: str, b: int, run: int, name: str, got: np.ndarray, peer: np.ndarray) -> None:
        nonlocal checked
        checked += 1
        problem = _close(got, peer, 1e-6)
        if problem:
            failures.append(f"{api} batch {b} run {run} {name}: vs ai-edge-litert: {problem}")
        key = f"{name}_b{b}"
        if key in ref.files:
            problem = _close(got, ref[key], tf_tol)
            if problem:
                failures.append(f"{api} batch {b} run {run} {name}: vs TensorFlow: {problem}")

    peer = PeerInterpreter(model_path=model_path)
    peer_runner = peer.get_signature_runner()
    in_name = next(iter(peer_runner.get_input_details()))

    def peer_outputs(x: np.ndarray) -> dict[str, np.ndarray]:
        return {k: np.array(v) for k, v in peer_runner(**{in_name: x}).items()}

    # Interpreter (tensor indices, resize_tensor_input + allocate_tensors)
    interp = litert_sdk.Interpreter(model_path=model_path)
    detail = interp.get_input_details()[0]
    out_details = interp.get_output_details()
    runner = interp.get_signature_runner()
    cm = litert_sdk.CompiledModel.from_file(model_path)
    for b in BATCHES:
        x = ref[f"x_b{b}"]
        if x.dtype.kind == "S":
            x = x.astype(object)
        want = peer_outputs(x)
        interp.resize_tensor_input(detail["index"], list(x.shape))
        interp.allocate_tensors()
        by_index = {}
        for _ in range(2):
            interp.set_tensor(detail["index"], x)
            interp.invoke()
            for d in out_details:
                by_index[d["index"]] = interp.get_tensor(d["index"])
        runner_out = {}
        for run in range(2):
            runner_out = runner(**{in_name: x})
            for name, v in runner_out.items():
                check("signature runner", b, run, name, v, want[name])
        # Interpreter outputs by tensor index: match them to signature outputs by the runner's tensor details
        for name, d in runner.get_output_details().items():
            check("Interpreter.get_tensor", b, 1, name, by_index[d["index"]], want[name])
        for run in range(2):
            got = cm.run({in_name: x})
            for name, v in got.items():
                check("CompiledModel.run", b, run, name, v, want[name])
    print(json.dumps({"checked": checked, "failures": failures}))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
