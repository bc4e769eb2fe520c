// litert_sdk._native: nanobind bindings over libLiteRt's C API. One file per concern:
//   errors.cc, element_types.cc, layouts.cc, storage.cc, fork.cc, log_capture.cc, numpy_access.cc (shared
//   helpers, see common.h), environment.cc, model.cc, options.cc, compiled_model.cc,
//   custom_ops.cc, interpreter_fast_path.cc (the Interpreter's hot methods).
#include <nanobind/stl/string.h>

#include "compiled_model.h"
#include "custom_ops.h"
#include "environment.h"
#include "model.h"
#include "options.h"

namespace litert_sdk {

void bind_interpreter_fast_path(nb::module_& m);

static nb::dict abi_info() {
  nb::dict d;
  d["runtime_version"] = LITERT_SDK_RUNTIME_VERSION;
  d["host_memory_alignment"] = LITERT_SDK_HOST_MEMORY_ALIGNMENT;
  d["max_rank"] = LITERT_SDK_TENSOR_MAX_RANK;
  nb::dict sizes;
  sizes["LiteRtLayout"] = sizeof(LiteRtLayout);
  sizes["LiteRtRankedTensorType"] = sizeof(LiteRtRankedTensorType);
  sizes["LiteRtEnvOption"] = sizeof(LiteRtEnvOption);
  sizes["LiteRtCustomOpKernel"] = sizeof(LiteRtCustomOpKernel);
  d["sizes"] = sizes;
  nb::dict statuses;
  for (int s : litert_sdk_all_statuses) statuses[nb::int_(s)] = litert_sdk_status_name(s);
  d["statuses"] = statuses;
  return d;
}

}  // namespace litert_sdk

NB_MODULE(_native, m) {
  using namespace litert_sdk;
  m.doc() = "Native core of litert_sdk: bindings over the official LiteRT C API (libLiteRt).";
  register_error_translator(m);
  bind_environment(m);
  bind_model(m);
  bind_options(m);
  bind_compiled_model(m);
  bind_custom_ops(m);
  bind_interpreter_fast_path(m);
  m.def("abi_info", &abi_info, "Runtime version, ABI constants, struct sizes and the status-name table.");
  m.def("status_name", [](int s) { return std::string(litert_sdk_status_name(s)); }, nb::arg("status"));
  m.def("set_quiet", &set_quiet, nb::arg("quiet"),
        "Capture the runtime's direct stderr output during compile (forwarded to logging) when True.");
  m.def("quiet", &quiet);
  m.def("available_memory", &available_memory,
        "Bytes of memory available now: MemAvailable of /proc/meminfo on Linux, else the physical memory. Native "
        "host blocks larger than this are refused (OutOfMemoryError); litert_sdk uses it to bound tensor sizes.");
  m.def("numpy_direct_access", &numpy_direct_access,
        "Whether hot paths read numpy arrays directly (numpy's array struct passed the self-check).");
}
