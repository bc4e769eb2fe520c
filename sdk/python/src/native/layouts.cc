// Layouts: LiteRtLayout <-> dims, element counts, shape strings.
#include "layouts.h"

#include <cstring>
#include <limits>

namespace litert_sdk {

std::vector<int64_t> layout_dims(const LiteRtLayout& layout) {
  std::vector<int64_t> dims;
  unsigned rank = layout.rank;
  if (rank > LITERT_SDK_TENSOR_MAX_RANK) rank = LITERT_SDK_TENSOR_MAX_RANK;
  dims.reserve(rank);
  for (unsigned i = 0; i < rank; ++i) dims.push_back(layout.dimensions[i]);
  return dims;
}

LiteRtLayout make_layout(const std::vector<int64_t>& dims) {
  if (dims.size() > LITERT_SDK_TENSOR_MAX_RANK)
    raise(ErrorKind::kInvalidArgument, "tensor rank " + std::to_string(dims.size()) +
                                           " exceeds the runtime's maximum of " +
                                           std::to_string(LITERT_SDK_TENSOR_MAX_RANK));
  LiteRtLayout layout;
  std::memset(&layout, 0, sizeof(layout));
  layout.rank = static_cast<unsigned>(dims.size());
  layout.has_strides = false;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0 || dims[i] > std::numeric_limits<int32_t>::max())
      raise(ErrorKind::kInvalidArgument,
            "invalid dimension " + std::to_string(dims[i]) + " in shape " + dims_to_string(dims));
    layout.dimensions[i] = static_cast<int32_t>(dims[i]);
  }
  return layout;
}

size_t layout_num_elements(const LiteRtLayout& layout, const char* what) {
  size_t n = 1;
  for (unsigned i = 0; i < layout.rank && i < LITERT_SDK_TENSOR_MAX_RANK; ++i) {
    int32_t d = layout.dimensions[i];
    if (d < 0)
      raise(ErrorKind::kInvalidArgument, std::string(what) + " has a dynamic shape " +
                                             dims_to_string(layout_dims(layout)) +
                                             "; resize it to a concrete shape first");
    if (d != 0 && n > std::numeric_limits<size_t>::max() / static_cast<size_t>(d))
      raise(ErrorKind::kInvalidArgument, std::string(what) + ": shape too large");
    n *= static_cast<size_t>(d);
  }
  return n;
}

std::string dims_to_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

}  // namespace litert_sdk
