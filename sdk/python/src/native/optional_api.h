// Runtime functions that libLiteRt exports on Linux and macOS but not in libLiteRt.dll 2.3.0 (measured: the DLL lacks
// LiteRtGetNumAccelerators, LiteRtGetAccelerator, LiteRtGetAcceleratorName, LiteRtGetAcceleratorHardwareSupport,
// LiteRtGetCustomCode and LiteRtGetCustomOptions). On Windows they are looked up at run time so the extension links
// against the DLL's import library; a missing one returns kLiteRtStatusErrorUnsupported.
#pragma once

#include "litert_sdk/litert_c_abi.h"

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#endif

namespace litert_sdk::optional_api {

#if defined(_WIN32)
template <typename Fn>
Fn resolve(const char* name) {
  HMODULE module = GetModuleHandleW(L"libLiteRt.dll");
  return module ? reinterpret_cast<Fn>(reinterpret_cast<void*>(GetProcAddress(module, name))) : nullptr;
}
#define LITERT_SDK_OPTIONAL_CALL(fn, ...)                          \
  do {                                                             \
    static const auto ptr = resolve<decltype(&::fn)>(#fn);         \
    return ptr ? ptr(__VA_ARGS__) : kLiteRtStatusErrorUnsupported; \
  } while (0)
#else
#define LITERT_SDK_OPTIONAL_CALL(fn, ...) return ::fn(__VA_ARGS__)
#endif

inline LiteRtStatus GetNumAccelerators(LiteRtEnvironment env, LiteRtParamIndex* n) {
  LITERT_SDK_OPTIONAL_CALL(LiteRtGetNumAccelerators, env, n);
}
inline LiteRtStatus GetAccelerator(LiteRtEnvironment env, LiteRtParamIndex i, LiteRtAccelerator* acc) {
  LITERT_SDK_OPTIONAL_CALL(LiteRtGetAccelerator, env, i, acc);
}
inline LiteRtStatus GetAcceleratorName(LiteRtAcceleratorConst acc, const char** name) {
  LITERT_SDK_OPTIONAL_CALL(LiteRtGetAcceleratorName, acc, name);
}
inline LiteRtStatus GetAcceleratorHardwareSupport(LiteRtAcceleratorConst acc, LiteRtHwAcceleratorSet* hw) {
  LITERT_SDK_OPTIONAL_CALL(LiteRtGetAcceleratorHardwareSupport, acc, hw);
}
inline LiteRtStatus GetCustomCode(LiteRtOp op, const char** code) {
  LITERT_SDK_OPTIONAL_CALL(LiteRtGetCustomCode, op, code);
}
inline LiteRtStatus GetCustomOptions(LiteRtOp op, const uint8_t** options, size_t* size) {
  LITERT_SDK_OPTIONAL_CALL(LiteRtGetCustomOptions, op, options, size);
}

#undef LITERT_SDK_OPTIONAL_CALL

}  // namespace litert_sdk::optional_api
