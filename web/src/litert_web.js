// litert_web.js: a LiteRtInterpreter analogue over LiteRT.js (@litertjs/core), for the browser.
//
//   import {loadRuntime, LiteRtInterpreter} from './litert_web.js';
//   await loadRuntime('./wasm/');                       // the LiteRT.js wasm files, served from this site
//   const interp = await LiteRtInterpreter.fromBytes(modelBytes, {accelerator: 'webgpu'});
//   interp.accelerator;      // 'webgpu', or 'wasm' when WebGPU was unavailable (interp.fallbackReason says why)
//   const out = await interp.run({input: new Float32Array(...)});   // by name, or [array, ...] by index
//   out.outputs[0].data, out.outputs[0].shape, out.latencyMs
//   interp.delete();
//
// Inputs and outputs are plain typed arrays (Float32Array, Int32Array, Uint8Array: the types LiteRT.js supports).
import {Tensor, isWebGPUSupported, loadAndCompile, loadLiteRt} from '@litertjs/core';

let runtimePromise = null;

/** Load the LiteRT.js wasm runtime once, from `wasmDir` (a URL directory ending in '/'). */
export function loadRuntime(wasmDir = './wasm/') {
  if (!runtimePromise) runtimePromise = loadLiteRt(wasmDir);
  return runtimePromise;
}

const TYPED = {float32: Float32Array, int32: Int32Array, uint8: Uint8Array};

function details(list) {
  return list.map((d) => ({name: d.name, index: d.index, dtype: d.dtype, shape: Array.from(d.shape)}));
}

function oneLine(e) {
  return String(e && e.message ? e.message : e).split('\n')[0].slice(0, 300);
}

export class LiteRtInterpreter {
  constructor(compiled, accelerator, fallbackReason) {
    this.compiled = compiled;
    /** The accelerator the model was compiled for and runs on: 'webgpu' or 'wasm'. */
    this.accelerator = accelerator;
    /** Why WebGPU was not used when it was asked for (null when it was, or when 'wasm' was asked for). */
    this.fallbackReason = fallbackReason;
    /** Whether every op runs on the accelerator (false: some ops fell back to wasm). */
    this.fullyAccelerated = compiled.isFullyAccelerated;
    this.inputDetails = details(compiled.getInputDetails());
    this.outputDetails = details(compiled.getOutputDetails());
  }

  /**
   * Compile a model from its bytes (Uint8Array). accelerator 'webgpu' (default) falls back to 'wasm' when the browser
   * has no usable WebGPU adapter or the compile fails; 'wasm' compiles for the CPU (XNNPACK in WebAssembly).
   */
  static async fromBytes(modelBytes, {accelerator = 'webgpu', wasmDir = './wasm/'} = {}) {
    await loadRuntime(wasmDir);
    const bytes = modelBytes instanceof Uint8Array ? modelBytes : new Uint8Array(modelBytes);
    let fallbackReason = null;
    if (accelerator === 'webgpu') {
      let usable = isWebGPUSupported();
      if (usable) {
        try {
          usable = Boolean(await navigator.gpu.requestAdapter());
          if (!usable) fallbackReason = 'navigator.gpu.requestAdapter() returned no adapter';
        } catch (e) {
          usable = false;
          fallbackReason = `requestAdapter failed: ${oneLine(e)}`;
        }
      } else {
        fallbackReason = 'the browser has no WebGPU (navigator.gpu is missing)';
      }
      if (usable) {
        try {
          // (a copy: compiling may take ownership of the bytes)
          return new LiteRtInterpreter(await loadAndCompile(bytes.slice(), {accelerator: 'webgpu'}), 'webgpu', null);
        } catch (e) {
          fallbackReason = `WebGPU compile failed: ${oneLine(e)}`;
        }
      }
    } else if (accelerator !== 'wasm') {
      throw new Error(`accelerator must be 'webgpu' or 'wasm', got ${JSON.stringify(accelerator)}`);
    }
    return new LiteRtInterpreter(await loadAndCompile(bytes.slice(), {accelerator: 'wasm'}), 'wasm', fallbackReason);
  }

  /** Fetch a model by URL and compile it (see fromBytes). */
  static async fromUrl(url, options = {}) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`fetching ${url}: HTTP ${response.status}`);
    return LiteRtInterpreter.fromBytes(new Uint8Array(await response.arrayBuffer()), options);
  }

  /** Output shapes, in output order. */
  outputShapes() {
    return this.outputDetails.map((d) => d.shape.slice());
  }

  inputIndex(key) {
    if (typeof key === 'number') {
      if (key < 0 || key >= this.inputDetails.length) throw new Error(`no input ${key}`);
      return key;
    }
    const i = this.inputDetails.findIndex((d) => d.name === key);
    if (i < 0) {
      const names = this.inputDetails.map((d) => d.name).join(', ');
      throw new Error(`no input named ${JSON.stringify(key)} (inputs: ${names})`);
    }
    return i;
  }

  /**
   * Run once. `inputs`: an array (by index) or an object {name or index: ...} of typed arrays (or of
   * {data: typed array, shape}; the shape must be the input's).
   * Returns {outputs: [{name, dtype, shape, data}], latencyMs} (latency of the run and the output reads).
   */
  async run(inputs) {
    const arrays = new Array(this.inputDetails.length).fill(null);
    const entries = Array.isArray(inputs) ? inputs.map((a, i) => [i, a]) : Object.entries(inputs);
    for (const [key, array] of entries) {
      const index = this.inputIndex(typeof key === 'string' && /^\d+$/.test(key) && !this.inputDetails.some(
          (d) => d.name === key) ? Number(key) : key);
      arrays[index] = array;
    }
    const tensors = [];
    try {
      this.inputDetails.forEach((d, i) => {
        const given = arrays[i];
        if (!given) throw new Error(`input ${JSON.stringify(d.name)} is missing`);
        const array = ArrayBuffer.isView(given) ? given : given.data;  // (a typed array or {data, shape})
        const shape = ArrayBuffer.isView(given) ? d.shape : Array.from(given.shape);
        const want = TYPED[d.dtype];
        if (!want) throw new Error(`input ${JSON.stringify(d.name)} has type ${d.dtype}, unsupported by LiteRT.js`);
        if (!(array instanceof want)) {
          throw new Error(`input ${JSON.stringify(d.name)} wants a ${want.name}, got ${array.constructor.name}`);
        }
        if (d.shape.some((n) => n < 0)) {  // (the tensor type must equal the model's, -1 included)
          throw new Error(`input ${JSON.stringify(d.name)} has a dynamic shape [${d.shape}]: LiteRT.js runs models ` +
                          'with static input shapes only');
        }
        const size = shape.reduce((a, b) => a * b, 1);
        if (array.length !== size) {
          throw new Error(`input ${JSON.stringify(d.name)} has shape [${shape}] (${size} values), got ${array.length}`);
        }
        tensors.push(new Tensor(array, shape));
      });
      const start = performance.now();
      let device = tensors;
      if (this.accelerator === 'webgpu') device = await Promise.all(tensors.map((t) => t.copyTo('webgpu')));
      let results;
      try {
        results = await this.compiled.run(device);
      } finally {
        if (device !== tensors) device.forEach((t) => t.delete());
      }
      const outputs = [];
      for (let i = 0; i < results.length; i++) {
        const host = results[i].accelerator === 'wasm' ? results[i] : await results[i].moveTo('wasm');
        const d = this.outputDetails[i];
        outputs.push({name: d.name, dtype: d.dtype, shape: Array.from(host.type.layout.dimensions),
                      data: host.toTypedArray().slice()});
        host.delete();
        if (host !== results[i] && !results[i].deleted) results[i].delete();
      }
      return {outputs, latencyMs: performance.now() - start};
    } finally {
      tensors.forEach((t) => t.delete());
    }
  }

  delete() {
    this.compiled.delete();
  }
}
