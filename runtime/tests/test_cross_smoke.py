"""Cross smokes: the test_package program built for linux-aarch64 (qemu) and windows-x86_64 (wine).

Each runs only when its tools are installed (the scripts would otherwise install them); LITERT_SMOKE_NO_INSTALL=1
keeps the scripts from touching the system.
"""

from __future__ import annotations

import os
import shutil

import pytest
from runtime_testlib import REPO, is_linux_x86_64, run


def _have_yaml_python() -> bool:
    return any(shutil.which(p) and run([p, "-c", "import yaml"]).returncode == 0 for p in ("python3", "python"))


AARCH64_TOOLS = ["aarch64-linux-gnu-g++", "qemu-aarch64"]
WINDOWS_TOOLS = ["x86_64-w64-mingw32-g++"]


def _missing(tools):
    return [t for t in tools if shutil.which(t) is None]


def _wine():
    return shutil.which("wine64") or (os.path.exists("/usr/lib/wine/wine64") and "/usr/lib/wine/wine64")


def _smoke(script, test_env):
    env = dict(test_env, LITERT_SMOKE_NO_INSTALL="1")
    res = run(["bash", REPO / "ci" / script], env=env)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert "test_package: OK" in out
    assert "[1,896,16]" in out and "[1,896,1]" in out
    return out


@pytest.mark.skipif(not is_linux_x86_64(), reason="cross smokes run on x86_64 Linux")
@pytest.mark.skipif(
    bool(_missing(AARCH64_TOOLS)) or not _have_yaml_python(),
    reason=f"needs {' + '.join(AARCH64_TOOLS)} and python3 with PyYAML "
    "(apt-get install g++-aarch64-linux-gnu qemu-user python3-yaml)",
)
def test_cross_smoke_aarch64_qemu(test_env):
    _smoke("cross_smoke_aarch64.sh", test_env)


@pytest.mark.skipif(not is_linux_x86_64(), reason="cross smokes run on x86_64 Linux")
@pytest.mark.skipif(
    bool(_missing(WINDOWS_TOOLS)) or not _wine() or not _have_yaml_python(),
    reason="needs x86_64-w64-mingw32-g++, wine64 and python3 with PyYAML "
    "(apt-get install g++-mingw-w64-x86-64 wine64 python3-yaml)",
)
def test_cross_smoke_windows_wine(test_env):
    _smoke("cross_smoke_windows.sh", test_env)
