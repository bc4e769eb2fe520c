"""The web path (issue #23): the same model in headless Chromium with LiteRT.js (``web/``), checked against native.

Needs node/npm (``npm ci`` in web/ on first use, cached in .cache/npm) and a Chromium; without them these tests skip,
or fail under LITERT_SDK_STRICT=1. WebGPU is used where the browser offers it (headless Linux Chromium offers a
software adapter with --enable-unsafe-webgpu); the fallback to wasm is tested by starting Chromium without it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, _missing, corpus_names

from litert_sdk import web
from litert_sdk.cli import main
from litert_sdk.vision import DEFAULT_FACE_MODEL, SAMPLE_IMAGE, detect_faces, load_image

# Small float models with static input shapes (LiteRT.js 2.5 runs no dynamic shapes, e.g. tflm__sine_float's [-1, 1]).
WEB_CORPUS = ["litert-cli__dummy_cv_model.tflite", "mp-py__hand_recrop.tflite", "mp-py__selfie_segmentation.tflite"]
assert set(WEB_CORPUS) <= set(corpus_names())


@pytest.fixture(scope="module")
def web_ready() -> Iterator[Path]:
    """The web/ package with LiteRT.js installed, and a Chromium; skips (strict: fails) without node or Chromium."""
    try:
        chromium = web.find_chromium()
    except web.WebRuntimeMissingError as e:
        _missing(f"web path: {e}")
    pkg = REPO / "web"
    if not (pkg / "node_modules" / "@litertjs" / "core").is_dir() and shutil.which("npm") is None:
        _missing("web path: web/node_modules is missing and npm is not installed to run 'npm ci'")
    web.ensure_web_package(pkg, install=True, npm_cache=REPO / ".cache" / "npm")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LITERT_SDK_WEB", os.fspath(pkg))
        mp.setenv("LITERT_SDK_CHROMIUM", chromium)
        yield pkg


def _verify(model: str | Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(["verify", "--web", os.fspath(model), "--json", "--runs", "2", *extra])
    out = capsys.readouterr().out
    report = json.loads(out)
    assert code == 0, out
    return report


def _check_errors(report: dict) -> None:
    for o in report["outputs"]:
        # within 1e-4 of native (measured: wasm 0 to 3.9e-7, WebGPU's software adapter up to 7.2e-5)
        assert o["max_abs_error"] <= 1e-4, o
    print(report["model"], report["accelerator"], {o["name"]: (o["max_abs_error"], o["max_rel_error"])
                                                   for o in report["outputs"]})


def _webgpu_report(report: dict) -> None:
    assert report["accelerator"] in ("webgpu", "wasm")
    if report["accelerator"] == "wasm":  # the browser offered no WebGPU: the fallback must say so
        assert report["fallback_reason"]
    else:
        assert report["fallback_reason"] is None


@pytest.mark.parametrize("accelerator", ["wasm", "webgpu"])
def test_face_detector_matches_native(web_ready: Path, accelerator: str, capsys: pytest.CaptureFixture[str]) -> None:
    report = _verify(DEFAULT_FACE_MODEL, "--web-accelerator", accelerator, capsys=capsys)
    if accelerator == "wasm":
        assert report["accelerator"] == "wasm" and report["fallback_reason"] is None
    else:
        _webgpu_report(report)
    assert [o["name"] for o in report["outputs"]] == ["regressors", "classificators"]
    _check_errors(report)


@pytest.mark.parametrize("name", WEB_CORPUS)
@pytest.mark.parametrize("accelerator", ["wasm", "webgpu"])
def test_corpus_model_matches_native(web_ready: Path, corpus: Path, name: str, accelerator: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    report = _verify(corpus / name, "--web-accelerator", accelerator, capsys=capsys)
    if accelerator == "wasm":
        assert report["accelerator"] == "wasm"
    else:
        _webgpu_report(report)
    _check_errors(report)


def test_webgpu_fallback_is_reported(web_ready: Path) -> None:
    """Chromium without --enable-unsafe-webgpu: headless Linux has no adapter, so LiteRT.js falls back to wasm and
    says why (a browser with a real GPU adapter may run WebGPU instead: then nothing fell back)."""
    x = np.random.default_rng(0).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    r = web.run_in_browser(DEFAULT_FACE_MODEL, [{"input": x}], unsafe_webgpu=False)
    if r.accelerator == "wasm":
        assert r.fallback_reason and "adapter" in r.fallback_reason
    else:
        assert r.accelerator == "webgpu" and r.fallback_reason is None
    assert r.output_names == ["regressors", "classificators"]
    assert r.outputs[0]["regressors"].shape == (1, 896, 16)


def test_dynamic_shape_model_is_a_clear_error(web_ready: Path, corpus: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", "--web", os.fspath(corpus / "tflm__sine_float.tflite")])
    assert code == 5
    assert "static input shapes only" in capsys.readouterr().err


def _dump_dom(url: str, profile: str) -> str:
    cmd = web.chromium_command(os.environ["LITERT_SDK_CHROMIUM"], profile, url,
                               ["--dump-dom", "--virtual-time-budget=30000"], unsafe_webgpu=False)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout


def _page_result(dom: str) -> dict:
    m = re.search(r'<pre id="result"[^>]*>(.*?)</pre>', dom, re.S)
    assert m and m.group(1), dom[-2000:]
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_bundle_served_by_http_server(web_ready: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``litert-sdk web --face-demo`` writes a site that works served by ``python -m http.server``: the generic page
    runs the model, the demo page finds the sample photo's face where litert_sdk.vision does."""
    site = tmp_path / "site"
    assert main(["web", "--face-demo", "--out", os.fspath(site)]) == 0
    assert "python -m http.server" in capsys.readouterr().out
    for f in ("index.html", "face.html", "litert_web.js", "model.tflite", "wasm/litert_wasm_internal.wasm",
              "litertjs/core/index.js", "sample.png", "face_detection_short_range.tflite"):
        assert (site / f).is_file(), f
    html = (site / "index.html").read_text()
    assert "http://" not in html.replace("http://127.0.0.1", "") and "https://" not in html  # no CDN
    server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"], cwd=site,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        port = int(re.search(r"port (\d+)", line).group(1))  # type: ignore[union-attr]
        with tempfile.TemporaryDirectory() as prof:
            page = _page_result(_dump_dom(f"http://127.0.0.1:{port}/index.html", os.path.join(prof, "a")))
            assert page.get("error") is None, page
            assert page["accelerator"] == "wasm" and page["fallbackReason"]
            assert page["outputShapes"] == [[1, 896, 16], [1, 896, 1]]
            demo = _page_result(_dump_dom(f"http://127.0.0.1:{port}/face.html", os.path.join(prof, "b")))
    finally:
        server.kill()
        server.wait()
        if server.stdout:
            server.stdout.close()
    assert demo.get("error") is None, demo
    faces = detect_faces(load_image(SAMPLE_IMAGE))
    assert len(demo["faces"]) == len(faces) == 1
    np.testing.assert_allclose(demo["faces"][0]["box"], faces[0].box, atol=2.0)  # pixels of the 256x256 photo
    assert abs(demo["faces"][0]["score"] - faces[0].score) < 0.01


def test_missing_web_runtime_is_a_typed_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    pkg = tmp_path / "web"
    pkg.mkdir()
    (pkg / "package.json").write_text(json.dumps({"name": web.WEB_PACKAGE_NAME}))
    monkeypatch.setenv("LITERT_SDK_WEB", os.fspath(pkg))
    with pytest.raises(web.WebRuntimeMissingError, match="npm ci"):
        web.write_bundle(DEFAULT_FACE_MODEL, tmp_path / "out")
    assert main(["web", os.fspath(DEFAULT_FACE_MODEL), "--out", os.fspath(tmp_path / "out")]) == 2
    assert "npm ci" in capsys.readouterr().err
    monkeypatch.setenv("LITERT_SDK_WEB", os.fspath(tmp_path))
    with pytest.raises(web.WebRuntimeMissingError, match="not the SDK's web/ package"):
        web.find_web_package()
