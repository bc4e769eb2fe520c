"""The litert-sdk command line: info / run / bench / verify, in-process (main(argv)) and as `python -m litert_sdk`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import litert_sdk
from litert_sdk import cli, vision
from litert_sdk.cli import bench as cli_bench

FACE = str(vision.DEFAULT_FACE_MODEL)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def interpreter_outputs(x: np.ndarray) -> list[np.ndarray]:
    interp = litert_sdk.Interpreter(model_path=FACE)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    by_name = {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_output_details()}
    return [by_name["regressors"], by_name["classificators"]]


# ------------------------------------------------------------------------------------------------------ info
def test_info_json_face_model(capsys) -> None:
    code, out, err = run_cli(capsys, "info", FACE, "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["size_bytes"] == os.path.getsize(FACE)
    assert info["subgraphs"] == 1
    (sig,) = info["signatures"]
    assert sig["default"] is True
    assert [(t["name"], t["dtype"], t["shape"], t["shape_signature"]) for t in sig["inputs"]] == [
        ("input", "float32", [1, 128, 128, 3], [1, 128, 128, 3])]
    assert [(t["name"], t["shape"]) for t in sig["outputs"]] == [("regressors", [1, 896, 16]),
                                                                  ("classificators", [1, 896, 1])]
    assert info["ops"]["DEQUANTIZE"] == 74 and info["ops"]["CONV_2D"] == 21 and info["ops"]["DEPTHWISE_CONV_2D"] == 16
    assert info["op_count"] == sum(info["ops"].values()) == 164
    assert info["custom_ops"] == {}
    assert "TFLITE_METADATA" in info["metadata"]


def test_info_text(capsys) -> None:
    code, out, _ = run_cli(capsys, "info", FACE)
    assert code == 0
    assert "input  float32  [1, 128, 128, 3]" in out
    assert "regressors      float32  [1, 896, 16]" in out
    assert "DEPTHWISE_CONV_2D" in out and "custom ops: none" in out and "TFLITE_METADATA" in out


def test_info_corpus_features(capsys, corpus: Path) -> None:
    code, out, _ = run_cli(capsys, "info", corpus / "mp-py__selfie_segmentation.tflite", "--json")
    assert code == 0
    assert json.loads(out)["custom_ops"] == {"Convolution2DTransposeBias": 1}
    code, out, _ = run_cli(capsys, "info", corpus / "microww__alexa.tflite", "--json")
    info = json.loads(out)
    assert info["metadata"]["min_runtime_version"]["value"] == "2.6.0"
    assert info["ops"]["VAR_HANDLE"] == 12 and info["ops"]["CALL_ONCE"] == 1
    (inp,) = info["signatures"][0]["inputs"]
    assert (inp["name"], inp["dtype"], inp["quantization"]["zero_point"]) == ("input_audio", "int8", -128)
    code, out, _ = run_cli(capsys, "info", corpus / "oww__melspectrogram.tflite", "--json")
    (inp,) = json.loads(out)["signatures"][0]["inputs"]
    assert inp["shape"] == [1, 1] and inp["shape_signature"] == [-1, -1]


def test_builtin_op_names_match_the_schema() -> None:
    schema = pytest.importorskip("ai_edge_litert.schema_py_generated")
    ops = schema.BuiltinOperator
    for name, value in vars(ops).items():
        if not name.startswith("_") and isinstance(value, int) and value in cli.BUILTIN_OP_NAMES:
            assert cli.BUILTIN_OP_NAMES[value] == name
    assert cli.BUILTIN_OP_NAMES[3] == "CONV_2D" and cli.op_name(9999) == "9999"


# ------------------------------------------------------------------------------------------------------- run
def test_run_npy_matches_interpreter(capsys, tmp_path: Path) -> None:
    x = np.random.default_rng(7).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "out.npz"
    code, stdout, err = run_cli(capsys, "run", FACE, "--input", f"input={tmp_path / 'x.npy'}", "--output", out)
    assert code == 0, err
    assert "regressors" in stdout and "[1, 896, 16]" in stdout and f"outputs written to {out}" in stdout
    with np.load(out) as z:
        got = [z["regressors"], z["classificators"]]
    for g, want in zip(got, interpreter_outputs(x), strict=False):
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-5)


def test_run_png_input_and_random_inputs(capsys, tmp_path: Path) -> None:
    png = vision.SAMPLE_IMAGE
    out = tmp_path / "img.npz"
    code, _, err = run_cli(capsys, "run", FACE, "-i", f"0={png}", "--image-range", "-1,1", "-o", out)
    assert code == 0, err
    from litert_sdk.utils import resize_bilinear
    x = (resize_bilinear(vision.sample_image().astype(np.float32), (128, 128)) / 255.0 * 2.0 - 1.0)[None]
    with np.load(out) as z:
        np.testing.assert_allclose(z["classificators"], interpreter_outputs(x.astype(np.float32))[1],
                                   rtol=1e-4, atol=1e-4)

    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for path in (a, b):
        code, _, err = run_cli(capsys, "run", FACE, "--random-inputs", "--seed", "3", "-o", path, "--json")
        assert code == 0, err
    with np.load(a) as za, np.load(b) as zb:
        np.testing.assert_array_equal(za["regressors"], zb["regressors"])


def test_run_errors_are_one_line(capsys, tmp_path: Path) -> None:
    np.save(tmp_path / "small.npy", np.zeros((1, 64, 64, 3), np.float32))
    cases = [
        (("run", FACE, "-i", f"input={tmp_path / 'small.npy'}"), cli.EXIT_USAGE, "expects shape [1, 128, 128, 3]"),
        (("run", FACE), cli.EXIT_USAGE, "--random-inputs"),
        (("run", FACE, "-i", f"nope={tmp_path / 'small.npy'}"), cli.EXIT_USAGE, "no input 'nope'"),
        (("run", FACE, "-i", f"input={tmp_path / 'absent.npy'}"), cli.EXIT_USAGE, "not found"),
        (("run", tmp_path / "absent.tflite"), cli.EXIT_MODEL, "model file not found"),
        (("frobnicate",), cli.EXIT_USAGE, "invalid choice"),
        (("bench", FACE, "--runs", "0"), cli.EXIT_USAGE, "--runs"),
    ]
    for argv, want_code, message in cases:
        code, _, err = run_cli(capsys, *argv)
        assert code == want_code, (argv, err)
        assert err.startswith("litert-sdk: error:") and err.count("\n") == 1 and message in err, err
    (tmp_path / "junk.tflite").write_bytes(b"not a flatbuffer at all" * 4)
    code, _, err = run_cli(capsys, "info", tmp_path / "junk.tflite")
    assert code == cli.EXIT_MODEL and err.count("\n") == 1


# ----------------------------------------------------------------------------------------------------- bench
def test_bench_json(capsys) -> None:
    code, out, err = run_cli(capsys, "bench", FACE, "--runs", "5", "--warmup", "1", "--threads", "1", "--json")
    assert code == 0, err
    assert "bench [" not in err  # no progress bar when stderr is not a terminal
    r = json.loads(out)
    lat = r["latency_ms"]
    assert r["runs"] == 5 and r["threads"] == 1 and r["accelerator"] == "cpu" and r["fully_accelerated"] is True
    assert r["compile_ms"] > 0 and all(lat[k] > 0 for k in ("median", "p90", "mean", "min", "max"))
    assert lat["min"] <= lat["median"] <= lat["p90"] <= lat["max"]


def test_progress_bar_only_on_a_terminal(monkeypatch) -> None:
    class Tty:
        def __init__(self, tty: bool) -> None:
            self.tty, self.text = tty, ""

        def isatty(self) -> bool:
            return self.tty

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    for tty, shown in ((True, True), (False, False)):
        fake = Tty(tty)
        monkeypatch.setattr(sys, "stderr", fake)
        bar = cli_bench._Progress(4, "bench", enabled=True)
        for i in range(1, 5):
            bar.update(i)
        bar.close()
        monkeypatch.undo()
        assert ("bench [" in fake.text and "4/4" in fake.text) is shown


def test_bench_text(capsys) -> None:
    code, out, _ = run_cli(capsys, "bench", FACE, "--runs", "3", "--warmup", "0", "--quiet")
    assert code == 0
    assert "median" in out and "p90" in out and "compile:" in out


# ---------------------------------------------------------------------------------------------------- verify
def test_verify_builtin_vs_reference_passes(capsys) -> None:
    code, out, err = run_cli(capsys, "verify", FACE, "--kernel-mode", "builtin", "--runs", "2", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["passed"] is True and [o["name"] for o in r["outputs"]] == ["regressors", "classificators"]
    assert all(o["max_abs_error"] <= o["tolerance"] for o in r["outputs"])


def test_verify_xnnpack_and_fp16(capsys) -> None:
    code, out, _ = run_cli(capsys, "verify", FACE, "--runs", "1")
    assert code == 0 and "PASS" in out
    # fp16 is far from the fp32 reference: passes with the fp16 defaults, fails with fp32 tolerances
    code, out, _ = run_cli(capsys, "verify", FACE, "--fp16", "--runs", "1", "--json")
    fp16 = json.loads(out)
    assert code == 0 and fp16["passed"] and max(o["max_abs_error"] for o in fp16["outputs"]) > 1e-3
    code, out, _ = run_cli(capsys, "verify", FACE, "--fp16", "--runs", "1", "--rtol", "1e-6", "--atol", "1e-6")
    assert code == cli.EXIT_MISMATCH and "FAIL" in out


def test_verify_gpu_is_reported(capsys) -> None:
    code, out, err = run_cli(capsys, "verify", FACE, "--accelerator", "gpu", "--runs", "1")
    if code == cli.EXIT_ACCELERATOR:  # no usable GPU here (compile failed or the runtime fell back to the CPU)
        assert "GPU" in err and err.count("\n") == 1
    else:  # a GPU machine: fp16-level tolerances by default
        assert code in (cli.EXIT_OK, cli.EXIT_MISMATCH) and "gpu" in out


# ---------------------------------------------------------------------------------------------- subprocesses
def test_python_dash_m(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "litert_sdk", "info", FACE, "--json"], check=False,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["signatures"][0]["inputs"][0]["shape"] == [1, 128, 128, 3]
    proc = subprocess.run([sys.executable, "-m", "litert_sdk", "run", FACE, "-i", "input=/nonexistent.npy"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == cli.EXIT_USAGE
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_console_script() -> None:
    script = shutil.which("litert-sdk", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("litert-sdk console script not installed next to this python")
    proc = subprocess.run([script, "--version"], check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and litert_sdk.__version__ in proc.stdout


# ------------------------------------------------------------------------------- bundled MediaPipe custom ops
MEDIAPIPE_MODEL = "mp-py__face_landmark_with_attention.tflite"  # Landmarks2TransformMatrix, TransformLandmarks, ...


def test_run_enables_bundled_mediapipe_ops(capsys, corpus: Path, tmp_path: Path) -> None:
    path = corpus / MEDIAPIPE_MODEL
    out = tmp_path / "out.npz"
    code, stdout, err = run_cli(capsys, "run", path, "--random-inputs", "--seed", "5", "-o", out)
    assert code == 0, err
    assert "output_mesh_identity" in stdout and "unresolved" not in err
    # the same seeded inputs through the Python API with the MediaPipe kernels enabled explicitly
    model = litert_sdk.Model.from_file(path)
    spec = model.signature()
    rng = np.random.default_rng(5)
    feed = {name: cli.random_input(t.shape, t.dtype, rng) for name, t in spec.inputs}
    with litert_sdk.CompiledModel(model, litert_sdk.Options().with_mediapipe_custom_ops()) as cm:
        want = cm.run(feed, spec.key)
    with np.load(out) as z:
        assert sorted(z.files) == sorted(want)
        for name, arr in want.items():
            np.testing.assert_array_equal(z[name], arr, err_msg=name)


def test_bundled_mediapipe_ops_in_info_bench_verify_and_the_opt_out(capsys, corpus: Path) -> None:
    path = corpus / MEDIAPIPE_MODEL
    code, out, err = run_cli(capsys, "info", path, "--json")
    assert code == 0, err
    assert json.loads(out)["custom_ops_bundled"] == ["Landmarks2TransformMatrix", "TransformLandmarks",
                                                     "TransformTensorBilinear"]
    code, out, err = run_cli(capsys, "bench", path, "--runs", "2", "--warmup", "0", "--json")
    assert code == 0, err
    assert json.loads(out)["latency_ms"]["median"] > 0
    code, out, err = run_cli(capsys, "verify", path, "--runs", "1", "--json")
    assert code == 0, err
    assert json.loads(out)["passed"] is True
    # --no-mediapipe-ops: the runtime reports the unresolved custom op (runtime failure)
    code, out, err = run_cli(capsys, "run", path, "--random-inputs", "--no-mediapipe-ops")
    assert code == cli.EXIT_RUNTIME and "unresolved custom op" in err and out == ""
    # models without custom ops do not list any
    code, out, _ = run_cli(capsys, "info", FACE, "--json")
    assert json.loads(out)["custom_ops_bundled"] == []


# ---------------------------------------------------------------------------------------------- --json errors
def json_error(out: str, code: int, kind: str, fragment: str) -> dict:
    """stdout holds exactly one JSON object describing the error."""
    obj = json.loads(out)
    assert set(obj) == {"error"}, obj
    err = obj["error"]
    assert err["exit_code"] == code and err["type"] == kind and fragment in err["message"], err
    return err


def test_json_errors_for_each_exit_code(capsys, corpus: Path, tmp_path: Path, monkeypatch) -> None:
    np.save(tmp_path / "small.npy", np.zeros((1, 64, 64, 3), np.float32))
    (tmp_path / "junk.tflite").write_bytes(b"not a flatbuffer at all" * 4)
    cases = [
        # usage / input errors (3), argparse's included
        (("run", FACE, "--json"), cli.EXIT_USAGE, "UsageError", "--random-inputs"),
        (("run", FACE, "--json", "-i", f"input={tmp_path / 'small.npy'}"), cli.EXIT_USAGE, "UsageError",
         "expects shape"),
        (("run", FACE, "--json", "--bogus"), cli.EXIT_USAGE, "UsageError", "unrecognized arguments: --bogus"),
        (("bench", FACE, "--js", "--runs", "0"), cli.EXIT_USAGE, "UsageError", "--runs"),
        (("verify", FACE, "--json", "--runs", "many"), cli.EXIT_USAGE, "UsageError", "invalid int value"),
        (("info", "--json"), cli.EXIT_USAGE, "UsageError", "required"),
        (("frobnicate", "--json"), cli.EXIT_USAGE, "UsageError", "invalid choice"),
        (("run", FACE, "--json", "--signature", "nope", "--random-inputs"), cli.EXIT_USAGE, "NotFoundError",
         "no signature 'nope'"),
        # the model cannot be loaded (4)
        (("info", tmp_path / "absent.tflite", "--json"), cli.EXIT_MODEL, "ModelError", "model file not found"),
        (("run", tmp_path / "junk.tflite", "--json", "--random-inputs"), cli.EXIT_MODEL, "ModelError", ""),
        (("bench", tmp_path, "--json"), cli.EXIT_MODEL, "ModelError", "is a directory"),
        # runtime failure (5)
        (("run", corpus / MEDIAPIPE_MODEL, "--json", "--random-inputs", "--no-mediapipe-ops"), cli.EXIT_RUNTIME,
         "RuntimeFailure", "unresolved custom op"),
    ]
    for argv, want_code, kind, fragment in cases:
        code, out, err = run_cli(capsys, *argv)
        assert code == want_code, (argv, out, err)
        json_error(out, want_code, kind, fragment)
        assert err.startswith("litert-sdk: error:") and err.count("\n") == 1, err  # stderr keeps its one line
        code, out, _ = run_cli(capsys, *(a for a in argv if a not in ("--json", "--js")))
        assert code == want_code and out == ""  # without --json: stdout stays empty

    # ok (0) and verify mismatch (1): the result object itself (mismatch: "passed": false)
    code, out, _ = run_cli(capsys, "info", FACE, "--json")
    assert code == cli.EXIT_OK and "error" not in json.loads(out)
    code, out, _ = run_cli(capsys, "verify", FACE, "--fp16", "--runs", "1", "--rtol", "1e-6", "--atol", "1e-6",
                           "--json")
    assert code == cli.EXIT_MISMATCH and json.loads(out)["passed"] is False

    # accelerator unavailable (2): a GPU compile that fails
    from litert_sdk import compiled_model, errors

    real = compiled_model.CompiledModel

    class NoGpu(real):  # type: ignore[misc, valid-type]
        def __init__(self, model, options=None):
            if options is not None and options.accelerators & litert_sdk.Accelerator.GPU:
                raise errors.CompilationError("no GPU here (test)")
            super().__init__(model, options)

    monkeypatch.setattr(compiled_model, "CompiledModel", NoGpu)
    code, out, err = run_cli(capsys, "verify", FACE, "--accelerator", "gpu", "--runs", "1", "--json")
    assert code == cli.EXIT_ACCELERATOR, err
    json_error(out, cli.EXIT_ACCELERATOR, "AcceleratorUnavailable", "GPU accelerator unavailable")
    monkeypatch.setattr(compiled_model, "CompiledModel", real)

    # interrupted (130)
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_info", interrupted)
    code, out, err = run_cli(capsys, "info", FACE, "--json")
    assert code == cli.EXIT_INTERRUPTED and "interrupted" in err
    json_error(out, cli.EXIT_INTERRUPTED, "Interrupted", "interrupted")


def test_json_errors_demo_and_subprocess(capsys, tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "demo", "--json", "--image", tmp_path / "missing.png")
    assert code == cli.EXIT_USAGE
    json_error(out, cli.EXIT_USAGE, "UsageError", "image not found")
    code, out, _ = run_cli(capsys, "demo", "--json", "--score-threshold", "x")
    json_error(out, cli.EXIT_USAGE, "UsageError", "invalid float value")
    # arguments after "--" are not options
    assert cli.wants_json(["run", "m", "--", "--json"]) is False and cli.wants_json(["run", "m", "--jso"]) is True
    proc = subprocess.run([sys.executable, "-m", "litert_sdk", "info", str(tmp_path / "absent.tflite"), "--json"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == cli.EXIT_MODEL and "Traceback" not in proc.stderr
    json_error(proc.stdout, cli.EXIT_MODEL, "ModelError", "model file not found")
