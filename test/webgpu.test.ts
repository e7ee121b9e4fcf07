/**
 * The WebGPU backend (Dawn through the optional `webgpu` package). Runs wherever a Vulkan adapter exists
 * — a GPU, or Mesa's lavapipe software Vulkan (Debian bookworm-backports' Mesa ≥ 25) — and is skipped,
 * with the reason, where none does (CI has no GPU and no lavapipe).
 *
 * What must hold on WebGPU: every gradient check and the PyTorch oracle (`fedattack check`), DLG's
 * L-BFGS trajectory agreeing with cpu's, and a FedAvg round giving cpu's numbers — all without a single
 * synchronous read (tfjs-webgpu cannot read synchronously in Node).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../src/engine/tf.js';
import { startWebgpu } from '../src/engine/webgpu.js';
import { readFlat } from '../src/engine/read.js';
import { loadOracle, oracleProblem } from '../src/verify/oracle.js';
import { disposeParams } from '../src/models/index.js';
import { runChecks } from '../src/cli/commands/check.js';
import { dlg } from '../attacks/leakage/index.js';
import { conv2DBackpropFilterMMKernel } from '../src/engine/kernels/Conv2DBackpropFilterMM.js';
import { addNKernel } from '../src/engine/kernels/AddN.js';
import { replaceKernel } from '../src/engine/kernels/util.js';
import { disposeObservation, victimObservation } from '../attacks/leakage/run.js';

const probe = await startWebgpu({ allowSoftware: true });
const skip = probe.ok ? false : `no WebGPU adapter here (${probe.why})`;
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(path.join(tmpdir(), 'fedattack-webgpu-'));

before(async () => {
  await tf.setBackend('cpu');
});
after(async () => {
  await tf.setBackend('cpu');
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs f on a backend and switches back to cpu. */
async function on<T>(backend: string, f: () => Promise<T>): Promise<T> {
  await tf.setBackend(backend);
  try {
    return await f();
  } finally {
    await tf.setBackend('cpu');
  }
}

/** Runs f with `config` replacing a cpu kernel, then puts the previous kernel back. */
async function withCpuKernel<T>(config: tf.KernelConfig, f: () => Promise<T>): Promise<T> {
  const previous = tf.getKernel(config.kernelName, 'cpu')!;
  replaceKernel(config);
  try {
    return await f();
  } finally {
    replaceKernel(previous);
  }
}

// The WebGPU kernels are compositions of a backend's own kernels: on cpu they must give cpu's results.
describe('WebGPU kernel compositions, on cpu (run everywhere)', () => {
  it('Conv2DBackpropFilter as kh·kw matrix products equals the convolution form', async () => {
    for (const [N, H, ci, co, k, s, pad] of [[2, 9, 3, 4, 5, 2, 'same'], [2, 32, 3, 12, 5, 2, 2], [3, 8, 4, 6, 3, 1, 'same'], [2, 7, 2, 3, 3, 2, 'valid']] as const) {
      const x = tf.randomNormal([N, H, H, ci], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([k, k, ci, co], 0, 1, 'float32', 2) as tf.Tensor4D;
      const y = tf.conv2d(x, w, s, pad);
      const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
      const dw = (): Promise<Float32Array> => {
        const g = tf.tidy(() => tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, ww as tf.Tensor4D, s, pad), dy)))(w));
        return g.data().finally(() => g.dispose()) as Promise<Float32Array>;
      };
      const ref = await dw();
      const ours = await withCpuKernel(conv2DBackpropFilterMMKernel('cpu'), dw);
      let worst = 0;
      ref.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ours[i]!) / (1 + Math.abs(v)))));
      assert.ok(worst < 1e-5, `N=${N} H=${H} k=${k} s=${s} pad=${pad}: rel. error ${worst}`);
      tf.dispose([x, w, y, dy]);
    }
  });

  it('AddN in chunks of at most 7 gives the sum of 1 to 40 tensors, without leaking', async () => {
    const before = tf.memory().numTensors;
    await withCpuKernel(addNKernel('cpu'), async () => {
      for (const n of [1, 2, 7, 8, 15, 40]) {
        const ts = Array.from({ length: n }, (_, i) => tf.fill([3], i + 1));
        const sum = tf.addN(ts);
        assert.deepEqual(Array.from(await sum.data()), [1, 2, 3].map(() => (n * (n + 1)) / 2), `n=${n}`);
        tf.dispose([...ts, sum]);
      }
    });
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('WebGPU backend', { skip }, () => {
  it('reads several tensors back in one transfer, values and order intact', async () => {
    const got = await on('webgpu', async () => {
      const ts = [tf.tensor1d([1, 2, 3]), tf.tensor2d([[4, 5], [6, 7]]), tf.scalar(8)];
      try {
        return Array.from(await readFlat(ts));
      } finally {
        tf.dispose(ts);
      }
    });
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('adds up more tensors than a shader stage may bind (AddN in chunks)', async () => {
    const got = await on('webgpu', async () => {
      const ts = Array.from({ length: 40 }, (_, i) => tf.fill([5], i));
      const s = tf.addN(ts);
      try {
        return Array.from(await s.data());
      } finally {
        tf.dispose([...ts, s]);
      }
    });
    assert.deepEqual(got, Array(5).fill(780));
  });

  it('passes every gradient check and the PyTorch oracle (fedattack check)', async () => {
    const r = await on('webgpu', () => runChecks(0));
    assert.equal(r.backend, 'webgpu');
    const failed = [...r.gradients.filter((g) => !g.pass).map((g) => `${g.name}/${g.order}: ${g.error ?? g.relError}`),
      ...r.oracle.filter((o) => !o.pass).map((o) => `oracle B=${o.batch}`)];
    assert.deepEqual(failed, []);
    assert.ok(r.gradients.length >= 40);
  });

  it('DLG with L-BFGS follows the cpu trajectory over its first steps', async () => {
    const fx = loadOracle(1);
    const run = (backend: string) => on(backend, async () => {
      const { model, params } = oracleProblem(fx);
      const obs = victimObservation(model, params, [Float32Array.from(fx.x_true)], fx.labels);
      try {
        return await dlg.reconstruct(obs, { seed: 0, iterations: 3, init: { x: Float32Array.from(fx.x_dummy), y: Float32Array.from(fx.y_dummy) } });
      } finally {
        disposeObservation(obs);
        disposeParams(params);
      }
    });
    const cpu = await run('cpu');
    const gpu = await run('webgpu');
    assert.equal(gpu.diverged, false);
    assert.equal(gpu.iterations, 3);
    // the matching loss falls from 394 (the oracle's start) by orders of magnitude on both
    assert.ok(gpu.matchingLoss < 100, `webgpu matching loss ${gpu.matchingLoss}`);
    const rel = Math.abs(gpu.matchingLoss - cpu.matchingLoss) / cpu.matchingLoss;
    assert.ok(rel < 0.05, `matching loss webgpu ${gpu.matchingLoss} vs cpu ${cpu.matchingLoss}`);
    // L-BFGS amplifies float32 round-off (the backends sum in different orders): pixels agree on average
    let sum = 0;
    for (let i = 0; i < cpu.images.length; i++) sum += Math.abs(cpu.images[i]! - gpu.images[i]!);
    const mean = sum / cpu.images.length;
    assert.ok(mean < 0.01, `images differ by ${mean} on average`);
  });

  it('a FedAvg run gives the numbers of the cpu backend', () => {
    const args = ['train', '--model', 'mlp', '--clients', '6', '--fraction', '0.5', '--local-epochs', '1', '--rounds', '2',
      '--train-size', '300', '--test-size', '100', '--workers', '1', '--seed', '3'];
    const acc = (backend: string): number[] => {
      const out = path.join(scratch, `train-${backend}`);
      const r = spawnSync(process.execPath, [MAIN, ...args, '--backend', backend, '--out', out], { encoding: 'utf8', timeout: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const m = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')) as { backend: string; rounds: { accuracy: number; loss: number }[] };
      assert.match(JSON.stringify(m), new RegExp(`"${backend}"`));
      return m.rounds.flatMap((x) => [x.accuracy, x.loss]);
    };
    const cpu = acc('cpu');
    const gpu = acc('webgpu');
    assert.equal(gpu.length, cpu.length);
    gpu.forEach((v, i) => assert.ok(Math.abs(v - cpu[i]!) < 1e-3, `value ${i}: webgpu ${v} vs cpu ${cpu[i]}`));
  });
});
