"""PerformanceConfig and InterpreterFactory: one switch for acceleration, mapped per platform.

The mapping follows flutter_litert's factory, adapted to the accelerators LiteRT ships:

==========  ==========================================================================================
mode        what it selects
==========  ==========================================================================================
auto        iOS: GPU (Metal); every other platform: XNNPACK on the CPU
xnnpack     XNNPACK CPU kernels with ``num_threads`` (default: min(4, cores))
gpu         macOS/iOS: GpuDelegate (Metal); Linux/Windows: GpuDelegateV2 (WebGPU); Android: GpuDelegateV2.
            Falls back to the CPU when the GPU cannot compile the model (``did_fallback``).
coreml      iOS/macOS: Core ML is not in LiteRT 2.3.0, so the Metal GPU is used; elsewhere: no delegate
npu         the NPU accelerator (vendor dispatch libraries), with CPU fallback
disabled    no delegate: TFLite's builtin CPU kernels, ``num_threads`` threads
==========  ==========================================================================================
"""

from __future__ import annotations

import enum
import logging
import os
from dataclasses import dataclass
from typing import Any

from .delegates import (
    Delegate,
    GpuDelegate,
    GpuDelegateV2,
    InterpreterOptions,
    XNNPackDelegate,
    XNNPackDelegateOptions,
    current_platform,
)
from .errors import InvalidArgumentError, LiteRtError
from .options import Accelerator, CpuOptions, Options

__all__ = ["PerformanceMode", "PerformanceConfig", "InterpreterFactory", "NpuDelegate"]

_log = logging.getLogger("litert_sdk")


class PerformanceMode(enum.Enum):
    DISABLED = "disabled"
    XNNPACK = "xnnpack"
    GPU = "gpu"
    COREML = "coreml"
    NPU = "npu"
    AUTO = "auto"


@dataclass(frozen=True)
class PerformanceConfig:
    """Hardware acceleration mode and thread count (None: min(4, cores), clamped to 0..8 like flutter_litert)."""

    mode: PerformanceMode = PerformanceMode.AUTO
    num_threads: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.mode, PerformanceMode):
            raise InvalidArgumentError(f"mode must be a PerformanceMode, got {self.mode!r}")
        if self.num_threads is not None and (not isinstance(self.num_threads, int) or self.num_threads < 0):
            raise InvalidArgumentError(f"num_threads must be a non-negative int, got {self.num_threads!r}")

    def to_options(self, default_threads: int | None = None) -> Options:
        """The runtime options for this configuration; ``default_threads`` fills an unset thread count (pools
        give each of their models a share of the cores)."""
        from dataclasses import replace

        cfg = self
        if cfg.num_threads is None and default_threads is not None:
            cfg = replace(cfg, num_threads=default_threads)
        return InterpreterFactory.create_options(cfg)

    @classmethod
    def auto(cls, num_threads: int | None = None) -> PerformanceConfig:
        return cls(PerformanceMode.AUTO, num_threads)

    @classmethod
    def xnnpack(cls, num_threads: int | None = None) -> PerformanceConfig:
        return cls(PerformanceMode.XNNPACK, num_threads)

    @classmethod
    def gpu(cls, num_threads: int | None = None) -> PerformanceConfig:
        return cls(PerformanceMode.GPU, num_threads)

    @classmethod
    def coreml(cls, num_threads: int | None = None) -> PerformanceConfig:
        return cls(PerformanceMode.COREML, num_threads)

    @classmethod
    def npu(cls, num_threads: int | None = None) -> PerformanceConfig:
        return cls(PerformanceMode.NPU, num_threads)

    @classmethod
    def disabled(cls) -> PerformanceConfig:
        return cls(PerformanceMode.DISABLED)

    @property
    def thread_count(self) -> int:
        if self.num_threads is not None:
            return max(1, min(8, self.num_threads))
        return max(1, min(4, os.cpu_count() or 1))


class NpuDelegate(Delegate):
    """Selects LiteRT's NPU accelerator (needs a vendor dispatch library), with CPU fallback."""

    name = "NPU"

    def _apply_to_options(self, options: Options) -> Options:
        from dataclasses import replace

        return replace(options, accelerators=Accelerator.NPU | Accelerator.CPU)


class _BuiltinKernels(Delegate):
    """'disabled': no delegate, TFLite's builtin kernels."""

    name = "none"

    def _apply_to_options(self, options: Options) -> Options:
        from dataclasses import replace

        return replace(options, cpu=replace(options.cpu, kernel_mode="builtin"))


class InterpreterFactory:
    """Builds interpreter options (and the delegate chosen) from a :class:`PerformanceConfig`."""

    @staticmethod
    def create(
        config: PerformanceConfig | None = None, *, add_mediapipe_custom_ops: bool = False
    ) -> tuple[InterpreterOptions, Delegate | None]:
        cfg = config or PerformanceConfig()
        options = InterpreterOptions(threads=cfg.thread_count)
        if add_mediapipe_custom_ops:
            options.add_mediapipe_custom_ops()
        delegate = InterpreterFactory._delegate_for(cfg, current_platform())
        if delegate is not None and not isinstance(delegate, _BuiltinKernels):
            try:
                delegate._apply_to_options(Options(cpu=CpuOptions(num_threads=cfg.thread_count)))
            except LiteRtError as e:  # the platform has no such delegate: stay on the CPU, like flutter_litert
                _log.warning("litert_sdk: the %s delegate is unavailable (%s); using the CPU", delegate.name, e)
                delegate = InterpreterFactory._delegate_for(PerformanceConfig.xnnpack(cfg.num_threads),
                                                            current_platform())
        if delegate is not None:
            options.add_delegate(delegate)
        return options, (None if isinstance(delegate, _BuiltinKernels) else delegate)

    @staticmethod
    def _delegate_for(cfg: PerformanceConfig, plat: str) -> Delegate | None:
        mode = cfg.mode
        if mode is PerformanceMode.DISABLED:
            return _BuiltinKernels()
        if mode is PerformanceMode.AUTO:
            mode = PerformanceMode.GPU if plat == "ios" else PerformanceMode.XNNPACK
        if mode is PerformanceMode.XNNPACK:
            return XNNPackDelegate(XNNPackDelegateOptions(num_threads=cfg.thread_count))
        if mode is PerformanceMode.GPU:
            return GpuDelegate() if plat in ("macos", "ios") else GpuDelegateV2()
        if mode is PerformanceMode.COREML:
            return GpuDelegate() if plat in ("macos", "ios") else None
        if mode is PerformanceMode.NPU:
            return NpuDelegate()
        return None

    @staticmethod
    def create_options(config: PerformanceConfig | None = None, *, add_mediapipe_custom_ops: bool = False) -> Options:
        """The CompiledModel :class:`~litert_sdk.Options` for a config."""
        opts, _ = InterpreterFactory.create(config, add_mediapipe_custom_ops=add_mediapipe_custom_ops)
        return opts.to_options()

    @staticmethod
    def create_async_if_needed(
        interpreter: Any, delegate: Delegate | None = None, *, use_async_interpreter: bool = True
    ) -> Any:
        """An AsyncInterpreter over ``interpreter`` unless disabled or a GPU delegate is active (flutter_litert's
        createIsolateIfNeeded: GPU contexts stay on their thread); None otherwise."""
        if not use_async_interpreter:
            return None
        if isinstance(delegate, (GpuDelegate, GpuDelegateV2)) and not getattr(interpreter, "did_fallback", True):
            return None
        from .concurrency import AsyncInterpreter

        return AsyncInterpreter(interpreter)
