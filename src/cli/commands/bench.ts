/**
 * `fedattack bench` (also `npm run bench`): the standard speed numbers, per backend, in one run.
 * Now: ms per DLG objective + gradient evaluation on the DLG LeNet (32x32x3 → 100) at batch 1/4/8,
 * against PyTorch 1.13 CPU, 1 thread, measured on this machine type (shared/docs/references.md).
 */
import type { Argv } from 'yargs';
import { tf } from '../../engine/tf.js';
import { selectBackend } from '../../engine/backend.js';
import { createModel, disposeParams } from '../../models/index.js';
import { dlgObjective, paramGradients } from '../../../attacks/leakage/objective.js';
import { oneHot } from '../../engine/ops.js';
import { readFlat } from '../../engine/read.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { markdownTable, writeReport } from '../../io/report.js';
import { outDir, withCommonOptions, type CommonArgs } from '../options.js';
import { UserError } from '../errors.js';

/** PyTorch 1.13 CPU, 1 thread, this machine type: ms per DLG objective+gradient (references.md). */
export const TORCH_DLG_MS: Record<number, number> = { 1: 1.6, 4: 3.3, 8: 5.3 };

export interface DlgTiming { backend: string; batch: number; msPerEval: number; evals: number; torchMs: number; ratio: number }

/** Median ms of one DLG objective+gradient evaluation (LeNet, 100 classes) on the current backend. */
export async function timeDlgEvaluation(batch: number, opts: { minEvals?: number; minMs?: number } = {}): Promise<{ median: number; evals: number }> {
  const model = createModel('lenet', { inputShape: [32, 32, 3], classes: 100 });
  const params = model.init(1);
  const target = tf.tidy(() => paramGradients(model, params, tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D,
    oneHot(Array.from({ length: batch }, (_, i) => i), 100)));
  const x = tf.variable(tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 3));
  const y = tf.variable(tf.randomNormal([batch, 100], 0, 1, 'float32', 4));
  // one evaluation as the attack does it: objective and gradients, read back to the host
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const out = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => dlgObjective(model, params, target, a as tf.Tensor4D, b))([x, y]);
      return [value, ...grads];
    });
    try {
      await readFlat(out);
    } finally {
      tf.dispose(out);
    }
    return performance.now() - t0;
  };
  try {
    for (let i = 0; i < 5; i++) await once();
    const times: number[] = [];
    const start = performance.now();
    while (times.length < (opts.minEvals ?? 30) || performance.now() - start < (opts.minMs ?? 1500)) times.push(await once());
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(times.length / 2)]!, evals: times.length };
  } finally {
    tf.dispose([x, y, ...target]);
    disposeParams(params);
  }
}

export function benchCommand(y: Argv): Argv {
  return y.command(
    'bench',
    'benchmark DLG objective+gradient evaluations per backend (vs PyTorch reference numbers)',
    (b) => withCommonOptions(b)
      .option('backends', { type: 'string', default: 'cpu,wasm', describe: 'comma-separated backends to time' })
      .option('batches', { type: 'string', default: '1,4,8', describe: 'comma-separated batch sizes' }),
    async (argv) => {
      const a = argv as unknown as CommonArgs & { backends: string; batches: string };
      const batches = a.batches.split(',').map((s) => Number(s.trim()));
      if (batches.some((b) => !Number.isInteger(b) || b < 1 || b > 64)) throw new UserError(`--batches must be integers in 1..64, got '${a.batches}'`);
      const dir = outDir('bench', a.out);
      const rows: DlgTiming[] = [];
      for (const name of a.backends.split(',').map((s) => s.trim())) {
        const choice = await selectBackend(name);
        for (const batch of batches) {
          const { median, evals } = await timeDlgEvaluation(batch);
          const torchMs = TORCH_DLG_MS[batch] ?? NaN;
          const r = { backend: choice.name, batch, msPerEval: median, evals, torchMs, ratio: median / torchMs };
          rows.push(r);
          if (!a.json) {
            process.stdout.write(`DLG LeNet B=${batch} on ${choice.name}: ${median.toFixed(2)} ms/eval (median of ${evals})` +
              (Number.isFinite(torchMs) ? `, ${r.ratio.toFixed(2)}x PyTorch 1-thread reference (${torchMs} ms, references.md)\n` : '\n'));
          }
        }
      }
      const result = { dlgLenet: rows, reference: 'PyTorch 1.13 CPU 1 thread on this machine type, from shared/docs/references.md (not re-measured in this run)' };
      await writeJsonAtomic(`${dir}/bench.json`, result);
      await writeReport(dir, {
        title: 'fedattack bench',
        sections: [{
          heading: 'DLG objective + gradient, LeNet 32x32x3 → 100',
          text: 'Median milliseconds per evaluation (the DLG objective and its gradient w.r.t. dummy image and label). Ratios are against PyTorch 1.13 CPU, 1 thread, measured on this machine type (references.md), not re-measured in this run.',
          table: { headers: ['backend', 'batch', 'ms/eval', 'PyTorch ms', 'ratio'], rows: rows.map((r) => [r.backend, r.batch, r.msPerEval.toFixed(2), r.torchMs, r.ratio.toFixed(2)]) },
        }],
      });
      if (a.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(`report: ${dir}/report.md\n${markdownTable(['backend', 'batch', 'ms/eval', 'ratio'], rows.map((r) => [r.backend, r.batch, r.msPerEval.toFixed(2), r.ratio.toFixed(2)]))}\n`);
    },
  );
}
