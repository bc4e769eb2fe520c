"""Object lifetimes: use after close, numpy views and objects outliving their owners, deletion in any order, and
flat memory over many create/destroy cycles."""

from __future__ import annotations

import gc
import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED_FACE_MODEL, corpus_dir

import litert_sdk
from litert_sdk import errors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from tflite_builder import ADD_CONSTANT, add_model, build_model  # noqa: E402

ADD = build_model(add_model())
X = np.arange(4, dtype=np.float32).reshape(1, 4)


def _interp(**kw) -> litert_sdk.Interpreter:
    interp = litert_sdk.Interpreter(model_content=ADD, num_threads=1, **kw)
    interp.allocate_tensors()
    return interp


# -- use after close ----------------------------------------------------------------------------------------------
INTERPRETER_CALLS = {
    "invoke": lambda i: i.invoke(),
    "set_tensor": lambda i: i.set_tensor(0, X),
    "get_tensor": lambda i: i.get_tensor(2),
    "allocate_tensors": lambda i: i.allocate_tensors(),
    "resize_tensor_input": lambda i: i.resize_tensor_input(0, [1, 4]),
    "tensor view": lambda i: i.tensor(2)(),
    "signature runner": lambda i: i.get_signature_runner()(x=X),
    "run": lambda i: i.run(X),
}
COMPILED_CALLS = {
    "run": lambda c: c.run([X]),
    "run_buffers": lambda c: c.run_buffers(),
    "input_buffer": lambda c: c.input_buffer(0),
    "output_buffer": lambda c: c.output_buffer(0),
    "input_shape": lambda c: c.input_shape(0),
    "output_shape": lambda c: c.output_shape(0),
    "resize_input": lambda c: c.resize_input(0, [1, 4]),
    "is_fully_accelerated": lambda c: c.is_fully_accelerated(),
}


@pytest.mark.parametrize("call", list(INTERPRETER_CALLS), ids=list(INTERPRETER_CALLS))
def test_interpreter_use_after_close(call: str) -> None:
    interp = _interp()
    interp.close()
    with pytest.raises(errors.ClosedError, match="closed"):
        INTERPRETER_CALLS[call](interp)
    interp.close()  # closing twice is harmless


@pytest.mark.parametrize("call", list(COMPILED_CALLS), ids=list(COMPILED_CALLS))
def test_compiled_model_use_after_close(call: str) -> None:
    cm = litert_sdk.CompiledModel.from_buffer(ADD)
    cm.run([X])
    cm.close()
    assert cm.closed
    with pytest.raises(errors.ClosedError, match="the compiled model is closed"):
        COMPILED_CALLS[call](cm)
    cm.close()


def test_context_managers_close() -> None:
    with _interp() as interp:
        interp.invoke()
    with pytest.raises(errors.ClosedError):
        interp.invoke()
    with litert_sdk.CompiledModel.from_buffer(ADD) as cm:
        cm.run([X])
    assert cm.closed


def test_closing_one_object_leaves_the_others_working() -> None:
    model = litert_sdk.Model.from_buffer(ADD)
    a, b = litert_sdk.CompiledModel(model), litert_sdk.CompiledModel(model)
    a.close()
    np.testing.assert_array_equal(b.run([X])[0], X + ADD_CONSTANT)


# -- views and objects outliving their owners ---------------------------------------------------------------------
def test_views_outlive_interpreter_and_model() -> None:
    interp = _interp()
    interp.set_tensor(0, X)
    interp.invoke()
    out_view = interp.tensor(2)()
    in_view = interp.tensor(0)()
    copy = interp.get_tensor(2)
    del interp
    gc.collect()
    np.testing.assert_array_equal(out_view, X + ADD_CONSTANT)  # memory kept alive by the views
    np.testing.assert_array_equal(in_view, X)
    in_view[...] = 7  # still writable, nothing else uses it
    np.testing.assert_array_equal(copy, X + ADD_CONSTANT)


def test_buffers_outlive_compiled_model_and_model() -> None:
    model = litert_sdk.Model.from_buffer(ADD)
    cm = litert_sdk.CompiledModel(model)
    inp, out = cm.input_buffer("x"), cm.output_buffer("y")
    inp[...] = X
    cm.run_buffers()
    del cm, model
    gc.collect()
    np.testing.assert_array_equal(out, X + ADD_CONSTANT)
    np.testing.assert_array_equal(inp, X)


def test_views_survive_close() -> None:
    cm = litert_sdk.CompiledModel.from_buffer(ADD)
    out = cm.output_buffer(0)
    cm.run([X])
    cm.close()
    gc.collect()
    np.testing.assert_array_equal(out, X + ADD_CONSTANT)  # the block belongs to the view now


def test_objects_outlive_their_environment() -> None:
    env = litert_sdk.Environment()
    interp = litert_sdk.Interpreter(model_content=ADD, environment=env)
    model = litert_sdk.Model.from_buffer(ADD, env)
    del env
    gc.collect()
    interp.allocate_tensors()
    interp.set_tensor(0, X)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(2), X + ADD_CONSTANT)
    cm = litert_sdk.CompiledModel(model)  # compiled after the environment object is gone
    del model
    gc.collect()
    np.testing.assert_array_equal(cm.run([X])[0], X + ADD_CONSTANT)


def test_deletion_in_every_order() -> None:
    """environment, model, compiled model, interpreter and a view, deleted in 30 of the 120 possible orders."""
    names = ["env", "model", "cm", "interp", "view"]
    for order in list(itertools.permutations(names))[::4]:
        objs: dict[str, object] = {"env": litert_sdk.Environment()}
        objs["model"] = litert_sdk.Model.from_buffer(ADD, objs["env"])  # type: ignore[arg-type]
        objs["cm"] = litert_sdk.CompiledModel(objs["model"])  # type: ignore[arg-type]
        objs["interp"] = litert_sdk.Interpreter(model_content=ADD, environment=objs["env"])  # type: ignore[arg-type]
        objs["view"] = objs["cm"].output_buffer(0)  # type: ignore[attr-defined]
        objs["cm"].run([X])  # type: ignore[attr-defined]
        for name in order:
            if name == "interp" and name in objs:
                objs["interp"].allocate_tensors()  # type: ignore[attr-defined]  # invoke() needs it (tflite_runtime)
                objs["interp"].invoke()  # type: ignore[attr-defined]
            del objs[name]
            gc.collect()
            if "view" in objs:
                assert float(np.asarray(objs["view"]).sum()) == float((X + ADD_CONSTANT).sum())


def test_gc_loop_with_reference_cycles() -> None:
    """Objects caught in reference cycles are freed by the cyclic GC in whatever order it picks."""
    for _ in range(50):
        interp = _interp()
        cm = litert_sdk.CompiledModel.from_buffer(ADD)
        holder: dict[str, object] = {"interp": interp, "cm": cm, "view": cm.output_buffer(0)}
        holder["self"] = holder  # a cycle
        interp.__dict__["cycle"] = holder
        del interp, cm, holder
        gc.collect()


# -- memory over many cycles ------------------------------------------------------------------------------------
RSS_SCRIPT = textwrap.dedent(
    """
    import gc, json, os, sys, time
    import numpy as np
    import litert_sdk
    source, warmup, cycles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    page = os.sysconf("SC_PAGE_SIZE")

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    kw = {"model_path": source} if source.endswith(".tflite") else {"model_content": bytes.fromhex(source)}

    def cycle():
        interp = litert_sdk.Interpreter(num_threads=1, **kw)
        interp.allocate_tensors()
        d = interp.get_input_details()[0]
        interp.set_tensor(d["index"], np.ones([max(1, s) for s in d["shape"]], d["dtype"]))
        interp.invoke()
        interp.get_tensor(interp.get_output_details()[0]["index"])
        interp.close()

    t0 = time.perf_counter()
    for _ in range(warmup):
        cycle()
    gc.collect()
    before, t1 = rss(), time.perf_counter()
    for _ in range(cycles):
        cycle()
    gc.collect()
    after, t2 = rss(), time.perf_counter()
    print(json.dumps({"before": before, "after": after, "warmup_s": t1 - t0, "cycles_s": t2 - t1}))
    """
)
RSS_GROWTH_LIMIT = 20 * 2**20


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc/self/statm (Linux)")
@pytest.mark.skipif(bool(os.environ.get("LITERT_SDK_SANITIZER")), reason="RSS is meaningless under ASan")
def test_create_destroy_cycles_keep_memory_flat() -> None:
    """10,000 create/destroy cycles of a small model after 500 warm-up cycles, in a fresh process.

    Bound: 20 MB. A leak of a single model (its buffer, graph and compiled state: a few KB for the sine model) or of
    one numpy output per cycle would grow the process by 30+ MB over 10,000 cycles, while allocator and
    interpreter-level caches settle during the warm-up (measured growth after it: well under 1 MB).
    """
    sine = corpus_dir() / "tflm__sine_float.tflite"
    source = str(sine) if sine.is_file() else ADD.hex()
    proc = subprocess.run([sys.executable, "-c", RSS_SCRIPT, source, "500", "10000"], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    growth = r["after"] - r["before"]
    print(f"RSS after warm-up {r['before'] / 2**20:.1f} MiB, after 10,000 cycles {r['after'] / 2**20:.1f} MiB, "
          f"growth {growth / 2**20:.2f} MiB, {r['cycles_s']:.1f} s")
    assert growth < RSS_GROWTH_LIMIT, r


def test_bundled_model_many_compiles_in_process() -> None:
    """A larger model compiled and freed repeatedly (quick in-process variant of the cycle test)."""
    data = BUNDLED_FACE_MODEL.read_bytes()
    x = np.zeros((1, 128, 128, 3), np.float32)
    for _ in range(20):
        cm = litert_sdk.CompiledModel.from_buffer(data)
        cm.run([x])
        cm.close()
        del cm
    gc.collect()
