/**
 * A leakage run: one gradient-leakage attack on one client's batch, end to end.
 *
 *   victim:  images (`image` files or the built-in scenes) + labels (default 0, 1, 2, ...) → the harness's
 *            FedSGD client (src/fl/client.ts): the gradient of the batch-mean cross-entropy at the model
 *            initialised from `seed`
 *   server:  Observation (model, global parameters, gradient, batch size) → attack (`attack`) with
 *            `restarts`, keeping the lowest gradient-matching loss
 *   scoring: reconstructions matched one-to-one to the ground truth (least total MSE), then PSNR / SSIM /
 *            MSE on [0, 1] pixels and label accuracy (src/metrics/reconstruction.ts)
 *
 * Writes metrics.json, ground-truth.png, reconstruction.png, progress.png, report.md and report.html into
 * the output directory (default results/leak-<timestamp>), each atomically; the directory is created only
 * once the attack has run, so a bad input leaves nothing behind. `shouldStop` (Ctrl-C) ends the
 * optimisation early; the best result so far is written and flagged `interrupted`.
 *
 * `workers` N|auto runs the restarts in worker threads (attacks/leakage/parallel.ts; same result as one
 * thread; auto = min(cores, restarts) on cpu/wasm, 1 on GPU backends). The per-image batch (`each`) is
 * {@link runLeakageBatch} (leakage-batch.ts). Settings and defaults: leakage-settings.ts.
 */
import { describeChoice, selectBackend, type BackendChoice } from '../engine/backend.js';
import { disposeParams, type Model } from '../models/index.js';
import { UserError } from '../core/errors.js';
import { scoreReconstruction } from '../metrics/reconstruction.js';
import { disposeObservation, runAttack, victimObservation, type AttackRun, type RunOptions } from '../../attacks/leakage/run.js';
import {
  attackRunOptions, loadVictimImages, makeModel, modelSpec, resolveLeakageSettings, resolveWorkers, workersLine,
  type LeakageSettings, type ResolvedLeakageSettings,
} from './leakage-settings.js';
import { leakageMetrics, writeLeakageOutputs, type LeakageMetrics } from './leakage-report.js';

export * from './leakage-settings.js';
export * from './leakage-report.js';

/** What a leakage run reports once it is set up, before the first step (for progress displays). */
export interface LeakageStart {
  attack: string;
  /** Requested restarts (or images, in a batch run) and steps of each. */
  restarts: number;
  iterations: number;
  /** Worker threads the restarts (images) run in. */
  workers: number;
}

/** How a leakage run talks to its caller; every field optional. */
export interface LeakageRunContext {
  /** Output directory (default results/leak-<timestamp>). */
  outDir?: string;
  /** Notes and progress lines (default: none). */
  log?: (line: string) => void;
  /** Polled between steps: true stops the run, which keeps and writes the best result so far. */
  shouldStop?: () => boolean;
  /** Called once the run is set up. */
  onStart?: (info: LeakageStart) => void;
  /** Called when a restart attempt starts (one worker thread), see RunOptions. */
  onAttempt?: RunOptions['onAttempt'];
  /** Called after every optimiser step of every restart. */
  onStep?: RunOptions['onStep'];
}

/** The result of {@link runLeakage}: metrics.json's content, the files written and their directory. */
export interface LeakageResult {
  metrics: LeakageMetrics;
  files: string[];
  outDir: string;
}

/** What a run starts from: validated settings, the model, the private images, the backend. */
export async function prepareLeakage(
  settings: LeakageSettings, ctx: LeakageRunContext,
): Promise<{ s: ResolvedLeakageSettings; model: Model; images: Float32Array[]; sources: string[]; choice: BackendChoice }> {
  const s = resolveLeakageSettings(settings, ctx.outDir);
  const model = makeModel(s);
  const { images, sources } = await loadVictimImages(s);
  const choice = await selectBackend(s.backend);
  ctx.log?.(describeChoice(choice));
  return { s, model, images, sources, choice };
}

/**
 * Runs one leakage attack on one batch (see the file header) and writes its outputs. Settings errors are
 * {@link UserError}s of one line; `each: true` is {@link runLeakageBatch}'s.
 */
export async function runLeakage(settings: LeakageSettings, ctx: LeakageRunContext = {}): Promise<LeakageResult> {
  if (settings.each === true) throw new UserError('runLeakage attacks one batch; each image on its own (--each) is runLeakageBatch');
  const log = ctx.log ?? ((): void => {});
  const { s, model, images, sources, choice } = await prepareLeakage(settings, ctx);
  const workers = resolveWorkers(s.workers, choice.name, s.restarts);
  log(workersLine(workers, s.workers, choice.name, 'restarts'));
  const params = model.init(s.seed);
  const obs = victimObservation(model, params, images, s.labels);
  let run: AttackRun;
  try {
    ctx.onStart?.({ attack: s.attack.name, restarts: s.restarts, iterations: s.iterations, workers });
    log(`${s.attack.name} on ${model.name} (${s.shape.join('x')}, ${s.classes} classes), batch ${s.batch}, ${s.optimizer}, ${s.iterations} steps × ${s.restarts} restart${s.restarts === 1 ? '' : 's'}, seed ${s.seed}`);
    run = await runAttack(s.attack, obs, {
      ...attackRunOptions(s),
      workers,
      modelSpec: modelSpec(s),
      ...(ctx.shouldStop ? { shouldStop: ctx.shouldStop } : {}),
      ...(ctx.onAttempt ? { onAttempt: ctx.onAttempt } : {}),
      ...(ctx.onStep ? { onStep: ctx.onStep } : {}),
    });
  } finally {
    disposeObservation(obs);
    disposeParams(params);
  }
  for (const at of run.attempts) if (at.diverged) log(`restart ${at.restart + 1}${at.attempt ? ' (retry)' : ''} diverged and was dropped: ${at.divergence ?? 'non-finite loss'}`);
  if (run.allDiverged) log('every restart diverged: reporting the best finite point reached');
  if (run.policyNote !== null) log(run.policyNote);
  const score = scoreReconstruction(run.reconstruction, { images, labels: s.labels }, s.shape);
  const metrics = leakageMetrics(s, model, choice, run, score, sources);
  const files = await writeLeakageOutputs(s, metrics, score, images, run.reconstruction.images, run.reconstruction.snapshots, sources);
  return { metrics, files, outDir: s.out };
}
