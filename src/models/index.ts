/** The model registry: `createModel(name, options)`. */
import { UserError } from '../core/errors.js';
import { tf } from '../engine/tf.js';
import { cnn } from './cnn.js';
import { convnet } from './convnet.js';
import { lenet } from './lenet.js';
import { mlp } from './mlp.js';
import type { Model, ModelOptions, Params } from './types.js';

export type { Model, ModelOptions, Params, Shape3 } from './types.js';

const MODELS: Record<string, { make: (o: ModelOptions) => Model; about: string }> = {
  lenet: { make: lenet, about: "DLG paper's LeNet: 3 sigmoid 5x5 convs (12 ch), dense; U(-0.5, 0.5) init" },
  mlp: { make: mlp, about: 'McMahan et al. 2NN: 2 hidden layers of 200 ReLU' },
  cnn: { make: cnn, about: 'McMahan et al. CNN: conv32-pool-conv64-pool-dense512' },
  convnet: { make: convnet, about: 'Inverting Gradients ConvNet: 8 conv-BN-ReLU, width 16 (option width)' },
};

export const MODEL_NAMES = Object.keys(MODELS);

export class ModelError extends UserError {}

export function createModel(name: string, opts: ModelOptions): Model {
  const m = MODELS[name];
  if (m === undefined) throw new ModelError(`unknown model '${name}' (known: ${MODEL_NAMES.join(', ')})`);
  const [h, w, c] = opts.inputShape;
  if (![h, w, c, opts.classes].every((v) => Number.isInteger(v) && v > 0)) {
    throw new ModelError(`bad model options: inputShape [${opts.inputShape.join(', ')}], classes ${opts.classes}`);
  }
  return m.make(opts);
}

export function describeModels(): { name: string; about: string }[] {
  return Object.entries(MODELS).map(([name, m]) => ({ name, about: m.about }));
}

/** Number of scalar parameters. */
export function countParams(model: Model): number {
  return model.paramShapes.reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
}

export function disposeParams(p: Params): void {
  tf.dispose(Object.values(p));
}

/** Parameters from flat arrays (e.g. a fixture or a checkpoint), checked against the model's shapes. */
export function paramsFromArrays(model: Model, arrays: Record<string, ArrayLike<number>>): Params {
  const out: Params = {};
  for (const [name, shape] of model.paramShapes) {
    const a = arrays[name];
    const n = shape.reduce((x, y) => x * y, 1);
    if (a === undefined) throw new ModelError(`missing parameter '${name}'`);
    if (a.length !== n) throw new ModelError(`parameter '${name}' has ${a.length} values, expected ${n} for shape [${shape.join(', ')}]`);
    out[name] = tf.tensor(Float32Array.from(a), shape, 'float32');
  }
  return out;
}
