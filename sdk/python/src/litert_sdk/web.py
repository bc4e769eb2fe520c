"""The web path: the same ``.tflite`` model in a browser, on Google's LiteRT.js (``@litertjs/core``).

* :func:`write_bundle` writes a static, self-hosted site (page, LiteRT.js runtime, model) that runs a model in a
  browser and shows its inputs, outputs and latency; ``face_demo=True`` adds the face-detection page ``face.html``.
  Any static file server works, e.g. ``python -m http.server -d DIR``.
* :func:`run_in_browser` runs a model in headless Chromium on given inputs and returns its outputs and the
  accelerator that ran (``webgpu``, or ``wasm`` when WebGPU is unavailable, with the reason).

The page sources and the pinned LiteRT.js package are the repository's ``web/`` folder; the runtime files come from
``web/node_modules`` (``cd web && npm ci``). A pip-installed SDK finds that folder through ``LITERT_SDK_WEB`` (or
the current directory's checkout); without it :class:`WebRuntimeMissingError` says what to do. Node is needed only to
fetch the package (``npm ci``), not to write bundles or run them.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import LiteRtError

__all__ = [
    "BrowserResult",
    "WebRuntimeMissingError",
    "chromium_command",
    "ensure_web_package",
    "find_chromium",
    "find_web_package",
    "run_in_browser",
    "write_bundle",
]

WEB_PACKAGE_NAME = "litert-sdk-web"
_PAGE_FILES = ("index.html", "app.js", "page.js", "litert_web.js", "style.css", "verify.html", "verify.js")
_FACE_FILES = ("face.html", "face.js")
# loadLiteRt(dir) loads litert_wasm_internal (relaxed SIMD) or litert_wasm_compat_internal; the threaded and JSPI
# builds are only loaded when asked for (threads also need cross-origin isolation headers), so they stay out.
_WASM_FILES = ("litert_wasm_internal.js", "litert_wasm_internal.wasm", "litert_wasm_compat_internal.js",
               "litert_wasm_compat_internal.wasm")
_DTYPES = {"float32": np.float32, "int32": np.int32, "uint8": np.uint8}


class WebRuntimeMissingError(LiteRtError, FileNotFoundError):
    """The web path lacks a piece: the ``web/`` package or its ``node_modules``, or a Chromium to run in."""


def _is_web_package(d: Path) -> bool:
    try:
        return json.loads((d / "package.json").read_text(encoding="utf-8")).get("name") == WEB_PACKAGE_NAME
    except (OSError, ValueError):
        return False


def find_web_package() -> Path:
    """The ``web/`` package: ``$LITERT_SDK_WEB``, else a ``web/`` folder in the current directory or one above it,
    or next to this package's source checkout."""
    env = os.environ.get("LITERT_SDK_WEB")
    if env:
        if _is_web_package(Path(env)):
            return Path(env).resolve()
        raise WebRuntimeMissingError(f"LITERT_SDK_WEB={env} is not the SDK's web/ package (no package.json named "
                                     f"{WEB_PACKAGE_NAME})")
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for d in (start, *start.parents):
            if _is_web_package(d / "web"):
                return (d / "web").resolve()
    raise WebRuntimeMissingError("the SDK's web/ package was not found: run from a litert-sdk checkout or set "
                                 "LITERT_SDK_WEB to its web/ folder (then: cd web && npm ci)")


def ensure_web_package(web_dir: Path | None = None, *, install: bool = False, npm_cache: Path | None = None) -> Path:
    """The ``web/`` package with its runtime installed (``node_modules/@litertjs/core``). With ``install``, runs
    ``npm ci`` when it is missing (needs npm and the registry); otherwise raises :class:`WebRuntimeMissingError`."""
    web = Path(web_dir) if web_dir is not None else find_web_package()
    core = web / "node_modules" / "@litertjs" / "core"
    if (core / "dist" / "index.js").is_file():
        return web
    if not install:
        raise WebRuntimeMissingError(f"LiteRT.js is not installed in {web}: run 'npm ci' there (the versions are "
                                     "pinned in its package-lock.json)")
    npm = shutil.which("npm")
    if npm is None:
        raise WebRuntimeMissingError(f"LiteRT.js is not installed in {web} and npm is not on PATH to install it")
    cmd = [npm, "ci", "--no-audit", "--no-fund"]
    if npm_cache is not None:
        cmd += ["--cache", os.fspath(npm_cache)]
    proc = subprocess.run(cmd, cwd=web, capture_output=True, text=True)
    if proc.returncode != 0 or not (core / "dist" / "index.js").is_file():
        raise WebRuntimeMissingError(f"npm ci in {web} failed: {(proc.stderr or proc.stdout)[-600:]}")
    return web


def write_bundle(model: str | os.PathLike[str] | None, out_dir: str | os.PathLike[str], *, face_demo: bool = False,
                 web_dir: Path | None = None) -> Path:
    """Write a static site to ``out_dir`` that runs ``model`` in a browser (``index.html``), with ``face_demo``
    also the face-detection page (``face.html``, the bundled face model and sample photo). ``model`` may be None
    with ``face_demo``: the face model is then the page's model too. Returns ``out_dir``."""
    from .vision import DEFAULT_FACE_MODEL, SAMPLE_IMAGE

    if model is None:
        if not face_demo:
            raise ValueError("write_bundle needs a model (or face_demo=True)")
        model = DEFAULT_FACE_MODEL
    model_path = Path(os.fspath(model))
    if not model_path.is_file():
        raise FileNotFoundError(f"model not found: {model_path}")
    web = ensure_web_package(web_dir)
    out = Path(os.fspath(out_dir))
    out.mkdir(parents=True, exist_ok=True)
    core = web / "node_modules" / "@litertjs" / "core"
    utils = web / "node_modules" / "@litertjs" / "wasm-utils"
    for name in _PAGE_FILES + (_FACE_FILES if face_demo else ()):
        shutil.copyfile(web / "src" / name, out / name)
    (out / "litertjs" / "core").mkdir(parents=True, exist_ok=True)
    (out / "litertjs" / "wasm-utils").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(core / "dist" / "index.js", out / "litertjs" / "core" / "index.js")
    shutil.copyfile(utils / "dist" / "index.js", out / "litertjs" / "wasm-utils" / "index.js")
    (out / "wasm").mkdir(exist_ok=True)
    for name in _WASM_FILES:
        shutil.copyfile(core / "wasm" / name, out / "wasm" / name)
    shutil.copyfile(model_path, out / "model.tflite")
    if face_demo:
        shutil.copyfile(DEFAULT_FACE_MODEL, out / DEFAULT_FACE_MODEL.name)
        shutil.copyfile(SAMPLE_IMAGE, out / "sample.png")
    version = json.loads((core / "package.json").read_text(encoding="utf-8")).get("version")
    (out / "bundle.json").write_text(json.dumps({"model": "model.tflite", "model_name": model_path.name,
                                                 "face_demo": face_demo, "litertjs_core": version}, indent=2) + "\n",
                                     encoding="utf-8")
    return out


def find_chromium() -> str:
    """A Chromium (or Chrome) executable: ``$LITERT_SDK_CHROMIUM``, else ``chromium``, ``chromium-browser``,
    ``google-chrome`` on PATH."""
    env = os.environ.get("LITERT_SDK_CHROMIUM")
    if env:
        if shutil.which(env):
            return str(shutil.which(env))
        raise WebRuntimeMissingError(f"LITERT_SDK_CHROMIUM={env} is not an executable")
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    raise WebRuntimeMissingError("no Chromium found (install one, e.g. apt-get install chromium, or set "
                                 "LITERT_SDK_CHROMIUM)")


@dataclass(frozen=True)
class BrowserResult:
    """What a model did in the browser."""

    accelerator: str
    """``webgpu`` or ``wasm``: what LiteRT.js compiled for and ran on."""
    fallback_reason: str | None
    """Why WebGPU was not used when it was asked for (None when it was, or when ``wasm`` was asked for)."""
    outputs: list[dict[str, np.ndarray]]
    """Per run, the outputs by name."""
    latency_ms: list[float]
    """Per run, milliseconds from the inputs' upload to the outputs' read-back."""
    fully_accelerated: bool
    """False when some ops fell back from WebGPU to wasm (always true on wasm)."""
    input_names: list[str]
    output_names: list[str]


class _Handler(http.server.SimpleHTTPRequestHandler):
    result: dict[str, Any] | None = None
    done: threading.Event

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        if self.path != "/__litert_result":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()
        type(self).result = json.loads(body)
        type(self).done.set()


def chromium_command(chromium: str, profile: str, url: str, extra: Sequence[str] = (), *,
                     unsafe_webgpu: bool = True) -> list[str]:
    """The headless Chromium command line the web path uses (``profile``: a fresh user-data directory)."""
    return [chromium, "--headless=new", "--no-sandbox", "--disable-gpu-sandbox", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio",
            *(["--enable-unsafe-webgpu"] if unsafe_webgpu else []), f"--user-data-dir={profile}", *extra, url]


def run_in_browser(model: str | os.PathLike[str], runs: Sequence[Mapping[str, np.ndarray]] | Sequence[
                   Sequence[np.ndarray]], *, accelerator: str = "webgpu", timeout: float = 120.0,
                   web_dir: Path | None = None, chromium: str | None = None,
                   browser_args: Sequence[str] = (), unsafe_webgpu: bool = True) -> BrowserResult:
    """Run ``model`` in headless Chromium (LiteRT.js) once per input set of ``runs`` (a list of ``{name or index:
    array}`` or of ``[array, ...]`` by index). ``accelerator`` ``webgpu`` falls back to ``wasm`` when the browser
    has no WebGPU adapter; the result says which ran. ``unsafe_webgpu`` (default) starts Chromium with
    ``--enable-unsafe-webgpu``, which offers WebGPU where Chromium does not by default (headless Linux: a software
    adapter); without it such a browser has no adapter and LiteRT.js runs on wasm. ``browser_args``: more switches."""
    if accelerator not in ("webgpu", "wasm"):
        raise ValueError(f"accelerator must be 'webgpu' or 'wasm', got {accelerator!r}")
    exe = chromium or find_chromium()
    with tempfile.TemporaryDirectory(prefix="litert-web-") as tmp:
        site = write_bundle(model, Path(tmp) / "site", web_dir=web_dir)
        vdir = site / "verify"
        vdir.mkdir()
        manifest_runs = []
        for r, feed in enumerate(runs):
            items = feed.items() if isinstance(feed, Mapping) else enumerate(feed)
            entries = []
            for key, value in items:
                arr = np.ascontiguousarray(value)
                dtype = next((n for n, t in _DTYPES.items() if arr.dtype == t), None)
                if dtype is None:
                    raise ValueError(f"input {key!r} has type {arr.dtype}; LiteRT.js takes float32, int32, uint8")
                fname = f"run{r}_in{len(entries)}.bin"
                (vdir / fname).write_bytes(arr.tobytes())
                entries.append({"key": key, "dtype": dtype, "shape": list(arr.shape), "file": f"verify/{fname}"})
            manifest_runs.append(entries)
        (vdir / "manifest.json").write_text(json.dumps({
            "model": "model.tflite", "accelerator": accelerator, "result_url": "/__litert_result",
            "runs": manifest_runs}), encoding="utf-8")
        handler = type("Handler", (_Handler,), {"done": threading.Event(), "result": None})
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), lambda *a, **k: handler(*a, directory=os.fspath(site), **k))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/verify.html?accelerator={accelerator}"
        proc = subprocess.Popen(chromium_command(exe, os.path.join(tmp, "profile"), url, browser_args,
                                                 unsafe_webgpu=unsafe_webgpu),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while not handler.done.wait(0.2):
                if proc.poll() is not None:
                    err = proc.stderr.read().decode(errors="replace")[-800:] if proc.stderr else ""
                    raise WebRuntimeMissingError(f"Chromium exited ({proc.returncode}) before the page answered: "
                                                 f"{err}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the page did not answer within {timeout:g} s")
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            if proc.stderr:
                proc.stderr.close()
            server.shutdown()
            server.server_close()
    res = handler.result or {}
    if "error" in res:
        from .errors import RuntimeFailure

        raise RuntimeFailure(f"LiteRT.js: {res['error']}")
    outs = []
    lat = []
    for run in res["runs"]:
        outs.append({o["name"]: np.frombuffer(base64.b64decode(o["data"]), _DTYPES[o["dtype"]]).reshape(o["shape"])
                     for o in run["outputs"]})
        lat.append(float(run["latencyMs"]))
    return BrowserResult(res["accelerator"], res.get("fallbackReason"), outs, lat, bool(res.get("fullyAccelerated")),
                         [d["name"] for d in res["inputs"]], [d["name"] for d in res["outputs"]])
