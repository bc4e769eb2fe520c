// Layouts: conversions between LiteRtLayout and dims.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "litert_sdk/litert_c_abi.h"

namespace litert_sdk {

// ---- layouts --------------------------------------------------------------------------------------------
std::vector<int64_t> layout_dims(const LiteRtLayout& layout);
LiteRtLayout make_layout(const std::vector<int64_t>& dims);
// Number of elements of a static layout; throws InvalidArgument on dynamic (negative) dims or overflow.
size_t layout_num_elements(const LiteRtLayout& layout, const char* what);
std::string dims_to_string(const std::vector<int64_t>& dims);

}  // namespace litert_sdk
