/**
 * `fedattack train`: flags → FederatedSettings → runFederatedExperiment (src/experiments/federated.ts)
 * → print. Federated training (FedAvg, FedSGD, FedProx) of a model on a partitioned dataset, with
 * per-round test accuracy, a checkpoint per round (`--resume DIR` continues a stopped run), poisoning
 * (`--attack SPEC --byzantine F`), robust aggregation (`--aggregator SPEC`), client defenses and
 * gradient leakage on observed clients (`--leak`). Writes into the run directory metrics.json,
 * report.md / report.html, accuracy.png and checkpoint/ (see the experiments module for their content).
 * Under mean an update with NaN/Inf stops the run with one error line (metrics.json keeps the
 * completed rounds).
 *
 * Options without a value keep their defaults out of yargs (so that `--resume` can tell what was given);
 * FEDERATED_DEFAULTS is the one place they are set.
 */
import type { Argv } from 'yargs';
import { modelNames } from '../../models/index.js';
import { leakageAttackNames } from '../../../attacks/leakage/index.js';
import { canonicalDatasetName } from '../../../datasets/index.js';
import { describeRegistry } from '../../core/spec.js';
import { parsePartition, partitionRegistry } from '../../fl/partition.js';
import { ALGORITHM_NAMES } from '../../fl/algorithms.js';
import { FEDERATED_DEFAULTS as D, clientDefenseKind, runFederatedExperiment, type FederatedSettings } from '../../experiments/federated.js';
import { buildAttack, describePoisoning } from '../../../attacks/poisoning/index.js';
import { buildAggregator, describeAggregators } from '../../../defenses/aggregation/index.js';
import { describeClientDefenses } from '../../../defenses/client/index.js';
import { datasetNames } from '../../../datasets/index.js';
import { getLeakageAttack } from '../../../attacks/leakage/index.js';
import { outDir, requireNumber, withCommonOptions, type CommonArgs } from '../options.js';
import { UserError } from '../../core/errors.js';
import { Progress } from '../train-progress.js';

/** Defaults of `fedattack train` (the experiments layer's). */
export const TRAIN_DEFAULTS = D;

interface TrainArgs extends CommonArgs {
  leak?: string;
  leakClients?: number;
  leakRounds?: number;
  leakIterations?: number;
  dataset?: string;
  dataDir?: string;
  model?: string;
  clients?: number;
  fraction?: number;
  localEpochs?: number;
  batchSize?: string | number;
  lr?: number;
  rounds?: number;
  partition?: string;
  shardsPerClient?: number;
  alpha?: number;
  algorithm?: string;
  mu?: number;
  serverLr?: number;
  trainSize?: number;
  testSize?: number;
  evalEvery?: number;
  resume?: string;
  progress?: boolean;
  workers?: string | number;
  attack?: string;
  byzantine?: number;
  aggregator?: string;
  clientDefense?: string;
}

function parseBatchSize(v: unknown): number {
  if (typeof v === 'string' && /^(inf|infinity|full|∞)$/i.test(v.trim())) return 0;
  return requireNumber('batch-size', v, { min: 0, integer: true });
}

function oneOf(name: string, v: unknown, choices: readonly string[]): string {
  if (typeof v !== 'string' || !choices.includes(v)) {
    throw new UserError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function positive(name: string, v: unknown): number {
  const n = requireNumber(name, v);
  if (!(n > 0)) throw new UserError(`--${name} must be > 0, got ${n}`);
  return n;
}

/** Flags the user gave (not defaults), as settings keys, validated before any data is loaded. */
function settingsFromFlags(a: TrainArgs): FederatedSettings {
  const s: FederatedSettings = {};
  const int = (name: string, v: unknown, min: number): number => requireNumber(name, v, { min, integer: true });
  if (a.dataset !== undefined) s.dataset = canonicalDatasetName(String(a.dataset));
  if (a.dataDir !== undefined) s.dataDir = a.dataDir;
  if (a.model !== undefined) s.model = oneOf('model', a.model, modelNames());
  if (a.clients !== undefined) s.clients = int('clients', a.clients, 1);
  if (a.fraction !== undefined) {
    const f = requireNumber('fraction', a.fraction, { max: 1 });
    if (!(f > 0)) throw new UserError(`--fraction must be in (0, 1], got ${f}`);
    s.fraction = f;
  }
  if (a.localEpochs !== undefined) s.localEpochs = int('local-epochs', a.localEpochs, 1);
  if (a.batchSize !== undefined) s.batchSize = parseBatchSize(a.batchSize);
  if (a.lr !== undefined) s.lr = positive('lr', a.lr);
  if (a.rounds !== undefined) s.rounds = int('rounds', a.rounds, 1);
  if (a.partition !== undefined) {
    try {
      parsePartition(String(a.partition));
    } catch (e) {
      throw new UserError(`--partition: ${(e as Error).message}`);
    }
    s.partition = String(a.partition).trim();
  }
  if (a.shardsPerClient !== undefined) s.shardsPerClient = int('shards-per-client', a.shardsPerClient, 1);
  if (a.alpha !== undefined) s.alpha = positive('alpha', a.alpha);
  if (a.algorithm !== undefined) s.algorithm = oneOf('algorithm', a.algorithm, ALGORITHM_NAMES);
  if (a.mu !== undefined) s.mu = requireNumber('mu', a.mu, { min: 0 });
  if (a.serverLr !== undefined) s.serverLr = positive('server-lr', a.serverLr);
  if (a.trainSize !== undefined) s.trainSize = int('train-size', a.trainSize, 1);
  if (a.testSize !== undefined) s.testSize = int('test-size', a.testSize, 1);
  if (a.evalEvery !== undefined) s.evalEvery = int('eval-every', a.evalEvery, 1);
  // Specs are checked here, before any data is loaded (SpecError: one line naming the problem).
  if (a.byzantine !== undefined) s.byzantine = int('byzantine', a.byzantine, 0);
  if (a.attack !== undefined) s.attack = String(a.attack).trim();
  if (s.attack !== undefined) buildAttack(s.attack);
  if (a.aggregator !== undefined) buildAggregator((s.aggregator = String(a.aggregator).trim()), { numByzantine: s.byzantine ?? 0 });
  if (a.clientDefense !== undefined) clientDefenseKind((s.clientDefense = String(a.clientDefense).trim()));
  if (a.leak !== undefined) s.leak = getLeakageAttack(String(a.leak)).name;
  if (a.leakClients !== undefined) s.leakClients = int('leak-clients', a.leakClients, 1);
  if (a.leakRounds !== undefined) s.leakRounds = int('leak-rounds', a.leakRounds, 1);
  if (a.leakIterations !== undefined) s.leakIterations = int('leak-iterations', a.leakIterations, 1);
  if (a.workers !== undefined && !(typeof a.workers === 'string' && a.workers.trim().toLowerCase() === 'auto')) {
    s.workers = requireNumber('workers', a.workers, { min: 1, max: 64, integer: true });
  }
  if (a.resume !== undefined) s.resume = a.resume;
  s.seed = a.seed;
  s.backend = a.backend;
  return s;
}

export async function trainHandler(a: TrainArgs): Promise<void> {
  const t0 = performance.now();
  const settings = settingsFromFlags(a);
  // Poisoning needs both halves on the command line (the library reads byzantine alone as the F the
  // aggregator assumes, and an attack with F = 0 as a run without malicious clients, as matrix cells do).
  if (settings.resume === undefined) {
    if (settings.attack !== undefined && (settings.byzantine ?? 0) < 1) throw new UserError('--attack needs --byzantine F >= 1 (the number of malicious clients)');
    if (settings.attack === undefined && (settings.byzantine ?? 0) > 0) throw new UserError('--byzantine needs --attack NAME (what the malicious clients do)');
  }
  let progress: Progress | null = null;
  const print = (s: string): void => {
    (a.json ? process.stderr : process.stdout).write(`${s}\n`);
  };
  const log = (s: string): void => (progress ? progress.log(s) : print(s));
  const useBars = a.progress !== false && !a.json && process.stderr.isTTY === true;
  let result;
  try {
    result = await runFederatedExperiment(settings, {
      ...(a.resume === undefined ? { outDir: outDir('train', a.out) } : a.out !== undefined ? { outDir: a.out } : {}),
      log,
      onStart: (info) => {
        if (useBars) progress = new Progress(info.rounds, info.startRound, info.workers > 1);
      },
      events: {
        onClientStart: (i) => progress?.clientStart(i.position, i.count, i.clientIndex, i.steps),
        onLocalStep: async (i) => progress?.step(i.clientIndex, i.step, i.steps),
        onRoundEnd: (m) => progress?.roundEnd(m.round, m.accuracy === null ? '—' : `${(100 * m.accuracy).toFixed(2)}%`),
      },
    });
  } finally {
    (progress as Progress | null)?.stop();
    progress = null;
  }
  const m = result.metrics;
  if (m.error !== undefined) throw new UserError(m.error);
  const seconds = (performance.now() - t0) / 1000;
  const acc = m.finalAccuracy == null ? '—' : `${(100 * m.finalAccuracy).toFixed(2)}%`;
  print(`final accuracy ${acc} after ${m.completedRounds} rounds in ${seconds.toFixed(1)} s; wrote ${result.outDir}`);
  if (a.json) process.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
}

export function trainCommand(y: Argv): Argv {
  return y.command(
    'train',
    'federated training (FedAvg / FedSGD / FedProx) with per-round test accuracy, checkpoints and a report',
    (b) =>
      withCommonOptions(b)
        .option('dataset', { type: 'string', describe: `dataset name (${datasetNames().join(', ')})`, defaultDescription: TRAIN_DEFAULTS.dataset })
        .option('data-dir', { type: 'string', describe: 'data directory (default $FEDATTACK_DATA_DIR or data/)' })
        .option('model', { type: 'string', describe: `model (${modelNames().join(', ')})`, defaultDescription: TRAIN_DEFAULTS.model })
        .option('clients', { type: 'number', describe: 'number of clients K', defaultDescription: `${TRAIN_DEFAULTS.clients} (natural: all users)` })
        .option('fraction', { type: 'number', describe: 'fraction C of clients sampled per round (max(1, round(C·K)) clients)', defaultDescription: String(TRAIN_DEFAULTS.fraction) })
        .option('local-epochs', { type: 'number', describe: 'local epochs E', defaultDescription: String(TRAIN_DEFAULTS.localEpochs) })
        .option('batch-size', { type: 'string', describe: 'local batch size B (0 or inf = full local dataset)', defaultDescription: String(TRAIN_DEFAULTS.batchSize) })
        .option('lr', { type: 'number', describe: 'client learning rate', defaultDescription: String(TRAIN_DEFAULTS.lr) })
        .option('rounds', { type: 'number', describe: 'communication rounds', defaultDescription: String(TRAIN_DEFAULTS.rounds) })
        .option('partition', { type: 'string', describe: `data split among clients, a spec:\n${describeRegistry(partitionRegistry)}`, defaultDescription: TRAIN_DEFAULTS.partition })
        .option('shards-per-client', { type: 'number', describe: 'shards partition: shards per client (= --partition shards:perClient=N)', defaultDescription: String(TRAIN_DEFAULTS.shardsPerClient) })
        .option('alpha', { type: 'number', describe: 'dirichlet partition: concentration, small = skewed (= --partition dirichlet:alpha=A)', defaultDescription: String(TRAIN_DEFAULTS.alpha) })
        .option('algorithm', { type: 'string', describe: `federated algorithm (${ALGORITHM_NAMES.join(', ')})`, defaultDescription: TRAIN_DEFAULTS.algorithm })
        .option('mu', { type: 'number', describe: 'fedprox: proximal weight μ', defaultDescription: String(TRAIN_DEFAULTS.mu) })
        .option('server-lr', { type: 'number', describe: 'server step size (fedavg/fedprox: w + η·Δ; fedsgd: w − η·g)', defaultDescription: '1 (fedsgd: 0.1)' })
        .option('train-size', { type: 'number', describe: 'training samples (synthetic: generated; files: seeded subset)' })
        .option('test-size', { type: 'number', describe: 'test samples (synthetic: generated; files: seeded subset)' })
        .option('eval-every', { type: 'number', describe: 'evaluate every N rounds (and after the last)', defaultDescription: String(TRAIN_DEFAULTS.evalEvery) })
        .option('resume', { type: 'string', describe: 'continue the run in DIR from its last completed round (same settings; --rounds may grow)' })
        .option('workers', { type: 'string', describe: 'worker threads training the clients of a round in parallel (wasm/cpu; a number or auto = one per core, at most 8; results do not change)', defaultDescription: 'auto' })
        .option('attack', { type: 'string', describe: `poisoning attack of the --byzantine clients, NAME[:k=v,...]:\n${describePoisoning()}` })
        .option('byzantine', { type: 'number', describe: 'number F of malicious clients (a fixed set drawn with the seed; they act in the rounds they are sampled)' })
        .option('aggregator', { type: 'string', describe: `server aggregation, a chain like norm-clip:bound=5+median:\n${describeAggregators()}`, defaultDescription: 'mean' })
        .option('client-defense', { type: 'string', describe: `client defenses, chained with + (at most one batch-level):\n${describeClientDefenses()}` })
        .option('leak', { type: 'string', choices: leakageAttackNames(), describe: 'run this gradient-leakage attack on observed honest clients' })
        .option('leak-clients', { type: 'number', describe: 'honest clients attacked per round', defaultDescription: '1' })
        .option('leak-rounds', { type: 'number', describe: 'attack the clients of rounds 1..R', defaultDescription: '1' })
        .option('leak-iterations', { type: 'number', describe: "optimiser steps of the leakage attack (default: the attack's own)" })
        .option('progress', { type: 'boolean', describe: 'progress bars on stderr (default: when stderr is a terminal and not --json)' }),
    async (argv) => {
      await trainHandler(argv as unknown as TrainArgs);
    },
  );
}
