"""Template: package your own litert-sdk custom-op library with Conan 2.

Copy this directory, rename the package, write your kernels in src/ (see src/cumprod.cc) and list them in
CMakeLists.txt. Then

    conan create . -pr:h <host profile> -pr:b default

builds the shared library against the ``litert-runtime/2.3.0`` package (``conan create runtime`` of litert-sdk puts it
in your Conan cache), runs test_package/ (which loads the library and checks its op table) and packages it. At run
time load it with ``litert_sdk.load_custom_op_library(path)`` and pass the result to
``litert_sdk.Options(custom_ops=...)``; consumers find the path in the package's run environment
(``LITERT_SDK_CUSTOM_OP_LIBRARIES``) or through the ``litert_custom_op_library`` property.

cmake/LiteRtCustomOps.cmake and include/litert_sdk/custom_op_api.h are copies of the files of the same names in
litert-sdk's custom_ops/ directory (custom-op library API version 1). They are copies because this directory is
meant to be copied out of litert-sdk and built on its own: neither the litert-runtime Conan package nor the
litert_sdk wheel carries them. litert-sdk's tests (test_custom_ops_template.py) assert that the copies are
byte-identical to custom_ops/.
"""

import os

from conan import ConanFile
from conan.tools.cmake import CMake, cmake_layout
from conan.tools.files import copy

required_conan_version = ">=2.0"


class MyCustomOpsConan(ConanFile):
    name = "my-custom-ops"
    version = "0.1.0"
    description = "Custom-op kernels for litert-sdk (example: Cumprod)"
    license = "Apache-2.0"
    package_type = "shared-library"
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain"
    exports_sources = "CMakeLists.txt", "cmake/*", "include/*", "src/*"

    # the library's file name per OS (CMake target my_custom_ops)
    @property
    def _library_file(self):
        if self.settings.os == "Windows":
            return os.path.join("bin", "my_custom_ops.dll")
        if self.settings.os == "Macos":
            return os.path.join("lib", "libmy_custom_ops.dylib")
        return os.path.join("lib", "libmy_custom_ops.so")

    def requirements(self):
        # Kernels call the runtime's tensor-buffer functions: link the runtime (the SDK's own at run time);
        # custom_op_api.h includes its ABI header, so consumers get the runtime's headers too.
        self.requires("litert-runtime/2.3.0", transitive_headers=True)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        cmake = CMake(self)
        cmake.install()
        copy(self, "custom_op_api.h", os.path.join(self.source_folder, "include", "litert_sdk"),
             os.path.join(self.package_folder, "include", "litert_sdk"))

    def package_info(self):
        # A plugin loaded at run time, not a library to link against.
        self.cpp_info.libs = []
        self.cpp_info.includedirs = ["include"]
        library = os.path.join(self.package_folder, self._library_file)
        self.cpp_info.set_property("litert_custom_op_library", library)
        self.runenv_info.append_path("LITERT_SDK_CUSTOM_OP_LIBRARIES", library)
        self.buildenv_info.append_path("LITERT_SDK_CUSTOM_OP_LIBRARIES", library)
