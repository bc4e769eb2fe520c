// Direct numpy array access (hot paths).
#pragma once

#include <cstdio>  // nanobind headers use stderr (nanobind issue 1438)
#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace litert_sdk {

// ---- direct numpy array access (hot paths) -------------------------------------------------------------
// The data pointer, shape and flags of an object whose type is exactly numpy.ndarray, read from numpy's public
// array struct (PyArrayObject_fields and the head of PyArray_Descr, whose layouts numpy 1.x and 2.x share). A
// self-check against numpy's own Python-level view of a probe array runs once; if it disagrees, or numpy is not
// importable, this returns false and callers use the buffer protocol. Needs the GIL.
struct NumpyArrayInfo {
  void* data = nullptr;
  int ndim = 0;
  const Py_ssize_t* shape = nullptr;
  char type = 0;       // the dtype's character code ('f', 'd', 'i', 'l', 'q', 'B', '?', ...)
  bool native_order = false;
  bool c_contiguous = false;
  bool writable = false;
};
bool numpy_array_info(PyObject* obj, NumpyArrayInfo& info);
// Whether the direct path is in use (runs the self-check when numpy is imported).
bool numpy_direct_access();

}  // namespace litert_sdk
