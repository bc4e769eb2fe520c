#!/usr/bin/env bash
# Cross smoke test for the linux-aarch64 runtime bundle, on an x86_64 Linux (Debian/Ubuntu) machine:
# builds runtime/test_package/test_package.cpp with aarch64-linux-gnu-g++ against the pinned aarch64 libLiteRt
# (obtained with runtime/fetch_runtime.py) and runs it under qemu-aarch64 on the face detector.
# It must print "test_package: OK".
#
#   ci/cross_smoke_aarch64.sh [MODEL.tflite]
#
# Installs what is missing (apt-get: g++-aarch64-linux-gnu qemu-user python3-yaml), caches downloads under
# <repo>/.cache (or $LITERT_SDK_CACHE) and is safe to re-run. Set LITERT_SMOKE_NO_INSTALL=1 to fail instead of
# installing. Prints the time taken by each step.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LITERT_SDK_CACHE:-$REPO/.cache}"
WORK="$CACHE/cross-smoke/linux-aarch64"
MODEL="${1:-${LITERT_TEST_MODEL:-$REPO/sdk/python/src/litert_sdk/data/face_detection_short_range.tflite}}"
SYSROOT="${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}"
CXX="${AARCH64_CXX:-aarch64-linux-gnu-g++}"

LOG_TAG=cross_smoke_aarch64
. "$(dirname "${BASH_SOURCE[0]}")/lib/timing.sh"

# ---- tools --------------------------------------------------------------------------------------------------
pick_python() {
  local py
  for py in "${PYTHON:-}" python3 python; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 && "$py" -c "import yaml" 2>/dev/null && { echo "$py"; return; }
  done
}

missing=()
command -v "$CXX" >/dev/null 2>&1 || missing+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null 2>&1 || command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user)
[ -n "$(pick_python)" ] || missing+=(python3-yaml)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${LITERT_SMOKE_NO_INSTALL:-0}" = 1 ]; then
    echo "[cross_smoke_aarch64] missing: ${missing[*]} (LITERT_SMOKE_NO_INSTALL=1)" >&2
    exit 3
  fi
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "[cross_smoke_aarch64] installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PY="$(pick_python)"
QEMU="$(command -v qemu-aarch64 || command -v qemu-aarch64-static)"
step "tools"

# ---- runtime ------------------------------------------------------------------------------------------------
mkdir -p "$WORK"
"$PY" "$REPO/runtime/fetch_runtime.py" --target linux-aarch64 --dest "$WORK/runtime" \
  --cache "$CACHE/runtime-wheels" >/dev/null
step "fetch runtime (linux-aarch64)"

# ---- build --------------------------------------------------------------------------------------------------
"$CXX" -std=c++17 -O2 -Wall -Wextra -I"$REPO/runtime/include" "$REPO/runtime/test_package/test_package.cpp" \
  -L"$WORK/runtime/lib" -lLiteRt -o "$WORK/test_package"
step "build ($CXX)"

# ---- run ----------------------------------------------------------------------------------------------------
# qemu-user < 8.2 hands the guest the host's (x86) /proc/cpuinfo. libLiteRt's CPU detection (cpuinfo, used by
# XNNPACK) finds no "CPU part" lines there and crashes (SIGSEGV at address 0x8) on the first compile. qemu resolves
# guest absolute paths under the -L prefix first, so the prefix is an overlay of the cross sysroot plus an
# aarch64-style /proc/cpuinfo (Neoverse-N1, one entry per host CPU). Newer qemu emulates the file itself.
QROOT="$WORK/qemu-root"
mkdir -p "$QROOT/proc"
for d in lib lib64 usr etc; do
  if [ -e "$SYSROOT/$d" ] && [ ! -e "$QROOT/$d" ]; then ln -s "$SYSROOT/$d" "$QROOT/$d"; fi
done
ncpu=$(getconf _NPROCESSORS_CONF 2>/dev/null || echo 1)
for ((i = 0; i < ncpu; i++)); do
  printf 'processor\t: %d\nBogoMIPS\t: 50.00\n' "$i"
  printf 'Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n'
  printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n'
done >"$QROOT/proc/cpuinfo"

[ -f "$MODEL" ] || { echo "[cross_smoke_aarch64] model not found: $MODEL" >&2; exit 2; }
set +e
# -cpu neoverse-n1: with qemu 7.2's default CPU model the runtime's int8 kernels compute wrong values (seen with the
# official ai-edge-litert wheel too); a real Arm server core model gives TensorFlow's results.
"$QEMU" -cpu neoverse-n1 -L "$QROOT" -E LD_LIBRARY_PATH="$WORK/runtime/lib" "$WORK/test_package" "$MODEL" 2>&1 \
  | tee "$WORK/run.log"
rc=${PIPESTATUS[0]}
set -e
step "run (qemu-aarch64)"
total
if [ "$rc" -ne 0 ] || ! grep -q "^test_package: OK" "$WORK/run.log"; then
  echo "[cross_smoke_aarch64] FAILED (exit $rc)" >&2
  exit 1
fi
echo "[cross_smoke_aarch64] OK"
