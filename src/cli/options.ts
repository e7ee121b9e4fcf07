/** Options shared by every command, and the --config loader (JSON or YAML, same keys as the flags). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Argv } from 'yargs';
import { BACKEND_NAMES } from '../engine/backend.js';
import { UserError } from '../core/errors.js';

export interface CommonArgs {
  seed: number;
  backend: string;
  out?: string;
  json: boolean;
  config?: string;
}

export function loadConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`cannot read config file ${file}`);
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new UserError(`config file ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UserError(`config file ${file} must hold an object of option names to values`);
  }
  return data as Record<string, unknown>;
}

export function withCommonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('seed', { type: 'number', default: 0, describe: 'random seed (same seed + backend → same numbers)' })
    .option('backend', { type: 'string', default: 'auto', choices: BACKEND_NAMES as unknown as string[], describe: 'compute backend' })
    .option('out', { type: 'string', describe: 'output directory (default results/<command>-<timestamp>)' })
    .option('json', { type: 'boolean', default: false, describe: 'also print the metrics JSON on stdout' })
    .option('config', { type: 'string', describe: 'JSON or YAML file with the same keys as the flags' })
    .config('config', (f: string) => loadConfigFile(f)) as unknown as Argv<T & CommonArgs>;
}

/** The output directory: --out, or results/<command>-<timestamp> under the working directory. */
export function outDir(command: string, out?: string): string {
  if (out !== undefined && out !== '') return path.resolve(out);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return path.resolve('results', `${command}-${stamp}`);
}

/** Rejects NaN/Infinity and out-of-range numeric flags with one clear message. */
export function requireNumber(name: string, v: unknown, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new UserError(`--${name} must be a finite number, got ${String(v)}`);
  if (opts.integer && !Number.isInteger(n)) throw new UserError(`--${name} must be an integer, got ${n}`);
  if (opts.min !== undefined && n < opts.min) throw new UserError(`--${name} must be ≥ ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new UserError(`--${name} must be ≤ ${opts.max}, got ${n}`);
  return n;
}
