"""Every model of the shared corpus runs through Interpreter and CompiledModel and matches ai-edge-litert 2.3.0."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import NEEDS_CUSTOM_OPS, corpus_names, random_input

import litert_sdk

MODELS = [n for n in corpus_names() if n not in NEEDS_CUSTOM_OPS]
# Inputs that must be resized before the model can run (dynamic dims stored as 1).
RESIZE = {"oww__melspectrogram.tflite": {0: [1, 1760]}}


def _peer_run(peer, path, inputs_by_pos, threads=1):
    p = peer.Interpreter(model_path=str(path), num_threads=threads)
    for pos, shape in RESIZE.get(path.name, {}).items():
        p.resize_tensor_input(p.get_input_details()[pos]["index"], shape, strict=True)
    p.allocate_tensors()
    for d, x in zip(p.get_input_details(), inputs_by_pos, strict=False):
        p.set_tensor(d["index"], x)
    p.invoke()
    return p, [(d["index"], p.get_tensor(d["index"])) for d in p.get_output_details()]


def _inputs_for(interp, rng):
    return [random_input(d["shape"], d["dtype"], rng) for d in interp.get_input_details()]


@pytest.mark.parametrize("name", MODELS)
def test_interpreter_matches_peer(name, corpus, peer, rng):
    path = corpus / name
    ours = litert_sdk.Interpreter(model_path=str(path), num_threads=1)
    for pos, shape in RESIZE.get(name, {}).items():
        ours.resize_tensor_input(ours.get_input_details()[pos]["index"], shape, strict=True)
    ours.allocate_tensors()
    xs = _inputs_for(ours, rng)
    p, ref = _peer_run(peer, path, xs)

    # Same tensor details (names, real tensor indices, shapes, shape signatures, dtypes, quantization).
    for ours_d, peer_d in zip(ours.get_input_details() + ours.get_output_details(),
                              p.get_input_details() + p.get_output_details(), strict=False):
        assert ours_d["name"] == peer_d["name"]
        assert ours_d["index"] == peer_d["index"]
        assert ours_d["dtype"] == peer_d["dtype"]
        np.testing.assert_array_equal(ours_d["shape"], peer_d["shape"])
        np.testing.assert_array_equal(ours_d["shape_signature"], peer_d["shape_signature"])
        assert ours_d["quantization"][1] == peer_d["quantization"][1]
        assert ours_d["quantization"][0] == pytest.approx(peer_d["quantization"][0], rel=1e-7)
        np.testing.assert_allclose(ours_d["quantization_parameters"]["scales"],
                                   peer_d["quantization_parameters"]["scales"], rtol=1e-7)
    assert len(ours.get_input_details()) == len(p.get_input_details())
    assert len(ours.get_output_details()) == len(p.get_output_details())

    for d, x in zip(ours.get_input_details(), xs, strict=False):
        ours.set_tensor(d["index"], x)
    ours.invoke()
    for index, expected in ref:
        got = ours.get_tensor(index)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        # Same runtime, same kernels, one thread: bit-identical results.
        np.testing.assert_array_equal(got, expected, err_msg=f"{name}: output tensor {index}")


@pytest.mark.parametrize("name", MODELS)
def test_compiled_model_matches_peer(name, corpus, peer, rng):
    path = corpus / name
    cm = litert_sdk.CompiledModel.from_file(path)  # default options: XNNPACK, default thread count
    sig = cm.signature()
    interp = litert_sdk.Interpreter(model_path=str(path))  # only to learn the model's input order
    for pos, shape in RESIZE.get(name, {}).items():
        interp.resize_tensor_input(interp.get_input_details()[pos]["index"], shape)
    xs = _inputs_for(interp, rng)
    _, ref = _peer_run(peer, path, xs, threads=2)
    by_tensor = {d["index"]: x for d, x in zip(interp.get_input_details(), xs, strict=False)}
    feed = {n: by_tensor[t.index] for n, t in sig.inputs}
    out = cm.run(feed)
    assert set(out) == set(sig.output_names)
    for index, expected in ref:
        oname = next(n for n, t in sig.outputs if t.index == index)
        np.testing.assert_allclose(out[oname], expected, rtol=1e-5, atol=1e-6, err_msg=f"{name}: {oname}")
        assert out[oname].dtype == expected.dtype


def test_melspectrogram_after_resize(corpus, peer, rng):
    path = corpus / "oww__melspectrogram.tflite"
    x = (rng.standard_normal((1, 1760)) * 1000).astype(np.float32)
    _, ref = _peer_run(peer, path, [x])
    cm = litert_sdk.CompiledModel.from_file(path)
    assert cm.signature().inputs[0][1].shape == (-1, -1)  # dynamic in the model
    cm.resize_input(0, [1, 1760])
    assert cm.output_shape(0) == ref[0][1].shape
    (y,) = cm.run([x])
    np.testing.assert_allclose(y, ref[0][1], rtol=1e-5, atol=1e-5)
    # A second length re-lays out the outputs (their sizes come from layouts, not stale requirements).
    x2 = (rng.standard_normal((1, 3200)) * 1000).astype(np.float32)
    (y2,) = cm.run([x2])
    p = peer.Interpreter(model_path=str(path))
    p.resize_tensor_input(p.get_input_details()[0]["index"], [1, 3200], strict=True)
    p.allocate_tensors()
    p.set_tensor(p.get_input_details()[0]["index"], x2)
    p.invoke()
    expected2 = p.get_tensor(p.get_output_details()[0]["index"])
    assert y2.shape == expected2.shape != y.shape
    np.testing.assert_allclose(y2, expected2, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["oww__embedding_model.tflite", "tflm__sine_float.tflite"])
def test_batch_minus_one_resizes_to_4(name, corpus, peer, rng):
    path = corpus / name
    interp = litert_sdk.Interpreter(model_path=str(path))
    d = interp.get_input_details()[0]
    assert d["shape_signature"][0] == -1
    interp.resize_tensor_input(d["index"], [4, *d["shape"][1:]], strict=True)
    interp.allocate_tensors()
    assert interp.get_input_details()[0]["shape"][0] == 4
    assert interp.get_output_details()[0]["shape"][0] == 4
    x = random_input([4, *d["shape"][1:]], d["dtype"], rng)
    interp.set_tensor(d["index"], x)
    interp.invoke()
    got = interp.get_tensor(interp.get_output_details()[0]["index"])

    p = peer.Interpreter(model_path=str(path), num_threads=1)
    p.resize_tensor_input(p.get_input_details()[0]["index"], [4, *d["shape"][1:]], strict=True)
    p.allocate_tensors()
    p.set_tensor(p.get_input_details()[0]["index"], x)
    p.invoke()
    expected = p.get_tensor(p.get_output_details()[0]["index"])
    assert got.shape == expected.shape and got.shape[0] == 4
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_attention_models_run_with_mediapipe_ops(corpus, rng):
    """The two corpus copies of face_landmark_with_attention (custom attention ops no peer runs) run with the
    bundled MediaPipe kernels, through both APIs, and agree with each other bit for bit."""
    from conftest import NEEDS_CUSTOM_OPS

    x = rng.uniform(0, 1, (1, 192, 192, 3)).astype(np.float32)
    results = []
    for name in sorted(NEEDS_CUSTOM_OPS):
        cm = litert_sdk.CompiledModel.from_file(corpus / name, litert_sdk.Options().with_mediapipe_custom_ops())
        out = cm.run({"input_1": x})
        assert out["output_mesh_identity"].shape == (1, 1, 1, 1404)
        assert all(np.isfinite(v).all() for v in out.values())
        opts = litert_sdk.delegates.InterpreterOptions(threads=1)
        opts.add_mediapipe_custom_ops()
        interp = litert_sdk.Interpreter(model_path=str(corpus / name), options=opts)
        interp.allocate_tensors()
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
        mesh = next(d for d in interp.get_output_details() if d["name"] == "output_mesh_identity")
        np.testing.assert_allclose(interp.get_tensor(mesh["index"]), out["output_mesh_identity"], rtol=1e-5, atol=1e-4)
        results.append(out)
    for k in results[0]:
        np.testing.assert_array_equal(results[0][k], results[1][k])
