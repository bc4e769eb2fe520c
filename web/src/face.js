// The face-detection demo page: MediaPipe's short-range BlazeFace (face_detection_short_range.tflite) on a picked
// image (the bundled sample photo first); SSD anchors, box decoding and weighted NMS as in litert_sdk.vision.
import {LiteRtInterpreter} from './litert_web.js';
import {fail, publish} from './page.js';

const $ = (id) => document.getElementById(id);
const SIZE = 128;

function shortRangeAnchors() {
  // strides [8, 16, 16, 16], one aspect ratio plus the interpolated one per layer, fixed anchor size: 896 anchors.
  const anchors = [];
  for (const [stride, perCell] of [[8, 2], [16, 6]]) {
    const n = Math.ceil(SIZE / stride);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        for (let k = 0; k < perCell; k++) anchors.push([(x + 0.5) / n, (y + 0.5) / n]);
      }
    }
  }
  return anchors;
}

const ANCHORS = shortRangeAnchors();

function iou(a, b) {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** Detections (normalized [xmin, ymin, xmax, ymax] boxes, 6 keypoints) from the raw outputs. */
export function decode(boxes, logits, scoreThreshold = 0.5, iouThreshold = 0.3) {
  const cands = [];
  for (let i = 0; i < ANCHORS.length; i++) {
    const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, logits[i]))));
    if (score < scoreThreshold) continue;
    const r = boxes.subarray(i * 16, i * 16 + 16);
    const [ax, ay] = ANCHORS[i];
    const cx = r[0] / SIZE + ax;
    const cy = r[1] / SIZE + ay;
    const w = r[2] / SIZE;
    const h = r[3] / SIZE;
    const kps = [];
    for (let k = 0; k < 6; k++) kps.push([r[4 + 2 * k] / SIZE + ax, r[5 + 2 * k] / SIZE + ay]);
    cands.push({score, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], kps});
  }
  cands.sort((a, b) => b.score - a.score);
  const out = [];
  while (cands.length) {  // weighted non-maximum suppression (MediaPipe's WEIGHTED)
    const top = cands[0];
    const group = cands.filter((c) => iou(top.box, c.box) > iouThreshold);
    const rest = cands.filter((c) => iou(top.box, c.box) <= iouThreshold);
    const total = group.reduce((s, c) => s + c.score, 0);
    const box = [0, 0, 0, 0];
    const kps = top.kps.map(() => [0, 0]);
    for (const c of group) {
      c.box.forEach((v, j) => { box[j] += v * c.score / total; });
      c.kps.forEach((p, j) => { kps[j][0] += p[0] * c.score / total; kps[j][1] += p[1] * c.score / total; });
    }
    out.push({score: top.score, box, kps});
    cands.length = 0;
    cands.push(...rest);
  }
  return out;
}

let interp = null;
let current = null;

async function detect(img) {
  const canvas = $('canvas');
  canvas.width = img.naturalWidth || img.width;
  canvas.height = img.naturalHeight || img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  // letterbox into 128x128 (black padding, which maps to -1 like litert_sdk.vision), pixels to [-1, 1]
  const scale = Math.min(SIZE / canvas.width, SIZE / canvas.height);
  const dw = canvas.width * scale;
  const dh = canvas.height * scale;
  const padX = (SIZE - dw) / 2;
  const padY = (SIZE - dh) / 2;
  const small = new OffscreenCanvas(SIZE, SIZE);
  const sctx = small.getContext('2d');
  sctx.fillStyle = 'black';
  sctx.fillRect(0, 0, SIZE, SIZE);
  sctx.imageSmoothingQuality = 'high';
  sctx.drawImage(img, padX, padY, dw, dh);
  const rgba = sctx.getImageData(0, 0, SIZE, SIZE).data;
  const input = new Float32Array(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) {
    for (let c = 0; c < 3; c++) input[i * 3 + c] = rgba[i * 4 + c] / 127.5 - 1;
  }
  const result = await interp.run([input]);
  const byWidth = (w) => result.outputs.find((o) => o.shape.length === 3 && o.shape[2] === w);
  const faces = decode(byWidth(16).data, byWidth(1).data);
  const toPx = (x, y) => [(x * SIZE - padX) / scale, (y * SIZE - padY) / scale];
  ctx.lineWidth = Math.max(2, canvas.width / 200);
  ctx.font = `${Math.max(12, canvas.width / 30)}px sans-serif`;
  const pixelFaces = faces.map((f) => {
    const [x0, y0] = toPx(f.box[0], f.box[1]);
    const [x1, y1] = toPx(f.box[2], f.box[3]);
    ctx.strokeStyle = '#00e676';
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.fillStyle = '#00e676';
    ctx.fillText(f.score.toFixed(2), x0, Math.max(12, y0 - 4));
    ctx.fillStyle = '#ff1744';
    const kps = f.kps.map(([x, y]) => toPx(x, y));
    for (const [x, y] of kps) {
      ctx.beginPath();
      ctx.arc(x, y, ctx.lineWidth * 1.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    return {score: f.score, box: [x0, y0, x1, y1], keypoints: kps};
  });
  const fallback = interp.fallbackReason ? ` (WebGPU unavailable: ${interp.fallbackReason})` : '';
  // (a clock frozen by a headless browser's virtual time reads 0 ms: no latency then)
  const latency = result.latencyMs > 0 ? `, ${result.latencyMs.toFixed(2)} ms` : '';
  $('status').textContent = `${faces.length} face(s)${latency} on ${interp.accelerator}${fallback}`;
  window.liteRtPage = {accelerator: interp.accelerator, fallbackReason: interp.fallbackReason, faces: pixelFaces,
                       latencyMs: result.latencyMs, done: true};
  publish();
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`cannot load image ${url}`));
    img.src = url;
  });
}

async function compile() {
  if (interp) interp.delete();
  interp = await LiteRtInterpreter.fromUrl('face_detection_short_range.tflite', {accelerator: $('accelerator').value});
}

async function main() {
  const params = new URLSearchParams(location.search);
  if (params.get('accelerator')) $('accelerator').value = params.get('accelerator');
  await compile();
  current = await loadImage('sample.png');
  await detect(current);
  $('file').addEventListener('change', async () => {
    const file = $('file').files[0];
    if (!file) return;
    current = await loadImage(URL.createObjectURL(file));
    await detect(current).catch(fail);
  });
  $('accelerator').addEventListener('change', async () => {
    await compile();
    await detect(current);
  });
}

main().catch(fail);
