// Binding: litert_sdk._native.Options (LiteRtOptions: accelerators and opaque TOML option payloads).
#include "options.h"

#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdlib>
#include <cstring>

namespace litert_sdk {

void Options::set_hardware_accelerators(int mask) {
  const int known = kLiteRtHwAcceleratorCpu | kLiteRtHwAcceleratorGpu | kLiteRtHwAcceleratorNpu;
  if (mask <= 0 || (mask & ~known) != 0)
    raise(ErrorKind::kInvalidArgument, "hardware accelerator mask must be a non-empty combination of CPU=1, GPU=2, "
                                       "NPU=4; got " + std::to_string(mask));
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
}

void bind_options(nb::module_& m) {
  nb::class_<Options>(m, "Options", "Compilation options: accelerators and opaque (TOML) option payloads.")
      .def(nb::init<>())
      .def_prop_rw("hardware_accelerators", &Options::hardware_accelerators, &Options::set_hardware_accelerators)
      .def("set_opaque", &Options::set_opaque, nb::arg("identifier"), nb::arg("toml"))
      .def("opaque", &Options::opaque);
}

}  // namespace litert_sdk
