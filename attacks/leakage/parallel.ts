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
import { threadEndpoint, WorkerPool } from '../../src/core/pool.js';
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

/** A job's result and the worker's tensor count after it. */
export interface JobDone<T> {
  result: T;
  numTensors: number;
}

/** Callbacks of one job: its 'attempt' and 'step' events, its start on a worker, its cancellation before it starts. */
export interface JobHooks {
  onEvent?: (e: WorkerEvent) => void;
  onStart?: (slot: number) => void;
  cancelled?: () => boolean;
}

/**
 * N worker threads on this thread's backend (a {@link WorkerPool}: jobs in FIFO order, one at a time
 * per worker). Each has a stop flag (Int32 in a SharedArrayBuffer, index = its slot) that its jobs'
 * `shouldStop` reads; a job sets its worker's flag to RUN when it starts.
 */
export class LeakPool {
  private constructor(private readonly pool: WorkerPool, private readonly flags: Int32Array) {}

  /** Starts `n` threads on the active backend (cpu or wasm) and waits until each has started it. */
  static async start(n: number): Promise<LeakPool> {
    const backend = tf.getBackend();
    if (!THREAD_BACKENDS.includes(backend)) {
      throw new ConfigError(`worker threads need the cpu or wasm backend (this run uses ${backend}, one device: use one worker)`);
    }
    const flags = new Int32Array(new SharedArrayBuffer(4 * n));
    const pool = await WorkerPool.start({
      size: n,
      spawn: (slot) => threadEndpoint(WORKER_URL, { backend, flags: flags.buffer, slot }),
      ready: (msg) => {
        const m = msg as WorkerEvent;
        return m.type === 'ready' ? true : new ConfigError(`leakage worker thread could not start the ${backend} backend: ${m.type === 'start-failed' ? m.message : m.type}`);
      },
    });
    return new LeakPool(pool, flags);
  }

  get size(): number {
    return this.pool.size;
  }

  /** Sets worker `slot`'s flag (RUN or STOP). */
  signal(slot: number, value: number): void {
    Atomics.store(this.flags, slot, value);
  }

  signalAll(value: number): void {
    for (let i = 0; i < this.pool.size; i++) this.signal(i, value);
  }

  /**
   * Runs one job on the next free worker, with that worker's flag reset to RUN. Resolves with the
   * job's result and the worker's tensor count after it; undefined if `hooks.cancelled()` was true when
   * a worker was about to take it.
   */
  run<T>(msg: Job, hooks?: JobHooks & { cancelled?: undefined }): Promise<JobDone<T>>;
  run<T>(msg: Job, hooks: JobHooks): Promise<JobDone<T> | undefined>;
  run<T>(msg: Job, hooks: JobHooks = {}): Promise<JobDone<T> | undefined> {
    const id = this.nextId++;
    return this.pool.run<JobDone<T>>({
      message: { ...msg, id } as JobMessage,
      ...(hooks.cancelled ? { cancelled: hooks.cancelled } : {}),
      onStart: (slot) => {
        this.signal(slot, RUN);
        hooks.onStart?.(slot);
      },
      reply: (e) => {
        const m = e as WorkerEvent;
        if (!('id' in m) || m.id !== id) return undefined;
        if (m.type === 'done') return { result: { result: m.result as T, numTensors: m.numTensors } };
        if (m.type === 'failed') return { error: m.name === 'ConfigError' ? new ConfigError(m.message) : new Error(m.message) };
        hooks.onEvent?.(m);
        return undefined;
      },
    });
  }

  private nextId = 1;

  async close(): Promise<void> {
    await this.pool.close();
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
  const runJob = async (job: RestartJob): Promise<void> => {
    let slot = -1;
    const r = await pool.run<RestartOutcome>({ type: 'restart', attack: name, model, obs: wire, opts: wired, job }, {
      onEvent: forward(job.restart),
      cancelled: () => stopping || job.restart >= cut,
      onStart: (s) => {
        slot = s;
        running.set(s, job.restart);
      },
    });
    if (r === undefined) return; // not started: a restart before it matched the gradient, or a stop
    running.delete(slot);
    if (job.restart >= cut) return; // cancelled: a restart before it matched the gradient
    const result = r.result;
    done.set(job.restart, result);
    if (result.interrupted && !stopping) {
      stopping = true;
      pool.signalAll(STOP);
    }
    if (result.converged && job.restart + 1 < cut) {
      cut = job.restart + 1;
      for (const [s, restart] of running) if (restart >= cut) pool.signal(s, STOP);
    }
  };
  try {
    await Promise.all(jobs.map(runJob));
  } catch (e) {
    stopping = true;
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
  let stopping = false;
  const unwatch = watchStop(pool, hooks.shouldStop, () => { stopping = true; });
  const runItem = async (i: number): Promise<void> => {
    const r = await pool.run<AttackRun>({ type: 'run', attack: name, model, obs: items[i]!.obs, opts: items[i]!.opts }, {
      cancelled: () => stopping,
      onStart: () => hooks.onStart?.(i),
    });
    if (r === undefined) return;
    out[i] = r.result;
    await hooks.onDone?.(i, r.result);
  };
  try {
    await Promise.all(items.map((_, i) => runItem(i)));
  } catch (e) {
    stopping = true;
    pool.signalAll(STOP);
    throw e;
  } finally {
    unwatch();
  }
  return out;
}
