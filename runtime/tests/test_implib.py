"""runtime/implib.py: .def from libLiteRt.dll's exports and an import library from it."""

from __future__ import annotations

import pytest
from runtime_testlib import CACHE


@pytest.fixture(scope="module")
def dll(tmp_path_factory):
    import fetch_runtime

    files = fetch_runtime.fetch("windows-x86_64", tmp_path_factory.mktemp("win"), CACHE / "runtime-wheels")
    return files["libLiteRt.dll"]


def test_export_readers_agree(dll):
    import implib

    builtin = implib._exports_builtin(dll)
    names = {name for name, _ in builtin}
    assert "LiteRtCreateCompiledModel" in names and "LiteRtRunCompiledModel" in names
    assert ("kLiteRtRuntimeBuiltin", True) in builtin  # a data export
    pytest.importorskip("pefile")
    assert implib._exports_with_pefile(dll) == builtin


def test_def_file(dll, tmp_path):
    import implib

    n = implib.write_def(dll, tmp_path / "LiteRt.def")
    text = (tmp_path / "LiteRt.def").read_text().splitlines()
    assert text[:2] == ["LIBRARY libLiteRt.dll", "EXPORTS"]
    assert len(text) == n + 2
    assert "    kLiteRtRuntimeBuiltin DATA" in text


@pytest.mark.parametrize("tool", ["llvm", "zig", "mingw"])
def test_import_library(dll, tmp_path, tool):
    import implib

    if not [c for c in implib._candidates(tmp_path / "x.def", tmp_path / "x.lib", "x.dll") if c[0] == tool]:
        pytest.skip(f"import-library tool {tool!r} not available")
    out = tmp_path / "LiteRt.lib"
    assert implib.make_import_lib(dll, out, tool) == tool
    data = out.read_bytes()
    assert data.startswith(b"!<arch>\n") and b"libLiteRt.dll" in data and b"LiteRtCreateEnvironment" in data
