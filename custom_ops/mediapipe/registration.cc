// The litert-mediapipe-ops library: the custom-op table the SDK loads (custom_op_api.h, API version 1).
#include "kernel.h"

namespace {

const LiteRtSdkCustomOp kOps[] = {
    litert_mediapipe::Convolution2DTransposeBiasOp(),
    litert_mediapipe::Landmarks2TransformMatrixOp(),
    litert_mediapipe::TransformLandmarksOp(),
    litert_mediapipe::TransformTensorBilinearOp(),
};

const LiteRtSdkCustomOpTable kTable = {
    LITERT_SDK_CUSTOM_OP_API_VERSION,
    sizeof(LiteRtSdkCustomOp),
    "litert-mediapipe-ops",
    sizeof(kOps) / sizeof(kOps[0]),
    kOps,
};

}  // namespace

extern "C" LITERT_SDK_CUSTOM_OP_EXPORT int litert_sdk_custom_ops_v1(const LiteRtSdkCustomOpTable** table) {
  if (!table) return 1;
  *table = &kTable;
  return 0;
}
