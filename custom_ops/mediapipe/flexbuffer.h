// A small, bounds-checked FlexBuffers reader: enough to read the attribute maps TFLite custom ops carry in their
// custom options (maps of ints, floats, bools, strings and vectors of numbers).
//
// Implemented from the published FlexBuffers format description: the buffer ends with the root value, its packed
// type and its byte width; a packed type is (type << 2) | log2(child byte width); offsets point backwards; vectors
// have their length just before the first element; untyped vectors and maps store one packed type per element after
// the elements; a map keeps, before its length, the offset and byte width of its (sorted) key vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace litert_mediapipe {

class FlexRef {
 public:
  enum Type {
    kNull = 0,
    kInt = 1,
    kUInt = 2,
    kFloat = 3,
    kKey = 4,
    kString = 5,
    kIndirectInt = 6,
    kIndirectUInt = 7,
    kIndirectFloat = 8,
    kMap = 9,
    kVector = 10,
    kVectorInt = 11,
    kVectorUInt = 12,
    kVectorFloat = 13,
    kVectorKey = 14,
    kVectorStringDeprecated = 15,
    kVectorInt2 = 16,
    kVectorUInt2 = 17,
    kVectorFloat2 = 18,
    kVectorInt3 = 19,
    kVectorUInt3 = 20,
    kVectorFloat3 = 21,
    kVectorInt4 = 22,
    kVectorUInt4 = 23,
    kVectorFloat4 = 24,
    kBlob = 25,
    kBool = 26,
    kVectorBool = 36
  };

  FlexRef() = default;

  // The root value of `size` bytes at `buf`; false when the buffer is not a FlexBuffer.
  static bool Root(const uint8_t* buf, size_t size, FlexRef* out) {
    if (!buf || size < 3) return false;
    size_t parent_width = buf[size - 1];
    if (parent_width != 1 && parent_width != 2 && parent_width != 4 && parent_width != 8) return false;
    if (size < 2 + parent_width) return false;
    *out = FlexRef(buf, size, size - 2 - parent_width, parent_width, buf[size - 2]);
    return true;
  }

  int type() const { return type_; }
  bool valid() const { return buf_ != nullptr; }

  bool AsInt64(int64_t* v) const {
    switch (type_) {
      case kInt: return ReadInt(pos_, parent_width_, v);
      case kUInt:
      case kBool: {
        uint64_t u;
        if (!ReadUInt(pos_, parent_width_, &u)) return false;
        *v = static_cast<int64_t>(u);
        return true;
      }
      case kIndirectInt: {
        size_t t;
        return Indirect(&t) && ReadInt(t, byte_width_, v);
      }
      case kIndirectUInt: {
        size_t t;
        uint64_t u;
        if (!Indirect(&t) || !ReadUInt(t, byte_width_, &u)) return false;
        *v = static_cast<int64_t>(u);
        return true;
      }
      case kFloat:
      case kIndirectFloat: {
        double d;
        if (!AsDouble(&d)) return false;
        *v = static_cast<int64_t>(d);
        return true;
      }
      default: return false;
    }
  }

  bool AsDouble(double* v) const {
    switch (type_) {
      case kFloat: return ReadFloat(pos_, parent_width_, v);
      case kIndirectFloat: {
        size_t t;
        return Indirect(&t) && ReadFloat(t, byte_width_, v);
      }
      case kInt:
      case kUInt:
      case kBool:
      case kIndirectInt:
      case kIndirectUInt: {
        int64_t i;
        if (!AsInt64(&i)) return false;
        *v = static_cast<double>(i);
        return true;
      }
      default: return false;
    }
  }

  bool AsString(std::string* s) const {
    if (type_ != kString && type_ != kKey && type_ != kBlob) return false;
    size_t t;
    if (!Indirect(&t)) return false;
    if (type_ == kKey) {
      const void* end = std::memchr(buf_ + t, 0, size_ - t);
      if (!end) return false;
      s->assign(reinterpret_cast<const char*>(buf_ + t), static_cast<const uint8_t*>(end) - (buf_ + t));
      return true;
    }
    uint64_t n;
    if (t < byte_width_ || !ReadUInt(t - byte_width_, byte_width_, &n) || n > size_ - t) return false;
    s->assign(reinterpret_cast<const char*>(buf_ + t), static_cast<size_t>(n));
    return true;
  }

  // Vectors (typed, untyped, fixed-size typed) and maps (their values).
  bool Size(size_t* n) const {
    size_t fixed = FixedLength();
    if (fixed) {
      *n = fixed;
      return true;
    }
    if (!IsVectorLike()) return false;
    size_t t;
    uint64_t len;
    if (!Indirect(&t) || t < byte_width_ || !ReadUInt(t - byte_width_, byte_width_, &len)) return false;
    if (len > (size_ - t) / byte_width_) return false;
    *n = static_cast<size_t>(len);
    return true;
  }

  bool At(size_t i, FlexRef* out) const {
    size_t n, t;
    if (!Size(&n) || i >= n || !Indirect(&t)) return false;
    size_t elem = t + i * byte_width_;
    if (elem + byte_width_ > size_) return false;
    uint8_t packed;
    if (type_ == kVector || type_ == kMap) {
      size_t types = t + n * byte_width_;
      if (types + i >= size_) return false;
      packed = buf_[types + i];
    } else {
      packed = static_cast<uint8_t>((ElementType() << 2) | WidthCode(byte_width_));
    }
    *out = FlexRef(buf_, size_, elem, byte_width_, packed);
    return true;
  }

  bool Lookup(const char* key, FlexRef* out) const {
    if (type_ != kMap) return false;
    size_t t, n;
    if (!Indirect(&t) || !Size(&n) || t < 3 * byte_width_) return false;
    uint64_t keys_off, keys_width;
    size_t keys_field = t - 3 * byte_width_;
    if (!ReadUInt(keys_field, byte_width_, &keys_off) || !ReadUInt(t - 2 * byte_width_, byte_width_, &keys_width))
      return false;
    if (keys_off > keys_field || (keys_width != 1 && keys_width != 2 && keys_width != 4 && keys_width != 8))
      return false;
    size_t keys = keys_field - static_cast<size_t>(keys_off);
    for (size_t i = 0; i < n; ++i) {
      size_t kp = keys + i * keys_width;
      uint64_t koff;
      if (!ReadUInt(kp, static_cast<size_t>(keys_width), &koff) || koff > kp) return false;
      size_t kpos = kp - static_cast<size_t>(koff);
      size_t klen = std::strlen(key);
      if (kpos + klen < size_ && std::memcmp(buf_ + kpos, key, klen) == 0 && buf_[kpos + klen] == 0) return At(i, out);
    }
    return false;
  }

 private:
  FlexRef(const uint8_t* buf, size_t size, size_t pos, size_t parent_width, uint8_t packed)
      : buf_(buf), size_(size), pos_(pos), parent_width_(parent_width), byte_width_(size_t{1} << (packed & 3)),
        type_(packed >> 2) {}

  static int WidthCode(size_t w) { return w == 1 ? 0 : w == 2 ? 1 : w == 4 ? 2 : 3; }

  bool IsVectorLike() const {
    return type_ == kMap || type_ == kVector || (type_ >= kVectorInt && type_ <= kVectorStringDeprecated) ||
           type_ == kVectorBool;
  }
  size_t FixedLength() const {
    if (type_ >= kVectorInt2 && type_ <= kVectorFloat4) return static_cast<size_t>((type_ - kVectorInt2) / 3 + 2);
    return 0;
  }
  int ElementType() const {
    if (type_ >= kVectorInt && type_ <= kVectorKey) return type_ - kVectorInt + kInt;
    if (type_ == kVectorStringDeprecated) return kString;
    if (type_ == kVectorBool) return kBool;
    if (type_ >= kVectorInt2 && type_ <= kVectorFloat4) return (type_ - kVectorInt2) % 3 + kInt;
    return kNull;
  }

  bool Indirect(size_t* target) const {
    uint64_t off;
    if (!ReadUInt(pos_, parent_width_, &off) || off > pos_) return false;
    *target = pos_ - static_cast<size_t>(off);
    return true;
  }
  bool ReadUInt(size_t p, size_t w, uint64_t* v) const {
    if (p > size_ || w > size_ - p) return false;
    uint64_t r = 0;
    for (size_t i = 0; i < w; ++i) r |= static_cast<uint64_t>(buf_[p + i]) << (8 * i);  // little endian
    *v = r;
    return true;
  }
  bool ReadInt(size_t p, size_t w, int64_t* v) const {
    uint64_t u;
    if (!ReadUInt(p, w, &u)) return false;
    if (w < 8 && (u >> (8 * w - 1)) & 1) u |= ~uint64_t{0} << (8 * w);  // sign-extend
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool ReadFloat(size_t p, size_t w, double* v) const {
    uint64_t u;
    if (!ReadUInt(p, w, &u)) return false;
    if (w == 4) {
      uint32_t b = static_cast<uint32_t>(u);
      float f;
      std::memcpy(&f, &b, 4);
      *v = f;
      return true;
    }
    if (w == 8) {
      std::memcpy(v, &u, 8);
      return true;
    }
    return false;
  }

  const uint8_t* buf_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
  size_t parent_width_ = 1;
  size_t byte_width_ = 1;
  int type_ = kNull;
};

// Helpers for attribute maps: false (and an error text) when a key is missing or has the wrong type.
inline bool FlexInt(const FlexRef& map, const char* key, int64_t* v, std::string* error) {
  FlexRef r;
  if (map.Lookup(key, &r) && r.AsInt64(v)) return true;
  *error = std::string("attribute '") + key + "' is missing or not a number";
  return false;
}

inline bool FlexFloat(const FlexRef& map, const char* key, double* v, std::string* error) {
  FlexRef r;
  if (map.Lookup(key, &r) && r.AsDouble(v)) return true;
  *error = std::string("attribute '") + key + "' is missing or not a number";
  return false;
}

inline bool FlexIntVector(const FlexRef& map, const char* key, std::vector<int64_t>* v, std::string* error) {
  FlexRef r;
  size_t n;
  if (!map.Lookup(key, &r) || !r.Size(&n)) {
    *error = std::string("attribute '") + key + "' is missing or not a vector";
    return false;
  }
  v->resize(n);
  for (size_t i = 0; i < n; ++i) {
    FlexRef e;
    if (!r.At(i, &e) || !e.AsInt64(&(*v)[i])) {
      *error = std::string("attribute '") + key + "' has a non-integer element";
      return false;
    }
  }
  return true;
}

}  // namespace litert_mediapipe
