// Shared plumbing of the MediaPipe kernels: a C++ base class per op instance, C trampolines that turn it into a
// LiteRtSdkCustomOp table entry, and RAII access to the runtime's tensor buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <new>
#include <string>
#include <vector>

#include "litert_sdk/custom_op_api.h"

namespace litert_mediapipe {

// One op instance (one compiled model, one custom code). Subclasses set `error` before returning a failure.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual LiteRtStatus Init(const uint8_t* options, size_t size) = 0;
  virtual LiteRtStatus OutputLayouts(size_t num_inputs, const LiteRtLayout* inputs, size_t num_outputs,
                                     LiteRtLayout* outputs) = 0;
  virtual LiteRtStatus Run(size_t num_inputs, const LiteRtTensorBuffer* inputs, size_t num_outputs,
                           LiteRtTensorBuffer* outputs) = 0;

  LiteRtStatus Fail(LiteRtStatus status, std::string message) {
    error = std::move(message);
    return status;
  }
  LiteRtStatus Invalid(std::string message) { return Fail(kLiteRtStatusErrorInvalidArgument, std::move(message)); }

  std::string error;
};

// A float32 tensor buffer locked for the duration of a Run.
class FloatTensor {
 public:
  FloatTensor() = default;
  FloatTensor(const FloatTensor&) = delete;
  FloatTensor& operator=(const FloatTensor&) = delete;
  ~FloatTensor() {
    if (locked_) LiteRtUnlockTensorBuffer(buffer_);
  }

  // Locks `buffer`; false (with `*error`) when it is not float32 or cannot be locked.
  bool Lock(LiteRtTensorBuffer buffer, LiteRtTensorBufferLockMode mode, const char* what, std::string* error) {
    buffer_ = buffer;
    LiteRtRankedTensorType type;
    std::memset(&type, 0, sizeof(type));
    if (LiteRtGetTensorBufferTensorType(buffer, &type) != kLiteRtStatusOk) {
      *error = std::string("cannot read the type of ") + what;
      return false;
    }
    if (type.element_type != kLiteRtElementTypeFloat32) {
      *error = std::string(what) + " must be float32 (element type " + std::to_string(type.element_type) + ")";
      return false;
    }
    dims_.assign(type.layout.dimensions, type.layout.dimensions + type.layout.rank);
    size_t n = 1;
    for (int32_t d : dims_) {
      if (d < 0) {
        *error = std::string(what) + " has a dynamic shape";
        return false;
      }
      n *= static_cast<size_t>(d);
    }
    size_t bytes = 0;
    if (LiteRtGetTensorBufferSize(buffer, &bytes) != kLiteRtStatusOk || bytes < n * sizeof(float)) {
      *error = std::string(what) + ": buffer smaller than its shape";
      return false;
    }
    void* addr = nullptr;
    if (LiteRtLockTensorBuffer(buffer, &addr, mode) != kLiteRtStatusOk || !addr) {
      *error = std::string("cannot lock ") + what;
      return false;
    }
    locked_ = true;
    data_ = static_cast<float*>(addr);
    size_ = n;
    return true;
  }

  float* data() const { return data_; }
  size_t size() const { return size_; }
  const std::vector<int32_t>& dims() const { return dims_; }
  int rank() const { return static_cast<int>(dims_.size()); }
  int32_t dim(int i) const { return dims_[static_cast<size_t>(i)]; }

 private:
  LiteRtTensorBuffer buffer_ = nullptr;
  bool locked_ = false;
  float* data_ = nullptr;
  size_t size_ = 0;
  std::vector<int32_t> dims_;
};

inline LiteRtLayout MakeLayout(std::initializer_list<int32_t> dims) {
  LiteRtLayout layout;
  std::memset(&layout, 0, sizeof(layout));
  layout.rank = static_cast<unsigned>(dims.size());
  size_t i = 0;
  for (int32_t d : dims) layout.dimensions[i++] = d;
  return layout;
}

inline std::string LayoutString(const LiteRtLayout& l) {
  std::string s = "[";
  for (unsigned i = 0; i < l.rank && i < LITERT_SDK_TENSOR_MAX_RANK; ++i)
    s += (i ? ", " : "") + std::to_string(l.dimensions[i]);
  return s + "]";
}

// C entry points for a Kernel subclass T (one table entry per op).
template <typename T>
struct KernelEntry {
  static void* Create(void*) { return new (std::nothrow) T(); }
  static void DestroyInstance(void* instance) { delete static_cast<T*>(instance); }
  static const char* LastError(void* instance) { return static_cast<T*>(instance)->error.c_str(); }
  static LiteRtStatus Init(void* ud, const void* data, size_t size) {
    auto* k = static_cast<T*>(ud);
    k->error.clear();
    try {
      return k->Init(static_cast<const uint8_t*>(data), data ? size : 0);
    } catch (const std::exception& e) {
      return k->Fail(kLiteRtStatusErrorRuntimeFailure, e.what());
    }
  }
  static LiteRtStatus Layouts(void* ud, size_t ni, const LiteRtLayout* in, size_t no, LiteRtLayout* out) {
    auto* k = static_cast<T*>(ud);
    k->error.clear();
    try {
      return k->OutputLayouts(ni, in, no, out);
    } catch (const std::exception& e) {
      return k->Fail(kLiteRtStatusErrorRuntimeFailure, e.what());
    }
  }
  static LiteRtStatus Run(void* ud, size_t ni, const LiteRtTensorBuffer* in, size_t no, LiteRtTensorBuffer* out) {
    auto* k = static_cast<T*>(ud);
    k->error.clear();
    try {
      return k->Run(ni, in, no, out);
    } catch (const std::exception& e) {
      return k->Fail(kLiteRtStatusErrorRuntimeFailure, e.what());
    }
  }
  static LiteRtStatus Destroy(void*) { return kLiteRtStatusOk; }

  static LiteRtSdkCustomOp Op(const char* name, int version) {
    LiteRtSdkCustomOp op;
    std::memset(&op, 0, sizeof(op));
    op.name = name;
    op.version = version;
    op.kernel = LiteRtCustomOpKernel{Init, Layouts, Run, Destroy};
    op.create_instance = Create;
    op.destroy_instance = DestroyInstance;
    op.last_error = LastError;
    op.op_data = nullptr;
    return op;
  }
};

// The table entries, defined in each op's source file.
LiteRtSdkCustomOp Convolution2DTransposeBiasOp();
LiteRtSdkCustomOp Landmarks2TransformMatrixOp();
LiteRtSdkCustomOp TransformLandmarksOp();
LiteRtSdkCustomOp TransformTensorBilinearOp();

}  // namespace litert_mediapipe
