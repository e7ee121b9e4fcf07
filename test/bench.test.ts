/**
 * `fedattack bench`: writes bench.json and a report, labels where its PyTorch numbers come from, runs
 * a PyTorch reference when one is given (here a stand-in python that answers like
 * bench/torch_reference.py, so the test needs no Python), and rejects bad flags with one line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(path.join(tmpdir(), 'fedattack-bench-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function fedattack(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface BenchJson {
  rows: { suite: string; case: string; backend: string; value: number; torch?: number; torchSource?: string; ratio?: number }[];
  torch: { device: string }[];
  reference: string;
}

test('bench times DLG evaluations per backend and writes bench.json and a report (references.md ratios without PyTorch)', () => {
  const out = path.join(scratch, 'plain');
  const r = fedattack(['bench', '--backends', 'cpu,wasm', '--suites', 'dlg', '--batches', '1', '--torch', 'off', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(readFileSync(path.join(out, 'bench.json'), 'utf8')) as BenchJson;
  assert.deepEqual(j.rows.map((x) => `${x.suite} ${x.case} ${x.backend}`), ['dlg LeNet B=1 cpu', 'dlg LeNet B=1 wasm']);
  for (const row of j.rows) {
    assert.ok(row.value > 0 && Number.isFinite(row.value));
    assert.equal(row.torch, 1.6);
    assert.equal(row.torchSource, 'references.md');
    assert.ok(Math.abs(row.ratio! - row.value / 1.6) < 1e-9);
  }
  assert.match(j.reference, /references\.md/);
  assert.ok(existsSync(path.join(out, 'report.md')) && existsSync(path.join(out, 'report.html')));
  assert.match(readFileSync(path.join(out, 'report.md'), 'utf8'), /LeNet B=1/);
});

test('bench runs the PyTorch reference it is given and reports ratios against it', () => {
  const py = path.join(scratch, 'fake-python');
  const answer = JSON.stringify({ torch: '9.9-fake', device: 'cpu', deviceName: 'cpu', threads: 1, dlg: { '1': { ms: 2, runs: 30 } } });
  // answers `-c 'import torch'` with success and the reference script with one JSON line
  writeFileSync(py, `#!/bin/sh\nif [ "$1" = "-c" ]; then exit 0; fi\necho 'progress line'\necho '${answer}'\n`);
  chmodSync(py, 0o755);
  const out = path.join(scratch, 'torch');
  const r = fedattack(['bench', '--backends', 'wasm', '--suites', 'dlg', '--batches', '1', '--torch', py, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(readFileSync(path.join(out, 'bench.json'), 'utf8')) as BenchJson;
  assert.equal(j.torch.length, 1);
  assert.match(j.reference, /9\.9-fake measured in this run/);
  const row = j.rows[0]!;
  assert.equal(row.torch, 2);
  assert.match(row.torchSource!, /measured/);
  assert.ok(Math.abs(row.ratio! - row.value / 2) < 1e-9);
});

test('bench rejects bad flags with one line and exit 2', () => {
  for (const args of [['--suites', 'dlg,nope'], ['--batches', '0'], ['--torch-device', 'tpu'], ['--torch', '/nonexistent/python']]) {
    const r = fedattack(['bench', '--backends', 'cpu', '--out', path.join(scratch, 'bad'), ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.equal(existsSync(path.join(scratch, 'bad', 'bench.json')), false);
});
