"""runtime/cmake/LiteRtRuntime.cmake: LiteRt::LiteRt without Conan, for the host, in a tiny CMake project."""

from __future__ import annotations

import shutil
import sys

import pytest
from runtime_testlib import FACE_DETECTOR, REPO, host_profile, run

PROJECT = """
cmake_minimum_required(VERSION 3.18)
project(litert_cmake_probe LANGUAGES CXX)
include("{repo}/runtime/cmake/LiteRtRuntime.cmake")
litert_runtime_import()
add_executable(test_package "{repo}/runtime/test_package/test_package.cpp")
target_link_libraries(test_package PRIVATE LiteRt::LiteRt)
target_compile_features(test_package PRIVATE cxx_std_17)
foreach(var LITERT_RUNTIME_TARGET LITERT_RUNTIME_LIBRARIES LITERT_RUNTIME_LICENSE)
  message(STATUS "PROBE ${{var}}=${{${{var}}}}")
endforeach()
"""


@pytest.mark.skipif(host_profile() is None, reason="no LiteRT runtime for this build machine")
def test_cmake_module_imports_runtime(tmp_path, test_env):
    if shutil.which("cmake") is None:
        pytest.skip("cmake not installed")
    (tmp_path / "CMakeLists.txt").write_text(PROJECT.format(repo=REPO.as_posix()))
    build = tmp_path / "build"
    cfg = run(
        ["cmake", "-S", tmp_path, "-B", build, f"-DPython3_EXECUTABLE={sys.executable}", "-DCMAKE_BUILD_TYPE=Release"],
        env=test_env,
    )
    assert cfg.returncode == 0, cfg.stdout[-3000:] + cfg.stderr[-3000:]
    probe = dict(line.split("PROBE ", 1)[1].split("=", 1) for line in cfg.stdout.splitlines() if "PROBE " in line)
    libs = probe["LITERT_RUNTIME_LIBRARIES"].split(";")
    assert len(libs) == 2 and all(lib.startswith(str(build / "litert-runtime")) for lib in libs)
    assert probe["LITERT_RUNTIME_LICENSE"].endswith("LICENSE.litert")
    # A second configure reuses the extracted runtime (stamp) instead of fetching again.
    again = run(["cmake", "-S", tmp_path, "-B", build], env=test_env)
    assert again.returncode == 0 and "fetching" not in again.stdout
    bld = run(["cmake", "--build", build, "--config", "Release"], env=test_env)
    assert bld.returncode == 0, bld.stdout[-3000:] + bld.stderr[-3000:]
    exe = next(p for p in build.rglob("test_package*") if p.is_file() and p.suffix in ("", ".exe"))
    res = run([exe, FACE_DETECTOR], env=test_env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "test_package: OK" in res.stdout
