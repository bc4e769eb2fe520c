// Example custom-op library: a "Cumprod" kernel (y = cumulative product of x along `axis`), the op TensorFlow's
// converter emits as a CUSTOM op for tf.math.cumprod with allow_custom_ops=True.
//
// Inputs: x (float32, any shape), axis (int32 scalar). Custom options: a flexbuffer map {T, Tidx, exclusive, reverse};
// this example supports exclusive = reverse = false only and does not read the options. Output: like x.
//
// How a kernel is written (see include/litert_sdk/custom_op_api.h for the full contract):
//   - one instance per compiled model and custom code: create_instance/destroy_instance manage your state;
//   - Init(options) per node, GetOutputLayouts(input layouts) -> output layouts, Run(buffers) per inference;
//   - return a non-Ok status and describe the problem in last_error(): the SDK raises CustomOpError with it.
#include <cstring>
#include <new>
#include <string>

#include "litert_sdk/custom_op_api.h"

namespace {

struct Cumprod {
  std::string error;
};

LiteRtStatus Fail(Cumprod* op, std::string message) {
  op->error = std::move(message);
  return kLiteRtStatusErrorInvalidArgument;
}

void* Create(void*) { return new (std::nothrow) Cumprod(); }
void DestroyInstance(void* instance) { delete static_cast<Cumprod*>(instance); }
const char* LastError(void* instance) { return static_cast<Cumprod*>(instance)->error.c_str(); }

LiteRtStatus Init(void*, const void*, size_t) { return kLiteRtStatusOk; }
LiteRtStatus Destroy(void*) { return kLiteRtStatusOk; }

LiteRtStatus GetOutputLayouts(void* user_data, size_t num_inputs, const LiteRtLayout* inputs, size_t num_outputs,
                              LiteRtLayout* outputs) {
  auto* op = static_cast<Cumprod*>(user_data);
  if (num_inputs != 2 || num_outputs != 1) return Fail(op, "Cumprod takes (x, axis) and has one output");
  outputs[0] = inputs[0];
  outputs[0].has_strides = 0;
  return kLiteRtStatusOk;
}

// Locks a tensor buffer for the scope; remembers its type.
struct Locked {
  LiteRtTensorBuffer buffer = nullptr;
  void* data = nullptr;
  LiteRtRankedTensorType type{};
  bool Lock(LiteRtTensorBuffer b, LiteRtTensorBufferLockMode mode) {
    buffer = b;
    std::memset(&type, 0, sizeof(type));
    if (LiteRtGetTensorBufferTensorType(b, &type) != kLiteRtStatusOk) return false;
    if (LiteRtLockTensorBuffer(b, &data, mode) != kLiteRtStatusOk) {
      data = nullptr;
      return false;
    }
    return true;
  }
  ~Locked() {
    if (data) LiteRtUnlockTensorBuffer(buffer);
  }
};

LiteRtStatus Run(void* user_data, size_t num_inputs, const LiteRtTensorBuffer* inputs, size_t num_outputs,
                 LiteRtTensorBuffer* outputs) {
  auto* op = static_cast<Cumprod*>(user_data);
  if (num_inputs != 2 || num_outputs != 1) return Fail(op, "Cumprod takes (x, axis) and has one output");
  Locked x, axis, y;
  if (!x.Lock(inputs[0], kLiteRtTensorBufferLockModeRead) || !axis.Lock(inputs[1], kLiteRtTensorBufferLockModeRead) ||
      !y.Lock(outputs[0], kLiteRtTensorBufferLockModeWrite))
    return Fail(op, "cannot lock the tensors");
  if (x.type.element_type != kLiteRtElementTypeFloat32 || y.type.element_type != kLiteRtElementTypeFloat32 ||
      axis.type.element_type != kLiteRtElementTypeInt32)
    return Fail(op, "Cumprod supports float32 x with an int32 axis");
  const int rank = static_cast<int>(x.type.layout.rank);
  int a = *static_cast<const int32_t*>(axis.data);
  if (a < -rank || a >= rank)
    return Fail(op, "axis " + std::to_string(a) + " is out of range for a rank-" + std::to_string(rank) + " input");
  if (a < 0) a += rank;
  // view x as [outer, n, inner] around the axis
  size_t outer = 1, n = static_cast<size_t>(x.type.layout.dimensions[a]), inner = 1;
  for (int i = 0; i < a; ++i) outer *= static_cast<size_t>(x.type.layout.dimensions[i]);
  for (int i = a + 1; i < rank; ++i) inner *= static_cast<size_t>(x.type.layout.dimensions[i]);
  const float* src = static_cast<const float*>(x.data);
  float* dst = static_cast<float*>(y.data);
  for (size_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < inner; ++i) {
      float acc = 1.f;
      for (size_t k = 0; k < n; ++k) {
        const size_t idx = (o * n + k) * inner + i;
        acc *= src[idx];
        dst[idx] = acc;
      }
    }
  }
  return kLiteRtStatusOk;
}

const LiteRtSdkCustomOp kOps[] = {
    // name, version, kernel, create_instance, destroy_instance, last_error, op_data, configure_instance (optional)
    {"Cumprod", 1, {Init, GetOutputLayouts, Run, Destroy}, Create, DestroyInstance, LastError, nullptr, nullptr},
};

const LiteRtSdkCustomOpTable kTable = {LITERT_SDK_CUSTOM_OP_API_VERSION, sizeof(LiteRtSdkCustomOp), "my-custom-ops",
                                       sizeof(kOps) / sizeof(kOps[0]), kOps};

}  // namespace

extern "C" LITERT_SDK_CUSTOM_OP_EXPORT int litert_sdk_custom_ops_v1(const LiteRtSdkCustomOpTable** table) {
  *table = &kTable;
  return 0;
}
