"""The end-to-end face detection job: litert_sdk.vision, `python -m litert_sdk.demo` and examples/face_detection.py.

Reference box: the bundled 256x256 astronaut photo has one face, box (89.0, 40.4, 136.1, 87.5) px with the eyes at
(101.9, 50.4) and (124.0, 54.2); checked by eye on the drawn output (docs/images/face_detection.png). On the 512x512
original the same face is at twice these coordinates.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from litert_sdk import _png, vision
from litert_sdk.demo import run_demo

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "face_detection.py"

FACE_BOX = np.array([89.0, 40.4, 136.1, 87.5])  # xmin, ymin, xmax, ymax on the bundled 256x256 photo
RIGHT_EYE = np.array([101.9, 50.4])
LEFT_EYE = np.array([124.0, 54.2])
TOL = 3.0  # px on the 256x256 photo


def check_face(face: vision.FaceDetection, scale: float = 1.0, offset=(0.0, 0.0), tol: float = TOL,
               min_score: float = 0.85) -> None:
    off = np.array([offset[0], offset[1], offset[0], offset[1]])
    np.testing.assert_allclose(face.box, FACE_BOX * scale + off, atol=tol * scale)
    assert face.score > min_score
    x0, y0, x1, y1 = face.box
    for name in ("right_eye", "left_eye", "nose_tip", "mouth_center"):
        x, y = face.keypoint(name)
        assert x0 < x < x1 and y0 < y < y1, name
    (rx, ry), (lx, ly) = face.keypoint("right_eye"), face.keypoint("left_eye")
    np.testing.assert_allclose([rx, ry], RIGHT_EYE * scale + offset, atol=tol * scale)
    np.testing.assert_allclose([lx, ly], LEFT_EYE * scale + offset, atol=tol * scale)
    assert rx < lx  # the subject's right eye is on the left of the picture
    assert max(ry, ly) < face.keypoint("nose_tip")[1] < face.keypoint("mouth_center")[1]


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return vision.sample_image()


def test_one_face_on_the_bundled_photo(photo: np.ndarray) -> None:
    faces = vision.detect_faces(photo)
    assert len(faces) == 1
    check_face(faces[0])
    assert faces[0].keypoints.shape == (6, 2)
    assert set(faces[0].to_dict()["keypoints"]) == set(vision.FACE_KEYPOINT_NAMES)


def test_box_maps_back_through_letterbox_and_prescale(photo: np.ndarray) -> None:
    big = np.repeat(np.repeat(photo, 4, axis=0), 4, axis=1)  # 1024x1024: box-averaged 4x before the letterbox
    faces = vision.detect_faces(big)
    assert len(faces) == 1
    check_face(faces[0], scale=4.0, tol=2.0)

    # non-square crops of the 2x photo: the letterbox pads left/right, then top/bottom
    photo2 = np.repeat(np.repeat(photo, 2, axis=0), 2, axis=1)
    for top, bottom, left, right in ((0, 400, 100, 400), (20, 320, 0, 512)):
        faces = vision.detect_faces(photo2[top:bottom, left:right])
        assert len(faces) == 1
        check_face(faces[0], scale=2.0, offset=(-left, -top), tol=3.0)


def test_no_face_and_grayscale(photo: np.ndarray) -> None:
    assert vision.detect_faces(np.full((64, 96, 3), 128, np.uint8)) == []
    gray = photo.mean(axis=2).astype(np.uint8)
    faces = vision.detect_faces(gray)
    assert len(faces) == 1
    check_face(faces[0], tol=5.0, min_score=0.75)
    with pytest.raises(ValueError, match="score_threshold"):
        vision.detect_faces(photo, score_threshold=2.0)


def test_draw_detections(photo: np.ndarray) -> None:
    faces = vision.detect_faces(photo)
    drawn = vision.draw_detections(photo, faces)
    assert drawn.shape == photo.shape and drawn is not photo
    x0, y0, x1, y1 = (round(v) for v in faces[0].box)
    assert tuple(drawn[y0, (x0 + x1) // 2]) == (0, 255, 0)  # top edge of the box
    assert tuple(drawn[y1 - 3, x1]) == (0, 255, 0)  # right edge, below the ear keypoint
    rx, ry = (round(v) for v in faces[0].keypoint("right_eye"))
    assert tuple(drawn[ry, rx]) == (255, 40, 40)  # red right-eye marker
    unchanged = np.ones(photo.shape[:2], bool)
    unchanged[y0 - 4:y1 + 5, x0 - 4:x1 + 5] = False
    np.testing.assert_array_equal(drawn[unchanged], photo[unchanged])


def test_demo_in_process(tmp_path, capsys) -> None:
    out = tmp_path / "faces.png"
    assert run_demo(["--output", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["faces"]) == 1
    np.testing.assert_allclose(report["faces"][0]["box"], FACE_BOX, atol=TOL)
    img = _png.read_png(out)
    assert img.shape == (256, 256, 3)
    assert (img == [0, 255, 0]).all(axis=2).sum() > 300  # the box outline is there


def test_demo_module_subprocess(tmp_path) -> None:
    out = tmp_path / "sub" / "faces.png"
    proc = subprocess.run([sys.executable, "-m", "litert_sdk.demo", "--output", str(out)], check=False,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "1 face(s)" in proc.stdout and f"wrote {out}" in proc.stdout
    assert "box x 89..136, y 40..87" in proc.stdout
    assert out.is_file()

    bad = subprocess.run([sys.executable, "-m", "litert_sdk.demo", "--image", str(tmp_path / "missing.png")],
                         check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert bad.returncode == 3
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr and "image not found" in bad.stderr


def test_demo_default_output_goes_to_the_temp_dir(tmp_path) -> None:
    """Without --output nothing lands in the current directory: a new file in the temp directory, path printed."""
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
    proc = subprocess.run([sys.executable, "-m", "litert_sdk.demo"], check=False, capture_output=True, text=True,
                          timeout=120, cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    assert list(work.iterdir()) == []
    (written,) = tmp.iterdir()
    assert written.name.startswith("litert_sdk_faces_") and written.suffix == ".png"
    assert proc.stdout.splitlines()[-1] == f"wrote {written}"
    assert _png.read_png(written).shape == (256, 256, 3)
    # --json reports the absolute path too; a second run does not overwrite the first
    proc = subprocess.run([sys.executable, "-m", "litert_sdk.demo", "--json"], check=False, capture_output=True,
                          text=True, timeout=120, cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    out = Path(json.loads(proc.stdout)["output"])
    assert out.is_absolute() and out.parent == tmp and out != written and out.is_file()
    assert list(work.iterdir()) == []


def test_demo_relative_output_prints_the_absolute_path(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_demo(["--output", "sub/faces.png"]) == 0
    out = tmp_path / "sub" / "faces.png"
    assert out.is_file()
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {out}"


def _load_example():
    spec = importlib.util.spec_from_file_location("face_detection_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_script(tmp_path, photo: np.ndarray, capsys) -> None:
    example = _load_example()
    faces = example.detect(photo)
    assert len(faces) == 1
    check_face(faces[0])

    image, _ = example.default_image()
    scale = image.shape[0] / 256
    out = tmp_path / "example.png"
    assert example.main(["--output", str(out)]) == 0
    assert "1 face(s)" in capsys.readouterr().out
    drawn = _png.read_png(out)
    assert drawn.shape == image.shape
    big_faces = example.detect(image)
    assert len(big_faces) == 1
    check_face(big_faces[0], scale=scale)
