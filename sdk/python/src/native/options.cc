// Binding: litert_sdk._native.Options (LiteRtOptions: accelerators and opaque TOML option payloads).
#include "options.h"

#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdlib>
#include <cstring>

namespace litert_sdk {

void Options::set_hardware_accelerators(int mask) {
  const int known = kLiteRtHwAcceleratorCpu | kLiteRtHwAcceleratorGpu | kLiteRtHwAcceleratorNpu;
  if (mask <= 0 || (mask & ~known) != 0)
    raise(ErrorKind::kInvalidArgument, "hardware accelerator mask must be a non-empty combination of CPU=1, GPU=2, "
                                       "NPU=4; got " +
                                           std::to_string(mask));
  hw_ = mask;
}

void Options::set_opaque(const std::string& identifier, const std::string& toml) {
  if (identifier.empty()) raise(ErrorKind::kInvalidArgument, "opaque option identifier must not be empty");
  if (toml.find('\0') != std::string::npos)
    raise(ErrorKind::kInvalidArgument, "opaque option payload must not contain NUL characters");
  for (auto& kv : opaque_) {
    if (kv.first == identifier) {
      kv.second = toml;
      return;
    }
  }
  opaque_.emplace_back(identifier, toml);
}

void Options::add_custom_op(const std::string& code, KernelPtr kernel, const std::string& io_shapes) {
  if (code.empty() || !kernel) raise(ErrorKind::kInvalidArgument, "a custom op needs a code and a kernel");
  if (code.find('\0') != std::string::npos)
    raise(ErrorKind::kInvalidArgument, "a custom code must not contain NUL characters");
  check_io_shapes_spec(io_shapes);
  for (auto& r : custom_ops_) {
    if (r.code == code) {
      r.kernel = std::move(kernel);
      r.io_shapes = io_shapes;
      return;
    }
  }
  custom_ops_.push_back(CustomOpRegistration{code, std::move(kernel), io_shapes});
}

std::vector<std::string> Options::custom_op_codes() const {
  std::vector<std::string> out;
  for (const auto& r : custom_ops_) out.push_back(r.code);
  return out;
}

void Options::build(Built& out) const {
  check(LiteRtCreateOptions(&out.options), "LiteRtCreateOptions");
  check(LiteRtSetOptionsHardwareAccelerators(out.options, hw_), "LiteRtSetOptionsHardwareAccelerators");
  for (const auto& kv : opaque_) {
    // The runtime reads the payload with strlen and frees it with the destructor we pass.
    char* payload = static_cast<char*>(std::malloc(kv.second.size() + 1));
    if (!payload) throw std::bad_alloc();
    std::memcpy(payload, kv.second.c_str(), kv.second.size() + 1);
    LiteRtOpaqueOptions opaque = nullptr;
    LiteRtStatus st = LiteRtCreateOpaqueOptions(kv.first.c_str(), payload, std::free, &opaque);
    if (st != kLiteRtStatusOk) {
      std::free(payload);
      check(st, "LiteRtCreateOpaqueOptions");
    }
    st = LiteRtAddOpaqueOptions(out.options, opaque);
    if (st != kLiteRtStatusOk) {
      LiteRtDestroyOpaqueOptions(opaque);
      check(st, "LiteRtAddOpaqueOptions");
    }
  }
  if (!custom_ops_.empty()) out.custom_ops = register_custom_ops(out.options, custom_ops_);
}

void bind_options(nb::module_& m) {
  nb::class_<Options>(m, "Options", "Compilation options: accelerators and opaque (TOML) option payloads.")
      .def(nb::init<>())
      .def_prop_rw("hardware_accelerators", &Options::hardware_accelerators, &Options::set_hardware_accelerators)
      .def("set_opaque", &Options::set_opaque, nb::arg("identifier"), nb::arg("toml"))
      .def("opaque", &Options::opaque)
      .def("add_custom_op", &Options::add_custom_op, nb::arg("code"), nb::arg("kernel"), nb::arg("io_shapes") = "",
           "Register `kernel` under custom code `code`; `io_shapes` (the static shapes of the code's nodes, in "
           "custom_op_api.h's format) is passed to the kernel's configure_instance.")
      .def("custom_op_codes", &Options::custom_op_codes);
}

}  // namespace litert_sdk
