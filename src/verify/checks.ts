/**
 * The standard gradient checks of `fedattack check` and the test suite: for every op the models use,
 * a first-order check (the training loss, w.r.t. input, label logits and parameters) and a
 * second-order check (the DLG objective ‖∇θ L − T‖², w.r.t. input and label logits), on a tiny
 * network built around the op; then the four models end to end. See gradcheck.ts for the method.
 */
import { tf } from '../engine/tf.js';
import { readValues } from '../engine/read.js';
import { Rng } from '../engine/rng.js';
import { softCrossEntropy } from '../engine/ops.js';
import type { CheckCase, CheckInput } from './gradcheck.js';
import { createModel, type ModelOptions } from '../models/index.js';

type Net = (p: Record<string, tf.Tensor>, x: tf.Tensor4D) => tf.Tensor;

interface OpSpec {
  name: string;
  xShape: [number, number, number, number];
  params: [string, number[], number][]; // name, shape, std
  net: Net;
  /** Finite-difference step; small for max-pool, whose argmax switches make the objective jump. */
  eps?: number;
  /** Tolerance; 1e-2 where that small step leaves float32 noise of a few 1e-3 (a wrong gradient is off by O(1)). */
  tol?: number;
}

const B = 2;
const CLASSES = 4;

const conv = (s: number, pad: 'same' | 'valid' | number): Net => (p, x) =>
  tf.add(tf.conv2d(x, p['w'] as tf.Tensor4D, s, pad as 'same'), p['b']!);
const convW: [string, number[], number][] = [['w', [3, 3, 3, 4], 0.4], ['b', [4], 0.1]];
const denseW: [string, number[], number][] = [['w', [48, 8], 0.3], ['b', [8], 0.1]];
const dense: Net = (p, x) => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], -1]), p['w'] as tf.Tensor2D), p['b']!);
const act = (f: (t: tf.Tensor) => tf.Tensor): Net => (p, x) => f(dense(p, x));
const pool = (f: (t: tf.Tensor4D) => tf.Tensor): Net => (p, x) => f(conv(1, 'same')(p, x) as tf.Tensor4D);

const small: [number, number, number, number] = [B, 4, 4, 3];
const img: [number, number, number, number] = [B, 7, 7, 3];

export const OP_SPECS: OpSpec[] = [
  { name: 'dense', xShape: small, params: denseW, net: dense },
  { name: 'reshape', xShape: small, params: denseW, net: (p, x) => dense(p, tf.reshape(tf.transpose(x, [0, 2, 1, 3]), x.shape) as tf.Tensor4D) },
  { name: 'conv s1 same', xShape: img, params: convW, net: conv(1, 'same') },
  { name: 'conv s2 same', xShape: img, params: convW, net: conv(2, 'same') },
  { name: 'conv s1 valid', xShape: img, params: convW, net: conv(1, 'valid') },
  { name: 'conv s2 valid', xShape: img, params: convW, net: conv(2, 'valid') },
  { name: 'conv s2 pad 2', xShape: img, params: [['w', [5, 5, 3, 4], 0.3], ['b', [4], 0.1]], net: conv(2, 2) },
  { name: 'sigmoid', xShape: small, params: denseW, net: act(tf.sigmoid) },
  { name: 'relu', xShape: small, params: denseW, net: act(tf.relu) },
  { name: 'tanh', xShape: small, params: denseW, net: act(tf.tanh) },
  { name: 'elu', xShape: small, params: denseW, net: act(tf.elu) },
  { name: 'exp', xShape: small, params: denseW, net: act((t) => tf.exp(tf.mul(t, 0.5))) },
  { name: 'softmax', xShape: small, params: denseW, net: act((t) => tf.softmax(t, -1)) },
  { name: 'pow', xShape: small, params: denseW, net: act((t) => tf.pow(tf.add(tf.square(t), 0.5), tf.mul(t, 0.3))) },
  { name: 'maxPool 2x2/2 valid', xShape: [B, 6, 6, 3], params: convW, net: pool((t) => tf.maxPool(t, 2, 2, 'valid')), eps: 1e-3, tol: 1e-2 },
  { name: 'maxPool 3x3/2 same', xShape: img, params: convW, net: pool((t) => tf.maxPool(t, 3, 2, 'same')), eps: 1e-3, tol: 1e-2 },
  { name: 'avgPool 2x2/2 valid', xShape: [B, 6, 6, 3], params: convW, net: pool((t) => tf.avgPool(t, 2, 2, 'valid')) },
  { name: 'avgPool 3x3/2 same', xShape: img, params: convW, net: pool((t) => tf.avgPool(t, 3, 2, 'same')) },
  {
    name: 'batch-norm moments', xShape: img, params: [...convW, ['g', [4], 0.5], ['be', [4], 0.1]],
    net: (p, x) => {
      const h = conv(1, 'same')(p, x);
      const { mean, variance } = tf.moments(h, [0, 1, 2], true);
      return tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5))), tf.add(p['g']!, 1)), p['be']!);
    },
  },
];

function input(rng: Rng, name: string, shape: number[], std: number): CheckInput {
  return { name, shape, values: rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, std) };
}

/** Parameter gradient of the loss, differentiable (for second-order checks). */
function paramGrads(loss: (ps: tf.Tensor[]) => tf.Scalar, ps: tf.Tensor[]): tf.Tensor[] {
  return tf.grads((...a: tf.Tensor[]) => loss(a))(ps);
}

function sumSquaredDiff(a: tf.Tensor[], b: tf.Tensor[]): tf.Scalar {
  return a.map((g, i) => tf.sum(tf.squaredDifference(g, b[i]!))).reduce((s, t) => tf.add(s, t)) as tf.Scalar;
}

/** First- and second-order cases for one op spec. */
function opCases(spec: OpSpec, seed: number): CheckCase[] {
  const rng = new Rng(seed);
  const feat = tf.tidy(() => {
    const p: Record<string, tf.Tensor> = {};
    for (const [n, s] of spec.params) p[n] = tf.zeros(s);
    return spec.net(p, tf.zeros(spec.xShape) as tf.Tensor4D).size / B;
  });
  const pNames = [...spec.params.map(([n]) => n), 'rw', 'rb'];
  const inputs: CheckInput[] = [
    input(rng, 'x', spec.xShape, 1),
    input(rng, 'y', [B, CLASSES], 1),
    ...spec.params.map(([n, s, std]) => input(rng, n, s, std)),
    input(rng, 'rw', [feat, CLASSES], 0.5),
    input(rng, 'rb', [CLASSES], 0.1),
  ];
  const targets = pNames.map((n) => {
    const inp = inputs.find((i) => i.name === n)!;
    return input(rng, `T_${n}`, inp.shape, 0.05);
  });
  const loss = (t: Record<string, tf.Tensor>, ps: tf.Tensor[]): tf.Scalar => {
    const p: Record<string, tf.Tensor> = {};
    pNames.forEach((n, i) => (p[n] = ps[i]!));
    const h = spec.net(p, t['x'] as tf.Tensor4D);
    const logits = tf.add(tf.matMul(tf.reshape(h, [B, -1]), p['rw'] as tf.Tensor2D), p['rb']!);
    return softCrossEntropy(logits, tf.softmax(t['y']!, -1));
  };
  return [
    {
      name: spec.name, order: 1, inputs, wrt: ['x', 'y', ...pNames], eps: spec.eps, tol: spec.tol,
      fn: (t) => loss(t, pNames.map((n) => t[n]!)),
    },
    {
      name: spec.name, order: 2, inputs: [...inputs, ...targets], wrt: ['x', 'y'], eps: spec.eps, tol: spec.tol,
      fn: (t) => {
        const ps = pNames.map((n) => t[n]!);
        return sumSquaredDiff(paramGrads((a) => loss(t, a), ps), pNames.map((n) => t[`T_${n}`]!));
      },
    },
  ];
}

/**
 * Second-order check of the DLG objective on each full model (small inputs, a few classes). The target
 * gradient is the model's own gradient at a nearby input, so that the objective is small, as near a
 * DLG solution, and float32 finite differences stay accurate.
 */
async function modelCase(name: string, shape: [number, number, number], seed: number, opts: Omit<ModelOptions, 'inputShape' | 'classes'> = {}, eps?: number, tol?: number, variant = ''): Promise<CheckCase> {
  const model = createModel(name, { inputShape: shape, classes: 5, ...opts });
  const names = model.paramShapes.map(([n]) => n);
  const rng = new Rng(seed);
  const inputs: CheckInput[] = [input(rng, 'x', [1, ...shape], 1), input(rng, 'y', [1, 5], 1)];
  const modelGrads = (t: Record<string, tf.Tensor>, ps: tf.Tensor[]): tf.Tensor[] =>
    paramGrads((a) => {
      const p: Record<string, tf.Tensor> = {};
      names.forEach((n, i) => (p[n] = a[i]!));
      return softCrossEntropy(model.apply(p, t['x'] as tf.Tensor4D), tf.softmax(t['y']!, -1));
    }, ps);
  const { ps, gs } = tf.tidy(() => {
    const params = model.init(seed);
    const near: Record<string, tf.Tensor> = {};
    for (const inp of inputs) near[inp.name] = tf.add(tf.tensor(inp.values, inp.shape), tf.mul(0.3, tf.randomNormal(inp.shape, 0, 1, 'float32', seed)));
    const ps = names.map((n) => params[n]!);
    return { ps, gs: modelGrads(near, ps) };
  });
  let pInputs: CheckInput[];
  let targets: CheckInput[];
  try {
    pInputs = await Promise.all(model.paramShapes.map(async ([n, s], i) => ({ name: n, shape: s, values: await readValues(ps[i]!) })));
    targets = await Promise.all(model.paramShapes.map(async ([n, s], i) => ({ name: `T_${n}`, shape: s, values: await readValues(gs[i]!) })));
  } finally {
    tf.dispose([...ps, ...gs]);
  }
  return {
    name: `model ${name}${variant} (DLG objective)`, order: 2, inputs: [...inputs, ...pInputs, ...targets], wrt: ['x', 'y'], eps, tol,
    fn: (t) => sumSquaredDiff(modelGrads(t, names.map((n) => t[n]!)), names.map((n) => t[`T_${n}`]!)),
  };
}

/** Every standard check case: each op at first and second order, then each model. */
export async function standardCases(seed = 7): Promise<CheckCase[]> {
  return [
    ...OP_SPECS.flatMap((s, i) => opCases(s, seed + i)),
    await modelCase('lenet', [16, 16, 3], seed),
    await modelCase('mlp', [6, 6, 1], seed, { width: 16 }),
    await modelCase('cnn', [8, 8, 1], seed, {}, 1e-3, 1e-2),
    await modelCase('convnet', [27, 27, 3], seed, { width: 2, batchNorm: false }, 1e-3, 1e-2),
    // the smooth variant Inverting Gradients is run on (ELU, average pooling, train-mode batch norm)
    await modelCase('convnet', [27, 27, 3], seed, { width: 2, activation: 'elu', pool: 'avg', weightInit: 'kaiming' }, 1e-3, 1e-2, ' elu/avg-pool/BN'),
  ];
}
