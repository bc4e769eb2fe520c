"""Compilation options: accelerators, CPU (XNNPACK) settings and runtime settings.

The runtime takes CPU and runtime options as opaque TOML payloads ("xnnpack" and "runtime_options_string"); these
classes build them. Unknown keys are ignored by the runtime, so values are validated here.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from . import _runtime
from .errors import InvalidArgumentError

__all__ = [
    "Accelerator",
    "CpuOptions",
    "Options",
    "XNNPackFlags",
    "DEFAULT_XNNPACK_FLAGS",
    "default_num_threads",
    "MAX_NUM_THREADS",
]


class Accelerator(enum.IntFlag):
    """Hardware accelerators a model may be compiled for (a bit set)."""

    NONE = 0
    CPU = 1
    GPU = 2
    NPU = 4


class XNNPackFlags(enum.IntFlag):
    """XNNPACK delegate flags (CPU option ``flags``)."""

    NONE = 0
    QS8 = 0x1
    QU8 = 0x2
    FORCE_FP16 = 0x4
    DYNAMIC_FULLY_CONNECTED = 0x8
    VARIABLE_OPERATORS = 0x10
    TRANSIENT_INDIRECTION_BUFFER = 0x20
    ENABLE_LATEST_OPERATORS = 0x40
    ENABLE_SUBGRAPH_RESHAPING = 0x80
    SLOW_CONSISTENT_ARITHMETIC = 0x200
    DISABLE_SUBGRAPH_RESHAPING = 0x400


# The XNNPACK delegate's own default flag set (TfLiteXNNPackDelegateOptionsDefault: quantized inference on).
# A `flags` value in the CPU options replaces the runtime's set, so additions are OR'ed into this one.
DEFAULT_XNNPACK_FLAGS = XNNPackFlags.QS8 | XNNPackFlags.QU8


def default_num_threads() -> int:
    """The SDK's default CPU thread count: the usable cores, at most 4 (the runtime's own default is 1)."""
    try:
        n = len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(4, n))


# The largest CPU thread count accepted. The runtime starts every requested worker thread without a bound of its own
# (num_threads=100000 started about 32k threads and crashed the process at close; 2**40 was silently dropped), and
# no CPU kernel gains from more threads than there are cores.
MAX_NUM_THREADS = 256


def check_num_threads(value: Any) -> int | None:
    """``value`` as a thread count: None or -1 (the default, :func:`default_num_threads`) or 1..MAX_NUM_THREADS.

    A non-int raises :class:`~litert_sdk.InvalidArgumentError` (a ``ValueError``) with upstream's wording
    ("type of num_threads should be int"), so does a value out of range ("num_threads should >= 1" /
    "num_threads should <= MAX_NUM_THREADS")."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"type of num_threads should be int, got {type(value).__name__} {value!r}")
    if value == -1:
        return -1
    if value < 1:
        raise InvalidArgumentError(f"num_threads should >= 1 (or -1 for the default), got {value}")
    if value > MAX_NUM_THREADS:
        raise InvalidArgumentError(
            f"num_threads should <= {MAX_NUM_THREADS} (litert_sdk.MAX_NUM_THREADS), got {value}: the runtime would "
            "start that many worker threads"
        )
    return int(value)


KernelMode = Literal["xnnpack", "builtin", "reference"]


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    return _toml_string(str(v))


def _toml_string(s: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for ch in s:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass(frozen=True)
class CpuOptions:
    """CPU execution settings.

    Args:
        num_threads: worker threads, 1..:data:`MAX_NUM_THREADS`; None or -1 use :func:`default_num_threads`.
        kernel_mode: "xnnpack" (default: XNNPACK delegate), "builtin" (TFLite's optimised kernels) or "reference".
        xnnpack_flags: XNNPACK flags that **replace** the defaults (:data:`DEFAULT_XNNPACK_FLAGS`).
        extra_xnnpack_flags: XNNPACK flags OR'ed into the defaults (or into ``xnnpack_flags`` when given), e.g.
            ``XNNPackFlags.FORCE_FP16``.
        weight_cache_path: file for XNNPACK's packed-weight cache (written on first compile, reused after).
    """

    num_threads: int | None = None
    kernel_mode: KernelMode | None = None
    xnnpack_flags: int | None = None
    extra_xnnpack_flags: int = 0
    weight_cache_path: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        check_num_threads(self.num_threads)
        if self.kernel_mode is not None and self.kernel_mode not in ("xnnpack", "builtin", "reference"):
            raise InvalidArgumentError(
                f"kernel_mode must be 'xnnpack', 'builtin' or 'reference', got {self.kernel_mode!r}"
            )
        if self.xnnpack_flags is not None and int(self.xnnpack_flags) < 0:
            raise InvalidArgumentError(f"xnnpack_flags must be non-negative, got {self.xnnpack_flags!r}")
        if int(self.extra_xnnpack_flags) < 0:
            raise InvalidArgumentError(f"extra_xnnpack_flags must be non-negative, got {self.extra_xnnpack_flags!r}")

    @property
    def effective_xnnpack_flags(self) -> int | None:
        """The flags passed to the runtime, or None to leave the runtime's defaults untouched."""
        if self.xnnpack_flags is None and not self.extra_xnnpack_flags:
            return None
        base = DEFAULT_XNNPACK_FLAGS if self.xnnpack_flags is None else int(self.xnnpack_flags)
        return int(base) | int(self.extra_xnnpack_flags)

    @property
    def effective_num_threads(self) -> int:
        if self.num_threads is None or self.num_threads == -1:
            return default_num_threads()
        return self.num_threads

    def to_toml(self) -> str:
        lines = [f"num_threads = {self.effective_num_threads}"]
        if self.kernel_mode is not None:
            lines.append(f"kernel_mode = {_toml_value(self.kernel_mode)}")
        flags = self.effective_xnnpack_flags
        if flags is not None:
            lines.append(f"flags = {flags}")
        if self.weight_cache_path is not None:
            lines.append(f"weight_cache_file_path = {_toml_value(os.fspath(self.weight_cache_path))}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Options:
    """Everything :class:`litert_sdk.CompiledModel` needs to compile a model.

    Args:
        accelerators: which hardware to compile for (``Accelerator.CPU`` by default).
        cpu: CPU settings.
        gpu_fallback: when the GPU (or NPU) compile fails, compile again for the CPU instead of raising (the runtime
            itself fails rather than falling back). The compiled model reports ``did_fallback`` and the reason.
        enable_profiling: turn on the runtime's profiler.
        extra: additional opaque options ``{identifier: toml_text}`` passed through unchanged.
        custom_ops: custom-op kernels to register (:class:`litert_sdk.custom_ops.CustomOp` objects, custom-op
            libraries, or iterables of them); see :mod:`litert_sdk.custom_ops`.
    """

    accelerators: Accelerator = Accelerator.CPU
    cpu: CpuOptions = field(default_factory=CpuOptions)
    gpu_fallback: bool = True
    enable_profiling: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    custom_ops: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        acc = Accelerator(int(self.accelerators))
        if acc == Accelerator.NONE:
            raise InvalidArgumentError("at least one accelerator must be selected")
        object.__setattr__(self, "accelerators", acc)
        if self.custom_ops:
            from .custom_ops import flatten_custom_ops

            object.__setattr__(self, "custom_ops", tuple(flatten_custom_ops(self.custom_ops)))
        else:
            object.__setattr__(self, "custom_ops", ())

    def with_custom_ops(self, *ops: Any) -> Options:
        """These options plus custom-op kernels (CustomOp objects, custom-op libraries or iterables of them)."""
        return replace(self, custom_ops=tuple(self.custom_ops) + tuple(ops))

    def with_mediapipe_custom_ops(self) -> Options:
        """These options plus the bundled MediaPipe kernels (Convolution2DTransposeBias, Landmarks2TransformMatrix,
        TransformLandmarks, TransformTensorBilinear)."""
        from .custom_ops import mediapipe_ops

        return self.with_custom_ops(mediapipe_ops())

    @classmethod
    def cpu_only(cls, num_threads: int | None = None, **cpu: Any) -> Options:
        return cls(cpu=CpuOptions(num_threads=num_threads, **cpu))

    @classmethod
    def gpu(cls, num_threads: int | None = None, fallback: bool = True) -> Options:
        """GPU first (WebGPU on Linux/Windows, Metal on macOS), CPU for unsupported ops and as fallback."""
        return cls(accelerators=Accelerator.GPU | Accelerator.CPU, cpu=CpuOptions(num_threads=num_threads),
                   gpu_fallback=fallback)

    def with_cpu(self, **changes: Any) -> Options:
        return replace(self, cpu=replace(self.cpu, **changes))

    def runtime_toml(self) -> str:
        # error_reporter_mode = 2 keeps the runtime's error text in a buffer the SDK reads into exceptions.
        lines = ["error_reporter_mode = 2"]
        if self.enable_profiling:
            lines.append("enable_profiling = true")
        return "\n".join(lines) + "\n"

    def to_native(self) -> Any:
        o = _runtime.native().Options()
        o.hardware_accelerators = int(self.accelerators)
        o.set_opaque("xnnpack", self.cpu.to_toml())
        o.set_opaque("runtime_options_string", self.runtime_toml())
        for ident, toml in self.extra.items():
            o.set_opaque(str(ident), str(toml))
        return o
