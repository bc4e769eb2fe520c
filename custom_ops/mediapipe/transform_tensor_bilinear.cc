// TransformTensorBilinear (v2): resamples a feature map through a 4x4 transform, bilinearly, zero outside.
//
// Inputs: features [1, H, W, C] and a row-major 4x4 matrix [1, 4, 4] that maps output coordinates to input
// coordinates (x_in = m00 x + m01 y + m03, y_in = m10 x + m11 y + m13). Attributes (flexbuffer map):
// output_height, output_width. Output [1, output_height, output_width, C].
// Coordinates are continuous with pixel centres at +0.5 (v2): output pixel (i, j) samples the input at
// M * (j + 0.5, i + 0.5) - 0.5 in pixel-index units, bilinearly, with zeros outside the input.
#include <cmath>

#include "flexbuffer.h"
#include "kernel.h"

namespace litert_mediapipe {
namespace {

class TransformTensorBilinear : public Kernel {
 public:
  LiteRtStatus Init(const uint8_t* options, size_t size) override {
    FlexRef map;
    if (!FlexRef::Root(options, size, &map) || map.type() != FlexRef::kMap)
      return Invalid("custom options are not a flexbuffer map");
    int64_t h, w;
    if (!FlexInt(map, "output_height", &h, &error) || !FlexInt(map, "output_width", &w, &error))
      return kLiteRtStatusErrorInvalidArgument;
    if (h < 1 || w < 1 || h > 65536 || w > 65536)
      return Invalid("output_height/output_width out of range: " + std::to_string(h) + "x" + std::to_string(w));
    out_h_ = static_cast<int32_t>(h);
    out_w_ = static_cast<int32_t>(w);
    return kLiteRtStatusOk;
  }

  LiteRtStatus OutputLayouts(size_t ni, const LiteRtLayout* in, size_t no, LiteRtLayout* out) override {
    if (ni != 2 || no != 1) return Invalid("expects 2 inputs (features, matrix) and 1 output");
    if (in[0].rank != 4) return Invalid("features must be [1, H, W, C], got " + LayoutString(in[0]));
    if (in[1].rank != 3 || in[1].dimensions[1] != 4 || in[1].dimensions[2] != 4)
      return Invalid("matrix must be [1, 4, 4], got " + LayoutString(in[1]));
    if (in[1].dimensions[0] != in[0].dimensions[0] && in[1].dimensions[0] != 1)
      return Invalid("matrix batch must be 1 or the feature batch");
    out[0] = MakeLayout({in[0].dimensions[0], out_h_, out_w_, in[0].dimensions[3]});
    return kLiteRtStatusOk;
  }

  LiteRtStatus Run(size_t ni, const LiteRtTensorBuffer* inputs, size_t no, LiteRtTensorBuffer* outputs) override {
    if (ni != 2 || no != 1) return Invalid("expects 2 inputs (features, matrix) and 1 output");
    FloatTensor f, m, out;
    if (!f.Lock(inputs[0], kLiteRtTensorBufferLockModeRead, "features", &error) ||
        !m.Lock(inputs[1], kLiteRtTensorBufferLockModeRead, "matrix", &error) ||
        !out.Lock(outputs[0], kLiteRtTensorBufferLockModeWrite, "output", &error))
      return kLiteRtStatusErrorInvalidArgument;
    if (f.rank() != 4 || out.rank() != 4 || m.size() < 16) return Invalid("unexpected tensor shapes");
    const int nb = f.dim(0), H = f.dim(1), W = f.dim(2), C = f.dim(3);
    const int oh = out.dim(1), ow = out.dim(2);
    if (out.dim(0) != nb || out.dim(3) != C) return Invalid("output shape does not match the features");
    const int matrices = static_cast<int>(m.size() / 16);
    float* y = out.data();
    for (int n = 0; n < nb; ++n) {
      const float* M = m.data() + 16 * (matrices > 1 ? n : 0);
      const float* src = f.data() + static_cast<size_t>(n) * H * W * C;
      for (int i = 0; i < oh; ++i) {
        for (int j = 0; j < ow; ++j, y += C) {
          const double u = j + 0.5, v = i + 0.5;
          const double xs = M[0] * u + M[1] * v + M[3] - 0.5;
          const double ys = M[4] * u + M[5] * v + M[7] - 0.5;
          for (int c = 0; c < C; ++c) y[c] = 0.f;
          // entirely outside (or not a number): zeros; also keeps the int conversions below in range
          if (!(xs > -1.0 && xs < W && ys > -1.0 && ys < H)) continue;
          const double fx = std::floor(xs), fy = std::floor(ys);
          const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
          const float ax = static_cast<float>(xs - fx), ay = static_cast<float>(ys - fy);
          const float w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
          const int xs_[2] = {x0, x0 + 1}, ys_[2] = {y0, y0 + 1};
          const float ws[2][2] = {{w00, w01}, {w10, w11}};
          for (int a = 0; a < 2; ++a) {
            if (ys_[a] < 0 || ys_[a] >= H) continue;
            for (int b = 0; b < 2; ++b) {
              if (xs_[b] < 0 || xs_[b] >= W) continue;
              const float wgt = ws[a][b];
              const float* p = src + (static_cast<size_t>(ys_[a]) * W + xs_[b]) * C;
              for (int c = 0; c < C; ++c) y[c] += wgt * p[c];
            }
          }
        }
      }
    }
    return kLiteRtStatusOk;
  }

 private:
  int32_t out_h_ = 1;
  int32_t out_w_ = 1;
};

}  // namespace

LiteRtSdkCustomOp TransformTensorBilinearOp() {
  return KernelEntry<TransformTensorBilinear>::Op("TransformTensorBilinear", 2);
}

}  // namespace litert_mediapipe
