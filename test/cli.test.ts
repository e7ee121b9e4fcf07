/** The command line as a user meets it: exit codes, one-line errors, no stack traces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
export function fedattack(args: string[], opts: { cwd?: string; timeout?: number; env?: Record<string, string> } = {}): { code: number | null; stdout: string; stderr: string } {
  const env = opts.env ? { ...process.env, ...opts.env } : undefined;
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: opts.cwd, timeout: opts.timeout ?? 120_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('fedattack check --backend cpu passes and prints a table', () => {
  const r = fedattack(['check', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^backend: cpu/m);
  assert.match(r.stdout, /PyTorch oracle DLG LeNet B=1 .* ok/);
  assert.match(r.stdout, /\d+ passed, 0 failed on cpu/);
});

test('fedattack check --backend wasm --json prints parseable JSON with the backend recorded', () => {
  const r = fedattack(['check', '--backend', 'wasm', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { backend: string; pass: boolean; gradients: unknown[] };
  assert.equal(j.backend, 'wasm');
  assert.equal(j.pass, true);
  assert.ok(j.gradients.length >= 40);
});

test('bad input gives one clear error line and a non-zero exit, no stack trace', () => {
  for (const args of [['check', '--backend', 'foo'], ['nosuchcommand'], ['check', '--backend', 'webgpu'], ['check', '--config', '/nonexistent.yaml'], []]) {
    // WebGPU switched off so that the explicit request cannot start, whatever this machine has
    const r = fedattack(args, { env: { FEDATTACK_DISABLE_WEBGPU: '1' } });
    assert.notEqual(r.code, 0, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /error/i);
  }
});
