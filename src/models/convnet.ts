/**
 * The CIFAR-style ConvNet that Inverting Gradients (Geiping et al. 2020, inversefed's `ConvNet`)
 * attacks: eight 3x3 convolutions ('same'), each followed by batch normalisation and ReLU, widths
 * w, 2w, 2w, 4w | 4w, 4w | 4w, 4w with a 3x3/3 max-pool after the 4th, 6th and 8th, then a dense layer
 * to the classes. Width w defaults to 16 (inversefed used 64; pass width for that) to keep CPU runs
 * practical. Batch normalisation uses the batch's statistics (PyTorch's train mode, what a client
 * training the model computes) by default; batchNormStats: 'init' gives PyTorch's eval mode of a freshly
 * initialised network (running mean 0, variance 1, so BN is the affine map γ·x/√(1+ε) + β, γ and β still
 * parameters with gradients) — the setting of the Inverting Gradients experiments (inversefed calls
 * model.eval() on its untrained ConvNet); batchNorm: false drops it. PyTorch's default initialisation;
 * BN γ = 1, β = 0. ReLU and max-pooling by default; `activation: 'elu'` and `pool: 'avg'` give the smooth
 * variant on which Inverting Gradients reconstructs recognisable images on a CPU budget (README).
 *
 * Declared options (convnetModel; defaults): width 16, batchNorm true, batchNormStats batch, layout
 * fedattack, weightInit torch-default, activation relu, pool max.
 */
import { tf } from '../engine/tf.js';
import { batchNorm, checkInput, conv, dense, flatten, initParams, param, type Init } from './layers.js';
import type { Model, ModelComponent, ModelOptions, Params } from './types.js';

export function convnet(opts: ModelOptions): Model {
  const [h, w, c] = opts.inputShape;
  const k = opts.width ?? 16;
  const bn = opts.batchNorm ?? true;
  const bnStats = opts.batchNormStats ?? 'batch';
  const evalScale = 1 / Math.sqrt(1 + 1e-5);
  /** Eval-mode batch norm of a fresh network (running mean 0, variance 1, PyTorch's ε = 1e-5). */
  const bnInit = (p: Params, name: string, y: tf.Tensor4D): tf.Tensor4D =>
    tf.add(tf.mul(y, tf.mul(param(p, `${name}g`), evalScale)), param(p, `${name}b`)) as tf.Tensor4D;
  const widths = [k, 2 * k, 2 * k, 4 * k, 4 * k, 4 * k, 4 * k, 4 * k];
  const layout = opts.layout ?? 'fedattack';
  const elu = (opts.activation ?? 'relu') === 'elu';
  const avg = (opts.pool ?? 'max') === 'avg';
  const poolAfter = new Set(layout === 'inversefed' ? [5, 7] : [3, 5, 7]);
  let hh = h;
  let ww = w;
  for (let i = 0; i < poolAfter.size; i++) {
    hh = Math.floor((hh - 3) / 3) + 1;
    ww = Math.floor((ww - 3) / 3) + 1;
  }
  if (hh < 1 || ww < 1) throw new Error(`convnet needs inputs of at least ${3 ** poolAfter.size}x${3 ** poolAfter.size}, got ${h}x${w}`);
  const feat = hh * ww * 4 * k;
  const shapes: [string, number[], Init][] = [];
  const fanIn: Record<string, number> = {};
  let cin = c;
  widths.forEach((cout, i) => {
    const wInit: Init = opts.weightInit === 'kaiming' ? { kind: 'uniform', bound: Math.sqrt(6 / (9 * cin)) } : { kind: 'torch-default' };
    shapes.push([`conv${i}w`, [3, 3, cin, cout], wInit], [`conv${i}b`, [cout], { kind: 'torch-default' }]);
    fanIn[`conv${i}w`] = fanIn[`conv${i}b`] = 9 * cin;
    if (bn) shapes.push([`bn${i}g`, [cout], { kind: 'const', value: 1 }], [`bn${i}b`, [cout], { kind: 'const', value: 0 }]);
    cin = cout;
  });
  shapes.push(['fcw', [feat, opts.classes], { kind: 'torch-default' }], ['fcb', [opts.classes], { kind: 'torch-default' }]);
  fanIn['fcw'] = fanIn['fcb'] = feat;
  return {
    name: 'convnet',
    inputShape: opts.inputShape,
    classes: opts.classes,
    paramShapes: shapes.map(([n, s]) => [n, s]),
    init: (seed: number): Params => initParams(shapes, seed, fanIn),
    apply: (p: Params, x: tf.Tensor4D): tf.Tensor2D => {
      checkInput('convnet', opts.inputShape, x);
      let y = x;
      for (let i = 0; i < widths.length; i++) {
        y = conv(p, `conv${i}`, y, 1, 'same');
        if (bn) y = bnStats === 'batch' ? batchNorm(p, `bn${i}`, y) : bnInit(p, `bn${i}`, y);
        y = elu ? tf.elu(y) : tf.relu(y);
        if (poolAfter.has(i)) y = avg ? tf.avgPool(y, 3, 3, 'valid') : tf.maxPool(y, 3, 3, 'valid');
      }
      return dense(p, 'fc', flatten(y));
    },
  };
}

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const convnetModel: ModelComponent = {
  name: 'convnet',
  summary: 'Inverting Gradients ConvNet: 8 conv-BN-ReLU, width 16',
  params: {
    width: { type: 'int', min: 1, default: 16, description: 'width multiplier k (channels k, 2k, 4k); inversefed used 64' },
    batchNorm: { type: 'boolean', default: true, description: 'batch normalisation after every convolution' },
    batchNormStats: { type: 'string', choices: ['batch', 'init'], default: 'batch', description: "batch: train mode; init: eval mode of a fresh network (inversefed's model.eval())" },
    layout: { type: 'string', choices: ['fedattack', 'inversefed'], default: 'fedattack', description: 'fedattack: 3 pools (1x1 map); inversefed: 2 pools (3x3 map), the authors\' ConvNet' },
    weightInit: { type: 'string', choices: ['torch-default', 'kaiming'], default: 'torch-default', description: 'conv weights: U(±1/√fan_in) or U(±√(6/fan_in)) (ReLU gain)' },
    activation: { type: 'string', choices: ['relu', 'elu'], default: 'relu', description: 'after every convolution; elu is smooth' },
    pool: { type: 'string', choices: ['max', 'avg'], default: 'max', description: '3x3 stride-3 pooling' },
  },
  build: (v, ctx) =>
    convnet({
      ...ctx,
      width: v['width'] as number,
      batchNorm: v['batchNorm'] as boolean,
      batchNormStats: v['batchNormStats'] as ModelOptions['batchNormStats'],
      layout: v['layout'] as ModelOptions['layout'],
      weightInit: v['weightInit'] as ModelOptions['weightInit'],
      activation: v['activation'] as ModelOptions['activation'],
      pool: v['pool'] as ModelOptions['pool'],
    }),
};
