// Loads a custom-op library by path, as litert-sdk does, and prints its op table.
#include <cstdio>

#include "litert_sdk/custom_op_api.h"

#if defined(_WIN32)
#include <windows.h>
static void* Open(const char* path) { return reinterpret_cast<void*>(LoadLibraryA(path)); }
static void* Symbol(void* lib, const char* name) {
  return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(lib), name));
}
#else
#include <dlfcn.h>
static void* Open(const char* path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static void* Symbol(void* lib, const char* name) { return dlsym(lib, name); }
#endif

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: load_ops <library>\n");
    return 2;
  }
  void* lib = Open(argv[1]);
  if (!lib) {
    std::fprintf(stderr, "cannot load %s\n", argv[1]);
    return 1;
  }
  auto entry = reinterpret_cast<LiteRtSdkCustomOpsEntryPoint>(Symbol(lib, LITERT_SDK_CUSTOM_OP_ENTRY_POINT));
  const LiteRtSdkCustomOpTable* table = nullptr;
  if (!entry || entry(&table) != 0 || !table || table->api_version != LITERT_SDK_CUSTOM_OP_API_VERSION ||
      table->op_struct_size < LITERT_SDK_CUSTOM_OP_V1_BASE_SIZE || (table->num_ops && !table->ops)) {
    std::fprintf(stderr, "%s is not a custom-op library of API version %d\n", argv[1],
                 LITERT_SDK_CUSTOM_OP_API_VERSION);
    return 1;
  }
  std::printf("%s: %zu op(s)\n", table->library_name ? table->library_name : "?", table->num_ops);
  for (size_t i = 0; i < table->num_ops; ++i) {
    // step with the library's op_struct_size (custom_op_api.h, "Struct growth rule")
    const LiteRtSdkCustomOp& op = *reinterpret_cast<const LiteRtSdkCustomOp*>(
        reinterpret_cast<const char*>(table->ops) + i * table->op_struct_size);
    if (!op.name || !op.kernel.Init || !op.kernel.GetOutputLayouts || !op.kernel.Run || !op.kernel.Destroy) return 1;
    const bool configurable =
        LITERT_SDK_CUSTOM_OP_HAS(table->op_struct_size, configure_instance) && op.configure_instance != nullptr;
    std::printf("  %s (version %d%s)\n", op.name, op.version, configurable ? ", configure_instance" : "");
  }
  return 0;
}
