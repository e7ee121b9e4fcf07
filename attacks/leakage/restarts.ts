/**
 * The restart policy of a leakage run, one restart at a time: {@link runRestart} is a function of
 * (attack, observation, options, job) alone, so a worker thread (parallel.ts) computes exactly what this
 * thread would. run.ts drives the restarts (in order, or in worker threads) and keeps the best.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf } from '../../src/engine/tf.js';
import { Rng } from '../../src/engine/rng.js';
import { readFlat } from '../../src/engine/read.js';
import type { ModelOptions } from '../../src/models/index.js';
import { observedGradient, type AttackOptions, type LeakageAttack, type Observation, type Reconstruction } from './types.js';

// ---------------------------------------------------------------------------------------------------
// Restarts

/**
 * When to stop restarting early and when to give up on a restart. Losses are *relative* matching losses:
 * the euclidean loss divided by ‖g‖² of the observed gradient (DLG, iDLG: 1 at the trivial dummy whose
 * gradient is 0), or 1 − cos as it is (IG). Only the attacker's own signal is used, never the truth.
 */
export interface RestartPolicy {
  /**
   * A restart whose relative matching loss ends ≤ this has matched the gradient: the remaining restarts
   * are skipped (0 = never).
   */
  convergedBelow: number;
  /**
   * A restart *stalls* when, after `stallAfter` of its steps, its best relative loss is still above
   * `stallAbove` and has not fallen by `stallFactor` over the last `stallWindow` of its steps; it is
   * stopped (its best point is kept as a candidate) and its unused steps go to extra restarts.
   * Infinity = never.
   */
  stallAbove: number;
  stallAfter: number;
  stallWindow: number;
  stallFactor: number;
  /** Extra restarts (beyond the requested ones) need at least this fraction of `iterations` left. */
  minExtra: number;
  /** At most this many restarts in all, as a multiple of the requested ones. */
  maxRestartsFactor: number;
}

/**
 * Defaults. Euclidean (DLG, iDLG on LeNet, measured on real photos): successful restarts end at a relative
 * loss of ~1e-8 (≥ 35 dB), stuck L-BFGS restarts sit at 1e-2…1 from their first tens of steps. Cosine
 * (IG): its loss is a slow, noisy descent over thousands of steps, so only restarts that have not moved
 * at all are cut.
 */
export const RESTART_POLICIES: Readonly<Record<'euclidean' | 'cosine', RestartPolicy>> = {
  euclidean: { convergedBelow: 3e-8, stallAbove: 1e-3, stallAfter: 0.25, stallWindow: 0.1, stallFactor: 2, minExtra: 0.25, maxRestartsFactor: 4 },
  cosine: { convergedBelow: 0, stallAbove: Infinity, stallAfter: 1, stallWindow: 1, stallFactor: 1, minExtra: 1, maxRestartsFactor: 1 },
};

/** No early stop, no stall detection: exactly the requested restarts, each of `iterations` steps. */
export const PLAIN_RESTARTS: RestartPolicy = RESTART_POLICIES.cosine;

export interface RunOptions extends AttackOptions {
  /** Independent restarts, default 1. */
  restarts?: number;
  /** Overrides of the attack's {@link RESTART_POLICIES} entry. */
  policy?: Partial<RestartPolicy>;
  /** Called when an attempt starts (restart index from 0, attempt 0 or 1 = retry after divergence). */
  onAttempt?: (info: { restart: number; restarts: number; attempt: number; seed: number }) => void;
  /** Called after every optimiser step of every attempt, with the restart it belongs to. */
  onStep?: (info: StepInfo) => void;
  /**
   * Run the requested restarts concurrently in this many worker threads (default 1: one after another
   * in this thread). The result is the same as with 1 (see parallel.ts); needs `modelSpec`, an attack
   * registered by name, and a cpu or wasm backend. `onProgress`'s `images()` is not available then.
   */
  workers?: number;
  /** How a worker thread rebuilds `obs.model`: createModel(name, options). */
  modelSpec?: ModelSpec;
}

/**
 * Backends on which leakage work can run in worker threads: each thread computes on the host what
 * this one computes. GPU backends (webgpu, tensorflow) have one device: one worker.
 */
export const THREAD_BACKENDS: readonly string[] = ['cpu', 'wasm'];

/** The worker-thread entry (parallel.ts starts it). */
export const WORKER_URL = new URL('./worker.js', import.meta.url);

/**
 * Whether the worker-thread entry (worker.js beside this module) exists. A single-file bundle, such as the
 * one carried to a GPU machine, has none: it then runs everything in one thread.
 */
export function workerThreadsAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_URL));
}


/** The settings a model is built from (createModel(name, options)). */
export interface ModelSpec {
  name: string;
  options: ModelOptions;
}

export interface StepInfo {
  restart: number;
  attempt: number;
  iteration: number;
  iterations: number;
  loss: number;
  evaluations: number;
}

export interface AttemptRecord {
  restart: number;
  /** 0 = first try, 1 = the retry after a divergence. */
  attempt: number;
  seed: number;
  matchingLoss: number;
  /** matchingLoss relative to the observed gradient (see {@link RestartPolicy}). */
  relativeLoss: number;
  evaluations: number;
  iterations: number;
  seconds: number;
  diverged: boolean;
  divergence?: string;
  /** Stopped by the policy as stalled (its best point stays a candidate). */
  stalled: boolean;
  /** Stopped on request (Ctrl-C). */
  stopped: boolean;
  kept: boolean;
}

export interface AttackRun {
  attack: string;
  /** The kept reconstruction (lowest matching loss among the non-diverged attempts). */
  reconstruction: Reconstruction;
  attempts: AttemptRecord[];
  /** Requested restarts. */
  restarts: number;
  /** Why fewer or more restarts than requested ran: 'converged' (the rest skipped), 'stalls' (extra restarts). */
  policyNote: string | null;
  /** Evaluations over all attempts. */
  evaluations: number;
  seconds: number;
  /** Stopped on request (Ctrl-C) before the planned work was done. */
  interrupted: boolean;
  /** Every attempt diverged: the reconstruction is the best finite point of a diverged one. */
  allDiverged: boolean;
}

/** Seed of restart r, attempt a: the seed itself for (0, 0), otherwise a derived independent stream. */
export function restartSeed(seed: number, restart: number, attempt: number): number {
  if (restart === 0 && attempt === 0) return seed;
  return new Rng(seed).fork(`restart-${restart}-attempt-${attempt}`).nextU32();
}

/** ‖g‖² of the observed gradient (the scale of the euclidean matching loss). */
export async function observedSquaredNorm(obs: Observation): Promise<number> {
  const g = observedGradient(obs);
  const sums = tf.tidy(() => g.map((t) => tf.sum(tf.square(t))));
  try {
    return (await readFlat(sums)).reduce((s, v) => s + v, 0); // one read, also on WebGPU
  } finally {
    tf.dispose([...g, ...sums]);
  }
}

/**
 * Watches one restart's loss, step by step: stalled() turns true when the policy's stall rule holds.
 * Exported for tests.
 */
export class StallDetector {
  private readonly best: number[] = [];
  constructor(private readonly policy: RestartPolicy, private readonly iterations: number, private readonly scale: number) {}
  /** The step count from which the rule applies, and the look-back window (steps). */
  get window(): { from: number; span: number } {
    const span = Math.max(5, Math.ceil(this.policy.stallWindow * this.iterations));
    return { from: Math.max(span, Math.ceil(this.policy.stallAfter * this.iterations)), span };
  }
  /** Record the loss reported after step `iteration` (1-based). */
  observe(loss: number): void {
    const rel = loss / this.scale;
    const prev = this.best.length > 0 ? this.best[this.best.length - 1]! : Infinity;
    this.best.push(Number.isFinite(rel) && rel < prev ? rel : prev);
  }
  stalled(): boolean {
    if (!Number.isFinite(this.policy.stallAbove)) return false;
    const n = this.best.length;
    const { from, span } = this.window;
    if (n < from || n >= this.iterations) return false;
    const now = this.best[n - 1]!;
    const before = this.best[n - 1 - span]!;
    return now > this.policy.stallAbove && !(now * this.policy.stallFactor <= before);
  }
}

/** What one restart needs besides the observation: its index, step budget and the policy's scale. */
export interface RestartJob {
  restart: number;
  /** Requested restarts (for onAttempt). */
  restarts: number;
  steps: number;
  /** An extra restart (beyond the requested ones), run on the steps stalled ones left. */
  extra: boolean;
  policy: RestartPolicy;
  /** ‖g‖² for euclidean matching losses, 1 for cosine ones. */
  scale: number;
}

/** One restart as the policy runs it: its first attempt and, after a divergence, the retry. */
export interface RestartOutcome {
  restart: number;
  /** One record per attempt (none marked kept yet), aligned with `results`. */
  attempts: AttemptRecord[];
  results: Reconstruction[];
  /** Steps it left to extra restarts (a stalled requested one), or minus the steps it used (an extra one). */
  spare: number;
  stalls: number;
  /** It matched the gradient: the restarts after it are skipped. */
  converged: boolean;
  /** Stopped on request (Ctrl-C). */
  interrupted: boolean;
}

/**
 * Runs restart `job.restart`: attempt 0 with its derived seed, stopped as stalled when the policy says
 * so, and once more with a fresh seed if it diverged. A function of (attack, observation, options, job)
 * alone, so that a worker thread computes exactly what runAttack would (parallel.ts).
 */
export async function runRestart(attack: LeakageAttack, obs: Observation, opts: RunOptions, job: RestartJob): Promise<RestartOutcome> {
  const { restart: r, steps, policy } = job;
  const scale = job.scale > 0 ? job.scale : 1;
  const out: RestartOutcome = { restart: r, attempts: [], results: [], spare: 0, stalls: 0, converged: false, interrupted: false };
  for (let a = 0; a < 2; a++) {
    const seed = restartSeed(opts.seed, r, a);
    opts.onAttempt?.({ restart: r, restarts: job.restarts, attempt: a, seed });
    const detector = new StallDetector(policy, steps, scale);
    let stalled = false;
    const ta = performance.now();
    const rec = await attack.reconstruct(obs, {
      ...attackOptions(opts),
      iterations: steps,
      seed,
      onProgress: async (p) => {
        detector.observe(p.loss);
        opts.onStep?.({ restart: r, attempt: a, iteration: p.iteration, iterations: p.iterations, loss: p.loss, evaluations: p.evaluations });
        await opts.onProgress?.(p);
      },
      shouldStop: () => {
        if (opts.shouldStop?.()) return true;
        if (!stalled && detector.stalled()) stalled = true;
        return stalled;
      },
    });
    const userStop = rec.stopped && !stalled;
    const relativeLoss = rec.matchingLoss / scale;
    out.attempts.push({
      restart: r, attempt: a, seed, matchingLoss: rec.matchingLoss, relativeLoss, evaluations: rec.evaluations,
      iterations: rec.iterations, seconds: (performance.now() - ta) / 1000, diverged: rec.diverged, stalled, stopped: userStop, kept: false,
      ...(rec.divergence !== undefined ? { divergence: rec.divergence } : {}),
    });
    out.results.push(stalled ? { ...rec, stopped: false } : rec);
    if (a === 0) out.spare = job.extra ? -rec.iterations : stalled ? steps - rec.iterations : 0;
    if (stalled) out.stalls++;
    if (userStop) out.interrupted = true;
    if (!rec.diverged && !stalled && Number.isFinite(rec.matchingLoss) && relativeLoss <= policy.convergedBelow) out.converged = true;
    if (!rec.diverged || userStop) break; // retry a diverged attempt once, with a new seed
  }
  return out;
}

/** The attack's own options out of the run options (no restart settings, no callbacks of runAttack's). */
function attackOptions(opts: RunOptions): AttackOptions {
  const { restarts: _r, policy: _p, onAttempt: _a, onStep: _s, workers: _w, modelSpec: _m, ...rest } = opts;
  return rest;
}

/** Requested restarts 0..R−1 one after another, until one matches the gradient or Ctrl-C. */
export async function restartsInOrder(attack: LeakageAttack, obs: Observation, opts: RunOptions, jobs: RestartJob[]): Promise<RestartOutcome[]> {
  const out: RestartOutcome[] = [];
  for (const job of jobs) {
    const o = await runRestart(attack, obs, opts, job);
    out.push(o);
    if (o.converged || o.interrupted) break;
  }
  return out;
}

