/**
 * Checks of user-given settings shared by the CLI and the experiments layer: numbers and the output
 * directory. Messages name the setting as its CLI flag (`--name`), which is also its config-file key.
 */
import path from 'node:path';
import { UserError } from './errors.js';

/** Rejects NaN/Infinity and out-of-range numeric settings with one clear message (a {@link UserError}). */
export function requireNumber(name: string, v: unknown, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new UserError(`--${name} must be a finite number, got ${String(v)}`);
  if (opts.integer && !Number.isInteger(n)) throw new UserError(`--${name} must be an integer, got ${n}`);
  if (opts.min !== undefined && n < opts.min) throw new UserError(`--${name} must be ≥ ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new UserError(`--${name} must be ≤ ${opts.max}, got ${n}`);
  return n;
}

/** The output directory: `out`, or results/<command>-<timestamp> under the working directory. */
export function outDir(command: string, out?: string): string {
  if (out !== undefined && out !== '') return path.resolve(out);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return path.resolve('results', `${command}-${stamp}`);
}
