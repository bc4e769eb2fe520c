// Reference-counted owners of the runtime's handles. Python objects hold shared_ptrs to these, so whatever order
// the garbage collector frees them in, a model never outlives its environment and a compiled model never outlives
// its model.
#pragma once

#include <string>
#include <vector>

#include "common.h"

namespace litert_sdk {

struct EnvHandle {
  LiteRtEnvironment env = nullptr;
  std::vector<std::string> option_strings;  // storage for string option values
  ~EnvHandle() {
    if (env) LiteRtDestroyEnvironment(env);
  }
};
using EnvPtr = std::shared_ptr<EnvHandle>;

struct ModelHandle {
  EnvPtr env;
  LiteRtModel model = nullptr;
  BlockPtr buffer;  // model bytes for models created from memory; must outlive `model`
  std::string path;
  ~ModelHandle() {
    if (model) LiteRtDestroyModel(model);
  }
};
using ModelPtr = std::shared_ptr<ModelHandle>;

}  // namespace litert_sdk
