"""``TensorBuffer``: ai_edge_litert's host tensor buffer, for :class:`~litert_sdk.CompiledModel`'s
``run_by_index`` / ``run_by_name``.

``from litert_sdk.tensor_buffer import TensorBuffer`` replaces ``from ai_edge_litert.tensor_buffer import
TensorBuffer``. A buffer is 64-byte aligned host memory with a dtype and a shape:

* :meth:`TensorBuffer.create_from_host_memory` wraps a C-contiguous numpy array without copying it (an aligned copy
  is made when the array is not 64-byte aligned, as ai_edge_litert does); runs read inputs from and write outputs
  into that memory directly;
* ``CompiledModel.create_input_buffers`` / ``create_output_buffers`` allocate buffers of the tensors' shapes.

:meth:`~TensorBuffer.write` copies an array's bytes in, :meth:`~TensorBuffer.read` returns ``num_elements`` elements
reinterpreted as a dtype, as upstream. float16, bfloat16, float8_e4m3fn and float8_e5m2 use ml_dtypes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ._lazy import np
from .errors import InvalidArgumentError, RuntimeArgumentError

__all__ = ["TensorBuffer"]

# dtype names the buffers accept (ai_edge_litert's set, plus int16 and int64, which models use for inputs).
_DTYPE_NAMES = (
    "float32", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2",
    "int32", "int8", "uint8", "bool", "int16", "int64",
)
_ML_DTYPES = ("bfloat16", "float8_e4m3fn", "float8_e5m2")


_NUMPY_DTYPES: dict[str, Any] = {}


def _numpy_dtype(name: str) -> Any:
    d = _NUMPY_DTYPES.get(name)
    if d is None:
        if name in _ML_DTYPES:
            import ml_dtypes

            d = np.dtype(getattr(ml_dtypes, name))
        else:
            d = np.dtype(name)
        _NUMPY_DTYPES[name] = d
    return d


_NAME_CACHE: dict[Any, str] = {}  # dtype or scalar type -> name (the lookup is most of a small write's cost)


def _dtype_name(dtype: Any) -> str:
    """The buffer dtype name of a numpy dtype or scalar type; ``InvalidArgumentError`` (a ValueError) when the
    buffers do not support it."""
    try:
        return _NAME_CACHE[dtype]
    except (KeyError, TypeError):
        pass
    name = _check_dtype(dtype)
    try:
        _NAME_CACHE[dtype] = name
    except TypeError:  # an unhashable dtype-like
        pass
    return name


def _check_dtype(dtype: Any) -> str:
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise InvalidArgumentError(f"Unsupported dtype: {dtype}") from None
    name = "bool" if d.kind == "b" else d.name
    if name not in _DTYPE_NAMES or not d.isnative or _numpy_dtype(name) != d:
        raise InvalidArgumentError(f"Unsupported dtype: {dtype}")
    return name


def _aligned_bytes(nbytes: int, alignment: int) -> Any:
    """A zeroed uint8 array of ``nbytes`` whose address is a multiple of ``alignment``."""
    raw = np.zeros(nbytes + alignment, np.uint8)
    start = (-raw.ctypes.data) % alignment
    return raw[start:start + nbytes]


class TensorBuffer:
    """Host memory holding one tensor: 64-byte aligned, with a dtype name and a shape.

    Create it with :meth:`create_from_host_memory` or ``CompiledModel.create_input_buffers`` (and the other
    ``create_*`` methods); pass it to ``CompiledModel.run_by_index`` / ``run_by_name``.
    """

    _HOST_MEMORY_BUFFER_ALIGNMENT = 64

    def __init__(self, storage: Any, dtype: str, shape: Sequence[int], owner: Any = None) -> None:
        """Internal: ``storage`` is a 1-D uint8 array over 64-byte aligned memory of at least the tensor's bytes
        (``owner`` is whatever keeps it alive, e.g. the caller's array)."""
        self._storage: Any = storage
        self._owner = owner
        self._dtype = dtype
        self._shape = [int(d) for d in shape]
        self._nbytes = math.prod(self._shape) * _numpy_dtype(dtype).itemsize
        # what an input binds: exactly the tensor's bytes (the storage may be larger for outputs)
        self._input_view: Any = storage if storage.size == self._nbytes else storage[:self._nbytes]

    # -- creation --------------------------------------------------------------------------------------------------
    @classmethod
    def create_from_host_memory(cls, data_array: Any) -> TensorBuffer:
        """A buffer over ``data_array``'s memory (no copy): a C-contiguous numpy array of a supported dtype.

        The buffer's shape is ``[data_array.size]``. When the array is not 64-byte aligned, an aligned copy is
        made and the buffer refers to the copy (as in ai_edge_litert). Raises ``InvalidArgumentError`` (a
        ``ValueError``) for other objects, non-contiguous arrays and unsupported dtypes.
        """
        if not isinstance(data_array, np.ndarray):
            raise InvalidArgumentError("data_array must be a NumPy array")
        name = _dtype_name(data_array.dtype)
        if not data_array.flags.c_contiguous:
            raise InvalidArgumentError("data_array must be C-contiguous for zero-copy host-memory binding")
        array = data_array
        if array.ctypes.data % cls._HOST_MEMORY_BUFFER_ALIGNMENT:
            storage = _aligned_bytes(array.nbytes, cls._HOST_MEMORY_BUFFER_ALIGNMENT)
            storage[:] = array.reshape(-1).view(np.uint8)
            return cls(storage, name, [array.size])
        return cls(array.reshape(-1).view(np.uint8), name, [array.size], owner=array)

    @classmethod
    def _allocate(cls, dtype: str, shape: Sequence[int], nbytes: int) -> TensorBuffer:
        """A zeroed buffer of ``nbytes`` (at least the tensor's bytes) for a tensor of ``dtype`` and ``shape``."""
        return cls(_aligned_bytes(nbytes, cls._HOST_MEMORY_BUFFER_ALIGNMENT), dtype, shape)

    # -- data ------------------------------------------------------------------------------------------------------
    def _live_storage(self, what: str) -> Any:
        if self._storage is None:
            raise RuntimeArgumentError(f"{what}: the TensorBuffer has been destroyed")
        return self._storage

    def write(self, data_array: Any) -> None:
        """Copy ``data_array``'s bytes to the start of the buffer (any supported dtype; non-contiguous arrays are
        made contiguous first). ``RuntimeArgumentError`` when it has more bytes than the buffer."""
        if not isinstance(data_array, np.ndarray):
            raise InvalidArgumentError("data_array must be a NumPy array")
        _dtype_name(data_array.dtype)
        storage = self._live_storage("WriteTensorBuffer")
        src = np.ascontiguousarray(data_array).reshape(-1).view(np.uint8)
        if src.size > self._nbytes:
            raise RuntimeArgumentError(
                f"WriteTensorBuffer: source buffer is larger than the tensor buffer ({src.size} bytes into "
                f"{self._nbytes})")
        storage[:src.size] = src

    def read(self, num_elements: int, output_dtype: Any) -> np.ndarray:
        """A new 1-D array of ``num_elements`` elements of ``output_dtype``, read from the start of the buffer (its
        bytes reinterpreted). ``RuntimeArgumentError`` when they are more bytes than the buffer holds."""
        name = _dtype_name(output_dtype)
        storage = self._live_storage("ReadTensorToBuffer")
        count = int(num_elements)
        if count < 0:
            raise InvalidArgumentError(f"num_elements must not be negative, got {num_elements}")
        dtype = _numpy_dtype(name)
        nbytes = count * dtype.itemsize
        if nbytes > self._nbytes:
            raise RuntimeArgumentError(
                f"ReadTensorToBuffer: destination buffer is larger than the tensor buffer ({nbytes} bytes from "
                f"{self._nbytes})")
        return storage[:nbytes].view(dtype).copy()

    def get_tensor_details(self) -> dict[str, Any]:
        """``{"dtype": name, "shape": [dims]}``."""
        self._live_storage("GetTensorDetails")
        return {"dtype": self._dtype, "shape": list(self._shape)}

    def destroy(self) -> None:
        """Release the buffer's memory reference; later use raises (destroying twice is allowed)."""
        self._storage = None
        self._input_view = None
        self._owner = None

    # -- binding (used by CompiledModel) ----------------------------------------------------------------------------
    def _bind(self, output: bool) -> tuple[str, Any]:
        """(dtype name, byte view) for a run: the whole storage for an output, the tensor's bytes for an input.
        ``RuntimeArgumentError`` (a ValueError, as ai_edge_litert raises) once destroyed."""
        if self._storage is None:
            raise RuntimeArgumentError("TensorBuffer has been destroyed")
        return self._dtype, self._storage if output else self._input_view

    def __repr__(self) -> str:
        state = "destroyed" if self._storage is None else f"dtype={self._dtype}, shape={self._shape}"
        return f"TensorBuffer({state})"
