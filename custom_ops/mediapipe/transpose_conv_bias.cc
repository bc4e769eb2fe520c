// Convolution2DTransposeBias: MediaPipe's transposed 2-D convolution with a bias, in one op.
//
// Inputs: input [N, H, W, Cin], weights [Cout, KH, KW, Cin] (the TFLite TRANSPOSE_CONV layout), bias [Cout].
// Custom options: a POD struct of int32 {padding (1 = SAME, 2 = VALID), stride_width, stride_height} (the leading
// fields of TFLite's TfLiteTransposeConvParams; longer blobs are accepted, the rest is ignored).
// Output [N, OH, OW, Cout] with the usual transposed-convolution sizes: SAME: OH = H * stride_h; VALID:
// OH = H * stride_h + max(KH - stride_h, 0) (same for widths). Padding: the amount a forward convolution from the
// output size back to H would use: total = max((H - 1) * stride + KH - OH, 0), before = total / 2.
//   out[n, y * s + ky - pad_top, x * s + kx - pad_left, co] += in[n, y, x, ci] * w[co, ky, kx, ci];  out += bias.
#include <algorithm>
#include <cstring>

#include "kernel.h"

namespace litert_mediapipe {
namespace {

enum { kPaddingSame = 1, kPaddingValid = 2 };

int64_t OutputSize(int padding, int64_t in, int64_t k, int64_t stride) {
  return padding == kPaddingSame ? in * stride : in * stride + std::max<int64_t>(k - stride, 0);
}

class TransposeConvBias : public Kernel {
 public:
  LiteRtStatus Init(const uint8_t* options, size_t size) override {
    if (size < 3 * sizeof(int32_t))
      return Invalid("custom options must hold {padding, stride_width, stride_height} (12 bytes), got " +
                     std::to_string(size) + " bytes");
    int32_t v[3];
    std::memcpy(v, options, sizeof(v));
    if (v[0] != kPaddingSame && v[0] != kPaddingValid)
      return Invalid("padding must be 1 (SAME) or 2 (VALID), got " + std::to_string(v[0]));
    if (v[1] < 1 || v[2] < 1)
      return Invalid("strides must be positive, got " + std::to_string(v[1]) + "x" + std::to_string(v[2]));
    padding_ = v[0];
    stride_w_ = v[1];
    stride_h_ = v[2];
    return kLiteRtStatusOk;
  }

  LiteRtStatus OutputLayouts(size_t ni, const LiteRtLayout* in, size_t no, LiteRtLayout* out) override {
    if (ni != 3 || no != 1) return Invalid("expects 3 inputs and 1 output");
    if (in[0].rank != 4 || in[1].rank != 4 || in[2].rank != 1)
      return Invalid("expects input [N,H,W,Cin], weights [Cout,KH,KW,Cin], bias [Cout]; got " + LayoutString(in[0]) +
                     ", " + LayoutString(in[1]) + ", " + LayoutString(in[2]));
    if (in[1].dimensions[3] != in[0].dimensions[3] || in[2].dimensions[0] != in[1].dimensions[0])
      return Invalid("channel mismatch: input " + LayoutString(in[0]) + ", weights " + LayoutString(in[1]) + ", bias " +
                     LayoutString(in[2]));
    int64_t oh = OutputSize(padding_, in[0].dimensions[1], in[1].dimensions[1], stride_h_);
    int64_t ow = OutputSize(padding_, in[0].dimensions[2], in[1].dimensions[2], stride_w_);
    if (oh > INT32_MAX || ow > INT32_MAX) return Invalid("output too large");
    out[0] = MakeLayout({in[0].dimensions[0], static_cast<int32_t>(oh), static_cast<int32_t>(ow), in[1].dimensions[0]});
    return kLiteRtStatusOk;
  }

  LiteRtStatus Run(size_t ni, const LiteRtTensorBuffer* inputs, size_t no, LiteRtTensorBuffer* outputs) override {
    if (ni != 3 || no != 1) return Invalid("expects 3 inputs and 1 output");
    FloatTensor in, w, b, out;
    if (!in.Lock(inputs[0], kLiteRtTensorBufferLockModeRead, "input", &error) ||
        !w.Lock(inputs[1], kLiteRtTensorBufferLockModeRead, "weights", &error) ||
        !b.Lock(inputs[2], kLiteRtTensorBufferLockModeRead, "bias", &error) ||
        !out.Lock(outputs[0], kLiteRtTensorBufferLockModeWrite, "output", &error))
      return kLiteRtStatusErrorInvalidArgument;
    if (in.rank() != 4 || w.rank() != 4 || b.rank() != 1 || out.rank() != 4) return Invalid("unexpected tensor ranks");
    const int n_batch = in.dim(0), ih = in.dim(1), iw = in.dim(2), ci = in.dim(3);
    const int co = w.dim(0), kh = w.dim(1), kw = w.dim(2);
    const int oh = out.dim(1), ow = out.dim(2);
    if (w.dim(3) != ci || b.dim(0) != co || out.dim(0) != n_batch || out.dim(3) != co)
      return Invalid("tensor shapes do not match");
    const int pad_top = std::max((ih - 1) * stride_h_ + kh - oh, 0) / 2;
    const int pad_left = std::max((iw - 1) * stride_w_ + kw - ow, 0) / 2;
    const float* x = in.data();
    const float* wt = w.data();
    float* y = out.data();
    for (int n = 0; n < n_batch; ++n)
      for (int p = 0; p < oh * ow; ++p)
        std::memcpy(y + (static_cast<size_t>(n) * oh * ow + p) * co, b.data(), co * sizeof(float));
    for (int n = 0; n < n_batch; ++n) {
      for (int iy = 0; iy < ih; ++iy) {
        for (int ix = 0; ix < iw; ++ix) {
          const float* xv = x + ((static_cast<size_t>(n) * ih + iy) * iw + ix) * ci;
          for (int ky = 0; ky < kh; ++ky) {
            const int oy = iy * stride_h_ + ky - pad_top;
            if (oy < 0 || oy >= oh) continue;
            for (int kx = 0; kx < kw; ++kx) {
              const int ox = ix * stride_w_ + kx - pad_left;
              if (ox < 0 || ox >= ow) continue;
              float* yv = y + ((static_cast<size_t>(n) * oh + oy) * ow + ox) * co;
              for (int o = 0; o < co; ++o) {
                const float* wv = wt + ((static_cast<size_t>(o) * kh + ky) * kw + kx) * ci;
                float acc = 0.f;
                for (int c = 0; c < ci; ++c) acc += xv[c] * wv[c];
                yv[o] += acc;
              }
            }
          }
        }
      }
    }
    return kLiteRtStatusOk;
  }

 private:
  int padding_ = kPaddingSame;
  int stride_w_ = 1;
  int stride_h_ = 1;
};

}  // namespace

LiteRtSdkCustomOp Convolution2DTransposeBiasOp() {
  return KernelEntry<TransposeConvBias>::Op("Convolution2DTransposeBias", 1);
}

}  // namespace litert_mediapipe
