/** `fedattack matrix` end to end through the CLI: cells, report, resume, interrupt, worker counts, config errors. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { makeTempDir, removeDir, writeMnistDir } from './helpers/data-files.js';
import { cellKey, expandCells, parseMatrixConfig } from '../src/experiments/matrix/config.js';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

function fedattack(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, FEDATTACK_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface CellResult {
  kind: string;
  finalAccuracy: number | null;
  rounds: { round: number; accuracy: number | null; attackSuccessRate?: number | null; maliciousClients?: number[] }[];
  attackSuccessRate?: number | null;
  byzantineClients?: number[];
  psnr?: number | null;
  labelAccuracy?: number | null;
  leakRecords?: { round: number; psnr?: number }[];
  seconds: number;
}
interface MatrixFile {
  command: string;
  complete: boolean;
  cells: Record<string, { settings: { kind: string; attack: string; defense: { name: string }; byzantine: number }; result: CellResult }>;
}

let tmp = '';
let dataDir = '';
before(async () => {
  tmp = await makeTempDir('fedattack-matrix-');
  dataDir = path.join(tmp, 'mnist');
  await writeMnistDir(dataDir, { n: 200, nTest: 60, seed: 3 });
});
after(async () => {
  await removeDir(tmp);
});

/** 3 defenses × (none, model-replacement, leak:idlg) on MNIST-format IDX files: 9 cells of 2 rounds. */
function tinyConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dataset: 'mnist', dataDir, model: 'mlp', clients: 5, fraction: 1, localEpochs: 1, batchSize: 10, lr: 0.1, rounds: 2,
    trainSize: 200, testSize: 60, byzantine: 1,
    defenses: ['mean', 'median', { name: 'mean+noise', aggregator: 'mean', clientDefense: 'clip-noise:clip=0.1,sigma=1' }],
    attacks: ['model-replacement', 'leak:idlg'],
    leakage: { batch: 1, clients: 1, rounds: 1, iterations: 15 },
    ...extra,
  };
}

async function writeConfig(name: string, cfg: Record<string, unknown>): Promise<string> {
  const file = path.join(tmp, name);
  await fsp.writeFile(file, JSON.stringify(cfg));
  return file;
}

async function readMatrix(out: string): Promise<MatrixFile> {
  return JSON.parse(await fsp.readFile(path.join(out, 'matrix.json'), 'utf8')) as MatrixFile;
}

/** Results without wall-clock times. */
function results(m: MatrixFile): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, c] of Object.entries(m.cells)) {
    const { seconds: _s, ...rest } = c.result;
    out[k] = rest;
  }
  return out;
}

function find(m: MatrixFile, defense: string, attack: string): CellResult {
  const c = Object.values(m.cells).find((x) => x.settings.defense.name === defense && x.settings.attack === attack);
  assert.ok(c, `no cell ${defense} × ${attack}`);
  return c.result;
}

let first: MatrixFile | null = null;
let firstOut = '';

test('a 3 × 3 matrix on MNIST IDX files runs end to end: every cell, the heatmaps and the report', async () => {
  const cfg = await writeConfig('tiny.json', tinyConfig());
  firstOut = path.join(tmp, 'run-w2');
  const r = fedattack(['matrix', '--config', cfg, '--out', firstOut, '--workers', '2', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /= 9 distinct cells/);
  assert.match(r.stdout, /running 9 cells in 2 worker processes/);
  const m = await readMatrix(firstOut);
  first = m;
  assert.equal(m.command, 'matrix');
  assert.equal(m.complete, true);
  assert.equal(Object.keys(m.cells).length, 9);
  for (const [key, c] of Object.entries(m.cells)) assert.equal(cellKey(c.settings as never), key, 'a cell is stored under the hash of its settings');

  // Poisoning cells: per-round accuracy and a backdoor ASR; the attacker is client 0..4, all sampled (C = 1).
  const mr = find(m, 'mean', 'model-replacement');
  assert.equal(mr.kind, 'poison');
  assert.equal(mr.byzantineClients?.length, 1);
  assert.equal(mr.rounds.length, 2);
  for (const row of mr.rounds) {
    assert.deepEqual(row.maliciousClients, mr.byzantineClients);
    assert.ok(typeof row.attackSuccessRate === 'number' && row.attackSuccessRate >= 0 && row.attackSuccessRate <= 1);
  }
  assert.equal(mr.attackSuccessRate, mr.rounds[1]!.attackSuccessRate);
  // Clean cells: same defense, no attacker, no ASR.
  const clean = find(m, 'mean', 'none');
  assert.equal(clean.kind, 'clean');
  assert.equal(clean.byzantineClients, undefined);
  assert.equal(clean.attackSuccessRate, undefined);
  assert.ok(clean.rounds.every((r) => r.maliciousClients === undefined));

  // Leakage: iDLG on one honest client's one-step update. The aggregator acts after the observation, so
  // mean and median leak exactly the same; client-side clipping + noise changes what is observed.
  const leakMean = find(m, 'mean', 'leak:idlg');
  const leakMedian = find(m, 'median', 'leak:idlg');
  const leakNoise = find(m, 'mean+noise', 'leak:idlg');
  assert.equal(leakMean.kind, 'leak');
  assert.equal(leakMean.leakRecords?.length, 1);
  assert.ok(typeof leakMean.psnr === 'number' && leakMean.psnr > 30, `iDLG on an MLP update should reconstruct (PSNR ${leakMean.psnr})`);
  assert.equal(leakMean.labelAccuracy, 1);
  assert.equal(leakMedian.psnr, leakMean.psnr);
  assert.ok(typeof leakNoise.psnr === 'number' && leakNoise.psnr < leakMean.psnr - 10, `noise should lower PSNR (${leakNoise.psnr} vs ${leakMean.psnr})`);

  // Report: heatmap PNGs referenced from report.md and report.html; no temporary files left.
  const files = await fsp.readdir(firstOut);
  for (const f of ['heatmap-accuracy.png', 'heatmap-asr.png', 'heatmap-psnr.png', 'heatmap-labels.png', 'report.md', 'report.html']) assert.ok(files.includes(f), f);
  const png = await fsp.readFile(path.join(firstOut, 'heatmap-psnr.png'));
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  const md = await fsp.readFile(path.join(firstOut, 'report.md'), 'utf8');
  assert.match(md, /heatmap-accuracy\.png/);
  assert.match(md, /Threat model/);
  assert.match(md, /\| *iid *\| *1 *\| *mean *\| *model-replacement/);
  assert.match(await fsp.readFile(path.join(firstOut, 'report.html'), 'utf8'), /<img[^>]+heatmap-psnr\.png/);
  assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), []);
});

test('results do not depend on the worker count', async () => {
  assert.ok(first, 'needs the first test');
  const cfg = await writeConfig('tiny.json', tinyConfig());
  const out = path.join(tmp, 'run-w1');
  const r = fedattack(['matrix', '--config', cfg, '--out', out, '--workers', '1', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /in 1 worker process\b/);
  assert.deepEqual(results(await readMatrix(out)), results(first));
});

test('resume: a rerun skips finished cells and runs only the missing one, with the same result', async () => {
  assert.ok(first, 'needs the first test');
  const m = await readMatrix(firstOut);
  const removed = Object.keys(m.cells).find((k) => m.cells[k]!.settings.attack === 'model-replacement' && m.cells[k]!.settings.defense.name === 'median')!;
  const { [removed]: gone, ...rest } = m.cells;
  await fsp.writeFile(path.join(firstOut, 'matrix.json'), JSON.stringify({ ...m, cells: rest, complete: false }));
  const cfg = await writeConfig('tiny.json', tinyConfig());
  const r = fedattack(['matrix', '--config', cfg, '--out', firstOut, '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /8 cells already finished/);
  assert.match(r.stdout, /running 1 cell in 1 worker process\b/);
  assert.equal(r.stdout.match(/^cell \d+\/\d+:/gm)?.length, 1);
  assert.match(r.stdout, /cell 1\/1: median × model-replacement/);
  const again = await readMatrix(firstOut);
  assert.equal(again.complete, true);
  assert.deepEqual(results(again), results(first!));
  for (const k of Object.keys(rest)) assert.deepEqual(again.cells[k], m.cells[k], 'finished cells are kept as they were');
  assert.ok(gone);
  // Nothing left: a third run runs nothing.
  const r3 = fedattack(['matrix', '--config', cfg, '--out', firstOut, '--backend', 'wasm']);
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stdout, /9 cells already finished/);
  assert.doesNotMatch(r3.stdout, /^cell /m);
});

test('a changed config does not reuse cells computed under other settings', async () => {
  const cfg = await writeConfig('tiny-3rounds.json', tinyConfig({ rounds: 3 }));
  const r = fedattack(['matrix', '--config', cfg, '--out', firstOut, '--backend', 'wasm', '--limit', '1']);
  assert.equal(r.code, 0, r.stderr);
  // Leak cells do not depend on the number of training rounds: those 3 are reused; the 6 others are new.
  assert.match(r.stdout, /3 cells already finished, 6 from other settings kept but not used/);
  assert.match(r.stdout, /running 1 cell .*\(--limit; 5 left for a later run\)/);
  const m = await readMatrix(firstOut);
  assert.equal(m.complete, false);
  const threeRounds = Object.values(m.cells).filter((c) => c.settings.kind !== 'leak' && c.result.rounds.length === 3);
  assert.equal(threeRounds.length, 1);
});

test('Ctrl-C stops the workers and leaves a valid matrix.json; the rerun runs only the rest', async () => {
  const cfg = await writeConfig('tiny.json', tinyConfig());
  const out = path.join(tmp, 'run-interrupt');
  const child = spawn(process.execPath, [main, 'matrix', '--config', cfg, '--out', out, '--workers', '1', '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait for the first finished cell, then interrupt.
  const file = path.join(out, 'matrix.json');
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (existsSync(file)) {
      try {
        if (Object.keys((JSON.parse(await fsp.readFile(file, 'utf8')) as MatrixFile).cells).length >= 1) break;
      } catch { /* being replaced: atomic rename, read again */ }
    }
  }
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 2, stderr);
  assert.match(stderr, /interrupted; matrix\.json keeps every finished cell/);
  const m = await readMatrix(out);
  const done = Object.keys(m.cells).length;
  assert.ok(done >= 1 && done < 9, `cells done at the interrupt: ${done}`);
  assert.equal(m.complete, false);
  const r = fedattack(['matrix', '--config', cfg, '--out', out, '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${done} cells already finished`));
  assert.equal(r.stdout.match(/^cell \d+\/\d+:/gm)?.length, 9 - done);
  assert.deepEqual(results(await readMatrix(out)), results(first!));
});

test('bad configs: one error line, exit 2, before any cell runs', async () => {
  const cases: [string, Record<string, unknown> | null, RegExp][] = [
    ['unknown attack', tinyConfig({ attacks: ['gausian'] }), /unknown attack "gausian"|gausian/],
    ['unknown aggregator', tinyConfig({ defenses: ['medain'] }), /medain/],
    ['unknown leakage attack', tinyConfig({ attacks: ['leak:foo'] }), /unknown leakage attack "foo"/],
    ['krum precondition', tinyConfig({ defenses: ['krum'], byzantine: 2 }), /defense "krum" with byzantine 2: .*(2f\s*\+\s*3|≥|>=)/i],
    ['bad number', tinyConfig({ rounds: -1 }), /rounds must be ≥ 1/],
    ['bad fraction', tinyConfig({ fraction: 2 }), /fraction must be ≤ 1/],
    ['byzantine above clients', tinyConfig({ byzantine: [1, 9] }), /byzantine\[1\] must be ≤ 5/],
    ['unknown key', tinyConfig({ roundz: 3 }), /unknown config key "roundz"/],
    ['bad client defense', tinyConfig({ defenses: [{ aggregator: 'mean', clientDefense: 'dp' }] }), /unknown client defense "dp"/],
    ['missing data', tinyConfig({ dataDir: path.join(tmp, 'nowhere') }), /nowhere|not found|no such|cannot/i],
    ['missing file', null, /cannot read config file/],
  ];
  for (const [what, cfg, re] of cases) {
    const file = cfg === null ? path.join(tmp, 'missing.yaml') : await writeConfig('bad.json', cfg);
    const out = path.join(tmp, `bad-${what.replace(/ /g, '-')}`);
    const r = fedattack(['matrix', '--config', file, '--out', out, '--backend', 'wasm']);
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
    assert.match(lines[0]!, /^fedattack: error: /, what);
    assert.match(lines[0]!, re, what);
    assert.equal(existsSync(path.join(out, 'matrix.json')), false, `${what}: no cell may run`);
  }
});

test('YAML example config parses; cells are keyed by their settings', async () => {
  const { default: YAML } = await import('yaml');
  const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'matrix.yaml');
  const cfg = parseMatrixConfig(YAML.parse(await fsp.readFile(example, 'utf8')) as Record<string, unknown>);
  assert.ok(cfg.defenses.length >= 4);
  assert.ok(cfg.attacks.filter((a) => !a.startsWith('leak:')).length >= 4);
  assert.deepEqual(cfg.attacks.filter((a) => a.startsWith('leak:')).sort(), ['leak:dlg', 'leak:idlg']);
  const { cells, grid } = expandCells(cfg, 'wasm');
  assert.equal(new Set(cells.map((c) => c.key)).size, cells.length);
  assert.ok(grid.every((g) => cells.some((c) => c.key === g.key)));
  // Another lr changes every training cell's key.
  const other = expandCells({ ...cfg, lr: cfg.lr * 2 }, 'wasm').cells;
  assert.equal(other.filter((c) => cells.some((d) => d.key === c.key)).length, 0);
});
