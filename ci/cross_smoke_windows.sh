#!/usr/bin/env bash
# Cross smoke test for the windows-x86_64 runtime bundle, on an x86_64 Linux (Debian/Ubuntu) machine:
# builds runtime/test_package/test_package.cpp with x86_64-w64-mingw32-g++, links the import library generated from
# the pinned libLiteRt.dll (runtime/implib.py), and runs it under wine64 on the face detector with libLiteRt.dll and
# the MSVC runtime DLLs it imports (vcruntime140*.dll, msvcp140*.dll, from the PyPI wheel `msvc-runtime`) next to
# the exe. It must print "test_package: OK".
#
#   ci/cross_smoke_windows.sh [MODEL.tflite]
#
# Installs what is missing (apt-get: g++-mingw-w64-x86-64 wine64 python3-yaml), caches downloads and the wine
# prefix under <repo>/.cache (or $LITERT_SDK_CACHE) and is safe to re-run. Set LITERT_SMOKE_NO_INSTALL=1 to fail
# instead of installing. Prints the time taken by each step.
#
# Note: MinGW g++ lays out LiteRtLayout like MSVC (-mms-bitfields is its default), which litert_c_abi.h
# static_asserts; the SDK itself is built with MSVC/clang-cl (a MinGW program only uses the C ABI).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LITERT_SDK_CACHE:-$REPO/.cache}"
WORK="$CACHE/cross-smoke/windows-x86_64"
MODEL="${1:-${LITERT_TEST_MODEL:-$REPO/sdk/python/src/litert_sdk/data/face_detection_short_range.tflite}}"
CXX="${MINGW_CXX:-x86_64-w64-mingw32-g++}"
export WINEPREFIX="${WINEPREFIX:-$CACHE/wine-prefix}"
export WINEARCH=win64
export WINEDEBUG="${WINEDEBUG:--all}"
# No Mono/Gecko install prompts; prefer the real MSVC runtime DLLs next to the exe over Wine's builtin ones.
export WINEDLLOVERRIDES="mscoree,mshtml=;vcruntime140,vcruntime140_1,msvcp140=n,b"
# MSVC runtime DLLs (a plain file wheel; the cp311 build is used, the DLLs are the same for every Python).
MSVC_RUNTIME_VERSION="14.44.35112"
MSVC_RUNTIME_WHEEL="msvc_runtime-${MSVC_RUNTIME_VERSION}-cp311-cp311-win_amd64.whl"
MSVC_RUNTIME_SHA256="aba7fbe71897d25ed53fbb7f391e9f50289378a8a9ae218ba18530c663448391"

LOG_TAG=cross_smoke_windows
. "$(dirname "${BASH_SOURCE[0]}")/lib/timing.sh"

# ---- tools --------------------------------------------------------------------------------------------------
pick_python() {
  local py
  for py in "${PYTHON:-}" python3 python; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 && "$py" -c "import yaml" 2>/dev/null && { echo "$py"; return; }
  done
}
pick_wine() {
  local w
  for w in wine64 /usr/lib/wine/wine64 wine; do
    command -v "$w" >/dev/null 2>&1 && { command -v "$w"; return; }
  done
}

missing=()
command -v "$CXX" >/dev/null 2>&1 || missing+=(g++-mingw-w64-x86-64)
[ -n "$(pick_wine)" ] || missing+=(wine64)
[ -n "$(pick_python)" ] || missing+=(python3-yaml)
"$(pick_python || echo python3)" -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${LITERT_SMOKE_NO_INSTALL:-0}" = 1 ]; then
    echo "[cross_smoke_windows] missing: ${missing[*]} (LITERT_SMOKE_NO_INSTALL=1)" >&2
    exit 3
  fi
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "[cross_smoke_windows] installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PY="$(pick_python)"
WINE="$(pick_wine)"
step "tools"

# ---- runtime + import library -------------------------------------------------------------------------------
mkdir -p "$WORK/bin"
"$PY" "$REPO/runtime/fetch_runtime.py" --target windows-x86_64 --dest "$WORK/runtime" \
  --cache "$CACHE/runtime-wheels" >/dev/null
step "fetch runtime (windows-x86_64)"
"$PY" "$REPO/runtime/implib.py" "$WORK/runtime/lib/libLiteRt.dll" "$WORK/runtime/lib/LiteRt.lib"
step "import library"

# ---- MSVC runtime DLLs --------------------------------------------------------------------------------------
MSVC_DIR="$CACHE/msvc-runtime"
mkdir -p "$MSVC_DIR"
if [ ! -f "$MSVC_DIR/$MSVC_RUNTIME_WHEEL" ]; then
  "$PY" -m pip download --no-deps --only-binary :all: --disable-pip-version-check --quiet \
    --platform win_amd64 --python-version 3.11 -d "$MSVC_DIR" "msvc-runtime==$MSVC_RUNTIME_VERSION"
fi
"$PY" - "$MSVC_DIR/$MSVC_RUNTIME_WHEEL" "$MSVC_RUNTIME_SHA256" "$WORK/bin" <<'EOF'
import fnmatch, hashlib, os, sys, zipfile
wheel, sha, dest = sys.argv[1:]
digest = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
if digest != sha:
    os.remove(wheel)
    sys.exit(f"sha256 mismatch for {wheel}: {digest} != {sha}")
with zipfile.ZipFile(wheel) as zf:
    for member in zf.namelist():
        name = member.rsplit("/", 1)[-1].lower()
        if fnmatch.fnmatch(name, "vcruntime140*.dll") or fnmatch.fnmatch(name, "msvcp140*.dll"):
            with zf.open(member) as src, open(os.path.join(dest, name), "wb") as dst:
                dst.write(src.read())
EOF
cp -f "$WORK/runtime/lib/"*.dll "$WORK/bin/"
step "msvc-runtime DLLs"

# ---- build --------------------------------------------------------------------------------------------------
"$CXX" -std=c++17 -O2 -Wall -Wextra -static -I"$REPO/runtime/include" \
  "$REPO/runtime/test_package/test_package.cpp" "$WORK/runtime/lib/LiteRt.lib" -o "$WORK/bin/test_package.exe"
step "build ($CXX)"

# ---- run ----------------------------------------------------------------------------------------------------
if [ ! -f "$WINEPREFIX/.update-timestamp" ]; then  # written by wineboot when it creates the prefix
  "$WINE" wineboot --init >/dev/null 2>&1 || true
  step "wine prefix (first run)"
fi
[ -f "$MODEL" ] || { echo "[cross_smoke_windows] model not found: $MODEL" >&2; exit 2; }
model_abs="$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")"
win_model="Z:${model_abs//\//\\}"
set +e
(cd "$WORK/bin" && "$WINE" ./test_package.exe "$win_model") 2>&1 | tr -d '\r' | tee "$WORK/run.log"
rc=${PIPESTATUS[0]}
set -e
step "run (wine)"
total
if [ "$rc" -ne 0 ] || ! grep -q "^test_package: OK" "$WORK/run.log"; then
  echo "[cross_smoke_windows] FAILED (exit $rc)" >&2
  exit 1
fi
echo "[cross_smoke_windows] OK"
