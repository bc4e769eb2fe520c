"""Custom-op kernels: load them from libraries, write them in Python, register them for compilation.

A model that uses custom ops (TFLite ``CUSTOM`` operators) runs once a kernel for each of its custom codes is
registered. Kernels come from:

* custom-op libraries: shared libraries exporting ``litert_sdk_custom_ops_v1`` (see
  ``custom_ops/include/litert_sdk/custom_op_api.h``), loaded with :func:`load_custom_op_library`;
* the MediaPipe kernels bundled with the SDK (:func:`mediapipe_ops`: ``Convolution2DTransposeBias``,
  ``Landmarks2TransformMatrix``, ``TransformLandmarks``, ``TransformTensorBilinear``), a custom-op library installed
  inside the package;
* Python functions (:func:`python_op`), called with numpy arrays under the GIL: slow, but handy for prototypes.

Pass them per compilation, ``Options(custom_ops=[...])`` / ``Options().with_custom_ops(...)`` /
``Options().with_mediapipe_custom_ops()``, or register them process-wide with :func:`register_custom_op` /
:func:`register_python_op` (explicit options win over the registry).

The SDK works around the runtime's custom-op caveats transparently: it rewrites the model before compiling it
(unique custom codes for nodes with different attributes, 64-byte aligned constant inputs, op versions the runtime
resolves; see :mod:`litert_sdk._rewrite`), and since the runtime ignores the status kernels return, every failure is
recorded and raised as :class:`~litert_sdk.errors.CustomOpError` from the compile, allocation or run that saw it.

Example::

    import numpy as np
    from litert_sdk import CompiledModel, Options
    from litert_sdk.custom_ops import python_op

    cumprod = python_op("Cumprod", lambda inputs, attrs: np.cumprod(inputs[0], axis=int(inputs[1])))
    cm = CompiledModel.from_file("custom_cumprod.tflite", Options(custom_ops=[cumprod]))
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _rewrite, _runtime
from ._types import numpy_dtype
from .errors import InvalidArgumentError, NotFoundError, UnsupportedError

if TYPE_CHECKING:
    from .model import Model
    from .options import Options

__all__ = [
    "CustomOp",
    "CustomOpLibrary",
    "MEDIAPIPE_OPS",
    "load_custom_op_library",
    "mediapipe_ops",
    "mediapipe_library_path",
    "python_op",
    "register_custom_op",
    "register_python_op",
    "unregister_custom_op",
    "registered_custom_ops",
    "decode_attributes",
]

MEDIAPIPE_OPS = ("Convolution2DTransposeBias", "Landmarks2TransformMatrix", "TransformLandmarks",
                 "TransformTensorBilinear")
_MEDIAPIPE_LIBRARY = {"win32": "litert_mediapipe_ops.dll", "darwin": "liblitert_mediapipe_ops.dylib"}.get(
    sys.platform, "liblitert_mediapipe_ops.so")

_log = logging.getLogger("litert_sdk")

Shape = tuple[int, ...]
# fn(inputs, attrs) -> array or sequence of arrays
KernelFn = Callable[[list[np.ndarray], Any], Any]
# output_shapes(input_shapes, attrs) -> one shape per output
ShapesFn = Callable[[list[Shape], Any], Sequence[Sequence[int]]]


def decode_attributes(options: bytes) -> Any:
    """A node's custom options as Python data: a flexbuffer map/vector decoded (the usual encoding of TFLite custom
    ops), otherwise the raw bytes (``b""`` when the node has none)."""
    if not options:
        return b""
    try:
        from flatbuffers import flexbuffers

        value = flexbuffers.Loads(bytes(options))
    except Exception:  # noqa: BLE001 - not a flexbuffer (e.g. a POD struct): hand over the bytes
        return bytes(options)
    return value if isinstance(value, (dict, list)) else bytes(options)


class CustomOp:
    """A kernel for one custom op (by its custom code ``name``).

    Create them with :func:`load_custom_op_library`, :func:`mediapipe_ops` or :func:`python_op`.
    """

    def __init__(self, name: str, origin: str, *, native_kernel: Any = None, fn: KernelFn | None = None,
                 output_shapes: ShapesFn | None = None, version: int = 1) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"a custom op needs a non-empty name, got {name!r}")
        self.name = name
        self.origin = origin
        self.version = int(version)
        self._native_kernel = native_kernel
        self.fn = fn
        self.output_shapes = output_shapes

    @property
    def is_python(self) -> bool:
        return self.fn is not None

    def _kernel_for(self, code: str, io_shapes: list[Any]) -> Any:
        """The native kernel to register for one custom code of a (rewritten) model. A library kernel is shared by
        every code (the SDK creates one instance per code and hands it the code's ``io_shapes`` through
        ``configure_instance``); a Python kernel is made per code and keeps ``io_shapes`` itself."""
        if self._native_kernel is not None:
            return self._native_kernel
        return _python_kernel(self, code, io_shapes)

    def __repr__(self) -> str:
        return f"CustomOp({self.name!r}, from {self.origin})"


class CustomOpLibrary(Sequence[CustomOp]):
    """The kernels of a loaded custom-op library (a sequence of :class:`CustomOp`)."""

    def __init__(self, path: str, ops: Sequence[CustomOp]) -> None:
        self.path = path
        self._ops = tuple(ops)

    @property
    def names(self) -> list[str]:
        return [op.name for op in self._ops]

    def op(self, name: str) -> CustomOp:
        for op in self._ops:
            if op.name == name:
                return op
        raise NotFoundError(f"custom-op library {self.path!r} has no op {name!r}; it has {self.names}")

    def __getitem__(self, index: int) -> CustomOp:  # type: ignore[override]
        return self._ops[index]

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self) -> Iterator[CustomOp]:
        return iter(self._ops)

    def __repr__(self) -> str:
        return f"CustomOpLibrary({self.path!r}, ops={self.names})"


CustomOpsArg = CustomOp | CustomOpLibrary | Iterable[Any]

_libraries: dict[str, CustomOpLibrary] = {}
_lock = threading.RLock()


def load_custom_op_library(path: str | os.PathLike[str]) -> CustomOpLibrary:
    """Load a custom-op library (a shared library exporting ``litert_sdk_custom_ops_v1``) and return its kernels.

    The library stays loaded for the life of the process; loading the same path again returns the same object.
    """
    p = Path(os.fspath(path))
    if not p.is_file():
        raise NotFoundError(f"custom-op library not found: {os.fspath(path)!r}")
    key = str(p.resolve())
    with _lock:
        lib = _libraries.get(key)
        if lib is None:
            kernels = _runtime.native().load_custom_op_library(key)
            lib = CustomOpLibrary(key, [CustomOp(k.name, key, native_kernel=k, version=k.version) for k in kernels])
            _libraries[key] = lib
    return lib


def mediapipe_library_path() -> Path:
    """Path of the MediaPipe custom-op library installed inside the package."""
    return _runtime.package_dir() / _MEDIAPIPE_LIBRARY


def mediapipe_ops() -> CustomOpLibrary:
    """The bundled kernels of MediaPipe's custom ops (``Convolution2DTransposeBias``, ``Landmarks2TransformMatrix``,
    ``TransformLandmarks``, ``TransformTensorBilinear``)."""
    path = mediapipe_library_path()
    if not path.is_file():
        raise UnsupportedError(f"this build of litert_sdk has no MediaPipe custom-op library ({path} is missing)")
    return load_custom_op_library(path)


def python_op(name: str, fn: KernelFn, output_shapes: ShapesFn | None = None) -> CustomOp:
    """A custom-op kernel written in Python.

    ``fn(inputs, attrs)`` gets the node's inputs as numpy arrays (copies) and its attributes (see
    :func:`decode_attributes`), and returns the output array, or a sequence with one array per output; results are
    cast to the output tensors' dtypes and must have their shapes. ``output_shapes(input_shapes, attrs)`` returns one
    shape per output; without it the shapes stored in the model are used (which works for static shapes only).
    Exceptions raised by either function become :class:`~litert_sdk.errors.CustomOpError`.
    """
    if not callable(fn):
        raise InvalidArgumentError(f"fn must be callable, got {type(fn).__name__}")
    if output_shapes is not None and not callable(output_shapes):
        raise InvalidArgumentError(f"output_shapes must be callable or None, got {type(output_shapes).__name__}")
    return CustomOp(name, "python", fn=fn, output_shapes=output_shapes)


# ------------------------------------------------------------------------------------------- process-wide registry
_registry: dict[str, CustomOp] = {}


def flatten_custom_ops(ops: Any) -> list[CustomOp]:
    """CustomOp objects from a CustomOp, a CustomOpLibrary or an iterable of either (nested)."""
    if ops is None:
        return []
    if isinstance(ops, CustomOp):
        return [ops]
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Iterable):
        raise InvalidArgumentError(
            f"custom ops must be CustomOp / CustomOpLibrary objects (or iterables of them), got {type(ops).__name__}"
        )
    out: list[CustomOp] = []
    for item in ops:
        out.extend(flatten_custom_ops(item))
    return out


def register_custom_op(*ops: CustomOpsArg) -> None:
    """Register kernels for every model compiled in this process (options' own ``custom_ops`` take precedence)."""
    with _lock:
        for op in flatten_custom_ops(ops):
            _registry[op.name] = op


def register_python_op(name: str, fn: KernelFn, output_shapes_fn: ShapesFn | None = None) -> CustomOp:
    """:func:`python_op` + :func:`register_custom_op`: returns the registered op."""
    op = python_op(name, fn, output_shapes_fn)
    register_custom_op(op)
    return op


def unregister_custom_op(name: str) -> bool:
    """Remove a process-wide kernel; True if there was one."""
    with _lock:
        return _registry.pop(name, None) is not None


def registered_custom_ops() -> dict[str, CustomOp]:
    with _lock:
        return dict(_registry)


# ------------------------------------------------------------------------------------------------- Python kernels
def _python_kernel(op: CustomOp, code: str, io_shapes: list[Any]) -> Any:
    attrs_cache: dict[bytes, Any] = {}

    def attrs_of(options: bytes) -> Any:
        key = bytes(options)
        if key not in attrs_cache:
            attrs_cache[key] = decode_attributes(key)
        return attrs_cache[key]

    def run(inputs: list[np.ndarray], specs: list[tuple[int, tuple[int, ...]]], options: bytes) -> list[np.ndarray]:
        assert op.fn is not None
        result = op.fn(list(inputs), attrs_of(options))
        if isinstance(result, np.ndarray) or np.isscalar(result) or not isinstance(result, (list, tuple)):
            result = [result]
        if len(result) != len(specs):
            raise ValueError(f"custom op {op.name!r} returned {len(result)} output(s), the node has {len(specs)}")
        out = []
        for i, (r, (etype, shape)) in enumerate(zip(result, specs, strict=False)):
            dtype = numpy_dtype(etype)
            a = np.asarray(r)
            if a.shape != tuple(shape):
                raise ValueError(f"custom op {op.name!r} returned shape {a.shape} for output {i}, the model's tensor "
                                 f"has shape {tuple(shape)}")
            out.append(np.ascontiguousarray(a.astype(dtype, copy=False)))
        return out

    def shapes(input_shapes: list[tuple[int, ...]], num_outputs: int, options: bytes) -> list[tuple[int, ...]]:
        ins = [tuple(int(d) for d in s) for s in input_shapes]
        if op.output_shapes is not None:
            res = [tuple(int(d) for d in s) for s in op.output_shapes(ins, attrs_of(options))]
            if len(res) != num_outputs:
                raise ValueError(f"output_shapes of custom op {op.name!r} returned {len(res)} shape(s) for "
                                 f"{num_outputs} output(s)")
            return res
        candidates = []
        for node_in, node_out in io_shapes:
            present = [s for s in node_in if s is not None]
            matches = len(present) != len(ins) or all(a == b for a, b in zip(present, ins, strict=False))
            static = len(node_out) == num_outputs and all(s is not None for s in node_out)
            if matches and static and node_out not in candidates:
                candidates.append(node_out)
        if len(candidates) != 1:
            raise ValueError(f"custom op {op.name!r} (code {code!r}) needs an output_shapes function: the model does "
                             f"not give static output shapes for input shapes {ins}")
        return [tuple(s) for s in candidates[0]]

    kernel = _runtime.native().CustomOpKernel.from_python(op.name, run, shapes)
    with _lock:
        _python_kernels.add(kernel)
    return kernel


# Native Python kernels alive; their callables are dropped at exit (they can form reference cycles through C++).
_python_kernels: weakref.WeakSet[Any] = weakref.WeakSet()


@atexit.register
def _release_at_exit() -> None:
    # Drop what this module caches, and the callables of Python kernels, before the interpreter tears the native
    # module down (Python kernels can form reference cycles through C++ that the garbage collector cannot see).
    with _lock:
        kernels = list(_python_kernels)
    for kernel in kernels:
        kernel.release_python()
    with _lock:
        _libraries.clear()
        _registry.clear()
        _prepared.clear()


# ----------------------------------------------------------------------------------------------- compile support
FLEX_PREFIX = "Flex"  # custom codes of Select TF ops (FlexCumprod, ...)
# How to get litert-sdk-flex (error messages).
FLEX_INSTALL_HINT = ('from a litert-sdk checkout: pip install ./sdk/python ./flex (once litert-sdk is on PyPI: '
                     'pip install "litert-sdk[flex]")')


def _flex_kernels(codes: list[str], model: Model) -> list[CustomOp]:
    """Kernels for a model's Flex custom codes from the optional litert-sdk-flex package."""
    try:
        import litert_sdk_flex  # type: ignore[import-not-found]
    except ModuleNotFoundError as e:
        if e.name != "litert_sdk_flex":
            raise
        raise UnsupportedError(
            f"the model uses Select TensorFlow ops ({', '.join(codes)}), which need the Flex package: "
            + FLEX_INSTALL_HINT
        ) from None
    for sg in model.subgraphs:  # TensorFlow resources (hash tables, ...) cannot live in TFLite tensors
        for i, op in enumerate(sg.ops):
            if op.custom_code is None or not op.custom_code.startswith(FLEX_PREFIX):
                continue
            for t in (*op.inputs, *op.outputs):
                if t >= 0 and sg.tensors[t].type_name in ("resource", "variant"):
                    raise UnsupportedError(
                        f"operator {i} of subgraph {sg.index} ({op.custom_code}) takes or makes a "
                        f"{sg.tensors[t].type_name} tensor ({sg.tensors[t].name!r}): TensorFlow resources such as "
                        "hash tables and variant tensors such as tensor lists do not cross between TFLite and "
                        "TensorFlow in litert-sdk-flex. Convert lookups to builtin ops (e.g. a GATHER over a "
                        "constant vocabulary) or keep the table outside the model")
    return list(litert_sdk_flex.kernels_for(codes, model))


@dataclass
class _Prepared:
    model: Model
    result: _rewrite.RewriteResult


# Model -> {reserved names renamed: prepared model}
_prepared: weakref.WeakKeyDictionary[Any, dict[frozenset[str], _Prepared]] = weakref.WeakKeyDictionary()


def _model_bytes(model: Model) -> bytes:
    data = _runtime.native().model_source_bytes(model._native)
    if data is not None:
        return bytes(data)
    if model.path is None:
        raise UnsupportedError("the model's bytes are not available for custom-op rewriting")
    with open(model.path, "rb") as f:
        return f.read()


def _prepare(model: Model, reserved: frozenset[str]) -> _Prepared:
    """The model rewritten for custom-op kernels (cached per Model and renamed runtime-reserved ops)."""
    with _lock:
        p = _prepared.get(model, {}).get(reserved)
        if p is not None:
            return p
    from .model import Model

    data = _model_bytes(model)
    try:
        result = _rewrite.rewrite_for_custom_ops(data, reserved=reserved)
    except _rewrite.RewriteError as e:  # compile as it is; kernels are registered under the original codes
        _log.warning("cannot rewrite the model for custom ops (%s); compiling it unchanged", e)
        names = model.custom_op_codes()
        result = _rewrite.RewriteResult(data, False, {n: n for n in names}, {})
    compiled = Model.from_buffer(result.data, model.environment) if result.changed else model
    p = _Prepared(compiled, result)
    with _lock:
        _prepared.setdefault(model, {})[reserved] = p
    return p


def compile_plan(model: Model, options: Options) -> tuple[Any, list[tuple[str, Any, str]]]:
    """(native model to compile, [(custom code, native kernel, io_shapes)]) for compiling ``model`` with
    ``options``; ``io_shapes`` is the static shapes of the code's nodes as native kernels get them
    (:func:`litert_sdk._rewrite.io_shapes_spec`, passed to the library's ``configure_instance``).

    Without custom ops in the model, or without kernels for them, the model is compiled as it is (the runtime then
    reports unresolved ops).
    """
    names = model.custom_op_codes()
    if not names:
        return model._native, []
    available = registered_custom_ops()
    for op in flatten_custom_ops(getattr(options, "custom_ops", ())):
        available[op.name] = op
    flex = [n for n in names if n.startswith(FLEX_PREFIX) and n not in available]
    if flex:  # Select TF ops: kernels from litert-sdk-flex (custom codes are only known per model)
        for op in _flex_kernels(flex, model):
            available[op.name] = op
    if not any(n in available for n in names):
        return model._native, []
    # ops the runtime would resolve to its own stubs are renamed only when a kernel for them is supplied
    prepared = _prepare(model, frozenset(n for n in names if n in available) & _rewrite.RUNTIME_STUB_OPS)
    kernels = []
    for code, name in sorted(prepared.result.codes.items()):
        kernel_op = available.get(name)
        if kernel_op is not None:
            io_shapes = prepared.result.io_shapes.get(code, [])
            kernels.append((code, kernel_op._kernel_for(code, io_shapes), _rewrite.io_shapes_spec(io_shapes)))
    return prepared.model._native, kernels
