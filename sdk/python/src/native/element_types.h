// Element types: sizes, names and numpy (dlpack) dtypes of LiteRtElementType.
#pragma once

#include <cstdio>  // nanobind headers use stderr (nanobind issue 1438)
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <string>

#include "errors.h"
#include "litert_sdk/litert_c_abi.h"

namespace litert_sdk {

// ---- element types ------------------------------------------------------------------------------------
// Size in bytes of one element, or 0 for types numpy cannot hold (string, int4/int2, resource, variant, bf16).
size_t element_size(LiteRtElementType type);
const char* element_type_name(LiteRtElementType type);
nb::dlpack::dtype element_dlpack_dtype(LiteRtElementType type);
bool dtype_matches(LiteRtElementType type, const nb::dlpack::dtype& dt);
std::string dlpack_dtype_name(const nb::dlpack::dtype& dt);

}  // namespace litert_sdk
