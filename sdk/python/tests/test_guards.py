"""API guards (issue 17): nothing a user passes crashes, hangs or leaks the process.

Fork safety, re-entrant calls from custom-op kernels and nested pool use, close() of a model stuck in a run,
reset/invoke races, Python kernels keeping their model alive, bounded weights-file reads, option and pickling errors.
Anything that could crash or hang runs in a child process with a timeout, and the test asserts on its exit status and
output.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import litert_sdk
from litert_sdk import errors

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
sys.path.insert(0, str(FUZZ))
from tflite_builder import ADD_CONSTANT, add_model, build_model  # noqa: E402

ADD = build_model(add_model())  # y = x + (1, 2, 3, 4), x float32[1, 4]
X = np.array([[0.5, -1.0, 2.0, 10.0]], np.float32)


def run_child(code: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh Python (the fuzz builder importable); a hang is a failed test, not a stuck suite."""
    prelude = f"import sys; sys.path.insert(0, {str(FUZZ)!r})\n"
    try:
        return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the child process hung (killed after {timeout} s); output so far: {e.stdout!r} {e.stderr!r}")


# ------------------------------------------------------------------------------------- options and pickling (7)
@pytest.mark.parametrize("load", ["from_buffer", "from_file"])
@pytest.mark.parametrize("bad", ["cpu", 4, {"accelerators": 1}, litert_sdk.Accelerator.CPU])
def test_options_of_the_wrong_type_are_a_typed_error(load: str, bad: object, tmp_path: Path) -> None:
    path = tmp_path / "add.tflite"
    path.write_bytes(ADD)
    source = ADD if load == "from_buffer" else path
    with pytest.raises(errors.InvalidArgumentError, match="options must be a litert_sdk.Options"):
        getattr(litert_sdk.CompiledModel, load)(source, options=bad)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgumentError, match="options must be a litert_sdk.Options"):
        litert_sdk.Interpreter(model_content=ADD, options=bad)  # type: ignore[arg-type]
    # what from_file accepts, from_buffer accepts too: the result is the same sum
    cm = getattr(litert_sdk.CompiledModel, load)(source, options=litert_sdk.Options.cpu_only(num_threads=1))
    np.testing.assert_array_equal(cm.run([X])[0], X + ADD_CONSTANT)


def test_other_wrong_types_are_typed_errors() -> None:
    with pytest.raises(errors.InvalidArgumentError, match="environment must be"):
        litert_sdk.Model.from_buffer(ADD, environment="cpu")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgumentError, match="model must be a litert_sdk.Model"):
        litert_sdk.CompiledModel(ADD)  # type: ignore[arg-type]


def test_pickling_or_copying_runtime_objects_says_why_and_how_to_reload(tmp_path: Path) -> None:
    path = tmp_path / "add.tflite"
    path.write_bytes(ADD)
    from_file = litert_sdk.CompiledModel.from_file(path)
    from_bytes = litert_sdk.CompiledModel.from_buffer(ADD)
    interp = litert_sdk.Interpreter(model_path=str(path))
    objects = [(from_file, "from_file"), (from_file.model, "from_file"), (from_bytes, "from_buffer"),
               (from_bytes.model, "from_buffer"), (interp, "model_path")]
    for obj, hint in objects:
        for dump in (pickle.dumps, copy.copy, copy.deepcopy):
            with pytest.raises(errors.UnsupportedError, match="cannot be pickled") as info:
                dump(obj)
            assert hint in str(info.value), str(info.value)
    assert str(path) in str(pytest.raises(errors.UnsupportedError, pickle.dumps, from_file).value)
    # the advice works: the path and the bytes pickle, and load the same model in the other process
    clone = litert_sdk.CompiledModel.from_buffer(pickle.loads(pickle.dumps(from_bytes.model.content())))
    np.testing.assert_array_equal(clone.run([X])[0], from_file.run([X])[0])
