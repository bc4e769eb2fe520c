"""litert_sdk: run LiteRT (TensorFlow Lite) models from Python on Google's official LiteRT runtime.

Quick start::

    import numpy as np
    import litert_sdk

    interpreter = litert_sdk.Interpreter(model_path="model.tflite")   # drop-in for tflite_runtime's Interpreter
    interpreter.allocate_tensors()

    model = litert_sdk.CompiledModel.from_file("model.tflite")        # the LiteRT CompiledModel API
    outputs = model.run([np.zeros((1, 128, 128, 3), np.float32)])

Submodules are imported lazily, so ``import litert_sdk`` is cheap and loads the native runtime on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    "Interpreter": "interpreter",
    "SignatureRunner": "interpreter",
    "CompiledModel": "compiled_model",
    "TensorBuffer": "tensor_buffer",
    "HardwareAccelerator": "hardware_accelerator",
    "Model": "model",
    "TensorSpec": "model",
    "SignatureSpec": "model",
    "Quantization": "model",
    "Options": "options",
    "CpuOptions": "options",
    "Accelerator": "options",
    "XNNPackFlags": "options",
    "default_num_threads": "options",
    "MAX_NUM_THREADS": "options",
    "Environment": "_runtime",
    "default_environment": "_runtime",
    "runtime_version": "_runtime",
    "list_accelerators": "_runtime",
    "DEFAULT_XNNPACK_FLAGS": "options",
    "VerificationReport": "verification",
    "verify_compiled_model": "verification",
    "PerformanceConfig": "performance",
    "PerformanceMode": "performance",
    "InterpreterFactory": "performance",
    "InterpreterOptions": "delegates",
    "XNNPackDelegate": "delegates",
    "XNNPackDelegateOptions": "delegates",
    "GpuDelegate": "delegates",
    "GpuDelegateOptions": "delegates",
    "GpuDelegateV2": "delegates",
    "GpuDelegateOptionsV2": "delegates",
    "CoreMlDelegate": "delegates",
    "CoreMlDelegateOptions": "delegates",
    "FlexDelegate": "delegates",
    "AsyncInterpreter": "concurrency",
    "IsolateInterpreter": "concurrency",
    "InterpreterPool": "concurrency",
    "CompiledModelPool": "concurrency",
    "IsolatedModel": "isolation",
    "ElementType": "_types",
    "LiteRtError": "errors",
    "InvalidArgumentError": "errors",
    "NotFoundError": "errors",
    "ModelError": "errors",
    "UnsupportedError": "errors",
    "RuntimeFailure": "errors",
    "CompilationError": "errors",
    "ClosedError": "errors",
    "ReentrantCallError": "errors",
    "InvalidStateError": "errors",
    "CustomOpError": "errors",
    "CustomOp": "custom_ops",
    "CustomOpLibrary": "custom_ops",
    "load_custom_op_library": "custom_ops",
    "python_op": "custom_ops",
    "register_python_op": "custom_ops",
    "WeightsFileError": "errors",
    "RuntimeArgumentError": "errors",
    "ValueDependentShapeError": "errors",
    "Trainer": "training",
    "verify_model": "_verifier",
}

# Written out (not computed from _EXPORTS) so type checkers see the re-exports; test_structure checks it matches.
__all__ = ["Accelerator", "AsyncInterpreter", "ClosedError", "CompilationError", "CompiledModel",
    "CompiledModelPool", "CoreMlDelegate", "CoreMlDelegateOptions", "CpuOptions", "CustomOp", "CustomOpError",
    "CustomOpLibrary", "DEFAULT_XNNPACK_FLAGS", "ElementType", "Environment", "FlexDelegate", "GpuDelegate",
    "GpuDelegateOptions", "GpuDelegateOptionsV2", "GpuDelegateV2", "HardwareAccelerator", "Interpreter",
    "InterpreterFactory", "InterpreterOptions", "InterpreterPool", "InvalidArgumentError", "InvalidStateError",
    "IsolateInterpreter", "IsolatedModel", "LiteRtError", "MAX_NUM_THREADS", "Model", "ModelError", "NotFoundError",
    "Options", "PerformanceConfig", "PerformanceMode", "Quantization", "ReentrantCallError", "RuntimeArgumentError",
    "RuntimeFailure", "SignatureRunner", "SignatureSpec", "TensorBuffer", "TensorSpec", "Trainer",
    "UnsupportedError", "ValueDependentShapeError", "VerificationReport", "WeightsFileError", "XNNPackDelegate",
    "XNNPackDelegateOptions", "XNNPackFlags", "default_environment", "default_num_threads", "list_accelerators",
    "load_custom_op_library", "python_op", "register_python_op", "runtime_version", "verify_compiled_model",
    "verify_model", "__version__", "errors", "utils", "delegates", "vision", "training", "custom_ops",
    "weights"]

if TYPE_CHECKING:  # pragma: no cover - static view of the lazy exports
    from . import custom_ops, delegates, errors, training, utils, vision
    from ._runtime import Environment, default_environment, list_accelerators, runtime_version
    from ._types import ElementType
    from ._verifier import verify_model
    from .compiled_model import CompiledModel
    from .concurrency import AsyncInterpreter, CompiledModelPool, InterpreterPool, IsolateInterpreter
    from .custom_ops import CustomOp, CustomOpLibrary, load_custom_op_library, python_op, register_python_op
    from .delegates import (
        CoreMlDelegate,
        CoreMlDelegateOptions,
        FlexDelegate,
        GpuDelegate,
        GpuDelegateOptions,
        GpuDelegateOptionsV2,
        GpuDelegateV2,
        InterpreterOptions,
        XNNPackDelegate,
        XNNPackDelegateOptions,
    )
    from .errors import (
        ClosedError,
        CompilationError,
        CustomOpError,
        InvalidArgumentError,
        InvalidStateError,
        LiteRtError,
        ModelError,
        NotFoundError,
        ReentrantCallError,
        RuntimeArgumentError,
        RuntimeFailure,
        UnsupportedError,
        ValueDependentShapeError,
        WeightsFileError,
    )
    from .hardware_accelerator import HardwareAccelerator
    from .interpreter import Interpreter, SignatureRunner
    from .isolation import IsolatedModel
    from .model import Model, Quantization, SignatureSpec, TensorSpec
    from .options import (
        DEFAULT_XNNPACK_FLAGS,
        MAX_NUM_THREADS,
        Accelerator,
        CpuOptions,
        Options,
        XNNPackFlags,
        default_num_threads,
    )
    from .performance import InterpreterFactory, PerformanceConfig, PerformanceMode
    from .tensor_buffer import TensorBuffer
    from .training import Trainer
    from .verification import VerificationReport, verify_compiled_model


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is not None:
        value = getattr(importlib.import_module(f".{mod}", __name__), name)
        globals()[name] = value
        return value
    if name in ("errors", "utils", "delegates", "vision", "training", "custom_ops", "weights"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'litert_sdk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
