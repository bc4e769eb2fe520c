"""The committed type stubs of the native module are what nanobind's stubgen produces for the built extension."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

STUB = Path(__file__).resolve().parents[1] / "src" / "litert_sdk" / "_native.pyi"


def test_native_stub_is_current(tmp_path):
    pytest.importorskip("nanobind.stubgen")
    out = tmp_path / "_native.pyi"
    proc = subprocess.run([sys.executable, "-m", "nanobind.stubgen", "-q", "-m", "litert_sdk._native", "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == STUB.read_text(), (
        "sdk/python/src/litert_sdk/_native.pyi is stale: regenerate with "
        "`python -m nanobind.stubgen -m litert_sdk._native -o sdk/python/src/litert_sdk/_native.pyi`"
    )


def test_package_is_typed():
    import litert_sdk

    assert (Path(litert_sdk.__file__).parent / "py.typed").is_file()
    assert (Path(litert_sdk.__file__).parent / "_native.pyi").is_file()
