"""Shared fixtures for the runtime bundle tests (recipe, ABI header, cross smokes).

Conan runs with its own CONAN_HOME under <repo>/.cache/conan2-tests (no remote configured) and the runtime wheels are
cached in <repo>/.cache/runtime-wheels (LITERT_SDK_CACHE=<repo>/.cache).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # runtime_testlib, whatever pytest's import mode

from runtime_testlib import CACHE, find_conan, run


@pytest.fixture(scope="session")
def test_env() -> dict:
    env = dict(os.environ)
    env["LITERT_SDK_CACHE"] = str(CACHE)
    return env


@pytest.fixture(scope="session")
def conan(test_env):
    """(conan executable, environment) with an isolated CONAN_HOME, a detected default profile and no remotes."""
    exe = find_conan()
    if exe is None:
        pytest.skip("conan is not installed (pip install 'conan>=2')")
    env = dict(test_env)
    env["CONAN_HOME"] = str(CACHE / "conan2-tests")
    env.pop("CONAN_DEFAULT_PROFILE", None)
    version = run([exe, "--version"], env=env)
    if version.returncode != 0 or "version 2." not in version.stdout:
        pytest.skip(f"conan 2 is required, found: {version.stdout.strip() or version.stderr.strip()}")
    if not (Path(env["CONAN_HOME"]) / "profiles" / "default").is_file():
        detect = run([exe, "profile", "detect", "--force"], env=env)
        assert detect.returncode == 0, detect.stderr
    removed = run([exe, "remote", "remove", "*"], env=env)
    assert removed.returncode == 0, removed.stderr
    return exe, env


@pytest.fixture(scope="session")
def pins() -> dict:
    import fetch_runtime

    return fetch_runtime.load_pins()
