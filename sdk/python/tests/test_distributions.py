"""The distributions a release publishes: the sdist builds a working wheel on its own, and both carry the licence files
and pass `twine check --strict`.

One sdist is built (`python -m build --sdist sdk/python`) and unpacked into an empty temporary directory, so that
nothing of the repository is beside it; a wheel is built from it with pip (build isolation, as a user's pip would),
installed into a fresh venv and made to run the bundled face detector (`python -m litert_sdk.demo`), whose result is
compared with the one of the litert_sdk this suite runs against. About a minute on 2 cores once pip's cache is warm
(the compile dominates). Needs network access to the package index (build requirements, numpy).

Needs `build` and `twine` in the test interpreter: without them these tests skip, and fail under LITERT_SDK_STRICT=1
(.ci/run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # sdk/python
REPO = PACKAGE_DIR.parents[1]
STRICT = os.environ.get("LITERT_SDK_STRICT") == "1"
LICENSE_FILES = ["LICENSE", "NOTICE", "THIRD_PARTY_NOTICES.txt"]
BUILD_TIMEOUT = 1200

pytestmark = pytest.mark.slow


def _require(module: str, pip_name: str) -> None:
    if importlib.util.find_spec(module) is None:
        reason = f"{pip_name} is not installed in the test interpreter (pip install {pip_name})"
        if STRICT:
            pytest.fail(f"{reason} (LITERT_SDK_STRICT=1)")
        pytest.skip(reason)


def _env() -> dict[str, str]:
    # The calling environment's build settings (CMAKE_ARGS, CC, ...) are not the user's defaults; PIP_* index and
    # cache settings and LITERT_SDK_CACHE (the runtime wheel cache) are kept.
    drop = ("CMAKE_ARGS", "CMAKE_GENERATOR", "CC", "CXX", "CFLAGS", "CXXFLAGS", "LDFLAGS", "SKBUILD_", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, timeout: int = BUILD_TIMEOUT) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                    f"{proc.stderr[-6000:]}")
    return proc


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("distributions")


@pytest.fixture(scope="module")
def sdist(work) -> Path:
    _require("build", "build")
    out = work / "sdist"
    _run([sys.executable, "-m", "build", "--sdist", "--outdir", out, PACKAGE_DIR], cwd=work)
    (path,) = out.glob("litert_sdk-*.tar.gz")
    return path


@pytest.fixture(scope="module")
def unpacked(work, sdist) -> Path:
    # <work>/isolated/src/litert_sdk-X: ../.. is <work>/isolated, which holds nothing else.
    dest = work / "isolated" / "src"
    dest.mkdir(parents=True)
    with tarfile.open(sdist) as tf:
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tf.extractall(dest, **kwargs)
    (root,) = dest.iterdir()
    assert sorted(p.name for p in (work / "isolated").iterdir()) == ["src"]
    return root


@pytest.fixture(scope="module")
def wheel(work, unpacked) -> Path:
    out = work / "wheel"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", out, unpacked], cwd=work)
    (path,) = out.glob("litert_sdk-*.whl")
    return path


def test_sdist_contents(sdist):
    with tarfile.open(sdist) as tf:
        names = tf.getnames()
        top = names[0].split("/")[0]
        rel = {n[len(top) + 1:] for n in names if n.startswith(top + "/")}
        pkg_info = tf.extractfile(f"{top}/PKG-INFO").read().decode("utf-8")
    for name in LICENSE_FILES:
        assert name in rel, f"{name} missing from the sdist"
        assert f"License-File: {name}" in pkg_info
    assert "License-Expression: Apache-2.0" in pkg_info
    assert "Metadata-Version: 2.4" in pkg_info  # PEP 639
    # What CMakeLists.txt takes from the repository, in the repository's layout under _repo/.
    for needed in ("_repo/runtime/cmake/LiteRtRuntime.cmake", "_repo/runtime/fetch_runtime.py",
                   "_repo/runtime/conandata.yml", "_repo/runtime/implib.py",
                   "_repo/runtime/include/litert_sdk/litert_c_abi.h", "_repo/custom_ops/CMakeLists.txt",
                   "_repo/custom_ops/cmake/LiteRtCustomOps.cmake",
                   "_repo/custom_ops/include/litert_sdk/custom_op_api.h", "_repo/custom_ops/mediapipe/registration.cc",
                   "CMakeLists.txt", "src/native/module.cc", "src/litert_sdk/data/face_detection_short_range.tflite"):
        assert needed in rel, f"{needed} missing from the sdist"
    # Only sources: no build trees, compiled objects or runtime binaries.
    junk = [n for n in rel if "/build/" in f"/{n}" or n.endswith((".so", ".o", ".dylib", ".dll", ".pyc", ".whl"))]
    assert not junk, junk[:10]


def test_sdist_of_an_unpacked_sdist(work, unpacked):
    # An sdist made again from the unpacked one (its _repo/ is part of the project now) has the same files.
    _require("build", "build")
    out = work / "resdist"
    _run([sys.executable, "-m", "build", "--sdist", "--outdir", out, unpacked], cwd=work)
    (again,) = out.glob("litert_sdk-*.tar.gz")
    with tarfile.open(again) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    expected = {str(p.relative_to(unpacked)).replace(os.sep, "/") for p in unpacked.rglob("*")
                if p.is_file() and "build" not in p.relative_to(unpacked).parts}
    assert names == expected


def test_wheel_contents(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (dist_info,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        metadata = zf.read(f"{dist_info}/METADATA").decode("utf-8")
        for name in LICENSE_FILES:
            member = f"{dist_info}/licenses/{name}"
            assert member in names, f"{member} missing from {wheel.name}"
            assert zf.read(member) == (PACKAGE_DIR / name).read_bytes()
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: License ::" not in metadata
    assert "litert_sdk/licenses/LICENSE.litert-runtime" in names
    assert any(n.startswith("litert_sdk/_native.") for n in names)
    assert any("libLiteRt." in n for n in names) and any("litert_mediapipe_ops" in n for n in names)
    assert "litert_sdk/data/face_detection_short_range.tflite" in names


def test_twine_check_strict(sdist, wheel):
    _require("twine", "twine")
    proc = _run([sys.executable, "-m", "twine", "check", "--strict", sdist, wheel], cwd=wheel.parent, timeout=300)
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def _demo(python: Path, out: Path, cwd: Path) -> dict:
    proc = _run([python, "-m", "litert_sdk.demo", "--output", out, "--json"], cwd=cwd, timeout=300)
    return json.loads(proc.stdout)


def test_wheel_from_sdist_runs_the_bundled_model(work, wheel):
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=work, timeout=300)
    python = _venv_python(venv)
    _run([python, "-m", "pip", "install", "--quiet", wheel], cwd=work, timeout=600)
    run_dir = work / "run"  # not the repository: the installed package is imported
    run_dir.mkdir()
    location = _run([python, "-c", "import litert_sdk; print(litert_sdk.__file__)"], cwd=run_dir, timeout=120)
    assert Path(location.stdout.strip()).resolve().is_relative_to(venv.resolve())

    result = _demo(python, run_dir / "faces.png", run_dir)
    faces = result["faces"]
    assert len(faces) == 1, faces  # the bundled astronaut photo shows one face
    assert faces[0]["score"] > 0.5
    x0, y0, x1, y1 = faces[0]["box"]
    assert 0 <= x0 < x1 <= result["width"] and 0 <= y0 < y1 <= result["height"]
    assert (run_dir / "faces.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The same result as the litert_sdk this suite tests (the same runtime and model): the sdist-built wheel is
    # not a different program.
    if importlib.util.find_spec("litert_sdk") is None:
        return
    reference = _demo(Path(sys.executable), work / "reference.png", run_dir)
    assert len(reference["faces"]) == len(faces)
    for got, want in zip(faces, reference["faces"], strict=False):
        assert abs(got["score"] - want["score"]) < 1e-3
        assert all(abs(a - b) < 0.5 for a, b in zip(got["box"], want["box"], strict=False))
        for name, point in want["keypoints"].items():
            assert all(abs(a - b) < 0.5 for a, b in zip(got["keypoints"][name], point, strict=False)), name
