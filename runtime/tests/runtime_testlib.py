"""Paths and helpers shared by the runtime bundle tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "runtime"
CACHE = REPO / ".cache"
PROFILES = REPO / "ci" / "profiles"
FACE_DETECTOR = REPO / "sdk" / "python" / "src" / "litert_sdk" / "data" / "face_detection_short_range.tflite"

if str(RUNTIME) not in sys.path:
    sys.path.insert(0, str(RUNTIME))  # fetch_runtime, implib


def host_profile() -> str | None:
    """The ci/profiles host profile that runs natively on this machine (None: no runtime for this host)."""
    system, machine = platform.system(), platform.machine().lower()
    return {
        ("Linux", "x86_64"): "linux-x86_64",
        ("Linux", "amd64"): "linux-x86_64",
        ("Linux", "aarch64"): "linux-armv8",
        ("Darwin", "arm64"): "macos-armv8",
        ("Windows", "amd64"): "windows-x86_64",
    }.get((system, machine))


def is_linux_x86_64() -> bool:
    return host_profile() == "linux-x86_64"


def find_conan() -> str | None:
    """conan next to this interpreter (a venv), else on PATH."""
    name = "conan.exe" if os.name == "nt" else "conan"
    for folder in (Path(sys.executable).parent, Path(sys.executable).resolve().parent):
        if (folder / name).is_file():
            return str(folder / name)
    return shutil.which("conan")


def run(cmd, env=None, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
