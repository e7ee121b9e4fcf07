/**
 * One cell of `fedattack matrix`: a complete federated run from its settings alone (so it runs the
 * same in any process), returning plain JSON.
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
import path from 'node:path';
import { tf } from '../../engine/tf.js';
import { selectBackend } from '../../engine/backend.js';
import { Rng } from '../../engine/rng.js';
import { createModel } from '../../models/index.js';
import { loadDataset, resolveDatasetDir, type DatasetSplit, type LoadOptions } from '../../../datasets/index.js';
import { existsSync } from 'node:fs';
import { partition, type PartitionSpec } from '../../fl/partition.js';
import { makeStrategy } from '../../fl/algorithms.js';
import { NonFiniteUpdateError, runFederated } from '../../fl/harness.js';
import { adversarialStrategy, BackdoorEvaluator, behaviourFromCraft, chooseByzantine, harnessAggregator } from '../poisoning.js';
import { leakageObserver, type LeakRecord } from '../leak-observer.js';
import { buildAttack, ModelReplacement } from '../../../attacks/poisoning/index.js';
import { buildAggregator, Mean } from '../../../defenses/aggregation/index.js';
import { parseAdversarial } from '../../../defenses/training/adversarial.js';
import { clipNoiseTransform, parseClipNoise } from '../../../defenses/training/clip-noise.js';
import { parseSpec } from '../../core/spec.js';
import type { RoundMetrics, UpdateTransform } from '../../fl/types.js';
import { dataTensors, disposeData, type DataTensors } from '../../fl/client.js';
import { evaluate } from '../../fl/evaluate.js';
import type { Dataset } from '../../../datasets/index.js';
import { clientDefenseKind, leakName, partitionRegistry, type CellSettings } from './config.js';

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
let backendReady: string | null = null;

async function dataset(s: CellSettings, trainSize: number | undefined): Promise<DatasetSplit> {
  const load: LoadOptions = { seed: s.seed };
  if (trainSize !== undefined) load.trainSize = trainSize;
  if (s.testSize !== undefined) load.testSize = s.testSize;
  if (s.dataDir !== undefined && s.dataset !== 'synthetic') {
    const dataDir = path.resolve(s.dataDir);
    load.dataDir = dataDir;
    if (!existsSync(await resolveDatasetDir(s.dataset, { dataDir }))) load.path = dataDir;
  }
  const key = JSON.stringify([s.dataset, load]);
  let d = datasets.get(key);
  if (d === undefined) {
    d = await loadDataset(s.dataset, load);
    if (datasets.size > 4) datasets.clear();
    datasets.set(key, d);
  }
  return d;
}

/** Loads the dataset a cell would use (config validation: a missing or bad dataset fails before any cell runs). */
export async function checkDataset(s: CellSettings): Promise<DatasetSplit> {
  return dataset(s, s.trainSize);
}

function partitionSpec(text: string): PartitionSpec {
  const p = parseSpec(text, partitionRegistry)[0]!;
  if (p.name === 'shards') return { kind: 'shards', shardsPerClient: p.values['perClient'] as number };
  if (p.name === 'dirichlet') return { kind: 'dirichlet', alpha: p.values['alpha'] as number };
  return { kind: 'iid' };
}

/** The test inputs whose class is not `target`, labelled `target` (accuracy on it = rate of predicting the target). */
function nonTargetSet(test: Dataset, target: number): DataTensors | null {
  const [h, w, c] = test.shape;
  const per = h * w * c;
  const keep: number[] = [];
  for (let i = 0; i < test.labels.length; i++) if (test.labels[i] !== target) keep.push(i);
  if (keep.length === 0) return null;
  const images = new Float32Array(keep.length * per);
  keep.forEach((i, k) => images.set(test.images.subarray(i * per, (i + 1) * per), k * per));
  return dataTensors({ ...test, images, labels: new Int32Array(keep.length).fill(target), users: undefined } as Dataset);
}

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

export async function runCell(s: CellSettings, outDir: string): Promise<CellResult> {
  const t0 = performance.now();
  if (backendReady !== s.backend) {
    await selectBackend(s.backend);
    backendReady = s.backend;
  }
  const leak = s.kind === 'leak';
  const L = s.leakage;
  if (leak && L === undefined) throw new Error('leak cell without leakage settings');
  const trainSize = leak ? s.clients * L!.batch : s.trainSize;
  const { train, test } = await dataset(s, trainSize);
  const parts = partition(train.labels, s.clients, leak ? { kind: 'iid' } : partitionSpec(s.partition), new Rng(s.seed).fork('partition'));
  const model = createModel(s.model, { inputShape: train.shape, classes: train.numClasses });
  const epochs = leak ? 1 : s.localEpochs!;
  const batchSize = leak ? L!.batch : s.batchSize!;
  const rounds = leak ? L!.rounds : s.rounds!;
  let strategy = makeStrategy('fedavg', { epochs, batchSize, lr: s.lr, serverLr: 1 });
  const transforms: UpdateTransform[] = [];
  if (s.defense.clientDefense !== undefined) {
    if (clientDefenseKind(s.defense.clientDefense) === 'adversarial') strategy = adversarialStrategy(strategy, parseAdversarial(s.defense.clientDefense));
    else transforms.push(clipNoiseTransform(parseClipNoise(s.defense.clientDefense)));
  }
  const flat = buildAggregator(s.defense.aggregator, { numByzantine: s.byzantine, seed: s.seed });
  const plainMean = flat instanceof Mean;
  const attack = s.kind === 'poison' ? buildAttack(s.attack) : null;
  const byzantineClients = attack !== null ? chooseByzantine(s.clients, s.byzantine, new Rng(s.seed).fork('byzantine')) : [];
  const byzantineSet = new Set(byzantineClients);
  const behaviour = attack !== null ? behaviourFromCraft(attack) : null;
  const backdoor = attack instanceof ModelReplacement ? new BackdoorEvaluator(test, attack) : null;
  // Without the trigger: a model that predicts the target for everything is not a backdoor.
  const cleanTarget: DataTensors | null = attack instanceof ModelReplacement ? nonTargetSet(test, attack.target) : null;
  const observer = leak
    ? leakageObserver({
        attack: leakName(s.attack), clients: L!.clients, rounds: L!.rounds, seed: s.seed, train,
        outDir, iterations: L!.iterations, restarts: L!.restarts,
      })
    : null;

  const result: CellResult = { kind: s.kind, finalAccuracy: null, rounds: [], seconds: 0 };
  if (attack !== null) result.byzantineClients = byzantineClients;
  let history: RoundMetrics[] = [];
  try {
    const r = await runFederated({
      model, train, test, partition: parts, strategy, rounds, fraction: s.fraction, seed: s.seed,
      ...(plainMean ? {} : { aggregator: harnessAggregator(flat) }),
      nonFinite: plainMean ? 'stop' : 'drop',
      ...(behaviour !== null ? { behaviour: (k: number) => (byzantineSet.has(k) ? behaviour : undefined) } : {}),
      ...(backdoor !== null ? {
        extraMetrics: async (_round: number, p) => ({
          attackSuccessRate: await backdoor.successRate(model, p),
          cleanTargetRate: cleanTarget === null ? null : (await evaluate(model, p, cleanTarget)).accuracy,
        }),
      } : {}),
      ...(transforms.length > 0 ? { transforms } : {}),
      ...(observer !== null ? { observers: [observer] } : {}),
      workers: 1,
      events: { onRoundEnd: (_m, h) => { history = h; } },
    });
    tf.dispose(Object.values(r.params));
    history = r.rounds;
    result.finalAccuracy = r.finalAccuracy;
  } catch (e) {
    if (!(e instanceof NonFiniteUpdateError)) throw e;
    result.stoppedAtRound = e.round;
    result.stopped = e.message;
    result.finalAccuracy = null;
  } finally {
    backdoor?.dispose();
    if (cleanTarget !== null) disposeData(cleanTarget);
  }
  result.rounds = history.map((m) => {
    const x = m as RoundMetrics & { attackSuccessRate?: number | null; cleanTargetRate?: number | null; droppedClients?: number[] };
    const row: CellRound = { round: m.round, accuracy: m.accuracy, loss: m.loss };
    if (x.attackSuccessRate !== undefined) row.attackSuccessRate = x.attackSuccessRate;
    if (x.cleanTargetRate !== undefined) row.cleanTargetRate = x.cleanTargetRate;
    if (m.maliciousClients !== undefined) row.maliciousClients = m.maliciousClients;
    if (x.droppedClients !== undefined) row.droppedClients = x.droppedClients;
    return row;
  });
  if (backdoor !== null) {
    const asr = result.rounds.map((r) => r.attackSuccessRate).filter((v): v is number => typeof v === 'number');
    result.attackSuccessRate = result.stoppedAtRound !== undefined ? null : (result.rounds.at(-1)?.attackSuccessRate ?? null);
    result.cleanTargetRate = result.stoppedAtRound !== undefined ? null : (result.rounds.at(-1)?.cleanTargetRate ?? null);
    result.maxAttackSuccessRate = asr.length > 0 ? Math.max(...asr) : null;
    result.attackSuccessRateWhenSampled = mean(result.rounds.filter((r) => (r.maliciousClients?.length ?? 0) > 0 && typeof r.attackSuccessRate === 'number').map((r) => r.attackSuccessRate!));
  }
  if (observer !== null) {
    const done = observer.records.filter((r) => r.psnr !== undefined);
    result.psnr = mean(done.map((r) => r.psnr!));
    result.ssim = mean(done.map((r) => r.ssim!));
    result.labelAccuracy = mean(done.map((r) => r.labelAccuracy!));
    result.leakRecords = observer.records.map((r) => {
      const { seconds: _s, ...rest } = r;
      return rest;
    });
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
