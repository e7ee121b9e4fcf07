/**
 * Worker thread of {@link LeakPool} (parallel.ts). Starts the backend it is told (selectBackend, as the
 * CLI does: fedattack's kernels and gradients are registered), then runs the jobs it is sent, one at a
 * time: 'restart' (runRestart: one restart with its stall detection and divergence retry) or 'run'
 * (runAttack on one observation, restarts one after another). Its stop flag (SharedArrayBuffer, index
 * `slot`) is the jobs' `shouldStop`. Every job frees the tensors it made; the tensor count after each
 * job is sent with its result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadWorkerPlugins } from '../../src/core/pool.js';
import { tf } from '../../src/engine/tf.js';
import { selectBackend } from '../../src/engine/backend.js';
import { createModel, type Model } from '../../src/models/index.js';
import { getLeakageAttack } from './index.js';
import { disposeObservation, runAttack, runRestart, type ModelSpec, type RunOptions } from './run.js';
import { fromWire, RUN, type JobMessage, type WorkerEvent } from './parallel.js';

const port = parentPort;
if (port === null) {
  process.stderr.write('fedattack leakage worker: must be started as a worker thread by LeakPool\n');
  process.exit(2);
}
const post = (e: WorkerEvent): void => port.postMessage(e);
const { backend, flags, slot } = workerData as { backend: string; flags: SharedArrayBuffer; slot: number };
const stop = new Int32Array(flags);

const models = new Map<string, Model>();
function modelFor(spec: ModelSpec): Model {
  const key = JSON.stringify(spec);
  let m = models.get(key);
  if (m === undefined) {
    m = createModel(spec.name, spec.options);
    models.set(key, m);
  }
  return m;
}

async function handle(m: JobMessage): Promise<void> {
  try {
    const attack = getLeakageAttack(m.attack);
    const obs = fromWire(m.obs, modelFor(m.model));
    const opts: RunOptions = {
      ...m.opts,
      shouldStop: () => Atomics.load(stop, slot) !== RUN,
      onAttempt: (i) => post({ type: 'attempt', id: m.id, ...i }),
      onStep: (info) => post({ type: 'step', id: m.id, info }),
    };
    let result;
    try {
      result = m.type === 'restart' ? await runRestart(attack, obs, opts, m.job) : await runAttack(attack, obs, { ...opts, workers: 1 });
    } finally {
      disposeObservation(obs);
    }
    post({ type: 'done', id: m.id, result, numTensors: tf.memory().numTensors });
  } catch (e) {
    const err = e as Error;
    post({ type: 'failed', id: m.id, name: err?.constructor?.name ?? 'Error', message: err?.message ?? String(e) });
  }
}

try {
  await loadWorkerPlugins();
  await selectBackend(backend);
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (m: JobMessage) => {
    queue = queue.then(() => handle(m));
  });
  post({ type: 'ready' });
} catch (e) {
  post({ type: 'start-failed', message: (e as Error)?.message ?? String(e) });
}
