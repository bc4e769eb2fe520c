import os

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class LiteRtRuntimeTestConan(ConanFile):
    """Builds a C++17 program against LiteRt::LiteRt and runs a real model with it (skipped when cross-building)."""

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

    def _model(self):
        model = os.environ.get("LITERT_TEST_MODEL") or os.path.join(
            self.recipe_folder,
            "..",
            "..",
            "sdk",
            "python",
            "src",
            "litert_sdk",
            "data",
            "face_detection_short_range.tflite",
        )
        model = os.path.normpath(model)
        if not os.path.isfile(model):
            raise ConanException(f"test model not found: {model} (set LITERT_TEST_MODEL to a .tflite file)")
        return model

    def test(self):
        if not can_run(self):
            self.output.info("cross-building: test_package built but not run")
            return
        exe = os.path.join(self.cpp.build.bindir, "test_package")
        self.run(f'"{exe}" "{self._model()}"', env="conanrun")
