#pragma once
// String tensors (kLiteRtElementTypeTfString) in CompiledModel slots: TFLite's packed format (int32 count,
// int32 offsets[count + 1], bytes) in host memory. Measured on libLiteRt 2.3.0 (flex/README.md): a host-memory
// tensor buffer of any size is accepted for a string input; a string output is copied into the host buffer after the
// run, which fails ("Output buffer too small: allocated A, required R") when the buffer is smaller than the output.
#include <string>
#include <vector>

#include "compiled_model.h"

namespace litert_sdk {

// Initial host buffer size of a string output (grown when an output needs more).
constexpr size_t kStringOutputCapacity = size_t{1} << 20;

inline bool is_string_type(LiteRtElementType t) { return t == kLiteRtElementTypeTfString; }

// Gives an output slot a zeroed host buffer of `capacity` bytes that the runtime copies the packed output into.
void make_string_output_slot(Slot& slot, const LiteRtLayout& layout, size_t capacity);

// Gives an input slot its own 64-byte aligned copy of a packed string buffer and binds it.
void fill_string_input_slot(Slot& slot, const char* data, size_t size);

// The slot's strings as a numpy object array of bytes (litert_sdk._strings.unpack).
nb::object string_slot_array(const Slot& slot);

// (data, dims) of a litert_sdk._strings.PackedStrings tuple; raises InvalidArgument for anything else.
void parse_packed_strings(nb::handle value, const std::string& name, std::string& data, std::vector<int64_t>& dims);

// The size R from the runtime's "Output buffer too small: allocated A, required R" (0 when absent).
size_t required_output_size(const std::string& errors);

}  // namespace litert_sdk
