/**
 * The worker pool (src/core/pool.ts) with a small worker script the test writes, as a worker thread and
 * as a child process: the ready handshake and a failed start, jobs in FIFO order with their progress
 * events, a job's error, a worker that dies (its job fails; the queue fails once no worker is left),
 * a dead worker replaced (respawn), cancellation of queued jobs, close rejecting what is queued, and plug-ins loaded in the worker.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { processEndpoint, threadEndpoint, WorkerPool, type Endpoint, type PoolJob } from '../src/core/pool.js';
import { loadPlugin } from '../src/core/plugins.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fedattack-pool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const POOL_URL = new URL('../src/core/pool.js', import.meta.url).href;
const WORKER = path.join(dir, 'worker.mjs');
writeFileSync(WORKER, `
import { parentPort, workerData } from 'node:worker_threads';
const thread = parentPort !== null;
const send = (m) => (thread ? parentPort.postMessage(m) : process.send(m));
const opts = thread ? workerData : JSON.parse(process.argv[2]);
const { loadWorkerPlugins } = await import(opts.poolUrl);
await loadWorkerPlugins();
if (opts.fail) {
  send({ type: 'start-failed', message: 'cannot start: ' + opts.fail });
} else {
  const onMessage = async (m) => {
    if (m.op === 'echo') {
      for (let i = 0; i < m.events; i++) send({ type: 'event', i });
      send({ type: 'done', value: m.value, slot: opts.slot, plugin: globalThis.__poolTestPlugin ?? null });
    } else if (m.op === 'fail') send({ type: 'error', message: 'job failed: ' + m.value });
    else if (m.op === 'crash') process.exit(3);
  };
  if (thread) parentPort.on('message', onMessage);
  else process.on('message', onMessage);
  send({ type: 'ready' });
}
`);

interface Reply { type: string; value?: unknown; slot?: number; plugin?: unknown; message?: string; i?: number }

const threads = (opts: Record<string, unknown> = {}) => (slot: number): Endpoint =>
  threadEndpoint(pathToFileURL(WORKER), { poolUrl: POOL_URL, slot, ...opts });
const processes = (opts: Record<string, unknown> = {}) => (slot: number): Endpoint =>
  processEndpoint(WORKER, { args: [JSON.stringify({ poolUrl: POOL_URL, slot, ...opts })] });

function job(message: Record<string, unknown>, extra: Partial<PoolJob<Reply>> & { events?: number[] } = {}): PoolJob<Reply> {
  return {
    message,
    reply: (m) => {
      const r = m as Reply;
      if (r.type === 'event') {
        extra.events?.push(r.i!);
        return undefined;
      }
      return r.type === 'done' ? { result: r } : { error: new Error(r.message) };
    },
    ...extra,
  };
}

for (const [kind, spawn] of [['worker threads', threads], ['child processes', processes]] as const) {
  describe(`WorkerPool over ${kind}`, () => {
    it('serves jobs in FIFO order with their events, and fails one job without harming the others', async () => {
      const pool = await WorkerPool.start({ size: 1, spawn: spawn() });
      try {
        assert.equal(pool.size, 1);
        const started: number[] = [];
        const events: number[] = [];
        const runs = [1, 2, 3].map((v) => pool.run(job({ op: 'echo', value: v, events: v }, { onStart: () => started.push(v), events })));
        const failing = pool.run(job({ op: 'fail', value: 'x' }));
        const last = pool.run(job({ op: 'echo', value: 4, events: 0 }));
        const results = await Promise.all(runs);
        assert.deepEqual(results.map((r) => r!.value), [1, 2, 3]);
        assert.deepEqual(started, [1, 2, 3]);
        assert.deepEqual(events, [0, 0, 1, 0, 1, 2]);
        await assert.rejects(failing, /job failed: x/);
        assert.equal((await last)!.value, 4);
      } finally {
        await pool.close();
      }
    });

    it('spreads jobs over its workers', async () => {
      const pool = await WorkerPool.start({ size: 2, spawn: spawn() });
      try {
        const slots = new Set<number>();
        const rs = await Promise.all(Array.from({ length: 6 }, (_, v) => pool.run(job({ op: 'echo', value: v, events: 0 }, { onStart: (s) => slots.add(s) }))));
        assert.deepEqual(rs.map((r) => r!.value), [0, 1, 2, 3, 4, 5]);
        assert.deepEqual([...slots].sort(), [0, 1]);
        for (const r of rs) assert.ok(r!.slot === 0 || r!.slot === 1);
      } finally {
        await pool.close();
      }
    });

    it('rejects a failed start with the worker\'s message', async () => {
      await assert.rejects(WorkerPool.start({ size: 2, spawn: spawn({ fail: 'no backend' }) }), /cannot start: no backend/);
    });

    it('drops a cancelled job before it starts; a result can cancel the jobs queued behind it', async () => {
      const pool = await WorkerPool.start({ size: 1, spawn: spawn() });
      try {
        let cut = false;
        const started: number[] = [];
        const first = pool.run(job({ op: 'echo', value: 1, events: 0 }, { onStart: () => started.push(1) })).then((r) => {
          cut = true;
          return r;
        });
        const second = pool.run(job({ op: 'echo', value: 2, events: 0 }, { cancelled: () => cut, onStart: () => started.push(2) }));
        const third = pool.run(job({ op: 'echo', value: 3, events: 0 }, { onStart: () => started.push(3) }));
        assert.equal((await first)!.value, 1);
        assert.equal(await second, undefined);
        assert.equal((await third)!.value, 3);
        assert.deepEqual(started, [1, 3]);
      } finally {
        await pool.close();
      }
    });

    it('fails the job of a worker that dies, then the queue once no worker is left; close rejects queued jobs', async () => {
      const pool = await WorkerPool.start({ size: 1, spawn: spawn() });
      try {
        const crash = pool.run(job({ op: 'crash' }));
        const queued = pool.run(job({ op: 'echo', value: 1, events: 0 }));
        await Promise.all([assert.rejects(crash, /exited/), assert.rejects(queued, /every worker of the pool has exited/)]);
      } finally {
        await pool.close();
      }
      const pool2 = await WorkerPool.start({ size: 1, spawn: spawn() });
      const running = pool2.run(job({ op: 'echo', value: 1, events: 0 }));
      const queued = assert.rejects(pool2.run(job({ op: 'echo', value: 2, events: 0 })), /closed/);
      const settled = running.catch(() => undefined);
      await pool2.close();
      await queued;
      await settled;
      await assert.rejects(pool2.run(job({ op: 'echo', value: 3, events: 0 })), /closed/);
    });

    it('with respawn, a fresh worker takes the slot of one that died and the queue goes on', async () => {
      let spawned = 0;
      const pool = await WorkerPool.start({ size: 1, respawn: true, spawn: (slot) => { spawned++; return spawn()(slot); } });
      try {
        const crash = pool.run(job({ op: 'crash' }));
        const after1 = pool.run(job({ op: 'echo', value: 'a', events: 0 }));
        const after2 = pool.run(job({ op: 'echo', value: 'b', events: 0 }));
        await assert.rejects(crash, /exited/);
        assert.deepEqual([(await after1)!.value, (await after2)!.value], ['a', 'b']);
        assert.equal(spawned, 2);
      } finally {
        await pool.close();
      }
    });
  });
}

describe('WorkerPool and plug-ins', () => {
  it('workers load the plug-ins loaded in this thread before serving jobs', async () => {
    const plugin = path.join(dir, 'plugin.mjs');
    writeFileSync(plugin, 'globalThis.__poolTestPlugin = "loaded " + (globalThis.__poolTestPlugin === undefined ? "once" : "twice");\n');
    await loadPlugin(plugin);
    for (const spawn of [threads, processes]) {
      const pool = await WorkerPool.start({ size: 1, spawn: spawn() });
      try {
        const r = await pool.run(job({ op: 'echo', value: 0, events: 0 }));
        assert.equal(r!.plugin, 'loaded once');
      } finally {
        await pool.close();
      }
    }
  });
});
