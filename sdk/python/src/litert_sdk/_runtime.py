"""Loading of the native core and the process-wide default environment."""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from . import _native as native_module

__all__ = ["native", "package_dir", "default_environment", "Environment", "runtime_version", "list_accelerators"]

_PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))
_native_mod: Any = None
_lock = threading.RLock()


def package_dir() -> Path:
    """The installed litert_sdk package directory (holds the runtime libraries)."""
    from pathlib import Path  # (pathlib costs a few ms of import time; only needed here)

    return Path(_PACKAGE_DIR)


def native() -> native_module:  # type: ignore[valid-type]
    """Import (once) and return the native extension module."""
    global _native_mod
    if _native_mod is None:
        with _lock:
            if _native_mod is None:
                if sys.platform == "win32":  # libLiteRt.dll sits next to the extension
                    os.add_dll_directory(str(_PACKAGE_DIR))
                from . import _native as mod

                _install_hooks(mod)
                _native_mod = mod
    return _native_mod


def _install_hooks(mod: Any) -> None:
    """Hands the native core the Python callables it reports through (it imports no litert_sdk module itself);
    those that need more than ``errors`` import it on first use."""
    from .errors import _from_native

    def runtime_output(text: str) -> None:
        from ._logging import forward_runtime_output

        forward_runtime_output(text)

    def strings_unpack(data: bytes, dims: list[int]) -> Any:
        from ._strings import unpack

        return unpack(data, dims)

    def is_packed_strings(value: Any) -> bool:
        from ._strings import PackedStrings

        return isinstance(value, PackedStrings)

    mod._install_hooks(_from_native, runtime_output, strings_unpack, is_packed_strings)
    import atexit

    atexit.register(mod._clear_hooks)


def runtime_version() -> str:
    """Version of the official LiteRT runtime bundled with this package (e.g. ``"2.3.0"``)."""
    return str(native().abi_info()["runtime_version"])


class Environment:
    """A LiteRT environment: accelerator registry and process-level runtime options.

    Most programs never create one: models use :func:`default_environment`. Create your own to point the runtime at
    another accelerator library directory, change the runtime's log level or set a compiler cache directory.

    Args:
        runtime_library_dir: where accelerator libraries (WebGPU/Metal) are looked up. Defaults to this package's
            directory, where the bundled ones are installed.
        log_severity: the runtime logger's minimum severity: "debug", "verbose", "info", "warning", "error" or
            "silent" (default).
        compiler_cache_dir: directory for NPU/GPU compilation caches.
    """

    _SEVERITIES = {"debug": -1, "verbose": 0, "info": 1, "warning": 2, "error": 3, "silent": 4}

    def __init__(
        self,
        runtime_library_dir: str | os.PathLike[str] | None = None,
        log_severity: str = "silent",
        compiler_cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        from .errors import InvalidArgumentError

        if log_severity not in self._SEVERITIES:
            raise InvalidArgumentError(
                f"log_severity must be one of {sorted(self._SEVERITIES)}, got {log_severity!r}"
            )
        lib_dir = os.fspath(runtime_library_dir) if runtime_library_dir is not None else str(_PACKAGE_DIR)
        cache = os.fspath(compiler_cache_dir) if compiler_cache_dir is not None else None
        self.runtime_library_dir = lib_dir
        self.log_severity = log_severity
        self.compiler_cache_dir = cache
        self._native = native().Environment(lib_dir, self._SEVERITIES[log_severity], cache)

    def accelerators(self) -> list[tuple[str, int]]:
        """(name, hardware mask) of each accelerator the runtime registered (CPU=1, GPU=2, NPU=4)."""
        return [(str(n), int(hw)) for n, hw in self._native.accelerators()]

    def __repr__(self) -> str:
        return f"Environment(runtime_library_dir={self.runtime_library_dir!r}, log_severity={self.log_severity!r})"


_default_env: Environment | None = None
_default_env_pid = 0


def default_environment() -> Environment:
    """The shared environment used when none is given (created on first use, and again in a fork child: the
    parent's cannot be used there)."""
    global _default_env, _default_env_pid
    if _default_env is None or _default_env_pid != os.getpid():
        with _lock:
            if _default_env is None or _default_env_pid != os.getpid():
                _default_env = Environment()
                _default_env_pid = os.getpid()
    return _default_env


def list_accelerators(environment: Environment | None = None) -> list[tuple[str, int]]:
    """(name, hardware mask) of the accelerators the runtime registered, e.g. ``[("GPU WebGPU", 2),
    ("CpuAccelerator", 1)]``. A listed GPU accelerator can still fail to compile a model (no adapter)."""
    return (environment or default_environment()).accelerators()
