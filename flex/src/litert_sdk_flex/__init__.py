"""Select TensorFlow ops (Flex) for litert-sdk.

A model converted with ``supported_ops = [TFLITE_BUILTINS, SELECT_TF_OPS]`` contains ``Flex*`` custom ops (e.g.
``FlexCumprod``). With this package installed (from a litert-sdk checkout: ``pip install ./sdk/python ./flex``;
``pip install "litert-sdk[flex]"`` once litert-sdk is published on PyPI), litert-sdk runs them: when it
compiles a model with Flex custom codes it asks :func:`kernels_for` for kernels, and each node is executed by
TensorFlow's eager runtime (from the installed ``tensorflow-cpu``) through a native custom-op kernel. Nothing needs
to be configured::

    cm = litert_sdk.CompiledModel.from_file("flex_model.tflite")    # Flex kernels registered automatically

``litert_sdk.FlexDelegate.create()`` (tflite_flutter's name) calls :func:`apply_to_options`, which loads the
TensorFlow bridge eagerly so that a broken TensorFlow installation is reported when the delegate is added.

What works: any TensorFlow op of the installed TensorFlow build with numeric, bool and string inputs, numeric and
bool outputs, several outputs, per-node attributes. Output shapes come from TensorFlow's shape inference, or from the
model where TensorFlow needs input values to know them; an op whose output shape really depends on the input values
(and differs from the model's static shape) fails with a clear error, as do string outputs and resource/variant
tensors (the runtime's custom-op API cannot express them).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litert_sdk.custom_ops import CustomOp, CustomOpLibrary, load_custom_op_library
from litert_sdk.errors import UnsupportedError

if TYPE_CHECKING:
    from litert_sdk.model import Model
    from litert_sdk.options import Options

__all__ = ["FLEX_PREFIX", "apply_to_options", "is_flex_op", "kernels_for", "library_path", "load",
           "tensorflow_version", "__version__"]

__version__ = "0.1.0"
FLEX_PREFIX = "Flex"

_LIBRARY = {"darwin": "liblitert_sdk_flex.dylib"}.get(sys.platform, "liblitert_sdk_flex.so")
_TF_LIBRARIES = {
    "darwin": ("libtensorflow_framework.2.dylib", "libtensorflow_cc.2.dylib"),
}.get(sys.platform, ("libtensorflow_framework.so.2", "libtensorflow_cc.so.2"))

_BUILT_TENSORFLOW: str | None
try:  # written by the build (CMakeLists.txt): the TensorFlow version the kernel library was compiled against
    from ._build_info import TENSORFLOW_VERSION as _BUILT_TENSORFLOW  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - a source tree, not an installation
    _BUILT_TENSORFLOW = None

# What to run when TensorFlow is missing (a litert-sdk-flex installation pulls it in as a dependency).
_TENSORFLOW_HINT = (f'pip install "tensorflow-cpu=={_BUILT_TENSORFLOW}" (the version litert-sdk-flex was built with)'
                    if _BUILT_TENSORFLOW else 'pip install "tensorflow-cpu>=2.16,<2.22"')

_lock = threading.Lock()
_library: CustomOpLibrary | None = None
_tf_handles: list[ctypes.CDLL] = []


def is_flex_op(custom_code: str) -> bool:
    """True for the custom code of a Select TF op (``Flex<TfOpName>``, also after the SDK's ``#n`` renaming)."""
    return custom_code.startswith(FLEX_PREFIX) and len(custom_code) > len(FLEX_PREFIX)


def library_path() -> Path:
    """The native Flex kernel library installed inside this package."""
    return Path(__file__).resolve().parent / _LIBRARY


def _tensorflow_dir() -> Path:
    # find_spec does not import tensorflow (which takes seconds): only its libraries are needed
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        raise UnsupportedError(f"Flex ops need TensorFlow (tensorflow-cpu), which is not installed: "
                               f"{_TENSORFLOW_HINT}")
    return Path(list(spec.submodule_search_locations)[0])


# TensorFlow's C++ log lines: absl's "I0000 00:00:1700000000.123456   1234 port.cc:153] ..." and TensorFlow's own
# "2025-01-01 12:00:00.123456: I tensorflow/core/.../cpu_feature_guard.cc:210] ...".
_TF_LOG_LINE = re.compile(rb"^(?:([IWEF])\d{4} \d\d:\d\d:[\d.]+ +\d+ |\d{4}-\d\d-\d\d \d\d:\d\d:[\d.]+: ([IWEF]) )"
                          rb"[^\s\]]+:\d+\] ")
_ABSL_PREFACE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
DEFAULT_TF_LOG_LEVEL = "2"


def _tf_min_log_level() -> int:
    """TF_CPP_MIN_LOG_LEVEL as TensorFlow reads it (0: everything, 1: no INFO, 2: no WARNING, 3: no ERROR)."""
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def _filter_tf_log(data: bytes, min_level: int) -> bytes:
    """``data`` without TensorFlow log lines below ``min_level`` (and absl's preface line when min_level > 0)."""
    if min_level <= 0:
        return data
    kept = []
    for line in data.splitlines(keepends=True):
        m = _TF_LOG_LINE.match(line)
        if m and _SEVERITY[m.group(1) or m.group(2)] < min_level:
            continue
        if line.rstrip(b"\r\n") == _ABSL_PREFACE:
            continue
        kept.append(line)
    return b"".join(kept)


@contextlib.contextmanager
def _tf_log_filter() -> Iterator[None]:
    """Apply TF_CPP_MIN_LOG_LEVEL to what TensorFlow prints while its libraries load.

    TensorFlow honours TF_CPP_MIN_LOG_LEVEL for what it logs once loaded, but libtensorflow_framework's static
    initialisers log through absl before that (e.g. "oneDNN custom operations are on", with absl's "WARNING: All log
    messages before absl::InitializeLog() ..." preface). So while the libraries load, file descriptor 2 goes to a
    temporary file; afterwards everything written there is passed on to the real stderr except TensorFlow log lines
    below the level. (Other threads' stderr output in that window arrives late, not lost.)"""
    min_level = _tf_min_log_level()
    if min_level <= 0:
        yield
        return
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (AttributeError, OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            rest = _filter_tf_log(capture.read(), min_level)
            if rest:
                try:
                    os.write(2, rest)
                except OSError:
                    pass


def _preload_tensorflow() -> None:
    """Load TensorFlow's C API libraries by path, so the kernel library finds them whatever the layout of
    site-packages (the dynamic loader matches its DT_NEEDED entries against the sonames of already loaded libraries).

    RTLD_LOCAL, never RTLD_GLOBAL: libtensorflow_framework exports the ~900 functions of the BoringSSL it bundles
    (``EVP_*``, ``CRYPTO_*``, ...) and its zlib without symbol versions. In the global namespace they interpose on
    every library loaded afterwards: the system libcrypto.so.3 that CPython's ``_hashlib``/``_ssl`` load later binds
    its own internal calls to BoringSSL and crashes (``import hashlib`` after a Flex run segfaulted in
    ``CRYPTO_THREAD_read_lock``). Loaded locally they are visible only to the libraries that link them (the kernel
    library, TensorFlow's own extension modules): a later ``import tensorflow`` reuses these copies."""
    if _tf_handles:
        return
    tf_dir = _tensorflow_dir()
    paths = [tf_dir / name for name in _TF_LIBRARIES]
    for path in paths:
        if not path.is_file():
            raise UnsupportedError(f"the installed tensorflow package has no {path.name} ({tf_dir}); Flex ops need "
                                   f"tensorflow-cpu: {_TENSORFLOW_HINT}")
    # TensorFlow's INFO and WARNING lines (oneDNN notice, CPU feature guard, ...) are not shown unless the user
    # chose a level: TF_CPP_MIN_LOG_LEVEL=0 (set before the first Flex model loads) shows them all.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", DEFAULT_TF_LOG_LEVEL)
    with _tf_log_filter():
        for path in paths:
            try:
                _tf_handles.append(ctypes.CDLL(str(path), mode=getattr(os, "RTLD_LOCAL", 0)))
            except OSError as e:
                raise UnsupportedError(f"cannot load TensorFlow's {path.name}: {e}") from None


def load() -> CustomOpLibrary:
    """Load TensorFlow and the Flex kernel library (once per process) and return it."""
    global _library
    with _lock:
        if _library is None:
            path = library_path()
            if not path.is_file():
                raise UnsupportedError(f"this installation of litert-sdk-flex has no native library ({path}); "
                                       "reinstall it, from a litert-sdk checkout: "
                                       "pip install --force-reinstall --no-deps ./flex")
            _preload_tensorflow()
            _library = load_custom_op_library(path)
        return _library


def tensorflow_version() -> str:
    """The version of the TensorFlow runtime the Flex kernels execute with."""
    load()
    lib = ctypes.CDLL(str(library_path()))
    fn = lib.litert_sdk_flex_tf_version
    fn.restype = ctypes.c_char_p
    return fn().decode()


def kernels_for(custom_codes: Iterable[str], model: Model | None = None) -> list[CustomOp]:
    """One kernel per Flex custom code (``FlexCumprod``, ...): the SDK calls this when it compiles ``model`` and
    registers the kernels under those codes. The SDK makes one native instance per code and hands it the static
    shapes of that code's nodes (``configure_instance``): outputs whose shape TensorFlow cannot infer without input
    values (e.g. Conv2DBackpropFilter's, or a Restore's) are sized from there. ``model`` is accepted for
    compatibility and not needed."""
    codes = sorted({c for c in custom_codes if is_flex_op(c)})
    if not codes:
        return []
    kernel = load()[0]
    native = kernel._native_kernel
    return [CustomOp(code, f"litert-sdk-flex ({kernel.origin})", native_kernel=native) for code in codes]


def apply_to_options(options: Options) -> Options:
    """What ``FlexDelegate`` does to compilation options: the Flex kernels are registered per model by the SDK
    (the custom codes are only known per model), so this loads the TensorFlow bridge now (errors surface here) and
    returns ``options`` unchanged."""
    load()
    return options


def _debug_info() -> dict[str, Any]:  # pragma: no cover - for bug reports
    return {"library": str(library_path()), "tensorflow": str(_tensorflow_dir()), "version": __version__}
