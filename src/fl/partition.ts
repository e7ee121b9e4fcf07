/**
 * Partitions of a dataset among federated clients: which sample indices each client holds.
 *
 * - `iid`: a seeded shuffle split as evenly as possible (sizes differ by at most one).
 * - `shards` (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from
 *   Decentralized Data", the pathological non-IID split): samples sorted by label (random order
 *   within a label), cut into numClients * shardsPerClient contiguous shards of equal size (sizes
 *   differ by at most one when it does not divide), and each client gets shardsPerClient random
 *   shards. With class sizes that are multiples of the shard size every shard holds one class, so a
 *   client has at most shardsPerClient classes; otherwise a shard can straddle two classes.
 * - `dirichlet` (Hsu et al. 2019, "Measuring the Effects of Non-Identical Data Distribution for
 *   Federated Visual Classification"): for each class, proportions p ~ Dir(alpha) over the clients,
 *   and the class's shuffled samples are cut at the cumulative proportions. Small alpha gives skewed
 *   clients (few classes each), large alpha approaches iid. A draw where some client gets fewer
 *   than minSamples (default 1) samples is re-drawn, up to maxRetries (default 100) times.
 * - `natural`: one client per user of the data's natural split (LEAF writers), the first numClients
 *   users in a seeded random order.
 *
 * On the command line and in configs (train --partition, matrix partitions) a partition is one spec
 * grammar (src/core/spec.ts), parsed here by {@link parsePartition}: `iid`, `shards:perClient=2`,
 * `dirichlet:alpha=0.5`, `natural` (defaults: perClient 2, alpha 0.5).
 *
 * Every client's index list is sorted ascending. Errors in the request (more clients than samples,
 * more shards than samples, alpha <= 0, natural without users...) are PartitionError, a DataError:
 * a user-facing message, shown without a stack.
 */
import { Rng } from '../engine/rng.js';
import { DataError } from '../../datasets/types.js';
import { median } from '../metrics/stats.js';
import { parseSpec, type Registry } from '../core/spec.js';

export type PartitionSpec =
  | { kind: 'iid' }
  | { kind: 'shards'; shardsPerClient?: number }
  | { kind: 'dirichlet'; alpha: number; minSamples?: number; maxRetries?: number }
  | { kind: 'natural'; users: { id: string; indices: number[] }[] };

/** The partitions of the spec grammar, their parameters and defaults. */
export const partitionRegistry: Registry = {
  kind: 'partition',
  components: [
    { name: 'iid', summary: 'seeded shuffle, equal sizes', params: {} },
    { name: 'shards', summary: 'McMahan et al. label shards', params: { perClient: { type: 'int', default: 2, min: 1, description: 'shards per client' } } },
    { name: 'dirichlet', summary: 'label skew Dir(alpha)', params: { alpha: { type: 'number', default: 0.5, above: 0, description: 'concentration (small = skewed)' } } },
    { name: 'natural', summary: "one client per user of the data's natural split (LEAF writers)", params: {} },
  ],
};

/** A partition as the spec grammar gives it (natural's users come from the dataset). */
export type PartitionChoice =
  | { kind: 'iid' }
  | { kind: 'shards'; shardsPerClient: number }
  | { kind: 'dirichlet'; alpha: number }
  | { kind: 'natural' };

/** Parses `iid`, `shards:perClient=N`, `dirichlet:alpha=A` or `natural` (SpecError, one line, on a mistake). */
export function parsePartition(text: string): PartitionChoice {
  const p = parseSpec(text, partitionRegistry)[0]!;
  if (p.name === 'shards') return { kind: 'shards', shardsPerClient: p.values['perClient'] as number };
  if (p.name === 'dirichlet') return { kind: 'dirichlet', alpha: p.values['alpha'] as number };
  return { kind: p.name as 'iid' | 'natural' };
}

/** The canonical text of a partition, every parameter written out: 'iid', 'shards:perClient=2', 'dirichlet:alpha=0.5'. */
export function formatPartition(c: PartitionChoice): string {
  if (c.kind === 'shards') return `shards:perClient=${c.shardsPerClient}`;
  if (c.kind === 'dirichlet') return `dirichlet:alpha=${c.alpha}`;
  return c.kind;
}

/** The {@link PartitionSpec} of a choice; `natural` needs the dataset's users. */
export function partitionSpecOf(c: PartitionChoice, users?: { id: string; indices: number[] }[]): PartitionSpec {
  return c.kind === 'natural' ? { kind: 'natural', users: users ?? [] } : c;
}

/** A partition request that cannot be met; user-facing. */
export class PartitionError extends DataError {
  constructor(message: string) {
    super(message);
    this.name = 'PartitionError';
  }
}

function sortAsc(a: number[]): number[] {
  return a.sort((x, y) => x - y);
}

function checkClients(numClients: number, n: number, kind: string): void {
  if (!Number.isInteger(numClients) || numClients < 1) {
    throw new PartitionError(`the number of clients must be a positive integer, got ${numClients}`);
  }
  if (kind !== 'natural' && numClients > n) {
    throw new PartitionError(`cannot split ${n} samples among ${numClients} clients: more clients than samples`);
  }
}

function iid(n: number, numClients: number, rng: Rng): number[][] {
  const perm = rng.permutation(n);
  const base = Math.floor(n / numClients);
  const extra = n % numClients;
  const parts: number[][] = [];
  let at = 0;
  for (let k = 0; k < numClients; k++) {
    const size = base + (k < extra ? 1 : 0);
    parts.push(sortAsc(perm.slice(at, at + size)));
    at += size;
  }
  return parts;
}

function shards(labels: Int32Array, numClients: number, shardsPerClient: number, rng: Rng): number[][] {
  const n = labels.length;
  if (!Number.isInteger(shardsPerClient) || shardsPerClient < 1) {
    throw new PartitionError(`shardsPerClient must be a positive integer, got ${shardsPerClient}`);
  }
  const numShards = numClients * shardsPerClient;
  if (numShards > n) {
    throw new PartitionError(
      `cannot cut ${n} samples into ${numShards} shards (${numClients} clients x ${shardsPerClient} shards each): ` +
        `more shards than samples; use fewer clients or fewer shards per client`,
    );
  }
  // Sort by label, random order within a label (shuffle, then a stable sort).
  const order = rng.permutation(n).sort((a, b) => labels[a]! - labels[b]!);
  const base = Math.floor(n / numShards);
  const extra = n % numShards;
  const shardList: number[][] = [];
  let at = 0;
  for (let s = 0; s < numShards; s++) {
    const size = base + (s < extra ? 1 : 0);
    shardList.push(order.slice(at, at + size));
    at += size;
  }
  const assign = rng.permutation(numShards);
  const parts: number[][] = [];
  for (let k = 0; k < numClients; k++) {
    const mine: number[] = [];
    for (let j = 0; j < shardsPerClient; j++) mine.push(...shardList[assign[k * shardsPerClient + j]!]!);
    parts.push(sortAsc(mine));
  }
  return parts;
}

function dirichlet(labels: Int32Array, numClients: number, alpha: number, minSamples: number, maxRetries: number, rng: Rng): number[][] {
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new PartitionError(`the Dirichlet concentration alpha must be a finite number > 0, got ${alpha}`);
  }
  if (!Number.isInteger(minSamples) || minSamples < 0) {
    throw new PartitionError(`minSamples must be a non-negative integer, got ${minSamples}`);
  }
  if (minSamples * numClients > labels.length) {
    throw new PartitionError(`cannot give each of ${numClients} clients ${minSamples} samples: there are only ${labels.length}`);
  }
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => {
    const list = byClass.get(y);
    if (list) list.push(i);
    else byClass.set(y, [i]);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  let smallest = 0;
  for (let attempt = 0; attempt < maxRetries; attempt++) {
    const parts: number[][] = Array.from({ length: numClients }, () => []);
    for (const c of classes) {
      const idx = rng.shuffle(byClass.get(c)!.slice());
      const p = rng.dirichlet(alpha, numClients);
      let cum = 0;
      let start = 0;
      for (let k = 0; k < numClients; k++) {
        cum += p[k]!;
        const end = k === numClients - 1 ? idx.length : Math.min(idx.length, Math.round(cum * idx.length));
        for (let i = start; i < end; i++) parts[k]!.push(idx[i]!);
        start = Math.max(start, end);
      }
    }
    smallest = Math.min(...parts.map((p) => p.length));
    if (smallest >= minSamples) return parts.map(sortAsc);
  }
  throw new PartitionError(
    `Dirichlet partition with alpha=${alpha} over ${numClients} clients left some client with fewer than ${minSamples} ` +
      `sample(s) in each of ${maxRetries} draws (last draw's smallest client: ${smallest}); ` +
      `use a larger alpha, fewer clients or more samples`,
  );
}

function natural(n: number, numClients: number, users: { id: string; indices: number[] }[] | undefined, rng: Rng): number[][] {
  if (!users || users.length === 0) {
    throw new PartitionError(
      'the natural partition needs a dataset with a per-user split (LEAF data such as femnist); this dataset has none',
    );
  }
  if (numClients > users.length) {
    throw new PartitionError(`the natural partition has ${users.length} users, fewer than the ${numClients} clients requested`);
  }
  const order = rng.permutation(users.length).slice(0, numClients);
  return order.map((u) => {
    const user = users[u]!;
    for (const i of user.indices) {
      if (!Number.isInteger(i) || i < 0 || i >= n) {
        throw new PartitionError(`user "${user.id}" lists sample index ${i}, outside 0..${n - 1}`);
      }
    }
    if (user.indices.length === 0) throw new PartitionError(`user "${user.id}" has no samples`);
    return sortAsc(user.indices.slice());
  });
}

/** Each client's sample indices (sorted ascending) under `spec`. */
export function partition(labels: Int32Array, numClients: number, spec: PartitionSpec, rng: Rng): number[][] {
  const n = labels.length;
  checkClients(numClients, n, spec.kind);
  switch (spec.kind) {
    case 'iid':
      return iid(n, numClients, rng);
    case 'shards':
      return shards(labels, numClients, spec.shardsPerClient ?? 2, rng);
    case 'dirichlet':
      return dirichlet(labels, numClients, spec.alpha, spec.minSamples ?? 1, spec.maxRetries ?? 100, rng);
    case 'natural':
      return natural(n, numClients, spec.users, rng);
    default: {
      const kind = (spec as { kind?: unknown }).kind;
      throw new PartitionError(`unknown partition kind ${JSON.stringify(kind)}; expected iid, shards, dirichlet or natural`);
    }
  }
}

export interface ClientSummary {
  samples: number;
  /** Number of classes the client holds at least one sample of. */
  classes: number;
  /** Samples per class. */
  histogram: number[];
}

export interface PartitionSummary {
  clients: ClientSummary[];
  minSamples: number;
  maxSamples: number;
  medianSamples: number;
  meanSamples: number;
  meanClasses: number;
  minClasses: number;
  maxClasses: number;
  numClasses: number;
  totalSamples: number;
}

/** Median with 0 for no values (a partition summary of no clients). */
function medianOrZero(values: number[]): number {
  return values.length === 0 ? 0 : median(values);
}

/** Per-client sample counts and class histograms, and their spread. */
export function summarizePartition(parts: number[][], labels: Int32Array, numClasses: number): PartitionSummary {
  const clients = parts.map((idx) => {
    const histogram = new Array<number>(numClasses).fill(0);
    for (const i of idx) {
      const y = labels[i]!;
      if (y >= 0 && y < numClasses) histogram[y]!++;
    }
    return { samples: idx.length, classes: histogram.filter((c) => c > 0).length, histogram };
  });
  const samples = clients.map((c) => c.samples);
  const classes = clients.map((c) => c.classes);
  const mean = (v: number[]): number => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);
  return {
    clients,
    minSamples: samples.length ? Math.min(...samples) : 0,
    maxSamples: samples.length ? Math.max(...samples) : 0,
    medianSamples: medianOrZero(samples),
    meanSamples: mean(samples),
    meanClasses: mean(classes),
    minClasses: classes.length ? Math.min(...classes) : 0,
    maxClasses: classes.length ? Math.max(...classes) : 0,
    numClasses,
    totalSamples: samples.reduce((a, b) => a + b, 0),
  };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/**
 * A few lines describing a partition: spread of samples and classes per client, then the first
 * `showClients` clients (default 5) with their largest classes.
 */
export function formatPartitionSummary(summary: PartitionSummary, showClients = 5): string {
  const k = summary.clients.length;
  const lines = [
    `${k} client${k === 1 ? '' : 's'}, ${summary.totalSamples} samples; samples per client: ` +
      `min ${summary.minSamples}, median ${fmt(summary.medianSamples)}, max ${summary.maxSamples} (mean ${summary.meanSamples.toFixed(1)})`,
    `classes per client: min ${summary.minClasses}, median ${fmt(medianOrZero(summary.clients.map((c) => c.classes)))}, ` +
      `max ${summary.maxClasses} (mean ${summary.meanClasses.toFixed(2)} of ${summary.numClasses})`,
  ];
  const shown = summary.clients.slice(0, showClients);
  const width = String(Math.max(0, k - 1)).length;
  shown.forEach((c, i) => {
    const top = c.histogram
      .map((count, label) => ({ label, count }))
      .filter((e) => e.count > 0)
      .sort((a, b) => b.count - a.count || a.label - b.label);
    const listed = top.slice(0, 6).map((e) => `${e.label}:${e.count}`).join(' ');
    const more = top.length > 6 ? ` +${top.length - 6} more` : '';
    lines.push(`  client ${String(i).padStart(width)}: ${c.samples} samples, ${c.classes} class${c.classes === 1 ? '' : 'es'} [${listed}${more}]`);
  });
  if (k > shown.length) lines.push(`  ... and ${k - shown.length} more clients`);
  return lines.join('\n');
}
