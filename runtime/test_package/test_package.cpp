// litert-runtime test_package: run one model end to end through the LiteRT C ABI.
//
//   test_package MODEL.tflite
//
// Creates a silenced environment, loads the model, compiles it for CPU (XNNPACK, 2 threads), fills every input
// with a deterministic pattern, runs every signature, checks each output's shape against the model's signature and
// that its values are finite, and prints one summary line per output followed by "test_package: OK".
// Every status is checked; on failure the status name is printed and the exit code is 1.
#include <litert_sdk/litert_c_abi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#if defined(_WIN32)
#include <malloc.h>
#endif

namespace {

int g_failed = 0;

bool check(LiteRtStatus status, const char* what) {
  if (status == kLiteRtStatusOk) return true;
  std::fprintf(stderr, "test_package: %s failed: status %d (%s)\n", what, static_cast<int>(status),
               litert_sdk_status_name(status));
  g_failed = 1;
  return false;
}

#define CHECK_OR_RETURN(expr)            \
  do {                                   \
    if (!check((expr), #expr)) return 1; \
  } while (0)

void* aligned_alloc64(size_t size) {
  size_t rounded = (size + LITERT_SDK_HOST_MEMORY_ALIGNMENT - 1) / LITERT_SDK_HOST_MEMORY_ALIGNMENT *
                   LITERT_SDK_HOST_MEMORY_ALIGNMENT;
  if (rounded == 0) rounded = LITERT_SDK_HOST_MEMORY_ALIGNMENT;
#if defined(_WIN32)
  return _aligned_malloc(rounded, LITERT_SDK_HOST_MEMORY_ALIGNMENT);
#else
  void* p = nullptr;
  return posix_memalign(&p, LITERT_SDK_HOST_MEMORY_ALIGNMENT, rounded) == 0 ? p : nullptr;
#endif
}

void aligned_free64(void* p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

size_t element_size(LiteRtElementType t) {
  switch (t) {
    case kLiteRtElementTypeBool:
    case kLiteRtElementTypeUInt8:
    case kLiteRtElementTypeInt8: return 1;
    case kLiteRtElementTypeInt16:
    case kLiteRtElementTypeUInt16:
    case kLiteRtElementTypeFloat16:
    case kLiteRtElementTypeBFloat16: return 2;
    case kLiteRtElementTypeFloat32:
    case kLiteRtElementTypeInt32:
    case kLiteRtElementTypeUInt32: return 4;
    case kLiteRtElementTypeInt64:
    case kLiteRtElementTypeUInt64:
    case kLiteRtElementTypeFloat64:
    case kLiteRtElementTypeComplex64: return 8;
    case kLiteRtElementTypeComplex128: return 16;
    default: return 0;  // strings, resources, sub-byte types: not supported by this smoke test
  }
}

size_t num_elements(const LiteRtLayout& layout) {
  size_t n = 1;
  for (unsigned i = 0; i < layout.rank; ++i)
    n *= static_cast<size_t>(layout.dimensions[i] < 0 ? 0 : layout.dimensions[i]);
  return n;
}

std::string shape_str(const LiteRtLayout& layout) {
  std::string s = "[";
  for (unsigned i = 0; i < layout.rank; ++i) {
    if (i) s += ",";
    s += std::to_string(layout.dimensions[i]);
  }
  return s + "]";
}

// Deterministic, type-appropriate input values (the same on every platform).
void fill_pattern(void* data, LiteRtElementType t, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const unsigned v = static_cast<unsigned>((i * 37u + 11u) % 256u);
    switch (t) {
      case kLiteRtElementTypeFloat32:
        static_cast<float*>(data)[i] = static_cast<float>(v) / 255.0f * 2.0f - 1.0f;
        break;
      case kLiteRtElementTypeFloat64: static_cast<double*>(data)[i] = static_cast<double>(v) / 255.0 * 2.0 - 1.0; break;
      case kLiteRtElementTypeInt32: static_cast<int32_t*>(data)[i] = static_cast<int32_t>(v % 16); break;
      case kLiteRtElementTypeInt64: static_cast<int64_t*>(data)[i] = static_cast<int64_t>(v % 16); break;
      case kLiteRtElementTypeUInt8: static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(v); break;
      case kLiteRtElementTypeInt8:
        static_cast<int8_t*>(data)[i] = static_cast<int8_t>(static_cast<int>(v) - 128);
        break;
      case kLiteRtElementTypeBool: static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(v & 1u); break;
      default: break;  // other types: zero-filled by the caller
    }
  }
}

// Value i of a host buffer as double; returns false for types this test does not summarise.
bool value_at(const void* data, LiteRtElementType t, size_t i, double* out) {
  switch (t) {
    case kLiteRtElementTypeFloat32: *out = static_cast<const float*>(data)[i]; return true;
    case kLiteRtElementTypeFloat64: *out = static_cast<const double*>(data)[i]; return true;
    case kLiteRtElementTypeInt32: *out = static_cast<const int32_t*>(data)[i]; return true;
    case kLiteRtElementTypeInt64: *out = static_cast<double>(static_cast<const int64_t*>(data)[i]); return true;
    case kLiteRtElementTypeUInt8: *out = static_cast<const uint8_t*>(data)[i]; return true;
    case kLiteRtElementTypeInt8: *out = static_cast<const int8_t*>(data)[i]; return true;
    case kLiteRtElementTypeInt16: *out = static_cast<const int16_t*>(data)[i]; return true;
    case kLiteRtElementTypeBool: *out = static_cast<const uint8_t*>(data)[i] ? 1.0 : 0.0; return true;
    default: return false;
  }
}

char* dup_cstr(const char* s) {
  const size_t n = std::strlen(s) + 1;
  char* p = static_cast<char*>(std::malloc(n));
  if (p) std::memcpy(p, s, n);
  return p;
}

// Attaches an opaque TOML option (payload freed by the runtime with free()).
bool add_toml_option(LiteRtOptions options, const char* identifier, const char* toml) {
  LiteRtOpaqueOptions opaque = nullptr;
  char* payload = dup_cstr(toml);
  if (!payload) return false;
  if (!check(LiteRtCreateOpaqueOptions(identifier, payload, &std::free, &opaque), "LiteRtCreateOpaqueOptions")) {
    std::free(payload);
    return false;
  }
  if (!check(LiteRtAddOpaqueOptions(options, opaque), "LiteRtAddOpaqueOptions")) {
    LiteRtDestroyOpaqueOptions(opaque);
    return false;
  }
  return true;
}

void print_runtime_errors(LiteRtCompiledModel cm) {
  char* messages = nullptr;
  if (LiteRtCompiledModelGetErrorMessages(cm, &messages) == kLiteRtStatusOk && messages) {
    if (*messages) std::fprintf(stderr, "test_package: runtime messages:\n%s\n", messages);
#if !defined(_WIN32)  // allocated by the runtime's C library; only free it where that is ours
    std::free(messages);
#endif
  }
}

struct HostBuffer {
  LiteRtTensorBuffer handle = nullptr;
  void* data = nullptr;
  size_t bytes = 0;
};

void destroy_buffers(std::vector<HostBuffer>& buffers) {
  for (auto& b : buffers)
    if (b.handle) LiteRtDestroyTensorBuffer(b.handle);  // the runtime calls aligned_free64 on the memory
  buffers.clear();
}

bool make_host_buffer(const LiteRtRankedTensorType& type, HostBuffer* out) {
  const size_t esize = element_size(type.element_type);
  if (esize == 0) {
    std::fprintf(stderr, "test_package: unsupported element type %d\n", static_cast<int>(type.element_type));
    g_failed = 1;
    return false;
  }
  out->bytes = num_elements(type.layout) * esize;
  out->data = aligned_alloc64(out->bytes);
  if (!out->data) {
    std::fprintf(stderr, "test_package: out of memory\n");
    g_failed = 1;
    return false;
  }
  std::memset(out->data, 0, out->bytes);
  if (!check(LiteRtCreateTensorBufferFromHostMemory(&type, out->data, out->bytes, &aligned_free64, &out->handle),
             "LiteRtCreateTensorBufferFromHostMemory")) {
    aligned_free64(out->data);
    out->data = nullptr;
    return false;
  }
  return true;
}

int run_signature(LiteRtModel model, LiteRtCompiledModel cm, LiteRtParamIndex sig_index) {
  LiteRtSignature sig = nullptr;
  const char* key = nullptr;
  LiteRtParamIndex n_in = 0, n_out = 0;
  CHECK_OR_RETURN(LiteRtGetModelSignature(model, sig_index, &sig));
  CHECK_OR_RETURN(LiteRtGetSignatureKey(sig, &key));
  CHECK_OR_RETURN(LiteRtGetNumSignatureInputs(sig, &n_in));
  CHECK_OR_RETURN(LiteRtGetNumSignatureOutputs(sig, &n_out));
  std::printf("signature %zu '%s': %zu input(s), %zu output(s)\n", static_cast<size_t>(sig_index), key ? key : "",
              static_cast<size_t>(n_in), static_cast<size_t>(n_out));

  std::vector<HostBuffer> inputs, outputs;
  struct Cleanup {
    std::vector<HostBuffer>& a;
    std::vector<HostBuffer>& b;
    ~Cleanup() {
      destroy_buffers(a);
      destroy_buffers(b);
    }
  } cleanup{inputs, outputs};

  for (LiteRtParamIndex i = 0; i < n_in; ++i) {
    LiteRtTensor tensor = nullptr;
    LiteRtRankedTensorType type;
    std::memset(&type, 0, sizeof type);
    const char* name = nullptr;
    CHECK_OR_RETURN(LiteRtGetSignatureInputName(sig, i, &name));
    CHECK_OR_RETURN(LiteRtGetSignatureInputTensorByIndex(sig, i, &tensor));
    CHECK_OR_RETURN(LiteRtGetRankedTensorType(tensor, &type));
    // The compiled model's current layout (static models: the model's own shape).
    CHECK_OR_RETURN(LiteRtGetCompiledModelInputTensorLayout(cm, sig_index, i, &type.layout));
    if (type.layout.rank > LITERT_SDK_TENSOR_MAX_RANK) {  // a struct layout mismatch shows up here first
      std::fprintf(stderr, "test_package: input %zu has rank %u: LiteRtLayout does not match the runtime's\n",
                   static_cast<size_t>(i), static_cast<unsigned>(type.layout.rank));
      return 1;
    }
    HostBuffer b;
    if (!make_host_buffer(type, &b)) return 1;
    inputs.push_back(b);
    fill_pattern(b.data, type.element_type, num_elements(type.layout));
    std::printf("  input  %-24s %s type=%d\n", name ? name : "", shape_str(type.layout).c_str(),
                static_cast<int>(type.element_type));
  }

  std::vector<LiteRtLayout> layouts(n_out);
  if (n_out) {
    CHECK_OR_RETURN(LiteRtGetCompiledModelOutputTensorLayouts(cm, sig_index, n_out, layouts.data(), true));
  }
  std::vector<LiteRtRankedTensorType> out_types(n_out);
  std::vector<const char*> out_names(n_out, nullptr);
  for (LiteRtParamIndex i = 0; i < n_out; ++i) {
    LiteRtTensor tensor = nullptr;
    LiteRtRankedTensorType& type = out_types[i];
    std::memset(&type, 0, sizeof type);
    CHECK_OR_RETURN(LiteRtGetSignatureOutputName(sig, i, &out_names[i]));
    CHECK_OR_RETURN(LiteRtGetSignatureOutputTensorByIndex(sig, i, &tensor));
    CHECK_OR_RETURN(LiteRtGetRankedTensorType(tensor, &type));
    // Shape check: the compiled model's output layout must match the signature's declared shape.
    const LiteRtLayout& got = layouts[i];
    bool same = got.rank == type.layout.rank;
    for (unsigned d = 0; same && d < got.rank; ++d)
      same = type.layout.dimensions[d] < 0 || type.layout.dimensions[d] == got.dimensions[d];
    if (!same) {
      std::fprintf(stderr, "test_package: output %s shape %s does not match the signature's %s\n", out_names[i],
                   shape_str(got).c_str(), shape_str(type.layout).c_str());
      return 1;
    }
    LiteRtRankedTensorType buffer_type = type;
    buffer_type.layout = got;
    buffer_type.layout.has_strides = 0;  // our host buffers are dense
    HostBuffer b;
    if (!make_host_buffer(buffer_type, &b)) return 1;
    outputs.push_back(b);
  }

  std::vector<LiteRtTensorBuffer> in_handles, out_handles;
  for (auto& b : inputs) in_handles.push_back(b.handle);
  for (auto& b : outputs) out_handles.push_back(b.handle);
  const LiteRtStatus run = LiteRtRunCompiledModel(cm, sig_index, in_handles.size(), in_handles.data(),
                                                  out_handles.size(), out_handles.data());
  if (!check(run, "LiteRtRunCompiledModel")) {
    print_runtime_errors(cm);
    return 1;
  }

  for (LiteRtParamIndex i = 0; i < n_out; ++i) {
    void* host = nullptr;
    CHECK_OR_RETURN(LiteRtLockTensorBuffer(outputs[i].handle, &host, kLiteRtTensorBufferLockModeRead));
    const size_t n = num_elements(layouts[i]);
    double mn = std::numeric_limits<double>::infinity(), mx = -mn, sum = 0.0, v = 0.0;
    size_t non_finite = 0;
    bool summarised = true;
    for (size_t k = 0; k < n; ++k) {
      if (!value_at(host, out_types[i].element_type, k, &v)) {
        summarised = false;
        break;
      }
      if (!std::isfinite(v)) {
        ++non_finite;
        continue;
      }
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
      sum += v;
    }
    CHECK_OR_RETURN(LiteRtUnlockTensorBuffer(outputs[i].handle));
    if (!summarised) {
      std::printf("  output %-24s %s type=%d (not summarised)\n", out_names[i] ? out_names[i] : "",
                  shape_str(layouts[i]).c_str(), static_cast<int>(out_types[i].element_type));
      continue;
    }
    if (non_finite) {
      std::fprintf(stderr, "test_package: output %s has %zu non-finite value(s)\n", out_names[i], non_finite);
      return 1;
    }
    std::printf("  output %-24s %s min=%.6g max=%.6g mean=%.6g\n", out_names[i] ? out_names[i] : "",
                shape_str(layouts[i]).c_str(), n ? mn : 0.0, n ? mx : 0.0, n ? sum / static_cast<double>(n) : 0.0);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.tflite\n", argv[0]);
    return 2;
  }
  const char* model_path = argv[1];

  // Silence the runtime's logger (tag 25 MinLoggerSeverity = 4, Silent).
  LiteRtEnvOption env_options[1];
  std::memset(env_options, 0, sizeof env_options);
  env_options[0].tag = kLiteRtEnvOptionTagMinLoggerSeverity;
  env_options[0].value.type = kLiteRtAnyTypeInt;
  env_options[0].value.int_value = kLiteRtLogSeveritySilent;

  LiteRtEnvironment env = nullptr;
  LiteRtModel model = nullptr;
  LiteRtOptions options = nullptr;
  LiteRtCompiledModel cm = nullptr;
  int rc = 1;
  do {
    if (!check(LiteRtCreateEnvironment(1, env_options, &env), "LiteRtCreateEnvironment")) break;
    if (!check(LiteRtCreateModelFromFile(env, model_path, &model), "LiteRtCreateModelFromFile")) break;
    if (!check(LiteRtCreateOptions(&options), "LiteRtCreateOptions")) break;
    if (!check(LiteRtSetOptionsHardwareAccelerators(options, kLiteRtHwAcceleratorCpu),
               "LiteRtSetOptionsHardwareAccelerators"))
      break;
    if (!add_toml_option(options, LITERT_SDK_CPU_OPTIONS_ID, "num_threads = 2\n")) break;
    if (!add_toml_option(options, LITERT_SDK_RUNTIME_OPTIONS_ID, "error_reporter_mode = 2\n")) break;
    if (!check(LiteRtCreateCompiledModel(env, model, options, &cm), "LiteRtCreateCompiledModel")) break;

    LiteRtParamIndex n_sigs = 0;
    if (!check(LiteRtGetNumModelSignatures(model, &n_sigs), "LiteRtGetNumModelSignatures")) break;
    if (n_sigs == 0) {
      std::fprintf(stderr, "test_package: model has no signatures\n");
      break;
    }
    rc = 0;
    for (LiteRtParamIndex s = 0; s < n_sigs && rc == 0; ++s) rc = run_signature(model, cm, s);
  } while (false);

  if (cm) LiteRtDestroyCompiledModel(cm);
  if (options) LiteRtDestroyOptions(options);
  if (model) LiteRtDestroyModel(model);
  if (env) LiteRtDestroyEnvironment(env);

  if (rc != 0 || g_failed) {
    std::fprintf(stderr, "test_package: FAILED\n");
    return 1;
  }
  std::printf("test_package: OK\n");
  return 0;
}
