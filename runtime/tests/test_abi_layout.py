"""litert_c_abi.h: status table and struct layouts against the ABI fact sheet and the real libLiteRt."""

from __future__ import annotations

import shutil

import pytest
from runtime_testlib import CACHE, FACE_DETECTOR, RUNTIME, is_linux_x86_64, run

INCLUDE = RUNTIME / "include"

# sizeof / offsetof per the fact sheet (identical on LP64 and on Windows x64: see the header's comment).
EXPECTED = {
    "sizeof LiteRtLayout": 68,
    "offsetof LiteRtLayout.dimensions": 4,
    "offsetof LiteRtLayout.strides": 36,
    "sizeof LiteRtRankedTensorType": 72,
    "offsetof LiteRtRankedTensorType.element_type": 0,
    "offsetof LiteRtRankedTensorType.layout": 4,
    "sizeof LiteRtUnrankedTensorType": 4,
    "sizeof LiteRtAny": 16,
    "offsetof LiteRtAny.type": 0,
    "offsetof LiteRtAny.int_value": 8,
    "offsetof LiteRtAny.real_value": 8,
    "offsetof LiteRtAny.str_value": 8,
    "sizeof LiteRtEnvOption": 24,
    "offsetof LiteRtEnvOption.tag": 0,
    "offsetof LiteRtEnvOption.value": 8,
    "sizeof LiteRtCustomOpKernel": 32,
    "offsetof LiteRtCustomOpKernel.Init": 0,
    "offsetof LiteRtCustomOpKernel.GetOutputLayouts": 8,
    "offsetof LiteRtCustomOpKernel.Run": 16,
    "offsetof LiteRtCustomOpKernel.Destroy": 24,
    "sizeof LiteRtApiVersion": 12,
    "sizeof LiteRtQuantizationPerTensor": 16,
    "sizeof LiteRtQuantizationPerChannel": 32,
    "byte0 rank=5,has_strides=1": 0x85,
}

STATUSES = {
    0: "Ok",
    1: "InvalidArgument",
    2: "MemoryAllocationFailure",
    3: "RuntimeFailure",
    4: "MissingInputTensor",
    5: "Unsupported",
    6: "NotFound",
    7: "TimeoutExpired",
    8: "WrongVersion",
    9: "Unknown",
    10: "AlreadyExists",
    100: "Cancelled",
    500: "FileIO",
    501: "InvalidFlatbuffer",
    502: "DynamicLoading",
    503: "Serialization",
    504: "Compilation",
    1000: "IndexOOB",
    1001: "InvalidIrType",
    1002: "InvalidGraphInvariant",
    1003: "GraphModification",
    1500: "InvalidToolConfig",
    2000: "LegalizeNoMatch",
    2001: "InvalidLegalization",
    3000: "PatternNoMatch",
    3001: "InvalidTransformation",
    4000: "UnsupportedRuntimeVersion",
    4001: "UnsupportedCompilerVersion",
    4002: "IncompatibleByteCodeVersion",
    5000: "UnsupportedOpShapeInferer",
    5001: "ShapeInferenceFailed",
}

LAYOUT_PROGRAM = r"""
#include <litert_sdk/litert_c_abi.h>
#include <stdio.h>
#include <string.h>

#define SIZE(T) printf("sizeof " #T " %d\n", (int)sizeof(T))
#define OFF(T, m) printf("offsetof " #T "." #m " %d\n", (int)offsetof(T, m))

int main(void) {
  SIZE(LiteRtLayout); OFF(LiteRtLayout, dimensions); OFF(LiteRtLayout, strides);
  SIZE(LiteRtRankedTensorType); OFF(LiteRtRankedTensorType, element_type); OFF(LiteRtRankedTensorType, layout);
  SIZE(LiteRtUnrankedTensorType);
  SIZE(LiteRtAny); OFF(LiteRtAny, type); OFF(LiteRtAny, int_value); OFF(LiteRtAny, real_value);
  OFF(LiteRtAny, str_value);
  SIZE(LiteRtEnvOption); OFF(LiteRtEnvOption, tag); OFF(LiteRtEnvOption, value);
  SIZE(LiteRtCustomOpKernel); OFF(LiteRtCustomOpKernel, Init); OFF(LiteRtCustomOpKernel, GetOutputLayouts);
  OFF(LiteRtCustomOpKernel, Run); OFF(LiteRtCustomOpKernel, Destroy);
  SIZE(LiteRtApiVersion); SIZE(LiteRtQuantizationPerTensor); SIZE(LiteRtQuantizationPerChannel);
  {
    LiteRtLayout l;
    unsigned char b0;
    memset(&l, 0, sizeof l);
    l.rank = 5;
    l.has_strides = 1;
    memcpy(&b0, &l, 1);
    printf("byte0 rank=5,has_strides=1 %d\n", (int)b0);
  }
  {
    size_t i, n = sizeof litert_sdk_all_statuses / sizeof litert_sdk_all_statuses[0];
    for (i = 0; i < n; ++i)
      printf("status %d %s\n", litert_sdk_all_statuses[i], litert_sdk_status_name(litert_sdk_all_statuses[i]));
    printf("unknown %s\n", litert_sdk_status_name(-12345));
  }
  return 0;
}
"""

COMPILERS = {
    # name: (driver, language flags)
    "gcc-c11": ("gcc", ["-x", "c", "-std=c11"]),
    "g++-c++17": ("g++", ["-x", "c++", "-std=c++17"]),
}


def parse(stdout: str):
    values, statuses, unknown = {}, [], None
    for line in stdout.splitlines():
        if line.startswith("status "):
            _, code, name = line.split(" ", 2)
            statuses.append((int(code), name))
        elif line.startswith("unknown "):
            unknown = line.split(" ", 1)[1]
        elif line:
            key, value = line.rsplit(" ", 1)
            values[key] = int(value)
    return values, statuses, unknown


@pytest.mark.parametrize("compiler", sorted(COMPILERS))
def test_layout_and_status_table(compiler, tmp_path):
    driver, flags = COMPILERS[compiler]
    if shutil.which(driver) is None:
        pytest.skip(f"{driver} not installed")
    src = tmp_path / "layout.src"
    src.write_text(LAYOUT_PROGRAM)
    exe = tmp_path / "layout"
    build = run([driver, *flags, "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE}", src, "-o", exe])
    assert build.returncode == 0, build.stderr
    out = run([exe])
    assert out.returncode == 0, out.stderr
    values, statuses, unknown = parse(out.stdout)
    assert values == EXPECTED
    assert dict(statuses) == STATUSES  # every ABI status, with the fact sheet's value
    names = [name for _, name in statuses]
    assert len(names) == len(set(names)), "status names must be unique"
    assert "UnknownStatus" not in names
    assert unknown == "UnknownStatus"


@pytest.mark.parametrize("cross", ["x86_64-w64-mingw32-gcc", "aarch64-linux-gnu-gcc"])
def test_header_static_asserts_cross(cross, tmp_path):
    """The header's static_asserts hold for the other targets' compilers (MinGW: Windows x64 layout rules)."""
    if shutil.which(cross) is None:
        pytest.skip(f"{cross} not installed")
    src = tmp_path / "probe.c"
    src.write_text(LAYOUT_PROGRAM)
    res = run([cross, "-std=c11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE}", src])
    assert res.returncode == 0, res.stderr


REAL_LIB_PROGRAM = r"""
#include <litert_sdk/litert_c_abi.h>
#include <stdio.h>
#include <string.h>

#define CHECK(x) do { LiteRtStatus s_ = (x); if (s_ != kLiteRtStatusOk) { \
  printf("FAIL %s %s\n", #x, litert_sdk_status_name(s_)); return 1; } } while (0)

static size_t touched(const unsigned char* p, size_t n) {  /* 1 + index of the last byte != 0xCD */
  size_t last = 0, i;
  for (i = 0; i < n; ++i) if (p[i] != 0xCD) last = i + 1;
  return last;
}

int main(int argc, char** argv) {
  LiteRtEnvOption opt;
  LiteRtEnvironment env = NULL;
  LiteRtModel model = NULL;
  LiteRtSignature sig = NULL;
  LiteRtTensor tensor = NULL;
  LiteRtOptions options = NULL;
  LiteRtCompiledModel cm = NULL;
  unsigned char raw[256];
  LiteRtRankedTensorType type;
  LiteRtLayout layouts[2];
  unsigned i;

  memset(&opt, 0, sizeof opt);
  opt.tag = kLiteRtEnvOptionTagMinLoggerSeverity;
  opt.value.type = kLiteRtAnyTypeInt;
  opt.value.int_value = kLiteRtLogSeveritySilent;
  CHECK(LiteRtCreateEnvironment(1, &opt, &env));
  CHECK(LiteRtCreateModelFromFile(env, argv[1], &model));
  CHECK(LiteRtGetModelSignature(model, 0, &sig));
  CHECK(LiteRtGetSignatureInputTensorByIndex(sig, 0, &tensor));

  memset(raw, 0xCD, sizeof raw);
  CHECK(LiteRtGetRankedTensorType(tensor, (LiteRtRankedTensorType*)raw));
  memcpy(&type, raw, sizeof type);
  printf("bytes_written %d\n", (int)touched(raw, sizeof raw));
  printf("element_type %d\n", (int)type.element_type);
  printf("rank %u\n", (unsigned)type.layout.rank);
  printf("has_strides %u\n", (unsigned)type.layout.has_strides);
  printf("dims");
  for (i = 0; i < type.layout.rank && i < LITERT_SDK_TENSOR_MAX_RANK; ++i) printf(" %d", type.layout.dimensions[i]);
  printf("\n");

  CHECK(LiteRtCreateOptions(&options));
  CHECK(LiteRtSetOptionsHardwareAccelerators(options, kLiteRtHwAcceleratorCpu));
  CHECK(LiteRtCreateCompiledModel(env, model, options, &cm));
  memset(layouts, 0, sizeof layouts);
  CHECK(LiteRtGetCompiledModelOutputTensorLayouts(cm, 0, 2, layouts, 1));
  for (i = 0; i < 2; ++i) {
    unsigned d;
    printf("output%u", i);
    for (d = 0; d < layouts[i].rank && d < LITERT_SDK_TENSOR_MAX_RANK; ++d) printf(" %d", layouts[i].dimensions[d]);
    printf("\n");
  }
  LiteRtDestroyCompiledModel(cm);
  LiteRtDestroyOptions(options);
  LiteRtDestroyModel(model);
  LiteRtDestroyEnvironment(env);
  return 0;
}
"""


@pytest.mark.skipif(not is_linux_x86_64(), reason="links the linux-x86_64 libLiteRt.so")
def test_layout_matches_real_library(tmp_path):
    """Reads the face detector's tensor types through our structs from the real libLiteRt.so."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    import fetch_runtime

    files = fetch_runtime.fetch("linux-x86_64", tmp_path / "rt", CACHE / "runtime-wheels")
    libdir = files["libLiteRt.so"].parent
    src = tmp_path / "real.c"
    src.write_text(REAL_LIB_PROGRAM)
    exe = tmp_path / "real"
    build = run(
        [
            "gcc",
            "-std=c11",
            "-Wall",
            "-Werror",
            f"-I{INCLUDE}",
            src,
            f"-L{libdir}",
            "-lLiteRt",
            f"-Wl,-rpath,{libdir}",
            "-o",
            exe,
        ]
    )
    assert build.returncode == 0, build.stderr
    out = run([exe, FACE_DETECTOR])
    assert out.returncode == 0, out.stdout + out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert lines["element_type"] == "1"  # float32
    assert lines["rank"] == "4"
    assert lines["has_strides"] == "0"
    assert lines["dims"] == "1 128 128 3"
    # The runtime wrote exactly sizeof(LiteRtRankedTensorType) bytes, no more.
    assert int(lines["bytes_written"]) <= 72
    # An array of two LiteRtLayouts was filled with the runtime's stride: sizeof(LiteRtLayout) matches.
    assert lines["output0"] == "1 896 16"
    assert lines["output1"] == "1 896 1"
