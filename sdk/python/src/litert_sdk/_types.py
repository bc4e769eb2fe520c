"""Element types of the runtime and their numpy equivalents."""

from __future__ import annotations

from ._lazy import np

__all__ = ["ELEMENT_TYPE_NAMES", "numpy_dtype", "element_type_name", "ElementType"]

# LiteRtElementType values (identical to TfLiteType).
ELEMENT_TYPE_NAMES: dict[int, str] = {
    0: "none", 1: "float32", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool", 7: "int16",
    8: "complex64", 9: "int8", 10: "float16", 11: "float64", 12: "complex128", 13: "uint64", 14: "resource",
    15: "variant", 16: "uint32", 17: "uint16", 18: "int4", 19: "bfloat16", 20: "int2",
}

# element type -> numpy scalar type name; types numpy cannot hold are reported in tensor details with the
# stand-ins tflite_runtime uses. Resolved to numpy types on first use (numpy is imported lazily).
_NUMPY_NAMES: dict[int, str] = {
    1: "float32", 2: "int32", 3: "uint8", 4: "int64", 6: "bool_", 7: "int16", 8: "complex64", 9: "int8",
    10: "float16", 11: "float64", 12: "complex128", 13: "uint64", 16: "uint32", 17: "uint16",
}
_STANDIN_NAMES: dict[int, str] = {5: "bytes_", 14: "int32", 15: "int32", 18: "int8", 19: "float16", 20: "int8"}
_NUMPY: dict[int, type] = {}
_DETAIL_STANDINS: dict[int, type] = {}


def _tables() -> dict[int, type]:
    if not _NUMPY:
        _DETAIL_STANDINS.update({k: getattr(np, v) for k, v in _STANDIN_NAMES.items()})
        _NUMPY.update({k: getattr(np, v) for k, v in _NUMPY_NAMES.items()})
    return _NUMPY


class ElementType:
    """Named constants for the runtime's element types."""

    FLOAT32 = 1
    INT32 = 2
    UINT8 = 3
    INT64 = 4
    STRING = 5
    BOOL = 6
    INT16 = 7
    COMPLEX64 = 8
    INT8 = 9
    FLOAT16 = 10
    FLOAT64 = 11
    COMPLEX128 = 12
    UINT64 = 13
    RESOURCE = 14
    VARIANT = 15
    UINT32 = 16
    UINT16 = 17
    INT4 = 18
    BFLOAT16 = 19
    INT2 = 20


def element_type_name(element_type: int) -> str:
    return ELEMENT_TYPE_NAMES.get(int(element_type), f"unknown({element_type})")


def numpy_dtype(element_type: int) -> type[np.generic] | None:
    """numpy scalar type for an element type, or None when numpy cannot hold it (string, int4, resource...)."""
    return (_NUMPY or _tables()).get(int(element_type))


def detail_dtype(element_type: int) -> type:
    """dtype reported in tensor details (tflite_runtime compatible), with stand-ins for non-numpy types."""
    t = (_NUMPY or _tables()).get(int(element_type))
    if t is not None:
        return t
    return _DETAIL_STANDINS.get(int(element_type), np.void)
