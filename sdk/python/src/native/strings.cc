// String tensors in CompiledModel slots (see strings.h).
#include "strings.h"

#include <nanobind/stl/string.h>

#include <cstdlib>
#include <cstring>

namespace litert_sdk {

void make_string_output_slot(Slot& slot, const LiteRtLayout& layout, size_t capacity) {
  slot.release();
  slot.type = kLiteRtElementTypeTfString;
  slot.dims = layout_dims(layout);
  slot.bytes = capacity;
  slot.block = std::make_shared<AlignedBlock>(capacity);
  LiteRtRankedTensorType rtt;
  std::memset(&rtt, 0, sizeof(rtt));
  rtt.element_type = kLiteRtElementTypeTfString;
  rtt.layout = layout;
  rtt.layout.has_strides = false;
  check(LiteRtCreateTensorBufferFromHostMemory(&rtt, slot.block->data, capacity, nullptr, &slot.buffer),
        "LiteRtCreateTensorBufferFromHostMemory (string output)");
}

void fill_string_input_slot(Slot& slot, const char* data, size_t size) {
  if (size < 8) raise(ErrorKind::kInvalidArgument, "string input '" + slot.name + "': not a packed string buffer");
  auto block = std::make_shared<AlignedBlock>(size, /*zero=*/false);
  std::memcpy(block->data, data, size);
  LiteRtRankedTensorType rtt;
  std::memset(&rtt, 0, sizeof(rtt));
  rtt.element_type = kLiteRtElementTypeTfString;
  rtt.layout = make_layout(slot.dims);
  LiteRtTensorBuffer buffer = nullptr;
  check(LiteRtCreateTensorBufferFromHostMemory(&rtt, block->data, size, nullptr, &buffer),
        "LiteRtCreateTensorBufferFromHostMemory (string input)");
  slot.release();
  slot.block = std::move(block);
  slot.bytes = size;
  slot.buffer = buffer;
}

nb::object string_slot_array(const Slot& slot) {
  if (!slot.block) raise(ErrorKind::kInvalidArgument, "string tensor '" + slot.name + "' has not been set");
  nb::object unpack = hook(Hook::kStringsUnpack);
  nb::bytes data(static_cast<const char*>(slot.block->data), slot.bytes);
  nb::list dims;
  for (int64_t d : slot.dims) dims.append(d);
  return unpack(data, dims);
}

void parse_packed_strings(nb::handle value, const std::string& name, std::string& data, std::vector<int64_t>& dims) {
  if (!nb::cast<bool>(hook(Hook::kIsPackedStrings)(value)))
    raise(ErrorKind::kInvalidArgument, "input '" + name +
                                           "' is a string tensor: pass str/bytes or an array of "
                                           "bytes_, str_ or object dtype");
  nb::tuple t = nb::borrow<nb::tuple>(value);
  nb::bytes b = nb::cast<nb::bytes>(t[0]);
  data.assign(b.c_str(), b.size());
  dims.clear();
  for (nb::handle d : nb::borrow<nb::tuple>(t[1])) dims.push_back(nb::cast<int64_t>(d));
}

size_t required_output_size(const std::string& errors) {
  static const char kKey[] = "required ";
  size_t p = errors.find("Output buffer too small");
  if (p == std::string::npos) return 0;
  p = errors.find(kKey, p);
  if (p == std::string::npos) return 0;
  return static_cast<size_t>(std::strtoull(errors.c_str() + p + sizeof(kKey) - 1, nullptr, 10));
}

}  // namespace litert_sdk
