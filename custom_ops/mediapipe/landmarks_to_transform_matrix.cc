// Landmarks2TransformMatrix (v2): the similarity transform that crops a region of interest around a subset of
// landmarks, as used by MediaPipe's attention face mesh to cut lips/eye regions out of a feature map.
//
// Input: landmarks [1, N, D] (D >= 2; x, y used). Attributes (flexbuffer map): subset_idxs (landmark indices),
// left_rotation_idx, right_rotation_idx, target_rotation_radians, output_width, output_height, scale_x, scale_y.
// Output: a row-major 4x4 matrix [1, 4, 4] that maps output (crop) coordinates to input coordinates.
//   rotation = normalize(target_rotation_radians - atan2(-(r.y - l.y), r.x - l.x)) with l, r the rotation landmarks
//   (y grows downwards, so this is the angle of the l->r vector);
//   the subset is rotated by -rotation; its axis-aligned bounding box there gives centre c' and size (w, h);
//   centre c = R(rotation) c'; the box is scaled by (scale_x, scale_y);
//   M = T(c) * R(rotation) * S(w / output_width, h / output_height) * T(-output_width / 2, -output_height / 2),
//   so the crop's corners (0, 0) .. (output_width, output_height) map onto the rotated, scaled box.
#include <cmath>

#include "flexbuffer.h"
#include "kernel.h"

namespace litert_mediapipe {
namespace {

constexpr double kPi = 3.14159265358979323846;

double NormalizeRadians(double a) { return a - 2 * kPi * std::floor((a + kPi) / (2 * kPi)); }

class Landmarks2TransformMatrix : public Kernel {
 public:
  LiteRtStatus Init(const uint8_t* options, size_t size) override {
    FlexRef map;
    if (!FlexRef::Root(options, size, &map) || map.type() != FlexRef::kMap)
      return Invalid("custom options are not a flexbuffer map");
    int64_t left, right, ow, oh;
    double target, sx, sy;
    if (!FlexIntVector(map, "subset_idxs", &subset_, &error) || !FlexInt(map, "left_rotation_idx", &left, &error) ||
        !FlexInt(map, "right_rotation_idx", &right, &error) || !FlexInt(map, "output_width", &ow, &error) ||
        !FlexInt(map, "output_height", &oh, &error) || !FlexFloat(map, "scale_x", &sx, &error) ||
        !FlexFloat(map, "scale_y", &sy, &error) || !FlexFloat(map, "target_rotation_radians", &target, &error))
      return kLiteRtStatusErrorInvalidArgument;
    if (subset_.empty()) return Invalid("subset_idxs is empty");
    if (ow < 1 || oh < 1) return Invalid("output_width/output_height must be positive");
    left_ = left;
    right_ = right;
    out_w_ = static_cast<double>(ow);
    out_h_ = static_cast<double>(oh);
    scale_x_ = sx;
    scale_y_ = sy;
    target_ = target;
    return kLiteRtStatusOk;
  }

  LiteRtStatus OutputLayouts(size_t ni, const LiteRtLayout* in, size_t no, LiteRtLayout* out) override {
    if (ni != 1 || no != 1) return Invalid("expects 1 input (landmarks) and 1 output");
    if (in[0].rank != 3 || in[0].dimensions[2] < 2)
      return Invalid("landmarks must be [1, N, D] with D >= 2, got " + LayoutString(in[0]));
    const LiteRtStatus st = CheckIndices(in[0].dimensions[1]);
    if (st != kLiteRtStatusOk) return st;
    out[0] = MakeLayout({in[0].dimensions[0], 4, 4});
    return kLiteRtStatusOk;
  }

  LiteRtStatus Run(size_t ni, const LiteRtTensorBuffer* inputs, size_t no, LiteRtTensorBuffer* outputs) override {
    if (ni != 1 || no != 1) return Invalid("expects 1 input (landmarks) and 1 output");
    FloatTensor lm, out;
    if (!lm.Lock(inputs[0], kLiteRtTensorBufferLockModeRead, "landmarks", &error) ||
        !out.Lock(outputs[0], kLiteRtTensorBufferLockModeWrite, "output", &error))
      return kLiteRtStatusErrorInvalidArgument;
    if (lm.rank() != 3 || out.size() != static_cast<size_t>(lm.dim(0)) * 16) return Invalid("unexpected tensor shapes");
    const int n = lm.dim(1), d = lm.dim(2);
    const LiteRtStatus st = CheckIndices(n);
    if (st != kLiteRtStatusOk) return st;
    for (int b = 0; b < lm.dim(0); ++b) {
      const float* p = lm.data() + static_cast<size_t>(b) * n * d;
      auto X = [&](int64_t i) { return static_cast<double>(p[i * d]); };
      auto Y = [&](int64_t i) { return static_cast<double>(p[i * d + 1]); };
      const double rotation = NormalizeRadians(target_ - std::atan2(-(Y(right_) - Y(left_)), X(right_) - X(left_)));
      const double c = std::cos(rotation), s = std::sin(rotation);
      // bounding box of the subset in the frame rotated by -rotation
      double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
      for (size_t k = 0; k < subset_.size(); ++k) {
        const double x = X(subset_[k]), y = Y(subset_[k]);
        const double rx = c * x + s * y, ry = -s * x + c * y;
        if (k == 0 || rx < min_x) min_x = rx;
        if (k == 0 || rx > max_x) max_x = rx;
        if (k == 0 || ry < min_y) min_y = ry;
        if (k == 0 || ry > max_y) max_y = ry;
      }
      const double cx_r = (min_x + max_x) / 2, cy_r = (min_y + max_y) / 2;
      const double cx = c * cx_r - s * cy_r, cy = s * cx_r + c * cy_r;
      const double w = (max_x - min_x) * scale_x_, h = (max_y - min_y) * scale_y_;
      // linear part A = R * diag(w / out_w, h / out_h); translation t = centre - A * (out_w / 2, out_h / 2)
      const double a00 = c * w / out_w_, a01 = -s * h / out_h_, a10 = s * w / out_w_, a11 = c * h / out_h_;
      const double tx = cx - (a00 * out_w_ / 2 + a01 * out_h_ / 2);
      const double ty = cy - (a10 * out_w_ / 2 + a11 * out_h_ / 2);
      const double m[16] = {a00, a01, 0, tx, a10, a11, 0, ty, 0, 0, 1, 0, 0, 0, 0, 1};
      float* q = out.data() + 16 * static_cast<size_t>(b);
      for (int i = 0; i < 16; ++i) q[i] = static_cast<float>(m[i]);
    }
    return kLiteRtStatusOk;
  }

 private:
  LiteRtStatus CheckIndices(int64_t n) {
    auto bad = [&](int64_t i) { return i < 0 || i >= n; };
    if (bad(left_) || bad(right_))
      return Invalid("rotation landmark index out of range for " + std::to_string(n) + " landmarks");
    for (int64_t i : subset_)
      if (bad(i))
        return Invalid("subset index " + std::to_string(i) + " out of range for " + std::to_string(n) + " landmarks");
    return kLiteRtStatusOk;
  }

  std::vector<int64_t> subset_;
  int64_t left_ = 0, right_ = 0;
  double out_w_ = 1, out_h_ = 1, scale_x_ = 1, scale_y_ = 1, target_ = 0;
};

}  // namespace

LiteRtSdkCustomOp Landmarks2TransformMatrixOp() {
  return KernelEntry<Landmarks2TransformMatrix>::Op("Landmarks2TransformMatrix", 2);
}

}  // namespace litert_mediapipe
