/**
 * The PyTorch oracle for the DLG objective (float64, PyTorch 1.13, the DLG paper's LeNet): stored
 * parameters, a true image and label, a dummy image and label logits, and PyTorch's target gradients,
 * objective value and its gradients w.r.t. the dummy image and label. fedattack ships gzipped copies
 * of `shared/fixtures/dlg-lenet-oracle-b{1,4}.json` (byte-identical once unzipped; a test checks it)
 * so that `fedattack check` works anywhere.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { createModel, disposeParams, paramsFromArrays, type Model, type Params } from '../models/index.js';
import { dlgObjective, paramGradients } from '../../attacks/leakage/objective.js';
import { oneHot } from '../engine/ops.js';
import { readFlat, readScalar, readValues } from '../engine/read.js';

export interface OracleFixture {
  B: number;
  params: Record<string, number[]>;
  x_true: number[];
  labels: number[];
  x_dummy: number[];
  y_dummy: number[];
  about: string;
  oracle: {
    loss_true: number;
    target_grads: Record<string, number[]>;
    objective_at_dummy: number;
    d_objective_d_x_dummy: number[];
    d_objective_d_y_dummy: number[];
  };
}

/** Root of the fedattack package (holds src/, package.json), from both src/ and dist/src/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'fedattack') return dir;
    } catch {
      // keep looking upwards
    }
    dir = path.dirname(dir);
  }
  throw new Error('cannot locate the fedattack package root');
}

/** Loads an oracle: a plain .json file path, or the shipped copy for batch size 1 or 4. */
export function loadOracle(which: 1 | 4 | string): OracleFixture {
  const file = typeof which === 'string' ? which : path.join(packageRoot(), 'src', 'verify', 'oracle', `dlg-lenet-oracle-b${which}.json.gz`);
  const raw = readFileSync(file);
  return JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as OracleFixture;
}

export interface OracleComparison {
  batch: number;
  /** Relative errors ‖ours − torch‖ / ‖torch‖. */
  targetGradRelError: number;
  objectiveRelError: number;
  dxRelError: number;
  dyRelError: number;
  objective: number;
  dxNorm: number;
  ms: number;
}

function relNormError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-30);
}

/** The fixture's problem on the current backend: LeNet 32x32x3 → 100 with its parameters. */
export function oracleProblem(fx: OracleFixture): { model: Model; params: Params } {
  const model = createModel('lenet', { inputShape: [32, 32, 3], classes: 100 });
  return { model, params: paramsFromArrays(model, fx.params) };
}

/** Computes target gradients, the DLG objective and its gradients and compares them with PyTorch. */
export async function compareWithOracle(fx: OracleFixture): Promise<OracleComparison> {
  const t0 = performance.now();
  const { model, params } = oracleProblem(fx);
  const B = fx.B;
  const { target, value, grads } = tf.tidy(() => {
    const xTrue = tf.tensor4d(fx.x_true, [B, 32, 32, 3]);
    const target = paramGradients(model, params, xTrue, oneHot(fx.labels, 100));
    const xd = tf.tensor4d(fx.x_dummy, [B, 32, 32, 3]);
    const yd = tf.tensor2d(fx.y_dummy, [B, 100]);
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) =>
      dlgObjective(model, params, target, x as tf.Tensor4D, y))([xd, yd]);
    return { target, value, grads };
  });
  try {
    const names = model.paramShapes.map(([n]) => n);
    const ours = await readFlat(target);
    const torch = names.flatMap((n) => fx.oracle.target_grads[n]!);
    const objective = await readScalar(value);
    const dx = await readValues(grads[0]!);
    const dy = await readValues(grads[1]!);
    return {
      batch: B,
      targetGradRelError: relNormError(ours, torch),
      objectiveRelError: Math.abs(objective - fx.oracle.objective_at_dummy) / Math.abs(fx.oracle.objective_at_dummy),
      dxRelError: relNormError(dx, fx.oracle.d_objective_d_x_dummy),
      dyRelError: relNormError(dy, fx.oracle.d_objective_d_y_dummy),
      objective,
      dxNorm: Math.sqrt(Array.from(dx).reduce((s, v) => s + v * v, 0)),
      ms: performance.now() - t0,
    };
  } finally {
    tf.dispose([...target, value, ...grads]);
    disposeParams(params);
  }
}
