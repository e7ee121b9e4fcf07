/**
 * LeNet of the DLG paper (Zhu, Liu, Han, NeurIPS 2019; mit-han-lab/dlg):
 *   conv 5x5 C→12 stride 2 pad 2 → sigmoid → conv 5x5 12→12 stride 2 pad 2 → sigmoid →
 *   conv 5x5 12→12 stride 1 pad 2 → sigmoid → flatten (h, w, c) → dense → classes.
 * Every weight and bias ~ U(−0.5, 0.5). Smooth (sigmoid) activations are what make DLG work so well
 * on it. 32x32x3 → 768 features; 28x28x1 → 588. Padding is symmetric 2 as in PyTorch (not TF 'same').
 */
import { tf } from '../engine/tf.js';
import { checkInput, conv, dense, flatten, initParams, outSize } from './layers.js';
import type { Model, ModelComponent, ModelOptions, Params } from './types.js';

export function lenet(opts: ModelOptions): Model {
  const [h, w, c] = opts.inputShape;
  const h3 = outSize(outSize(h, 5, 2, 2), 5, 2, 2);
  const w3 = outSize(outSize(w, 5, 2, 2), 5, 2, 2);
  const feat = h3 * w3 * 12;
  const paramShapes: [string, number[]][] = [
    ['c1w', [5, 5, c, 12]], ['c1b', [12]],
    ['c2w', [5, 5, 12, 12]], ['c2b', [12]],
    ['c3w', [5, 5, 12, 12]], ['c3b', [12]],
    ['fw', [feat, opts.classes]], ['fb', [opts.classes]],
  ];
  return {
    name: 'lenet',
    inputShape: opts.inputShape,
    classes: opts.classes,
    paramShapes,
    init: (seed: number): Params =>
      initParams(paramShapes.map(([n, s]) => [n, s, { kind: 'uniform', bound: 0.5 }]), seed, {}),
    apply: (p: Params, x: tf.Tensor4D): tf.Tensor2D => {
      checkInput('lenet', opts.inputShape, x);
      let y = tf.sigmoid(conv(p, 'c1', x, 2, 2));
      y = tf.sigmoid(conv(p, 'c2', y, 2, 2));
      y = tf.sigmoid(conv(p, 'c3', y, 1, 2));
      return dense(p, 'f', flatten(y));
    },
  };
}

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const lenetModel: ModelComponent = {
  name: 'lenet',
  summary: "DLG paper's LeNet: 3 sigmoid 5x5 convs (12 ch), dense; U(-0.5, 0.5) init",
  params: {},
  build: (_values, ctx) => lenet(ctx),
};
