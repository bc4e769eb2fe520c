/*
 * litert-sdk custom-op library API, version 1.
 *
 * A custom-op library is a shared library (libfoo.so / libfoo.dylib / foo.dll) that exports one C function,
 *
 *     int litert_sdk_custom_ops_v1(const LiteRtSdkCustomOpTable** table);
 *
 * which stores a pointer to a static table of kernels and returns 0 (any other value: the library refuses to load,
 * e.g. because of a missing CPU feature). The SDK loads it by path (`litert_sdk.load_custom_op_library(path)`),
 * checks `api_version`, and registers each kernel with the runtime (LiteRtAddCustomOpKernelOption) for every
 * compiled model whose graph uses an op of that name. Kernels are plain LiteRtCustomOpKernel function tables
 * (runtime/include/litert_sdk/litert_c_abi.h); they may call the runtime's tensor-buffer functions
 * (LiteRtLockTensorBuffer, LiteRtGetTensorBufferTensorType, ...), so link the library against LiteRt::LiteRt.
 *
 * What the SDK guarantees to a kernel (it works around the runtime's custom-op caveats):
 *   - Instances. For every compiled model and every custom code it registers, the SDK calls `create_instance`
 *     (when set) and passes the result as `user_data` to every kernel callback; without `create_instance` the
 *     kernel gets `op_data` itself. `configure_instance` (when set and covered by op_struct_size) runs right after
 *     `create_instance`. `destroy_instance` runs after the compiled model is destroyed.
 *   - Node attributes. The runtime gives a kernel no node identity and shares user_data between nodes of the same
 *     custom code. The SDK therefore renames nodes so that all nodes sharing a code (and so an instance) have
 *     identical custom options and identical static output shapes: `Init` may be called several times on one
 *     instance, always with the same bytes.
 *   - Call order. Init (per node, at compile) -> GetOutputLayouts (per node, at allocation and after each
 *     resize) -> Run (per node, per inference) -> Destroy (per node, when the compiled model is destroyed).
 *     Calls on one instance never overlap.
 *   - Errors. The runtime ignores the status returned by Init, GetOutputLayouts and Run. The SDK records every
 *     non-Ok status (with the text of `last_error` when set) and raises litert_sdk.errors.CustomOpError from the
 *     compile, allocation or run that saw it; a failed Run never returns outputs silently.
 *   - Constant inputs are 64-byte aligned (the SDK moves constant buffers read by custom ops when needed), and
 *     each custom op's version in the model is set to 1 (the only version the runtime registers kernels for).
 *     Nodes of ops the runtime resolves to its own stubs (Convolution2DTransposeBias, MaxPoolingWithArgmax2D,
 *     MaxUnpooling2D: XNNPACK-only) are given codes of their own ("Name#0") so that the library's kernel runs.
 *   - Inputs/outputs are LiteRtTensorBuffers over the runtime's tensors: lock them (Read for inputs, Write for
 *     outputs), use the host address, unlock. Their element type and layout come from
 *     LiteRtGetTensorBufferTensorType. GetOutputLayouts receives layouts only (no element types, no values).
 *   - Static shapes per instance (optional `configure_instance`, see below). Nodes sharing a code also have
 *     identical static output shapes in the model: the SDK gives nodes with identical options but different
 *     static output shapes codes of their own. Right after `create_instance` it calls
 *     `configure_instance(instance, custom_code, io_shapes)` with the static shapes of that code's nodes, so that a
 *     kernel whose output shapes depend on input *values* (which GetOutputLayouts never sees) can size its outputs
 *     per instance instead of per custom options.
 *
 * io_shapes (a NUL-terminated ASCII string; never NULL): one entry per distinct (input shapes, output shapes) of the
 * code's nodes, entries separated by ';'. An entry is the input shapes, '|', the output shapes; a shape is "[d,d,...]"
 * (dimensions in decimal, "[]" for a scalar) or "?" (not static: dynamic or unknown in the model; also an omitted
 * optional input), e.g. "[2,8,8,1][4]|[3,3,1,4]" (two inputs, one output) or "[]|[3,2]" (a scalar input). Entries
 * of one code differ in their input shapes only. The string is empty when the SDK
 * knows no shapes for the code (e.g. the model could not be analysed). Treat it as untrusted input: parse it
 * defensively and fail (non-zero) on anything malformed. C++ kernels can use litert_sdk::parse_io_shapes (at the end
 * of this header), the parser the SDK itself validates the string with.
 *
 * Struct growth rule. `op_struct_size` is sizeof(LiteRtSdkCustomOp) as the library was compiled, and the SDK steps
 * through `ops` with it. Members are only ever appended, and the SDK reads a member only when `op_struct_size`
 * covers it (offsetof(member) + sizeof(member) <= op_struct_size); uncovered members count as NULL. The smallest
 * accepted size is LITERT_SDK_CUSTOM_OP_V1_BASE_SIZE (the struct before `configure_instance` was added), so
 * libraries built against an older copy of this header keep loading unchanged. Zero-initialise the struct (or use
 * an aggregate initialiser) so that members a library does not use are NULL.
 *
 * Version 1 is frozen: later versions add a new entry point (litert_sdk_custom_ops_v2) and keep this one.
 */
#ifndef LITERT_SDK_CUSTOM_OP_API_H_
#define LITERT_SDK_CUSTOM_OP_API_H_

#include <stddef.h>

#include "litert_sdk/litert_c_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LITERT_SDK_CUSTOM_OP_API_VERSION 1
#define LITERT_SDK_CUSTOM_OP_ENTRY_POINT "litert_sdk_custom_ops_v1"

#if defined(_WIN32)
#define LITERT_SDK_CUSTOM_OP_EXPORT __declspec(dllexport)
#else
#define LITERT_SDK_CUSTOM_OP_EXPORT __attribute__((visibility("default")))
#endif

/* One kernel. All function pointers of `kernel` are required; the other callbacks are optional (NULL). */
typedef struct LiteRtSdkCustomOp {
  const char* name;             /* the op's custom code in models, e.g. "Convolution2DTransposeBias" */
  int version;                  /* the op version the kernel implements (informational) */
  LiteRtCustomOpKernel kernel;  /* called with the instance as user_data */
  /* Makes the user_data of one registration (one compiled model, one custom code); NULL on failure. */
  void* (*create_instance)(void* op_data);
  /* Frees what create_instance made (called after the compiled model is destroyed). */
  void (*destroy_instance)(void* instance);
  /* Text describing the last failure on this instance (or NULL); read right after a non-Ok status. */
  const char* (*last_error)(void* instance);
  void* op_data;                /* passed to create_instance, or used as user_data when that is NULL */
  /* ---- appended members: read only when op_struct_size covers them (see "Struct growth rule") ---- */
  /* Optional. Called once per instance made by create_instance (never without create_instance), right after it and
   * before any kernel callback: the custom code the instance is registered under and the static shapes of that
   * code's nodes (io_shapes, see above). The strings are valid during the call only. Return 0; anything else fails
   * the compile with litert_sdk.errors.CustomOpError (with the text of `last_error` when set). */
  int (*configure_instance)(void* instance, const char* custom_code, const char* io_shapes);
} LiteRtSdkCustomOp;

/* sizeof(LiteRtSdkCustomOp) before `configure_instance` was added: the smallest op_struct_size the SDK accepts. */
#define LITERT_SDK_CUSTOM_OP_V1_BASE_SIZE offsetof(LiteRtSdkCustomOp, configure_instance)
/* Whether an op struct of `struct_size` bytes has `member` (for readers of op tables). */
#define LITERT_SDK_CUSTOM_OP_HAS(struct_size, member) \
  (offsetof(LiteRtSdkCustomOp, member) + sizeof(((const LiteRtSdkCustomOp*)0)->member) <= (struct_size))

typedef struct LiteRtSdkCustomOpTable {
  uint32_t api_version;          /* LITERT_SDK_CUSTOM_OP_API_VERSION */
  uint32_t op_struct_size;       /* sizeof(LiteRtSdkCustomOp) as compiled into the library */
  const char* library_name;      /* for messages, e.g. "litert-mediapipe-ops" */
  size_t num_ops;
  const LiteRtSdkCustomOp* ops;  /* num_ops entries, alive as long as the library is loaded */
} LiteRtSdkCustomOpTable;

/* The entry point's type, for dlsym/GetProcAddress. */
typedef int (*LiteRtSdkCustomOpsEntryPoint)(const LiteRtSdkCustomOpTable** table);

/* Declared here so that a library's definition is checked against it (define it with this exact signature). */
LITERT_SDK_CUSTOM_OP_EXPORT int litert_sdk_custom_ops_v1(const LiteRtSdkCustomOpTable** table);

#ifdef __cplusplus
} /* extern "C" */
#endif

#ifdef __cplusplus
#include <cstdint>
#include <utility>
#include <vector>

namespace litert_sdk {

/* One shape of an io_shapes entry: "?" (known == false, no dims) or "[d,d,...]" (known, "[]" a scalar). */
struct IoShape {
  bool known = false;
  std::vector<int64_t> dims;
};

/* One io_shapes entry: the input shapes and the output shapes of a code's nodes. */
struct IoShapesEntry {
  std::vector<IoShape> inputs, outputs;
};

/* Parses the `size` bytes at `spec` as io_shapes (the format above; pass strlen(io_shapes) for configure_instance's
 * argument). Strict: decimal digits only, at most 10 per dimension, dimensions <= INT32_MAX; any rank (check it
 * against LITERT_SDK_TENSOR_MAX_RANK where that matters). Returns NULL, with the entries appended to `out` when it is
 * not NULL, or a static string saying what is malformed (`out` then holds the entries before the malformed one). */
inline const char* parse_io_shapes(const char* spec, size_t size, std::vector<IoShapesEntry>* out) {
  size_t i = 0;
  while (i < size) {
    IoShapesEntry entry;
    for (int side = 0; side < 2; ++side) {
      std::vector<IoShape>& shapes = side == 0 ? entry.inputs : entry.outputs;
      while (i < size && spec[i] != '|' && spec[i] != ';') {
        if (spec[i] == '?') {
          shapes.push_back(IoShape{});
          ++i;
          continue;
        }
        if (spec[i] != '[') return "expected '[' or '?'";
        ++i;
        IoShape shape;
        shape.known = true;
        while (i < size && spec[i] != ']') {
          if (!shape.dims.empty()) {
            if (spec[i] != ',') return "expected ',' or ']'";
            ++i;
          }
          const size_t start = i;
          int64_t v = 0;
          for (; i < size && spec[i] >= '0' && spec[i] <= '9'; ++i) {
            if (i - start == 10) return "dimension out of range";
            v = v * 10 + (spec[i] - '0');
          }
          if (i == start) return "expected a dimension";
          if (v > INT32_MAX) return "dimension out of range";
          shape.dims.push_back(v);
        }
        if (i >= size) return "unterminated shape";
        ++i; /* ']' */
        shapes.push_back(std::move(shape));
      }
      if (side == 0) {
        if (i >= size || spec[i] != '|') return "expected '|' between input and output shapes";
        ++i;
      }
    }
    if (i < size) {
      if (spec[i] != ';') return "expected ';' between entries";
      if (++i == size) return "trailing ';'";
    }
    if (out) out->push_back(std::move(entry));
  }
  return nullptr;
}

}  // namespace litert_sdk
#endif /* __cplusplus */

#endif /* LITERT_SDK_CUSTOM_OP_API_H_ */
