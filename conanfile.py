"""Build the whole native side of litert-sdk for one Conan profile.

    conan create runtime -pr:h ci/profiles/<target> -pr:b default        # or: conan export runtime
    conan build . -pr:h ci/profiles/<target> -pr:b default [-o "&:python=False"] [-o "&:custom_ops=True"]

The official runtime comes from the litert-runtime/2.3.0 package (CMake: find_package(LiteRt), LiteRt::LiteRt);
CMakeLists.txt then adds the Python extension (sdk/python) and the custom-op libraries (custom_ops/).
"""

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout

required_conan_version = ">=2.0"


class LiteRtSdkNativeConan(ConanFile):
    name = "litert-sdk-native"
    version = "0.1.0"
    settings = "os", "arch", "compiler", "build_type"
    options = {"python": [True, False], "custom_ops": [True, False]}
    default_options = {"python": True, "custom_ops": False}

    def requirements(self):
        self.requires("litert-runtime/2.3.0")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        # The generators CMakeDeps + CMakeToolchain, with the options passed on as CMake cache variables.
        CMakeDeps(self).generate()
        tc = CMakeToolchain(self)
        tc.cache_variables["LITERT_BUILD_PYTHON"] = bool(self.options.python)
        tc.cache_variables["LITERT_BUILD_CUSTOM_OPS"] = bool(self.options.custom_ops)
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()
