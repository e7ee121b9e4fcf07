/**
 * One worker pool for fedattack's parallel work: client training in worker threads
 * (src/fl/client-worker.ts), leakage restarts and images in worker threads (attacks/leakage/parallel.ts)
 * and matrix cells in child processes.
 *
 * A worker is an {@link Endpoint}: a message channel (post, 'message', 'error', 'exit') that can be
 * terminated — a worker_threads `Worker` ({@link threadEndpoint}) or a forked child process
 * ({@link processEndpoint}). The pool starts `size` of them and waits for each one's ready handshake
 * (its first message: `{ type: 'ready' }`, or anything else as a start failure), then serves jobs in
 * FIFO order, one at a time per worker. A job is a message plus a function that reads the worker's
 * replies until one settles the job; other replies are progress events. A queued job can be cancelled
 * (its `cancelled()` is asked when a worker is about to take it); a worker that dies rejects its job,
 * and the queued jobs once no worker is left; `close()` terminates every worker and rejects what is
 * still queued. After a job settles, its worker takes the next job only once the continuations of the
 * job's promise have run, so a result can cancel queued jobs before they start.
 *
 * Plug-ins: workers import the plug-ins loaded in this thread ({@link loadedPlugins}) before they
 * rebuild a component by name: the endpoints pass their URLs (workerData `fedattackPlugins` for a
 * thread, the environment variable `FEDATTACK_PLUGINS` for a child process) and the worker's entry
 * calls {@link loadWorkerPlugins} first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Worker, workerData as threadData, type Transferable } from 'node:worker_threads';
import { loadedPlugins, loadPlugins } from './plugins.js';

/** A worker as the pool sees it: a message channel that can be terminated. */
export interface Endpoint {
  post(message: unknown, transfer?: readonly Transferable[]): void;
  on(event: 'message', fn: (m: unknown) => void): void;
  on(event: 'error', fn: (e: Error) => void): void;
  on(event: 'exit', fn: (code: number | null) => void): void;
  terminate(): Promise<void>;
}

const PLUGINS_ENV = 'FEDATTACK_PLUGINS';

/** A worker thread running `url` with `workerData` (plus the loaded plug-ins' URLs). */
export function threadEndpoint(url: URL, workerData: Record<string, unknown> = {}): Endpoint {
  const w = new Worker(url, { workerData: { ...workerData, fedattackPlugins: [...loadedPlugins()] } });
  return {
    post: (m, transfer) => w.postMessage(m, transfer as Transferable[] | undefined),
    on: (event: string, fn: (...args: any[]) => void) => void w.on(event, fn),
    terminate: async () => {
      await w.terminate();
    },
  };
}

/** A forked child process running the module `file` (IPC channel; stderr piped to `onStderr` if given). */
export function processEndpoint(file: string, opts: { args?: string[]; onStderr?: (chunk: string) => void } = {}): Endpoint {
  const child: ChildProcess = fork(file, opts.args ?? [], {
    stdio: ['ignore', 'ignore', opts.onStderr ? 'pipe' : 'inherit', 'ipc'],
    env: { ...process.env, [PLUGINS_ENV]: JSON.stringify(loadedPlugins()) },
  });
  if (opts.onStderr) child.stderr?.on('data', (d: Buffer) => opts.onStderr!(d.toString()));
  return {
    post: (m) => void child.send(m as object),
    on: (event: string, fn: (...args: any[]) => void) => void child.on(event, fn),
    terminate: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    }),
  };
}

/**
 * In a worker's entry: imports the plug-ins its parent had loaded (see the file comment), so that
 * components registered by them can be rebuilt by name. Call it before serving jobs.
 */
export async function loadWorkerPlugins(): Promise<void> {
  const fromThread = (threadData as { fedattackPlugins?: string[] } | null)?.fedattackPlugins;
  const fromEnv = process.env[PLUGINS_ENV];
  const urls = fromThread ?? (fromEnv ? (JSON.parse(fromEnv) as string[]) : []);
  await loadPlugins(urls);
}

/** How one reply of a worker bears on its job: settle it, fail it, or (undefined) an event only. */
export type Settle<R> = { result: R } | { error: Error } | undefined;

/** One job: what to send, and how to read the replies. */
export interface PoolJob<R> {
  /** The message to post (built when a worker takes the job, with that worker's slot). */
  message: unknown | ((slot: number) => unknown);
  /** Buffers to transfer with the message. */
  transfer?: readonly Transferable[];
  /** Reads each reply of the worker while this job runs; the first that settles ends the job. */
  reply(m: unknown): Settle<R>;
  /** Asked when the job reaches a free worker: true drops it (its promise resolves to `undefined`). */
  cancelled?(): boolean;
  /** Awaited when a worker takes the job, before the message is posted. */
  onStart?(slot: number): unknown;
}

/** How a pool starts its workers. */
export interface PoolOptions {
  size: number;
  /** Starts worker `slot`. */
  spawn(slot: number): Endpoint;
  /**
   * Reads a worker's first message: true when it is ready, otherwise the start failure (default: ready
   * on `{ type: 'ready' }`, else an Error with the message's `message`).
   */
  ready?(m: unknown, slot: number): true | Error;
  /** Called for messages that arrive while a worker has no job (default: ignored). */
  onIdleMessage?(m: unknown, slot: number): void;
  /**
   * Start a fresh worker in the slot of one that died (its job is still rejected), so the queue goes on
   * (default false: the pool shrinks). A replacement that fails to start leaves the slot empty.
   */
  respawn?: boolean;
}

interface Running {
  job: PoolJob<unknown>;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

interface Queued extends Running {}

function defaultReady(m: unknown): true | Error {
  const msg = m as { type?: string; message?: string } | null;
  if (msg?.type === 'ready') return true;
  return new Error(`worker failed to start: ${msg?.message ?? msg?.type ?? String(m)}`);
}

/** A pool of workers serving jobs in FIFO order (see the file comment). */
export class WorkerPool {
  private readonly endpoints: Endpoint[] = [];
  private readonly alive: boolean[] = [];
  private readonly running: (Running | null)[] = [];
  private readonly idle: number[] = [];
  private readonly queue: Queued[] = [];
  private closed = false;

  private constructor(private readonly opts: PoolOptions) {}

  /** Starts `size` workers and waits for each one's ready handshake; closes them all if one fails. */
  static async start(opts: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    try {
      await Promise.all(Array.from({ length: opts.size }, (_, slot) => pool.attach(slot)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Spawns the worker of `slot` and resolves once it is ready (and idle). */
  private attach(slot: number): Promise<void> {
    const ready = this.opts.ready ?? defaultReady;
    const ep = this.opts.spawn(slot);
    this.endpoints[slot] = ep;
    this.alive[slot] = true;
    this.running[slot] = null;
    const current = (): boolean => this.endpoints[slot] === ep;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      ep.on('message', (m) => {
        if (!current()) return;
        if (started) return this.onMessage(slot, m);
        started = true;
        const r = ready(m, slot);
        if (r === true) {
          this.idle.push(slot);
          resolve();
          this.dispatch();
        } else reject(r);
      });
      ep.on('error', (e) => {
        if (!current()) return;
        if (started) this.onDeath(slot, e);
        else reject(e);
      });
      ep.on('exit', (code) => {
        if (!current()) return;
        if (!started) {
          this.alive[slot] = false;
          reject(new Error(`worker ${slot + 1} exited before it was ready (code ${code})`));
        } else if (!this.closed) this.onDeath(slot, new Error(`worker ${slot + 1} exited (code ${code})`));
      });
    });
  }

  /** Number of workers started. */
  get size(): number {
    return this.endpoints.length;
  }

  /**
   * Queues a job; resolves with its result (undefined if it was cancelled before it started) and
   * rejects with its error, its worker's death, or the pool's close.
   */
  run<R>(job: PoolJob<R>): Promise<R | undefined> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    return new Promise<R | undefined>((resolve, reject) => {
      this.queue.push({ job: job as PoolJob<unknown>, resolve: resolve as (v: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Terminates every worker; queued and running jobs are rejected. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      const err = new Error('the worker pool was closed');
      for (const q of this.queue.splice(0)) q.reject(err);
      this.running.forEach((r, i) => {
        if (r) {
          this.running[i] = null;
          r.reject(err);
        }
      });
    }
    await Promise.all(this.endpoints.map((ep) => ep.terminate()));
  }

  private dispatch(): void {
    while (!this.closed && this.idle.length > 0 && this.queue.length > 0) {
      const q = this.queue.shift()!;
      if (q.job.cancelled?.()) {
        q.resolve(undefined);
        continue;
      }
      const slot = this.idle.shift()!;
      this.running[slot] = q;
      void this.post(slot, q);
    }
    if (!this.closed && this.queue.length > 0 && !this.alive.includes(true)) {
      const err = new Error('every worker of the pool has exited');
      for (const q of this.queue.splice(0)) q.reject(err);
    }
  }

  private async post(slot: number, q: Running): Promise<void> {
    try {
      await q.job.onStart?.(slot);
      if (this.running[slot] !== q) return; // failed or closed meanwhile
      const msg = typeof q.job.message === 'function' ? (q.job.message as (s: number) => unknown)(slot) : q.job.message;
      this.endpoints[slot]!.post(msg, q.job.transfer);
    } catch (e) {
      this.finish(slot, q, { error: e as Error });
    }
  }

  private onMessage(slot: number, m: unknown): void {
    const r = this.running[slot];
    if (r === null || r === undefined) {
      this.opts.onIdleMessage?.(m, slot);
      return;
    }
    let s: Settle<unknown>;
    try {
      s = r.job.reply(m);
    } catch (e) {
      s = { error: e as Error };
    }
    if (s !== undefined) this.finish(slot, r, s);
  }

  private finish(slot: number, r: Running, s: NonNullable<Settle<unknown>>): void {
    if (this.running[slot] !== r) return;
    this.running[slot] = null;
    if ('error' in s) r.reject(s.error);
    else r.resolve(s.result);
    // The worker takes its next job after the promise's continuations (see the file comment).
    setImmediate(() => {
      if (this.alive[slot] && !this.closed) {
        this.idle.push(slot);
        this.dispatch();
      }
    });
  }

  private onDeath(slot: number, e: Error): void {
    if (!this.alive[slot]) return;
    this.alive[slot] = false;
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    const r = this.running[slot];
    if (r) {
      this.running[slot] = null;
      r.reject(e);
    }
    if (this.opts.respawn && !this.closed) {
      void this.endpoints[slot]!.terminate().catch(() => {});
      this.attach(slot).catch(() => {
        this.alive[slot] = false;
        this.dispatch();
      });
      return;
    }
    this.dispatch();
  }
}
