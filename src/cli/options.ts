/** Options shared by every command, and the --config loader (JSON or YAML, same keys as the flags). */
import { readFileSync } from 'node:fs';
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

export { outDir, requireNumber } from '../core/validate.js';
