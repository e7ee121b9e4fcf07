/**
 * The CNN of McMahan et al. 2017: conv 5x5 C→32 ('same') → ReLU → max-pool 2x2 → conv 5x5 32→64
 * ('same') → ReLU → max-pool 2x2 → flatten → dense 512 → ReLU → dense → classes
 * (1,663,370 parameters on MNIST). PyTorch's default initialisation.
 */
import { tf } from '../engine/tf.js';
import { checkInput, conv, dense, flatten, initParams } from './layers.js';
import type { Model, ModelComponent, ModelOptions, Params } from './types.js';

export function cnn(opts: ModelOptions): Model {
  const [h, w, c] = opts.inputShape;
  const feat = Math.floor(Math.floor(h / 2) / 2) * Math.floor(Math.floor(w / 2) / 2) * 64;
  const paramShapes: [string, number[]][] = [
    ['c1w', [5, 5, c, 32]], ['c1b', [32]],
    ['c2w', [5, 5, 32, 64]], ['c2b', [64]],
    ['d1w', [feat, 512]], ['d1b', [512]],
    ['d2w', [512, opts.classes]], ['d2b', [opts.classes]],
  ];
  const fanIn = { c1w: 25 * c, c1b: 25 * c, c2w: 25 * 32, c2b: 25 * 32, d1w: feat, d1b: feat, d2w: 512, d2b: 512 };
  return {
    name: 'cnn',
    inputShape: opts.inputShape,
    classes: opts.classes,
    paramShapes,
    init: (seed: number): Params => initParams(paramShapes.map(([n, s]) => [n, s, { kind: 'torch-default' }]), seed, fanIn),
    apply: (p: Params, x: tf.Tensor4D): tf.Tensor2D => {
      checkInput('cnn', opts.inputShape, x);
      let y = tf.maxPool(tf.relu(conv(p, 'c1', x, 1, 'same')), 2, 2, 'valid');
      y = tf.maxPool(tf.relu(conv(p, 'c2', y, 1, 'same')), 2, 2, 'valid');
      return dense(p, 'd2', tf.relu(dense(p, 'd1', flatten(y))));
    },
  };
}

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const cnnModel: ModelComponent = {
  name: 'cnn',
  summary: 'McMahan et al. CNN: conv32-pool-conv64-pool-dense512',
  params: {},
  build: (_values, ctx) => cnn(ctx),
};
