// Aligned host storage and numpy arrays over it.
#pragma once

#include <cstdio>  // nanobind headers use stderr (nanobind issue 1438)
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "errors.h"
#include "litert_sdk/litert_c_abi.h"

namespace litert_sdk {

// Bytes of memory available now: MemAvailable of /proc/meminfo on Linux, else the physical memory (else SIZE_MAX/2).
// AlignedBlock refuses larger blocks; litert_sdk's Python side (compiled_model._memory_limit) reads it through the
// binding `_native.available_memory()`.
size_t available_memory();

// ---- aligned host storage ---------------------------------------------------------------------------
// A 64-byte aligned heap block, shared between the native slot that owns it and numpy views over it.
struct AlignedBlock {
  explicit AlignedBlock(size_t bytes, bool zero = true);
  ~AlignedBlock();
  AlignedBlock(const AlignedBlock&) = delete;
  AlignedBlock& operator=(const AlignedBlock&) = delete;
  void* data = nullptr;
  size_t size = 0;
};
using BlockPtr = std::shared_ptr<AlignedBlock>;

// A numpy array over `block` (kept alive by the array), with the element type and shape given.
nb::object numpy_view(const BlockPtr& block, LiteRtElementType type, const std::vector<int64_t>& dims, bool readonly);
// A new numpy array (its own aligned memory) holding a copy of `bytes` bytes at `src`.
nb::object numpy_copy(const void* src, LiteRtElementType type, const std::vector<int64_t>& dims);

// Copies a (possibly strided) ndarray into contiguous `dst` of `bytes` bytes. The caller checked dtype/shape.
void copy_ndarray_to(const nb::ndarray<nb::ro>& array, void* dst, size_t bytes);

}  // namespace litert_sdk
