"""Typed exceptions raised by litert_sdk.

Every error the SDK raises derives from :class:`LiteRtError`. Errors that come from the runtime carry its status
code (``status``) and name (``status_name``); errors the SDK detects itself have ``status`` ``None``.
The classes also derive from the matching built-in exception (``ValueError`` for bad arguments, ``RuntimeError`` for
failures, ...), so code written for ``tflite_runtime`` that catches those keeps working.
"""

from __future__ import annotations

__all__ = [
    "LiteRtError",
    "InvalidArgumentError",
    "NotFoundError",
    "ModelError",
    "UnsupportedError",
    "RuntimeFailure",
    "CompilationError",
    "ClosedError",
    "ReentrantCallError",
    "CustomOpError",
    "ValueDependentShapeError",
    "OutOfMemoryError",
    "WeightsFileError",
    "RuntimeArgumentError",
    "InvalidStateError",
    "status_name",
]

# Status codes of the runtime (LiteRtStatus) and their names; mirrors the native table (checked by the tests).
_STATUS_NAMES: dict[int, str] = {
    0: "Ok", 1: "InvalidArgument", 2: "MemoryAllocationFailure", 3: "RuntimeFailure", 4: "MissingInputTensor",
    5: "Unsupported", 6: "NotFound", 7: "TimeoutExpired", 8: "WrongVersion", 9: "Unknown", 10: "AlreadyExists",
    100: "Cancelled", 500: "FileIO", 501: "InvalidFlatbuffer", 502: "DynamicLoading", 503: "Serialization",
    504: "Compilation", 1000: "IndexOOB", 1001: "InvalidIrType", 1002: "InvalidGraphInvariant",
    1003: "GraphModification", 1500: "InvalidToolConfig", 2000: "LegalizeNoMatch", 2001: "InvalidLegalization",
    3000: "PatternNoMatch", 3001: "InvalidTransformation", 4000: "UnsupportedRuntimeVersion",
    4001: "UnsupportedCompilerVersion", 4002: "IncompatibleByteCodeVersion", 5000: "UnsupportedOpShapeInferer",
    5001: "ShapeInferenceFailed",
}


def status_name(status: int) -> str:
    """Name of a runtime status code (``"UnknownStatus"`` for values the runtime does not define)."""
    return _STATUS_NAMES.get(int(status), "UnknownStatus")


class LiteRtError(Exception):
    """Base class of every litert_sdk error."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    @property
    def status_name(self) -> str | None:
        """The runtime's status name (e.g. ``"RuntimeFailure"``), or None for the SDK's own errors."""
        return None if self.status is None else status_name(self.status)


class InvalidArgumentError(LiteRtError, ValueError):
    """An argument (array dtype/shape, index, name, option value) is not acceptable."""


class NotFoundError(InvalidArgumentError, LookupError):
    """A named thing (signature, input, output, tensor) does not exist."""


class WeightsFileError(InvalidArgumentError):
    """A weights file (see :mod:`litert_sdk.training`) is corrupt, truncated, in an unknown format, or its names,
    shapes or dtypes do not match the model's weights. ``path`` is the file concerned (None when unknown)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class RuntimeArgumentError(InvalidArgumentError, RuntimeError):
    """A bad argument where ai_edge_litert's CompiledModel / TensorBuffer API raises ``RuntimeError``: an unknown
    signature, tensor name or index, a buffer of the wrong size or type, a destroyed buffer, a resize the model does
    not allow. Also a ``RuntimeError`` (and a ``ValueError``), so code written for ai_edge_litert keeps working."""


class ModelError(LiteRtError, ValueError):
    """The model file or bytes cannot be loaded (missing, malformed, not a TFLite flatbuffer)."""


class UnsupportedError(LiteRtError, NotImplementedError):
    """The runtime or this platform cannot do what was asked (tensor type, delegate, accelerator...)."""


class RuntimeFailure(LiteRtError, RuntimeError):
    """The runtime failed while compiling or running a model."""


class CompilationError(RuntimeFailure):
    """The model could not be compiled for the requested accelerators."""


class ClosedError(LiteRtError, RuntimeError):
    """The object was closed and cannot be used any more."""


class InvalidStateError(LiteRtError, RuntimeError):
    """The call is not allowed in the object's current state, e.g. ``Interpreter.invoke()`` before
    ``allocate_tensors()``, or ``allocate_tensors()``/``invoke()`` while numpy views from ``tensor()`` are alive
    (the ``RuntimeError`` tflite_runtime raises there; also a ``RuntimeError``)."""


class ReentrantCallError(InvalidStateError):
    """A call that would wait for itself: a custom-op kernel calling back into the model that is running it (run,
    invoke, close, reset...), or a thread asking a pool for a slot while it holds every slot. Waiting would deadlock;
    the call is refused instead (an :class:`InvalidStateError`)."""


class CustomOpError(RuntimeFailure):
    """A custom-op kernel reported a failure while the model ran."""


class ValueDependentShapeError(CustomOpError, UnsupportedError):
    """A custom-op kernel (e.g. a Flex op such as ``ListDiff`` or ``Unique``) produces an output whose shape depends
    on the input values. The runtime's custom-op API lays outputs out before the run, so such outputs cannot be
    expressed; also an :class:`UnsupportedError`."""


# Marker the kernels (litert-sdk-flex) put in their message for ValueDependentShapeError.
VALUE_DEPENDENT_SHAPE_MARKER = "value-dependent shape"


class OutOfMemoryError(RuntimeFailure, MemoryError):
    """Memory for a tensor or the runtime could not be allocated (also a ``MemoryError``)."""


_KIND_CLASSES: dict[str, type[LiteRtError]] = {
    "InvalidArgument": InvalidArgumentError,
    "NotFound": NotFoundError,
    "Model": ModelError,
    "Unsupported": UnsupportedError,
    "Runtime": RuntimeFailure,
    "Compilation": CompilationError,
    "Closed": ClosedError,
    "Reentrant": ReentrantCallError,
    "CustomOp": CustomOpError,
    "OutOfMemory": OutOfMemoryError,
}


def _from_native(kind: str, status: int, message: str) -> LiteRtError:
    """Build the exception for an error raised by the native core (called from C++)."""
    cls = _KIND_CLASSES.get(kind, RuntimeFailure)
    if cls is CustomOpError and VALUE_DEPENDENT_SHAPE_MARKER in message:
        cls = ValueDependentShapeError
    return cls(message, None if status < 0 else status)
