"""The Interpreter's native hot path (set_tensor / get_tensor / invoke / run installed on the instance once the
model is compiled): same results as ai-edge-litert, the general path for everything that is not an exact match,
bound methods that survive recompiles, subclasses left alone, no reference cycle."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import litert_sdk
from litert_sdk import errors

SINE = "tflm__sine_float.tflite"


@pytest.fixture()
def sine(corpus):
    path = str(corpus / SINE)
    it = litert_sdk.Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    return it, it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]


@pytest.fixture()
def peer_sine(corpus, peer):
    pit = peer.Interpreter(model_path=str(corpus / SINE), num_threads=1)
    pit.allocate_tensors()
    return pit, pit.get_input_details()[0]["index"], pit.get_output_details()[0]["index"]


def peer_values(peer_sine, xs):
    pit, pi, po = peer_sine
    out = []
    for x in xs:
        pit.set_tensor(pi, x)
        pit.invoke()
        out.append(pit.get_tensor(po))
    return out


def test_hot_methods_are_native_after_compile(sine):
    it, _, _ = sine
    for name in ("set_tensor", "get_tensor", "invoke", "run"):
        assert type(getattr(it, name)).__name__ != "method", name  # not the Python method any more
        assert name in it.__dict__


def test_round_trips_match_the_peer(sine, peer_sine):
    it, i, o = sine
    xs = [np.array([[v]], np.float32) for v in np.linspace(-3.0, 6.0, 37, dtype=np.float32)]
    want = peer_values(peer_sine, xs)
    st, inv, gt = it.set_tensor, it.invoke, it.get_tensor
    out = np.empty((1, 1), np.float32)
    for x, w in zip(xs, want, strict=False):
        st(i, x)
        inv()
        got = gt(o)
        np.testing.assert_array_equal(got, w)
        assert got.flags.writeable and got.flags.c_contiguous and got.dtype == np.float32
        np.testing.assert_array_equal(it.get_tensor(i), x)  # inputs read back through the fast path too
        np.testing.assert_array_equal(it.run(x), w)
        res = it.run(x, out)
        assert res is out
        np.testing.assert_array_equal(out, w)
        # keyword arguments and numpy integer indices take the general path, same values
        it.set_tensor(tensor_index=np.int64(i), value=x)
        it.invoke()
        np.testing.assert_array_equal(it.get_tensor(tensor_index=np.int32(o), subgraph_index=0), w)


def test_results_are_copies_not_views(sine):
    it, i, o = sine
    it.set_tensor(i, np.array([[1.0]], np.float32))
    it.invoke()
    a = it.get_tensor(o)
    before = a.copy()
    it.set_tensor(i, np.array([[2.0]], np.float32))
    it.invoke()
    np.testing.assert_array_equal(a, before)  # a later run does not change an earlier result
    a[...] = 42.0
    assert it.get_tensor(o)[0, 0] != 42.0


def test_non_exact_values_get_the_general_paths_errors_and_conversions(sine, peer_sine):
    it, i, o = sine
    with pytest.raises(errors.InvalidArgumentError, match="float32"):
        it.set_tensor(i, np.array([[0.5]], np.float64))
    with pytest.raises(errors.InvalidArgumentError):
        it.set_tensor(i, np.zeros((2, 1), np.float32))  # wrong shape: resize first
    with pytest.raises(errors.InvalidArgumentError):
        it.set_tensor(i, None)
    with pytest.raises(errors.InvalidArgumentError, match="not an input"):
        it.set_tensor(o, np.zeros((1, 1), np.float32))
    with pytest.raises(errors.InvalidArgumentError):
        it.get_tensor(10_000)
    with pytest.raises(errors.InvalidArgumentError):
        it.get_tensor(2**70)  # overflowing index: general path, typed error
    with pytest.raises(errors.UnsupportedError):
        it.get_tensor(o, subgraph_index=1)
    # run() with an output array of another float type: copied with same-kind casting by the general path
    x = np.array([[0.25]], np.float32)
    (want,) = peer_values(peer_sine, [x])
    out64 = np.empty((1, 1), np.float64)
    assert it.run(x, out64) is out64
    np.testing.assert_allclose(out64, want.astype(np.float64))
    # a read-only output array cannot be filled
    ro = np.empty((1, 1), np.float32)
    ro.flags.writeable = False
    with pytest.raises(errors.InvalidArgumentError, match="writable"):
        it.run(x, ro)
    with pytest.raises(errors.InvalidArgumentError):
        it.run(x, np.empty((2, 2), np.float32))


def test_last_inference_duration_is_measured_natively(sine):
    it, i, _ = sine
    it.set_tensor(i, np.array([[0.5]], np.float32))
    it.invoke()
    assert 0.0 < it.last_inference_duration_us < 1e6


def test_bound_methods_survive_reset_and_fail_typed_after_close(corpus):
    it = litert_sdk.Interpreter(model_path=str(corpus / SINE))
    it.allocate_tensors()
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    st, inv, gt = it.set_tensor, it.invoke, it.get_tensor
    x = np.array([[1.5]], np.float32)
    st(i, x)
    inv()
    before = gt(o)
    it.reset_all_variables()  # recompiles: the old native model is closed
    st(i, x)  # the stale bound methods reach the new model through the general path
    inv()
    np.testing.assert_array_equal(gt(o), before)
    np.testing.assert_array_equal(it.get_tensor(o), before)  # and the new fast path is installed
    it.close()
    for call in (lambda: st(i, x), inv, lambda: gt(o), lambda: it.invoke(), lambda: it.run(x)):
        with pytest.raises(errors.ClosedError):
            call()


def test_subclass_overrides_are_kept(corpus):
    calls = []

    class Counting(litert_sdk.Interpreter):
        def invoke(self) -> None:
            calls.append(1)
            super().invoke()

    it = Counting(model_path=str(corpus / SINE))
    it.allocate_tensors()
    assert "invoke" not in it.__dict__ and "set_tensor" in it.__dict__
    it.set_tensor(it.get_input_details()[0]["index"], np.array([[0.5]], np.float32))
    it.invoke()
    assert calls == [1]


def test_no_reference_cycle(corpus):
    gc.collect()
    gc.disable()
    try:
        it = litert_sdk.Interpreter(model_path=str(corpus / SINE))
        it.allocate_tensors()
        it.invoke()
        ref = weakref.ref(it)
        del it
        assert ref() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_compiled_model_run_list_fast_path_matches_the_general_path(corpus, peer_sine):
    cm = litert_sdk.CompiledModel.from_file(corpus / SINE, litert_sdk.Options.cpu_only(num_threads=1))
    xs = [np.array([[v]], np.float32) for v in (-1.0, 0.0, 0.7, 3.1)]
    want = peer_values(peer_sine, xs)
    for x, w in zip(xs, want, strict=False):
        (a,) = cm.run([x])  # exact-match list: one native call
        (b,) = cm.run((x,))  # tuple: the general path
        c = cm.run({cm.input_names()[0]: x})[cm.output_names()[0]]
        for got in (a, b, c):
            np.testing.assert_allclose(got, w, rtol=1e-6)
    assert 0.0 < cm.last_run_duration_us < 1e6
    with pytest.raises(errors.InvalidArgumentError):
        cm.run([np.array([[0.5]], np.float64)])  # not exact: the general path reports it
    np.testing.assert_allclose(cm.run([[[0.7]]])[0], want[2], rtol=1e-6)  # nested lists are converted
    (batch,) = cm.run([np.zeros((3, 1), np.float32)])  # another shape: resized by the general path
    assert batch.shape == (3, 1)


def test_numpy_arrays_are_read_directly_and_odd_arrays_still_work(sine, peer_sine):
    """The hot paths read numpy's array struct directly once its self-check passed; arrays the direct path does not
    take (non-native byte order, subclasses, read-only views) still give the right values through the general path."""
    from litert_sdk import _runtime

    it, i, o = sine
    assert _runtime.native().numpy_direct_access()  # numpy's struct layout is the one the extension declares
    x = np.array([[0.3]], np.float32)
    (want,) = peer_values(peer_sine, [x])
    ro = x.copy()
    ro.flags.writeable = False
    class Sub(np.ndarray):
        pass

    for value in (x, x.astype(">f4"), ro, x.view(Sub), np.broadcast_to(x, (1, 1)), np.asfortranarray(x)):
        it.set_tensor(i, value)
        it.invoke()
        np.testing.assert_array_equal(it.get_tensor(o), want, err_msg=repr(value))
