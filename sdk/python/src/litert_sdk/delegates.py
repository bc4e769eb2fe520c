"""Delegate classes with flutter_litert / tflite_flutter names, mapped onto LiteRT accelerators.

LiteRT replaces TFLite delegates with accelerators chosen in the compilation options. These classes are thin option
holders: adding one to :class:`InterpreterOptions` (or passing it in ``experimental_delegates``) selects the LiteRT
accelerator it corresponds to, or raises :class:`~litert_sdk.UnsupportedError` naming the platform where the delegate
exists when this runtime has no equivalent.

=================  ==========================================  =========================================
delegate           LiteRT equivalent                           availability
=================  ==========================================  =========================================
XNNPackDelegate    CPU accelerator, XNNPACK kernels             every platform
GpuDelegateV2      GPU accelerator (WebGPU on Linux/Windows)    Linux, Windows (Android: OpenCL/GL AAR)
GpuDelegate        GPU accelerator (Metal)                      macOS (iOS: no runtime build published)
CoreMlDelegate     none in LiteRT 2.3.0                         raises UnsupportedError everywhere
FlexDelegate       Flex custom-op bridge (litert-sdk[flex])     where ``litert-sdk-flex`` is installed
=================  ==========================================  =========================================
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import InvalidArgumentError, UnsupportedError
from .options import Accelerator, CpuOptions, Options, default_num_threads

__all__ = [
    "Delegate",
    "XNNPackDelegate",
    "XNNPackDelegateOptions",
    "GpuDelegateV2",
    "GpuDelegateOptionsV2",
    "GpuDelegate",
    "GpuDelegateOptions",
    "CoreMlDelegate",
    "CoreMlDelegateOptions",
    "FlexDelegate",
    "InterpreterOptions",
    "current_platform",
]


def current_platform() -> str:
    """'linux', 'macos', 'windows', 'android' or 'ios' (the SDK's platform mapping key)."""
    if hasattr(sys, "getandroidapilevel"):
        return "android"
    if sys.platform == "ios":
        return "ios"
    import platform

    return {"Linux": "linux", "Darwin": "macos", "Windows": "windows"}.get(platform.system(), sys.platform)


class Delegate:
    """Base class: a delegate turns itself into compilation options."""

    name = "delegate"

    def _apply_to_options(self, options: Options) -> Options:  # pragma: no cover - abstract
        raise NotImplementedError

    def delete(self) -> None:
        """Kept for tflite_flutter compatibility; nothing to free."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@dataclass(frozen=True)
class XNNPackDelegateOptions:
    num_threads: int | None = None
    flags: int | None = None  # replaces the default XNNPACK flags when set
    weight_cache_path: str | None = None


class XNNPackDelegate(Delegate):
    """XNNPACK CPU kernels with the given thread count, flags and weight cache."""

    name = "XNNPACK"

    def __init__(self, options: XNNPackDelegateOptions | None = None) -> None:
        self.options = options or XNNPackDelegateOptions()

    def _apply_to_options(self, options: Options) -> Options:
        cpu = replace(
            options.cpu,
            kernel_mode="xnnpack",
            num_threads=self.options.num_threads if self.options.num_threads is not None else options.cpu.num_threads,
            xnnpack_flags=self.options.flags if self.options.flags is not None else options.cpu.xnnpack_flags,
            weight_cache_path=self.options.weight_cache_path or options.cpu.weight_cache_path,
        )
        return replace(options, cpu=cpu)


@dataclass(frozen=True)
class GpuDelegateOptionsV2:
    """Android GPU delegate options (tflite_flutter names). LiteRT 2.3.0 exposes no stable payload for them, so
    they are recorded but the runtime's GPU defaults apply."""

    is_precision_loss_allowed: bool = False
    inference_preference: int = 0
    inference_priority1: int = 0
    inference_priority2: int = 0
    inference_priority3: int = 0
    experimental_flags: tuple[int, ...] = ()
    max_delegated_partitions: int = 1


def _gpu_options(options: Options) -> Options:
    return replace(options, accelerators=Accelerator.GPU | Accelerator.CPU)


class GpuDelegateV2(Delegate):
    """The (Android-style) GPU delegate: selects LiteRT's GPU accelerator (WebGPU on Linux and Windows).

    If the runtime cannot compile the model for the GPU (no adapter, unsupported ops), the CPU is used and the
    interpreter reports ``did_fallback``.
    """

    name = "GPU"

    def __init__(self, options: GpuDelegateOptionsV2 | None = None) -> None:
        self.options = options or GpuDelegateOptionsV2()

    def _apply_to_options(self, options: Options) -> Options:
        plat = current_platform()
        if plat not in ("linux", "windows", "android"):
            raise UnsupportedError(
                f"GpuDelegateV2 is the Android/Linux/Windows GPU delegate; on {plat} use GpuDelegate (Metal)"
            )
        if plat == "android":
            raise UnsupportedError("GpuDelegateV2 on Android needs the LiteRT AAR's GPU accelerator, which this "
                                   "package does not ship")
        return _gpu_options(options)


@dataclass(frozen=True)
class GpuDelegateOptions:
    """Metal delegate options (tflite_flutter names); recorded, runtime defaults apply."""

    allow_precision_loss: bool = False
    wait_type: int = 0
    enable_quantization: bool = True


class GpuDelegate(Delegate):
    """The Metal GPU delegate (macOS): selects LiteRT's GPU accelerator backed by Metal."""

    name = "Metal"

    def __init__(self, options: GpuDelegateOptions | None = None) -> None:
        self.options = options or GpuDelegateOptions()

    def _apply_to_options(self, options: Options) -> Options:
        plat = current_platform()
        if plat not in ("macos", "ios"):
            raise UnsupportedError(
                f"GpuDelegate is the Metal delegate and exists on macOS and iOS (not {plat}); "
                "use GpuDelegateV2 for the GPU on Linux and Windows"
            )
        return _gpu_options(options)


@dataclass(frozen=True)
class CoreMlDelegateOptions:
    enabled_devices: int = 0
    coreml_version: int = 0
    max_delegated_partitions: int = 0
    min_nodes_per_partition: int = 2


class CoreMlDelegate(Delegate):
    """The Core ML delegate exists only in TFLite's iOS/macOS builds; LiteRT 2.3.0 has no Core ML accelerator."""

    name = "CoreML"

    def __init__(self, options: CoreMlDelegateOptions | None = None) -> None:
        self.options = options or CoreMlDelegateOptions()

    def _apply_to_options(self, options: Options) -> Options:
        raise UnsupportedError(
            "CoreMlDelegate exists in TFLite's iOS/macOS builds only; the LiteRT 2.3.0 runtime has no Core ML "
            "accelerator: on macOS use GpuDelegate (Metal) or PerformanceConfig.gpu()"
        )


class FlexDelegate(Delegate):
    """Select TF ops (Flex). Provided by the optional ``litert-sdk-flex`` package (from a checkout:
    ``pip install ./sdk/python ./flex``; ``pip install "litert-sdk[flex]"`` once published)."""

    name = "Flex"

    @classmethod
    def create(cls) -> FlexDelegate:
        return cls()

    def _apply_to_options(self, options: Options) -> Options:
        try:
            import litert_sdk_flex  # type: ignore[import-not-found]
        except ImportError:
            from .custom_ops import FLEX_INSTALL_HINT

            raise UnsupportedError(f"FlexDelegate needs the Flex package: {FLEX_INSTALL_HINT}") from None
        return litert_sdk_flex.apply_to_options(options)  # type: ignore[no-any-return]


@dataclass
class InterpreterOptions:
    """flutter_litert's InterpreterOptions: thread count, delegates and custom-op switches.

    Pass it as ``Interpreter(model_path=..., options=interpreter_options)``.
    """

    threads: int | None = None
    delegates: list[Delegate] = field(default_factory=list)
    use_nnapi: bool = False
    mediapipe_custom_ops: bool = False

    def add_delegate(self, delegate: Delegate) -> None:
        if not isinstance(delegate, Delegate):
            raise InvalidArgumentError(f"expected a litert_sdk.delegates.Delegate, got {type(delegate).__name__}")
        self.delegates.append(delegate)

    def add_mediapipe_custom_ops(self) -> None:
        """Register the MediaPipe custom-op kernels (Convolution2DTransposeBias, attention ops)."""
        self.mediapipe_custom_ops = True

    def to_options(self, default_threads: int | None = None) -> Options:
        """The runtime options; ``default_threads`` (a pool's share of the cores) applies when ``threads`` is
        unset, else :func:`~litert_sdk.default_num_threads`."""
        if self.use_nnapi:
            raise UnsupportedError("NNAPI exists on Android only and is deprecated; LiteRT uses NPU accelerators")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise InvalidArgumentError(f"threads must be a positive int, got {self.threads!r}")
        options = Options(cpu=CpuOptions(num_threads=self.threads or default_threads or default_num_threads()))
        for d in self.delegates:
            options = d._apply_to_options(options)
        if self.mediapipe_custom_ops:
            options = _with_mediapipe_ops(options)
        return options


def _with_mediapipe_ops(options: Options) -> Options:
    enable: Any = getattr(options, "with_mediapipe_custom_ops", None)
    if enable is None:
        raise UnsupportedError("this build of litert_sdk has no MediaPipe custom-op kernels")
    return enable()  # type: ignore[no-any-return]
