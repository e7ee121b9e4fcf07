import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/engine/rng.js';
import { partition, summarizePartition, formatPartitionSummary, PartitionError, type PartitionSpec } from '../src/fl/partition.js';
import { DataError } from '../datasets/types.js';

/** `perClass` samples of each of `classes` classes, interleaved 0,1,2,...,0,1,2,... */
function balancedLabels(classes: number, perClass: number): Int32Array {
  return Int32Array.from({ length: classes * perClass }, (_, i) => i % classes);
}

function assertExactCover(parts: number[][], n: number): void {
  const seen = new Uint8Array(n);
  for (const p of parts) {
    for (const i of p) {
      assert.ok(Number.isInteger(i) && i >= 0 && i < n, `index ${i} out of range`);
      assert.equal(seen[i], 0, `index ${i} used twice`);
      seen[i] = 1;
    }
  }
  assert.ok(seen.every((s) => s === 1), 'some index unused');
}

function meanClasses(parts: number[][], labels: Int32Array, numClasses: number): number {
  return summarizePartition(parts, labels, numClasses).meanClasses;
}

describe('iid', () => {
  test('every index exactly once, sizes differ by at most one, roughly all classes everywhere', () => {
    const labels = balancedLabels(10, 101);
    const parts = partition(labels, 7, { kind: 'iid' }, new Rng(1));
    assert.equal(parts.length, 7);
    assertExactCover(parts, labels.length);
    const sizes = parts.map((p) => p.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes}`);
    assert.equal(meanClasses(parts, labels, 10), 10);
    for (const p of parts) assert.deepEqual(p, p.slice().sort((a, b) => a - b));
  });

  test('same seed same partition, different seed different partition', () => {
    const labels = balancedLabels(10, 50);
    const a = partition(labels, 5, { kind: 'iid' }, new Rng(3));
    const b = partition(labels, 5, { kind: 'iid' }, new Rng(3));
    const c = partition(labels, 5, { kind: 'iid' }, new Rng(4));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe('shards', () => {
  test('exact cover; at most shardsPerClient classes per client when shards align with classes', () => {
    const labels = balancedLabels(10, 100);
    for (const shardsPerClient of [1, 2, 3]) {
      // 10 classes x 100 = 1000 samples; 20 clients x spc shards: shard size divides 100 for spc 1, 2 (50, 25).
      const clients = shardsPerClient === 3 ? 10 : 20;
      const parts = partition(labels, clients, { kind: 'shards', shardsPerClient }, new Rng(2));
      assertExactCover(parts, labels.length);
      const s = summarizePartition(parts, labels, 10);
      if (shardsPerClient !== 3) {
        for (const c of s.clients) assert.ok(c.classes <= shardsPerClient, `${c.classes} classes with ${shardsPerClient} shards`);
      }
      assert.ok(s.maxSamples - s.minSamples <= shardsPerClient);
    }
    // Default: 2 shards per client.
    const parts = partition(labels, 50, { kind: 'shards' }, new Rng(9));
    assert.ok(summarizePartition(parts, labels, 10).clients.every((c) => c.classes <= 2 && c.samples === 20));
  });

  test('uneven sizes still cover every index', () => {
    const labels = Int32Array.from({ length: 997 }, (_, i) => (i * 7) % 10);
    const parts = partition(labels, 13, { kind: 'shards', shardsPerClient: 3 }, new Rng(5));
    assertExactCover(parts, labels.length);
  });

  test('same seed same partition', () => {
    const labels = balancedLabels(10, 20);
    assert.deepEqual(partition(labels, 10, { kind: 'shards' }, new Rng(8)), partition(labels, 10, { kind: 'shards' }, new Rng(8)));
  });

  test('errors: more shards than samples, bad shardsPerClient', () => {
    const labels = balancedLabels(2, 5);
    assert.throws(() => partition(labels, 6, { kind: 'shards', shardsPerClient: 2 }, new Rng(1)), (e: unknown) =>
      e instanceof PartitionError && /12 shards/.test(e.message) && /10 samples/.test(e.message));
    assert.throws(() => partition(labels, 2, { kind: 'shards', shardsPerClient: 0 }, new Rng(1)), PartitionError);
    assert.throws(() => partition(labels, 2, { kind: 'shards', shardsPerClient: 1.5 }, new Rng(1)), PartitionError);
  });
});

describe('dirichlet', () => {
  test('exact cover; smaller alpha gives more skew', () => {
    const labels = balancedLabels(10, 200);
    const mc: Record<string, number> = {};
    for (const alpha of [0.1, 1, 100]) {
      const parts = partition(labels, 20, { kind: 'dirichlet', alpha }, new Rng(11));
      assertExactCover(parts, labels.length);
      assert.ok(parts.every((p) => p.length >= 1));
      mc[alpha] = meanClasses(parts, labels, 10);
    }
    assert.ok(mc[0.1]! < mc[1]! && mc[1]! < mc[100]!, JSON.stringify(mc));
    assert.ok(mc[0.1]! < 5, `alpha 0.1 mean classes ${mc[0.1]}`);
    assert.ok(mc[100]! > 9.5, `alpha 100 mean classes ${mc[100]}`);
  });

  test('same seed same partition; minSamples honoured', () => {
    const labels = balancedLabels(10, 50);
    const spec: PartitionSpec = { kind: 'dirichlet', alpha: 0.5, minSamples: 10 };
    const a = partition(labels, 10, spec, new Rng(21));
    assert.deepEqual(a, partition(labels, 10, spec, new Rng(21)));
    assert.ok(a.every((p) => p.length >= 10));
  });

  test('errors: alpha <= 0, impossible draws after bounded retries', () => {
    const labels = balancedLabels(10, 10);
    for (const alpha of [0, -1, Number.NaN, Infinity]) {
      assert.throws(() => partition(labels, 5, { kind: 'dirichlet', alpha }, new Rng(1)), (e: unknown) => e instanceof PartitionError && /alpha/.test(e.message));
    }
    assert.throws(
      () => partition(labels, 90, { kind: 'dirichlet', alpha: 0.01, maxRetries: 20 }, new Rng(1)),
      (e: unknown) => e instanceof PartitionError && /20 draws/.test(e.message) && /larger alpha/.test(e.message),
    );
  });
});

describe('natural', () => {
  const users = [
    { id: 'a', indices: [0, 1, 2] },
    { id: 'b', indices: [3, 4] },
    { id: 'c', indices: [5] },
    { id: 'd', indices: [6, 7, 8, 9] },
  ];
  const labels = Int32Array.from({ length: 10 }, (_, i) => i % 3);

  test('one client per user; all users give an exact cover; seeded choice of users', () => {
    const all = partition(labels, 4, { kind: 'natural', users }, new Rng(1));
    assertExactCover(all, 10);
    const sets = all.map((p) => p.join(',')).sort();
    assert.deepEqual(sets, users.map((u) => u.indices.join(',')).sort());
    const two = partition(labels, 2, { kind: 'natural', users }, new Rng(5));
    assert.equal(two.length, 2);
    assert.deepEqual(two, partition(labels, 2, { kind: 'natural', users }, new Rng(5)));
    for (const p of two) assert.ok(users.some((u) => u.indices.join(',') === p.join(',')));
  });

  test('errors: no users, more clients than users, bad index', () => {
    assert.throws(() => partition(labels, 2, { kind: 'natural', users: [] }, new Rng(1)), (e: unknown) => e instanceof PartitionError && /per-user/.test(e.message));
    assert.throws(() => partition(labels, 5, { kind: 'natural', users }, new Rng(1)), (e: unknown) => e instanceof PartitionError && /4 users/.test(e.message));
    assert.throws(() => partition(labels, 1, { kind: 'natural', users: [{ id: 'x', indices: [10] }] }, new Rng(1)), PartitionError);
  });
});

describe('common errors and summaries', () => {
  test('more clients than samples; non-integer clients; unknown kind; PartitionError is a DataError', () => {
    const labels = balancedLabels(2, 3);
    assert.throws(() => partition(labels, 7, { kind: 'iid' }, new Rng(1)), (e: unknown) =>
      e instanceof PartitionError && e instanceof DataError && /6 samples among 7 clients/.test(e.message));
    assert.throws(() => partition(labels, 0, { kind: 'iid' }, new Rng(1)), PartitionError);
    assert.throws(() => partition(labels, 2, { kind: 'zipf' } as unknown as PartitionSpec, new Rng(1)), /unknown partition kind/);
  });

  test('summary numbers and a short text for many clients', () => {
    const labels = balancedLabels(10, 100);
    const parts = partition(labels, 100, { kind: 'shards', shardsPerClient: 2 }, new Rng(3));
    const s = summarizePartition(parts, labels, 10);
    assert.equal(s.clients.length, 100);
    assert.equal(s.minSamples, 10);
    assert.equal(s.maxSamples, 10);
    assert.equal(s.totalSamples, 1000);
    assert.ok(s.meanClasses >= 1 && s.meanClasses <= 2);
    assert.equal(s.clients[0]!.histogram.reduce((a, b) => a + b, 0), 10);
    const text = formatPartitionSummary(s);
    const lines = text.split('\n');
    assert.ok(lines.length <= 10, text);
    assert.match(lines[0]!, /100 clients, 1000 samples/);
    assert.match(lines[0]!, /min 10, median 10, max 10/);
    assert.match(text, /classes per client/);
    assert.match(text, /client +0: 10 samples/);
    assert.match(text, /95 more clients/);

    const hand = summarizePartition([[0, 1, 2], [3]], Int32Array.from([0, 0, 1, 2]), 3);
    assert.deepEqual(hand.clients.map((c) => c.histogram), [[2, 1, 0], [0, 0, 1]]);
    assert.equal(hand.meanClasses, 1.5);
    assert.equal(hand.medianSamples, 2);
  });
});
