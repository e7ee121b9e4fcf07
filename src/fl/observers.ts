/**
 * Ready-made observers, and helpers for writing new ones.
 *
 * An observer is the honest-but-curious server's point of view: it receives one {@link Observation} per
 * sampled client per round (what that client sent, plus the global model it started from) and may do
 * anything with it — a gradient-leakage attack reconstructs the client's data from it, a logger records
 * statistics. Leakage attacks plug in here (e.g. an observer that runs DLG on every observed gradient
 * of round 1 and keeps the PSNR). Tensors of the observation are the harness's: read or clone them.
 *
 * - {@link recordingObserver}: keeps a summary of every observation (round, client, kind, numSamples,
 *   batch size, steps, lr, ‖Δ‖₂) and optionally a copy of the deltas (as Float32Arrays).
 * - {@link callbackObserver}: wraps a function.
 */
import { tf } from '../engine/tf.js';
import type { Params } from '../models/index.js';
import type { Observation, ObservationTruth, Observer } from './types.js';

/** ‖Δ‖₂ over all parameters (one read-back). */
export async function paramsNorm(p: Params): Promise<number> {
  const s = tf.tidy(() => tf.addN(Object.values(p).map((t) => tf.sum(tf.square(t)))).reshape([]));
  const v = (await s.data())[0]!;
  s.dispose();
  return Math.sqrt(v);
}

/** Host copies of a set of parameters. */
export async function paramsToArrays(p: Params): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(p)) out[name] = (await t.data()) as Float32Array;
  return out;
}

export interface ObservationRecord {
  round: number;
  clientId: string;
  clientIndex: number;
  malicious: boolean;
  kind: Observation['kind'];
  numSamples: number;
  batchSize: number;
  localSteps: number;
  epochs: number;
  lr: number;
  deltaNorm: number;
  /** Present when the recorder keeps deltas. */
  delta?: Record<string, Float32Array>;
}

export interface RecordingObserver extends Observer {
  readonly records: ObservationRecord[];
  finish(): { observations: number; rounds: number };
}

/** Records every observation (see the file header). */
export function recordingObserver(opts: { keepDeltas?: boolean; name?: string } = {}): RecordingObserver {
  const records: ObservationRecord[] = [];
  return {
    name: opts.name ?? 'recorder',
    records,
    async observe(obs: Observation, truth: ObservationTruth): Promise<void> {
      const rec: ObservationRecord = {
        round: obs.round,
        clientId: obs.clientId,
        clientIndex: truth.clientIndex,
        malicious: truth.malicious,
        kind: obs.kind,
        numSamples: obs.numSamples,
        batchSize: obs.batchSize,
        localSteps: obs.localSteps,
        epochs: obs.epochs,
        lr: obs.lr,
        deltaNorm: await paramsNorm(obs.delta),
      };
      if (opts.keepDeltas) rec.delta = await paramsToArrays(obs.delta);
      records.push(rec);
    },
    finish() {
      return { observations: records.length, rounds: new Set(records.map((r) => r.round)).size };
    },
  };
}

/** An observer from a function. */
export function callbackObserver(name: string, fn: (obs: Observation, truth: ObservationTruth) => Promise<void> | void): Observer {
  return { name, observe: fn };
}
