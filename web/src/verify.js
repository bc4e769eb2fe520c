// Driven by `litert-sdk verify --web`: runs the model named in verify/manifest.json on the input files next to it and
// POSTs {accelerator, fallbackReason, outputs: [{name, dtype, shape, data (base64)}]} to the URL the manifest names.
import {LiteRtInterpreter} from './litert_web.js';

const TYPED = {float32: Float32Array, int32: Int32Array, uint8: Uint8Array};

function toBase64(typed) {
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`fetching ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function main(manifest) {
  const params = new URLSearchParams(location.search);
  const accelerator = params.get('accelerator') || manifest.accelerator || 'webgpu';
  const interp = await LiteRtInterpreter.fromBytes(await fetchBytes(manifest.model), {accelerator});
  const runs = [];
  for (const set of manifest.runs) {
    const inputs = {};
    for (const inp of set) {
      const bytes = await fetchBytes(inp.file);
      const T = TYPED[inp.dtype];
      if (!T) throw new Error(`input ${inp.key} has type ${inp.dtype}, unsupported by LiteRT.js`);
      inputs[inp.key] = {data: new T(bytes.buffer, bytes.byteOffset, bytes.byteLength / T.BYTES_PER_ELEMENT),
                         shape: inp.shape};
    }
    const result = await interp.run(inputs);
    runs.push({latencyMs: result.latencyMs, outputs: result.outputs.map((o) => ({
      name: o.name, dtype: o.dtype, shape: o.shape, data: toBase64(o.data)}))});
  }
  const out = {accelerator: interp.accelerator, fallbackReason: interp.fallbackReason,
               fullyAccelerated: interp.fullyAccelerated,
               inputs: interp.inputDetails, outputs: interp.outputDetails, runs};
  interp.delete();
  return out;
}

(async () => {
  let manifest = null;
  let body;
  try {
    manifest = await (await fetch('verify/manifest.json')).json();
    body = await main(manifest);
  } catch (e) {
    body = {error: String(e && e.stack ? e.stack : e)};
  }
  document.getElementById('status').textContent = body.error ? `error: ${body.error}` : `done (${body.accelerator})`;
  await fetch(manifest && manifest.result_url ? manifest.result_url : '/__litert_result',
              {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
})();
