// TransformLandmarks (v2): applies a 4x4 transform to landmarks.
//
// Inputs: landmarks [1, N, D] (D >= 2: x, y[, z, ...]) and a row-major 4x4 matrix [1, 4, 4] acting on column
// vectors (x, y, 0, 1): x' = m00 x + m01 y + m03, y' = m10 x + m11 y + m13. The other coordinates are copied.
// Output: [1, N, D]. No attributes.
#include "kernel.h"

namespace litert_mediapipe {
namespace {

class TransformLandmarks : public Kernel {
 public:
  LiteRtStatus Init(const uint8_t*, size_t) override { return kLiteRtStatusOk; }

  LiteRtStatus OutputLayouts(size_t ni, const LiteRtLayout* in, size_t no, LiteRtLayout* out) override {
    if (ni != 2 || no != 1) return Invalid("expects 2 inputs (landmarks, matrix) and 1 output");
    if (in[0].rank != 3 || in[0].dimensions[2] < 2)
      return Invalid("landmarks must be [1, N, D] with D >= 2, got " + LayoutString(in[0]));
    if (in[1].rank != 3 || in[1].dimensions[1] != 4 || in[1].dimensions[2] != 4)
      return Invalid("matrix must be [1, 4, 4], got " + LayoutString(in[1]));
    out[0] = in[0];
    out[0].has_strides = false;
    return kLiteRtStatusOk;
  }

  LiteRtStatus Run(size_t ni, const LiteRtTensorBuffer* inputs, size_t no, LiteRtTensorBuffer* outputs) override {
    if (ni != 2 || no != 1) return Invalid("expects 2 inputs (landmarks, matrix) and 1 output");
    FloatTensor lm, m, out;
    if (!lm.Lock(inputs[0], kLiteRtTensorBufferLockModeRead, "landmarks", &error) ||
        !m.Lock(inputs[1], kLiteRtTensorBufferLockModeRead, "matrix", &error) ||
        !out.Lock(outputs[0], kLiteRtTensorBufferLockModeWrite, "output", &error))
      return kLiteRtStatusErrorInvalidArgument;
    if (lm.rank() != 3 || m.size() < 16 || out.size() != lm.size()) return Invalid("unexpected tensor shapes");
    const size_t d = static_cast<size_t>(lm.dim(2));
    const size_t n = lm.size() / d;
    const float* M = m.data();
    const float* p = lm.data();
    float* q = out.data();
    for (size_t i = 0; i < n; ++i, p += d, q += d) {
      const float x = p[0], y = p[1];
      for (size_t k = 2; k < d; ++k) q[k] = p[k];
      q[0] = M[0] * x + M[1] * y + M[3];
      q[1] = M[4] * x + M[5] * y + M[7];
    }
    return kLiteRtStatusOk;
  }
};

}  // namespace

LiteRtSdkCustomOp TransformLandmarksOp() { return KernelEntry<TransformLandmarks>::Op("TransformLandmarks", 2); }

}  // namespace litert_mediapipe
