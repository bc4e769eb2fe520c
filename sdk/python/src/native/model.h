#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "environment.h"

namespace litert_sdk {

// A model's bytes in 64-byte aligned memory that Python fills (a file read straight into it), verifies and then
// hands to Model::from_model_bytes, which loads from the same memory: no copy, and the runtime sees exactly the
// bytes that were verified.
struct ModelBytes {
  explicit ModelBytes(size_t size) : block(std::make_shared<AlignedBlock>(size, false)) {}
  BlockPtr block;
};

class Model {
 public:
  static Model from_file(const Environment& env, const std::string& path);
  static Model from_buffer(const Environment& env, nb::bytes data);
  static Model from_model_bytes(const Environment& env, const ModelBytes& bytes);

  // Signatures, subgraphs (inputs, outputs, ops, tensors) as plain Python data; see model.cc.
  nb::dict describe() const;
  nb::object metadata(const std::string& key) const;
  // Constant data of a tensor (subgraph, tensor index) as bytes, or None when it has none.
  nb::object constant_bytes(size_t subgraph, uint32_t tensor_index) const;

  const ModelPtr& handle() const { return handle_; }
  LiteRtSubgraph subgraph(size_t index) const;

  static Model wrap(ModelPtr h) { return Model(std::move(h)); }

 private:
  explicit Model(ModelPtr h) : handle_(std::move(h)) {}
  ModelPtr handle_;
};

// Tensor description dict: name, index, element_type, shape, ranked, quantization.
nb::dict describe_tensor(LiteRtTensor tensor);

void bind_model(nb::module_& m);

}  // namespace litert_sdk
