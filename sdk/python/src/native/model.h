#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "environment.h"

namespace litert_sdk {

class Model {
 public:
  static Model from_file(const Environment& env, const std::string& path);
  static Model from_buffer(const Environment& env, nb::bytes data);

  // Signatures, subgraphs (inputs, outputs, ops, tensors) as plain Python data; see model.cc.
  nb::dict describe() const;
  nb::object metadata(const std::string& key) const;
  // Constant data of a tensor (subgraph, tensor index) as bytes, or None when it has none.
  nb::object constant_bytes(size_t subgraph, uint32_t tensor_index) const;

  const ModelPtr& handle() const { return handle_; }
  LiteRtSubgraph subgraph(size_t index) const;

 private:
  explicit Model(ModelPtr h) : handle_(std::move(h)) {}
  ModelPtr handle_;
};

// Tensor description dict: name, index, element_type, shape, ranked, quantization.
nb::dict describe_tensor(LiteRtTensor tensor);

void bind_model(nb::module_& m);

}  // namespace litert_sdk
