"""API guards (issue 17): nothing a user passes crashes, hangs or leaks the process.

Fork safety, re-entrant calls from custom-op kernels and nested pool use, close() of a model stuck in a run,
reset/invoke races, Python kernels keeping their model alive, bounded weights-file reads, option and pickling errors.
Anything that could crash or hang runs in a child process with a timeout, and the test asserts on its exit status and
output.
"""

from __future__ import annotations

import copy
import math
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


def while_model(limit: float = 10.0) -> bytes:
    """y = WHILE(x < limit) { x + 1 } over float32[1]: ten steps from 0, none from NaN, endless from -inf."""
    from litert_sdk.cli import BUILTIN_OP_NAMES

    op = {name: code for code, name in BUILTIN_OP_NAMES.items()}
    while_options = 93  # BuiltinOptions union member WhileOptions {cond_subgraph_index, body_subgraph_index}
    add_options = 11

    def f32(name: str, buffer: int) -> dict[str, object]:
        return {"shape": [1], "type": 0, "buffer": buffer, "name": name}

    codes = [{"deprecated_builtin_code": op[n], "builtin_code": op[n], "version": 1} for n in ("WHILE", "LESS", "ADD")]
    main = {"name": "main", "tensors": [f32("x", 0), f32("y", 0)], "inputs": [0], "outputs": [1],
            "operators": [{"opcode_index": 0, "inputs": [0], "outputs": [1], "builtin_options_type": while_options,
                           "builtin_options": {0: ("i32", 1), 1: ("i32", 2)}}]}
    cond = {"name": "cond", "tensors": [f32("a", 0), f32("limit", 1), {"shape": [1], "type": 6, "buffer": 0,
                                                                      "name": "go"}],
            "inputs": [0], "outputs": [2], "operators": [{"opcode_index": 1, "inputs": [0, 1], "outputs": [2]}]}
    body = {"name": "body", "tensors": [f32("a", 0), f32("one", 2), f32("b", 0)], "inputs": [0], "outputs": [2],
            "operators": [{"opcode_index": 2, "inputs": [0, 1], "outputs": [2], "builtin_options_type": add_options,
                           "builtin_options": {0: ("i8", 0)}}]}
    return build_model({
        "version": 3, "operator_codes": codes, "subgraphs": [main, cond, body],
        "buffers": [{}, {"data": np.float32([limit]).tobytes()}, {"data": np.float32([1.0]).tobytes()}],
        "signature_defs": [{"signature_key": "serving_default", "subgraph_index": 0,
                            "inputs": [{"name": "x", "tensor_index": 0}],
                            "outputs": [{"name": "y", "tensor_index": 1}]}]})


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
@pytest.mark.parametrize("bad", ["cpu", 4.0, {"accelerators": 1}, litert_sdk.CpuOptions()])
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


# ------------------------------------------------------------------------------------------------ fork safety (1)
FORK_SCRIPT = """
import os, sys, threading, time
import numpy as np, litert_sdk
from litert_sdk import errors
from tflite_builder import add_model, build_model

FACE = {face!r}
busy = {busy!r}
x = np.random.default_rng(0).standard_normal((1, 128, 128, 3)).astype(np.float32)
cm = litert_sdk.CompiledModel.from_file(FACE, litert_sdk.Options.cpu_only(num_threads=4))
interp = litert_sdk.Interpreter(model_path=FACE, num_threads=4)
interp.allocate_tensors()
inp, out = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]
interp.set_tensor(inp, x)
interp.invoke()
expected = cm.run([x])[0]
dropped = litert_sdk.CompiledModel.from_file(FACE, litert_sdk.Options.cpu_only(num_threads=4))
dropped.run([x])
stop = threading.Event()
def loop():  # another thread inside invoke/run while the process forks
    while not stop.is_set():
        cm.run([x])
        interp.invoke()
if busy:
    t = threading.Thread(target=loop)
    t.start()
    time.sleep(0.5)
pid = os.fork()
if pid == 0:
    try:
        for name, call in [("cm.run", lambda: cm.run([x])), ("interp.invoke", interp.invoke),
                           ("interp.get_tensor", lambda: interp.get_tensor(out)),
                           ("interp.run_for_multiple_inputs", lambda: interp.run_for_multiple_inputs([x]))]:
            try:
                call()
                print(name, "ran")
            except errors.ClosedError as e:
                print(name, "ClosedError", "before os.fork()" in str(e))
        cm.close()
        interp.close()
        print("closed", cm.closed)
        fresh = litert_sdk.CompiledModel.from_file(FACE, litert_sdk.Options.cpu_only(num_threads=4))
        print("fresh equal", bool(np.array_equal(fresh.run([x])[0], expected)))
        fresh.close()
        del dropped  # inherited and never closed: garbage collection forgets it
        import gc
        gc.collect()
        print("collected")
        sys.stdout.flush()
    except BaseException:
        os._exit(3)
    sys.exit(0)  # a normal exit: finalization meets the other inherited objects (interpreter, models, environment)
_, status = os.waitpid(pid, 0)
stop.set()
if busy:
    t.join()
print("child status", status)
print("parent equal", bool(np.array_equal(cm.run([x])[0], expected)))
interp.close()
cm.close()
"""


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "thread-inside-invoke"])
def test_fork_child_never_touches_the_parents_runtime(busy: bool) -> None:
    from conftest import BUNDLED_FACE_MODEL

    proc = run_child(FORK_SCRIPT.format(face=str(BUNDLED_FACE_MODEL), busy=busy), timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for name in ("cm.run", "interp.invoke", "interp.get_tensor", "interp.run_for_multiple_inputs"):
        assert f"{name} ClosedError True" in lines, proc.stdout
    assert "closed True" in lines and "fresh equal True" in lines and "collected" in lines, proc.stdout
    assert "child status 0" in lines and "parent equal True" in lines, proc.stdout


# ------------------------------------------------------------------------------------------- re-entrant calls (2)
def _scale_model() -> bytes:
    """y = Scale(x), the custom op "Scale" (float32[2, 3])."""
    from test_custom_ops import scale_model

    return scale_model([2.0])


@pytest.mark.parametrize("call", ["run", "close", "invoke", "interp_close", "reset"])
def test_kernel_calling_back_into_its_own_model_is_a_typed_error(call: str) -> None:
    code = f"""
    import numpy as np, litert_sdk, sys
    sys.path.insert(0, {str(Path(__file__).parent)!r})
    from litert_sdk import errors
    from litert_sdk.custom_ops import python_op
    from test_custom_ops import scale_model
    seen = []
    holder = {{}}
    def kernel(inputs, attrs):
        try:
            target = holder["obj"]
            {{"run": lambda: target.run([inputs[0]]), "close": lambda: target.close(),
              "invoke": lambda: target.invoke(), "interp_close": lambda: target.close(),
              "reset": lambda: target.reset_all_variables()}}[{call!r}]()
            seen.append("returned")
        except errors.ReentrantCallError as e:
            seen.append("ReentrantCallError: " + str(e))
        return inputs[0] * attrs["factor"]
    opts = litert_sdk.Options(custom_ops=[python_op("Scale", kernel)])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    if {call!r} in ("run", "close"):
        obj = litert_sdk.CompiledModel.from_buffer(scale_model([2.0]), opts)
        holder["obj"] = obj
        y = obj.run([x])[0]
    else:
        obj = litert_sdk.Interpreter(model_content=scale_model([2.0]), options=opts)
        obj.allocate_tensors()
        holder["obj"] = obj
        obj.set_tensor(obj.get_input_details()[0]["index"], x)
        obj.invoke()
        y = obj.get_tensor(obj.get_output_details()[0]["index"])
    print("result", y.tolist() == (x * 2).tolist())
    print("seen", seen)
    # the object is still usable afterwards
    if {call!r} in ("run", "close"):
        print("again", obj.run([x])[0].tolist() == (x * 2).tolist())
    else:
        obj.invoke()
        print("again", obj.get_tensor(obj.get_output_details()[0]["index"]).tolist() == (x * 2).tolist())
    """
    proc = run_child(code, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "result True" in proc.stdout and "again True" in proc.stdout, proc.stdout + proc.stderr
    assert "seen ['ReentrantCallError: " in proc.stdout, proc.stdout
    assert "deadlock" in proc.stdout or "after the run returns" in proc.stdout


def test_nested_use_of_a_one_slot_pool_is_a_typed_error() -> None:
    code = """
    import asyncio
    import numpy as np, litert_sdk
    from litert_sdk import errors
    from litert_sdk.concurrency import InterpreterPool
    from tflite_builder import add_model, build_model
    pool = InterpreterPool(1)
    pool.initialize(build_model(add_model()), num_threads=1)
    x = np.array([[0.5, -1.0, 2.0, 10.0]], np.float32)
    with pool.interpreter() as held:
        try:
            pool.run(x)
            print("ran")
        except errors.ReentrantCallError as e:
            print("ReentrantCallError", "deadlock" in str(e))
        print("held works", held.run(x).tolist())
        async def nested():
            return await pool.run_async(x)
        try:
            asyncio.run(nested())
            print("ran async")
        except errors.ReentrantCallError as e:
            print("async ReentrantCallError", "deadlock" in str(e))
    print("after", pool.run(x).tolist())
    pool.dispose()
    """
    proc = run_child(code, timeout=60)
    assert proc.returncode == 0, proc.stderr
    want = (X + ADD_CONSTANT).tolist()
    assert proc.stdout.splitlines() == ["ReentrantCallError True", f"held works {want}",
                                        "async ReentrantCallError True", f"after {want}"], proc.stdout


# ----------------------------------------------------------------------------------- close() of a stuck run (3)
def test_while_model_matches_the_peer(peer) -> None:
    data = while_model()
    cm = litert_sdk.CompiledModel.from_buffer(data)
    ref = peer.Interpreter(model_content=data)
    ref.allocate_tensors()
    for x in (0.0, 2.5, 9.5, 10.0, 1e6):
        ref.set_tensor(ref.get_input_details()[0]["index"], np.float32([x]))
        ref.invoke()
        want = ref.get_tensor(ref.get_output_details()[0]["index"])
        got = cm.run([np.float32([x])])[0]
        np.testing.assert_array_equal(got, want)
        assert got[0] == x + max(0, math.ceil(10.0 - x))  # the loop adds 1 while x < 10


STUCK_SCRIPT = """
import os, threading, time
import numpy as np, litert_sdk
from litert_sdk import errors
from test_guards import while_model

kind = {kind!r}
data = while_model()
if kind == "compiled":
    obj = litert_sdk.CompiledModel.from_buffer(data)
    for _ in range(3):
        obj.run([np.float32([9.5])])  # short runs first: a later endless one must still release the GIL
    start = lambda: obj.run([np.float32([-np.inf])])
else:
    obj = litert_sdk.Interpreter(model_content=data, num_threads=1)
    obj.allocate_tensors()
    i = obj.get_input_details()[0]["index"]
    for _ in range(3):
        obj.set_tensor(i, np.float32([9.5]))
        obj.invoke()
    obj.set_tensor(i, np.float32([-np.inf]))
    start = obj.invoke
    if kind == "runner":  # holds the interpreter's lock during the endless run
        start = lambda: obj.get_signature_runner()(x=np.float32([-np.inf]))
entered = threading.Event()
def stuck():
    entered.set()
    start()
t = threading.Thread(target=stuck, daemon=True)
t.start()
entered.wait()
time.sleep(0.5)
ticks = 0
t0 = time.monotonic()
while time.monotonic() - t0 < 0.2:  # the stuck run does not hold the GIL
    ticks += 1
print("gil free", ticks > 1000)
t0 = time.monotonic()
obj.close()
print("close seconds", round(time.monotonic() - t0, 3))
print("still running", t.is_alive())
try:
    obj.run([np.float32([1.0])]) if kind == "compiled" else obj.invoke()
    print("ran")
except errors.ClosedError:
    print("ClosedError")
if kind != "compiled":  # calls that take the interpreter's lock do not wait behind the stuck run either
    for name, call in [("reset", obj.reset_all_variables),
                       ("run", lambda: obj.run_for_multiple_inputs([np.float32([1.0])]))]:
        t0 = time.monotonic()
        try:
            call()
            print(name, "ran")
        except errors.ClosedError:
            print(name, "ClosedError", time.monotonic() - t0 < 1.0)
obj.close()  # twice: still returns at once
print("closed again")
os._exit(0)  # the runtime cannot cancel the endless run: leave without joining it
"""


@pytest.mark.parametrize("kind", ["compiled", "interpreter", "runner"])
def test_close_never_waits_for_a_run_stuck_in_an_endless_loop(kind: str) -> None:
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n" + STUCK_SCRIPT.format(kind=kind)
    proc = run_child(code, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "gil free True", proc.stdout
    assert lines[1].startswith("close seconds ") and float(lines[1].split()[-1]) < 1.0, proc.stdout
    waits = [] if kind == "compiled" else ["reset ClosedError True", "run ClosedError True"]
    assert lines[2:] == ["still running True", "ClosedError", *waits, "closed again"], proc.stdout


def test_close_during_a_run_frees_the_model_when_the_run_returns() -> None:
    """A close() that arrives during a (finite) run in another thread takes effect when the run returns: the run's
    result is delivered and the next call raises ClosedError."""
    import threading
    import time

    from litert_sdk.custom_ops import python_op

    release = threading.Event()
    entered = threading.Event()

    class Fn:
        def __call__(self, inputs, attrs):
            entered.set()
            release.wait(10)
            return inputs[0] * attrs["factor"]

    fn = Fn()
    from test_custom_ops import scale_model

    cm = litert_sdk.CompiledModel.from_buffer(scale_model([3.0]),
                                              litert_sdk.Options(custom_ops=[python_op("Scale", fn)]))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    result: list[np.ndarray] = []
    t = threading.Thread(target=lambda: result.append(cm.run([x])[0]))
    t.start()
    assert entered.wait(10)
    t0 = time.monotonic()
    cm.close()
    assert time.monotonic() - t0 < 1.0
    assert cm.closed and t.is_alive()  # the kernel is still running
    release.set()
    t.join(10)
    np.testing.assert_array_equal(result[0], x * 3)
    with pytest.raises(errors.ClosedError):
        cm.run([x])


# --------------------------------------------------------------------------- invoke() against reset_all_variables() (4)
RESET_RACE_SCRIPT = """
import threading, time
import numpy as np, litert_sdk
from litert_sdk import errors
from tflite_builder import ADD_CONSTANT, add_model, build_model

interp = litert_sdk.Interpreter(model_content=build_model(add_model()), num_threads=1)
interp.allocate_tensors()
i, o = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]
x = np.array([[0.5, -1.0, 2.0, 10.0]], np.float32)
want = x + ADD_CONSTANT
stop = time.monotonic() + {seconds}
failures, counts = [], {{"invoke": 0, "reset": 0, "runner": 0}}
def invoker(bound):
    invoke = interp.invoke if bound else None
    while time.monotonic() < stop:
        try:
            interp.set_tensor(i, x)
            (invoke or interp.invoke)()  # a bound method kept in a variable, or looked up each time
            got = interp.get_tensor(o)
            # a reset between set_tensor and invoke may restore an older input: only the sum is checked
            if got.shape != want.shape:
                failures.append("shape " + str(got.shape))
            counts["invoke"] += 1
        except Exception as e:
            failures.append(type(e).__name__ + ": " + str(e))
            return
def runner():
    run = interp.get_signature_runner()
    while time.monotonic() < stop:
        try:
            if not np.array_equal(run(x=x)["y"], want):
                failures.append("runner result")
            counts["runner"] += 1
        except Exception as e:
            failures.append(type(e).__name__ + ": " + str(e))
            return
def resetter():
    while time.monotonic() < stop:
        interp.reset_all_variables()
        counts["reset"] += 1
threads = [threading.Thread(target=invoker, args=(True,)), threading.Thread(target=invoker, args=(False,)),
           threading.Thread(target=runner), threading.Thread(target=resetter)]
for t in threads:
    t.start()
for t in threads:
    t.join()
interp.set_tensor(i, x)
interp.invoke()
print("final equal", bool(np.array_equal(interp.get_tensor(o), want)))
print("failures", failures[:3])
print("counts", all(v > 10 for v in counts.values()), counts)
"""


def test_invoke_and_reset_all_variables_from_two_threads_never_raise_closed_error() -> None:
    proc = run_child(RESET_RACE_SCRIPT.format(seconds=3.0), timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "final equal True", proc.stdout
    assert lines[1] == "failures []", proc.stdout
    assert lines[2].startswith("counts True"), proc.stdout


# ------------------------------------------------------------------------ close() drops Python kernels (5)
@pytest.mark.parametrize("kind", ["compiled", "interpreter"])
def test_close_releases_python_kernels_that_refer_to_their_model(kind: str) -> None:
    """A Python kernel whose closure refers to its own model forms a cycle through the native core that the garbage
    collector cannot see; close() drops the kernels, so closed models are collected and hold no descriptors."""
    import gc
    import os
    import weakref

    from test_custom_ops import scale_model

    from litert_sdk.custom_ops import python_op

    data = scale_model([2.0])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)

    def make() -> object:
        holder: dict[str, object] = {}

        def kernel(inputs: list[np.ndarray], attrs: dict[str, float]) -> np.ndarray:
            assert holder.get("model") is not None or not holder  # refers to its model
            return inputs[0] * attrs["factor"]

        opts = litert_sdk.Options(custom_ops=[python_op("Scale", kernel)]).with_cpu(num_threads=2)
        if kind == "compiled":
            m: object = litert_sdk.CompiledModel.from_buffer(data, opts)
            y = m.run([x])[0]  # type: ignore[attr-defined]
        else:
            m = interp = litert_sdk.Interpreter(model_content=data, options=opts)
            interp.allocate_tensors()
            y = interp.run(x)
        np.testing.assert_array_equal(y, x * 2)
        holder["model"] = m
        return m

    def fds() -> int:
        return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0

    first = make()
    first.close()  # type: ignore[attr-defined]
    del first
    gc.collect()
    before = fds()
    refs = []
    for _ in range(40):
        m = make()
        refs.append(weakref.ref(m))
        m.close()  # type: ignore[attr-defined]
        del m
    gc.collect()
    assert sum(r() is not None for r in refs) == 0
    assert fds() <= before + 2


# ------------------------------------------------------------------------------------- weights files (6)
LINEAR = Path(__file__).resolve().parent / "models" / "training" / "linear.tflite"

BOMB_SCRIPT = """
import sys, zipfile
import numpy as np
from litert_sdk import errors
from litert_sdk.training import Trainer, read_weights

bomb = sys.argv[1]
for name, load in [("load_weights", lambda: Trainer({linear!r}).load_weights(bomb)),
                   ("read_weights max_bytes", lambda: read_weights(bomb, max_bytes=10**6)),
                   ("lying header", lambda: read_weights(sys.argv[2]))]:
    try:
        load()
        print(name, "loaded")
    except errors.WeightsFileError as e:
        print(name, "WeightsFileError", "refused before reading" in str(e) or "holds" in str(e))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across execve, so a child of a large pytest would report its parent's
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("peak MB", hwm // 1024)
"""


def _npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    """A version 1.0 .npy header declaring ``shape`` (written by hand: numpy cannot make such arrays)."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}".encode()
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


def test_npz_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    """A 512 MiB weight deflated to about 0.5 MB: refused from the zip directory's declared sizes, never inflated (peak
    memory stays far below the inflated size); a member whose .npy header does not account for its declared size is
    refused after reading only the header."""
    import zipfile

    bomb = tmp_path / "bomb.npz"
    size = 1 << 29
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        info = zipfile.ZipInfo("w.npy", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as f:
            f.write(_npy_header((size // 4,)))
            chunk = bytes(1 << 24)
            for _ in range(size // len(chunk)):
                f.write(chunk)
    assert bomb.stat().st_size < 8 << 20
    lying = tmp_path / "lying.npz"
    with zipfile.ZipFile(lying, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("w.npy", _npy_header((4, 1)) + bytes(64 << 20))  # 16 bytes declared, 64 MiB present
    proc = run_child(BOMB_SCRIPT.format(linear=str(LINEAR)).replace("sys.argv[1]", repr(str(bomb)))
                     .replace("sys.argv[2]", repr(str(lying))), timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:3] == ["load_weights WeightsFileError True", "read_weights max_bytes WeightsFileError True",
                         "lying header WeightsFileError True"], proc.stdout
    assert int(lines[3].split()[-1]) < 400, proc.stdout  # MB; inflating takes about 1024 (the data, then the array)


def _safetensors(header: bytes, data: bytes = b"") -> bytes:
    return len(header).to_bytes(8, "little") + header + data


@pytest.mark.parametrize("case", ["deep json", "deep safetensors header", "dim 1e30 json", "dim 1e30 safetensors",
                                  "dim 1e30 npz", "negative dim npz", "object dtype npz"])
def test_hostile_weights_files_are_weights_file_errors(case: str, tmp_path: Path) -> None:
    import zipfile

    deep = b"[" * 200_000 + b"]" * 200_000
    f = tmp_path / "w.bin"
    fmt = next(f for f in ("json", "safetensors", "npz") if f in case)
    if case == "deep json":
        f.write_bytes(b'{"w": {"shape": [1], "dtype": "float32", "data": ' + deep + b"}}")
    elif case == "deep safetensors header":
        f.write_bytes(_safetensors(b'{"w": ' + deep + b"}"))
    elif case == "dim 1e30 json":
        f.write_bytes(b'{"w": {"shape": [1000000000000000000000000000000, 0], "dtype": "float32", "data": []}}')
    elif case == "dim 1e30 safetensors":
        f.write_bytes(_safetensors(b'{"w": {"dtype": "F32", "shape": [1000000000000000000000000000000, 0], '
                                   b'"data_offsets": [0, 0]}}'))
    else:
        shape = {"dim 1e30 npz": (10**30, 0), "negative dim npz": (-4,), "object dtype npz": (1,)}[case]
        descr = "|O" if "object" in case else "<f4"
        with zipfile.ZipFile(f, "w") as zf:
            zf.writestr("w.npy", _npy_header(shape, descr) + (bytes(8) if "object" in case else b""))
    with pytest.raises(errors.WeightsFileError) as info:
        litert_sdk.training.read_weights(f, format=fmt)
    assert info.value.path == str(f)
    trainer = litert_sdk.training.Trainer(str(LINEAR))
    before = trainer.get_weights()
    with pytest.raises(errors.WeightsFileError):
        trainer.load_weights(f, format=fmt)
    for k, v in trainer.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


def test_weights_paths_that_are_directories_or_hold_nul_are_typed_errors(tmp_path: Path) -> None:
    from litert_sdk.training import Trainer, read_weights, write_weights

    trainer = Trainer(str(LINEAR))
    directory = tmp_path / "w.npz"
    directory.mkdir()
    for bad in (directory, tmp_path, str(tmp_path / "a\0b.npz"), "", 42):
        with pytest.raises(errors.WeightsFileError):
            read_weights(bad)  # type: ignore[arg-type]
        with pytest.raises(errors.WeightsFileError):
            trainer.load_weights(bad)  # type: ignore[arg-type]
        with pytest.raises(errors.InvalidArgumentError):
            write_weights(bad, {"w": np.zeros(2, np.float32)})  # type: ignore[arg-type]
        with pytest.raises(errors.InvalidArgumentError):
            trainer.save_weights(bad)  # type: ignore[arg-type]
    assert directory.is_dir() and not any(directory.iterdir())
    # a good file still round-trips
    good = tmp_path / "good.npz"
    trainer.save_weights(good)
    for k, v in read_weights(good).items():
        np.testing.assert_array_equal(v, trainer.get_weights()[k])


POOL_FORK_SCRIPT = """
import asyncio, os, threading, time
import numpy as np, litert_sdk
from litert_sdk import errors
from litert_sdk.concurrency import AsyncInterpreter, CompiledModelPool, InterpreterPool
from tflite_builder import add_model, build_model

data = build_model(add_model())
x = np.array([[0.5, -1.0, 2.0, 10.0]], np.float32)
pool = InterpreterPool(1).initialize(data, num_threads=2)
ai = AsyncInterpreter(data, num_threads=2)
print("parent async", asyncio.run(ai.run(x)).tolist())
held, release = threading.Event(), threading.Event()
def hold():  # a thread of the parent holds the pool's only slot across the fork
    with pool.interpreter():
        held.set()
        release.wait()
t = threading.Thread(target=hold)
t.start()
held.wait()
pid = os.fork()
if pid == 0:
    try:
        for name, call in [("pool.run", lambda: pool.run(x)), ("ai.run", lambda: asyncio.run(ai.run(x)))]:
            try:
                call()
                print(name, "ran")
            except errors.ClosedError as e:
                print(name, "ClosedError", "os.fork()" in str(e))
        pool.dispose()
        asyncio.run(ai.close())
        print("child closed", pool.closed, ai.closed)
        print("fresh", litert_sdk.CompiledModel.from_buffer(data).run([x])[0].tolist())
    finally:
        os._exit(0)
_, status = os.waitpid(pid, 0)
release.set()
t.join()
print("child status", status)
print("parent pool", pool.run(x).tolist())
pool.dispose()
asyncio.run(ai.close())
"""


def test_pools_and_async_interpreters_in_a_fork_child_are_closed_not_hung() -> None:
    proc = run_child(POOL_FORK_SCRIPT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    want = (X + ADD_CONSTANT).tolist()
    assert proc.stdout.splitlines() == [
        f"parent async {want}", "pool.run ClosedError True", "ai.run ClosedError True", "child closed True True",
        f"fresh {want}", "child status 0", f"parent pool {want}"], proc.stdout
