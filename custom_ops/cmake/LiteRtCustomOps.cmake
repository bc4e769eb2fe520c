# LiteRtCustomOps.cmake: build a litert-sdk custom-op library (see include/litert_sdk/custom_op_api.h).
#
#   find_package(LiteRt CONFIG REQUIRED)          # or include(runtime/cmake/LiteRtRuntime.cmake) + litert_runtime_import()
#   include(cmake/LiteRtCustomOps.cmake)
#   litert_add_custom_op_library(my_ops SOURCES my_op.cc [more.cc ...]
#                                [OUTPUT_NAME name] [INCLUDE_DIRECTORIES dir ...] [LINK_LIBRARIES lib ...])
#
# Creates a SHARED library target that
#   - compiles the sources as C++17 (C sources as C11) with hidden symbol visibility, so the only export is the
#     entry point litert_sdk_custom_ops_v1 (marked LITERT_SDK_CUSTOM_OP_EXPORT);
#   - sees custom_op_api.h (next to this file: ../include) and the runtime's ABI header (from LiteRt::LiteRt);
#   - links LiteRt::LiteRt, because kernels call the runtime's tensor-buffer functions (LiteRtLockTensorBuffer, ...);
#     the runtime the SDK has loaded already is reused when the library is loaded into the same process;
#   - has RPATH $ORIGIN / @loader_path, so the runtime library can also be found next to it;
#   - exports nothing but the entry point, also with a statically linked C++ runtime (a version script on Linux,
#     an exported-symbols list on macOS, dllexport on Windows);
#   - on Linux, fails to link when a symbol is undefined (-Wl,--no-undefined) instead of failing at load time.
# The SDK loads the result with litert_sdk.load_custom_op_library(path).
include_guard(GLOBAL)

set(LITERT_CUSTOM_OP_API_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../include" CACHE INTERNAL
    "Directory holding litert_sdk/custom_op_api.h")

function(litert_add_custom_op_library name)
  cmake_parse_arguments(ARG "" "OUTPUT_NAME" "SOURCES;INCLUDE_DIRECTORIES;LINK_LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "litert_add_custom_op_library(${name}): SOURCES is required")
  endif()
  if(NOT TARGET LiteRt::LiteRt)
    message(FATAL_ERROR "litert_add_custom_op_library(${name}): target LiteRt::LiteRt is missing; call "
                        "find_package(LiteRt CONFIG REQUIRED) (Conan package litert-runtime) or litert_runtime_import() first")
  endif()
  add_library(${name} SHARED ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE "${LITERT_CUSTOM_OP_API_INCLUDE_DIR}" ${ARG_INCLUDE_DIRECTORIES})
  target_link_libraries(${name} PRIVATE LiteRt::LiteRt ${ARG_LINK_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    CXX_STANDARD 17
    CXX_STANDARD_REQUIRED ON
    C_STANDARD 11
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(ARG_OUTPUT_NAME)
    set_target_properties(${name} PROPERTIES OUTPUT_NAME "${ARG_OUTPUT_NAME}")
  endif()
  if(APPLE)
    set_target_properties(${name} PROPERTIES INSTALL_RPATH "@loader_path" BUILD_WITH_INSTALL_RPATH ON)
    target_link_options(${name} PRIVATE "LINKER:-exported_symbol,_litert_sdk_custom_ops_v1")
  elseif(UNIX)
    set_target_properties(${name} PROPERTIES INSTALL_RPATH "$ORIGIN" BUILD_WITH_INSTALL_RPATH ON)
    set(_map "${CMAKE_CURRENT_BINARY_DIR}/${name}.exports.map")
    file(WRITE "${_map}" "{\n  global: litert_sdk_custom_ops_v1;\n  local: *;\n};\n")
    target_link_options(${name} PRIVATE "-Wl,--no-undefined" "-Wl,--version-script=${_map}")
    set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${_map}")
  endif()
  if(MSVC)
    target_compile_options(${name} PRIVATE /W4)
  else()
    target_compile_options(${name} PRIVATE -Wall -Wextra)
  endif()
endfunction()
