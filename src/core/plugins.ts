/**
 * Plug-ins: a module that registers components (`registerAggregator(…)`, `registerLeakageAttack(…)`, …
 * from 'fedattack') when imported. `fedattack … --plugin FILE` and `plugins:` in a config file load
 * them before the command's choices are read, so their components work like built-ins. Worker threads
 * and processes load the same plug-ins (see {@link loadedPlugins}) before rebuilding a component by name.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from './errors.js';

/** A plug-in that cannot be found or that failed while loading; user-facing, one line. */
export class PluginError extends UserError {}

const loaded: string[] = [];

/** The file URLs of the plug-ins loaded in this thread, in load order (for worker threads). */
export function loadedPlugins(): readonly string[] {
  return loaded;
}

/**
 * Imports a plug-in module once: a file path (relative to `baseDir`, default the working directory)
 * or a `file:` URL. PluginError if there is no such file or if importing it throws.
 */
export async function loadPlugin(spec: string, baseDir: string = process.cwd()): Promise<string> {
  if (typeof spec !== 'string' || spec.trim() === '') throw new PluginError('--plugin needs a module file');
  const url = spec.startsWith('file:') ? spec : pathToFileURL(path.resolve(baseDir, spec)).href;
  if (loaded.includes(url)) return url;
  const file = spec.startsWith('file:') ? new URL(url).pathname : path.resolve(baseDir, spec);
  if (!existsSync(file) || !statSync(file).isFile()) throw new PluginError(`plugin ${spec}: no such file (${file})`);
  try {
    await import(url);
  } catch (e) {
    const msg = ((e as Error)?.message ?? String(e)).split('\n')[0];
    throw new PluginError(`plugin ${spec} failed to load: ${msg}`, { cause: e });
  }
  loaded.push(url);
  return url;
}

/** Loads plug-ins in order (see {@link loadPlugin}). */
export async function loadPlugins(specs: readonly string[], baseDir?: string): Promise<void> {
  for (const s of specs) await loadPlugin(s, baseDir);
}
