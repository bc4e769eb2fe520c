"""Face detection with litert-sdk, step by step: MediaPipe's BlazeFace model on a photo.

    python examples/face_detection.py                      # astronaut photo -> face_detection.png
    python examples/face_detection.py --image me.png --output me_faces.png

The photo is scikit-image's ``astronaut`` (512x512, NASA, public domain) when scikit-image is installed, else the
256x256 copy bundled with the SDK. The model is the bundled ``face_detection_short_range.tflite`` (MediaPipe,
Apache-2.0). Only numpy and litert-sdk are needed.

The same pipeline is available as one call: ``litert_sdk.vision.detect_faces(image)``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import litert_sdk
from litert_sdk import vision
from litert_sdk.utils import (
    DetectionDecodeOptions,
    SSDAnchorOptions,
    decode_detections,
    generate_anchors,
    image_to_tensor,
    letterbox,
    scale_from_letterbox,
)


def default_image() -> tuple[np.ndarray, str]:
    try:
        from skimage import data  # optional: only for the full-size photo
    except ImportError:
        return vision.sample_image(), "bundled astronaut.png (256x256)"
    return data.astronaut(), "skimage.data.astronaut() (512x512)"


def detect(image: np.ndarray, score_threshold: float = 0.5) -> list[vision.FaceDetection]:
    # 1. Load and compile the model (CPU / XNNPACK by default).
    model = litert_sdk.CompiledModel.from_file(vision.DEFAULT_FACE_MODEL)
    (input_name, input_spec), = model.signature().inputs        # "input": float32 [1, 128, 128, 3]
    _, height, width, _ = input_spec.shape

    # 2. Letterbox the photo into 128x128 (aspect ratio kept, zero padding) and map [0, 255] to [-1, 1].
    boxed, info = letterbox(image.astype(np.float32), (height, width))
    tensor = image_to_tensor(boxed, value_range=(-1.0, 1.0))

    # 3. Run: 896 anchor boxes, each with 16 regressed values (box + 6 keypoints) and one score logit.
    outputs = model.run({input_name: tensor})
    raw_boxes, raw_scores = outputs["regressors"], outputs["classificators"]

    # 4. Decode against MediaPipe's SSD anchors, drop low scores and merge overlapping boxes (weighted NMS).
    anchors = generate_anchors(SSDAnchorOptions.face_detection_short_range())
    detections = decode_detections(raw_boxes, raw_scores, anchors,
                                   DetectionDecodeOptions.face_detection_short_range(),
                                   score_threshold=score_threshold, min_suppression_threshold=0.3)

    # 5. Undo the letterbox: normalized model-input coordinates -> pixels of the original photo.
    return [
        vision.FaceDetection(
            box=scale_from_letterbox(d.box, info, pixels=True),
            score=d.score,
            keypoints=scale_from_letterbox(d.keypoints, info, pixels=True),
        )
        for d in detections
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", help="photo to process (PNG; other formats need Pillow)")
    parser.add_argument("--output", default="face_detection.png", help="annotated PNG to write")
    parser.add_argument("--score-threshold", type=float, default=0.5)
    args = parser.parse_args(argv)

    if args.image:
        image, source = vision.load_image(args.image), args.image
    else:
        image, source = default_image()
    faces = detect(image, args.score_threshold)

    print(f"{source}: {len(faces)} face(s)")
    for face in faces:
        x0, y0, x1, y1 = face.box
        print(f"  score {face.score:.2f}, box ({x0:.0f}, {y0:.0f}) - ({x1:.0f}, {y1:.0f}) px, "
              f"eyes at {tuple(round(v) for v in face.keypoint('right_eye'))} and "
              f"{tuple(round(v) for v in face.keypoint('left_eye'))}")
    vision.save_image(args.output, vision.draw_detections(image, faces))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
