import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class CustomOpsTestConan(ConanFile):
    """Loads the packaged custom-op library the way litert-sdk does and prints its op table."""

    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain", "VirtualRunEnv"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if not can_run(self):
            return
        library = self.dependencies[self.tested_reference_str].cpp_info.get_property("litert_custom_op_library")
        exe = os.path.join(self.cpp.build.bindir, "load_ops")
        self.run(f'"{exe}" "{library}"', env="conanrun")
