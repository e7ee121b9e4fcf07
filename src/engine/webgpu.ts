/**
 * WebGPU in Node through Dawn (the optional `webgpu` package, Vulkan on Linux). The WebGPU globals and
 * `navigator.gpu` are installed *before* tfjs's WebGPU backend is imported (it checks for them when it
 * loads), and the backend is registered with a device that asks for the adapter's own limits: tfjs's
 * default request keeps WebGPU's default of 8 storage buffers per stage, which breaks an addN of 8
 * tensors ("9 storage buffers > 8").
 *
 * Works on NVIDIA GPUs with their Vulkan driver, and without a GPU on Mesa's lavapipe (software
 * Vulkan; Debian bookworm-backports' Mesa 25 — bookworm's Mesa 22 lavapipe is rejected by Dawn).
 */
import { tf } from './tf.js';
import { registerKernelFixes } from './kernels/index.js';

type Attempt = { ok: true; detail: string } | { ok: false; why: string };

interface GpuAdapterLike {
  limits: Record<string, number>;
  features: Set<string>;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  requestDevice(d: unknown): Promise<unknown>;
}

let started: Attempt | null = null;

/** Limits requested from the adapter: everything tfjs-webgpu asks for, plus the storage-buffer counts. */
const LIMITS = [
  'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize',
  'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ',
  'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage', 'maxBindingsPerBindGroup',
];

/**
 * tfjs-backend-webgpu 4.22.0 reads synchronously through OffscreenCanvas, which Node lacks: every host
 * read in fedattack is asynchronous (`src/engine/read.ts`), so nothing needs `readSync` on this backend.
 *
 * `auto` skips software adapters (Mesa's lavapipe/llvmpipe, SwiftShader): they work, and are what the
 * test suite uses without a GPU, but are far slower than wasm. `--backend webgpu` takes any adapter.
 */
export async function startWebgpu(opts: { allowSoftware?: boolean } = {}): Promise<Attempt> {
  if (process.env['FEDATTACK_DISABLE_WEBGPU'] === '1') return { ok: false, why: 'disabled by FEDATTACK_DISABLE_WEBGPU=1' };
  if (started === null) started = await start();
  if (!started.ok) return started;
  if (softwareAdapter && !opts.allowSoftware) {
    return { ok: false, why: `only a software Vulkan adapter (${adapterName}), slower than wasm; use --backend webgpu to force it` };
  }
  return (await tf.setBackend('webgpu')) ? started : { ok: false, why: 'webgpu backend failed to restart' };
}

let adapterName = 'unknown adapter';
let softwareAdapter = false;

/** Whether an adapter is a CPU implementation (lavapipe/llvmpipe, SwiftShader). */
function isSoftware(a: GpuAdapterLike): boolean {
  const i = a.info ?? {};
  const text = [i.vendor, i.architecture, i.device, i.description].join(' ');
  return (a as { isFallbackAdapter?: boolean }).isFallbackAdapter === true || i.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(text);
}

async function start(): Promise<Attempt> {
  let dawn: { create(flags: string[]): { requestAdapter(o?: unknown): Promise<GpuAdapterLike | null> }; globals: object };
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (e) {
    return { ok: false, why: `the optional 'webgpu' package is not installed or did not load (${firstLine(e)})` };
  }
  const flags = process.env['FEDATTACK_DAWN_FLAGS']?.split(',').filter(Boolean) ?? [];
  const gpu = dawn.create(flags);
  const probe = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (probe === null) {
    return { ok: false, why: 'no WebGPU adapter found (needs a Vulkan driver: a GPU driver, or Mesa lavapipe ≥ 25)' };
  }
  softwareAdapter = isSoftware(probe);
  adapterName = describeAdapter(probe) || adapterName;
  Object.assign(globalThis, dawn.globals);
  if (!('gpu' in ((globalThis as { navigator?: object }).navigator ?? {}))) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true, writable: true });
  }
  const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as { WebGPUBackend: new (device: unknown, info?: unknown) => tf.KernelBackend };
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) throw new Error('WebGPU adapter disappeared');
    const requiredLimits: Record<string, number> = {};
    for (const k of LIMITS) if (typeof adapter.limits[k] === 'number') requiredLimits[k] = adapter.limits[k]!;
    const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    return new mod.WebGPUBackend(device, adapter.info);
  }, 0);
  try {
    if (!(await tf.setBackend('webgpu'))) return { ok: false, why: 'webgpu backend failed to initialise' };
    await tf.ready();
  } catch (e) {
    return { ok: false, why: `webgpu backend failed: ${firstLine(e)}` };
  }
  registerKernelFixes('webgpu');
  return { ok: true, detail: `tfjs-backend-webgpu on Dawn (${adapterName})` };
}

function describeAdapter(a: GpuAdapterLike): string {
  const i = a.info;
  return [i?.vendor, i?.architecture, i?.device, i?.description].filter((s) => s).join(' ');
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
