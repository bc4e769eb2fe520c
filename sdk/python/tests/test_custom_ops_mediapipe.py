"""The bundled MediaPipe kernels: each op against a numpy reference written here, then the real models.

The references follow MediaPipe's descriptions of the ops and are written independently of the C++ kernels
(vectorised, whole-tensor formulations instead of loops).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
from flatbuffers import flexbuffers
from test_custom_ops_builder import single_op_model

from litert_sdk import CompiledModel, CpuOptions, Options, _rewrite
from litert_sdk.custom_ops import decode_attributes, python_op

MEDIAPIPE = Options().with_mediapipe_custom_ops()
ASTRONAUT = Path(__file__).resolve().parents[1] / "src" / "litert_sdk" / "data" / "astronaut.png"


# ------------------------------------------------------------------------------------------- numpy references
def ref_transpose_conv_bias(x, w, b, padding, stride_h, stride_w):
    """Scatter every input pixel through the kernel into the full (unpadded) output, then crop the padding."""
    n, h, wd, _ = x.shape
    co, kh, kw, _ = w.shape
    if padding == 1:  # SAME
        oh, ow = h * stride_h, wd * stride_w
    else:
        oh, ow = h * stride_h + max(kh - stride_h, 0), wd * stride_w + max(kw - stride_w, 0)
    full = np.zeros((n, (h - 1) * stride_h + kh, (wd - 1) * stride_w + kw, co), np.float64)
    for ky in range(kh):
        for kx in range(kw):
            full[:, ky:ky + (h - 1) * stride_h + 1:stride_h, kx:kx + (wd - 1) * stride_w + 1:stride_w] += \
                np.einsum("nhwc,oc->nhwo", x.astype(np.float64), w[:, ky, kx, :].astype(np.float64))
    top = max(full.shape[1] - oh, 0) // 2
    left = max(full.shape[2] - ow, 0) // 2
    out = np.zeros((n, oh, ow, co))
    crop = full[:, top:top + oh, left:left + ow]
    out[:, :crop.shape[1], :crop.shape[2]] = crop
    return (out + b).astype(np.float32)


def _mat(a):
    m = np.eye(4)
    m[:2, :2] = a
    return m


def ref_landmarks_to_transform_matrix(landmarks, attrs):
    """4x4 crop->input matrix as T(centre) R(angle) S(box / output size) T(-output size / 2)."""
    pts = landmarks[0, :, :2].astype(np.float64)
    left, right = pts[attrs["left_rotation_idx"]], pts[attrs["right_rotation_idx"]]
    angle = attrs["target_rotation_radians"] - math.atan2(-(right[1] - left[1]), right[0] - left[0])
    angle = (angle + math.pi) % (2 * math.pi) - math.pi
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    aligned = pts[np.asarray(attrs["subset_idxs"])] @ rot  # rows rotated by -angle
    lo, hi = aligned.min(axis=0), aligned.max(axis=0)
    centre = rot @ ((lo + hi) / 2)
    box = (hi - lo) * [attrs["scale_x"], attrs["scale_y"]]
    out_w, out_h = attrs["output_width"], attrs["output_height"]
    translate = np.eye(4)
    translate[:2, 3] = centre
    to_centre = np.eye(4)
    to_centre[:2, 3] = [-out_w / 2, -out_h / 2]
    m = translate @ _mat(rot) @ _mat(np.diag([box[0] / out_w, box[1] / out_h])) @ to_centre
    return m.astype(np.float32)[None]


def ref_transform_tensor_bilinear(features, matrix, out_h, out_w):
    """Sample at M (j + .5, i + .5) - .5 with bilinear weights; a zero border stands for everything outside."""
    f = np.pad(features[0].astype(np.float64), ((1, 1), (1, 1), (0, 0)))  # index k of f is pixel k - 1
    h, w = features.shape[1:3]
    jj, ii = np.meshgrid(np.arange(out_w) + 0.5, np.arange(out_h) + 0.5)
    homog = np.stack([jj.ravel(), ii.ravel(), np.zeros(jj.size), np.ones(jj.size)])
    xs, ys = (matrix[0].astype(np.float64) @ homog)[:2] - 0.5
    x0, y0 = np.floor(xs), np.floor(ys)
    out = 0.0
    for dy in (0, 1):
        for dx in (0, 1):
            wgt = (1 - abs(xs - (x0 + dx))) * (1 - abs(ys - (y0 + dy)))
            xi = np.clip(x0 + dx, -1, w).astype(int) + 1
            yi = np.clip(y0 + dy, -1, h).astype(int) + 1
            out = out + wgt[:, None] * f[yi, xi]
    return out.reshape(1, out_h, out_w, -1).astype(np.float32)


def ref_transform_landmarks(landmarks, matrix):
    out = landmarks.astype(np.float64).copy()
    n = landmarks.shape[1]
    homog = np.concatenate([landmarks[0, :, :2], np.zeros((n, 1)), np.ones((n, 1))], 1)
    out[0, :, :2] = (homog @ matrix[0].astype(np.float64).T)[:, :2]
    return out.astype(np.float32)


# -------------------------------------------------------------------------------------------- single-op models
@pytest.mark.parametrize("shape,kernel,stride,padding", [
    ((1, 8, 8, 16), (1, 2, 2), (2, 2), 1),   # the selfie models' configuration
    ((1, 5, 6, 3), (2, 3, 3), (2, 2), 1),    # odd kernel: padding
    ((1, 5, 6, 3), (2, 3, 3), (2, 2), 2),
    ((2, 4, 5, 2), (3, 3, 2), (1, 2), 1),
    ((1, 4, 5, 2), (1, 3, 2), (3, 1), 2),    # kernel smaller than the stride
    ((1, 6, 6, 2), (2, 5, 5), (3, 3), 1),
])
def test_convolution_2d_transpose_bias(shape, kernel, stride, padding, rng):
    co, kh, kw = kernel
    sh, sw = stride
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((co, kh, kw, shape[3])).astype(np.float32)
    b = rng.standard_normal(co).astype(np.float32)
    want = ref_transpose_conv_bias(x, w, b, padding, sh, sw)
    data = single_op_model("Convolution2DTransposeBias", [("x", shape), ("w", w.shape, w), ("b", b.shape, b)],
                           [("y", want.shape)], struct.pack("<3i", padding, sw, sh))
    # our kernel (builtin kernels elsewhere) and XNNPACK's own implementation of this MediaPipe op
    ours = CompiledModel.from_buffer(data, Options(cpu=CpuOptions(kernel_mode="builtin")).with_mediapipe_custom_ops())
    xnnpack = CompiledModel.from_buffer(data)
    np.testing.assert_allclose(ours.run([x])[0], want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xnnpack.run([x])[0], want, rtol=1e-5, atol=1e-5)


def _l2tm_attrs(n, rng, **over):
    attrs = {"subset_idxs": [int(i) for i in rng.choice(n, size=9, replace=False)], "left_rotation_idx": 1,
             "right_rotation_idx": 4, "target_rotation_radians": 0.3, "output_width": 12, "output_height": 8,
             "scale_x": 1.5, "scale_y": 1.25}
    attrs.update(over)
    return attrs


@pytest.mark.parametrize("over", [{}, {"target_rotation_radians": 0.0, "output_width": 16, "output_height": 16},
                                  {"right_rotation_idx": 0, "left_rotation_idx": 7, "scale_y": 2.0}])
def test_landmarks_to_transform_matrix(over, rng):
    n = 20
    attrs = _l2tm_attrs(n, rng, **over)
    data = single_op_model("Landmarks2TransformMatrix", [("lm", (1, n, 3))], [("m", (1, 4, 4))],
                           flexbuffers.Dumps(attrs), version=2)
    cm = CompiledModel.from_buffer(data, MEDIAPIPE)
    for _ in range(3):
        lm = (rng.random((1, n, 3)) * 48).astype(np.float32)
        np.testing.assert_allclose(cm.run([lm])[0], ref_landmarks_to_transform_matrix(lm, attrs), rtol=1e-4, atol=1e-4)


def test_transform_tensor_bilinear(rng):
    h, w, c, oh, ow = 9, 11, 5, 6, 7
    data = single_op_model("TransformTensorBilinear", [("f", (1, h, w, c)), ("m", (1, 4, 4))], [("y", (1, oh, ow, c))],
                           flexbuffers.Dumps({"output_height": oh, "output_width": ow}), version=2)
    cm = CompiledModel.from_buffer(data, MEDIAPIPE)
    f = rng.standard_normal((1, h, w, c)).astype(np.float32)
    for angle, scale, shift in ((0.0, 1.0, (0.0, 0.0)), (0.4, 1.3, (2.5, -1.0)), (-2.0, 0.7, (8.0, 6.0)),
                                (0.1, 2.5, (-3.0, -2.0))):  # the last two sample partly outside the input
        m = np.eye(4, dtype=np.float32)
        m[:2, :2] = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        m[:2, 3] = shift
        np.testing.assert_allclose(cm.run([f, m[None]])[0], ref_transform_tensor_bilinear(f, m[None], oh, ow),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dims", [2, 3])
def test_transform_landmarks(dims, rng):
    data = single_op_model("TransformLandmarks", [("lm", (1, 7, dims)), ("m", (1, 4, 4))], [("y", (1, 7, dims))],
                           version=2)
    cm = CompiledModel.from_buffer(data, MEDIAPIPE)
    lm = rng.standard_normal((1, 7, dims)).astype(np.float32)
    m = rng.standard_normal((1, 4, 4)).astype(np.float32)
    out = cm.run([lm, m])[0]
    np.testing.assert_allclose(out, ref_transform_landmarks(lm, m), rtol=1e-5, atol=1e-5)
    if dims == 3:
        np.testing.assert_array_equal(out[..., 2], lm[..., 2])


# ----------------------------------------------------------------------------------------------------- images
def _astronaut() -> np.ndarray:
    if not ASTRONAUT.is_file():
        pytest.skip(f"sample image missing: {ASTRONAUT}")
    from litert_sdk import _png

    return _png.read_png(ASTRONAUT)[..., :3].astype(np.float32)


def _sample(image: np.ndarray, cx: float, cy: float, size: float, out: int) -> np.ndarray:
    """A square of side `size` pixels centred on (cx, cy), resampled bilinearly to out x out, in [0, 1]."""
    h, w = image.shape[:2]
    t = (np.arange(out) + 0.5) / out - 0.5
    xs = np.clip(cx + size * t - 0.5, 0, w - 1)
    ys = np.clip(cy + size * t - 0.5, 0, h - 1)
    x0, y0 = np.minimum(xs.astype(int), w - 2), np.minimum(ys.astype(int), h - 2)
    fx, fy = (xs - x0)[None, :, None], (ys - y0)[:, None, None]
    rows0, rows1 = image[y0], image[y0 + 1]
    top = rows0[:, x0] * (1 - fx) + rows0[:, x0 + 1] * fx
    bottom = rows1[:, x0] * (1 - fx) + rows1[:, x0 + 1] * fx
    return ((top * (1 - fy) + bottom * fy) / 255.0)[None].astype(np.float32)


def _face_crop() -> np.ndarray:
    """192x192 crop around the astronaut's face (centre and side as fractions of the photo, checked visually)."""
    img = _astronaut()
    h, w = img.shape[:2]
    return _sample(img, 0.4395 * w, 0.25 * h, 0.28125 * w, 192)


# -------------------------------------------------------------------------------------------------- real models
@pytest.mark.parametrize("name", ["mp-py__selfie_segmentation.tflite", "mp-npm__selfie_segmentation.tflite"])
@pytest.mark.parametrize("mode", ["builtin", "reference"])
def test_selfie_segmentation_without_xnnpack_matches_xnnpack(corpus, name, mode):
    img = _astronaut()
    x = _sample(img, img.shape[1] / 2, img.shape[0] / 2, img.shape[1], 256)
    want = CompiledModel.from_file(corpus / name).run([x])[0]  # XNNPACK runs the custom op itself
    assert 0.2 < (want > 0.5).mean() < 0.8  # a real mask: the astronaut
    cm = CompiledModel.from_file(corpus / name, Options(cpu=CpuOptions(kernel_mode=mode)).with_mediapipe_custom_ops())
    np.testing.assert_allclose(cm.run([x])[0], want, atol=2e-4)


def test_selfie_segmentation_through_the_interpreter_api(corpus):
    from litert_sdk import Interpreter, InterpreterOptions
    from litert_sdk.interpreter import OpResolverType

    path = str(corpus / "mp-py__selfie_segmentation.tflite")
    x = np.random.default_rng(0).random((1, 256, 256, 3), dtype=np.float32)
    want = Interpreter(model_path=path).run(x)
    io = InterpreterOptions()
    io.add_mediapipe_custom_ops()
    for interp in (Interpreter(model_path=path, options=io),
                   Interpreter(model_path=path, options=Options(cpu=CpuOptions(kernel_mode="reference"))
                               .with_mediapipe_custom_ops())):
        np.testing.assert_allclose(interp.run(x), want, atol=2e-4)
    with pytest.raises(Exception, match="Stub operation"):  # what the custom ops fix
        Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF).run(x)


def _attention_crops(corpus) -> dict[str, list[int]]:
    """output name -> the face-mesh indices its refined landmarks correspond to (from the crop ops' subsets)."""
    data = (corpus / "mp-py__face_landmark_with_attention.tflite").read_bytes()
    subsets = [decode_attributes(n.options)["subset_idxs"] for n in _rewrite.analyze(data).nodes
               if n.name == "Landmarks2TransformMatrix"]
    return {"output_lips": subsets[0], "output_left_eye": subsets[1], "output_right_eye": subsets[2]}


@pytest.fixture(scope="module")
def face_mesh(corpus) -> np.ndarray:
    """468 landmarks (pixels of the 192x192 crop) from the attention-free face_landmark model."""
    out = CompiledModel.from_file(corpus / "mp-py__face_landmark.tflite").run([_face_crop()])
    return next(v for v in out if v.size == 1404).reshape(468, 3)


@pytest.mark.parametrize("name", ["mp-py__face_landmark_with_attention.tflite",
                                  "mp-npm__face_landmark_with_attention.tflite"])
def test_face_landmark_with_attention_agrees_with_face_landmark(corpus, name, face_mesh):
    cm = CompiledModel.from_file(corpus / name, MEDIAPIPE)
    out = cm.run({cm.input_names()[0]: _face_crop()})
    mesh = out["output_mesh_identity"].reshape(468, 3)
    assert np.linalg.norm(mesh[:, :2] - face_mesh[:, :2], axis=1).mean() < 2.0
    for key, idx in _attention_crops(corpus).items():
        refined = out[key].reshape(-1, 2)
        assert refined.shape == (len(idx), 2)
        err = np.linalg.norm(refined - face_mesh[idx, :2], axis=1)
        assert err.mean() < 2.0 and err.max() < 5.0, f"{key}: mean {err.mean():.2f}px, max {err.max():.2f}px"
    for iris, eye in (("output_left_iris", "output_left_eye"), ("output_right_iris", "output_right_eye")):
        centre = out[iris].reshape(-1, 2)[0]
        contour = out[eye].reshape(-1, 2)
        assert (contour.min(axis=0) < centre).all() and (centre < contour.max(axis=0)).all()


def test_attention_kernels_match_the_numpy_references_inside_the_model(corpus):
    ops = [python_op("Landmarks2TransformMatrix", lambda i, a: ref_landmarks_to_transform_matrix(i[0], a)),
           python_op("TransformTensorBilinear",
                     lambda i, a: ref_transform_tensor_bilinear(i[0], i[1], a["output_height"], a["output_width"])),
           python_op("TransformLandmarks", lambda i, a: ref_transform_landmarks(i[0], i[1]))]
    path = corpus / "mp-py__face_landmark_with_attention.tflite"
    want = CompiledModel.from_file(path, Options(custom_ops=ops))
    got = CompiledModel.from_file(path, MEDIAPIPE)
    x = _face_crop()
    a, b = want.run({want.input_names()[0]: x}), got.run({got.input_names()[0]: x})
    for k in a:
        np.testing.assert_allclose(b[k], a[k], atol=2e-3, err_msg=k)
