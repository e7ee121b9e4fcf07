/**
 * The "2NN" of McMahan et al. 2017 (Communication-Efficient Learning of Deep Networks from
 * Decentralized Data): flatten → dense 200 → ReLU → dense 200 → ReLU → dense → classes
 * (199,210 parameters on MNIST). PyTorch's default initialisation. Declared option: width (hidden units,
 * default 200).
 */
import { tf } from '../engine/tf.js';
import { checkInput, dense, flatten, initParams } from './layers.js';
import type { Model, ModelComponent, ModelOptions, Params } from './types.js';

export function mlp(opts: ModelOptions): Model {
  const inDim = opts.inputShape.reduce((a, b) => a * b, 1);
  const hidden = opts.width ?? 200;
  const paramShapes: [string, number[]][] = [
    ['d1w', [inDim, hidden]], ['d1b', [hidden]],
    ['d2w', [hidden, hidden]], ['d2b', [hidden]],
    ['d3w', [hidden, opts.classes]], ['d3b', [opts.classes]],
  ];
  const fanIn = { d1w: inDim, d1b: inDim, d2w: hidden, d2b: hidden, d3w: hidden, d3b: hidden };
  return {
    name: 'mlp',
    inputShape: opts.inputShape,
    classes: opts.classes,
    paramShapes,
    init: (seed: number): Params => initParams(paramShapes.map(([n, s]) => [n, s, { kind: 'torch-default' }]), seed, fanIn),
    apply: (p: Params, x: tf.Tensor4D): tf.Tensor2D => {
      checkInput('mlp', opts.inputShape, x);
      let y = tf.relu(dense(p, 'd1', flatten(x)));
      y = tf.relu(dense(p, 'd2', y));
      return dense(p, 'd3', y);
    },
  };
}

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const mlpModel: ModelComponent = {
  name: 'mlp',
  summary: 'McMahan et al. 2NN: 2 hidden layers of 200 ReLU',
  params: {
    width: { type: 'int', min: 1, default: 200, description: 'units of each hidden layer' },
  },
  build: (v, ctx) => mlp({ ...ctx, width: v['width'] as number }),
};
