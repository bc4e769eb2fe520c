"""
Native core of litert_sdk: bindings over the official LiteRT C API (libLiteRt).
"""

from collections.abc import Sequence
from typing import Annotated

import numpy
from numpy.typing import NDArray


class Environment:
    """A LiteRT runtime environment (accelerator registry, global options)."""

    def __init__(self, runtime_library_dir: str | None = None, log_severity: int = 4, compiler_cache_dir: str | None = None, dispatch_library_dir: str | None = None) -> None: ...

    def accelerators(self) -> list[tuple[str, int]]:
        """
        List of (name, hardware mask) of the accelerators registered in this environment.
        """

class ModelBytes:
    """
    64-byte aligned memory for a model's bytes (see Model.from_model_bytes).
    """

    def __init__(self, size: int) -> None: ...

    def view(self) -> object:
        """
        A writable uint8 numpy array over the memory (it keeps the memory alive).
        """

    @property
    def size(self) -> int: ...

class Model:
    """A loaded TFLite flatbuffer (LiteRtModel)."""

    @staticmethod
    def from_file(env: Environment, path: str) -> Model: ...

    @staticmethod
    def from_buffer(env: Environment, data: bytes) -> Model: ...

    @staticmethod
    def from_model_bytes(env: Environment, bytes: ModelBytes) -> Model:
        """
        Loads from a ModelBytes' memory (kept alive by the model), without copying it.
        """

    def describe(self) -> dict:
        """Signatures and subgraphs as plain Python data."""

    def metadata(self, key: str) -> object:
        """Metadata buffer stored under `key`, or None."""

    def constant_bytes(self, subgraph: int, tensor_index: int) -> object:
        """Constant (weights) bytes of a tensor, or None."""

class Options:
    """Compilation options: accelerators and opaque (TOML) option payloads."""

    def __init__(self) -> None: ...

    @property
    def hardware_accelerators(self) -> int: ...

    @hardware_accelerators.setter
    def hardware_accelerators(self, arg: int, /) -> None: ...

    def set_opaque(self, identifier: str, toml: str) -> None: ...

    def opaque(self) -> list[tuple[str, str]]: ...

    def add_custom_op(self, code: str, kernel: CustomOpKernel, io_shapes: str = '') -> None:
        """
        Register `kernel` under custom code `code`; `io_shapes` (the static shapes of the code's nodes, in custom_op_api.h's format) is passed to the kernel's configure_instance.
        """

    def custom_op_codes(self) -> list[str]: ...

class CompiledModel:
    """A model compiled for the chosen accelerators (LiteRtCompiledModel)."""

    def __init__(self, model: Model, options: Options) -> None: ...

    def close(self) -> None: ...

    @property
    def closed(self) -> bool: ...

    def check_usable(self) -> None:
        """
        Raise ClosedError (closed, or inherited across fork()) or ReentrantCallError (called from one of this model's kernels) where other calls would.
        """

    def set_always_release_gil(self, on: bool) -> None:
        """
        Release the GIL on every run (models with control flow), not only on runs longer than about 20 us.
        """

    @property
    def num_signatures(self) -> int: ...

    def input_shape(self, signature: int, index: int) -> list[int]: ...

    def output_shape(self, signature: int, index: int) -> list[int]: ...

    def runtime_output_shapes(self, signature: int) -> list[list[int]]: ...

    def resize_input(self, signature: int, index: int, shape: Sequence[int], strict: bool = True) -> None: ...

    def set_input(self, signature: int, index: int, array: object) -> None: ...

    @property
    def last_run_us(self) -> float:
        """Wall time of the last run in microseconds."""

    def set_input_strings(self, signature: int, index: int, packed: bytes, shape: Sequence[int]) -> None: ...

    def get_input(self, signature: int, index: int) -> object: ...

    def input_view(self, signature: int, index: int) -> object: ...

    def output_view(self, signature: int, index: int) -> object: ...

    def get_output(self, signature: int, index: int) -> object: ...

    def set_division_guards(self, guards: Sequence[tuple[int, int, int, int, str]]) -> None:
        """
        Refuse runs whose inputs hold INT_MIN / -1 for these integer divisions (see compiled_model.h).
        """

    def invoke(self, signature: int) -> None: ...

    def prepare(self, signature: int) -> None:
        """Allocate the signature's buffers now."""

    def set_shape_hook(self, hook: object | None) -> None: ...

    def run(self, signature: int, inputs: list, auto_resize: bool = True) -> list: ...

    def run_exact(self, signature: int, inputs: object | None) -> object:
        """
        run() when `inputs` is a list of exact-match arrays (small, C-contiguous, same dtype and shape), else None.
        """

    def is_fully_accelerated(self) -> bool: ...

    def run_host_buffers(self, signature: int, inputs: Sequence[Annotated[NDArray[numpy.uint8], dict(shape=(None,), order='C', device='cpu', writable=False)]], outputs: Sequence[Annotated[NDArray[numpy.uint8], dict(shape=(None,), order='C', device='cpu')]]) -> None:
        """
        Run on caller-owned, 64-byte aligned byte views (zero-copy), in signature order.
        """

    def host_buffer_bytes(self, signature: int, index: int, output: bool) -> int:
        """Bytes a host buffer for this input/output needs at its current shape."""

    def error_messages(self) -> str: ...

class CustomOpKernel:
    """
    A custom-op kernel the SDK can register: an entry of a custom-op library's table, or Python callables.
    """

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def origin(self) -> str: ...

    @staticmethod
    def from_python(name: str, run: object, shapes: object) -> CustomOpKernel:
        """
        A kernel calling run(inputs, output_specs, custom_options) and shapes(input_shapes, num_outputs, custom_options) with the GIL held.
        """

    def release_python(self) -> None:
        """
        Drop the Python callables of a Python kernel (later calls fail); used at interpreter exit.
        """

    def __repr__(self) -> str: ...

def load_custom_op_library(path: str) -> list[CustomOpKernel]:
    """Load a custom-op library (it stays loaded) and return its kernels."""

def model_source_bytes(model: Model) -> object:
    """
    The bytes a model was created from in memory (None for models loaded from a file).
    """

class InterpreterFastPath:
    """Native set_tensor/get_tensor/invoke/run of an Interpreter (internal)."""

    def __init__(self, compiled: object, signature: int, inputs: Sequence[tuple[int, int]], outputs: Sequence[tuple[int, int]], run_slots: Sequence[int], ndarray_type: object, owner: object, general: object) -> None: ...

    def set_tensor(self, tensor_index: object | None, value: object | None) -> object: ...

    def get_tensor(self, tensor_index: object | None, subgraph_index: object | None = 0) -> object: ...

    def invoke(self) -> object: ...

    def run(self, input: object | None, output: object | None = None) -> object: ...

def abi_info() -> dict:
    """
    Runtime version, ABI constants, struct sizes and the status-name table.
    """

def status_name(status: int) -> str: ...

def set_quiet(quiet: bool) -> None:
    """
    Capture the runtime's direct stderr output during compile (forwarded to logging) when True.
    """

def quiet() -> bool: ...

def available_memory() -> int:
    """
    Bytes of memory available now: MemAvailable of /proc/meminfo on Linux, else the physical memory. Native host blocks larger than this are refused (OutOfMemoryError); litert_sdk uses it to bound tensor sizes.
    """

def numpy_direct_access() -> bool:
    """
    Whether hot paths read numpy arrays directly (numpy's array struct passed the self-check).
    """
