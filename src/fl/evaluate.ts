/**
 * Test accuracy and loss of a model, in batches, on data already on the backend:
 * ```
 *   accuracy = (1/N) Σ_i [argmax f(w, x_i) = y_i]        loss = (1/N) Σ_i CE(f(w, x_i), y_i)
 * ```
 * Per-batch correct counts and loss sums stay on the backend and are read back once at the end.
 * Ties in argmax go to the lowest class index (tf.argMax).
 */
import { tf } from '../engine/tf.js';
import { softCrossEntropy } from '../engine/ops.js';
import type { Model, Params } from '../models/index.js';
import type { DataTensors } from './client.js';

export interface EvalResult {
  accuracy: number;
  loss: number;
  samples: number;
}

/** Evaluates `params` on all of `data` (default batches of 500). */
export async function evaluate(model: Model, params: Params, data: DataTensors, opts: { batchSize?: number } = {}): Promise<EvalResult> {
  const n = data.x.shape[0];
  if (n === 0) return { accuracy: NaN, loss: NaN, samples: 0 };
  const bs = Math.max(1, Math.floor(opts.batchSize ?? 500));
  let correct: tf.Tensor = tf.scalar(0, 'float32');
  let lossSum: tf.Tensor = tf.scalar(0, 'float32');
  try {
    for (let at = 0; at < n; at += bs) {
      const size = Math.min(bs, n - at);
      const prevC = correct;
      const prevL = lossSum;
      [correct, lossSum] = tf.tidy(() => {
        const x = tf.slice(data.x, [at, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
        const y = tf.slice(data.labels, [at], [size]);
        const logits = model.apply(params, x);
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32'));
        const ce = tf.mul(softCrossEntropy(logits, tf.cast(tf.oneHot(y, data.numClasses), 'float32')), size);
        return [tf.add(prevC, hits), tf.add(prevL, ce)];
      });
      prevC.dispose();
      prevL.dispose();
    }
    const [c, l] = await Promise.all([correct.data(), lossSum.data()]);
    return { accuracy: c[0]! / n, loss: l[0]! / n, samples: n };
  } finally {
    correct.dispose();
    lossSum.dispose();
  }
}
