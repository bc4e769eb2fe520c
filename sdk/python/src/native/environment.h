#pragma once

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "handles.h"

namespace litert_sdk {

class Environment {
 public:
  Environment(std::optional<std::string> runtime_library_dir, int log_severity,
              std::optional<std::string> compiler_cache_dir, std::optional<std::string> dispatch_library_dir);
  std::vector<std::tuple<std::string, int>> accelerators() const;
  const EnvPtr& handle() const { return handle_; }

 private:
  EnvPtr handle_;
};

void bind_environment(nb::module_& m);

}  // namespace litert_sdk
