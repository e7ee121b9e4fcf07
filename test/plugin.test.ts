/**
 * Plug-ins on the command line (src/cli/main.ts, src/cli/options.ts → src/core/plugins.ts), with small
 * plug-in modules the test writes: `--plugin FILE` and `plugins:` in a `--config` file (relative to the
 * config file) load the module before the command runs; an unknown path or a module that throws is one
 * error line and exit 2. A plug-in that registers an aggregator into the shared registry makes
 * `train --aggregator <its name>` work (once buildAggregator reads the shared registry).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginsFromArgs } from '../src/cli/options.js';
import { ComponentRegistry, type Component } from '../src/core/registry.js';
import { isUserError } from '../src/core/errors.js';
import { buildAggregator, type Aggregator } from '../defenses/aggregation/index.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const REGISTRY_URL = new URL('../src/core/registry.js', import.meta.url).href;
const dir = mkdtempSync(path.join(tmpdir(), 'fedattack-plugin-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fedattack(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A plug-in that appends its name to $PLUGIN_MARKS and registers the aggregator 'plugin-mean'. */
const AGGREGATOR_PLUGIN = `
import { appendFileSync } from 'node:fs';
import { ComponentRegistry } from ${JSON.stringify(REGISTRY_URL)};
appendFileSync(process.env.PLUGIN_MARKS, 'plugin-mean\\n');
ComponentRegistry.shared('aggregator').register({
  name: 'plugin-mean',
  role: 'aggregator',
  summary: 'sample-weighted mean (a test plug-in)',
  params: {},
  build: () => ({
    name: 'plugin-mean', params: {}, lastInfo: undefined,
    checkClients() {}, reset() {},
    aggregate(updates, weights) {
      const out = new Float32Array(updates[0].length);
      const total = weights.reduce((a, b) => a + b, 0);
      updates.forEach((u, k) => { for (let i = 0; i < u.length; i++) out[i] += (weights[k] / total) * u[i]; });
      return out;
    },
  }),
});
`;
writeFileSync(path.join(dir, 'agg.mjs'), AGGREGATOR_PLUGIN);
writeFileSync(path.join(dir, 'throws.mjs'), 'throw new Error("kaboom in the plug-in\\nsecond line");\n');
mkdirSync(path.join(dir, 'configs'));
const TINY = ['--backend', 'cpu', '--dataset', 'synthetic', '--model', 'mlp', '--clients', '2', '--train-size', '40', '--test-size', '20', '--local-epochs', '1'];

function marks(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

describe('pluginsFromArgs', () => {
  it('finds --plugin FILE, --plugin=FILE and the plugins of a --config file, relative to that file', () => {
    writeFileSync(path.join(dir, 'configs', 'one.yaml'), 'plugins: [../agg.mjs, sub/x.mjs]\nrounds: 1\n');
    writeFileSync(path.join(dir, 'configs', 'single.json'), JSON.stringify({ plugins: 'y.mjs' }));
    const refs = pluginsFromArgs(['train', '--plugin', 'a.mjs', '--rounds', '2', '--plugin=b.mjs', '--config', 'configs/one.yaml', '--config=configs/single.json', '--', '--plugin', 'c.mjs'], dir);
    assert.deepEqual(refs, [
      { file: 'a.mjs', baseDir: dir },
      { file: 'b.mjs', baseDir: dir },
      { file: '../agg.mjs', baseDir: path.join(dir, 'configs') },
      { file: 'sub/x.mjs', baseDir: path.join(dir, 'configs') },
      { file: 'y.mjs', baseDir: path.join(dir, 'configs') },
    ]);
    assert.deepEqual(pluginsFromArgs(['train', '--rounds', '2'], dir), []);
  });

  it('rejects a --plugin without a file and a plugins key that is not a list of paths', () => {
    assert.throws(() => pluginsFromArgs(['train', '--plugin'], dir), (e) => isUserError(e) && /--plugin needs a file/.test((e as Error).message));
    assert.throws(() => pluginsFromArgs(['train', '--plugin', '--rounds', '1'], dir), /--plugin needs a file/);
    writeFileSync(path.join(dir, 'configs', 'bad.yaml'), 'plugins: [1, 2]\n');
    assert.throws(() => pluginsFromArgs(['--config', 'configs/bad.yaml'], dir), (e) => isUserError(e) && /plugins must be a list of module paths/.test((e as Error).message));
  });
});

describe('fedattack --plugin', () => {
  it('an unknown plug-in path is one error line and exit 2', () => {
    const r = fedattack(['train', '--plugin', 'missing.mjs', ...TINY, '--rounds', '1']);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^fedattack: error: plugin missing\.mjs: no such file/);
    assert.equal(r.stdout, '');
  });

  it('a plug-in that throws is one error line with its message and exit 2', () => {
    const r = fedattack(['check', '--plugin=throws.mjs']);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.equal(lines[0], 'fedattack: error: plugin throws.mjs failed to load: kaboom in the plug-in');
  });

  it('a plug-in named in a config file is loaded (relative to the file) before the command runs', () => {
    const marksFile = path.join(dir, 'marks-config.txt');
    writeFileSync(path.join(dir, 'configs', 'train.yaml'), 'plugins: [../agg.mjs]\nrounds: 1\n');
    const out = path.join(dir, 'out-config');
    const r = fedattack(['train', '--config', 'configs/train.yaml', ...TINY, '--out', out], { PLUGIN_MARKS: marksFile });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(marks(marksFile), ['plugin-mean']);
    const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')) as { completedRounds: number; finalAccuracy: unknown };
    assert.equal(metrics.completedRounds, 1);
    assert.equal(typeof metrics.finalAccuracy, 'number');
  });

  it('a plug-in given twice (flag and config) is loaded once; a plug-in in a config file that is missing fails', () => {
    const marksFile = path.join(dir, 'marks-twice.txt');
    writeFileSync(path.join(dir, 'configs', 'again.yaml'), 'plugins: [../agg.mjs]\n');
    const r = fedattack(['train', '--help', '--plugin', 'agg.mjs', '--config', 'configs/again.yaml'], { PLUGIN_MARKS: marksFile });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--plugin/);
    assert.deepEqual(marks(marksFile), ['plugin-mean'], r.stderr);
    writeFileSync(path.join(dir, 'configs', 'missing.yaml'), 'plugins: [nowhere.mjs]\n');
    const bad = fedattack(['train', '--config', 'configs/missing.yaml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^fedattack: error: plugin nowhere\.mjs: no such file \(.*configs[/\\]nowhere\.mjs\)\n$/);
  });

  it('train --plugin FILE --aggregator <its name> runs with the registered aggregator', (t) => {
    // Until the registries are merged, buildAggregator reads only the built-in list: skip, saying so.
    const probe = { name: 'plugin-probe', role: 'aggregator', summary: 'probe', params: {}, build: () => buildAggregator('mean') } as Component<Aggregator>;
    const shared = ComponentRegistry.shared<Aggregator>('aggregator');
    shared.register(probe);
    let merged = true;
    try {
      buildAggregator('plugin-probe');
    } catch {
      merged = false;
    } finally {
      shared.unregister('plugin-probe');
    }
    if (!merged) {
      t.skip('buildAggregator does not read ComponentRegistry.shared("aggregator") yet (registries branch not merged)');
      return;
    }
    const marksFile = path.join(dir, 'marks-train.txt');
    const out = path.join(dir, 'out-plugin-agg');
    const r = fedattack(['train', '--plugin', 'agg.mjs', '--aggregator', 'plugin-mean', ...TINY, '--rounds', '2', '--out', out], { PLUGIN_MARKS: marksFile });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(marks(marksFile), ['plugin-mean']);
    const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    assert.match(JSON.stringify(metrics['aggregatorSpec'] ?? metrics['aggregator']), /plugin-mean/);
    assert.equal(metrics['completedRounds'], 2);
  });
});
