// Binding: litert_sdk._native.Environment (LiteRtEnvironment + its options, accelerator listing).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <utility>
#include <tuple>

#include "environment.h"
#include "optional_api.h"

namespace litert_sdk {

Environment::Environment(std::optional<std::string> runtime_library_dir, int log_severity,
                         std::optional<std::string> compiler_cache_dir,
                         std::optional<std::string> dispatch_library_dir) {
  handle_ = std::make_shared<EnvHandle>();
  std::vector<std::pair<LiteRtEnvOptionTag, std::string>> strings;
  if (runtime_library_dir) strings.emplace_back(kLiteRtEnvOptionTagRuntimeLibraryDir, *runtime_library_dir);
  if (compiler_cache_dir) strings.emplace_back(kLiteRtEnvOptionTagCompilerCacheDir, *compiler_cache_dir);
  if (dispatch_library_dir) strings.emplace_back(kLiteRtEnvOptionTagDispatchLibraryDir, *dispatch_library_dir);
  // The option strings live as long as the environment (the runtime may keep the pointers).
  for (auto& kv : strings) handle_->option_strings.push_back(kv.second);
  std::vector<LiteRtEnvOption> options;
  for (size_t i = 0; i < strings.size(); ++i) {
    LiteRtEnvOption opt{};
    opt.tag = strings[i].first;
    opt.value.type = kLiteRtAnyTypeString;
    opt.value.str_value = handle_->option_strings[i].c_str();
    options.push_back(opt);
  }
  if (log_severity < kLiteRtLogSeverityDebug || log_severity > kLiteRtLogSeveritySilent)
    raise(ErrorKind::kInvalidArgument,
          "log_severity must be between -1 (debug) and 4 (silent), got " + std::to_string(log_severity));
  LiteRtEnvOption sev{};
  sev.tag = kLiteRtEnvOptionTagMinLoggerSeverity;
  sev.value.type = kLiteRtAnyTypeInt;
  sev.value.int_value = log_severity;
  options.push_back(sev);

  LiteRtStatus status;
  std::string captured;
  {
    nb::gil_scoped_release release;
    StderrCapture capture;
    status = LiteRtCreateEnvironment(static_cast<int>(options.size()), options.data(), &handle_->env);
    captured = capture.finish();
  }
  forward_runtime_log(captured);
  check(status, "LiteRtCreateEnvironment");
}

std::vector<std::tuple<std::string, int>> Environment::accelerators() const {
  std::vector<std::tuple<std::string, int>> out;
  LiteRtParamIndex n = 0;
  const LiteRtStatus status = optional_api::GetNumAccelerators(handle_->env, &n);
  if (status == kLiteRtStatusErrorUnsupported)
    raise(ErrorKind::kUnsupported, "this build of the runtime does not export the accelerator listing API");
  check(status, "LiteRtGetNumAccelerators");
  for (LiteRtParamIndex i = 0; i < n; ++i) {
    LiteRtAccelerator acc = nullptr;
    check(optional_api::GetAccelerator(handle_->env, i, &acc), "LiteRtGetAccelerator");
    const char* name = nullptr;
    check(optional_api::GetAcceleratorName(acc, &name), "LiteRtGetAcceleratorName");
    LiteRtHwAcceleratorSet hw = 0;
    check(optional_api::GetAcceleratorHardwareSupport(acc, &hw), "LiteRtGetAcceleratorHardwareSupport");
    out.emplace_back(name ? name : "", hw);
  }
  return out;
}

void bind_environment(nb::module_& m) {
  nb::class_<Environment>(m, "Environment", "A LiteRT runtime environment (accelerator registry, global options).")
      .def(nb::init<std::optional<std::string>, int, std::optional<std::string>, std::optional<std::string>>(),
           nb::arg("runtime_library_dir") = nb::none(), nb::arg("log_severity") = 4,
           nb::arg("compiler_cache_dir") = nb::none(), nb::arg("dispatch_library_dir") = nb::none())
      .def("accelerators", &Environment::accelerators,
           "List of (name, hardware mask) of the accelerators registered in this environment.");
}

}  // namespace litert_sdk
