/**
 * fedattack as a user installs it: `npm pack` of the built package, installed from the tarball into a
 * temporary copy of each example (examples/custom-aggregator, examples/custom-leakage-attack), then
 * type-checked with the project's tsc and run through the API and through the CLI with `--plugin`.
 * A scratch TypeScript file that imports from 'fedattack', registers an aggregator and runs a 2-round
 * federated run with it (and a custom observer on the harness) is type-checked and run too.
 *
 * The install takes its dependencies from the npm cache (filled by `npm ci`) or the registry; where
 * neither is reachable the tests are skipped with npm's message, never passed. The examples are written
 * against the registry and experiment functions of the public API; a missing export fails the test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = mkdtempSync(path.join(tmpdir(), 'fedattack-examples-'));
after(() => rmSync(work, { recursive: true, force: true }));

function sh(cmd: string, args: string[], cwd: string, timeout = 180_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
}
function tail(r: SpawnSyncReturns<string>): string {
  return `${r.error?.message ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
}
function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

/** The packed tarball, or why there is none. */
let tarball: string | null = null;
let noPack = '';

before(() => {
  const r = sh(NPM, ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], ROOT, 120_000);
  const name = r.status === 0 ? r.stdout.trim().split('\n').pop() : undefined;
  if (name && existsSync(path.join(work, name))) tarball = path.join(work, name);
  else noPack = `npm pack failed: ${tail(r)}`;
});

/**
 * A copy of example `name` (or an empty package) in the work folder, with fedattack installed from the
 * tarball; null (after skipping `t` with npm's message) if it cannot be installed.
 */
function installed(t: { skip(message: string): void }, name: string | null): string | null {
  if (tarball === null) {
    t.skip(noPack);
    return null;
  }
  const dir = path.join(work, name ?? 'scratch');
  if (name !== null) {
    cpSync(path.join(ROOT, 'examples', name), dir, { recursive: true, filter: (s) => !/[/\\](node_modules|dist)$/.test(s) });
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(pkg.dependencies['fedattack'], 'file:../..', `${name}/package.json depends on fedattack from the repository`);
  } else {
    cpSync(path.join(ROOT, 'examples', 'custom-aggregator', 'package.json'), path.join(dir, 'package.json'));
  }
  // The example's own devDependencies (@types/node, typescript) come along; fedattack is the tarball.
  const r = sh(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball], dir);
  if (r.status !== 0) {
    t.skip(`cannot install the packed fedattack (no network and no npm cache?): ${tail(r)}`);
    return null;
  }
  assert.ok(existsSync(path.join(dir, 'node_modules', 'fedattack', 'dist', 'src', 'index.d.ts')), 'the package ships its declarations');
  return dir;
}

/** The names the built package lacks of `names` (the examples need them). */
async function missingExports(names: string[]): Promise<string[]> {
  const api = (await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'index.js')).href)) as Record<string, unknown>;
  return names.filter((n) => typeof api[n] !== 'function');
}

function typecheck(dir: string): void {
  const r = sh(process.execPath, [TSC, '-p', 'tsconfig.json'], dir, 120_000);
  assert.equal(r.status, 0, `tsc in ${path.basename(dir)}:\n${tail(r)}`);
}

describe('fedattack installed from its packed tarball', { concurrency: 1 }, () => {
  it('a scratch TypeScript file imports from fedattack, registers an aggregator, runs 2 rounds with it; type-checks', (t) => {
    const dir = installed(t, null);
    if (dir === null) return;
    writeFileSync(path.join(dir, 'scratch.ts'), `
import { registerAggregator, runFederatedExperiment, type Aggregator, type AggregationInfo } from 'fedattack';

/** Coordinate-wise median of absolute values with the majority sign: a user's own rule. */
class AbsMedian implements Aggregator {
  readonly name = 'abs-median';
  readonly params = {};
  lastInfo: AggregationInfo | undefined = undefined;
  calls = 0;
  aggregate(updates: Float32Array[]): Float32Array {
    this.calls++;
    const out = new Float32Array(updates[0]!.length);
    for (let i = 0; i < out.length; i++) {
      const v = updates.map((u) => u[i]!).sort((a, b) => a - b);
      out[i] = v[Math.floor(v.length / 2)]!;
    }
    this.lastInfo = { n: updates.length, dropped: [] };
    return out;
  }
  checkClients(): void {}
  reset(): void {}
}
const built: AbsMedian[] = [];
registerAggregator({ name: 'abs-median', role: 'aggregator', summary: 'coordinate median', params: {}, build: () => { const a = new AbsMedian(); built.push(a); return a; } });
const run = await runFederatedExperiment({ dataset: 'synthetic', model: 'mlp', clients: 4, fraction: 1, localEpochs: 1, rounds: 2, trainSize: 80, testSize: 40, aggregator: 'abs-median', backend: 'cpu', workers: 1 });
console.log(JSON.stringify({ aggregator: run.metrics.aggregatorSpec, rounds: run.metrics.rounds.length, finalAccuracy: run.metrics.finalAccuracy, calls: built.reduce((s, a) => s + a.calls, 0), files: run.files.length }));
`);
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], strict: true, skipLibCheck: true, outDir: 'out', types: ['node'] },
      files: ['scratch.ts'],
    }));
    typecheck(dir);
    const r = sh(process.execPath, ['out/scratch.js'], dir);
    assert.equal(r.status, 0, tail(r));
    const out = lastJson(r.stdout);
    assert.equal(out['aggregator'], 'abs-median');
    assert.equal(out['rounds'], 2);
    assert.equal(typeof out['finalAccuracy'], 'number');
    assert.equal(out['calls'], 2, 'the registered rule aggregated both rounds');
    assert.equal(out['files'], 0, 'no outDir: nothing written');
  });

  it('examples/custom-aggregator: type-checks, runs through the API and through the CLI with --plugin', async (t) => {
    assert.deepEqual(await missingExports(['registerAggregator', 'aggregatorNames', 'runFederatedExperiment']), [], 'the public API exports what the example uses');
    const dir = installed(t, 'custom-aggregator');
    if (dir === null) return;
    typecheck(dir);
    const api = sh(process.execPath, ['dist/run.js', 'out-api'], dir);
    assert.equal(api.status, 0, tail(api));
    const res = lastJson(api.stdout);
    assert.equal(res['registered'], true);
    assert.equal(res['aggregator'], 'sign-majority');
    assert.equal(typeof res['finalAccuracy'], 'number');
    assert.ok(existsSync(path.join(dir, 'out-api', 'metrics.json')));

    const cli = sh(process.execPath, [path.join('node_modules', '.bin', 'fedattack'), 'train', '--plugin', 'dist/index.js', '--aggregator', 'sign-majority:scale=0.5',
      '--backend', 'cpu', '--dataset', 'synthetic', '--model', 'mlp', '--clients', '4', '--fraction', '1', '--local-epochs', '1', '--rounds', '2',
      '--train-size', '80', '--test-size', '40', '--attack', 'sign-flip:scale=10', '--byzantine', '1', '--out', 'out-cli'], dir);
    assert.equal(cli.status, 0, tail(cli));
    const metrics = JSON.parse(readFileSync(path.join(dir, 'out-cli', 'metrics.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(metrics['aggregatorSpec'], 'sign-majority:scale=0.5');
    assert.equal(metrics['completedRounds'], 2);
    assert.equal(typeof metrics['finalAccuracy'], 'number');
  });

  it('examples/custom-leakage-attack: type-checks, runs through the API and through the CLI with --plugin', async (t) => {
    assert.deepEqual(await missingExports(['registerLeakageAttack', 'leakageAttackNames', 'runLeakage']), [], 'the public API exports what the example uses');
    const dir = installed(t, 'custom-leakage-attack');
    if (dir === null) return;
    typecheck(dir);
    const api = sh(process.execPath, ['dist/run.js', 'out-api', '100'], dir);
    assert.equal(api.status, 0, tail(api));
    const res = lastJson(api.stdout);
    assert.equal(res['registered'], true);
    assert.equal(res['attack'], 'idlg-cosine');
    assert.equal(typeof res['psnr'], 'number');
    assert.ok(existsSync(path.join(dir, 'out-api', 'metrics.json')));

    const cli = sh(process.execPath, [path.join('node_modules', '.bin', 'fedattack'), 'leak', '--plugin', 'dist/index.js', '--attack', 'idlg-cosine',
      '--model', 'mlp', '--input-size', '8', '--iterations', '100', '--backend', 'cpu', '--workers', '1', '--out', 'out-cli'], dir);
    assert.equal(cli.status, 0, tail(cli));
    const metrics = JSON.parse(readFileSync(path.join(dir, 'out-cli', 'metrics.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(metrics['attack'], 'idlg-cosine');
    assert.equal(typeof metrics['psnr'], 'number');
    assert.ok(readdirSync(path.join(dir, 'out-cli')).includes('reconstruction.png'));
  });
});
