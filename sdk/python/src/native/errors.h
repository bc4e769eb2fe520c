// Errors of the native core: ErrorKind, Error, status checks, and the Python hooks the core reports through.
#pragma once

#include <cstdio>  // nanobind headers use stderr (nanobind issue 1438)
#include <nanobind/nanobind.h>

#include <exception>
#include <stdexcept>
#include <string>

#include "litert_sdk/litert_c_abi.h"

namespace nb = nanobind;

namespace litert_sdk {

// Which Python exception class (litert_sdk.errors) an Error becomes.
enum class ErrorKind {
  kRuntime,
  kInvalidArgument,
  kUnsupported,
  kNotFound,
  kModel,
  kCompilation,
  kClosed,
  kCustomOp,
  kReentrant
};

// Thrown by native code; translated to litert_sdk.errors.* by the translator registered in module.cc.
struct Error : std::exception {
  Error(ErrorKind kind, int status, std::string message) : kind(kind), status(status), message(std::move(message)) {}
  const char* what() const noexcept override { return message.c_str(); }
  ErrorKind kind;
  int status;  // LiteRtStatus, or -1 when the error is the SDK's own
  std::string message;
};

[[noreturn]] inline void raise(ErrorKind kind, std::string message) { throw Error(kind, -1, std::move(message)); }

ErrorKind kind_for_status(LiteRtStatus status);

// Throws Error for a non-Ok status. `what` names the operation; `detail` (e.g. runtime error messages) is appended.
inline void check(LiteRtStatus status, const char* what, const std::string& detail = {}) {
  if (status == kLiteRtStatusOk) return;
  std::string msg = std::string(what) + " failed: " + litert_sdk_status_name(status) + " (status " +
                    std::to_string(static_cast<int>(status)) + ")";
  if (!detail.empty()) msg += ": " + detail;
  throw Error(kind_for_status(status), static_cast<int>(status), std::move(msg));
}

// Defines `_install_hooks` and translates Error (and stray C++ exceptions) into litert_sdk.errors types.
void register_error_translator(nb::module_& m);

// Python callables installed by litert_sdk._runtime (see errors.cc); hook() raises if they are missing.
enum class Hook { kErrorFactory, kRuntimeOutput, kStringsUnpack, kIsPackedStrings, kCount };
nb::object hook(Hook h);

}  // namespace litert_sdk
