/**
 * One cell of `fedattack matrix`: a complete federated run from its settings alone (so it runs the
 * same in any process), returning plain JSON. `runMatrixCell` maps the cell's settings to
 * FederatedSettings (`cellRunSettings`) and calls runFederatedExperiment (src/experiments/federated.ts),
 * which writes only the leak images; nothing of the run is built here.
 *
 * - clean / poison cells: FedAvg (E, B, lr) on the partitioned dataset with the defense's aggregator
 *   (built assuming F Byzantine clients) and client defense; in poison cells a fixed set of F clients
 *   (drawn with the seed, as `fedattack train`) runs the attack in the rounds it is sampled. Recorded:
 *   per-round test accuracy, and for backdoors the attack success rate per round. Same numbers as
 *   `fedattack train` with the same settings and seed.
 * - leak cells: an honest-but-curious server attacks what it observes. Every client holds `leakage.batch`
 *   samples (a seeded subset of clients·batch training samples, iid) and runs one local epoch with
 *   B = batch, so each observed update is one SGD step, Δ = −lr·∇L(batch): a FedSGD-style observation
 *   of a small batch, the setting in which DLG/iDLG are meaningful. The first `leakage.clients` honest
 *   clients observed in rounds 1..leakage.rounds are attacked; the reconstruction is scored against the
 *   client's real samples (PSNR, SSIM, label accuracy). Client defenses change the observed update
 *   (adversarial examples, clipping + noise); the aggregator only acts after the observation.
 */
import { selectBackend, type BackendChoice } from '../../engine/backend.js';
import type { DatasetSplit } from '../../../datasets/index.js';
import { loadFederatedData, runFederatedExperiment, type FederatedSettings } from '../federated.js';
import type { LeakRecord } from '../leak-observer.js';
import { isBackdoor, leakName, type CellSettings } from './config.js';

export interface CellRound {
  round: number;
  accuracy: number | null;
  loss: number | null;
  attackSuccessRate?: number | null;
  /** Backdoor: clean (untriggered) test inputs whose class is not the target, classified as the target. */
  cleanTargetRate?: number | null;
  maliciousClients?: number[];
  droppedClients?: number[];
}

export interface CellResult {
  kind: CellSettings['kind'];
  finalAccuracy: number | null;
  rounds: CellRound[];
  /** Backdoor: ASR of the final model, the best round, and the mean over the rounds an attacker was sampled in. */
  attackSuccessRate?: number | null;
  maxAttackSuccessRate?: number | null;
  attackSuccessRateWhenSampled?: number | null;
  /** Backdoor: the final model's rate of predicting the target on clean non-target inputs (ASR's baseline). */
  cleanTargetRate?: number | null;
  byzantineClients?: number[];
  /** Mean (non-finite) update stopped the run: its round, and the message. */
  stoppedAtRound?: number;
  stopped?: string;
  /** Leak cells: means over the attacked clients, and every record. */
  psnr?: number | null;
  ssim?: number | null;
  labelAccuracy?: number | null;
  leakRecords?: LeakRecord[];
  /** Wall-clock seconds (not part of the result's meaning; differs between runs). */
  seconds: number;
}

const datasets = new Map<string, DatasetSplit>();
let backendReady: BackendChoice | null = null;

/** The federated-run settings of a cell (see the file header; leak cells: iid, B = batch, one local epoch). */
export function cellRunSettings(s: CellSettings): FederatedSettings {
  const common: FederatedSettings = {
    dataset: s.dataset, model: s.model, clients: s.clients, fraction: s.fraction, lr: s.lr, algorithm: 'fedavg', serverLr: 1,
    byzantine: s.byzantine, aggregator: s.defense.aggregator, seed: s.seed, backend: s.backend, workers: 1,
    ...(s.dataDir !== undefined ? { dataDir: s.dataDir } : {}),
    ...(s.testSize !== undefined ? { testSize: s.testSize } : {}),
    ...(s.defense.clientDefense !== undefined ? { clientDefense: s.defense.clientDefense } : {}),
  };
  if (s.kind === 'leak') {
    const L = s.leakage;
    if (L === undefined) throw new Error('leak cell without leakage settings');
    return {
      ...common, partition: 'iid', localEpochs: 1, batchSize: L.batch, rounds: L.rounds, trainSize: s.clients * L.batch,
      leak: leakName(s.attack), leakClients: L.clients, leakRounds: L.rounds, leakIterations: L.iterations, leakRestarts: L.restarts,
    };
  }
  return {
    ...common, partition: s.partition, localEpochs: s.localEpochs!, batchSize: s.batchSize!, rounds: s.rounds!,
    ...(s.trainSize !== undefined ? { trainSize: s.trainSize } : {}),
    ...(s.kind === 'poison' ? { attack: s.attack } : {}),
  };
}

/** The cell's dataset, loaded once per process for cells that share it. */
async function dataset(s: FederatedSettings): Promise<DatasetSplit> {
  const key = JSON.stringify([s.dataset, s.dataDir, s.trainSize, s.testSize, s.seed]);
  let d = datasets.get(key);
  if (d === undefined) {
    d = await loadFederatedData(s);
    if (datasets.size > 4) datasets.clear();
    datasets.set(key, d);
  }
  return d;
}

/** Loads the dataset a cell would use (config validation: a missing or bad dataset fails before any cell runs). */
export async function checkDataset(s: CellSettings): Promise<DatasetSplit> {
  return dataset(cellRunSettings(s));
}

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Runs one cell: runFederatedExperiment with the cell's settings (only leak images are written, under outDir). */
export async function runMatrixCell(s: CellSettings, outDir: string): Promise<CellResult> {
  const t0 = performance.now();
  if (backendReady === null || backendReady.requested !== s.backend) backendReady = await selectBackend(s.backend);
  const settings = cellRunSettings(s);
  const { metrics } = await runFederatedExperiment(settings, { outDir, files: 'leak-images', backend: backendReady, data: await dataset(settings) });
  const result: CellResult = { kind: s.kind, finalAccuracy: metrics.error !== undefined ? null : metrics.finalAccuracy ?? null, rounds: [], seconds: 0 };
  if (metrics.byzantineClients !== undefined) result.byzantineClients = metrics.byzantineClients;
  if (metrics.stoppedAtRound !== undefined) {
    result.stoppedAtRound = metrics.stoppedAtRound;
    result.stopped = metrics.error!;
  }
  result.rounds = metrics.rounds.map((m) => {
    const row: CellRound = { round: m.round, accuracy: m.accuracy, loss: m.loss };
    if (m.attackSuccessRate !== undefined) row.attackSuccessRate = m.attackSuccessRate;
    if (m.cleanTargetRate !== undefined) row.cleanTargetRate = m.cleanTargetRate;
    if (m.maliciousClients !== undefined) row.maliciousClients = m.maliciousClients;
    if (m.droppedClients !== undefined) row.droppedClients = m.droppedClients;
    return row;
  });
  if (s.kind === 'poison' && isBackdoor(s.attack)) {
    const asr = result.rounds.map((r) => r.attackSuccessRate).filter((v): v is number => typeof v === 'number');
    result.attackSuccessRate = result.stoppedAtRound !== undefined ? null : (result.rounds.at(-1)?.attackSuccessRate ?? null);
    result.cleanTargetRate = result.stoppedAtRound !== undefined ? null : (result.rounds.at(-1)?.cleanTargetRate ?? null);
    result.maxAttackSuccessRate = asr.length > 0 ? Math.max(...asr) : null;
    result.attackSuccessRateWhenSampled = mean(result.rounds.filter((r) => (r.maliciousClients?.length ?? 0) > 0 && typeof r.attackSuccessRate === 'number').map((r) => r.attackSuccessRate!));
  }
  if (metrics.leakage !== undefined) {
    const done = metrics.leakage.filter((r) => r.psnr !== undefined);
    result.psnr = mean(done.map((r) => r.psnr!));
    result.ssim = mean(done.map((r) => r.ssim!));
    result.labelAccuracy = mean(done.map((r) => r.labelAccuracy!));
    result.leakRecords = metrics.leakage.map((r) => {
      const { seconds: _s, ...rest } = r;
      return rest;
    });
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
