"""Acceleration: CPU threads and XNNPACK flags, weight cache, GPU with CPU fallback, delegates, factory mapping."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import BUNDLED_FACE_MODEL

import litert_sdk
from litert_sdk import (
    Accelerator,
    CompiledModel,
    CpuOptions,
    InterpreterFactory,
    Options,
    PerformanceConfig,
    XNNPackFlags,
    delegates,
    errors,
    performance,
)

FACE = BUNDLED_FACE_MODEL
X = np.random.default_rng(3).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)


def _run(options: Options) -> dict[str, np.ndarray]:
    cm = CompiledModel.from_file(FACE, options)
    try:
        return cm.run({"input": X})
    finally:
        cm.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_num_threads_creates_that_many_threads():
    code = textwrap.dedent(f"""
        import re, numpy as np, litert_sdk
        def threads():
            return int(re.search(r"Threads:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
        out = {{}}
        base = threads()
        keep = []
        for n in (1, 2, 4):
            before = threads()
            cm = litert_sdk.CompiledModel.from_file({str(FACE)!r}, litert_sdk.Options.cpu_only(num_threads=n))
            cm.run([np.zeros((1, 128, 128, 3), np.float32)])
            out[n] = threads() - before
            keep.append(cm)
        print(out[1], out[2], out[4])
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    d1, d2, d4 = map(int, proc.stdout.split())
    # XNNPACK's thread pool has num_threads - 1 workers (the caller is the first thread).
    assert d2 - d1 == 1 and d4 - d1 == 3, (d1, d2, d4)


def test_default_thread_count_is_not_one():
    assert Options().cpu.effective_num_threads == litert_sdk.default_num_threads() >= 1
    assert "num_threads = 3\n" in CpuOptions(num_threads=3).to_toml()


def test_force_fp16_changes_numerics_and_flags_are_ored_with_defaults():
    ref = _run(Options.cpu_only(num_threads=1))
    fp16 = _run(Options.cpu_only(num_threads=1, extra_xnnpack_flags=XNNPackFlags.FORCE_FP16))
    builtin = _run(Options.cpu_only(num_threads=1, kernel_mode="reference"))
    # fp32 XNNPACK agrees with the reference kernels to float rounding; fp16 arithmetic does not.
    np.testing.assert_allclose(ref["regressors"], builtin["regressors"], rtol=1e-4, atol=1e-3)
    diff = np.abs(fp16["regressors"] - ref["regressors"]).max()
    assert 1e-3 < diff < 5.0, diff
    toml = CpuOptions(extra_xnnpack_flags=XNNPackFlags.FORCE_FP16).to_toml()
    assert f"flags = {int(litert_sdk.DEFAULT_XNNPACK_FLAGS | XNNPackFlags.FORCE_FP16)}" in toml
    assert "flags = 4\n" in CpuOptions(xnnpack_flags=XNNPackFlags.FORCE_FP16).to_toml()  # replace, not OR
    assert "flags" not in CpuOptions().to_toml()  # untouched runtime defaults


def test_weight_cache_written_then_reused(tmp_path):
    cache = tmp_path / "face.xnnpack_cache"
    opts = Options.cpu_only(num_threads=1, weight_cache_path=cache)
    first = CompiledModel.from_file(FACE, opts)
    assert cache.is_file() and cache.stat().st_size > 10_000
    size, mtime = cache.stat().st_size, cache.stat().st_mtime_ns
    out1 = first.run({"input": X})
    second = CompiledModel.from_file(FACE, opts)
    out2 = second.run({"input": X})
    assert cache.stat().st_size == size and cache.stat().st_mtime_ns == mtime  # reused, not rewritten
    for k in out1:
        np.testing.assert_array_equal(out1[k], out2[k])
    np.testing.assert_array_equal(out1["regressors"], _run(Options.cpu_only(num_threads=1))["regressors"])


def test_gpu_request_falls_back_to_cpu_with_correct_outputs():
    cm = CompiledModel.from_file(FACE, Options.gpu(num_threads=1))
    cpu = _run(Options.cpu_only(num_threads=1))
    out = cm.run({"input": X})
    if not cm.did_fallback:  # a machine with a working GPU: outputs must still be close
        for k in cpu:
            np.testing.assert_allclose(out[k], cpu[k], rtol=1e-2, atol=1e-2)
        return
    assert cm.accelerators == Accelerator.CPU
    assert "compile failed" in cm.fallback_reason
    for k in cpu:
        np.testing.assert_array_equal(out[k], cpu[k])
    # The same through the classic API and a GPU delegate.
    opts = delegates.InterpreterOptions(threads=1)
    opts.add_delegate(delegates.GpuDelegateV2())
    interp = litert_sdk.Interpreter(model_path=str(FACE), options=opts)
    interp.allocate_tensors()
    assert interp.did_fallback
    interp.set_tensor(interp.get_input_details()[0]["index"], X)
    interp.invoke()
    np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), cpu["regressors"])


def test_gpu_without_fallback_raises_when_compile_fails():
    cm = None
    try:
        cm = CompiledModel.from_file(FACE, Options.gpu(fallback=False))
    except errors.RuntimeFailure as e:
        assert e.status is not None and e.status_name
        return
    assert not cm.did_fallback  # only reachable on a machine whose GPU compiles the model


def test_verify_reports_errors_against_reference():
    ok = litert_sdk.verify_compiled_model(FACE, Options.cpu_only(num_threads=2), runs=2)
    assert ok.passed and max(ok.max_abs_error.values()) < 1e-3
    fp16 = litert_sdk.verify_compiled_model(
        FACE, Options.cpu_only(extra_xnnpack_flags=XNNPackFlags.FORCE_FP16), rtol=1e-6, atol=1e-6
    )
    assert not fp16.passed and fp16.max_abs_error["regressors"] > 1e-3
    assert "FAIL" in str(fp16)


def test_unsupported_delegates_raise_clear_errors(monkeypatch):
    with pytest.raises(errors.UnsupportedError, match="Core ML"):
        litert_sdk.Interpreter(model_path=str(FACE), experimental_delegates=[delegates.CoreMlDelegate()])
    monkeypatch.setattr(delegates, "current_platform", lambda: "linux")
    with pytest.raises(errors.UnsupportedError, match="macOS and iOS"):
        delegates.GpuDelegate()._apply_to_options(Options())
    monkeypatch.setattr(delegates, "current_platform", lambda: "macos")
    assert delegates.GpuDelegate()._apply_to_options(Options()).accelerators == Accelerator.GPU | Accelerator.CPU
    with pytest.raises(errors.UnsupportedError, match="Metal"):
        delegates.GpuDelegateV2()._apply_to_options(Options())
    with pytest.raises(errors.UnsupportedError, match="NNAPI"):
        delegates.InterpreterOptions(use_nnapi=True).to_options()
    try:
        import litert_sdk_flex  # noqa: F401
    except ImportError:
        with pytest.raises(errors.UnsupportedError, match=r"pip install \./sdk/python \./flex .*litert-sdk\[flex\]"):
            delegates.FlexDelegate.create()._apply_to_options(Options())
    with pytest.raises(errors.InvalidArgumentError):
        delegates.InterpreterOptions().add_delegate(object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "plat, mode, expected",
    [
        ("linux", "auto", delegates.XNNPackDelegate),
        ("windows", "auto", delegates.XNNPackDelegate),
        ("macos", "auto", delegates.XNNPackDelegate),
        ("android", "auto", delegates.XNNPackDelegate),
        ("ios", "auto", delegates.GpuDelegate),
        ("linux", "gpu", delegates.GpuDelegateV2),
        ("windows", "gpu", delegates.GpuDelegateV2),
        ("macos", "gpu", delegates.GpuDelegate),
        ("ios", "gpu", delegates.GpuDelegate),
        ("macos", "coreml", delegates.GpuDelegate),
        ("linux", "coreml", type(None)),
        ("linux", "xnnpack", delegates.XNNPackDelegate),
        ("linux", "npu", performance.NpuDelegate),
        ("linux", "disabled", type(None)),
    ],
)
def test_factory_platform_mapping(monkeypatch, plat, mode, expected):
    monkeypatch.setattr(performance, "current_platform", lambda: plat)
    monkeypatch.setattr(delegates, "current_platform", lambda: plat)
    config = getattr(PerformanceConfig, mode)() if mode != "disabled" else PerformanceConfig.disabled()
    options, delegate = InterpreterFactory.create(config)
    assert isinstance(delegate, expected)
    assert options.threads == config.thread_count
    if mode == "disabled":
        assert options.to_options().cpu.kernel_mode == "builtin"
    if expected is delegates.XNNPackDelegate:
        assert options.to_options().cpu.kernel_mode == "xnnpack"
        assert options.to_options().accelerators == Accelerator.CPU


def test_factory_threads_and_runs_on_this_machine():
    assert PerformanceConfig.xnnpack(20).thread_count == 8
    assert PerformanceConfig.auto().thread_count == max(1, min(4, __import__("os").cpu_count() or 1))
    options, delegate = InterpreterFactory.create(PerformanceConfig.auto(2), add_mediapipe_custom_ops=False)
    interp = litert_sdk.Interpreter(model_path=str(FACE), options=options)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], X)
    interp.invoke()
    ref = _run(Options.cpu_only(num_threads=2))
    np.testing.assert_allclose(interp.get_tensor(interp.get_output_details()[0]["index"]), ref["regressors"],
                               rtol=1e-6, atol=1e-6)
    # GPU config on a GPU-less machine: still runs (fallback), same results as the CPU.
    gopts = InterpreterFactory.create_options(PerformanceConfig.gpu(1))
    out = CompiledModel.from_file(FACE, gopts).run({"input": X})
    np.testing.assert_allclose(out["regressors"], _run(Options.cpu_only(num_threads=1))["regressors"],
                               rtol=1e-2, atol=1e-2)


def test_environment_options(tmp_path):
    assert any(name == "CpuAccelerator" and hw & 1 for name, hw in litert_sdk.list_accelerators())
    env = litert_sdk.Environment(compiler_cache_dir=tmp_path, log_severity="error")
    cm = CompiledModel(litert_sdk.Model.from_file(FACE, env))
    assert cm.run({"input": X})["regressors"].shape == (1, 896, 16)
    with pytest.raises(errors.InvalidArgumentError, match="log_severity"):
        litert_sdk.Environment(log_severity="loud")
    with pytest.raises(errors.InvalidArgumentError):
        Options(accelerators=Accelerator.NONE)
    with pytest.raises(errors.InvalidArgumentError):
        CpuOptions(kernel_mode="fast")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgumentError):
        CpuOptions(num_threads=0)
