"""Face detection with the bundled MediaPipe model, image I/O and drawing: the SDK's end-to-end example pipeline.

The pipeline is the one of MediaPipe's face detection graph, written with :mod:`litert_sdk.utils`:

1. letterbox the RGB image into the model's 128x128 input, values mapped to ``[-1, 1]``;
2. run the model with :class:`~litert_sdk.CompiledModel` (outputs: 896 box regressors and score logits);
3. decode against the SSD anchors, keep scores above the threshold, merge overlapping boxes (weighted NMS);
4. map boxes and the six keypoints back to pixels of the original image.

Example::

    from litert_sdk import vision

    image = vision.sample_image()                  # the bundled photo, uint8 RGB (256, 256, 3)
    faces = vision.detect_faces(image)             # [FaceDetection(score=0.9.., box=(x0, y0, x1, y1) px, ...)]
    vision.save_image("faces.png", vision.draw_detections(image, faces))

Only numpy is required; Pillow is used, when installed, to read formats other than PNG.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _png
from .errors import InvalidArgumentError, ModelError
from .utils.detection import BoxSize

__all__ = [
    "DEFAULT_FACE_MODEL",
    "FACE_KEYPOINT_NAMES",
    "SAMPLE_IMAGE",
    "FaceDetection",
    "FaceDetector",
    "detect_faces",
    "draw_detections",
    "load_image",
    "sample_image",
    "save_image",
    "to_rgb8",
]

_DATA = Path(__file__).resolve().parent / "data"
DEFAULT_FACE_MODEL = _DATA / "face_detection_short_range.tflite"
"""The bundled MediaPipe face detector (short range, 128x128 input)."""
SAMPLE_IMAGE = _DATA / "astronaut.png"
"""The bundled sample photo (256x256 RGB; NASA, public domain, via scikit-image's ``astronaut``)."""

FACE_KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")
"""The six BlazeFace keypoints, in output order ("right" is the subject's right, on the left of the image)."""

# One colour per keypoint for drawing (RGB).
_KEYPOINT_COLORS = ((255, 40, 40), (40, 120, 255), (255, 220, 0), (255, 0, 255), (0, 230, 230), (255, 140, 0))
_BOX_COLOR = (0, 255, 0)


# ------------------------------------------------------------------------------------------------------ image I/O
def to_rgb8(image: Any) -> np.ndarray:
    """Convert an image array to ``uint8`` RGB ``(H, W, 3)``.

    Accepts grayscale ``(H, W)`` / ``(H, W, 1)``, gray+alpha, RGB and RGBA (alpha is dropped); ``uint8``, ``uint16``
    (scaled down) or floats in ``[0, 1]``.
    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4) or img.shape[0] == 0 or img.shape[1] == 0:
        raise InvalidArgumentError(f"expected an image of shape (H, W) or (H, W, 1|2|3|4), got {np.shape(image)}")
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif np.issubdtype(img.dtype, np.floating):
        img = np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        if np.issubdtype(img.dtype, np.integer) and img.size and img.min() >= 0 and img.max() <= 255:
            img = img.astype(np.uint8)
        else:
            raise InvalidArgumentError(f"cannot convert an image of dtype {img.dtype} to uint8 RGB")
    channels = img.shape[2]
    if channels in (1, 2):
        img = np.repeat(img[:, :, :1], 3, axis=2)
    elif channels == 4:
        img = img[:, :, :3]
    return np.ascontiguousarray(img)


def _pillow() -> Any | None:
    try:
        return importlib.import_module("PIL.Image")
    except ImportError:
        return None


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as ``uint8`` RGB ``(H, W, 3)``.

    PNG files are read with the SDK's own codec (no dependency); other formats, and PNG variants the codec does not
    handle (interlaced, 1/2/4-bit), need Pillow.
    """
    p = Path(os.fspath(path))
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InvalidArgumentError(f"cannot read image {os.fspath(path)!r}: {e.strerror or e}") from None
    if _png.is_png(data):
        try:
            return to_rgb8(_png.decode_png(data))
        except _png.PngError as e:
            pil = _pillow()
            if pil is None:
                raise InvalidArgumentError(f"{os.fspath(path)!r}: {e}") from None
    pil = _pillow()
    if pil is None:
        raise InvalidArgumentError(
            f"{os.fspath(path)!r} is not a PNG file; reading other image formats needs Pillow (pip install pillow)"
        )
    try:
        with pil.open(p) as im:
            return to_rgb8(np.asarray(im.convert("RGB")))
    except Exception as e:  # noqa: BLE001 - Pillow raises many types for unreadable files
        raise InvalidArgumentError(f"cannot read image {os.fspath(path)!r}: {e}") from None


def save_image(path: str | os.PathLike[str], image: Any) -> None:
    """Write a ``uint8`` image. ``.png`` is written by the SDK's own codec; other extensions need Pillow."""
    img = np.asarray(image)
    suffix = Path(os.fspath(path)).suffix.lower()
    if suffix in ("", ".png"):
        _png.write_png(path, img)
        return
    pil = _pillow()
    if pil is None:
        raise InvalidArgumentError(f"writing {suffix!r} files needs Pillow (pip install pillow); use .png")
    pil.fromarray(to_rgb8(img)).save(os.fspath(path))


def sample_image() -> np.ndarray:
    """The bundled sample photo (astronaut Eileen Collins, NASA, public domain) as ``uint8`` RGB (256, 256, 3)."""
    return load_image(SAMPLE_IMAGE)


# ------------------------------------------------------------------------------------------------------ detection
@dataclass(frozen=True, eq=False)
class FaceDetection(BoxSize):
    """A detected face in pixel coordinates of the original image."""

    box: np.ndarray
    """``(4,)`` float ``(xmin, ymin, xmax, ymax)`` in pixels."""
    score: float
    keypoints: np.ndarray
    """``(6, 2)`` float ``(x, y)`` in pixels, in :data:`FACE_KEYPOINT_NAMES` order."""

    def keypoint(self, name: str) -> tuple[float, float]:
        """A keypoint by name (see :data:`FACE_KEYPOINT_NAMES`)."""
        try:
            i = FACE_KEYPOINT_NAMES.index(name)
        except ValueError:
            raise InvalidArgumentError(f"unknown keypoint {name!r}; known: {list(FACE_KEYPOINT_NAMES)}") from None
        return float(self.keypoints[i, 0]), float(self.keypoints[i, 1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "box": [round(float(v), 1) for v in self.box],
            "keypoints": {n: [round(float(x), 1), round(float(y), 1)]
                          for n, (x, y) in zip(FACE_KEYPOINT_NAMES, self.keypoints, strict=False)},
        }

    def __repr__(self) -> str:
        x0, y0, x1, y1 = (float(v) for v in self.box)
        return f"FaceDetection(score={self.score:.3f}, box=({x0:.1f}, {y0:.1f}, {x1:.1f}, {y1:.1f}))"


class FaceDetector:
    """A compiled MediaPipe BlazeFace model plus its anchors and decoding options.

    Works with the bundled short-range model (128x128 input) and MediaPipe's full-range model (192x192). Reuse one
    detector for many images; :func:`detect_faces` keeps a few cached.

    Args:
        model_path: ``.tflite`` file; the bundled ``face_detection_short_range.tflite`` by default.
        options: :class:`~litert_sdk.Options` for compilation (default: CPU / XNNPACK).
    """

    def __init__(self, model_path: str | os.PathLike[str] | None = None, options: Any = None) -> None:
        from .compiled_model import CompiledModel
        from .utils import DetectionDecodeOptions, SSDAnchorOptions, generate_anchors

        self.model_path = Path(os.fspath(model_path)) if model_path is not None else DEFAULT_FACE_MODEL
        self.model = CompiledModel.from_file(self.model_path, options)
        spec = self.model.signature()
        if len(spec.inputs) != 1:
            raise ModelError(f"{self.model_path.name}: a face detector has one input, this model has "
                             f"{len(spec.inputs)}")
        in_spec = spec.inputs[0][1]
        shape = in_spec.shape
        if shape is None or len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or shape[1] != shape[2]:
            raise ModelError(f"{self.model_path.name}: expected an input of shape [1, S, S, 3], got {shape}")
        size = int(shape[1])
        if size == 128:
            anchor_opts, self.decode_options = (SSDAnchorOptions.face_detection_short_range(),
                                                DetectionDecodeOptions.face_detection_short_range())
        elif size == 192:
            anchor_opts, self.decode_options = (SSDAnchorOptions.face_detection_full_range(),
                                                DetectionDecodeOptions.face_detection_full_range())
        else:
            raise ModelError(f"{self.model_path.name}: input size {size} is not a known BlazeFace variant (128 or 192)")
        self.input_name = spec.inputs[0][0]
        self.input_size = (size, size)
        self.anchors = generate_anchors(anchor_opts)
        n = len(self.anchors)
        # Outputs are told apart by shape, not name: [1, N, 16] regressors and [1, N, 1] score logits.
        boxes_name = scores_name = None
        for name, t in spec.outputs:
            if t.shape is not None and len(t.shape) == 3 and t.shape[1] == n:
                if t.shape[2] == self.decode_options.num_coords:
                    boxes_name = name
                elif t.shape[2] == 1:
                    scores_name = name
        if boxes_name is None or scores_name is None:
            raise ModelError(
                f"{self.model_path.name}: expected outputs [1, {n}, {self.decode_options.num_coords}] and [1, {n}, 1], "
                f"got {[t.shape for _, t in spec.outputs]}"
            )
        self._boxes_name: str = boxes_name
        self._scores_name: str = scores_name
        self.last_inference_ms = 0.0
        self._lock = threading.Lock()

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, Any, int]:
        """Letterbox ``image`` into the model input. Returns ``(tensor, letterbox_info, prescale)``.

        Images much larger than the input are first shrunk by an integer factor ``prescale`` with box averaging
        (so the bilinear resize that follows does not alias); coordinates in the letterbox's source image times
        ``prescale`` are pixels of ``image``.
        """
        from .utils import image_to_tensor, letterbox

        rgb = to_rgb8(image)
        h, w = rgb.shape[:2]
        th, tw = self.input_size
        k = int(max(h / th, w / tw) // 2)
        work = rgb.astype(np.float32)
        if k >= 2:
            hh, ww = (h // k) * k, (w // k) * k
            work = work[:hh, :ww].reshape(hh // k, k, ww // k, k, 3).mean(axis=(1, 3), dtype=np.float32)
        else:
            k = 1
        boxed, info = letterbox(work, self.input_size, 0.0)
        tensor = image_to_tensor(boxed, value_range=(-1.0, 1.0))  # [0, 255] -> [-1, 1], padding -> -1
        return tensor, info, k

    def detect(self, image: np.ndarray, score_threshold: float = 0.5, min_suppression_threshold: float = 0.3,
               max_detections: int | None = None) -> list[FaceDetection]:
        """Detect faces in a ``uint8`` RGB image (any size; grayscale/RGBA are converted).

        Returns detections by decreasing score, in pixels of ``image``.
        """
        from .utils import decode_detections, scale_from_letterbox

        if not 0.0 <= float(score_threshold) <= 1.0:
            raise InvalidArgumentError(f"score_threshold must be in [0, 1], got {score_threshold}")
        tensor, info, k = self.preprocess(image)
        with self._lock:
            t0 = time.perf_counter()
            out = self.model.run({self.input_name: tensor})
            self.last_inference_ms = (time.perf_counter() - t0) * 1e3
        dets = decode_detections(out[self._boxes_name], out[self._scores_name], self.anchors, self.decode_options,
                                 score_threshold=float(score_threshold),
                                 min_suppression_threshold=min_suppression_threshold,
                                 weighted=True, max_detections=max_detections)
        faces = []
        for d in dets:
            box = scale_from_letterbox(d.box.astype(np.float64), info, pixels=True) * k
            kps = scale_from_letterbox(d.keypoints.astype(np.float64), info, pixels=True) * k
            faces.append(FaceDetection(box=box, score=float(d.score), keypoints=kps))
        return faces

    def close(self) -> None:
        self.model.close()


_CACHE: dict[tuple[str, str], FaceDetector] = {}
_CACHE_LOCK = threading.Lock()


def detect_faces(image: np.ndarray, model_path: str | os.PathLike[str] | None = None, score_threshold: float = 0.5,
                 min_suppression_threshold: float = 0.3, max_detections: int | None = None,
                 options: Any = None) -> list[FaceDetection]:
    """Detect faces in an RGB image with a (cached) :class:`FaceDetector`.

    Args:
        image: ``uint8`` RGB ``(H, W, 3)`` (grayscale and RGBA are converted).
        model_path: BlazeFace ``.tflite``; the bundled short-range model by default.
        score_threshold: minimum face score (MediaPipe uses 0.5).
        min_suppression_threshold: IoU above which overlapping boxes are merged.
        max_detections: keep at most this many faces.
        options: :class:`~litert_sdk.Options` used to compile the model.

    Returns:
        :class:`FaceDetection` objects in pixels of ``image``, best first.
    """
    path = Path(os.fspath(model_path)).resolve() if model_path is not None else DEFAULT_FACE_MODEL
    key = (str(path), repr(options))  # Options holds a dict: not hashable
    with _CACHE_LOCK:
        detector = _CACHE.get(key)
        if detector is None:
            detector = FaceDetector(path, options)
            if len(_CACHE) >= 4:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = detector
    return detector.detect(image, score_threshold, min_suppression_threshold, max_detections)


# -------------------------------------------------------------------------------------------------------- drawing
def _fill_rect(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, color: Sequence[int]) -> None:
    h, w = img.shape[:2]
    x0, x1 = max(0, x0), min(w, x1)
    y0, y1 = max(0, y0), min(h, y1)
    if x0 < x1 and y0 < y1:
        img[y0:y1, x0:x1] = color


def _fill_circle(img: np.ndarray, cx: float, cy: float, r: float, color: Sequence[int]) -> None:
    h, w = img.shape[:2]
    x0, x1 = max(0, int(np.floor(cx - r))), min(w, int(np.ceil(cx + r)) + 1)
    y0, y1 = max(0, int(np.floor(cy - r))), min(h, int(np.ceil(cy + r)) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    img[y0:y1, x0:x1][mask] = color


def draw_detections(image: np.ndarray, detections: Sequence[FaceDetection], *, thickness: int | None = None,
                    box_color: Sequence[int] = _BOX_COLOR, keypoint_radius: float | None = None) -> np.ndarray:
    """A copy of ``image`` (as uint8 RGB) with each face's box and its six keypoints drawn.

    Keypoint colours, in :data:`FACE_KEYPOINT_NAMES` order: red, blue, yellow, magenta, cyan, orange.
    """
    out = to_rgb8(image).copy()
    h, w = out.shape[:2]
    t = thickness if thickness is not None else max(2, round(min(h, w) / 160))
    r = keypoint_radius if keypoint_radius is not None else max(2.0, t * 1.25)
    for det in detections:
        x0, y0, x1, y1 = (round(float(v)) for v in det.box)
        _fill_rect(out, x0 - t // 2, y0 - t // 2, x1 + (t + 1) // 2, y0 + (t + 1) // 2, box_color)  # top
        _fill_rect(out, x0 - t // 2, y1 - t // 2, x1 + (t + 1) // 2, y1 + (t + 1) // 2, box_color)  # bottom
        _fill_rect(out, x0 - t // 2, y0 - t // 2, x0 + (t + 1) // 2, y1 + (t + 1) // 2, box_color)  # left
        _fill_rect(out, x1 - t // 2, y0 - t // 2, x1 + (t + 1) // 2, y1 + (t + 1) // 2, box_color)  # right
        for (kx, ky), color in zip(det.keypoints, _KEYPOINT_COLORS, strict=False):
            _fill_circle(out, float(kx), float(ky), r + 1, (255, 255, 255))  # white rim for contrast
            _fill_circle(out, float(kx), float(ky), r, color)
    return out
