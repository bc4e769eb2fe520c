/*
 * litert-sdk: our own declarations of the part of the LiteRT C ABI that the SDK uses.
 *
 * Pinned runtime: libLiteRt from ai-edge-litert 2.3.0 (see runtime/conandata.yml).
 * Every value and layout here was measured against that library (docs: shared ABI fact sheet) and is
 * re-checked by the test suite. This is not a copy of upstream headers; only the facts of the ABI carry over.
 *
 * Usable from C11 and C++17. Link against LiteRt::LiteRt (libLiteRt.so / libLiteRt.dylib / libLiteRt.dll).
 */
#ifndef LITERT_SDK_LITERT_C_ABI_H_
#define LITERT_SDK_LITERT_C_ABI_H_

#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LITERT_SDK_RUNTIME_VERSION "2.3.0"
#define LITERT_SDK_TENSOR_MAX_RANK 8
/* Host memory handed to the runtime must be aligned to this many bytes (an ABI constant). */
#define LITERT_SDK_HOST_MEMORY_ALIGNMENT 64

/* ---- scalar typedefs and opaque handles ---------------------------------------------------------- */
typedef size_t LiteRtParamIndex;
typedef int LiteRtHwAcceleratorSet;

typedef struct LiteRtEnvironmentT* LiteRtEnvironment;
typedef struct LiteRtModelT* LiteRtModel;
typedef struct LiteRtSignatureT* LiteRtSignature;
typedef struct LiteRtSubgraphT* LiteRtSubgraph;
typedef struct LiteRtTensorT* LiteRtTensor;
typedef struct LiteRtOpT* LiteRtOp;
typedef struct LiteRtWeightsT* LiteRtWeights;
typedef struct LiteRtOptionsT* LiteRtOptions;
typedef struct LiteRtOpaqueOptionsT* LiteRtOpaqueOptions;
typedef struct LiteRtCompiledModelT* LiteRtCompiledModel;
typedef struct LiteRtTensorBufferT* LiteRtTensorBuffer;
typedef struct LiteRtTensorBufferRequirementsT* LiteRtTensorBufferRequirements;
typedef struct LiteRtAcceleratorT* LiteRtAccelerator;
typedef const struct LiteRtAcceleratorT* LiteRtAcceleratorConst;

/* ---- enums (values fixed by the ABI) -------------------------------------------------------------- */
typedef enum {
  kLiteRtStatusOk = 0,
  kLiteRtStatusErrorInvalidArgument = 1,
  kLiteRtStatusErrorMemoryAllocationFailure = 2,
  kLiteRtStatusErrorRuntimeFailure = 3,
  kLiteRtStatusErrorMissingInputTensor = 4,
  kLiteRtStatusErrorUnsupported = 5,
  kLiteRtStatusErrorNotFound = 6,
  kLiteRtStatusErrorTimeoutExpired = 7,
  kLiteRtStatusErrorWrongVersion = 8,
  kLiteRtStatusErrorUnknown = 9,
  kLiteRtStatusErrorAlreadyExists = 10,
  kLiteRtStatusCancelled = 100,
  kLiteRtStatusErrorFileIO = 500,
  kLiteRtStatusErrorInvalidFlatbuffer = 501,
  kLiteRtStatusErrorDynamicLoading = 502,
  kLiteRtStatusErrorSerialization = 503,
  kLiteRtStatusErrorCompilation = 504,
  kLiteRtStatusErrorIndexOOB = 1000,
  kLiteRtStatusErrorInvalidIrType = 1001,
  kLiteRtStatusErrorInvalidGraphInvariant = 1002,
  kLiteRtStatusErrorGraphModification = 1003,
  kLiteRtStatusErrorInvalidToolConfig = 1500,
  kLiteRtStatusLegalizeNoMatch = 2000,
  kLiteRtStatusErrorInvalidLegalization = 2001,
  kLiteRtStatusPatternNoMatch = 3000,
  kLiteRtStatusInvalidTransformation = 3001,
  kLiteRtStatusErrorUnsupportedRuntimeVersion = 4000,
  kLiteRtStatusErrorUnsupportedCompilerVersion = 4001,
  kLiteRtStatusErrorIncompatibleByteCodeVersion = 4002,
  kLiteRtStatusErrorUnsupportedOpShapeInferer = 5000,
  kLiteRtStatusErrorShapeInferenceFailed = 5001
} LiteRtStatus;

typedef enum {
  kLiteRtHwAcceleratorNone = 0,
  kLiteRtHwAcceleratorCpu = 1,
  kLiteRtHwAcceleratorGpu = 2,
  kLiteRtHwAcceleratorNpu = 4
} LiteRtHwAccelerators;

typedef enum {
  kLiteRtElementTypeNone = 0,
  kLiteRtElementTypeFloat32 = 1,
  kLiteRtElementTypeInt32 = 2,
  kLiteRtElementTypeUInt8 = 3,
  kLiteRtElementTypeInt64 = 4,
  kLiteRtElementTypeTfString = 5,
  kLiteRtElementTypeBool = 6,
  kLiteRtElementTypeInt16 = 7,
  kLiteRtElementTypeComplex64 = 8,
  kLiteRtElementTypeInt8 = 9,
  kLiteRtElementTypeFloat16 = 10,
  kLiteRtElementTypeFloat64 = 11,
  kLiteRtElementTypeComplex128 = 12,
  kLiteRtElementTypeUInt64 = 13,
  kLiteRtElementTypeTfResource = 14,
  kLiteRtElementTypeTfVariant = 15,
  kLiteRtElementTypeUInt32 = 16,
  kLiteRtElementTypeUInt16 = 17,
  kLiteRtElementTypeInt4 = 18,
  kLiteRtElementTypeBFloat16 = 19,
  kLiteRtElementTypeInt2 = 20
} LiteRtElementType;

typedef enum { kLiteRtRankedTensorType = 0, kLiteRtUnrankedTensorType = 1 } LiteRtTensorTypeId;

typedef enum {
  kLiteRtQuantizationNone = 0,
  kLiteRtQuantizationPerTensor = 1,
  kLiteRtQuantizationPerChannel = 2,
  kLiteRtQuantizationBlockWise = 3
} LiteRtQuantizationTypeId;

typedef enum { kLiteRtTensorBufferTypeUnknown = 0, kLiteRtTensorBufferTypeHostMemory = 1 } LiteRtTensorBufferType;

typedef enum {
  kLiteRtTensorBufferLockModeRead = 0,
  kLiteRtTensorBufferLockModeWrite = 1,
  kLiteRtTensorBufferLockModeReadWrite = 2
} LiteRtTensorBufferLockMode;

typedef enum {
  kLiteRtAnyTypeNone = 0,
  kLiteRtAnyTypeBool = 1,
  kLiteRtAnyTypeInt = 2,
  kLiteRtAnyTypeReal = 3,
  kLiteRtAnyTypeString = 8,
  kLiteRtAnyTypeVoidPtr = 9
} LiteRtAnyType;

typedef enum {
  kLiteRtEnvOptionTagCompilerPluginLibraryDir = 0,
  kLiteRtEnvOptionTagDispatchLibraryDir = 1,
  kLiteRtEnvOptionTagCompilerCacheDir = 18,
  kLiteRtEnvOptionTagRuntimeLibraryDir = 22,
  kLiteRtEnvOptionTagAutoRegisterAccelerators = 24,
  kLiteRtEnvOptionTagMinLoggerSeverity = 25,
  kLiteRtEnvOptionTagNull = 255
} LiteRtEnvOptionTag;

/* Values of kLiteRtEnvOptionTagMinLoggerSeverity (an Int LiteRtAny). */
typedef enum {
  kLiteRtLogSeverityDebug = -1,
  kLiteRtLogSeverityVerbose = 0,
  kLiteRtLogSeverityInfo = 1,
  kLiteRtLogSeverityWarning = 2,
  kLiteRtLogSeverityError = 3,
  kLiteRtLogSeveritySilent = 4
} LiteRtLogSeverity;

/* Values of the runtime-options TOML key `error_reporter_mode`. */
typedef enum {
  kLiteRtErrorReporterModeNone = 0,
  kLiteRtErrorReporterModeStderr = 1,
  kLiteRtErrorReporterModeBuffer = 2
} LiteRtErrorReporterMode;

/* LiteRtOpCode is TFLite's BuiltinOperator; only the values the SDK needs by name are listed. */
typedef int LiteRtOpCode;
#define LITERT_SDK_OPCODE_CUSTOM 32

/* XNNPACK flags for the CPU TOML key `flags` (the value replaces the runtime's default set). */
#define LITERT_SDK_XNNPACK_FLAG_QS8 0x1
#define LITERT_SDK_XNNPACK_FLAG_QU8 0x2
#define LITERT_SDK_XNNPACK_FLAG_FORCE_FP16 0x4
#define LITERT_SDK_XNNPACK_FLAG_DYNAMIC_FULLY_CONNECTED 0x8
#define LITERT_SDK_XNNPACK_FLAG_VARIABLE_OPERATORS 0x10
#define LITERT_SDK_XNNPACK_FLAG_TRANSIENT_INDIRECTION_BUFFER 0x20
#define LITERT_SDK_XNNPACK_FLAG_ENABLE_LATEST_OPERATORS 0x40
#define LITERT_SDK_XNNPACK_FLAG_ENABLE_SUBGRAPH_RESHAPING 0x80
#define LITERT_SDK_XNNPACK_FLAG_SLOW_CONSISTENT_ARITHMETIC 0x200
#define LITERT_SDK_XNNPACK_FLAG_DISABLE_SUBGRAPH_RESHAPING 0x400

/* Opaque option identifiers understood by the runtime (payload: NUL-terminated TOML text). */
#define LITERT_SDK_CPU_OPTIONS_ID "xnnpack"
#define LITERT_SDK_RUNTIME_OPTIONS_ID "runtime_options_string"
#define LITERT_SDK_GPU_OPTIONS_ID "gpu_options"

/* ---- structs --------------------------------------------------------------------------------------- */
typedef struct {
  unsigned int rank : 7;
  unsigned int has_strides : 1; /* unsigned int, not bool: MSVC/MinGW merge only same-type bitfields */
  int32_t dimensions[LITERT_SDK_TENSOR_MAX_RANK]; /* dynamic dims are negative (-1) */
  uint32_t strides[LITERT_SDK_TENSOR_MAX_RANK];
} LiteRtLayout;

typedef struct {
  LiteRtElementType element_type;
  LiteRtLayout layout;
} LiteRtRankedTensorType;

typedef struct {
  LiteRtElementType element_type;
} LiteRtUnrankedTensorType;

typedef struct {
  float scale;
  int64_t zero_point;
} LiteRtQuantizationPerTensor;

typedef struct {
  int32_t quantized_dimension;
  uint64_t num_channels;
  float* scales;
  int64_t* zero_points;
} LiteRtQuantizationPerChannel;

typedef struct {
  LiteRtAnyType type;
  union {
    bool bool_value;
    int64_t int_value;
    double real_value;
    const char* str_value;
    const void* ptr_value;
  };
} LiteRtAny;

typedef struct {
  LiteRtEnvOptionTag tag;
  LiteRtAny value;
} LiteRtEnvOption;

typedef struct {
  LiteRtStatus (*Init)(void* user_data, const void* init_data, size_t init_data_size);
  LiteRtStatus (*GetOutputLayouts)(void* user_data, size_t num_inputs, const LiteRtLayout* input_layouts,
                                   size_t num_outputs, LiteRtLayout* output_layouts);
  LiteRtStatus (*Run)(void* user_data, size_t num_inputs, const LiteRtTensorBuffer* inputs, size_t num_outputs,
                      LiteRtTensorBuffer* outputs);
  LiteRtStatus (*Destroy)(void* user_data);
} LiteRtCustomOpKernel;

typedef struct {
  int major;
  int minor;
  int patch;
} LiteRtApiVersion;

/* ---- layout checks (LP64 and LLP64; the same layout on every platform, see below) ----------------------- */
#if defined(__cplusplus)
#define LITERT_SDK_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define LITERT_SDK_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* One layout on every platform. Measured on libLiteRt.dll 2.3.0 (ci/cross_smoke_windows.sh): rank and has_strides
 * share the first 32-bit unit, dimensions are at offset 4 and LiteRtRankedTensorType is 72 bytes, exactly as on Linux.
 * (A bool has_strides would make MSVC and MinGW start a new unit: 72/76 bytes, which does not match the DLL.) */
#define LITERT_SDK_LAYOUT_SIZE 68
#define LITERT_SDK_RANKED_TENSOR_TYPE_SIZE 72
#define LITERT_SDK_LAYOUT_DIMS_OFFSET 4
#define LITERT_SDK_LAYOUT_STRIDES_OFFSET 36

LITERT_SDK_STATIC_ASSERT(sizeof(void*) == 8, "litert-sdk supports 64-bit targets only");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtElementType) == 4, "enum size");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtStatus) == 4, "enum size");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtLayout) == LITERT_SDK_LAYOUT_SIZE, "LiteRtLayout size");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtLayout, dimensions) == LITERT_SDK_LAYOUT_DIMS_OFFSET,
                         "LiteRtLayout.dimensions");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtLayout, strides) == LITERT_SDK_LAYOUT_STRIDES_OFFSET, "LiteRtLayout.strides");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtRankedTensorType) == LITERT_SDK_RANKED_TENSOR_TYPE_SIZE,
                         "LiteRtRankedTensorType size");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtRankedTensorType, layout) == 4, "LiteRtRankedTensorType.layout");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtUnrankedTensorType) == 4, "LiteRtUnrankedTensorType size");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtQuantizationPerTensor) == 16, "LiteRtQuantizationPerTensor size");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtQuantizationPerTensor, zero_point) == 8,
                         "LiteRtQuantizationPerTensor.zero_point");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtQuantizationPerChannel) == 32, "LiteRtQuantizationPerChannel size");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtQuantizationPerChannel, num_channels) == 8, "PerChannel.num_channels");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtQuantizationPerChannel, scales) == 16, "PerChannel.scales");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtQuantizationPerChannel, zero_points) == 24, "PerChannel.zero_points");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtAny) == 16, "LiteRtAny size");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtAny, int_value) == 8, "LiteRtAny union offset");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtEnvOption) == 24, "LiteRtEnvOption size");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtEnvOption, value) == 8, "LiteRtEnvOption.value");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtCustomOpKernel) == 32, "LiteRtCustomOpKernel size");
LITERT_SDK_STATIC_ASSERT(offsetof(LiteRtCustomOpKernel, Run) == 16, "LiteRtCustomOpKernel.Run");
LITERT_SDK_STATIC_ASSERT(sizeof(LiteRtApiVersion) == 12, "LiteRtApiVersion size");

/* ---- status names (the runtime exports no LiteRtGetStatusString) ------------------------------------ */
static inline const char* litert_sdk_status_name(int status) {
  switch (status) {
    case 0: return "Ok";
    case 1: return "InvalidArgument";
    case 2: return "MemoryAllocationFailure";
    case 3: return "RuntimeFailure";
    case 4: return "MissingInputTensor";
    case 5: return "Unsupported";
    case 6: return "NotFound";
    case 7: return "TimeoutExpired";
    case 8: return "WrongVersion";
    case 9: return "Unknown";
    case 10: return "AlreadyExists";
    case 100: return "Cancelled";
    case 500: return "FileIO";
    case 501: return "InvalidFlatbuffer";
    case 502: return "DynamicLoading";
    case 503: return "Serialization";
    case 504: return "Compilation";
    case 1000: return "IndexOOB";
    case 1001: return "InvalidIrType";
    case 1002: return "InvalidGraphInvariant";
    case 1003: return "GraphModification";
    case 1500: return "InvalidToolConfig";
    case 2000: return "LegalizeNoMatch";
    case 2001: return "InvalidLegalization";
    case 3000: return "PatternNoMatch";
    case 3001: return "InvalidTransformation";
    case 4000: return "UnsupportedRuntimeVersion";
    case 4001: return "UnsupportedCompilerVersion";
    case 4002: return "IncompatibleByteCodeVersion";
    case 5000: return "UnsupportedOpShapeInferer";
    case 5001: return "ShapeInferenceFailed";
    default: return "UnknownStatus";
  }
}

/* Every status value, in ABI order (for table-driven tests). */
static const int litert_sdk_all_statuses[] = {0,    1,    2,    3,    4,    5,    6,    7,    8,    9,    10,
                                              100,  500,  501,  502,  503,  504,  1000, 1001, 1002, 1003, 1500,
                                              2000, 2001, 3000, 3001, 4000, 4001, 4002, 5000, 5001};

/* ---- functions (all exported by libLiteRt 2.3.0) ------------------------------------------------------- */
/* environment */
LiteRtStatus LiteRtCreateEnvironment(int num_options, const LiteRtEnvOption* options, LiteRtEnvironment* env);
void LiteRtDestroyEnvironment(LiteRtEnvironment env);
LiteRtStatus LiteRtGetNumAccelerators(LiteRtEnvironment env, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetAccelerator(LiteRtEnvironment env, LiteRtParamIndex index, LiteRtAccelerator* accelerator);
LiteRtStatus LiteRtGetAcceleratorName(LiteRtAcceleratorConst accelerator, const char** name);
LiteRtStatus LiteRtGetAcceleratorHardwareSupport(LiteRtAcceleratorConst accelerator, LiteRtHwAcceleratorSet* hw);

/* model (creation takes the environment first in this runtime version) */
LiteRtStatus LiteRtCreateModelFromFile(LiteRtEnvironment env, const char* filename, LiteRtModel* model);
LiteRtStatus LiteRtCreateModelFromBuffer(LiteRtEnvironment env, const void* addr, size_t size, LiteRtModel* model);
void LiteRtDestroyModel(LiteRtModel model);
LiteRtStatus LiteRtGetNumModelSignatures(LiteRtModel model, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetModelSignature(LiteRtModel model, LiteRtParamIndex index, LiteRtSignature* signature);
LiteRtStatus LiteRtGetModelMetadata(LiteRtModel model, const char* key, const void** buffer, size_t* size);
LiteRtStatus LiteRtGetMainModelSubgraphIndex(LiteRtModel model, LiteRtParamIndex* index);
LiteRtStatus LiteRtGetNumModelSubgraphs(LiteRtModel model, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetModelSubgraph(LiteRtModel model, LiteRtParamIndex index, LiteRtSubgraph* subgraph);

/* signatures */
LiteRtStatus LiteRtGetSignatureKey(LiteRtSignature signature, const char** key);
LiteRtStatus LiteRtGetSignatureSubgraph(LiteRtSignature signature, LiteRtSubgraph* subgraph);
LiteRtStatus LiteRtGetNumSignatureInputs(LiteRtSignature signature, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetSignatureInputName(LiteRtSignature signature, LiteRtParamIndex index, const char** name);
LiteRtStatus LiteRtGetSignatureInputTensorByIndex(LiteRtSignature signature, LiteRtParamIndex index, LiteRtTensor* t);
LiteRtStatus LiteRtGetNumSignatureOutputs(LiteRtSignature signature, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetSignatureOutputName(LiteRtSignature signature, LiteRtParamIndex index, const char** name);
LiteRtStatus LiteRtGetSignatureOutputTensorByIndex(LiteRtSignature signature, LiteRtParamIndex index, LiteRtTensor* t);

/* graph */
LiteRtStatus LiteRtGetSubgraphName(LiteRtSubgraph subgraph, const char** name);
LiteRtStatus LiteRtGetNumSubgraphInputs(LiteRtSubgraph subgraph, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetSubgraphInput(LiteRtSubgraph subgraph, LiteRtParamIndex index, LiteRtTensor* tensor);
LiteRtStatus LiteRtGetNumSubgraphOutputs(LiteRtSubgraph subgraph, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetSubgraphOutput(LiteRtSubgraph subgraph, LiteRtParamIndex index, LiteRtTensor* tensor);
LiteRtStatus LiteRtGetNumSubgraphOps(LiteRtSubgraph subgraph, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetSubgraphOp(LiteRtSubgraph subgraph, LiteRtParamIndex index, LiteRtOp* op);
LiteRtStatus LiteRtGetOpCode(LiteRtOp op, LiteRtOpCode* code);
LiteRtStatus LiteRtGetCustomCode(LiteRtOp op, const char** code);
LiteRtStatus LiteRtGetCustomOptions(LiteRtOp op, const uint8_t** options, size_t* size);
LiteRtStatus LiteRtGetNumOpInputs(LiteRtOp op, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetOpInput(LiteRtOp op, LiteRtParamIndex index, LiteRtTensor* tensor);
LiteRtStatus LiteRtGetNumOpOutputs(LiteRtOp op, LiteRtParamIndex* num);
LiteRtStatus LiteRtGetOpOutput(LiteRtOp op, LiteRtParamIndex index, LiteRtTensor* tensor);

/* tensors */
LiteRtStatus LiteRtGetTensorName(LiteRtTensor tensor, const char** name);
LiteRtStatus LiteRtGetTensorIndex(LiteRtTensor tensor, uint32_t* index);
LiteRtStatus LiteRtGetTensorTypeId(LiteRtTensor tensor, LiteRtTensorTypeId* type_id);
LiteRtStatus LiteRtGetRankedTensorType(LiteRtTensor tensor, LiteRtRankedTensorType* type);
LiteRtStatus LiteRtGetUnrankedTensorType(LiteRtTensor tensor, LiteRtUnrankedTensorType* type);
LiteRtStatus LiteRtGetQuantizationTypeId(LiteRtTensor tensor, LiteRtQuantizationTypeId* id);
LiteRtStatus LiteRtGetPerTensorQuantization(LiteRtTensor tensor, LiteRtQuantizationPerTensor* q);
LiteRtStatus LiteRtGetPerChannelQuantization(LiteRtTensor tensor, LiteRtQuantizationPerChannel* q);
LiteRtStatus LiteRtGetTensorWeights(LiteRtTensor tensor, LiteRtWeights* weights);
LiteRtStatus LiteRtGetWeightsBytes(LiteRtWeights weights, const void** addr, size_t* size);

/* options (caller-owned; safe to destroy once the compiled model exists) */
LiteRtStatus LiteRtCreateOptions(LiteRtOptions* options);
void LiteRtDestroyOptions(LiteRtOptions options);
LiteRtStatus LiteRtSetOptionsHardwareAccelerators(LiteRtOptions options, LiteRtHwAcceleratorSet accelerators);
LiteRtStatus LiteRtAddOpaqueOptions(LiteRtOptions options, LiteRtOpaqueOptions opaque); /* takes ownership */
LiteRtStatus LiteRtCreateOpaqueOptions(const char* identifier, void* payload, void (*payload_destructor)(void*),
                                       LiteRtOpaqueOptions* opaque);
void LiteRtDestroyOpaqueOptions(LiteRtOpaqueOptions opaque);
LiteRtStatus LiteRtAddCustomOpKernelOption(LiteRtOptions options, const char* custom_op_name, int custom_op_version,
                                           const LiteRtCustomOpKernel* kernel, void* user_data);

/* compiled model */
LiteRtStatus LiteRtCreateCompiledModel(LiteRtEnvironment env, LiteRtModel model, LiteRtOptions options,
                                       LiteRtCompiledModel* compiled_model);
void LiteRtDestroyCompiledModel(LiteRtCompiledModel compiled_model);
LiteRtStatus LiteRtGetCompiledModelInputBufferRequirements(LiteRtCompiledModel cm, LiteRtParamIndex signature,
                                                           LiteRtParamIndex input,
                                                           LiteRtTensorBufferRequirements* requirements);
LiteRtStatus LiteRtGetCompiledModelOutputBufferRequirements(LiteRtCompiledModel cm, LiteRtParamIndex signature,
                                                            LiteRtParamIndex output,
                                                            LiteRtTensorBufferRequirements* requirements);
LiteRtStatus LiteRtGetCompiledModelInputTensorLayout(LiteRtCompiledModel cm, LiteRtParamIndex signature,
                                                     LiteRtParamIndex input, LiteRtLayout* layout);
LiteRtStatus LiteRtGetCompiledModelOutputTensorLayouts(LiteRtCompiledModel cm, LiteRtParamIndex signature,
                                                       size_t num_layouts, LiteRtLayout* layouts,
                                                       bool update_allocation);
LiteRtStatus LiteRtRunCompiledModel(LiteRtCompiledModel cm, LiteRtParamIndex signature, size_t num_inputs,
                                    LiteRtTensorBuffer* inputs, size_t num_outputs, LiteRtTensorBuffer* outputs);
LiteRtStatus LiteRtCompiledModelResizeInputTensor(LiteRtCompiledModel cm, LiteRtParamIndex signature,
                                                  LiteRtParamIndex input, const int* dims, size_t num_dims);
LiteRtStatus LiteRtCompiledModelResizeInputTensorNonStrict(LiteRtCompiledModel cm, LiteRtParamIndex signature,
                                                           LiteRtParamIndex input, const int* dims, size_t num_dims);
LiteRtStatus LiteRtCompiledModelIsFullyAccelerated(LiteRtCompiledModel cm, bool* fully_accelerated);
/* Needs error_reporter_mode = 2; *messages is malloc'd, the caller frees it. */
LiteRtStatus LiteRtCompiledModelGetErrorMessages(LiteRtCompiledModel cm, char** messages);
LiteRtStatus LiteRtCompiledModelClearErrors(LiteRtCompiledModel cm);

/* tensor buffers */
LiteRtStatus LiteRtGetTensorBufferRequirementsBufferSize(LiteRtTensorBufferRequirements requirements, size_t* size);
LiteRtStatus LiteRtGetTensorBufferRequirementsAlignment(LiteRtTensorBufferRequirements requirements, size_t* alignment);
LiteRtStatus LiteRtCreateTensorBufferFromHostMemory(const LiteRtRankedTensorType* type, void* host_addr, size_t size,
                                                    void (*deallocator)(void*), LiteRtTensorBuffer* buffer);
LiteRtStatus LiteRtGetTensorBufferTensorType(LiteRtTensorBuffer buffer, LiteRtRankedTensorType* type);
LiteRtStatus LiteRtGetTensorBufferSize(LiteRtTensorBuffer buffer, size_t* size);
LiteRtStatus LiteRtLockTensorBuffer(LiteRtTensorBuffer buffer, void** host_addr, LiteRtTensorBufferLockMode mode);
LiteRtStatus LiteRtUnlockTensorBuffer(LiteRtTensorBuffer buffer);
void LiteRtDestroyTensorBuffer(LiteRtTensorBuffer buffer);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LITERT_SDK_LITERT_C_ABI_H_ */
