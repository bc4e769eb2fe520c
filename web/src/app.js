// The generic bundle page: the bundled model (bundle.json names it) on seeded random inputs; inputs, outputs and
// latency shown. window.liteRtPage holds the last result (for scripted checks).
import {LiteRtInterpreter} from './litert_web.js';
import {fail, publish} from './page.js';

const $ = (id) => document.getElementById(id);

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomInput(d, rand) {
  const n = d.shape.reduce((a, b) => a * b, 1);
  if (d.dtype === 'float32') return Float32Array.from({length: n}, () => rand() * 2 - 1);
  if (d.dtype === 'int32') return Int32Array.from({length: n}, () => Math.floor(rand() * 10));
  if (d.dtype === 'uint8') return Uint8Array.from({length: n}, () => Math.floor(rand() * 256));
  throw new Error(`no random data for type ${d.dtype}`);
}

function row(table, cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = String(c);
    tr.appendChild(td);
  }
  $(table).querySelector('tbody').appendChild(tr);
}

function fmt(v) {
  return Number.isInteger(v) ? String(v) : v.toPrecision(5);
}

async function main() {
  const bundle = await (await fetch('bundle.json')).json();
  $('model-name').textContent = bundle.model_name;
  $('face-link').hidden = !bundle.face_demo;
  const params = new URLSearchParams(location.search);
  if (params.get('accelerator')) $('accelerator').value = params.get('accelerator');
  const modelBytes = new Uint8Array(await (await fetch(bundle.model)).arrayBuffer());
  let interp = null;

  async function run() {
    $('status').className = '';
    $('status').textContent = 'compiling...';
    if (interp) interp.delete();
    const t0 = performance.now();
    interp = await LiteRtInterpreter.fromBytes(modelBytes, {accelerator: $('accelerator').value});
    const compileMs = performance.now() - t0;
    $('inputs').querySelector('tbody').innerHTML = '';
    const rand = mulberry32(0);
    const inputs = interp.inputDetails.map((d) => randomInput(d, rand));
    interp.inputDetails.forEach((d) => row('inputs', [d.index, d.name, d.dtype, `[${d.shape}]`]));
    const runs = Math.max(1, Number($('runs').value) || 1);
    const times = [];
    let result = null;
    for (let i = 0; i < runs; i++) {
      result = await interp.run(inputs);
      times.push(result.latencyMs);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    $('outputs').querySelector('tbody').innerHTML = '';
    result.outputs.forEach((o, i) => {
      let lo = Infinity;
      let hi = -Infinity;
      let sum = 0;
      for (const v of o.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        sum += v;
      }
      row('outputs', [i, o.name, o.dtype, `[${o.shape}]`, fmt(lo), fmt(hi), fmt(sum / o.data.length),
                      Array.from(o.data.slice(0, 4), fmt).join(', ')]);
    });
    const fallback = interp.fallbackReason ? ` (WebGPU unavailable: ${interp.fallbackReason})` : '';
    $('status').textContent = `ran on ${interp.accelerator}${fallback}: compile ${compileMs.toFixed(1)} ms, ` +
        `latency median ${median.toFixed(3)} ms over ${runs} run(s), ` +
        `min ${times[0].toFixed(3)} ms`;
    window.liteRtPage = {accelerator: interp.accelerator, fallbackReason: interp.fallbackReason, compileMs,
                         medianMs: median, outputShapes: interp.outputShapes(), done: true};
    publish();
  }

  $('run').addEventListener('click', () => run().catch(fail));
  await run();
}

main().catch(fail);
