#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "custom_ops.h"

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
  // Custom-op kernel registered under `code` (the custom code of the model's nodes) when the options are built;
  // `io_shapes`: the static shapes of the code's nodes, handed to the kernel's configure_instance (custom_op_api.h).
  void add_custom_op(const std::string& code, KernelPtr kernel, const std::string& io_shapes = {});
  std::vector<std::string> custom_op_codes() const;

  struct Built {
    LiteRtOptions options = nullptr;
    SessionPtr custom_ops;  // instances of the registered custom-op kernels; must outlive the compiled model
    ~Built() {
      if (options) LiteRtDestroyOptions(options);
    }
  };
  void build(Built& out) const;

 private:
  int hw_ = kLiteRtHwAcceleratorCpu;
  std::vector<std::pair<std::string, std::string>> opaque_;
  std::vector<CustomOpRegistration> custom_ops_;
};

void bind_options(nb::module_& m);

}  // namespace litert_sdk
