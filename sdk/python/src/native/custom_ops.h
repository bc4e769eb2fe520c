// Custom-op kernels: what Options registers with the runtime, and the per-compiled-model state that turns the
// runtime's ignored kernel statuses into litert_sdk.errors.CustomOpError.
//
// A kernel comes from a custom-op library (custom_ops/include/litert_sdk/custom_op_api.h: an entry of the table
// returned by litert_sdk_custom_ops_v1) or from Python callables. Either way it is a LiteRtSdkCustomOp; the SDK
// never hands the kernel's own functions to the runtime: it registers trampolines whose user_data is an OpInstance
// (one per compiled model and custom code), which call the kernel and record every non-Ok status in the compiled
// model's CustomOpSession. The compiled model checks the session after compile, allocation and every run.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "litert_sdk/custom_op_api.h"

namespace litert_sdk {

struct PythonCallables;

// One registrable kernel (bound to Python as _native.CustomOpKernel).
struct CustomOpKernel {
  std::string name;
  int version = 1;
  std::string origin;                // library path, or "python"
  const LiteRtSdkCustomOp* op = nullptr;  // into a library's table, or &owned
  // op->configure_instance when the library's op_struct_size covers it (read once at load), else nullptr
  int (*configure_instance)(void* instance, const char* custom_code, const char* io_shapes) = nullptr;
  LiteRtSdkCustomOp owned{};         // Python kernels
  std::shared_ptr<PythonCallables> python;  // Python kernels: the callables (released at interpreter exit)
};
using KernelPtr = std::shared_ptr<CustomOpKernel>;

class CustomOpSession;

// The user_data the runtime gets for one registration.
struct OpInstance {
  CustomOpSession* session = nullptr;
  KernelPtr kernel;
  std::string code;       // the custom code registered (may differ from kernel->name after model rewriting)
  std::string io_shapes;  // static shapes of the code's nodes (custom_op_api.h's io_shapes format; may be empty)
  void* user_data = nullptr;
  bool created = false;   // user_data came from create_instance
};

// Per compiled model: the registered instances and the failures they reported.
class CustomOpSession {
 public:
  ~CustomOpSession();
  void record(const OpInstance& inst, const char* phase, LiteRtStatus status);
  bool has_errors();
  std::string take_errors();  // "; "-joined messages (empty when none), and clears them
  std::vector<std::unique_ptr<OpInstance>> instances;

 private:
  std::mutex mu_;
  std::vector<std::string> errors_;
  size_t dropped_ = 0;
};
using SessionPtr = std::shared_ptr<CustomOpSession>;

// One kernel to register: the custom code, the kernel, and the static shapes of the code's nodes (io_shapes).
struct CustomOpRegistration {
  std::string code;
  KernelPtr kernel;
  std::string io_shapes;
};

// Checks an io_shapes string (custom_op_api.h) before it is stored; raises InvalidArgument when malformed.
void check_io_shapes_spec(const std::string& spec);

// Registers every kernel with `options` (create_instance, configure_instance, LiteRtAddCustomOpKernelOption) and
// returns the session that owns the instances.
SessionPtr register_custom_ops(LiteRtOptions options, const std::vector<CustomOpRegistration>& kernels);

// Throws Error(kCustomOp) when the session recorded failures; `what` names the step ("run", "compile", ...).
void raise_custom_op_errors(const SessionPtr& session, const char* what, const std::string& runtime_detail = {});

void bind_custom_ops(nb::module_& m);

}  // namespace litert_sdk
