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
 *     kernel gets `op_data` itself. `destroy_instance` runs after the compiled model is destroyed.
 *   - Node attributes. The runtime gives a kernel no node identity and shares user_data between nodes of the same
 *     custom code. The SDK therefore renames nodes so that all nodes sharing a code (and so an instance) have
 *     identical custom options: `Init` may be called several times on one instance, always with the same bytes.
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
 *
 * Version 1 is frozen: later versions add a new entry point (litert_sdk_custom_ops_v2) and keep this one.
 */
#ifndef LITERT_SDK_CUSTOM_OP_API_H_
#define LITERT_SDK_CUSTOM_OP_API_H_

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
} LiteRtSdkCustomOp;

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

#endif /* LITERT_SDK_CUSTOM_OP_API_H_ */
