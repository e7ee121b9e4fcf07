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

/** A plug-in named on the command line (relative to the working directory) or in a config file (relative to it). */
export interface PluginRef {
  file: string;
  baseDir: string;
}

/**
 * The plug-ins a command line names, found before yargs parses it (their components must be
 * registered before the commands' choices are built): every `--plugin FILE` / `--plugin=FILE`, then
 * the `plugins:` list (or single path) of the file named by `--config`, relative to that file.
 * Scanning stops at `--`. A config file that cannot be read, or a `plugins:` that is not a list of
 * paths, is a UserError.
 */
export function pluginsFromArgs(args: readonly string[], cwd: string = process.cwd()): PluginRef[] {
  const flags: string[] = [];
  const configs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    for (const [name, into] of [['--plugin', flags], ['--config', configs]] as const) {
      if (a === name) {
        const v = args[i + 1];
        if (v === undefined || v.startsWith('--')) throw new UserError(`${name} needs a file`);
        into.push(v);
        i++;
      } else if (a.startsWith(`${name}=`)) into.push(a.slice(name.length + 1));
    }
  }
  const out: PluginRef[] = flags.map((file) => ({ file, baseDir: cwd }));
  for (const c of configs) {
    const file = path.resolve(cwd, c);
    const listed = loadConfigFile(file)['plugins'];
    if (listed === undefined) continue;
    const files = typeof listed === 'string' ? [listed] : listed;
    if (!Array.isArray(files) || !files.every((f): f is string => typeof f === 'string' && f !== '')) {
      throw new UserError(`config file ${c}: plugins must be a list of module paths`);
    }
    for (const f of files) out.push({ file: f, baseDir: path.dirname(file) });
  }
  return out;
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
