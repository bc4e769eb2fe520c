"""litert-runtime/2.3.0 Conan recipe: native create with test_package, cross packages, rejected targets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from runtime_testlib import PROFILES, RUNTIME, host_profile, run

REF = "litert-runtime/2.3.0"


def create(conan, profile, *extra):
    exe, env = conan
    return run([exe, "create", RUNTIME, "-pr:h", PROFILES / profile, "-pr:b", "default", *extra], env=env)


def package_folder(conan, create_json: str) -> tuple[str, Path]:
    """Package id from `conan create --format=json` and its folder from `conan cache path`."""
    exe, env = conan
    graph = json.loads(create_json)["graph"]
    node = next(n for n in graph["nodes"].values() if str(n.get("ref", "")).startswith(REF))
    path = run([exe, "cache", "path", f"{REF}:{node['package_id']}"], env=env)
    assert path.returncode == 0, path.stderr
    return node["package_id"], Path(path.stdout.strip())


@pytest.mark.skipif(host_profile() is None, reason="no LiteRT runtime for this build machine")
def test_create_native_with_test_package(conan):
    if shutil.which("cmake") is None:
        pytest.skip("cmake not installed (test_package is a CMake project)")
    res = create(conan, host_profile())
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert "test_package: OK" in out
    assert "regressors" in out and "[1,896,16]" in out
    assert "classificators" in out and "[1,896,1]" in out


CROSS_PACKAGES = {
    "macos-armv8": {
        "lib": ["libLiteRt.dylib", "libLiteRtMetalAccelerator.dylib"],
        "bin": [],
    },
    "windows-x86_64": {
        "lib": ["libLiteRt.dll", "LiteRt.lib", "libLiteRtWebGpuAccelerator.dll"],
        "bin": ["libLiteRt.dll", "libLiteRtWebGpuAccelerator.dll"],
    },
    "linux-armv8": {
        "lib": ["libLiteRt.so", "libLiteRtWebGpuAccelerator.so"],
        "bin": [],
    },
}


@pytest.mark.parametrize("profile", sorted(CROSS_PACKAGES))
def test_create_cross_package_contents(conan, profile):
    if profile == "windows-x86_64":
        import implib

        if not implib._candidates("x.def", "x.lib", "x.dll"):
            pytest.skip("no import-library tool (lib.exe, llvm-dlltool, ziglang, x86_64-w64-mingw32-dlltool)")
    res = create(conan, profile, "-tf", "", "--format=json")
    assert res.returncode == 0, res.stderr[-4000:]
    _, folder = package_folder(conan, res.stdout)
    expected = CROSS_PACKAGES[profile]
    for sub in ("lib", "bin"):
        present = sorted(p.name for p in (folder / sub).iterdir()) if (folder / sub).is_dir() else []
        assert present == sorted(expected[sub]), f"{sub}/ of {folder}"
    assert (folder / "licenses" / "LICENSE.litert").stat().st_size > 1000
    assert (folder / "include" / "litert_sdk" / "litert_c_abi.h").is_file()
    variables = (folder / "cmake" / "litert-runtime-variables.cmake").read_text()
    assert "LITERT_RUNTIME_LIBRARIES" in variables and "LITERT_RUNTIME_LICENSE" in variables
    if profile == "windows-x86_64":
        implib_bytes = (folder / "lib" / "LiteRt.lib").read_bytes()
        assert implib_bytes.startswith(b"!<arch>\n")
        assert b"libLiteRt.dll" in implib_bytes and b"LiteRtCreateCompiledModel" in implib_bytes
        assert b"__imp_LiteRtCreateEnvironment" in implib_bytes


@pytest.mark.parametrize("profile,target", [("android-armv8", "android-arm64"), ("ios-armv8", "ios-arm64")])
def test_unavailable_targets_fail_in_validate(conan, pins, profile, target):
    res = create(conan, profile, "-tf", "")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "Invalid" in out and "missing artifact" in out
    assert pins["unavailable"][target] in out
