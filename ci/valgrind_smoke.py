"""A small workload for valgrind memcheck (ci/sanitizers.sh valgrind): two models loaded, compiled and run through
both APIs, bad inputs, bad and corrupted models, resizes and closed objects. Exits non-zero on an unexpected result."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "sdk" / "python" / "fuzz"))

from tflite_builder import ADD_CONSTANT, add_model, build_model  # noqa: E402

import litert_sdk  # noqa: E402
from litert_sdk import errors  # noqa: E402

FACE = ROOT / "sdk" / "python" / "src" / "litert_sdk" / "data" / "face_detection_short_range.tflite"


def expect(exc: type[BaseException], fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except exc:
        return
    raise AssertionError(f"{fn} did not raise {exc.__name__}")


def main() -> int:
    # model 1: the bundled face detector, both APIs
    interp = litert_sdk.Interpreter(model_path=str(FACE), num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]["index"]
    # (deterministic data without numpy.random: its seeding goes through int.from_bytes, which memcheck flags in
    # CPython 3.11 itself)
    x = np.sin(np.arange(128 * 128 * 3, dtype=np.float32)).reshape(1, 128, 128, 3)
    interp.set_tensor(inp, x)
    interp.invoke()
    ref = [interp.get_tensor(d["index"]) for d in interp.get_output_details()]
    view = interp.tensor(interp.get_output_details()[0]["index"])()
    interp.set_tensor(inp, x[:, ::-1])  # a non-contiguous input
    expect(errors.InvalidStateError, interp.invoke)  # tflite_runtime's guard: a tensor() array is alive
    assert np.isfinite(view).all()  # (the view's memory is still valid)
    del view
    interp.invoke()
    view = interp.tensor(interp.get_output_details()[0]["index"])()  # outlives the interpreter (checked at the end)
    cm = litert_sdk.CompiledModel.from_file(FACE)
    outs = cm.run([x])
    for a, b in zip(ref, outs, strict=False):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    buf = cm.input_buffer(0)
    buf[...] = x
    cm.run_buffers()

    # model 2: a dynamic-batch ADD model written by the test builder, resized
    desc = add_model()
    for t in (0, 2):
        desc["subgraphs"][0]["tensors"][t]["shape_signature"] = [-1, 4]
    dyn = litert_sdk.Interpreter(model_content=build_model(desc), num_threads=1)
    dyn.resize_tensor_input(0, [3, 4])
    dyn.allocate_tensors()
    dyn.set_tensor(0, np.ones((3, 4), np.float32))
    dyn.invoke()
    np.testing.assert_array_equal(dyn.get_tensor(2), np.tile(1 + ADD_CONSTANT, (3, 1)))
    runner = dyn.get_signature_runner()
    np.testing.assert_array_equal(runner(x=np.zeros((5, 4), np.float32))["y"], np.tile(ADD_CONSTANT, (5, 1)))

    # bad inputs
    expect(errors.InvalidArgumentError, interp.set_tensor, inp, np.zeros((1, 128, 128, 3), np.float64))
    expect(errors.InvalidArgumentError, interp.set_tensor, inp, np.zeros((1, 64, 64, 3), np.float32))
    expect(errors.InvalidArgumentError, interp.set_tensor, inp, np.empty((1, 128, 128, 3), object))
    expect(errors.InvalidArgumentError, dyn.resize_tensor_input, 0, [2**31 - 1, 2**31 - 1])
    expect(errors.InvalidArgumentError, dyn.resize_tensor_input, 0, [-1, 4])
    expect(errors.InvalidArgumentError, cm.run, {"nope": x})
    expect(errors.NotFoundError, cm.run, [x], "nope")

    # bad and corrupted models
    data = FACE.read_bytes()
    for bad in (b"", b"not a model" * 10, data[:100], data[: len(data) // 2]):
        expect(errors.ModelError, litert_sdk.Interpreter, model_content=bad)
    for k in range(20):
        buf2 = bytearray(data)
        for j in range(4):
            buf2[(7919 * (4 * k + j) + 1009) % 60000] = (31 * k + 7 * j) % 256
        try:
            litert_sdk.CompiledModel.from_buffer(bytes(buf2)).run([x])
        except errors.LiteRtError:
            pass

    # closed objects; views outliving their owners
    interp.close()
    cm.close()
    expect(errors.ClosedError, interp.invoke)
    expect(errors.ClosedError, cm.run, [x])
    del interp, cm, dyn, runner
    gc.collect()
    assert np.isfinite(view).all() and float(buf.sum()) == float(x.sum())
    print("valgrind smoke: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
