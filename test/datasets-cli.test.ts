/** `fedattack datasets download` against a local HTTP server serving generated MNIST files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { makeTempDir, removeDir, writeMnistDir } from './helpers/data-files.js';
import { loadDataset } from '../datasets/index.js';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('datasets download fetches MNIST from a base URL, verifies it, and 404s are one clear error', async () => {
  const served = await makeTempDir();
  const target = await makeTempDir();
  const data = await writeMnistDir(served, { n: 30, nTest: 10, gz: true });
  const server = http.createServer(async (req, res) => {
    try {
      const body = await readFile(path.join(served, path.basename(req.url ?? '')));
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const ok = await run(['datasets', 'download', 'mnist', '--data-dir', target, '--base-url', base]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /mnist: downloaded .* \(30 train, 10 test samples\)/);
    const split = await loadDataset('mnist', { dataDir: target });
    assert.equal(split.train.labels.length, 30);
    assert.deepEqual(Array.from(split.train.labels), Array.from(data.train.labels));
    assert.ok(!(await readdir(path.join(target, 'mnist'))).some((f) => f.includes('.part')));
    const missing = await run(['datasets', 'download', 'cifar10', '--data-dir', target, '--base-url', base]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /^fedattack: error: .*404/m);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
  } finally {
    server.close();
    await removeDir(served);
    await removeDir(target);
  }
});
