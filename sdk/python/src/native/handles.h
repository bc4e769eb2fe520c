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
  uint64_t fork_gen = fork_generation();    // a fork child never destroys its parent's handles (common.h)
  ~EnvHandle() {
    if (env && !forked_since(fork_gen)) LiteRtDestroyEnvironment(env);
  }
};
using EnvPtr = std::shared_ptr<EnvHandle>;

struct ModelHandle {
  EnvPtr env;
  LiteRtModel model = nullptr;
  BlockPtr buffer;  // model bytes for models created from memory; must outlive `model`
  std::string path;
  uint64_t fork_gen = fork_generation();
  ~ModelHandle() {
    if (model && !forked_since(fork_gen)) LiteRtDestroyModel(model);
  }
};
using ModelPtr = std::shared_ptr<ModelHandle>;

}  // namespace litert_sdk
