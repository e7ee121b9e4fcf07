/**
 * A per-image leakage batch (`fedattack leak --each`): every image is its own victim (B = 1, its own
 * label) — the harness's FedSGD client on a batch of one — attacked with the usual restarts one after
 * another; the images are spread over worker threads. Each image's usual outputs ({@link runLeakage}'s)
 * go to OUT/<index>-<name>/, and summary.json ({@link LeakageBatchSummary}) and report.md/html to OUT.
 * Every image's result is a function of its inputs alone, so nothing depends on the worker count.
 * `shouldStop` (Ctrl-C) stops after the current images; the summary covers the images attacked.
 */
import path from 'node:path';
import { disposeParams } from '../models/index.js';
import { mean, median } from '../metrics/index.js';
import { scoreReconstruction } from '../metrics/reconstruction.js';
import { disposeObservation, runAttack, victimObservation, type AttackRun } from '../../attacks/leakage/run.js';
import {
  attackRunOptions, fmt, leakageMetrics, modelSpec, prepareLeakage, resolveWorkers, settingsRecord, SUCCESS_DB, workersLine, writeBatchSummary,
  writeLeakageOutputs, type LeakageBatchImage, type LeakageBatchSummary, type LeakageRunContext, type LeakageSettings, type ResolvedLeakageSettings,
} from './leakage.js';

/** The result of {@link runLeakageBatch}: summary.json's content, every file written, the directory. */
export interface LeakageBatchResult {
  summary: LeakageBatchSummary;
  files: string[];
  outDir: string;
}

/** Folder of image i (0-based) under --out: 01-cat, 02-dog, ... */
function eachDir(i: number, n: number, source: string): string {
  const base = source.replace(/^built-in: /, '').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '_') || 'image';
  return `${String(i + 1).padStart(String(n).length, '0')}-${base}`;
}

/**
 * Attacks every image of the settings on its own (see the file header) and writes the outputs; `each`
 * is implied. Settings errors are {@link UserError}s of one line.
 */
export async function runLeakageBatch(settings: LeakageSettings, ctx: LeakageRunContext = {}): Promise<LeakageBatchResult> {
  const log = ctx.log ?? ((): void => {});
  const stopped = ctx.shouldStop ?? ((): boolean => false);
  const { s, model, images, sources, choice } = await prepareLeakage({ ...settings, each: true }, ctx);
  const n = images.length;
  const workers = resolveWorkers(s.workers, choice.name, n);
  log(workersLine(workers, s.workers, choice.name, 'images'));
  ctx.onStart?.({ attack: s.attack.name, restarts: n, iterations: s.iterations, workers });
  log(`${s.attack.name} on ${model.name} (${s.shape.join('x')}, ${s.classes} classes), ${n} image${n === 1 ? '' : 's'} one by one (B = 1), ${s.optimizer}, ${s.iterations} steps × ${s.restarts} restart${s.restarts === 1 ? '' : 's'}, seed ${s.seed}`);
  const t0 = performance.now();
  const files: string[] = [];
  const params = model.init(s.seed);
  const rows: (LeakageBatchImage | null)[] = images.map(() => null);
  const settingsOf = (i: number): ResolvedLeakageSettings => ({
    ...s, files: s.files === null ? null : [s.files[i]!], batch: 1, labels: [s.labels[i]!], out: path.join(s.out, eachDir(i, n, sources[i]!)),
  });
  let finished = 0;
  // outputs are written as each image finishes, one at a time
  let writing: Promise<void> = Promise.resolve();
  const finish = (i: number, run: AttackRun): Promise<void> => {
    writing = writing.then(async () => {
      const si = settingsOf(i);
      const score = scoreReconstruction(run.reconstruction, { images: [images[i]!], labels: si.labels }, s.shape);
      const metrics = leakageMetrics(si, model, choice, run, score, [sources[i]!]);
      files.push(...await writeLeakageOutputs(si, metrics, score, [images[i]!], run.reconstruction.images, run.reconstruction.snapshots, [sources[i]!]));
      const p = score.perImage[0]!;
      rows[i] = {
        index: i + 1, source: sources[i]!, dir: path.basename(si.out), trueLabel: p.trueLabel, predictedLabel: p.predictedLabel,
        labelRight: p.trueLabel === p.predictedLabel, psnr: p.psnr, ssim: p.ssim, mse: p.mse, matchingLoss: run.reconstruction.matchingLoss,
        seconds: run.seconds, evaluations: run.evaluations, restartsRun: new Set(run.attempts.map((x) => x.restart)).size,
        diverged: run.allDiverged, interrupted: run.interrupted,
      };
      finished++;
      log(`image ${i + 1}/${n} ${sources[i]}: PSNR ${fmt(p.psnr)} dB, SSIM ${fmt(p.ssim, 3)}, label ${p.predictedLabel} (${p.trueLabel === p.predictedLabel ? 'right' : `true ${p.trueLabel}`}), ${run.evaluations} evaluations in ${fmt(run.seconds, 1)} s (${finished}/${n} done)${run.interrupted ? ' — interrupted' : ''}`);
    });
    return writing;
  };
  try {
    if (workers === 1) {
      for (let i = 0; i < n && !stopped(); i++) {
        const obs = victimObservation(model, params, [images[i]!], [s.labels[i]!]);
        let run: AttackRun;
        try {
          run = await runAttack(s.attack, obs, { ...attackRunOptions(s), shouldStop: stopped });
        } finally {
          disposeObservation(obs);
        }
        await finish(i, run);
      }
    } else {
      const { LeakPool, attacksInWorkers, toWire } = await import('../../attacks/leakage/parallel.js');
      const items = [];
      for (let i = 0; i < n; i++) {
        const obs = victimObservation(model, params, [images[i]!], [s.labels[i]!]);
        try {
          items.push({ obs: await toWire(obs), opts: attackRunOptions(s) });
        } finally {
          disposeObservation(obs);
        }
      }
      const pool = await LeakPool.start(workers);
      try {
        await attacksInWorkers(pool, s.attack, modelSpec(s), items, { shouldStop: stopped, onDone: (i, run) => finish(i, run) });
      } finally {
        await pool.close();
      }
    }
    await writing;
  } finally {
    disposeParams(params);
  }
  const done = rows.filter((r): r is LeakageBatchImage => r !== null);
  const interrupted = done.length < n || done.some((r) => r.interrupted);
  const summary: LeakageBatchSummary = {
    command: 'leak --each', attack: s.attack.name, model: model.name, backend: choice.name, backendDetail: choice.detail, seed: s.seed, workers,
    seconds: (performance.now() - t0) / 1000, interrupted, successDb: SUCCESS_DB, attacked: done.length, requested: n,
    successRate: done.length === 0 ? NaN : done.filter((r) => r.psnr >= SUCCESS_DB).length / done.length,
    meanPsnr: mean(done.map((r) => r.psnr)), medianPsnr: median(done.map((r) => r.psnr)),
    meanSsim: mean(done.map((r) => r.ssim)), medianSsim: median(done.map((r) => r.ssim)),
    labelAccuracy: done.length === 0 ? NaN : done.filter((r) => r.labelRight).length / done.length,
    evaluations: done.reduce((t, r) => t + r.evaluations, 0),
    settings: settingsRecord({ ...s, batch: 1 }),
    images: done,
  };
  files.push(...await writeBatchSummary(s, summary));
  return { summary, files, outDir: s.out };
}
