/** `fedattack train` as a user meets it: outputs, resume, real file formats, one-line errors. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { makeTempDir, removeDir, writeIdx, writeLeafDir, writeMnistDir } from './helpers/data-files.js';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

function fedattack(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FEDATTACK_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Tiny but real settings: mlp, 300 synthetic samples, 5 clients, 2 per round, 1 local epoch. */
const TINY = ['--backend', 'wasm', '--model', 'mlp', '--train-size', '300', '--test-size', '100', '--clients', '5', '--fraction', '0.4', '--local-epochs', '1', '--lr', '0.1'];

interface Metrics {
  command: string;
  backend: string;
  seed: number;
  dataset: string;
  clients: number;
  totalRounds: number;
  trainSamples: number;
  rounds: { round: number; accuracy: number; loss: number; seconds: number; sampledClients: number[]; trainLoss: number }[];
  finalAccuracy: number;
  complete: boolean;
  resumedFrom?: number;
}

let tmp = '';
before(async () => {
  tmp = await makeTempDir('fedattack-train-');
});
after(async () => {
  await removeDir(tmp);
});

async function readMetrics(dir: string): Promise<Metrics> {
  return JSON.parse(await fsp.readFile(path.join(dir, 'metrics.json'), 'utf8')) as Metrics;
}

const noSeconds = (m: Metrics) => m.rounds.map(({ seconds: _s, ...r }) => r);

test('train on synthetic writes metrics.json, report.md/html, accuracy.png and a checkpoint; --json prints only JSON', async () => {
  const out = path.join(tmp, 'synthetic');
  const r = fedattack(['train', ...TINY, '--rounds', '2', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as Metrics;
  assert.match(r.stderr, /^backend: wasm/m);
  assert.match(r.stderr, /5 clients, 300 samples/);
  const m = await readMetrics(out);
  assert.deepEqual(printed, m);
  assert.equal(m.command, 'train');
  assert.equal(m.backend, 'wasm');
  assert.equal(m.seed, 0);
  assert.equal(m.dataset, 'synthetic');
  assert.equal(m.totalRounds, 2);
  assert.equal(m.complete, true);
  assert.equal(m.rounds.length, 2);
  for (const [i, row] of m.rounds.entries()) {
    assert.equal(row.round, i + 1);
    assert.ok(row.accuracy >= 0 && row.accuracy <= 1);
    assert.ok(Number.isFinite(row.loss) && row.seconds > 0);
    assert.equal(row.sampledClients.length, 2);
  }
  assert.equal(m.finalAccuracy, m.rounds[1]!.accuracy);
  const png = await fsp.readFile(path.join(out, 'accuracy.png'));
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  const md = await fsp.readFile(path.join(out, 'report.md'), 'utf8');
  assert.match(md, /accuracy\.png/);
  assert.match(md, /\| *round *\| *test accuracy/);
  assert.match(await fsp.readFile(path.join(out, 'report.html'), 'utf8'), /<img[^>]+accuracy\.png/);
  assert.ok((await fsp.readdir(path.join(out, 'checkpoint'))).includes('state.json'));
  assert.deepEqual((await fsp.readdir(out)).filter((f) => f.endsWith('.tmp')), []);
});

test('--resume after 2 of 4 rounds gives the metrics of an uninterrupted 4-round run; same seed, same numbers', async () => {
  const full = path.join(tmp, 'full');
  const part = path.join(tmp, 'part');
  const a = fedattack(['train', ...TINY, '--rounds', '4', '--out', full]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^backend: wasm/m);
  assert.match(a.stdout, /^partition: iid/m);
  assert.match(a.stdout, /^round 4\/4: accuracy/m);
  const b = fedattack(['train', ...TINY, '--rounds', '2', '--out', part]);
  assert.equal(b.code, 0, b.stderr);
  const c = fedattack(['train', '--resume', part, '--rounds', '4']);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /resuming after round 2/);
  assert.doesNotMatch(c.stdout, /^round [12]\//m);
  const mf = await readMetrics(full);
  const mr = await readMetrics(part);
  assert.equal(mr.resumedFrom, 2);
  assert.deepEqual(noSeconds(mr), noSeconds(mf));
  assert.equal(mr.finalAccuracy, mf.finalAccuracy);
  // Worker threads (the default on wasm when there are 2+ cores) do not change the numbers.
  const seq = path.join(tmp, 'seq');
  const e = fedattack(['train', ...TINY, '--rounds', '4', '--workers', '1', '--out', seq]);
  assert.equal(e.code, 0, e.stderr);
  assert.doesNotMatch(e.stdout, /worker threads/);
  assert.deepEqual(noSeconds(await readMetrics(seq)), noSeconds(mf));
  const w = fedattack(['train', ...TINY, '--rounds', '1', '--workers', '2', '--out', path.join(tmp, 'w2')]);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stdout, /^worker threads: 2/m);
  assert.deepEqual(noSeconds(await readMetrics(path.join(tmp, 'w2'))), noSeconds(mf).slice(0, 1));
  // Changing a training setting on resume is refused.
  const d = fedattack(['train', '--resume', part, '--lr', '0.5']);
  assert.notEqual(d.code, 0);
  assert.match(d.stderr, /cannot resume with other settings: lr/);
});

test('MNIST-format IDX files (plain and gzip) and LEAF JSON (natural partition) train end to end; --config YAML sets the same keys as the flags', async () => {
  for (const gz of [false, true]) {
    const data = path.join(tmp, `mnist-${gz}`);
    await writeMnistDir(data, { n: 120, nTest: 40, gz, seed: 3 });
    const out = path.join(tmp, `mnist-out-${gz}`);
    const r = fedattack(['train', '--backend', 'wasm', '--dataset', 'mnist', '--data-dir', data, '--model', 'mlp', '--clients', '4', '--fraction', '0.5', '--local-epochs', '1', '--rounds', '1', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const m = await readMetrics(out);
    assert.equal(m.dataset, 'mnist');
    assert.equal(m.trainSamples, 120);
    assert.equal(m.rounds.length, 1);
    if (!gz) {
      // The data directory is remembered: resuming needs no --data-dir.
      const again = fedattack(['train', '--resume', out, '--rounds', '2']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((await readMetrics(out)).rounds.length, 2);
    }
  }
  // LEAF (FEMNIST layout) with the natural per-writer partition: one client per user.
  const leaf = path.join(tmp, 'leaf');
  await writeLeafDir(leaf, { trainSamples: [6, 4, 5, 3], testSamples: [2, 2, 2, 2], seed: 2 });
  const lo = path.join(tmp, 'leaf-out');
  const l = fedattack(['train', '--backend', 'wasm', '--dataset', 'femnist', '--data-dir', leaf, '--partition', 'natural', '--model', 'mlp', '--fraction', '0.5', '--local-epochs', '1', '--rounds', '1', '--out', lo]);
  assert.equal(l.code, 0, l.stderr);
  const lm = await readMetrics(lo);
  assert.equal(lm.clients, 4);
  assert.equal(lm.trainSamples, 18);
  assert.equal(lm.rounds[0]!.sampledClients.length, 2);

  const cfg = path.join(tmp, 'train.yaml');
  await fsp.writeFile(cfg, 'model: mlp\nclients: 4\nfraction: 0.5\nlocal-epochs: 1\nbatch-size: inf\nrounds: 1\ntrain-size: 80\ntest-size: 40\npartition: shards\nalgorithm: fedprox\nmu: 0.1\n');
  const out = path.join(tmp, 'yaml');
  const r = fedattack(['train', '--backend', 'wasm', '--config', cfg, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const m = (await readMetrics(out)) as unknown as Record<string, unknown>;
  assert.equal(m['algorithm'], 'fedprox');
  assert.equal(m['mu'], 0.1);
  assert.equal(m['batchSize'], 0);
  assert.equal(m['partition'], 'shards');
  assert.equal(m['shardsPerClient'], 2);
});

test('user mistakes end with one clear error line, exit ≠ 0, no stack trace', async () => {
  const bad = path.join(tmp, 'bad-mnist');
  await writeMnistDir(bad, { n: 50, nTest: 10, seed: 4 });
  await writeIdx(path.join(bad, 'train-images-idx3-ubyte'), 2051, [50, 28, 28], new Uint8Array(50 * 28 * 28), { truncateBy: 100 });
  const emptyDir = path.join(tmp, 'empty');
  await fsp.mkdir(emptyDir, { recursive: true });
  const cases: [string[], RegExp][] = [
    [['--dataset', 'nosuch'], /unknown dataset/],
    [['--dataset', 'mnist', '--data-dir', bad], /truncated/],
    [['--dataset', 'mnist', '--data-dir', path.join(tmp, 'missing')], /mnist|missing|does not exist/i],
    [['--clients', '500', '--train-size', '100'], /more clients than samples/],
    [['--fraction', '0'], /--fraction/],
    [['--fraction', '1.5'], /--fraction/],
    [['--lr', '-1'], /--lr/],
    [['--rounds', '0'], /--rounds/],
    [['--clients', 'abc'], /--clients/],
    [['--batch-size', '-3'], /--batch-size/],
    [['--local-epochs', '1.5'], /--local-epochs/],
    [['--workers', '0'], /--workers/],
    [['--workers', 'many'], /--workers/],
    [['--alpha', '0', '--partition', 'dirichlet'], /--alpha/],
    [['--partition', 'weird'], /--partition/],
    [['--algorithm', 'fedfoo'], /--algorithm/],
    [['--model', 'resnet'], /--model/],
    [['--partition', 'natural'], /natural partition/],
    [['--resume', emptyDir], /nothing to resume/],
  ];
  for (const [args, pattern] of cases) {
    const base = ['--rounds', '1', '--train-size', '100', '--test-size', '20', '--clients', '5'];
    const defaults = base.flatMap((v, i) => (i % 2 === 0 && !args.includes(v) ? [v, base[i + 1]!] : []));
    const r = fedattack(['train', '--backend', 'cpu', ...defaults, ...args]);
    const label = args.join(' ');
    assert.notEqual(r.code, 0, label);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${label}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${label}: ${r.stderr}`);
    assert.match(lines[0]!, /^fedattack: error: /, label);
    assert.match(lines[0]!, pattern, label);
  }
});
