// Shared helpers of the litert_sdk._native extension: error translation, dtype mapping, aligned storage.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <atomic>
#include <cstdio>  // nanobind headers use stderr (nanobind issue 1438)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "litert_sdk/litert_c_abi.h"

namespace nb = nanobind;

namespace litert_sdk {

// Which Python exception class (litert_sdk.errors) an Error becomes.
enum class ErrorKind {
  kRuntime,
  kInvalidArgument,
  kUnsupported,
  kNotFound,
  kModel,
  kCompilation,
  kClosed,
  kCustomOp,
  kReentrant
};

// Thrown by native code; translated to litert_sdk.errors.* by the translator registered in module.cc.
struct Error : std::exception {
  Error(ErrorKind kind, int status, std::string message) : kind(kind), status(status), message(std::move(message)) {}
  const char* what() const noexcept override { return message.c_str(); }
  ErrorKind kind;
  int status;  // LiteRtStatus, or -1 when the error is the SDK's own
  std::string message;
};

[[noreturn]] inline void raise(ErrorKind kind, std::string message) { throw Error(kind, -1, std::move(message)); }

ErrorKind kind_for_status(LiteRtStatus status);

// Throws Error for a non-Ok status. `what` names the operation; `detail` (e.g. runtime error messages) is appended.
inline void check(LiteRtStatus status, const char* what, const std::string& detail = {}) {
  if (status == kLiteRtStatusOk) return;
  std::string msg = std::string(what) + " failed: " + litert_sdk_status_name(status) + " (status " +
                    std::to_string(static_cast<int>(status)) + ")";
  if (!detail.empty()) msg += ": " + detail;
  throw Error(kind_for_status(status), static_cast<int>(status), std::move(msg));
}

// Defines `_install_hooks` and translates Error (and stray C++ exceptions) into litert_sdk.errors types.
void register_error_translator(nb::module_& m);

// Python callables installed by litert_sdk._runtime (see common.cc); hook() raises if they are missing.
enum class Hook { kErrorFactory, kRuntimeOutput, kStringsUnpack, kIsPackedStrings, kCount };
nb::object hook(Hook h);

// ---- fork safety -------------------------------------------------------------------------------------------
// The runtime's objects own worker threads (XNNPACK's thread pool) and mutexes that a child of fork() inherits
// without the threads: destroying or running them there crashes or hangs. Every owner of a runtime handle records
// the fork generation it was created in; in a child (a later generation) it never touches the handle again: uses
// raise ClosedError and destruction forgets the handle (the child's copy of the memory is released at exit).
// The generation is bumped by a pthread_atfork child handler (no fork on Windows: always 0).
uint64_t fork_generation();
inline bool forked_since(uint64_t generation) { return fork_generation() != generation; }

// ---- element types ------------------------------------------------------------------------------------
// Size in bytes of one element, or 0 for types numpy cannot hold (string, int4/int2, resource, variant, bf16).
size_t element_size(LiteRtElementType type);
const char* element_type_name(LiteRtElementType type);
nb::dlpack::dtype element_dlpack_dtype(LiteRtElementType type);
bool dtype_matches(LiteRtElementType type, const nb::dlpack::dtype& dt);
std::string dlpack_dtype_name(const nb::dlpack::dtype& dt);

// ---- layouts --------------------------------------------------------------------------------------------
std::vector<int64_t> layout_dims(const LiteRtLayout& layout);
LiteRtLayout make_layout(const std::vector<int64_t>& dims);
// Number of elements of a static layout; throws InvalidArgument on dynamic (negative) dims or overflow.
size_t layout_num_elements(const LiteRtLayout& layout, const char* what);
std::string dims_to_string(const std::vector<int64_t>& dims);

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

// ---- runtime log capture ------------------------------------------------------------------------------
// The runtime prints a few lines straight to stderr (e.g. TFLite's one-off XNNPACK INFO line) that its logger
// option cannot silence. While quiet mode is on, native calls that may print run under a StderrCapture, and the
// captured text is forwarded to the Python logger "litert_sdk.runtime".
void set_quiet(bool quiet);
bool quiet();

class StderrCapture {
 public:
  // A no-op unless quiet() is on or `force` is set (used to read the runtime's reason for a failed call).
  explicit StderrCapture(bool force = false);
  ~StderrCapture();
  // Stop capturing and return the captured text (idempotent).
  std::string finish();

 private:
  int saved_fd_ = -1;
  int read_fd_ = -1;
  bool active_ = false;
  std::string text_;
  std::unique_lock<std::mutex> lock_;
};

// Forward captured runtime output to Python logging (needs the GIL).
void forward_runtime_log(const std::string& text);

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
