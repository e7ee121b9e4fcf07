/**
 * The public API (src/index.ts, what `import … from 'fedattack'` gives) and user components working like
 * built-ins. One plug-in module, written by the test against the built API, registers a poisoning attack,
 * an aggregator, a client defense and a leakage attack; then
 * - `train --plugin P --attack its-attack --aggregator its-rule --client-defense its-defense` runs them,
 * - `leak --plugin P --attack its-leak` runs the user leakage attack,
 * - a `matrix` config with `plugins: [P]` uses all of them as rows and columns in 2 worker processes,
 * each checked by what the component observably did (a marker file each build/call appends to).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const API = pathToFileURL(path.join(ROOT, 'dist', 'src', 'index.js')).href;
const dir = mkdtempSync(path.join(tmpdir(), 'fedattack-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MARKS = path.join(dir, 'marks.txt');

writeFileSync(path.join(dir, 'components.mjs'), `
import { appendFileSync } from 'node:fs';
import { registerAggregator, registerClientDefense, registerLeakageAttack, registerPoisoningAttack, getLeakageAttack } from ${JSON.stringify(API)};
const mark = (s) => appendFileSync(process.env.API_MARKS, s + '\\n');

// A poisoning attack: send -scale times the mean honest update (omniscient).
registerPoisoningAttack({
  name: 'negated-mean', summary: 'minus scale times the honest mean', params: { scale: { type: 'number', default: 3, description: 'factor' } },
  build: (v) => ({
    name: 'negated-mean', params: { scale: v.scale }, seesHonestUpdates: true, needsOwnUpdate: false,
    craft(ctx) {
      mark('craft');
      const out = new Float32Array(ctx.honest[0].length);
      for (const u of ctx.honest) for (let i = 0; i < u.length; i++) out[i] -= (v.scale * u[i]) / ctx.honest.length;
      return out;
    },
  }),
});

// An aggregator: the update of the client with the smallest norm.
registerAggregator({
  name: 'smallest-norm', role: 'aggregator', summary: 'the update with the smallest L2 norm', params: {},
  build: () => ({
    name: 'smallest-norm', params: {}, lastInfo: undefined, checkClients() {}, reset() {},
    aggregate(updates) {
      mark('aggregate');
      const norm = (u) => Math.sqrt(u.reduce((s, x) => s + x * x, 0));
      let best = 0;
      updates.forEach((u, k) => { if (norm(u) < norm(updates[best])) best = k; });
      this.lastInfo = { n: updates.length, dropped: [], selected: [best] };
      return Float32Array.from(updates[best]);
    },
  }),
});

// An update-level client defense: halve the update.
registerClientDefense({
  name: 'halve', level: 'update', summary: 'halves the sent update', params: {},
  build: () => ({
    level: 'update', name: 'halve', params: {},
    transform: { name: 'halve', async apply(delta) { mark('halve'); const out = {}; for (const [k, t] of Object.entries(delta)) out[k] = t.mul(0.5); return out; } },
  }),
});

// A leakage attack: iDLG under another name, marking each reconstruction.
const idlg = getLeakageAttack('idlg');
registerLeakageAttack({ ...idlg, name: 'marked-idlg', async reconstruct(obs, opts) { mark('reconstruct'); return idlg.reconstruct(obs, opts); } });
`);

function fedattack(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 600_000, env: { ...process.env, API_MARKS: MARKS } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function marks(): string[] {
  const m = existsSync(MARKS) ? readFileSync(MARKS, 'utf8').split('\n').filter((l) => l !== '') : [];
  rmSync(MARKS, { force: true });
  return m;
}
const count = (m: string[], what: string): number => m.filter((x) => x === what).length;

describe('public API: user components work like built-ins', () => {
  it('exports the registries, the experiments and the building blocks', async () => {
    const api = (await import(API)) as Record<string, unknown>;
    for (const name of [
      'registerAggregator', 'registerPoisoningAttack', 'registerLeakageAttack', 'registerClientDefense', 'registerDataset', 'registerModel',
      'aggregatorNames', 'poisoningAttackNames', 'leakageAttackNames', 'clientDefenseNames', 'datasetNames', 'modelNames',
      'runLeakage', 'runLeakageBatch', 'runFederatedExperiment', 'runMatrix', 'runMatrixCell', 'runBench',
      'runFederated', 'createModel', 'loadDataset', 'partition', 'buildAggregator', 'buildAttack', 'buildClientDefenses', 'runAttack',
      'psnr', 'ssim', 'scoreReconstruction', 'selectBackend', 'loadPlugin',
    ]) assert.equal(typeof api[name], 'function', `fedattack exports ${name}`);
    assert.equal(typeof api['UserError'], 'function');
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; import?: string; default?: string }> };
    assert.ok(existsSync(path.join(ROOT, pkg.exports['.']!.types)), 'the declarations the package points to exist');
  });

  it('train --plugin: a user poisoning attack, aggregator and client defense', () => {
    marks();
    const r = fedattack(['train', '--plugin', 'components.mjs', '--attack', 'negated-mean:scale=2', '--byzantine', '1', '--aggregator', 'smallest-norm',
      '--client-defense', 'halve', '--backend', 'cpu', '--dataset', 'synthetic', '--model', 'mlp', '--clients', '4', '--fraction', '1',
      '--local-epochs', '1', '--rounds', '2', '--train-size', '80', '--test-size', '40', '--workers', '1', '--out', 'train']);
    assert.equal(r.code, 0, r.stderr);
    const m = marks();
    assert.equal(count(m, 'craft'), 2, 'the malicious client crafted once per round');
    assert.equal(count(m, 'aggregate'), 2, 'the user rule aggregated once per round');
    assert.equal(count(m, 'halve'), 6, '3 honest clients × 2 rounds sent halved updates');
    const metrics = JSON.parse(readFileSync(path.join(dir, 'train', 'metrics.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(metrics['aggregatorSpec'], 'smallest-norm');
    assert.equal(metrics['completedRounds'], 2);
  });

  it('leak --plugin: a user leakage attack', () => {
    marks();
    const r = fedattack(['leak', '--plugin', 'components.mjs', '--attack', 'marked-idlg', '--model', 'mlp', '--input-size', '8', '--iterations', '20',
      '--backend', 'cpu', '--workers', '1', '--out', 'leak']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(count(marks(), 'reconstruct') >= 1);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'leak', 'metrics.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(metrics['attack'], 'marked-idlg');
    assert.equal(typeof metrics['psnr'], 'number');
  });

  it('matrix with plugins: in its config: user components as rows and columns, cells in worker processes', () => {
    marks();
    writeFileSync(path.join(dir, 'matrix.yaml'), [
      'plugins: [components.mjs]',
      'dataset: synthetic', 'model: mlp', 'clients: 4', 'fraction: 1', 'localEpochs: 1', 'rounds: 1', 'trainSize: 80', 'testSize: 40',
      'byzantine: 1',
      'defenses: [smallest-norm, {name: mean + halve, aggregator: mean, clientDefense: halve}]',
      'attacks: ["negated-mean", "leak:marked-idlg"]',
      'leakage: {batch: 1, clients: 1, rounds: 1, iterations: 10, restarts: 1}',
    ].join('\n'));
    const r = fedattack(['matrix', '--config', 'matrix.yaml', '--backend', 'cpu', '--workers', '2', '--out', 'matrix']);
    assert.equal(r.code, 0, r.stderr);
    const m = marks();
    assert.ok(count(m, 'craft') >= 2, 'the user attack ran in both defense rows');
    assert.ok(count(m, 'aggregate') >= 1, 'the user aggregator ran');
    assert.ok(count(m, 'halve') >= 1, 'the user client defense ran');
    assert.ok(count(m, 'reconstruct') >= 2, 'the user leakage attack ran in both rows');
    const matrix = JSON.parse(readFileSync(path.join(dir, 'matrix', 'matrix.json'), 'utf8')) as { complete: boolean; cells: Record<string, unknown>; failed?: Record<string, string> };
    assert.equal(matrix.complete, true, JSON.stringify(matrix.failed));
    assert.equal(Object.keys(matrix.cells).length, 6, '2 defenses × (none + negated-mean + leak:marked-idlg)');
  });
});
