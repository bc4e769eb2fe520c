"""Packaging: the cibuildwheel configuration selects the intended wheels, the metadata and licence files are ready to
publish, and an installed package is complete.

The identifier checks run `cibuildwheel --print-build-identifiers` on sdk/python/pyproject.toml for every platform
(nothing is built; it works on any host). The configuration is written for cibuildwheel 4.x (ci/github/wheels.yml
pins 4.3.5; cibuildwheel 4 needs Python >= 3.11): with another major version, or none, these tests skip, and fail
under LITERT_SDK_STRICT=1 (.ci/run). Building the sdist and the wheels themselves: test_distributions.py.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # sdk/python
REPO = PACKAGE_DIR.parents[1]
PYPROJECT = PACKAGE_DIR / "pyproject.toml"
STRICT = os.environ.get("LITERT_SDK_STRICT") == "1"
CIBUILDWHEEL_MAJOR = "4"  # ci/github/wheels.yml pins 4.3.5

# cp310/cp311: version-specific wheels; cp312: the abi3 wheel (wheel.py-api = "cp312"), reused and tested on
# cp313/cp314; cp314t: the free-threaded wheel (cibuildwheel 4 has no cp313t).
PYTHONS = ["cp310", "cp311", "cp312", "cp313", "cp314", "cp314t"]
EXPECTED = {
    "linux": [f"{py}-manylinux_{arch}" for arch in ("x86_64", "aarch64") for py in PYTHONS],
    "macos": [f"{py}-macosx_arm64" for py in PYTHONS],
    "windows": [f"{py}-win_amd64" for py in PYTHONS],
}
# Platforms without a libLiteRt build: cibuildwheel lists them, and their before-all stops the build with a message.
NO_RUNTIME = {
    "android": ("no Android wheels", {"cp313-android_arm64_v8a", "cp313-android_x86_64"}),
    "ios": ("no iOS wheels", {"cp313-ios_arm64_iphoneos", "cp313-ios_arm64_iphonesimulator"}),
    "pyodide": ("no Pyodide wheels", {"cp313-pyodide_wasm32", "cp314-pyodide_wasm32"}),
}
LICENSE_FILES = ["LICENSE", "NOTICE", "THIRD_PARTY_NOTICES.txt"]


def _missing(reason: str) -> None:
    if STRICT:
        pytest.fail(f"{reason} (LITERT_SDK_STRICT=1)")
    pytest.skip(reason)


def _load_pyproject(path: Path = PYPROJECT) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    with open(path, "rb") as f:
        return tomllib.load(f)


def _cibuildwheel() -> list[str]:
    if importlib.util.find_spec("cibuildwheel") is not None:
        version = importlib.metadata.version("cibuildwheel")
        if version.split(".")[0] != CIBUILDWHEEL_MAJOR:
            _missing(f"the [tool.cibuildwheel] configuration targets cibuildwheel {CIBUILDWHEEL_MAJOR}.x; "
                     f"{version} is installed (pip install 'cibuildwheel==4.3.5')")
        return [sys.executable, "-m", "cibuildwheel"]
    _missing("cibuildwheel is not installed in this interpreter (pip install 'cibuildwheel==4.3.5', Python >= 3.11)")


def _identifiers(platform_name: str, *archs: str) -> list[str]:
    cmd = [*_cibuildwheel(), "--print-build-identifiers", "--platform", platform_name]
    if archs:
        cmd += ["--archs", ",".join(archs)]
    # CIBW_* variables of the calling environment (CI sets some) would override the file under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
    proc = subprocess.run([*cmd, str(PACKAGE_DIR)], capture_output=True, text=True, env=env, timeout=120)
    if proc.returncode != 0 and "unrecognized arguments" in proc.stderr:
        pytest.skip(f"this cibuildwheel cannot print identifiers for {platform_name}: {proc.stderr.strip()[-200:]}")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.parametrize("platform_name", sorted(EXPECTED))
def test_build_identifiers(platform_name):
    assert _identifiers(platform_name) == EXPECTED[platform_name]


@pytest.mark.parametrize("platform_name", sorted(EXPECTED))
def test_unsupported_architectures_are_skipped(platform_name):
    # --archs all (or a CIBW_ARCHS override) must not add targets without a runtime: musllinux, i686, ppc64le,
    # s390x, armv7l, riscv64, win32, win ARM64, macOS x86_64/universal2.
    assert _identifiers(platform_name, "all") == EXPECTED[platform_name]


@pytest.mark.parametrize("platform_name", sorted(EXPECTED))
def test_build_identifiers_per_architecture(platform_name):
    # What each runner of ci/github/wheels.yml builds (CIBW_ARCHS = one architecture).
    archs = {"linux": ["x86_64", "aarch64"], "macos": ["arm64"], "windows": ["AMD64"]}[platform_name]
    for arch in archs:
        tag = {"AMD64": "win_amd64", "arm64": "macosx_arm64"}.get(arch, f"manylinux_{arch}")
        assert _identifiers(platform_name, arch) == [f"{py}-{tag}" for py in PYTHONS]


def test_abi3_and_free_threading_configuration():
    config = _load_pyproject()["tool"]
    assert config["scikit-build"]["wheel"]["py-api"] == "cp312"
    cibw = config["cibuildwheel"]
    # cibuildwheel 4 rejects the 3.x "cpython-freethreading" group and builds cp314t without any group.
    assert "cpython-freethreading" not in cibw.get("enable", [])
    assert "cp314t-*" in cibw["build"] and not any(b.startswith("cp313t") for b in cibw["build"])
    # Free-threaded builds cannot use the limited API (scikit-build-core ignores py-api there) and have no peer.
    override = next(o for o in cibw["overrides"] if o["select"] == "cp31*t-*")
    assert not any(r.startswith("ai-edge-litert") for r in override["test-requires"])
    assert any(r.startswith("ai-edge-litert") for r in cibw["test-requires"])


@pytest.mark.parametrize("platform_name", sorted(NO_RUNTIME))
def test_platforms_without_runtime_fail_clearly(platform_name):
    message, some_identifiers = NO_RUNTIME[platform_name]
    assert some_identifiers <= set(_identifiers(platform_name, "all"))
    before_all = _load_pyproject()["tool"]["cibuildwheel"][platform_name]["before-all"]
    sh = shutil.which("sh")
    if sh is None:
        pytest.skip("no POSIX shell to run before-all with")
    proc = subprocess.run([sh, "-c", before_all], capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert message in proc.stderr and "runtime/conandata.yml" in proc.stderr


def test_repair_commands_keep_runtime_file_names():
    cibw = _load_pyproject()["tool"]["cibuildwheel"]
    linux = cibw["linux"]["repair-wheel-command"]
    assert "--exclude libLiteRt.so" in linux and "--exclude libLiteRtWebGpuAccelerator.so" in linux
    assert "--exclude libLiteRt" in cibw["macos"]["repair-wheel-command"]
    windows = cibw["windows"]["repair-wheel-command"]
    assert "--ignore-existing" in windows
    assert "--no-mangle libLiteRt.dll" in windows and "--no-mangle libLiteRtWebGpuAccelerator.dll" in windows
    assert cibw["macos"]["environment"]["MACOSX_DEPLOYMENT_TARGET"] == "14.0"
    assert cibw["linux"]["manylinux-x86_64-image"] == cibw["linux"]["manylinux-aarch64-image"] == "manylinux_2_28"
    # No manylinux image can load the aarch64 libLiteRt.so (glibc 2.34, GLIBCXX_3.4.30): tested on the runner.
    assert cibw["linux"]["test-skip"] == "*-manylinux_aarch64"


RUNTIME_FILES = {
    "Linux": ("libLiteRt.so", "libLiteRtWebGpuAccelerator.so"),
    "Darwin": ("libLiteRt.dylib", "libLiteRtMetalAccelerator.dylib"),
    "Windows": ("libLiteRt.dll", "libLiteRtWebGpuAccelerator.dll"),
}


def test_installed_package_contents():
    import litert_sdk

    if platform.system() not in RUNTIME_FILES:
        pytest.skip(f"no runtime bundle for {platform.system()}")
    pkg = Path(litert_sdk.__file__).resolve().parent
    runtime, accelerator = RUNTIME_FILES[platform.system()]
    native = [p.name for p in pkg.iterdir() if p.name.startswith("_native.") and p.suffix in (".so", ".pyd")]
    expected = [runtime, accelerator, "licenses/LICENSE.litert-runtime", "py.typed", "_native.pyi", *native]
    assert native, f"no compiled _native module in {pkg}"
    for rel in expected:
        assert (pkg / rel).is_file(), f"{rel} missing from the installed package ({pkg})"
    assert (pkg / runtime).stat().st_size > 1_000_000
    assert "Apache License" in (pkg / "licenses" / "LICENSE.litert-runtime").read_text(encoding="utf-8")

    # Installed from a wheel (not a source tree on sys.path): the distribution's RECORD lists every file.
    try:
        dist = importlib.metadata.distribution("litert-sdk")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("litert_sdk is imported from a source tree, not an installed distribution")
    if dist.read_text("direct_url.json") and '"editable": true' in dist.read_text("direct_url.json"):
        pytest.skip("editable install: the files are not recorded")
    recorded = {str(f).replace("\\", "/") for f in dist.files or ()}
    missing = [rel for rel in expected if f"litert_sdk/{rel}" not in recorded]
    assert not missing, f"not in the wheel's RECORD: {missing}"
    # PEP 639 licence files, in the .dist-info directory of the installed wheel.
    licenses = {f.split("/")[-1] for f in recorded if ".dist-info/licenses/" in f}
    assert set(LICENSE_FILES) <= licenses, f"licence files in the installed distribution: {sorted(licenses)}"
    assert dist.metadata["License-Expression"] == "Apache-2.0"


def test_import_does_not_load_numpy_or_the_runtime():
    """Resolving the main classes imports neither numpy nor the native runtime (both load with the first model),
    so the import stays cheap; the first model load brings numpy in."""
    code = (
        "import sys, litert_sdk\n"
        "litert_sdk.Interpreter, litert_sdk.CompiledModel, litert_sdk.Options, litert_sdk.errors\n"
        "heavy = sorted(m for m in ('numpy', 'litert_sdk._native', 'flatbuffers', 'litert_sdk._verifier', "
        "'litert_sdk.custom_ops', 'pathlib', 'logging') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out in ("", "pathlib"), out  # pathlib may come with a site-packages .pth file


# ---- licence files and metadata (PyPI-ready) ------------------------------------------------------------------------


def test_license_files_match_the_repository_root():
    # license-files cannot reach outside sdk/python, so the package carries copies of the root files.
    for name in LICENSE_FILES:
        assert (REPO / name).is_file(), f"{name} missing at the repository root"
        assert (PACKAGE_DIR / name).read_bytes() == (REPO / name).read_bytes(), (
            f"sdk/python/{name} differs from the repository root's {name}: copy it again (cp {name} sdk/python/)")
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("Copyright ") and "litert-sdk developers" in license_text.splitlines()[0]
    assert "Version 2.0, January 2004" in license_text and "END OF TERMS AND CONDITIONS" in license_text
    assert "litert-sdk developers" in (REPO / "NOTICE").read_text(encoding="utf-8")


def test_third_party_notices_cover_the_bundled_files():
    notices = (REPO / "THIRD_PARTY_NOTICES.txt").read_text(encoding="utf-8")
    # Every runtime and accelerator library any wheel bundles (runtime/conandata.yml).
    conandata = (REPO / "runtime" / "conandata.yml").read_text(encoding="utf-8")
    libraries = set(re.findall(r"runtime:\s*\"([^\"]+)\"", conandata))
    for accelerators in re.findall(r"accelerators:\s*\[([^\]]*)\]", conandata):
        libraries |= set(re.findall(r"\"([^\"]+)\"", accelerators))
    assert {"libLiteRt.so", "libLiteRtWebGpuAccelerator.so", "libLiteRt.dylib"} <= libraries
    for lib in sorted(libraries):
        assert lib in notices, f"{lib} is bundled but not named in THIRD_PARTY_NOTICES.txt"
    for needle in (
        "nanobind", "Redistribution and use in source and binary forms",   # BSD-3-Clause, full text
        "robin_map", "Permission is hereby granted",                       # MIT (tsl::robin_map, zig compiler_rt)
        "Apache-2.0 WITH LLVM-exception", "---- LLVM Exceptions to the Apache 2.0 License ----",
        "libc++abi", "face_detection_short_range.tflite", "LICENSE.litert-runtime",
    ):
        assert needle in notices, needle


def test_project_metadata():
    project = _load_pyproject()["project"]
    assert project["license"] == "Apache-2.0"  # PEP 639 SPDX expression
    assert project["license-files"] == LICENSE_FILES
    classifiers = project["classifiers"]
    # PEP 639: no licence classifiers next to a licence expression.
    assert not any(c.startswith("License ::") for c in classifiers)
    versions = sorted((c.rsplit(":: ", 1)[1] for c in classifiers
                       if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)),
                      key=lambda v: int(v.split(".")[1]))
    assert versions == ["3.10", "3.11", "3.12", "3.13", "3.14"]
    assert project["requires-python"] == ">=3.10"
    assert any(c.startswith("Programming Language :: Python :: Free Threading ::") for c in classifiers)
    # The wheels built are the versions the classifiers promise (plus the free-threaded 3.14 build).
    built = {b.split("-")[0] for b in _load_pyproject()["tool"]["cibuildwheel"]["build"]}
    assert built == {f"cp3{v.split('.')[1]}" for v in versions} | {"cp314t"}
    try:
        from trove_classifiers import classifiers as known
    except ImportError:
        known = None
    if known is not None:
        assert not [c for c in classifiers if c not in known], "unknown trove classifiers"

    urls = project["urls"]
    assert set(urls) == {"Homepage", "Source", "Issues", "Documentation"}
    assert all(u.startswith("https://") for u in urls.values())
    assert project["readme"] == "README.md"
    readme = (PACKAGE_DIR / "README.md").read_text(encoding="utf-8")
    assert "pip install litert-sdk" in readme and urls["Source"] in readme
    assert "](" not in readme.replace("](https://", ""), "relative links do not work on PyPI"

    # pip install "./sdk/python[flex]" ./flex: the extra names the flex distribution at its own version.
    flex = REPO / "flex" / "pyproject.toml"
    (extra,) = project["optional-dependencies"]["flex"]
    assert extra.startswith("litert-sdk-flex==")
    if flex.is_file():
        flex_project = _load_pyproject(flex)["project"]
        assert extra == f"{flex_project['name']}=={flex_project['version']}"
        assert flex_project["version"] == project["version"]  # released in lockstep


def test_sdist_carries_the_repository_files_the_build_needs():
    # The sdist builds on its own (test_distributions.py builds one): CMakeLists.txt reads runtime/ and custom_ops/
    # from _repo/ there, which sdist.force-include fills from ../../ (scikit-build-core >= 1.0).
    config = _load_pyproject()
    requires = config["build-system"]["requires"]
    assert any(re.fullmatch(r"scikit-build-core>=1\.\d+(\.\d+)?", r) for r in requires), requires
    force = config["tool"]["scikit-build"]["sdist"]["force-include"]
    for source, dest in force.items():
        assert source.startswith("../../") and dest == "_repo/" + source[len("../../"):], (source, dest)
        assert (PACKAGE_DIR / source).exists(), f"sdist.force-include source {source} does not exist"
    cmake = (PACKAGE_DIR / "CMakeLists.txt").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{LITERT_SDK_REPO_ROOT\}/([\w./]+)", cmake))
    dests = [d[len("_repo/"):] for d in force.values()]
    for rel in sorted(used):
        covered = any(rel == d or rel.startswith(d + "/") or d.startswith(rel + "/") for d in dests)
        assert covered, f"CMakeLists.txt uses {rel} from the repository, but the sdist does not carry it"
    # Building an sdist from an unpacked sdist: _repo/ is already there and ../../ is not.
    override = next(o for o in config["tool"]["scikit-build"]["overrides"] if o.get("if", {}).get("from-sdist"))
    assert override["sdist"]["force-include"] == {}


def test_wheels_workflow_pins_cibuildwheel_4():
    workflow = (REPO / "ci" / "github" / "wheels.yml").read_text(encoding="utf-8")
    pins = set(re.findall(r"cibuildwheel(?:==|@v)(\d+\.\d+\.\d+)", workflow))
    assert pins == {"4.3.5"}, pins


def test_build_manylinux_wheel_defaults():
    # ci/build_manylinux_wheel.sh with no argument builds with python3, and its zig wrappers run the zig binary
    # itself: `python -m ziglang` inside pip's isolated build sees no ziglang (pip's sitecustomize hides the venv).
    script = (REPO / "ci" / "build_manylinux_wheel.sh").read_text(encoding="utf-8")
    assert "[ $# -gt 0 ] || set -- python3\n" in script
    assert "-m ziglang" not in script.replace("`python -m ziglang`", "")
    # One unwinder in the process: zig's static libunwind would crash on C++ exceptions leaking out of libLiteRt.
    assert "-DCMAKE_CXX_STANDARD_LIBRARIES=$LIBGCC_S" in script
    bash = shutil.which("bash")
    if bash is not None:
        subprocess.run([bash, "-n", str(REPO / "ci" / "build_manylinux_wheel.sh")], check=True)
