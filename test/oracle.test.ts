/**
 * PyTorch parity: the DLG objective on the DLG paper's LeNet, its value and its gradients w.r.t. the
 * dummy image and dummy label, and the target parameter gradients, against PyTorch float64
 * (../shared/fixtures): ≤ 1e-4 relative on cpu, ≤ 1e-3 on wasm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { tf } from '../src/engine/tf.js';
import { compareWithOracle, loadOracle, packageRoot } from '../src/verify/oracle.js';

const shared = path.resolve(packageRoot(), '..', 'shared', 'fixtures');
const fixture = (b: number): string => path.join(shared, `dlg-lenet-oracle-b${b}.json`);

for (const backend of ['cpu', 'wasm']) {
  for (const b of [1, 4]) {
    test(`DLG objective matches PyTorch on ${backend}, batch ${b}`, { skip: !existsSync(fixture(b)) && 'no ../shared/fixtures' }, async () => {
      await tf.setBackend(backend);
      try {
        const tol = backend === 'cpu' ? 1e-4 : 1e-3;
        const r = await compareWithOracle(loadOracle(fixture(b)));
        assert.ok(r.targetGradRelError <= tol, `target grads ${r.targetGradRelError}`);
        assert.ok(r.objectiveRelError <= tol, `objective ${r.objective} (${r.objectiveRelError})`);
        assert.ok(r.dxRelError <= tol, `d/dx ${r.dxRelError}`);
        assert.ok(r.dyRelError <= tol, `d/dy ${r.dyRelError}`);
        if (b === 1) {
          // the numbers in tfjs-notes.md: objective 394.2359, |d/dx| 72.9019 (stock tfjs gives 1.80)
          assert.ok(Math.abs(r.objective - 394.2359) < 0.05);
          assert.ok(Math.abs(r.dxNorm - 72.9019) < 0.01);
        }
      } finally {
        await tf.setBackend('cpu');
      }
    });
  }
}

test('the shipped oracle copies are the shared fixtures', { skip: !existsSync(fixture(1)) && 'no ../shared/fixtures' }, () => {
  for (const b of [1, 4]) {
    const shipped = gunzipSync(readFileSync(path.join(packageRoot(), 'src', 'verify', 'oracle', `dlg-lenet-oracle-b${b}.json.gz`)));
    assert.ok(shipped.equals(readFileSync(fixture(b))), `b${b} differs`);
  }
});
