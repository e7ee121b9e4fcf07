/**
 * The dependency rules (.dependency-cruiser.cjs, checked with dependency-cruiser): the library's layers
 * import only downward and there are no import cycles. The rules hold on the tree as it is, and they
 * catch a deliberately added upward import and a deliberately added cycle in a copy of the tree.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const TREES = ['src', 'attacks', 'defenses', 'datasets'];

function cruise(root: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, ...TREES, '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd: root,
    encoding: 'utf8',
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A copy of the source trees and the rules, with extra files written into it. */
function copyWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fedattack-arch-'));
  for (const t of TREES) cpSync(path.join(ROOT, t), path.join(dir, t), { recursive: true, filter: (s) => !s.includes(`${path.sep}oracle${path.sep}`) });
  for (const f of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) cpSync(path.join(ROOT, f), path.join(dir, f));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('architecture: layers import only downward, no cycles', () => {
  it('the tree satisfies every rule', () => {
    const r = cruise(ROOT);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /no dependency violations found/);
  });

  it('an upward import (engine → experiments) fails the check', () => {
    const dir = copyWith({ 'src/engine/probe.ts': "import { runMatrixCell } from '../experiments/matrix/cell.js';\nexport const probe = runMatrixCell;\n" });
    try {
      const r = cruise(dir);
      assert.notEqual(r.status, 0, r.out);
      assert.match(r.out, /layer-engine-imports-upward: src\/engine\/probe\.ts → src\/experiments\/matrix\/cell\.ts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a component importing the CLI fails the check', () => {
    const dir = copyWith({ 'defenses/aggregation/probe.ts': "import { main } from '../../src/cli/main.js';\nexport const probe = main;\n" });
    try {
      const r = cruise(dir);
      assert.notEqual(r.status, 0, r.out);
      assert.match(r.out, /layer-components-imports-upward: defenses\/aggregation\/probe\.ts → src\/cli\/main\.ts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an import cycle fails the check', () => {
    const dir = copyWith({
      'src/core/probe-a.ts': "import { b } from './probe-b.js';\nexport const a = (): number => b() + 1;\n",
      'src/core/probe-b.ts': "import { a } from './probe-a.js';\nexport const b = (): number => (a.length > 0 ? 0 : 1);\n",
    });
    try {
      const r = cruise(dir);
      assert.notEqual(r.status, 0, r.out);
      assert.match(r.out, /no-circular/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a module outside every layer fails the check', () => {
    const dir = copyWith({ 'src/stray.ts': "import { UserError } from './core/errors.js';\nexport const e = new UserError('x');\n" });
    try {
      const r = cruise(dir);
      assert.notEqual(r.status, 0, r.out);
      assert.match(r.out, /unlayered-module: src\/stray\.ts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
