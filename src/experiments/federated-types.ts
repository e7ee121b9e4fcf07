/**
 * The plain-JSON shapes of a federated run (src/experiments/federated.ts): the settings that define
 * what is trained, the per-round metrics and metrics.json.
 */
import type { RoundMetrics } from '../fl/types.js';
import type { LeakRecord } from './leak-observer.js';

/** The settings that define what a run trains (stored in the checkpoint and in metrics.json). */
export interface FederatedConfig {
  dataset: string;
  model: string;
  clients: number;
  fraction: number;
  clientsPerRound: number;
  localEpochs: number;
  batchSize: number;
  lr: number;
  rounds: number;
  /** Partition kind; its parameter is `shardsPerClient` or `alpha`. */
  partition: string;
  shardsPerClient?: number;
  alpha?: number;
  algorithm: string;
  mu?: number;
  serverLr: number;
  trainSize?: number;
  testSize?: number;
  evalEvery: number;
  attack?: string;
  byzantine?: number;
  aggregator?: string;
  clientDefense?: string;
}

/** metrics.json of a run: the settings, data facts, per-round metrics and the final result. */
export interface FederatedMetrics extends Omit<FederatedConfig, 'rounds'> {
  command: 'train';
  backend: string;
  backendDetail: string;
  seed: number;
  totalRounds: number;
  dataDir?: string;
  trainSamples: number;
  testSamples: number;
  inputShape: number[];
  classes: number;
  parameters: number;
  attackSpec?: string;
  byzantineClients?: number[];
  aggregatorSpec: string;
  partitionSummary: Record<string, number>;
  rounds: FederatedRound[];
  finalAccuracy?: number | null;
  finalLoss?: number | null;
  completedRounds?: number;
  resumedFrom?: number;
  seconds?: number;
  complete: boolean;
  stoppedAtRound?: number;
  error?: string;
  leakage?: LeakRecord[];
}

/** One round's metrics: the harness's, plus backdoor rates and dropped non-finite updates. */
export type FederatedRound = RoundMetrics & { attackSuccessRate?: number | null; cleanTargetRate?: number | null; droppedClients?: number[] };

