#!/usr/bin/env python3
"""Obtain the pinned official LiteRT runtime (libLiteRt + accelerators + licence) for one target.

The one place that knows how the runtime is fetched: the Conan recipe, the SDK's CMake build and the CI scripts
all call it. It downloads Google's ``ai-edge-litert`` wheel for the target with
``pip download --no-deps --only-binary :all: --platform TAG`` (so pip's own index configuration applies), checks the
sha256 pinned in ``conandata.yml`` and extracts the runtime files.

Usage::

    python runtime/fetch_runtime.py --target linux-x86_64 --dest DIR [--cache DIR]
    python runtime/fetch_runtime.py --list
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSION = "2.3.0"


class RuntimeFetchError(RuntimeError):
    """The runtime could not be obtained or did not match its pin."""


def load_pins(conandata: Path | None = None) -> dict:
    """Return the ``sources[VERSION]`` entry of conandata.yml."""
    import yaml  # PyYAML: a Conan dependency and a build requirement of the SDK

    path = conandata or HERE / "conandata.yml"
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)["sources"][VERSION]


def host_target() -> str:
    """The target name (conandata key) of the machine this runs on."""
    system = platform.system()
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if system == "Linux":
        return f"linux-{arch}"
    if system == "Darwin":
        return "macos-arm64" if arch == "aarch64" else f"macos-{arch}"
    if system == "Windows":
        return f"windows-{arch}"
    return f"{system.lower()}-{arch}"


def default_cache() -> Path:
    env = os.environ.get("LITERT_SDK_CACHE")
    if env:
        return Path(env) / "runtime-wheels"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litert-sdk" / "runtime-wheels"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def target_pin(target: str, pins: dict | None = None) -> dict:
    pins = pins or load_pins()
    if target in pins.get("unavailable", {}):
        raise RuntimeFetchError(f"no prebuilt LiteRT {VERSION} runtime for {target}: missing artifact is "
                                f"{pins['unavailable'][target]}")
    if target not in pins["targets"]:
        known = ", ".join(sorted(pins["targets"]))
        raise RuntimeFetchError(f"unknown target {target!r}; known targets: {known}")
    return pins["targets"][target]


def _pip_command() -> list[str]:
    """pip as a module of this interpreter, else the first pip on PATH."""
    try:
        import pip  # noqa: F401

        return [sys.executable, "-m", "pip"]
    except ImportError:
        for name in ("pip3", "pip"):
            exe = shutil.which(name)
            if exe:
                return [exe]
    raise RuntimeFetchError("pip is needed to download the LiteRT runtime wheel and was not found")


def fetch_wheel(target: str, cache: Path | None = None, pins: dict | None = None) -> Path:
    """Download (or reuse from the cache) the pinned wheel for ``target`` and verify its sha256."""
    pins = pins or load_pins()
    pin = target_pin(target, pins)
    cache = Path(cache or default_cache())
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / pin["wheel"]
    if not wheel.exists():
        cmd = _pip_command() + [
            "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check", "--quiet",
            "--python-version", str(pins["python_version"]), "--platform", pin["platform"],
            "-d", str(cache), f"{pins['distribution']}=={VERSION}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not wheel.exists():
            raise RuntimeFetchError(f"pip download failed for {target} ({pin['wheel']}):\n{proc.stderr[-2000:]}")
    digest = sha256_of(wheel)
    if digest != pin["sha256"]:
        wheel.unlink()
        raise RuntimeFetchError(f"sha256 mismatch for {pin['wheel']}: got {digest}, pinned {pin['sha256']}")
    return wheel


def runtime_files(target: str, pins: dict | None = None) -> list[str]:
    pin = target_pin(target, pins)
    return [pin["runtime"], *pin.get("accelerators", [])]


def extract(target: str, wheel: Path, dest: Path, pins: dict | None = None) -> dict[str, Path]:
    """Extract the runtime library, accelerator libraries and licence into ``dest/lib`` and ``dest/licenses``."""
    pins = pins or load_pins()
    dest = Path(dest)
    (dest / "lib").mkdir(parents=True, exist_ok=True)
    (dest / "licenses").mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for fname in runtime_files(target, pins):
            member = f"ai_edge_litert/{fname}"
            if member not in names:
                raise RuntimeFetchError(f"{member} not found in {wheel.name}")
            target_path = dest / "lib" / fname
            with zf.open(member) as src, open(target_path, "wb") as dst:
                shutil.copyfileobj(src, dst)
            target_path.chmod(0o755)
            out[fname] = target_path
        lic = dest / "licenses" / "LICENSE.litert"
        with zf.open(pins["licence"]) as src, open(lic, "wb") as dst:
            shutil.copyfileobj(src, dst)
        out["LICENSE"] = lic
    return out


def fetch(target: str, dest: Path, cache: Path | None = None) -> dict[str, Path]:
    pins = load_pins()
    wheel = fetch_wheel(target, cache, pins)
    return extract(target, wheel, dest, pins)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default=None, help="target name (default: this machine)")
    ap.add_argument("--dest", type=Path, help="directory to extract lib/ and licenses/ into")
    ap.add_argument("--cache", type=Path, default=None, help="wheel cache directory")
    ap.add_argument("--list", action="store_true", help="list known targets")
    args = ap.parse_args(argv)
    if args.list:
        pins = load_pins()
        for name, pin in pins["targets"].items():
            print(f"{name}\t{pin['platform']}\t{pin['runtime']}")
        for name, why in pins.get("unavailable", {}).items():
            print(f"{name}\tunavailable\t{why}")
        return 0
    if args.dest is None:
        ap.error("--dest is required")
    target = args.target or host_target()
    try:
        files = fetch(target, args.dest, args.cache)
    except RuntimeFetchError as e:
        print(f"fetch_runtime: {e}", file=sys.stderr)
        return 1
    for name, path in files.items():
        print(f"{name}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
