/** Building blocks shared by the models: parameter initialisation and a few functional layers. */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { convBias } from '../engine/ops.js';
import type { Params } from './types.js';

export type Init = { kind: 'uniform'; bound: number } | { kind: 'torch-default' } | { kind: 'const'; value: number };

/**
 * Draws parameters for the given shapes. 'torch-default' is PyTorch's default for Linear/Conv2d
 * weights and biases: U(−1/√fan_in, 1/√fan_in), fan_in = product of all dims but the last (our
 * layouts are [in, out] and [kh, kw, in, out]).
 */
export function initParams(shapes: [string, number[], Init][], seed: number, fanIn: Record<string, number>): Params {
  const rng = new Rng(seed);
  const out: Params = {};
  for (const [name, shape, init] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (init.kind === 'uniform') values = rng.uniformArray(n, -init.bound, init.bound);
    else if (init.kind === 'const') values = new Float32Array(n).fill(init.value);
    else {
      const fi = fanIn[name];
      if (fi === undefined) throw new Error(`no fan-in for ${name}`);
      const b = 1 / Math.sqrt(fi);
      values = rng.uniformArray(n, -b, b);
    }
    out[name] = tf.tensor(values, shape, 'float32');
  }
  return out;
}

export function param(p: Params, name: string): tf.Tensor {
  const t = p[name];
  if (t === undefined) throw new Error(`missing parameter '${name}'`);
  return t;
}

/** conv2d + bias, NHWC, filter [kh, kw, in, out] (one fused dispatch on cpu and wasm). */
export function conv(p: Params, name: string, x: tf.Tensor4D, stride: number, pad: 'same' | 'valid' | number): tf.Tensor4D {
  return convBias(x, param(p, `${name}w`) as tf.Tensor4D, param(p, `${name}b`), stride, pad);
}

/** x·W + b, W [in, out]. */
export function dense(p: Params, name: string, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, param(p, `${name}w`) as tf.Tensor2D), param(p, `${name}b`)) as tf.Tensor2D;
}

/** Batch normalisation with the batch's own statistics over (N, H, W), as a network in train mode. */
export function batchNorm(p: Params, name: string, x: tf.Tensor4D, eps = 1e-5): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2], true);
  const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(xhat, param(p, `${name}g`)), param(p, `${name}b`)) as tf.Tensor4D;
}

export function flatten(x: tf.Tensor): tf.Tensor2D {
  return tf.reshape(x, [x.shape[0]!, -1]) as tf.Tensor2D;
}

/** Output size of a conv/pool with numeric symmetric padding, floor rounding (PyTorch's rule). */
export function outSize(n: number, k: number, stride: number, pad: number): number {
  return Math.floor((n + 2 * pad - k) / stride) + 1;
}

export function checkInput(name: string, expected: number[], x: tf.Tensor): void {
  const s = x.shape;
  if (s.length !== 4 || s[1] !== expected[0] || s[2] !== expected[1] || s[3] !== expected[2]) {
    throw new Error(`${name} expects input [B, ${expected.join(', ')}], got [${s.join(', ')}]`);
  }
}
