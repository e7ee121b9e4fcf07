/**
 * Inverting Gradients on the ConvNet: the model variants that matter for it and what the objective
 * looks like around the truth (small widths, seconds each, wasm).
 * - convnet layouts: fedattack's (pools after the 4th, 6th, 8th conv; 1x1 final map) and inversefed's
 *   (pools after the 6th and 8th; 3x3 final map, dense layer of 36·width inputs);
 * - batch norm with the batch's statistics makes each sample depend on the batch, 'init' statistics
 *   (PyTorch eval mode of a fresh network, inversefed's model.eval()) do not;
 * - ReLU and max-pooling make the victim's gradient a discontinuous, near-chaotic function of the image (a
 *   perturbation far below one 8-bit grey level turns it by degrees; the objective jumps along a line),
 *   with ELU and average pooling it is smooth, train-mode batch norm at B = 1 included; in eval mode with
 *   PyTorch's default initialisation the gradient vanishes into the last biases;
 * - signed Adam on the cosine objective, started near the truth, moves towards it (PSNR rises);
 * - from a random start, IG reconstructs the image from the smooth convnet and not from the ReLU one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../src/engine/tf.js';
import { selectBackend } from '../src/engine/backend.js';
import { Rng } from '../src/engine/rng.js';
import { createModel, disposeParams, type ModelOptions } from '../src/models/index.js';
import { defaultImage } from '../src/io/scene.js';
import { psnr, ssim } from '../src/metrics/index.js';
import { matchGradients, restoreLabels } from '../attacks/leakage/index.js';
import { cosineDistance, paramGradients } from '../attacks/leakage/objective.js';
import { disposeObservation, victimObservation } from '../attacks/leakage/run.js';
import { oneHot } from '../src/engine/ops.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(path.join(tmpdir(), 'fedattack-leak-ig-'));

before(async () => {
  await selectBackend('wasm');
});
after(() => rmSync(scratch, { recursive: true, force: true }));

function noisy(img: Float32Array, sigma: number, seed: number): Float32Array {
  const n = new Rng(seed).normalArray(img.length);
  return img.map((v, i) => v + sigma * n[i]!);
}

/** 1 − cos between the victim gradients of `a` and `b` (B = 1, label 3). */
function gradientTurn(opts: ModelOptions, a: Float32Array, b: Float32Array): number {
  const model = createModel('convnet', opts);
  const params = model.init(0);
  const [h, w, c] = opts.inputShape;
  try {
    return tf.tidy(() => {
      const t = oneHot([3], opts.classes);
      const ga = paramGradients(model, params, tf.tensor4d(a, [1, h, w, c]), t);
      const gb = paramGradients(model, params, tf.tensor4d(b, [1, h, w, c]), t);
      return cosineDistance(ga, gb).dataSync()[0]!;
    });
  } finally {
    disposeParams(params);
  }
}

describe('convnet variants', () => {
  it("inversefed's layout pools twice (3x3 map, 36·width features), fedattack's three times", () => {
    const f = createModel('convnet', { inputShape: [32, 32, 3], classes: 10, width: 4 });
    const i = createModel('convnet', { inputShape: [32, 32, 3], classes: 10, width: 4, layout: 'inversefed' });
    assert.deepEqual(f.paramShapes.find(([n]) => n === 'fcw')![1], [16, 10]);
    assert.deepEqual(i.paramShapes.find(([n]) => n === 'fcw')![1], [144, 10]);
    assert.throws(() => createModel('convnet', { inputShape: [16, 16, 3], classes: 10 }), /at least 27x27/);
    assert.doesNotThrow(() => createModel('convnet', { inputShape: [16, 16, 3], classes: 10, layout: 'inversefed' }));
  });

  it("'init' batch-norm statistics make samples independent of their batch; 'batch' statistics do not", async () => {
    const imgs = [await defaultImage(0, 27), await defaultImage(1, 27)];
    for (const stats of ['batch', 'init'] as const) {
      const model = createModel('convnet', { inputShape: [27, 27, 3], classes: 5, width: 2, batchNormStats: stats });
      const params = model.init(1);
      const diff = tf.tidy(() => {
        const both = model.apply(params, tf.tensor4d(Float32Array.from([...imgs[0]!, ...imgs[1]!]), [2, 27, 27, 3]));
        const one = model.apply(params, tf.tensor4d(imgs[0]!, [1, 27, 27, 3]));
        return tf.max(tf.abs(tf.sub(tf.slice(both, [0, 0], [1, 5]), one))).dataSync()[0]!;
      });
      disposeParams(params);
      if (stats === 'init') assert.ok(diff < 1e-5, `eval-mode logits differ by ${diff}`);
      else assert.ok(diff > 1e-3, `train-mode logits differ by only ${diff}`);
    }
  });

  it('ReLU and max-pooling make the gradient chaotic in the image; ELU with average pooling is smooth', async () => {
    const img = await defaultImage(0, 32);
    const tiny = noisy(img, 2.5e-4, 7); // 1/16 of an 8-bit grey level
    const shape = { inputShape: [32, 32, 3] as [number, number, number], classes: 10, width: 8 };
    const turn = (o: Partial<ModelOptions>): number => gradientTurn({ ...shape, ...o }, img, tiny);
    // measured (wasm): 6.2e-2, 1.5e-3, 5.4e-4, 6.3e-6 — all four with train-mode batch norm at B = 1
    const reluMax = turn({});
    const eluMax = turn({ activation: 'elu' });
    const reluAvg = turn({ pool: 'avg' });
    const eluAvg = turn({ activation: 'elu', pool: 'avg' });
    assert.ok(reluMax > 5e-3, `relu, max-pool: 1 − cos = ${reluMax}`);
    assert.ok(eluMax > 1e-4 && reluAvg > 1e-4, `one discontinuity left: elu/max ${eluMax}, relu/avg ${reluAvg}`);
    assert.ok(eluAvg < 5e-5, `elu, avg-pool: 1 − cos = ${eluAvg}`);
  });

  it('the ReLU/max-pool objective jumps along a line; the ELU/avg-pool one does not', async () => {
    // f(t) = 1 − cos(g(x + t·d), g(truth)) at 21 points t ∈ [−1e-3, 1e-3] around the truth plus noise;
    // wiggle = Σ|f(t_i+1) − f(t_i)| − |f(end) − f(start)|, relative to f (0 for a monotone f)
    const img = await defaultImage(0, 32);
    const x = noisy(img, 0.05, 3);
    const d = new Rng(10).normalArray(img.length);
    const wiggle = (o: Partial<ModelOptions>): number => {
      const model = createModel('convnet', { inputShape: [32, 32, 3], classes: 10, width: 8, weightInit: 'kaiming', ...o });
      const params = model.init(0);
      try {
        return tf.tidy(() => {
          const t = oneHot([3], 10);
          const truth = paramGradients(model, params, tf.tensor4d(img, [1, 32, 32, 3]), t);
          const f: number[] = [];
          for (let i = -10; i <= 10; i++) {
            const xi = tf.tensor4d(x.map((v, j) => v + 1e-4 * i * d[j]!), [1, 32, 32, 3]);
            f.push(cosineDistance(paramGradients(model, params, xi, t), truth).dataSync()[0]!);
          }
          let path = 0;
          for (let i = 1; i < f.length; i++) path += Math.abs(f[i]! - f[i - 1]!);
          return (path - Math.abs(f[f.length - 1]! - f[0]!)) / f[10]!;
        });
      } finally {
        disposeParams(params);
      }
    };
    const rough = wiggle({});
    const smooth = wiggle({ activation: 'elu', pool: 'avg' });
    assert.ok(rough > 0.02, `relu, max-pool: relative wiggle ${rough}`);
    assert.ok(smooth < 0.005, `elu, avg-pool: relative wiggle ${smooth}`);
  });

  it('eval mode with PyTorch default init: the gradient is almost all in the last layers (vanishing signal)', async () => {
    const model = createModel('convnet', { inputShape: [32, 32, 3], classes: 10, width: 8, batchNormStats: 'init', layout: 'inversefed' });
    const kaiming = createModel('convnet', { inputShape: [32, 32, 3], classes: 10, width: 8, batchNormStats: 'init', layout: 'inversefed', weightInit: 'kaiming' });
    const img = await defaultImage(0, 32);
    const share = (m: typeof model): number => {
      const params = m.init(0);
      const obs = victimObservation(m, params, [img], [3]);
      let total = 0;
      let conv0to3 = 0;
      for (const [n] of m.paramShapes) {
        const s = tf.tidy(() => tf.sum(tf.square(obs.delta[n]!)).dataSync()[0]!);
        total += s;
        if (/^conv[0-3]w$/.test(n)) conv0to3 += s;
      }
      disposeObservation(obs);
      disposeParams(params);
      return conv0to3 / total;
    };
    const dflt = share(model);
    const kai = share(kaiming);
    assert.ok(dflt < 1e-3, `default init: first four conv weights hold ${dflt} of ‖g‖²`);
    assert.ok(kai > 0.02, `Kaiming init: first four conv weights hold ${kai} of ‖g‖²`);
  });
});

describe('Inverting Gradients near the truth', () => {
  it('signed Adam on the cosine objective moves a noisy start towards the truth (eval-mode Kaiming convnet)', async () => {
    const img = await defaultImage(0, 32);
    const model = createModel('convnet', { inputShape: [32, 32, 3], classes: 10, width: 8, layout: 'inversefed', batchNormStats: 'init', weightInit: 'kaiming' });
    const params = model.init(0);
    const obs = victimObservation(model, params, [img], [3]);
    try {
      // start: the truth plus noise of 0.125 (pixels), in IG's normalised space (x − 0.5) / 0.25
      const start = noisy(img, 0.125, 3);
      const startPsnr = psnr(start.map((v) => Math.min(1, Math.max(0, v))), img, 1);
      const r = await restoreLabels(obs);
      const t0 = performance.now();
      const rec = await matchGradients(obs, {
        distance: 'cosine', labels: r.labels, labelMethod: r.method, space: { mean: 0.5, std: 0.25 }, box: true, optimizer: 'adam',
        lr: 0.01, iterations: 150, tv: 0.01, signed: true, lrDecay: true,
      }, { seed: 0, init: { x: start.map((v) => (v - 0.5) / 0.25) } });
      const seconds = (performance.now() - t0) / 1000;
      const end = psnr(rec.images, img, 1);
      assert.ok(end > startPsnr + 0.3, `PSNR ${startPsnr.toFixed(2)} → ${end.toFixed(2)} dB in ${seconds.toFixed(1)} s`);
    } finally {
      disposeObservation(obs);
      disposeParams(params);
    }
  });
});

describe('Inverting Gradients from a random start', () => {
  // The attack as run by `fedattack leak --attack ig` (labels restored from the gradient, random start,
  // signed Adam lr 0.1 with step decay, box; TV 1e-4, inversefed's default), width 4, 120 steps, B = 1,
  // train-mode batch norm.
  const attack = async (o: Partial<ModelOptions>): Promise<{ psnr: number; ssim: number }> => {
    const img = await defaultImage(0, 32);
    const model = createModel('convnet', { inputShape: [32, 32, 3], classes: 10, width: 4, layout: 'inversefed', weightInit: 'kaiming', ...o });
    const params = model.init(0);
    const obs = victimObservation(model, params, [img], [3]);
    try {
      const r = await restoreLabels(obs);
      const rec = await matchGradients(obs, {
        distance: 'cosine', labels: r.labels, labelMethod: r.method, space: { mean: 0.5, std: 0.25 }, box: true, optimizer: 'adam',
        lr: 0.1, iterations: 120, tv: 1e-4, signed: true, lrDecay: true,
      }, { seed: 0 });
      return { psnr: psnr(rec.images, img, 1), ssim: ssim(rec.images, img, 32, 32, 3, { dataRange: 1 }) };
    } finally {
      disposeObservation(obs);
      disposeParams(params);
    }
  };

  it('reconstructs the image from the smooth convnet (ELU, average pooling) but not from ReLU/max-pool', async () => {
    const smooth = await attack({ activation: 'elu', pool: 'avg' });
    const relu = await attack({});
    // measured: elu/avg 11.3 dB, SSIM 0.37 (wasm and cpu); relu/max 8.1 dB, SSIM 0.01–0.03
    assert.ok(smooth.ssim > 0.3 && smooth.psnr > 10.5, `elu/avg: ${smooth.psnr.toFixed(2)} dB, SSIM ${smooth.ssim.toFixed(3)}`);
    assert.ok(relu.ssim < 0.15, `relu/max: ${relu.psnr.toFixed(2)} dB, SSIM ${relu.ssim.toFixed(3)}`);
    assert.ok(smooth.ssim > relu.ssim + 0.2);
  });
});

describe('fedattack leak: convnet variants', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [MAIN, 'leak', '--backend', 'wasm', '--attack', 'ig', '--iterations', '2', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('--bn-stats, --layout, --weight-init, --activation, --pool build the variant and are recorded', () => {
    const out = path.join(scratch, 'variant');
    const r = run(['--model', 'convnet', '--width', '2', '--bn-stats', 'init', '--layout', 'inversefed', '--weight-init', 'kaiming',
      '--activation', 'elu', '--pool', 'avg', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')) as { settings: { variant: unknown } };
    assert.deepEqual(m.settings.variant, { batchNormStats: 'init', layout: 'inversefed', weightInit: 'kaiming', activation: 'elu', pool: 'avg' });
    assert.match(readFileSync(path.join(out, 'report.md'), 'utf8'), /batchNormStats init, layout inversefed, weightInit kaiming, activation elu, pool avg/);
  });

  it('reject bad values and other models with one error line', () => {
    for (const [args, msg] of [
      [['--model', 'convnet', '--layout', 'resnet'], /--layout must be fedattack or inversefed, got 'resnet'/],
      [['--model', 'lenet', '--bn-stats', 'init'], /--bn-stats applies to --model convnet only/],
      [['--model', 'convnet', '--activation', 'gelu'], /--activation must be relu or elu, got 'gelu'/],
      [['--model', 'convnet', '--pool', 'min'], /--pool must be max or avg, got 'min'/],
      [['--model', 'mlp', '--pool', 'avg'], /--pool applies to --model convnet only/],
    ] as [string[], RegExp][]) {
      const out = path.join(scratch, `bad-${args.join('-')}`);
      const r = run([...args, '--out', out]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(existsSync(out), false);
    }
  });
});
