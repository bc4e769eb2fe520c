"""The downstream custom-op template (custom_ops/template): a third party copies it, builds its op library with
`conan create` against the litert-runtime Conan package, and the SDK loads the result by path."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_custom_ops_builder import Graph, Op, build

from litert_sdk import CompiledModel, Options
from litert_sdk.custom_ops import load_custom_op_library
from litert_sdk.errors import CustomOpError

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "custom_ops" / "template"
MODELS = Path(__file__).resolve().parent / "models"
REF = "my-custom-ops/0.1.0"

_PROFILES = {("Linux", "x86_64"): "linux-x86_64", ("Linux", "aarch64"): "linux-armv8",
             ("Darwin", "arm64"): "macos-armv8", ("Windows", "amd64"): "windows-x86_64"}


def _run(cmd, env, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=900,
                          check=False)


def test_template_ships_the_current_api_header_and_cmake_function():
    # The template carries copies (a third party copies custom_ops/template out of the repository and builds it
    # against the litert-runtime Conan package only, which has neither file); custom_ops/ holds the originals.
    for rel in ("include/litert_sdk/custom_op_api.h", "cmake/LiteRtCustomOps.cmake"):
        assert (TEMPLATE / rel).read_bytes() == (REPO / "custom_ops" / rel).read_bytes(), (
            f"custom_ops/template/{rel} must be a copy of custom_ops/{rel}")


@pytest.fixture(scope="module")
def template_library(tmp_path_factory) -> Path:
    """Copy the template like a third party would and `conan create` it; the packaged library's path."""
    name = "conan.exe" if os.name == "nt" else "conan"
    conan = next((str(d / name) for d in (Path(sys.executable).parent,) if (d / name).is_file()), shutil.which("conan"))
    if conan is None:
        pytest.skip("conan is not installed")
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    profile = _PROFILES.get((platform.system(), platform.machine().lower()))
    if profile is None:
        pytest.skip("no LiteRT runtime for this machine")
    env = dict(os.environ)
    env["CONAN_HOME"] = str(REPO / ".cache" / "conan2-tests")
    env["LITERT_SDK_CACHE"] = str(REPO / ".cache")
    env.pop("CONAN_DEFAULT_PROFILE", None)
    if not (Path(env["CONAN_HOME"]) / "profiles" / "default").is_file():
        assert _run([conan, "profile", "detect", "--force"], env).returncode == 0
    exported = _run([conan, "export", REPO / "runtime"], env)
    assert exported.returncode == 0, exported.stderr[-3000:]
    src = tmp_path_factory.mktemp("third-party") / "my-custom-ops"
    shutil.copytree(TEMPLATE, src, ignore=shutil.ignore_patterns("build", "CMakeUserPresets.json"))
    res = _run([conan, "create", src, "-pr:h", REPO / "ci" / "profiles" / profile, "-pr:b", "default",
                "--build=missing", "-nr", "--format=json"], env)
    assert res.returncode == 0, res.stderr[-6000:]
    assert "Cumprod (version 1)" in res.stderr + res.stdout  # test_package loaded the library
    graph = json.loads(res.stdout)["graph"]
    node = next(n for n in graph["nodes"].values() if str(n.get("ref", "")).startswith(REF))
    folder = Path(node["package_folder"])
    lib = (next((p for p in (folder / "lib").iterdir() if "my_custom_ops" in p.name), None)
           if (folder / "lib").is_dir() else None)
    if lib is None or os.name == "nt":
        lib = next(p for p in folder.rglob("*my_custom_ops*") if p.suffix in (".so", ".dylib", ".dll"))
    return lib


def test_sdk_runs_a_model_with_the_template_op_library(template_library):
    ref = np.load(MODELS / "custom_cumprod.npz")
    lib = load_custom_op_library(template_library)
    assert lib.names == ["Cumprod"]
    cm = CompiledModel.from_file(MODELS / "custom_cumprod.tflite", Options(custom_ops=lib))
    np.testing.assert_allclose(cm.run({"x": ref["serving_default/in/x"]})["y"], ref["serving_default/out/y"],
                               rtol=1e-6)


def test_template_op_failure_raises_custom_op_error(template_library):
    g = Graph()
    x = g.tensor("x", (2, 5))
    axis = g.tensor("axis", (), np.int32, np.array(5, np.int32))  # out of range for a rank-2 input
    y = g.tensor("y", (2, 5))
    g.inputs, g.outputs = [x], [y]
    g.ops.append(Op("Cumprod", [x, axis], [y]))
    cm = CompiledModel.from_buffer(build(g), Options(custom_ops=load_custom_op_library(template_library)))
    with pytest.raises(CustomOpError, match="axis 5 is out of range"):
        cm.run([np.ones((2, 5), np.float32)])
