/**
 * Leakage attempts in worker threads: the requested restarts of one attack run concurrently
 * ({@link restartsInWorkers}, used by runAttack with `workers` > 1), and whole attacks on independent
 * observations spread over a pool ({@link LeakPool}, used by `fedattack leak --each`).
 *
 * Each worker thread (worker.ts) starts the same backend as this thread through selectBackend (so
 * fedattack's kernels and gradients are registered there too), rebuilds the model from a
 * {@link ModelSpec}, and receives the observation as plain Float32Arrays ({@link WireObservation}). A
 * restart is a function of (attack, observation, options, job) alone, so on the same backend a worker
 * computes it bit for bit as this thread would.
 *
 * Same result as one thread: one after another, the first restart r that matches the gradient ends the
 * run (restarts > r are skipped). Here restarts are handed out in order; when restart r matches, the
 * running restarts > r are cancelled and discarded and no later one starts, while those < r finish (one
 * of them may match too, which lowers the cut). The retry after a divergence is part of its restart's
 * job; the extra restarts on the steps stalled ones left depend on each other and run afterwards in
 * this thread (runAttack). Cancellation and Ctrl-C go through a SharedArrayBuffer flag per worker, read
 * by the attack's `shouldStop` between steps.
 */
import { Worker } from 'node:worker_threads';
import { tf } from '../../src/engine/tf.js';
import { readValues } from '../../src/engine/read.js';
import type { Model } from '../../src/models/index.js';
import { getLeakageAttack } from './index.js';
import { THREAD_BACKENDS, WORKER_URL, type AttackRun, type ModelSpec, type RestartJob, type RestartOutcome, type RunOptions, type StepInfo } from './restarts.js';
import { ConfigError, type LeakageAttack, type Observation, type Params } from './types.js';

/** One tensor as plain data. */
export interface WireTensor {
  shape: number[];
  values: Float32Array;
}

/** An {@link Observation} without tensors or model object: what crosses to a worker thread. */
export interface WireObservation {
  round: number;
  clientId: string;
  kind: Observation['kind'];
  numSamples: number;
  batchSize: number;
  localSteps: number;
  epochs: number;
  lr: number;
  delta: Record<string, WireTensor>;
  globalParams: Record<string, WireTensor>;
}

/** The attack options that cross to a worker (no callbacks). */
export type WireOptions = Pick<RunOptions, 'seed' | 'iterations' | 'optimizer' | 'lr' | 'tv' | 'snapshots' | 'init' | 'restarts' | 'policy'>;

/** Messages to a worker. */
export type JobMessage =
  | { type: 'restart'; id: number; attack: string; model: ModelSpec; obs: WireObservation; opts: WireOptions; job: RestartJob }
  | { type: 'run'; id: number; attack: string; model: ModelSpec; obs: WireObservation; opts: WireOptions };

/** A job before the pool numbers it. */
export type Job = JobMessage extends infer T ? (T extends unknown ? Omit<T, 'id'> : never) : never;

/** Messages from a worker. */
export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'start-failed'; message: string }
  | { type: 'attempt'; id: number; restart: number; restarts: number; attempt: number; seed: number }
  | { type: 'step'; id: number; info: StepInfo }
  | { type: 'done'; id: number; result: RestartOutcome | AttackRun; numTensors: number }
  | { type: 'failed'; id: number; name: string; message: string };

/** Flag values: run, or stop the current job (its result is the best point so far). */
export const RUN = 0;
export const STOP = 1;


async function toWireParams(p: Params, names: string[]): Promise<Record<string, WireTensor>> {
  const out: Record<string, WireTensor> = {};
  for (const n of names) {
    const t = p[n];
    if (t === undefined) throw new ConfigError(`observation lacks the parameter '${n}'`);
    out[n] = { shape: t.shape.slice(), values: await readValues(t) };
  }
  return out;
}

/** The observation as plain arrays (read asynchronously; the observation is not changed). */
export async function toWire(obs: Observation): Promise<WireObservation> {
  const names = obs.model.paramShapes.map(([n]) => n);
  return {
    round: obs.round, clientId: obs.clientId, kind: obs.kind, numSamples: obs.numSamples,
    batchSize: obs.batchSize, localSteps: obs.localSteps, epochs: obs.epochs, lr: obs.lr,
    delta: await toWireParams(obs.delta, names),
    globalParams: await toWireParams(obs.globalParams, names),
  };
}

/** Rebuilds an observation for `model` (new tensors: free them with disposeObservation). */
export function fromWire(w: WireObservation, model: Model): Observation {
  const build = (src: Record<string, WireTensor>, what: string): Params => {
    const out: Params = {};
    for (const [n, shape] of model.paramShapes) {
      const t = src[n];
      if (t === undefined || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        tf.dispose(Object.values(out));
        throw new ConfigError(`the ${what} does not fit the model ${model.name}: parameter '${n}'`);
      }
      out[n] = tf.tensor(t.values, t.shape);
    }
    return out;
  };
  const delta = build(w.delta, 'observed update');
  let globalParams: Params;
  try {
    globalParams = build(w.globalParams, 'global parameters');
  } catch (e) {
    tf.dispose(Object.values(delta));
    throw e;
  }
  const { delta: _d, globalParams: _g, ...meta } = w;
  return { ...meta, delta, globalParams, model };
}

/** The options of `opts` that a worker needs. */
export function wireOptions(opts: RunOptions): WireOptions {
  const out: WireOptions = { seed: opts.seed };
  if (opts.iterations !== undefined) out.iterations = opts.iterations;
  if (opts.optimizer !== undefined) out.optimizer = opts.optimizer;
  if (opts.lr !== undefined) out.lr = opts.lr;
  if (opts.tv !== undefined) out.tv = opts.tv;
  if (opts.snapshots !== undefined) out.snapshots = opts.snapshots;
  if (opts.init !== undefined) out.init = opts.init;
  if (opts.restarts !== undefined) out.restarts = opts.restarts;
  if (opts.policy !== undefined) out.policy = opts.policy;
  return out;
}

/** The attack a worker can rebuild from its name (the registered one), or a ConfigError. */
export function registeredAttack(attack: LeakageAttack): string {
  let known: LeakageAttack | null = null;
  try {
    known = getLeakageAttack(attack.name);
  } catch {
    // not registered
  }
  if (known !== attack) throw new ConfigError(`attack '${attack.name}' is not a registered leakage attack: it cannot run in worker threads (use workers: 1)`);
  return attack.name;
}

interface Pending {
  slot: number;
  resolve: (v: { result: unknown; numTensors: number }) => void;
  reject: (e: Error) => void;
  onEvent?: (e: WorkerEvent) => void;
}

/**
 * N worker threads on this thread's backend, each running one job at a time. Each has a stop flag
 * (Int32 in a SharedArrayBuffer) that its jobs' `shouldStop` reads.
 */
export class LeakPool {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly workers: Worker[], private readonly flags: Int32Array) {
    workers.forEach((w, i) => {
      w.on('message', (m: WorkerEvent) => this.onMessage(m));
      w.on('error', (e) => this.failWorker(i, e));
      w.on('exit', (code) => {
        if (!this.closed) this.failWorker(i, new Error(`leakage worker thread ${i + 1} exited (code ${code})`));
      });
    });
  }

  /** Starts `n` threads on the active backend (cpu or wasm) and waits until each has started it. */
  static async start(n: number): Promise<LeakPool> {
    const backend = tf.getBackend();
    if (!THREAD_BACKENDS.includes(backend)) {
      throw new ConfigError(`worker threads need the cpu or wasm backend (this run uses ${backend}, one device: use one worker)`);
    }
    const flags = new Int32Array(new SharedArrayBuffer(4 * n));
    const workers: Worker[] = [];
    try {
      for (let slot = 0; slot < n; slot++) workers.push(new Worker(WORKER_URL, { workerData: { backend, flags: flags.buffer, slot } }));
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        const onMessage = (m: WorkerEvent): void => {
          w.off('message', onMessage);
          w.off('error', reject);
          if (m.type === 'ready') resolve();
          else reject(new ConfigError(`leakage worker thread could not start the ${backend} backend: ${m.type === 'start-failed' ? m.message : m.type}`));
        };
        w.on('message', onMessage);
        w.once('error', reject);
      })));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new LeakPool(workers, flags);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sets worker `slot`'s flag (RUN or STOP). */
  signal(slot: number, value: number): void {
    Atomics.store(this.flags, slot, value);
  }

  signalAll(value: number): void {
    for (let i = 0; i < this.workers.length; i++) this.signal(i, value);
  }

  /**
   * Runs one job on worker `slot` (which must be idle), with its flag reset to RUN. `onEvent` gets its
   * 'attempt' and 'step' events. Resolves with the job's result and the worker's tensor count after it.
   */
  run<T>(slot: number, msg: Job, onEvent?: (e: WorkerEvent) => void): Promise<{ result: T; numTensors: number }> {
    const id = this.nextId++;
    this.signal(slot, RUN);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { slot, resolve: resolve as Pending['resolve'], reject, ...(onEvent ? { onEvent } : {}) });
      this.workers[slot]!.postMessage({ ...msg, id } as JobMessage);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private onMessage(m: WorkerEvent): void {
    if (!('id' in m)) return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    if (m.type === 'done') {
      this.pending.delete(m.id);
      p.resolve({ result: m.result, numTensors: m.numTensors });
    } else if (m.type === 'failed') {
      this.pending.delete(m.id);
      const e = m.name === 'ConfigError' ? new ConfigError(m.message) : new Error(m.message);
      p.reject(e);
    } else p.onEvent?.(m);
  }

  private failWorker(slot: number, e: Error): void {
    for (const [id, p] of this.pending) {
      if (p.slot === slot) {
        this.pending.delete(id);
        p.reject(e);
      }
    }
  }
}

/** Parent-side polling of the caller's `shouldStop` (Ctrl-C): sets every worker's flag. */
function watchStop(pool: LeakPool, shouldStop: (() => boolean) | undefined, onStop: () => void): () => void {
  if (shouldStop === undefined) return () => {};
  const timer = setInterval(() => {
    if (shouldStop()) {
      pool.signalAll(STOP);
      onStop();
    }
  }, 20);
  return () => clearInterval(timer);
}

/**
 * The requested restarts `jobs` (0..R−1, in order) in `workers` threads, with the outcome of running
 * them one after another (see the file comment). Returns the outcomes of the restarts that sequential
 * order would have run, sorted by restart.
 */
export async function restartsInWorkers(
  attack: LeakageAttack, obs: Observation, opts: RunOptions, jobs: RestartJob[], workers: number,
): Promise<RestartOutcome[]> {
  const name = registeredAttack(attack);
  if (opts.modelSpec === undefined) throw new ConfigError('runAttack with workers > 1 needs modelSpec (how to rebuild the model in a worker thread)');
  const model = opts.modelSpec;
  const wire = await toWire(obs);
  const pool = await LeakPool.start(Math.min(workers, jobs.length));
  const done = new Map<number, RestartOutcome>();
  const running = new Map<number, number>(); // worker slot → restart
  let cut = jobs.length; // restarts ≥ cut are not needed (a restart before them matched the gradient)
  let next = 0;
  let stopping = false;
  const unwatch = watchStop(pool, opts.shouldStop, () => { stopping = true; });
  const forward = (restart: number) => (e: WorkerEvent): void => {
    if (restart >= cut) return;
    if (e.type === 'attempt') opts.onAttempt?.({ restart: e.restart, restarts: e.restarts, attempt: e.attempt, seed: e.seed });
    else if (e.type === 'step') {
      opts.onStep?.(e.info);
      void opts.onProgress?.({
        iteration: e.info.iteration, iterations: e.info.iterations, loss: e.info.loss, evaluations: e.info.evaluations,
        images: () => Promise.reject(new Error('the dummy images of a restart in a worker thread are not read back')),
      });
    }
  };
  const wired = wireOptions(opts);
  const lane = async (slot: number): Promise<void> => {
    while (!stopping && next < cut) {
      const job = jobs[next++]!;
      running.set(slot, job.restart);
      const { result } = await pool.run<RestartOutcome>(slot, { type: 'restart', attack: name, model, obs: wire, opts: wired, job }, forward(job.restart));
      running.delete(slot);
      if (job.restart >= cut) continue; // cancelled: a restart before it matched the gradient
      done.set(job.restart, result);
      if (result.interrupted && !stopping) {
        stopping = true;
        pool.signalAll(STOP);
      }
      if (result.converged && job.restart + 1 < cut) {
        cut = job.restart + 1;
        for (const [s, r] of running) if (r >= cut) pool.signal(s, STOP);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: pool.size }, (_, slot) => lane(slot)));
  } catch (e) {
    pool.signalAll(STOP);
    throw e;
  } finally {
    unwatch();
    await pool.close();
  }
  return [...done.values()].filter((o) => o.restart < cut).sort((a, b) => a.restart - b.restart);
}

/** One whole attack (runAttack, restarts one after another) on each observation, spread over `pool`. */
export async function attacksInWorkers(
  pool: LeakPool, attack: LeakageAttack, model: ModelSpec, items: { obs: WireObservation; opts: WireOptions }[],
  hooks: { shouldStop?: () => boolean; onStart?: (index: number) => void; onDone?: (index: number, run: AttackRun) => void | Promise<void> } = {},
): Promise<(AttackRun | null)[]> {
  const name = registeredAttack(attack);
  const out: (AttackRun | null)[] = items.map(() => null);
  let next = 0;
  let stopping = false;
  const unwatch = watchStop(pool, hooks.shouldStop, () => { stopping = true; });
  const lane = async (slot: number): Promise<void> => {
    while (!stopping && next < items.length) {
      const i = next++;
      hooks.onStart?.(i);
      const { result } = await pool.run<AttackRun>(slot, { type: 'run', attack: name, model, obs: items[i]!.obs, opts: items[i]!.opts });
      out[i] = result;
      await hooks.onDone?.(i, result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(pool.size, items.length) }, (_, slot) => lane(slot)));
  } catch (e) {
    pool.signalAll(STOP);
    throw e;
  } finally {
    unwatch();
  }
  return out;
}
