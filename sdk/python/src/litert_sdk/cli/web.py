"""``litert-sdk web``: a static site that runs a model in the browser with LiteRT.js (see :mod:`litert_sdk.web`)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .._cli_base import EXIT_ACCELERATOR, EXIT_OK, CliError, check_input_file


def cmd_web(args: argparse.Namespace) -> int:
    from ..web import WebRuntimeMissingError, write_bundle

    if args.model is None and not args.face_demo:
        raise CliError("give a MODEL, or --face-demo for the face-detection page")
    if args.model is not None:
        check_input_file(args.model, "model")
    try:
        out = write_bundle(args.model, args.out, face_demo=args.face_demo)
    except WebRuntimeMissingError as e:
        raise CliError(str(e), EXIT_ACCELERATOR) from None
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    pages = ["index.html"] + (["face.html"] if args.face_demo else [])
    if args.json:
        print(json.dumps({"out": os.fspath(out), "pages": pages, "bytes": size}, indent=2))
    else:
        print(f"wrote {out} ({size / 1e6:.1f} MB): {', '.join(pages)}; serve it with: python -m http.server -d {out}")
    return EXIT_OK
