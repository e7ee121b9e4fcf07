/**
 * Running a leakage attack the way an experiment needs it, and scoring it — outside the attack.
 *
 * - {@link victimObservation}: the honest client's side, the harness's own FedSGD client
 *   (src/fl/client.ts fedSgdObservation): ∇θ of the batch-mean cross-entropy of its private batch at the
 *   global parameters, handed to the server as an {@link Observation}; the images and labels stay here.
 * - {@link runAttack}: R restarts with derived seeds (restart 0 uses the seed itself). Each restart
 *   yields a reconstruction and its gradient-matching loss; the kept restart is the one with the lowest
 *   matching loss — the only signal an attacker has, never the ground truth. A restart that diverges
 *   (non-finite or exploding loss) is reported and dropped, and retried once with a fresh seed. If every
 *   attempt diverged, the best finite point among them is returned and flagged (`allDiverged`).
 *   `shouldStop` (Ctrl-C) ends the current restart early and skips the rest; the best so far is kept.
 *   A {@link RestartPolicy} (per matching loss: euclidean for DLG/iDLG, cosine for IG) spends the
 *   R × iterations step budget better, still judging by the matching loss alone: once a restart has
 *   matched the gradient (relative loss ≤ convergedBelow) the remaining restarts are skipped; a restart
 *   whose loss plateaus high is stopped as stalled (its best point stays a candidate) and the steps it
 *   left run extra restarts (at most maxRestartsFactor × R in all). With `workers` > 1 the requested
 *   restarts run concurrently in worker threads (parallel.ts) with the same outcome, bit for bit; each
 *   restart is {@link runRestart}, a function of its inputs alone.
 *
 * Scoring a reconstruction against the ground truth is not the attack's business: see
 * src/metrics/reconstruction.ts (scoreReconstruction).
 */
import { tf } from '../../src/engine/tf.js';
import type { Model, Params } from '../../src/models/index.js';
import { fedSgdObservation } from '../../src/fl/client.js';
import { DEFAULTS } from '../../src/fl/algorithms.js';
import { ConfigError, type LeakageAttack, type Observation } from './types.js';
import {
  RESTART_POLICIES, restartsInOrder, runRestart, observedSquaredNorm,
  type AttackRun, type RestartJob, type RestartOutcome, type RestartPolicy, type RunOptions,
} from './restarts.js';

export * from './restarts.js';

// ---------------------------------------------------------------------------------------------------
// The victim

/**
 * The FedSGD observation of a client that holds `images` (each H·W·C in [0, 1], NHWC) with `labels`:
 * the harness's FedSGD client step (src/fl/client.ts fedSgdObservation) at `params` — kind 'gradient',
 * numSamples = batchSize = B, localSteps = epochs = 1, `lr` the server step size (default FedSGD's).
 * The observation owns copies of everything; free it with {@link disposeObservation}.
 */
export function victimObservation(
  model: Model, params: Params, images: Float32Array[], labels: number[], meta: { round?: number; clientId?: string; lr?: number } = {},
): Observation {
  const [H, W, C] = model.inputShape;
  const B = images.length;
  if (B === 0) throw new ConfigError('no images');
  if (labels.length !== B) throw new ConfigError(`${labels.length} labels for ${B} images`);
  for (const [i, l] of labels.entries()) {
    if (!Number.isInteger(l) || l < 0 || l >= model.classes) throw new ConfigError(`label ${l} of image ${i + 1} is not a class of this model (0..${model.classes - 1})`);
  }
  const x = new Float32Array(B * H * W * C);
  images.forEach((img, i) => {
    if (img.length !== H * W * C) throw new ConfigError(`image ${i + 1} has ${img.length} values, expected ${H}x${W}x${C}`);
    x.set(img, i * H * W * C);
  });
  const data = { x: tf.tensor4d(x, [B, H, W, C]), labels: tf.tensor1d(labels, 'int32'), indices: labels.map((_, i) => i), numClasses: model.classes };
  try {
    const obs = fedSgdObservation(model, params, data, { round: meta.round ?? 0, clientId: meta.clientId ?? 'victim', lr: meta.lr ?? DEFAULTS.fedsgdServerLr });
    const globalParams: Params = {};
    for (const [n] of model.paramShapes) globalParams[n] = params[n]!.clone();
    return { ...obs, globalParams };
  } finally {
    tf.dispose([data.x, data.labels]);
  }
}

export function disposeObservation(obs: Observation): void {
  tf.dispose([...Object.values(obs.delta), ...Object.values(obs.globalParams)]);
}

export async function runAttack(attack: LeakageAttack, obs: Observation, opts: RunOptions): Promise<AttackRun> {
  const restarts = opts.restarts ?? 1;
  if (!Number.isInteger(restarts) || restarts < 1) throw new ConfigError(`restarts must be a positive integer, got ${restarts}`);
  const workers = opts.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`workers must be a positive integer, got ${workers}`);
  const distance = attack.matchingDistance ?? 'euclidean';
  const policy: RestartPolicy = { ...RESTART_POLICIES[distance], ...opts.policy };
  const iterations = opts.iterations ?? attack.defaultIterations;
  const scale = distance === 'euclidean' ? await observedSquaredNorm(obs) : 1;
  const t0 = performance.now();
  const job = (restart: number, steps: number): RestartJob => ({ restart, restarts, steps, extra: restart >= restarts, policy, scale });
  // The requested restarts get `iterations` steps each; in worker threads they run concurrently with
  // the same outcome (the lazy import keeps worker_threads out of single-threaded runs and bundles).
  const requested = Array.from({ length: restarts }, (_, r) => job(r, iterations));
  const outcomes = workers > 1 && restarts > 1
    ? await (await import('./parallel.js')).restartsInWorkers(attack, obs, opts, requested, workers)
    : await restartsInOrder(attack, obs, opts, requested);
  // The steps stalled restarts left unused are spare, and extra restarts run on them (a stall may be the
  // initialisation's fault, not the observation's); each one's budget depends on the ones before it.
  let spare = outcomes.reduce((s, o) => s + o.spare, 0);
  const maxRestarts = Math.max(restarts, Math.floor(policy.maxRestartsFactor * restarts));
  for (let r = restarts; r < maxRestarts && !outcomes.some((o) => o.converged || o.interrupted); r++) {
    if (spare < Math.max(1, policy.minExtra * iterations)) break;
    const o = await runRestart(attack, obs, opts, job(r, Math.min(iterations, spare)));
    outcomes.push(o);
    spare += o.spare;
  }
  return summariseRestarts(attack.name, outcomes, restarts, policy, (performance.now() - t0) / 1000);
}

/** The kept attempt (lowest matching loss among the healthy ones) and the run's record. */
function summariseRestarts(name: string, outcomes: RestartOutcome[], restarts: number, policy: RestartPolicy, seconds: number): AttackRun {
  const attempts = outcomes.flatMap((o) => o.attempts);
  const results = outcomes.flatMap((o) => o.results);
  const converged = outcomes.some((o) => o.converged);
  const stalls = outcomes.reduce((s, o) => s + o.stalls, 0);
  const finite = (i: number): boolean => Number.isFinite(results[i]!.matchingLoss);
  const healthy = results.map((_, i) => i).filter((i) => !results[i]!.diverged && finite(i));
  const pool = healthy.length > 0 ? healthy : results.map((_, i) => i).filter(finite);
  const candidates = pool.length > 0 ? pool : results.map((_, i) => i);
  const keep = candidates.reduce((b, i) => (results[i]!.matchingLoss < results[b]!.matchingLoss ? i : b), candidates[0]!);
  attempts[keep]!.kept = true;
  const ran = outcomes.length;
  let policyNote: string | null = null;
  if (converged && ran < restarts) policyNote = `restart ${ran} matched the gradient (relative loss ≤ ${policy.convergedBelow}): the remaining ${restarts - ran} skipped`;
  else if (stalls > 0) policyNote = `${stalls} stalled restart${stalls === 1 ? '' : 's'} stopped early${ran > restarts ? `; ${ran - restarts} extra restart${ran - restarts === 1 ? '' : 's'} ran on the steps left` : ''}`;
  return {
    attack: name,
    reconstruction: results[keep]!,
    attempts,
    restarts,
    policyNote,
    evaluations: results.reduce((s, r) => s + r.evaluations, 0),
    seconds,
    interrupted: outcomes.some((o) => o.interrupted),
    allDiverged: healthy.length === 0,
  };
}

