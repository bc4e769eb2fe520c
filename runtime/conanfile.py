"""Conan 2 recipe for the official LiteRT runtime (libLiteRt + accelerators) of one target.

The binaries are Google's own, taken from the pinned ``ai-edge-litert`` wheel (see conandata.yml): ``build()``
downloads the wheel with ``pip download --platform`` (through fetch_runtime.py, cached in
``$LITERT_SDK_CACHE/runtime-wheels``), checks its sha256 and extracts the libraries. Nothing is compiled, so the
package only depends on ``os`` and ``arch``. On Windows an import library ``LiteRt.lib`` is generated from the
DLL's exports (implib.py). The project's own C ABI declarations header is packaged with it.
"""

import importlib.util
import os

from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.files import copy, save

required_conan_version = ">=2.0"

# (settings.os, settings.arch) -> conandata target key
_TARGETS = {
    ("Linux", "x86_64"): "linux-x86_64",
    ("Linux", "armv8"): "linux-aarch64",
    ("Macos", "armv8"): "macos-arm64",
    ("Windows", "x86_64"): "windows-x86_64",
}
# Targets that have a key in conandata's `unavailable` map (the recipe knows them but no binary is published).
_UNAVAILABLE = {
    ("Android", "armv8"): "android-arm64",
    ("Android", "x86_64"): "android-x86_64",
    ("iOS", "armv8"): "ios-arm64",
}


class LiteRtRuntimeConan(ConanFile):
    name = "litert-runtime"
    version = "2.3.0"
    description = (
        "Official prebuilt LiteRT runtime (libLiteRt and accelerator libraries) with CMake target LiteRt::LiteRt"
    )
    license = "Apache-2.0"
    topics = ("litert", "tflite", "tensorflow-lite", "inference", "prebuilt")
    package_type = "shared-library"
    settings = "os", "arch"
    build_policy = "missing"
    exports_sources = "conandata.yml", "fetch_runtime.py", "implib.py", "include/*"

    # ---- helpers -------------------------------------------------------------------------------------------
    @property
    def _pins(self):
        return self.conan_data["sources"][self.version]

    @property
    def _target(self):
        return _TARGETS.get((str(self.settings.os), str(self.settings.arch)))

    @property
    def _is_windows(self):
        return self.settings.os == "Windows"

    def _load(self, module):
        """Import a helper script shipped with the recipe's sources (fetch_runtime.py, implib.py)."""
        path = os.path.join(self.source_folder, f"{module}.py")
        spec = importlib.util.spec_from_file_location(f"_litert_runtime_{module}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    @property
    def _runtime_files(self):
        pin = self._pins["targets"][self._target]
        return [pin["runtime"], *pin.get("accelerators", [])]

    # ---- recipe --------------------------------------------------------------------------------------------
    def validate(self):
        key = (str(self.settings.os), str(self.settings.arch))
        if key in _TARGETS:
            return
        unavailable = self._pins.get("unavailable", {})
        if key in _UNAVAILABLE or self.settings.os in ("Android", "iOS"):
            target = _UNAVAILABLE.get(key)
            artifact = unavailable.get(target) if target else None
            if artifact is None:  # an Android/iOS arch without its own entry
                same_os = [v for k, v in unavailable.items() if k.startswith(str(self.settings.os).lower())]
                artifact = same_os[0] if same_os else f"libLiteRt for {key[0]}/{key[1]}"
            raise ConanInvalidConfiguration(
                f"{self.ref}: no prebuilt LiteRT {self.version} runtime for {key[0]}/{key[1]}: "
                f"missing artifact: {artifact}"
            )
        supported = ", ".join(f"{o}/{a}" for o, a in _TARGETS)
        raise ConanInvalidConfiguration(
            f"{self.ref}: no prebuilt LiteRT {self.version} runtime for {key[0]}/{key[1]} (supported: {supported})"
        )

    def build(self):
        fetch_runtime = self._load("fetch_runtime")
        dest = os.path.join(self.build_folder, "runtime")
        try:
            # cache: $LITERT_SDK_CACHE/runtime-wheels when set (fetch_runtime.default_cache)
            files = fetch_runtime.fetch(self._target, dest)
        except fetch_runtime.RuntimeFetchError as e:
            raise ConanException(f"{self.ref}: {e}") from None
        for name, path in files.items():
            self.output.info(f"extracted {name}: {path}")
        if self._is_windows:
            implib = self._load("implib")
            dll = os.path.join(dest, "lib", self._pins["targets"][self._target]["runtime"])
            out = os.path.join(dest, "lib", "LiteRt.lib")
            try:
                tool = implib.make_import_lib(dll, out)
            except implib.ImportLibError as e:
                raise ConanException(f"{self.ref}: cannot create LiteRt.lib: {e}") from None
            self.output.info(f"generated import library {out} with {tool}")

    def package(self):
        src = os.path.join(self.build_folder, "runtime")
        lib = os.path.join(self.package_folder, "lib")
        for fname in self._runtime_files:
            copy(self, fname, os.path.join(src, "lib"), lib)
            if self._is_windows:
                copy(self, fname, os.path.join(src, "lib"), os.path.join(self.package_folder, "bin"))
        if self._is_windows:
            copy(self, "LiteRt.lib", os.path.join(src, "lib"), lib)
        copy(self, "LICENSE.litert", os.path.join(src, "licenses"), os.path.join(self.package_folder, "licenses"))
        copy(
            self,
            "litert_sdk/*.h",
            os.path.join(self.source_folder, "include"),
            os.path.join(self.package_folder, "include"),
        )
        missing = [f for f in self._runtime_files if not os.path.isfile(os.path.join(lib, f))]
        if missing:
            raise ConanException(f"{self.ref}: runtime files missing from the package: {missing}")
        save(
            self, os.path.join(self.package_folder, "cmake", "litert-runtime-variables.cmake"), self._variables_module()
        )

    def _variables_module(self):
        """CMake module loaded by find_package(LiteRt): the same variables runtime/cmake/LiteRtRuntime.cmake sets."""
        libdir = "bin" if self._is_windows else "lib"
        libs = ";".join(f"${{_litert_runtime_root}}/{libdir}/{f}" for f in self._runtime_files)
        lines = [
            "# Generated by the litert-runtime recipe: where the packaged runtime files are.",
            'get_filename_component(_litert_runtime_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)',
            f'set(LITERT_RUNTIME_VERSION "{self.version}")',
            f'set(LITERT_RUNTIME_TARGET "{self._target}")',
            f'set(LITERT_RUNTIME_DIR "${{_litert_runtime_root}}/{libdir}")',
            f'set(LITERT_RUNTIME_LIBRARIES "{libs}")',
            'set(LITERT_RUNTIME_LICENSE "${_litert_runtime_root}/licenses/LICENSE.litert")',
        ]
        if self._is_windows:
            lines.append('set(LITERT_RUNTIME_IMPORT_LIBRARY "${_litert_runtime_root}/lib/LiteRt.lib")')
        lines.append("unset(_litert_runtime_root)")
        return "\n".join(lines) + "\n"

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "LiteRt")
        self.cpp_info.set_property("cmake_target_name", "LiteRt::LiteRt")
        self.cpp_info.set_property("cmake_build_modules", ["cmake/litert-runtime-variables.cmake"])
        self.cpp_info.set_property("pkg_config_name", "litert-runtime")
        # Linker name: libLiteRt.so / libLiteRt.dylib / LiteRt.lib (import library of libLiteRt.dll).
        self.cpp_info.libs = ["LiteRt"]
        self.cpp_info.includedirs = ["include"]
        self.cpp_info.libdirs = ["lib"]
        self.cpp_info.bindirs = ["bin"] if self._is_windows else []
        self.cpp_info.builddirs = ["cmake"]

        # Let test programs and tools find the runtime (and the runtime find its accelerators).
        libdir = os.path.join(self.package_folder, "lib")
        if self._is_windows:
            bindir = os.path.join(self.package_folder, "bin")
            runtime_dir, var = bindir, "PATH"
        elif self.settings.os == "Macos":
            runtime_dir, var = libdir, "DYLD_LIBRARY_PATH"
        else:
            runtime_dir, var = libdir, "LD_LIBRARY_PATH"
        for env in (self.runenv_info, self.buildenv_info):
            env.prepend_path(var, runtime_dir)
            env.define_path("LITERT_RUNTIME_DIR", runtime_dir)
