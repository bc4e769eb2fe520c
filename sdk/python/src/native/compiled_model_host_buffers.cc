// CompiledModel runs on caller-owned host memory (litert_sdk.tensor_buffer.TensorBuffer, ai_edge_litert's API);
// bfloat16 tensors too (2 bytes an element here; numpy cannot hold them, ml_dtypes can).
//
// Each buffer is a C-contiguous, 64-byte aligned uint8 view over memory the caller keeps alive (a numpy array the
// TensorBuffer holds). For a run it is wrapped as a temporary LiteRtTensorBuffer with the tensor's current layout
// (LiteRtCreateTensorBufferFromHostMemory), so the runtime reads inputs from and writes outputs into that memory:
// no copies. Element types are checked by the caller (the buffers carry only bytes); sizes and alignment here.
#include "compiled_model.h"
#include "strings.h"

#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace litert_sdk {

namespace {

struct TempBuffers {
  std::vector<LiteRtTensorBuffer> v;
  ~TempBuffers() {
    for (auto b : v)
      if (b) LiteRtDestroyTensorBuffer(b);
  }
};

// Element size in host memory; bfloat16, which numpy cannot hold (the SDK's slots skip it), is 2 bytes here
// (TensorBuffers hold it through ml_dtypes).
size_t host_element_size(LiteRtElementType type) { return type == kLiteRtElementTypeBFloat16 ? 2 : element_size(type); }

// Bytes a host buffer for `slot` needs at its current shape: the tensor's bytes, or the runtime's own buffer size
// when larger (an output the SDK's shape engine sized differently, see make_slot's `min_bytes`).
size_t needed_bytes(const Slot& slot, bool output) {
  const char* what = output ? "output" : "input";
  if (is_string_type(slot.type) || host_element_size(slot.type) == 0)
    raise(ErrorKind::kUnsupported, std::string(what) + " '" + slot.name + "' has element type " +
                                       element_type_name(slot.type) + ", which a host TensorBuffer cannot hold");
  size_t n = 1;
  for (int64_t d : slot.dims) {
    if (d < 0)
      raise(ErrorKind::kInvalidArgument, std::string(what) + " '" + slot.name + "' has no concrete shape (" +
                                             dims_to_string(slot.dims) + "); resize the inputs first");
    n *= static_cast<size_t>(d);
  }
  size_t size = n * host_element_size(slot.type);
  if (output && slot.buffer) {
    size_t runtime_size = 0;
    if (LiteRtGetTensorBufferSize(slot.buffer, &runtime_size) == kLiteRtStatusOk) size = std::max(size, runtime_size);
  }
  return size;
}

}  // namespace

size_t CompiledModel::host_buffer_bytes(size_t sig, size_t index, bool output) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  std::vector<Slot>& slots = output ? st.outputs : st.inputs;
  if (index >= slots.size())
    raise(ErrorKind::kInvalidArgument, std::string(output ? "output" : "input") + " index " + std::to_string(index) +
                                           " out of range (" + std::to_string(slots.size()) + " available)");
  if (output && !st.allocation_error.empty())
    raise(ErrorKind::kRuntime, "the model cannot be prepared with its current input shapes (resize the inputs to "
                               "the shapes you will feed): " +
                                   st.allocation_error);
  return needed_bytes(slots[index], output);
}

// The bytes of the `i`th input or output view.
template <typename V>
static std::pair<const void*, size_t> view_bytes(const std::vector<V>& v, size_t i) {
  return {v[i].data(), v[i].size()};
}

void CompiledModel::run_host_buffers(size_t sig, const std::vector<HostBytesIn>& inputs,
                                     const std::vector<HostBytesOut>& outputs) {
  Guard guard(*this);
  SignatureState& st = state(sig);
  if (inputs.size() != st.inputs.size() || outputs.size() != st.outputs.size())
    raise(ErrorKind::kInvalidArgument, "signature " + std::to_string(sig) + " takes " +
                                           std::to_string(st.inputs.size()) + " input and " +
                                           std::to_string(st.outputs.size()) + " output buffers, got " +
                                           std::to_string(inputs.size()) + " and " + std::to_string(outputs.size()));
  if (!st.allocation_error.empty())
    raise(ErrorKind::kRuntime, "the model cannot be prepared with its current input shapes (resize the inputs to "
                               "the shapes you will feed): " +
                                   st.allocation_error);
  TempBuffers ins, outs;
  ins.v.assign(inputs.size(), nullptr);
  outs.v.assign(outputs.size(), nullptr);
  for (int pass = 0; pass < 2; ++pass) {
    const bool output = pass == 1;
    const size_t n_given = output ? outputs.size() : inputs.size();
    std::vector<Slot>& slots = output ? st.outputs : st.inputs;
    std::vector<LiteRtTensorBuffer>& temp = output ? outs.v : ins.v;
    for (size_t i = 0; i < n_given; ++i) {
      Slot& slot = slots[i];
      const char* what = output ? "output" : "input";
      const auto [data, have] = output ? view_bytes(outputs, i) : view_bytes(inputs, i);
      const size_t need = needed_bytes(slot, output);
      if (output ? have < need : have != need)
        raise(ErrorKind::kInvalidArgument, std::string(what) + " '" + slot.name + "' of shape " +
                                               dims_to_string(slot.dims) + " needs a buffer of " +
                                               std::to_string(need) + " bytes, got " + std::to_string(have));
      if (reinterpret_cast<uintptr_t>(data) % LITERT_SDK_HOST_MEMORY_ALIGNMENT != 0)
        raise(ErrorKind::kInvalidArgument,
              std::string(what) + " buffer for '" + slot.name + "' is not 64-byte aligned");
      LiteRtRankedTensorType rtt;
      std::memset(&rtt, 0, sizeof(rtt));
      rtt.element_type = slot.type;
      rtt.layout = make_layout(slot.dims);
      check(LiteRtCreateTensorBufferFromHostMemory(&rtt, const_cast<void*>(data), have, nullptr, &temp[i]),
            "LiteRtCreateTensorBufferFromHostMemory");
    }
  }
  run_buffers_locked(st, sig, ins.v, outs.v);
}

}  // namespace litert_sdk
