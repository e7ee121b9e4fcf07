/**
 * Backend choice with fallback. `auto` tries, in order:
 *   1. tensorflow via @tensorflow/tfjs-node-gpu (CUDA 11 + cuDNN 8), when its native addon exists and loads;
 *   2. webgpu via the `webgpu` package (Dawn/Vulkan), when installed and a hardware adapter is found
 *      (software adapters such as Mesa's lavapipe only when asked for explicitly, see webgpu.ts);
 *   3. tensorflow via @tensorflow/tfjs-node (libtensorflow CPU);
 *   4. wasm (XNNPACK, SIMD; single-threaded in Node);
 *   5. cpu (plain JavaScript).
 * An explicitly requested backend that cannot start is an error (BackendError), never a silent fallback.
 */
import { UserError } from '../core/errors.js';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from './tf.js';
import { registerKernelFixes } from './kernels/index.js';

export const BACKEND_NAMES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export class BackendError extends UserError {}

export interface BackendChoice {
  /** The tfjs backend now active: 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  name: string;
  /** Where it came from, e.g. '@tensorflow/tfjs-node-gpu' or 'tfjs-backend-wasm (SIMD)'. */
  detail: string;
  requested: BackendName;
  /** Backends tried before it, with the reason each was skipped. */
  skipped: { name: string; why: string }[];
}

const require = createRequire(import.meta.url);

/** Path of an installed package's directory, or null. */
function packageDir(name: string): string | null {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** Whether a tfjs-node(-gpu) install is complete: its native addon was downloaded or built. */
function nativeAddon(dir: string): string | null {
  const lib = path.join(dir, 'lib');
  if (!existsSync(lib)) return null;
  for (const sub of readdirSync(lib)) {
    const f = path.join(lib, sub, 'tfjs_binding.node');
    if (existsSync(f)) return f;
  }
  return null;
}

type Attempt = { ok: true; detail: string } | { ok: false; why: string };

async function tryTfjsNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<Attempt> {
  if (tf.findBackend('tensorflow') !== null && tf.findBackend('tensorflow') !== undefined) {
    return (await tf.setBackend('tensorflow')) ? { ok: true, detail: pkg } : { ok: false, why: 'tensorflow backend failed to start' };
  }
  const dir = packageDir(pkg);
  if (dir === null) return { ok: false, why: `${pkg} not installed (optional; needs libtensorflow from the internet at install time)` };
  if (nativeAddon(dir) === null) return { ok: false, why: `${pkg} installed without its native addon (libtensorflow download failed at install)` };
  try {
    await import(pkg);
  } catch (e) {
    return { ok: false, why: `${pkg} failed to load: ${firstLine(e)}` };
  }
  try {
    if (!(await tf.setBackend('tensorflow'))) return { ok: false, why: `${pkg} loaded but its backend failed to start` };
  } catch (e) {
    return { ok: false, why: `${pkg} backend failed: ${firstLine(e)}` };
  }
  return { ok: true, detail: pkg };
}

async function tryWebgpu(allowSoftware: boolean): Promise<Attempt> {
  try {
    const { startWebgpu } = await import('./webgpu.js');
    return await startWebgpu({ allowSoftware });
  } catch (e) {
    return { ok: false, why: `webgpu: ${firstLine(e)}` };
  }
}

async function trySimple(name: 'wasm' | 'cpu'): Promise<Attempt> {
  try {
    if (!(await tf.setBackend(name))) return { ok: false, why: `${name} backend failed to initialise` };
    await tf.ready();
    registerKernelFixes(name);
    return { ok: true, detail: name === 'wasm' ? 'tfjs-backend-wasm (XNNPACK, SIMD, 1 thread)' : 'tfjs-backend-cpu (JavaScript)' };
  } catch (e) {
    return { ok: false, why: `${name}: ${firstLine(e)}` };
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}

const ORDER: { name: string; attempt: (explicit: boolean) => Promise<Attempt> }[] = [
  { name: 'tensorflow (tfjs-node-gpu)', attempt: () => tryTfjsNode('@tensorflow/tfjs-node-gpu') },
  { name: 'webgpu', attempt: (explicit) => tryWebgpu(explicit) },
  { name: 'tensorflow (tfjs-node)', attempt: () => tryTfjsNode('@tensorflow/tfjs-node') },
  { name: 'wasm', attempt: () => trySimple('wasm') },
  { name: 'cpu', attempt: () => trySimple('cpu') },
];

/** Selects and starts a backend. Throws BackendError if an explicitly requested one cannot start. */
export async function selectBackend(requested: string = 'auto'): Promise<BackendChoice> {
  if (!(BACKEND_NAMES as readonly string[]).includes(requested)) {
    throw new BackendError(`unknown backend '${requested}' (choose one of ${BACKEND_NAMES.join(', ')})`);
  }
  const req = requested as BackendName;
  const skipped: { name: string; why: string }[] = [];
  const candidates =
    req === 'auto' ? ORDER
      : req === 'tensorflow' ? ORDER.filter((o) => o.name.startsWith('tensorflow'))
        : ORDER.filter((o) => o.name === req);
  for (const c of candidates) {
    const r = await c.attempt(req !== 'auto');
    if (r.ok) return { name: tf.getBackend(), detail: r.detail, requested: req, skipped };
    skipped.push({ name: c.name, why: r.why });
  }
  throw new BackendError(
    `backend '${requested}' is not available here: ${skipped.map((s) => s.why).join('; ')}`,
  );
}

/** One line naming the backend chosen and why the ones before it were skipped. */
export function describeChoice(c: BackendChoice): string {
  const skipped = c.skipped.length > 0 ? ` (skipped: ${c.skipped.map((s) => `${s.name}: ${s.why}`).join('; ')})` : '';
  return `backend: ${c.name} — ${c.detail}${skipped}`;
}
