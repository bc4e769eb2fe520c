"""Process isolation (litert_sdk.isolation.IsolatedModel): the runtime runs in a worker process, so a crash or a run
past its deadline is a typed RuntimeFailure and the caller goes on; results equal in-process runs."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
from conftest import BUNDLED_FACE_MODEL
from test_guards import while_model

import litert_sdk
from litert_sdk.isolation import IsolatedModel


def test_results_equal_in_process_runs() -> None:
    x = np.random.default_rng(0).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    cm = litert_sdk.CompiledModel.from_file(BUNDLED_FACE_MODEL)
    name = cm.signature().input_names[0]
    want = cm.run({name: x})
    with IsolatedModel(BUNDLED_FACE_MODEL, deadline=60) as m:
        assert m.pid != os.getpid()
        for _ in range(2):
            got = m.run({name: x})
            assert got.keys() == want.keys()
            for k in want:
                np.testing.assert_array_equal(got[k], want[k])
        got = m.run([x])  # by position
        np.testing.assert_array_equal(got[next(iter(want))], want[next(iter(want))])
    cm.close()


def test_a_run_past_its_deadline_is_a_typed_error_and_the_next_run_works() -> None:
    with IsolatedModel(while_model(), deadline=1.0) as m:
        np.testing.assert_array_equal(m.run([np.array([0.0], np.float32)])[m.signatures[0][2][0]], [10.0])
        t0 = time.monotonic()
        with pytest.raises(litert_sdk.RuntimeFailure, match=r"deadline of 1.0 s"):
            m.run([np.array([-np.inf], np.float32)])  # WHILE(x < 10) { x + 1 } from -inf never ends
        assert time.monotonic() - t0 < 30
        assert m.pid is None
        np.testing.assert_array_equal(m.run([np.array([7.5], np.float32)])[m.signatures[0][2][0]], [10.5])


def test_a_worker_that_dies_is_a_typed_error_naming_the_signal() -> None:
    with IsolatedModel(while_model()) as m:
        pid = m.pid
        threading.Timer(0.5, lambda: os.kill(pid, signal.SIGSEGV)).start()  # as a kernel fault would
        # (under ASan its handler turns the SIGSEGV into an abort)
        sig = "SIG(SEGV|ABRT)" if os.environ.get("LITERT_SDK_SANITIZER") else "SIGSEGV"
        with pytest.raises(litert_sdk.RuntimeFailure, match=f"killed by signal {sig}"):
            m.run([np.array([-np.inf], np.float32)], deadline=60)
        assert m.run([np.array([9.0], np.float32)])[m.signatures[0][2][0]][0] == 10.0  # a fresh worker


def test_runtime_errors_keep_their_type() -> None:
    with pytest.raises(litert_sdk.ModelError):
        IsolatedModel(b"\0" * 64)
    with IsolatedModel(while_model()) as m:
        with pytest.raises(litert_sdk.InvalidArgumentError):
            m.run([np.zeros((2, 3), np.float32)])  # WHILE over float32[1]: a resize the model refuses
        with pytest.raises(litert_sdk.InvalidArgumentError, match="no signature"):
            m.run([np.zeros(1, np.float32)], "nope")
    with pytest.raises(litert_sdk.ClosedError):
        m.run([np.zeros(1, np.float32)])


def test_cli_run_isolated_reports_a_stuck_run(tmp_path) -> None:
    """`litert-sdk run --isolated --deadline S`: a run past the deadline is reported (exit 5), not a hung CLI."""
    import subprocess
    import sys

    model = tmp_path / "while.tflite"
    model.write_bytes(while_model())
    np.save(tmp_path / "x.npy", np.array([-np.inf], np.float32))
    ok = tmp_path / "ok.npy"
    np.save(ok, np.array([3.0], np.float32))
    cmd = [sys.executable, "-m", "litert_sdk", "run", str(model), "--isolated", "--deadline", "2", "--json"]
    proc = subprocess.run(cmd + ["-i", f"0={ok}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"outputs"' in proc.stdout
    proc = subprocess.run(cmd + ["-i", f"0={tmp_path / 'x.npy'}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 5, (proc.returncode, proc.stdout, proc.stderr)
    assert "deadline of 2.0 s" in proc.stdout + proc.stderr
