/**
 * Parallel client training in worker threads (the pool the harness uses with `workers` > 1); this
 * module is also the worker's entry point.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadWorkerPlugins, threadEndpoint, WorkerPool } from '../core/pool.js';
import { tf } from '../engine/tf.js';
import { selectBackend } from '../engine/backend.js';
import { Rng } from '../engine/rng.js';
import { createModel, type ModelOptions, type Params } from '../models/index.js';
import { makeStrategy } from './algorithms.js';
import type { ClientResult, LocalHooks } from './types.js';

// ---------------------------------------------------------------------------------------------
// Parallel client training in worker threads.
//
// wasm runs on one thread in Node, so clients of a round are trained in parallel by a pool of worker
// threads, each with its own TensorFlow.js on the same backend. A task carries the global model and
// the client's samples (host arrays); the worker runs the same strategy code on a tensor of just that
// client's data, with the same seeded stream, and sends back Δ and the metadata. The results are
// bit-identical to in-process training (same kernels, same order of operations). This module is the
// worker's entry point too (it serves tasks when started with `fedattackClientWorker` in workerData).

/** What a worker needs to rebuild the model and the strategy. */
export interface WorkerSetup {
  backend: string;
  model: ModelOptions & { name: string };
  /** strategy.describe() of a built-in strategy (has `algorithm`). */
  strategy: Record<string, unknown>;
}

export interface WorkerTask {
  global: Record<string, Float32Array>;
  images: Float32Array;
  labels: Int32Array;
  numClasses: number;
  /** Seed and label of the client's stream (derivedRng(seed, label)). */
  seed: number;
  rngLabel: string;
  /** Report progress every this many ms (0: never). */
  progressMs: number;
}

type WorkerReply =
  | { type: 'ready' }
  | { type: 'step'; step: number; steps: number }
  | { type: 'epoch'; epoch: number; epochs: number }
  | { type: 'done'; result: Omit<ClientResult, 'delta'> & { delta: Record<string, Float32Array> } }
  | { type: 'error'; message: string };

type Delta = Omit<ClientResult, 'delta'> & { delta: Record<string, Float32Array> };

/** A pool of client-training worker threads (a {@link WorkerPool}). */
export class ClientWorkerPool {
  private constructor(private readonly pool: WorkerPool) {}

  /** Starts `size` workers on `setup.backend` and waits until each is ready. */
  static async start(size: number, setup: WorkerSetup): Promise<ClientWorkerPool> {
    const pool = await WorkerPool.start({
      size,
      spawn: () => threadEndpoint(new URL(import.meta.url), { fedattackClientWorker: true, setup }),
      ready: (m) => {
        const r = m as WorkerReply;
        return r.type === 'ready' ? true : new Error(`client worker failed to start: ${r.type === 'error' ? r.message : r.type}`);
      },
    });
    return new ClientWorkerPool(pool);
  }

  get size(): number {
    return this.pool.size;
  }

  /** Runs one client's local procedure on a free worker. Δ comes back as host arrays. */
  async run(task: WorkerTask, hooks?: LocalHooks, onStart?: () => unknown): Promise<Delta> {
    const r = await this.pool.run<Delta>({
      message: task,
      ...(onStart ? { onStart } : {}),
      reply: (msg) => {
        const m = msg as WorkerReply;
        if (m.type === 'step') void hooks?.onStep?.(m.step, m.steps);
        else if (m.type === 'epoch') void hooks?.onEpoch?.(m.epoch, m.epochs);
        else if (m.type === 'done') return { result: m.result };
        else return { error: new Error(m.type === 'error' ? m.message : `unexpected worker message ${m.type}`) };
        return undefined;
      },
    });
    return r!;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

async function serveClientWorker(setup: WorkerSetup): Promise<void> {
  const port = parentPort!;
  try {
    await loadWorkerPlugins();
    const choice = await selectBackend(setup.backend);
    if (choice.name !== setup.backend) throw new Error(`backend ${setup.backend} requested, ${choice.name} started`);
    const { name: modelName, ...modelOptions } = setup.model;
    const model = createModel(modelName, modelOptions);
    const strategy = makeStrategy(String(setup.strategy['algorithm']), setup.strategy);
    port.on('message', (task: WorkerTask) => {
      void (async () => {
        const n = task.labels.length;
        const [h, w, c] = setup.model.inputShape;
        const global: Params = {};
        for (const [name, shape] of model.paramShapes) global[name] = tf.tensor(task.global[name]!, shape, 'float32');
        const x = tf.tensor4d(task.images, [n, h, w, c], 'float32');
        const labels = tf.tensor1d(task.labels, 'int32');
        let last = 0;
        const hooks: LocalHooks = {
          onEpoch: (epoch, epochs) => port.postMessage({ type: 'epoch', epoch, epochs } satisfies WorkerReply),
        };
        if (task.progressMs > 0) {
          hooks.onStep = (step, steps) => {
            const now = performance.now();
            if (now - last >= task.progressMs || step === steps) {
              last = now;
              port.postMessage({ type: 'step', step, steps } satisfies WorkerReply);
            }
          };
        }
        try {
          const rng = new Rng(task.seed).fork(task.rngLabel);
          const r = await strategy.clientUpdate({
            model, global, data: { x, labels, indices: Array.from({ length: n }, (_, i) => i), numClasses: task.numClasses }, rng, hooks,
          });
          const delta: Record<string, Float32Array> = {};
          for (const [name, t] of Object.entries(r.delta)) delta[name] = (await t.data()) as Float32Array;
          tf.dispose(Object.values(r.delta));
          port.postMessage({ type: 'done', result: { ...r, delta } } satisfies WorkerReply, Object.values(delta).map((a) => a.buffer as ArrayBuffer));
        } catch (e) {
          port.postMessage({ type: 'error', message: (e as Error)?.message ?? String(e) } satisfies WorkerReply);
        } finally {
          tf.dispose([x, labels, ...Object.values(global)]);
        }
      })();
    });
    port.postMessage({ type: 'ready' } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error)?.message ?? String(e) } satisfies WorkerReply);
  }
}

if (!isMainThread && (workerData as { fedattackClientWorker?: boolean } | null)?.fedattackClientWorker === true) {
  void serveClientWorker((workerData as { setup: WorkerSetup }).setup);
}
