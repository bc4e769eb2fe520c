#!/usr/bin/env python3
"""Generate an import library (``LiteRt.lib``) for a Windows DLL from its export table.

Google's wheel ships ``libLiteRt.dll`` without an import library. This writes a module-definition file from the DLL's
exports (read with ``pefile``; a small built-in PE reader is the fallback) and turns it into an import library with the
first available of: MSVC ``lib.exe``, ``llvm-dlltool``, ``python -m ziglang dlltool`` (zig ships llvm-dlltool) and
``x86_64-w64-mingw32-dlltool``. Works on any build machine (the Windows import library can be made on Linux).

Usage::

    python runtime/implib.py path/to/libLiteRt.dll path/to/LiteRt.lib [--tool lib|llvm|zig|mingw]

The environment variable ``LITERT_SDK_IMPLIB_TOOL`` (same values) forces one tool.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

TOOLS = ("lib", "llvm", "zig", "mingw")
_IMAGE_SCN_MEM_EXECUTE = 0x20000000


class ImportLibError(RuntimeError):
    """No import library could be produced."""


def _exports_with_pefile(dll: Path) -> list[tuple[str, bool]]:
    import pefile

    pe = pefile.PE(str(dll), fast_load=True)
    try:
        pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"]])
        if not hasattr(pe, "DIRECTORY_ENTRY_EXPORT"):
            return []
        out = []
        for sym in pe.DIRECTORY_ENTRY_EXPORT.symbols:
            if not sym.name:
                continue  # ordinal-only export
            section = pe.get_section_by_rva(sym.address) if sym.forwarder is None else None
            is_data = section is not None and not (section.Characteristics & _IMAGE_SCN_MEM_EXECUTE)
            out.append((sym.name.decode("ascii"), is_data))
        return out
    finally:
        pe.close()


def _exports_builtin(dll: Path) -> list[tuple[str, bool]]:
    """Minimal PE32+ export-table reader (names and whether each export lives in a non-executable section)."""
    data = dll.read_bytes()
    if data[:2] != b"MZ":
        raise ImportLibError(f"{dll} is not a PE file")
    pe_off = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe_off : pe_off + 4] != b"PE\0\0":
        raise ImportLibError(f"{dll} has no PE signature")
    (n_sections,) = struct.unpack_from("<H", data, pe_off + 6)
    (opt_size,) = struct.unpack_from("<H", data, pe_off + 20)
    opt = pe_off + 24
    (magic,) = struct.unpack_from("<H", data, opt)
    if magic != 0x20B:
        raise ImportLibError(f"{dll} is not a 64-bit (PE32+) image")
    export_rva, export_size = struct.unpack_from("<II", data, opt + 112)
    sections = []
    for i in range(n_sections):
        s = opt + opt_size + 40 * i
        vsize, va, rawsize, rawptr = struct.unpack_from("<IIII", data, s + 8)
        (chars,) = struct.unpack_from("<I", data, s + 36)
        sections.append((va, max(vsize, rawsize), rawptr, chars))

    def section_of(rva):
        for va, size, rawptr, chars in sections:
            if va <= rva < va + size:
                return va, rawptr, chars
        return None

    def off(rva):
        sec = section_of(rva)
        if sec is None:
            raise ImportLibError(f"RVA {rva:#x} outside every section of {dll}")
        return rva - sec[0] + sec[1]

    if export_rva == 0:
        return []
    ed = off(export_rva)
    _n_funcs, n_names, funcs_rva, names_rva, ords_rva = struct.unpack_from("<IIIII", data, ed + 20)
    out = []
    for i in range(n_names):
        (name_rva,) = struct.unpack_from("<I", data, off(names_rva) + 4 * i)
        o = off(name_rva)
        name = data[o : data.index(b"\0", o)].decode("ascii")
        (ordinal,) = struct.unpack_from("<H", data, off(ords_rva) + 2 * i)
        (func_rva,) = struct.unpack_from("<I", data, off(funcs_rva) + 4 * ordinal)
        forwarded = export_rva <= func_rva < export_rva + export_size
        sec = None if forwarded else section_of(func_rva)
        out.append((name, sec is not None and not (sec[2] & _IMAGE_SCN_MEM_EXECUTE)))
    return out


def dll_exports(dll: Path) -> list[tuple[str, bool]]:
    """``[(name, is_data), ...]`` for every named export of ``dll``."""
    if importlib.util.find_spec("pefile") is not None:
        return _exports_with_pefile(Path(dll))
    return _exports_builtin(Path(dll))


def write_def(dll: Path, def_path: Path) -> int:
    """Write a module-definition file for ``dll``; returns the number of exports."""
    exports = dll_exports(dll)
    if not exports:
        raise ImportLibError(f"{dll} exports no named symbols")
    lines = [f"LIBRARY {Path(dll).name}", "EXPORTS"]
    lines += [f"    {name} DATA" if is_data else f"    {name}" for name, is_data in sorted(exports)]
    Path(def_path).write_text("\n".join(lines) + "\n", encoding="ascii")
    return len(exports)


def _candidates(def_path: Path, out_lib: Path, dll_name: str) -> list[tuple[str, list[str]]]:
    """(tool key, command) for every import-library tool found, in order of preference."""
    found = []
    lib_exe = shutil.which("lib.exe") or (shutil.which("lib") if sys.platform == "win32" else None)
    if lib_exe:
        found.append(
            ("lib", [lib_exe, "/nologo", f"/def:{def_path}", f"/out:{out_lib}", "/machine:x64", f"/name:{dll_name}"])
        )
    dlltool_args = ["-m", "i386:x86-64", "-d", str(def_path), "-l", str(out_lib), "-D", dll_name]
    llvm = shutil.which("llvm-dlltool")
    if llvm:
        found.append(("llvm", [llvm, *dlltool_args]))
    if importlib.util.find_spec("ziglang") is not None:
        found.append(("zig", [sys.executable, "-m", "ziglang", "dlltool", *dlltool_args]))
    mingw = shutil.which("x86_64-w64-mingw32-dlltool")
    if mingw:
        found.append(("mingw", [mingw, *dlltool_args]))
    return found


def make_import_lib(dll: Path, out_lib: Path, tool: str | None = None) -> str:
    """Create ``out_lib`` for ``dll`` (a .def is written next to it); returns the key of the tool used."""
    dll, out_lib = Path(dll), Path(out_lib)
    out_lib.parent.mkdir(parents=True, exist_ok=True)
    def_path = out_lib.with_suffix(".def")
    write_def(dll, def_path)
    tool = tool or os.environ.get("LITERT_SDK_IMPLIB_TOOL") or None
    if tool and tool not in TOOLS:
        raise ImportLibError(f"unknown import-library tool {tool!r}; choose one of {', '.join(TOOLS)}")
    candidates = [c for c in _candidates(def_path, out_lib, dll.name) if tool is None or c[0] == tool]
    if not candidates:
        wanted = tool or "any of lib.exe, llvm-dlltool, the ziglang Python package, x86_64-w64-mingw32-dlltool"
        raise ImportLibError(f"no import-library tool found ({wanted}); `pip install ziglang` is the simplest fix")
    errors = []
    for key, cmd in candidates:
        if out_lib.exists():
            out_lib.unlink()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode == 0 and out_lib.exists() and out_lib.stat().st_size > 0:
            return key
        errors.append(f"{' '.join(cmd)}: rc={proc.returncode}\n{proc.stdout[-1000:]}{proc.stderr[-1000:]}")
    raise ImportLibError("every import-library tool failed:\n" + "\n".join(errors))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dll", type=Path)
    ap.add_argument("out_lib", type=Path)
    ap.add_argument("--tool", choices=TOOLS, default=None)
    args = ap.parse_args(argv)
    try:
        key = make_import_lib(args.dll, args.out_lib, args.tool)
    except ImportLibError as e:
        print(f"implib: {e}", file=sys.stderr)
        return 1
    print(f"implib: {args.out_lib} ({key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
