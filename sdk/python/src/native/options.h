#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common.h"

namespace litert_sdk {

// Compilation options, kept as plain values so one Options object can compile many models. `build()` turns them
// into a fresh LiteRtOptions (owned by the caller, destroyed once the compiled model exists).
class Options {
 public:
  void set_hardware_accelerators(int mask);
  int hardware_accelerators() const { return hw_; }
  // Opaque option: `identifier` ("xnnpack", "runtime_options_string", "gpu_options", ...) with TOML text.
  void set_opaque(const std::string& identifier, const std::string& toml);
  std::vector<std::pair<std::string, std::string>> opaque() const { return opaque_; }

  struct Built {
    LiteRtOptions options = nullptr;
    ~Built() {
      if (options) LiteRtDestroyOptions(options);
    }
  };
  void build(Built& out) const;

 private:
  int hw_ = kLiteRtHwAcceleratorCpu;
  std::vector<std::pair<std::string, std::string>> opaque_;
};

void bind_options(nb::module_& m);

}  // namespace litert_sdk
