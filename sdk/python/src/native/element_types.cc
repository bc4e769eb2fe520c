// Element types: sizes, names and the numpy (dlpack) dtype of each LiteRtElementType.
#include "element_types.h"

namespace litert_sdk {

size_t element_size(LiteRtElementType type) {
  switch (type) {
    case kLiteRtElementTypeBool:
    case kLiteRtElementTypeInt8:
    case kLiteRtElementTypeUInt8: return 1;
    case kLiteRtElementTypeInt16:
    case kLiteRtElementTypeUInt16:
    case kLiteRtElementTypeFloat16: return 2;
    case kLiteRtElementTypeInt32:
    case kLiteRtElementTypeUInt32:
    case kLiteRtElementTypeFloat32: return 4;
    case kLiteRtElementTypeInt64:
    case kLiteRtElementTypeUInt64:
    case kLiteRtElementTypeFloat64:
    case kLiteRtElementTypeComplex64: return 8;
    case kLiteRtElementTypeComplex128: return 16;
    default: return 0;
  }
}

const char* element_type_name(LiteRtElementType type) {
  switch (type) {
    case kLiteRtElementTypeNone: return "none";
    case kLiteRtElementTypeFloat32: return "float32";
    case kLiteRtElementTypeInt32: return "int32";
    case kLiteRtElementTypeUInt8: return "uint8";
    case kLiteRtElementTypeInt64: return "int64";
    case kLiteRtElementTypeTfString: return "string";
    case kLiteRtElementTypeBool: return "bool";
    case kLiteRtElementTypeInt16: return "int16";
    case kLiteRtElementTypeComplex64: return "complex64";
    case kLiteRtElementTypeInt8: return "int8";
    case kLiteRtElementTypeFloat16: return "float16";
    case kLiteRtElementTypeFloat64: return "float64";
    case kLiteRtElementTypeComplex128: return "complex128";
    case kLiteRtElementTypeUInt64: return "uint64";
    case kLiteRtElementTypeTfResource: return "resource";
    case kLiteRtElementTypeTfVariant: return "variant";
    case kLiteRtElementTypeUInt32: return "uint32";
    case kLiteRtElementTypeUInt16: return "uint16";
    case kLiteRtElementTypeInt4: return "int4";
    case kLiteRtElementTypeBFloat16: return "bfloat16";
    case kLiteRtElementTypeInt2: return "int2";
  }
  return "unknown";
}

nb::dlpack::dtype element_dlpack_dtype(LiteRtElementType type) {
  using nb::dlpack::dtype_code;
  nb::dlpack::dtype dt{};
  dt.lanes = 1;
  dt.bits = static_cast<uint8_t>(element_size(type) * 8);
  switch (type) {
    case kLiteRtElementTypeFloat16:
    case kLiteRtElementTypeFloat32:
    case kLiteRtElementTypeFloat64: dt.code = (uint8_t)dtype_code::Float; break;
    case kLiteRtElementTypeInt8:
    case kLiteRtElementTypeInt16:
    case kLiteRtElementTypeInt32:
    case kLiteRtElementTypeInt64: dt.code = (uint8_t)dtype_code::Int; break;
    case kLiteRtElementTypeUInt8:
    case kLiteRtElementTypeUInt16:
    case kLiteRtElementTypeUInt32:
    case kLiteRtElementTypeUInt64: dt.code = (uint8_t)dtype_code::UInt; break;
    case kLiteRtElementTypeBool: dt.code = (uint8_t)dtype_code::Bool; break;
    case kLiteRtElementTypeComplex64:
    case kLiteRtElementTypeComplex128: dt.code = (uint8_t)dtype_code::Complex; break;
    default:
      raise(ErrorKind::kUnsupported,
            std::string("tensors of element type ") + element_type_name(type) + " cannot be exchanged as numpy arrays");
  }
  return dt;
}

bool dtype_matches(LiteRtElementType type, const nb::dlpack::dtype& dt) {
  if (element_size(type) == 0) return false;
  nb::dlpack::dtype want = element_dlpack_dtype(type);
  return want.code == dt.code && want.bits == dt.bits && dt.lanes == 1;
}

std::string dlpack_dtype_name(const nb::dlpack::dtype& dt) {
  using nb::dlpack::dtype_code;
  const char* base = "?";
  switch ((dtype_code)dt.code) {
    case dtype_code::Int: base = "int"; break;
    case dtype_code::UInt: base = "uint"; break;
    case dtype_code::Float: base = "float"; break;
    case dtype_code::Bool: return "bool";
    case dtype_code::Complex: base = "complex"; break;
    default: break;
  }
  return std::string(base) + std::to_string(dt.bits);
}

}  // namespace litert_sdk
