"""Face detection on a photo with the bundled MediaPipe model: ``python -m litert_sdk.demo``.

Runs the bundled ``face_detection_short_range.tflite`` on the bundled sample photo (or ``--image``), prints each
face's score, box and keypoints in pixels, and writes a copy of the image with the boxes and keypoints drawn, by
default to a new file in the system's temporary directory (never into the current directory unless asked); the
absolute path written is always printed::

    python -m litert_sdk.demo                               # bundled photo -> <temp dir>/litert_sdk_faces_*.png
    python -m litert_sdk.demo --image me.png --output out.png

Nothing is downloaded and nothing beyond numpy is needed (PNG is read and written by the SDK itself; other image
formats need Pillow). See :mod:`litert_sdk.vision` for the pipeline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ._cli_base import CliError, run_guarded, wants_json
from ._cli_base import check_input_file as _check_input_file

__all__ = ["main", "run_demo"]

PROG = "python -m litert_sdk.demo"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise CliError(f"{message} (see --help)")


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description="Detect faces with the bundled MediaPipe face detector and draw them.")
    p.add_argument("--image", metavar="PATH", default=None,
                   help="image to process (PNG; other formats need Pillow). Default: the bundled astronaut photo")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="BlazeFace .tflite (default: the bundled face_detection_short_range.tflite)")
    p.add_argument("--output", "-o", metavar="PATH", default=None,
                   help="where to write the annotated image (PNG). Default: a new file litert_sdk_faces_*.png in the "
                        "system's temporary directory; the path written is printed")
    p.add_argument("--score-threshold", type=float, default=0.5, help="minimum face score (default 0.5)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads")
    p.add_argument("--json", action="store_true", help="print the detections as JSON")
    return p


def run_demo(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Parse ``argv`` and run the demo; returns 0 (raises CliError / SDK errors on failure)."""
    from . import __version__, runtime_version
    from .options import CpuOptions, Options
    from .vision import SAMPLE_IMAGE, FaceDetector, draw_detections, load_image, save_image

    args = build_parser(prog).parse_args(argv)
    if not 0.0 <= args.score_threshold <= 1.0:
        raise CliError(f"--score-threshold must be in [0, 1], got {args.score_threshold}")
    image_path = Path(args.image) if args.image else SAMPLE_IMAGE
    _check_input_file(str(image_path), "image")
    image = load_image(image_path)
    options = Options(cpu=CpuOptions(num_threads=args.threads)) if args.threads else None
    detector = FaceDetector(args.model, options)
    faces = detector.detect(image, score_threshold=args.score_threshold)
    annotated = draw_detections(image, faces)
    out = _output_path(args.output)
    try:
        save_image(out, annotated)
    except BaseException:
        if args.output is None:  # no empty temp file left behind
            out.unlink(missing_ok=True)
        raise

    h, w = image.shape[:2]
    if args.json:
        print(json.dumps({"image": str(image_path), "width": w, "height": h, "model": str(detector.model_path),
                          "inference_ms": detector.last_inference_ms, "faces": [f.to_dict() for f in faces],
                          "output": str(out)}, indent=2))
        return 0
    bundled = " (bundled)"
    print(f"litert-sdk {__version__} on LiteRT {runtime_version()}")
    print(f"model: {detector.model_path.name}{bundled if args.model is None else ''}")
    print(f"image: {image_path.name}{bundled if args.image is None else ''}, {w}x{h}")
    print(f"{len(faces)} face(s), inference {detector.last_inference_ms:.1f} ms")
    for i, f in enumerate(faces, 1):
        x0, y0, x1, y1 = (float(v) for v in f.box)
        print(f"  face {i}: score {f.score:.2f}  box x {x0:.0f}..{x1:.0f}, y {y0:.0f}..{y1:.0f} "
              f"({f.width:.0f}x{f.height:.0f} px)")
        kps = "  ".join(f"{n} ({x:.0f}, {y:.0f})" for n, (x, y) in
                        zip(("right eye", "left eye", "nose", "mouth", "right ear", "left ear"), f.keypoints,
                            strict=False))
        print(f"          {kps}")
    print(f"wrote {out}")
    return 0


def _output_path(output: str | None) -> Path:
    """The absolute path to write the annotated image to: ``output`` (its folder is created), or a new, uniquely
    named file in the system's temporary directory (created here, so nothing else can take the name)."""
    if output is None:
        fd, name = tempfile.mkstemp(prefix="litert_sdk_faces_", suffix=".png")
        os.close(fd)
        return Path(name).absolute()
    out = Path(output).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return run_guarded(run_demo, args, prog="litert_sdk.demo", json_errors=wants_json(args))


if __name__ == "__main__":
    sys.exit(main())
