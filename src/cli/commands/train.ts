/**
 * `fedattack train`: federated training (FedAvg, FedSGD, FedProx) of a model on a partitioned dataset,
 * with per-round test accuracy, a checkpoint per round (`--resume DIR` continues a stopped run) and a
 * report. Writes into the run directory:
 * - `metrics.json`: `{command, backend, backendDetail, seed, <settings>, rounds: [{round, accuracy,
 *   loss, seconds, sampledClients, trainLoss}], finalAccuracy, finalLoss, seconds, ...}` (rewritten
 *   atomically after every round, complete at the end);
 * - `report.md` / `report.html`: settings, partition summary, the per-round table, `accuracy.png`;
 * - `checkpoint/`: global parameters + round + metrics (see src/fl/checkpoint.ts).
 *
 * Poisoning (src/fl/poisoning.ts): `--attack SPEC --byzantine F` makes a fixed set of F clients (drawn
 * with the seed) malicious in the rounds they are sampled; `--aggregator SPEC` (default mean) is the
 * server rule; `--client-defense pgd:…|fgsm:…` trains clients on adversarial examples. Under mean an
 * update with NaN/Inf stops the run with one error line (metrics.json keeps the completed rounds);
 * robust aggregators drop it (rounds[].droppedClients). With model-replacement every round reports
 * rounds[].attackSuccessRate (backdoor accuracy on the triggered test inputs whose class ≠ target).
 *
 * Options without a value keep their defaults out of yargs (so that `--resume` can tell what was given);
 * DEFAULTS below is the one place they are set.
 */
import cliProgress from 'cli-progress';
import type { Argv } from 'yargs';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../engine/tf.js';
import { describeChoice, selectBackend } from '../../engine/backend.js';
import { Rng } from '../../engine/rng.js';
import { countParams, createModel, MODEL_NAMES } from '../../models/index.js';
import { canonicalDatasetName, loadDataset, resolveDatasetDir, type LoadOptions } from '../../../datasets/index.js';
import { formatPartitionSummary, partition, summarizePartition, type PartitionSpec } from '../../fl/partition.js';
import { ALGORITHM_NAMES, DEFAULTS as ALGO_DEFAULTS, makeStrategy } from '../../fl/algorithms.js';
import { clientsPerRound } from '../../fl/server.js';
import { NonFiniteUpdateError, runFederated, RESUME_MUTABLE_KEYS } from '../../fl/harness.js';
import { adversarialStrategy, BackdoorEvaluator, behaviourFromCraft, chooseByzantine, harnessAggregator } from '../../experiments/poisoning.js';
import { buildAttack, describePoisoning, ModelReplacement } from '../../../attacks/poisoning/index.js';
import { buildAggregator, describeAggregators, Mean } from '../../../defenses/aggregation/index.js';
import { describeClientDefenses, parseAdversarial } from '../../../defenses/training/adversarial.js';
import { readCheckpointState } from '../../fl/checkpoint.js';
import type { Params, RoundMetrics } from '../../fl/types.js';
import { writeFileAtomic, writeJsonAtomic } from '../../io/atomic.js';
import { linePlot } from '../../io/plot.js';
import { writeReport, type Cell } from '../../io/report.js';
import { leakageObserver } from '../../experiments/leak-observer.js';
import { getLeakageAttack } from '../../../attacks/leakage/index.js';
import { outDir, requireNumber, withCommonOptions, type CommonArgs } from '../options.js';
import { UserError } from '../../core/errors.js';

export const PARTITION_KINDS = ['iid', 'shards', 'dirichlet', 'natural'] as const;

/** Defaults of `fedattack train` (McMahan et al. 2017's K=100, C=0.1, E=5, B=10; few rounds for a demo). */
export const TRAIN_DEFAULTS = {
  dataset: 'synthetic',
  model: 'cnn',
  clients: 100,
  fraction: 0.1,
  localEpochs: ALGO_DEFAULTS.epochs,
  batchSize: ALGO_DEFAULTS.batchSize,
  lr: ALGO_DEFAULTS.lr,
  rounds: 5,
  partition: 'iid',
  shardsPerClient: 2,
  alpha: 0.5,
  algorithm: 'fedavg',
  mu: ALGO_DEFAULTS.mu,
  evalEvery: 1,
} as const;

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

/** The settings that define a run (stored in the checkpoint and in metrics.json). */
export interface TrainConfig {
  dataset: string;
  model: string;
  clients: number;
  fraction: number;
  clientsPerRound: number;
  localEpochs: number;
  batchSize: number;
  lr: number;
  rounds: number;
  partition: string;
  shardsPerClient?: number;
  alpha?: number;
  algorithm: string;
  mu?: number;
  serverLr: number;
  trainSize?: number;
  testSize?: number;
  evalEvery: number;
  /** Poisoning: attack spec and number F of malicious clients (a fixed set drawn with the seed). */
  attack?: string;
  byzantine?: number;
  /** Server aggregation spec (absent: mean). */
  aggregator?: string;
  /** Adversarial training of the clients (pgd:… | fgsm:…). */
  clientDefense?: string;
}

function parseBatchSize(v: unknown): number {
  if (typeof v === 'string' && /^(inf|infinity|full|∞)$/i.test(v.trim())) return 0;
  return requireNumber('batch-size', v, { min: 0, integer: true });
}

/**
 * --workers: a positive integer, or auto (the default: one per CPU core, at most 8, on the wasm and cpu
 * backends; 1 on the others, which parallelise inside their kernels). Null means auto.
 */
function parseWorkers(v: unknown): number | null {
  if (v === undefined || (typeof v === 'string' && v.trim().toLowerCase() === 'auto')) return null;
  return requireNumber('workers', v, { min: 1, max: 64, integer: true });
}

function oneOf(name: string, v: unknown, choices: readonly string[]): string {
  if (typeof v !== 'string' || !choices.includes(v)) {
    throw new UserError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Flags the user gave (not defaults), as config keys, validated. */
function explicitSettings(a: TrainArgs): Partial<TrainConfig> {
  const s: Partial<TrainConfig> = {};
  if (a.dataset !== undefined) s.dataset = canonicalDatasetName(String(a.dataset));
  if (a.model !== undefined) s.model = oneOf('model', a.model, MODEL_NAMES);
  if (a.clients !== undefined) s.clients = requireNumber('clients', a.clients, { min: 1, integer: true });
  if (a.fraction !== undefined) {
    const f = requireNumber('fraction', a.fraction, { max: 1 });
    if (!(f > 0)) throw new UserError(`--fraction must be in (0, 1], got ${f}`);
    s.fraction = f;
  }
  if (a.localEpochs !== undefined) s.localEpochs = requireNumber('local-epochs', a.localEpochs, { min: 1, integer: true });
  if (a.batchSize !== undefined) s.batchSize = parseBatchSize(a.batchSize);
  if (a.lr !== undefined) {
    s.lr = requireNumber('lr', a.lr);
    if (!(s.lr > 0)) throw new UserError(`--lr must be > 0, got ${s.lr}`);
  }
  if (a.rounds !== undefined) s.rounds = requireNumber('rounds', a.rounds, { min: 1, integer: true });
  if (a.partition !== undefined) s.partition = oneOf('partition', a.partition, PARTITION_KINDS);
  if (a.shardsPerClient !== undefined) s.shardsPerClient = requireNumber('shards-per-client', a.shardsPerClient, { min: 1, integer: true });
  if (a.alpha !== undefined) {
    s.alpha = requireNumber('alpha', a.alpha);
    if (!(s.alpha > 0)) throw new UserError(`--alpha must be > 0, got ${s.alpha}`);
  }
  if (a.algorithm !== undefined) s.algorithm = oneOf('algorithm', a.algorithm, ALGORITHM_NAMES);
  if (a.mu !== undefined) s.mu = requireNumber('mu', a.mu, { min: 0 });
  if (a.serverLr !== undefined) {
    s.serverLr = requireNumber('server-lr', a.serverLr);
    if (!(s.serverLr > 0)) throw new UserError(`--server-lr must be > 0, got ${s.serverLr}`);
  }
  if (a.trainSize !== undefined) s.trainSize = requireNumber('train-size', a.trainSize, { min: 1, integer: true });
  if (a.testSize !== undefined) s.testSize = requireNumber('test-size', a.testSize, { min: 1, integer: true });
  if (a.evalEvery !== undefined) s.evalEvery = requireNumber('eval-every', a.evalEvery, { min: 1, integer: true });
  // Specs are checked here, before any data is loaded (SpecError: one line naming the problem).
  if (a.byzantine !== undefined) s.byzantine = requireNumber('byzantine', a.byzantine, { min: 0, integer: true });
  if (a.attack !== undefined) {
    const text = String(a.attack).trim();
    buildAttack(text);
    s.attack = text;
  }
  if (a.aggregator !== undefined) {
    const text = String(a.aggregator).trim();
    buildAggregator(text, { numByzantine: s.byzantine ?? 0 });
    s.aggregator = text;
  }
  if (a.clientDefense !== undefined) {
    const text = String(a.clientDefense).trim();
    parseAdversarial(text);
    s.clientDefense = text;
  }
  return s;
}

/** Fills in defaults and drops settings that do not apply (alpha without dirichlet, mu without fedprox). */
function completeConfig(s: Partial<TrainConfig>, numClients?: number): TrainConfig {
  const algorithm = s.algorithm ?? TRAIN_DEFAULTS.algorithm;
  const partitionKind = s.partition ?? TRAIN_DEFAULTS.partition;
  const clients = numClients ?? s.clients ?? TRAIN_DEFAULTS.clients;
  const fraction = s.fraction ?? TRAIN_DEFAULTS.fraction;
  const c: TrainConfig = {
    dataset: s.dataset ?? TRAIN_DEFAULTS.dataset,
    model: s.model ?? TRAIN_DEFAULTS.model,
    clients,
    fraction,
    clientsPerRound: clientsPerRound(clients, fraction),
    localEpochs: algorithm === 'fedsgd' ? 1 : s.localEpochs ?? TRAIN_DEFAULTS.localEpochs,
    batchSize: algorithm === 'fedsgd' ? 0 : s.batchSize ?? TRAIN_DEFAULTS.batchSize,
    lr: s.lr ?? TRAIN_DEFAULTS.lr,
    rounds: s.rounds ?? TRAIN_DEFAULTS.rounds,
    partition: partitionKind,
    algorithm,
    serverLr: s.serverLr ?? (algorithm === 'fedsgd' ? ALGO_DEFAULTS.fedsgdServerLr : ALGO_DEFAULTS.serverLr),
    evalEvery: s.evalEvery ?? TRAIN_DEFAULTS.evalEvery,
  };
  if (partitionKind === 'shards') c.shardsPerClient = s.shardsPerClient ?? TRAIN_DEFAULTS.shardsPerClient;
  if (partitionKind === 'dirichlet') c.alpha = s.alpha ?? TRAIN_DEFAULTS.alpha;
  if (algorithm === 'fedprox') c.mu = s.mu ?? TRAIN_DEFAULTS.mu;
  if (s.trainSize !== undefined) c.trainSize = s.trainSize;
  if (s.testSize !== undefined) c.testSize = s.testSize;
  if (s.attack !== undefined) c.attack = s.attack;
  if (s.byzantine !== undefined) c.byzantine = s.byzantine;
  if (s.aggregator !== undefined) c.aggregator = s.aggregator;
  if (s.clientDefense !== undefined) c.clientDefense = s.clientDefense;
  return c;
}

/** The per-round metrics this command adds to the harness's (backdoor success, dropped updates). */
function extra(m: RoundMetrics): { attackSuccessRate?: number | null; droppedClients?: number[] } {
  return m as RoundMetrics & { attackSuccessRate?: number | null; droppedClients?: number[] };
}

function pct(v: number | null): string {
  return v === null ? '—' : `${(100 * v).toFixed(2)}%`;
}

function describeAlgorithm(c: TrainConfig): string {
  if (c.algorithm === 'fedsgd') return `fedsgd (full-batch gradients, server lr ${c.serverLr})`;
  const b = c.batchSize === 0 ? '∞' : String(c.batchSize);
  const prox = c.algorithm === 'fedprox' ? `, mu ${c.mu}` : '';
  const slr = c.serverLr !== 1 ? `, server lr ${c.serverLr}` : '';
  return `${c.algorithm} (E=${c.localEpochs}, B=${b}, lr ${c.lr}${prox}${slr})`;
}

/**
 * Progress bars on stderr: rounds, and local training — the current client's local steps, or with
 * worker threads the local steps of all clients of the round started so far.
 */
class Progress {
  private multi: cliProgress.MultiBar;
  private rounds: cliProgress.SingleBar;
  private client: cliProgress.SingleBar | null = null;
  private lastYield = 0;
  private readonly started = new Map<number, { step: number; steps: number }>();

  constructor(total: number, start: number, private readonly parallel: boolean) {
    this.multi = new cliProgress.MultiBar(
      { stream: process.stderr, hideCursor: true, clearOnComplete: false, autopadding: true, fps: 5, format: '{label} [{bar}] {value}/{total} {info}' },
      cliProgress.Presets.shades_classic,
    );
    this.rounds = this.multi.create(total, start, { label: 'rounds', info: '' });
  }

  log(line: string): void {
    this.multi.log(`${line}\n`);
  }

  clientStart(position: number, count: number, clientIndex: number, steps: number): void {
    if (this.parallel) {
      this.started.set(clientIndex, { step: 0, steps });
      const total = [...this.started.values()].reduce((a, c) => a + c.steps, 0);
      const info = `local steps, ${this.started.size}/${count} clients started`;
      if (this.client === null) this.client = this.multi.create(total, 0, { label: 'local', info });
      else {
        this.client.setTotal(total);
        this.client.update({ info });
      }
      return;
    }
    this.client?.stop();
    if (this.client) this.multi.remove(this.client);
    this.client = this.multi.create(Math.max(1, steps), 0, { label: 'client', info: `#${clientIndex} (${position + 1}/${count}), local steps` });
  }

  async step(clientIndex: number, step: number, steps: number): Promise<void> {
    if (this.client) {
      if (this.parallel) {
        this.started.set(clientIndex, { step, steps });
        this.client.update([...this.started.values()].reduce((a, c) => a + c.step, 0));
      } else {
        this.client.setTotal(steps);
        this.client.update(step);
      }
    }
    // Let the bar's timer run now and then (in-thread local training is otherwise synchronous).
    const now = performance.now();
    if (now - this.lastYield > 100) {
      this.lastYield = now;
      await new Promise((r) => setImmediate(r));
    }
  }

  roundEnd(round: number, info: string): void {
    this.rounds.update(round, { info });
    this.started.clear();
  }

  stop(): void {
    this.client?.stop();
    this.multi.stop();
  }
}

/** The command line that repeats a run (same seed and backend → same numbers). */
export function reproduceCommand(c: TrainConfig, seed: number, backend: string, dataDir?: string): string {
  const flags = Object.entries(c)
    .filter(([k]) => k !== 'clientsPerRound')
    .map(([k, v]) => `--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)} ${String(v)}`);
  if (dataDir !== undefined) flags.push(`--data-dir ${JSON.stringify(dataDir)}`);
  return `fedattack train ${flags.join(' ')} --seed ${seed} --backend ${backend}`;
}

export async function trainHandler(a: TrainArgs): Promise<void> {
  const t0 = performance.now();
  const log = (s: string): void => {
    (a.json ? process.stderr : process.stdout).write(`${s}\n`);
  };
  const given = explicitSettings(a);

  // Resume: settings from the checkpoint, overridden by what was given explicitly.
  let runDir: string;
  let seed = a.seed;
  let backendRequest = a.backend;
  let settings: Partial<TrainConfig> = given;
  let resumeRound = 0;
  let dataDir = a.dataDir !== undefined ? path.resolve(a.dataDir) : undefined;
  if (a.resume !== undefined) {
    runDir = path.resolve(a.resume);
    if (a.out !== undefined && path.resolve(a.out) !== runDir) throw new UserError('--resume continues in its own directory; drop --out (or give the same directory)');
    const state = await readCheckpointState(runDir);
    if (state === null) throw new UserError(`nothing to resume in ${runDir}: no checkpoint/state.json there`);
    const stored = state.config as unknown as TrainConfig;
    if (a.seed !== 0 && a.seed !== state.seed) throw new UserError(`--seed ${a.seed} differs from the checkpoint's seed ${state.seed}`);
    seed = state.seed;
    resumeRound = state.round;
    if (a.backend === 'auto' && state.backend !== undefined) backendRequest = state.backend;
    const changed = Object.entries(given).filter(([k, v]) => !RESUME_MUTABLE_KEYS.includes(k) && JSON.stringify(v) !== JSON.stringify((stored as unknown as Record<string, unknown>)[k]));
    if (changed.length > 0) {
      throw new UserError(`cannot resume with other settings: ${changed.map(([k, v]) => `${k} ${JSON.stringify(v)} (checkpoint: ${JSON.stringify((stored as unknown as Record<string, unknown>)[k])})`).join(', ')}`);
    }
    settings = { ...stored, ...given };
    if (dataDir === undefined && typeof (stored as { dataDir?: unknown }).dataDir === 'string') dataDir = (stored as { dataDir?: string }).dataDir;
  } else {
    runDir = outDir('train', a.out);
  }

  const workersFlag = parseWorkers(a.workers);
  const choice = await selectBackend(backendRequest);
  log(describeChoice(choice));
  const threadable = choice.name === 'wasm' || choice.name === 'cpu';
  if (workersFlag !== null && workersFlag > 1 && !threadable) throw new UserError(`--workers needs the wasm or cpu backend (the ${choice.name} backend uses its own parallelism)`);
  const requestedWorkers = workersFlag ?? (threadable ? Math.max(1, Math.min(8, os.availableParallelism())) : 1);

  // Data.
  const dsName = settings.dataset ?? TRAIN_DEFAULTS.dataset;
  const load: LoadOptions = { seed };
  if (settings.trainSize !== undefined) load.trainSize = settings.trainSize;
  if (settings.testSize !== undefined) load.testSize = settings.testSize;
  if (dataDir !== undefined && dsName !== 'synthetic') {
    load.dataDir = dataDir;
    if (!existsSync(await resolveDatasetDir(dsName, { dataDir }))) load.path = dataDir;
  }
  const { train, test } = await loadDataset(dsName, load);
  const partitionKind = settings.partition ?? TRAIN_DEFAULTS.partition;
  const naturalClients = partitionKind === 'natural' && settings.clients === undefined ? train.users?.length : undefined;
  const config = completeConfig(settings, naturalClients);
  const workers = Math.min(requestedWorkers, config.clientsPerRound);
  const ignored: string[] = [];
  if (config.algorithm === 'fedsgd') {
    if (given.localEpochs !== undefined) ignored.push('--local-epochs');
    if (given.batchSize !== undefined) ignored.push('--batch-size');
    if (given.lr !== undefined) ignored.push('--lr (fedsgd steps with --server-lr)');
  }
  if (given.mu !== undefined && config.algorithm !== 'fedprox') ignored.push('--mu (fedprox only)');
  if (given.alpha !== undefined && config.partition !== 'dirichlet') ignored.push('--alpha (dirichlet partition only)');
  if (given.shardsPerClient !== undefined && config.partition !== 'shards') ignored.push('--shards-per-client (shards partition only)');
  if (ignored.length > 0) log(`note: ignoring ${ignored.join(', ')}`);
  log(`dataset: ${train.name}, ${train.labels.length} train / ${test.labels.length} test samples, ${train.shape.join('x')}, ${train.numClasses} classes`);

  // Partition.
  let spec: PartitionSpec;
  if (config.partition === 'iid') spec = { kind: 'iid' };
  else if (config.partition === 'shards') spec = { kind: 'shards', shardsPerClient: config.shardsPerClient! };
  else if (config.partition === 'dirichlet') spec = { kind: 'dirichlet', alpha: config.alpha! };
  else spec = { kind: 'natural', users: train.users ?? [] };
  const parts = partition(train.labels, config.clients, spec, new Rng(seed).fork('partition'));
  // Natural partition: clients are named after their users (LEAF writers).
  let clientIds: string[] | undefined;
  if (config.partition === 'natural' && train.users) {
    const byFirst = new Map(train.users.map((u) => [u.indices.reduce((m, i) => Math.min(m, i), Infinity), u.id]));
    clientIds = parts.map((p, k) => byFirst.get(p[0]!) ?? `client-${k}`);
  }
  const summary = summarizePartition(parts, train.labels, train.numClasses);
  log(`partition: ${config.partition}${config.partition === 'shards' ? ` (${config.shardsPerClient} shards per client)` : config.partition === 'dirichlet' ? ` (alpha ${config.alpha})` : ''}`);
  const partitionText = formatPartitionSummary(summary, 3);
  log(partitionText.split('\n').map((l) => `  ${l}`).join('\n'));

  // Model and algorithm.
  const model = createModel(config.model, { inputShape: train.shape, classes: train.numClasses });
  let strategy = makeStrategy(config.algorithm, {
    epochs: config.localEpochs, batchSize: config.batchSize, lr: config.lr, serverLr: config.serverLr,
    ...(config.mu !== undefined ? { mu: config.mu } : {}),
  });

  // Poisoning and defenses.
  const numByzantine = config.byzantine ?? 0;
  if (config.attack !== undefined && numByzantine < 1) throw new UserError('--attack needs --byzantine F >= 1 (the number of malicious clients)');
  if (config.attack === undefined && numByzantine > 0) throw new UserError('--byzantine needs --attack NAME (what the malicious clients do)');
  if (numByzantine > config.clients) throw new UserError(`--byzantine ${numByzantine} exceeds the ${config.clients} clients`);
  const flatAggregator = buildAggregator(config.aggregator ?? 'mean', { numByzantine, seed });
  flatAggregator.checkClients(config.clientsPerRound);
  const plainMean = flatAggregator instanceof Mean;
  const attack = config.attack !== undefined ? buildAttack(config.attack) : null;
  const byzantineClients = attack !== null ? chooseByzantine(config.clients, numByzantine, new Rng(seed).fork('byzantine')) : [];
  const byzantineSet = new Set(byzantineClients);
  const behaviour = attack !== null ? behaviourFromCraft(attack) : null;
  let clientWorkers = workers;
  if (config.clientDefense !== undefined) {
    if (config.algorithm === 'fedsgd') throw new UserError('--client-defense needs --algorithm fedavg or fedprox (adversarial training changes the local SGD steps)');
    strategy = adversarialStrategy(strategy, parseAdversarial(config.clientDefense));
    clientWorkers = 1;
  }
  const backdoor = attack instanceof ModelReplacement ? new BackdoorEvaluator(test, attack) : null;
  log(`model: ${model.name} (${countParams(model).toLocaleString('en-US')} parameters)`);
  log(`algorithm: ${describeAlgorithm(config)}; ${config.clientsPerRound} of ${config.clients} clients per round; ${config.rounds} rounds`);
  if (clientWorkers > 1) log(`worker threads: ${clientWorkers} (the clients of a round train in parallel; same results as --workers 1)`);
  if (attack !== null) log(`attack: ${attack.name} by ${numByzantine} of ${config.clients} clients (${byzantineClients.join(', ')}), acting in the rounds they are sampled`);
  log(`aggregator: ${flatAggregator.name}${plainMean ? ' (updates with NaN/Inf stop the run)' : ' (updates with NaN/Inf are dropped)'}`);
  if (config.clientDefense !== undefined) log(`client defense: adversarial training ${config.clientDefense}${workers > 1 ? ' (in this thread: worker threads off)' : ''}`);
  log(`output: ${runDir}`);
  let leakObs: ReturnType<typeof leakageObserver> | null = null;
  if (a.leak !== undefined) {
    const attackName = getLeakageAttack(String(a.leak)).name;
    const leakClients = requireNumber('leak-clients', a.leakClients ?? 1, { min: 1, integer: true });
    const leakRounds = requireNumber('leak-rounds', a.leakRounds ?? 1, { min: 1, integer: true });
    const leakIterations = a.leakIterations === undefined ? undefined : requireNumber('leak-iterations', a.leakIterations, { min: 1, integer: true });
    leakObs = leakageObserver({
      attack: attackName, clients: leakClients, rounds: leakRounds, seed, train, outDir: runDir,
      ...(leakIterations !== undefined ? { iterations: leakIterations } : {}), log,
    });
    log(`leakage: ${attackName} on ${leakClients} honest client(s) per round in rounds 1..${leakRounds}` +
      (config.algorithm === 'fedsgd' ? ' (FedSGD gradients)' : ' (FedAvg updates read as pseudo-gradients −Δ/(lr·steps))'));
  }

  const { rounds: totalRounds, ...settingsForJson } = config;
  const base = {
    command: 'train',
    backend: choice.name,
    backendDetail: choice.detail,
    seed,
    ...settingsForJson,
    totalRounds,
    ...(dataDir !== undefined ? { dataDir } : {}),
    trainSamples: train.labels.length,
    testSamples: test.labels.length,
    inputShape: train.shape,
    classes: train.numClasses,
    parameters: countParams(model),
    ...(attack !== null ? { attackSpec: attack.name, byzantineClients } : {}),
    aggregatorSpec: flatAggregator.name,
    partitionSummary: {
      minSamples: summary.minSamples, medianSamples: summary.medianSamples, maxSamples: summary.maxSamples,
      meanClasses: summary.meanClasses, minClasses: summary.minClasses, maxClasses: summary.maxClasses,
    },
  };
  const metricsFile = path.join(runDir, 'metrics.json');
  const useBars = a.progress !== false && !a.json && process.stderr.isTTY === true;
  const progress = useBars ? new Progress(config.rounds, Math.min(resumeRound, config.rounds), workers > 1) : null;
  const say = (line: string): void => (progress ? progress.log(line) : log(line));
  const roundLine = (m: RoundMetrics): string =>
    `round ${m.round}/${config.rounds}: accuracy ${pct(m.accuracy)}, test loss ${m.loss === null ? '—' : m.loss.toFixed(4)}, ` +
    `train loss ${Number.isFinite(m.trainLoss) ? m.trainLoss.toFixed(4) : '—'}` +
    (extra(m).attackSuccessRate !== undefined ? `, attack success ${pct(extra(m).attackSuccessRate ?? null)}` : '') +
    (extra(m).droppedClients !== undefined ? `, dropped non-finite updates of clients ${extra(m).droppedClients!.join(' ')}` : '') +
    `, ${m.seconds.toFixed(1)} s`;

  if (a.resume !== undefined) log(`resuming after round ${resumeRound}`);
  let result;
  let lastHistory: RoundMetrics[] = [];
  try {
    result = await runFederated({
      model, train, test, partition: parts, strategy, rounds: config.rounds, fraction: config.fraction, seed,
      ...(clientIds !== undefined ? { clientIds } : {}),
      ...(plainMean ? {} : { aggregator: harnessAggregator(flatAggregator) }),
      nonFinite: plainMean ? 'stop' : 'drop',
      ...(behaviour !== null ? { behaviour: (k: number) => (byzantineSet.has(k) ? behaviour : undefined) } : {}),
      ...(backdoor !== null ? { extraMetrics: async (_round: number, p: Params) => ({ attackSuccessRate: await backdoor.successRate(model, p) }) } : {}),
      workers: clientWorkers,
      ...(leakObs !== null ? { observers: [leakObs] } : {}),
      evalEvery: config.evalEvery,
      checkpoint: { dir: runDir, config: { ...config, ...(dataDir !== undefined ? { dataDir } : {}) }, backend: choice.name, resume: a.resume !== undefined },
      events: {
        ...(progress
          ? {
              onClientStart: (i) => {
                const n = parts[i.clientIndex]!.length;
                const b = config.batchSize === 0 || config.batchSize >= n ? n : config.batchSize;
                progress.clientStart(i.position, i.count, i.clientIndex, config.algorithm === 'fedsgd' ? 1 : i.epochs * Math.ceil(n / b));
              },
              onLocalStep: (i) => progress.step(i.clientIndex, i.step, i.steps),
            }
          : {}),
        onRoundEnd: async (m, history) => {
          lastHistory = history;
          say(roundLine(m));
          progress?.roundEnd(m.round, pct(m.accuracy));
          await writeJsonAtomic(metricsFile, { ...base, rounds: history, complete: false });
        },
      },
    });
  } catch (e) {
    if (e instanceof NonFiniteUpdateError) {
      // Keep the metrics of the completed rounds, and say why the run stopped.
      await writeJsonAtomic(metricsFile, { ...base, rounds: lastHistory, complete: false, stoppedAtRound: e.round, error: e.message });
    }
    throw e;
  } finally {
    progress?.stop();
    backdoor?.dispose();
  }
  const params = result.params;
  tf.dispose(Object.values(params));

  const seconds = (performance.now() - t0) / 1000;
  const metrics = {
    ...base,
    rounds: result.rounds,
    finalAccuracy: result.finalAccuracy,
    finalLoss: result.finalLoss,
    completedRounds: result.completedRounds,
    ...(result.resumedFrom > 0 ? { resumedFrom: result.resumedFrom } : {}),
    seconds,
    complete: true,
    ...(leakObs !== null ? { leakage: leakObs.records } : {}),
  };
  await writeJsonAtomic(metricsFile, metrics);

  const evaluated = result.rounds.filter((r) => r.accuracy !== null);
  const png = await linePlot([{ name: 'test accuracy', points: evaluated.map((r) => [r.round, r.accuracy!] as [number, number]) }], {
    title: `${config.algorithm} on ${train.name} (${config.partition}), ${model.name}`, xLabel: 'round', yLabel: 'test accuracy', yMin: 0, yMax: 1,
  });
  await writeFileAtomic(path.join(runDir, 'accuracy.png'), png);
  const settingsRows: Cell[][] = Object.entries({ backend: `${choice.name} (${choice.detail})`, seed, ...config }).map(([k, v]) => [k, String(v)]);
  await writeReport(runDir, {
    title: `Federated training: ${config.algorithm} on ${train.name}`,
    subtitle: `Final test accuracy **${pct(result.finalAccuracy)}** after ${result.completedRounds} rounds (${seconds.toFixed(1)} s).`,
    sections: [
      { heading: 'Settings', table: { headers: ['setting', 'value'], rows: settingsRows } },
      { heading: 'Partition', code: partitionText },
      {
        heading: 'Rounds',
        table: {
          headers: ['round', 'test accuracy', 'test loss', 'train loss', ...(backdoor !== null ? ['attack success'] : []), 'seconds', 'clients',
            ...(attack !== null ? ['malicious'] : []), ...(plainMean ? [] : ['dropped'])],
          rows: result.rounds.map((r) => [r.round, r.accuracy === null ? null : +r.accuracy.toFixed(4), r.loss === null ? null : +r.loss.toFixed(4),
            Number.isFinite(r.trainLoss) ? +r.trainLoss.toFixed(4) : null,
            ...(backdoor !== null ? [extra(r).attackSuccessRate == null ? null : +extra(r).attackSuccessRate!.toFixed(4)] : []),
            +r.seconds.toFixed(2), r.sampledClients.join(' '),
            ...(attack !== null ? [(r.maliciousClients ?? []).join(' ')] : []), ...(plainMean ? [] : [(extra(r).droppedClients ?? []).join(' ')])]),
        },
        images: [{ path: 'accuracy.png', caption: 'Test accuracy of the global model per round' }],
      },
      ...(leakObs !== null ? [{
        heading: 'Gradient leakage on observed clients',
        text: `The server ran ${String(a.leak)} on what it observed of honest clients (their gradient or update, the model, the sample count). ` +
          (config.algorithm === 'fedsgd' ? 'FedSGD clients send one full-batch gradient: the whole batch is reconstructed.'
            : 'FedAvg clients send a multi-step update, read as a pseudo-gradient −Δ/(lr·steps): one mini-batch of images is reconstructed and matched one-to-one to the best of all the client\'s samples.'),
        table: {
          headers: ['round', 'client', 'kind', 'samples', 'batch', 'local steps', 'PSNR (dB)', 'SSIM', 'label acc.', 'note'],
          rows: leakObs.records.map((r) => [r.round, r.clientId, r.kind, r.numSamples, r.batch, r.localSteps,
            r.psnr === undefined ? null : +r.psnr.toFixed(2), r.ssim === undefined ? null : +r.ssim.toFixed(3),
            r.labelAccuracy === undefined ? null : pct(r.labelAccuracy), r.skipped ?? (r.pseudoGradient ? 'pseudo-gradient' : '')]),
        },
        images: leakObs.records.filter((r) => r.images).flatMap((r) => [
          { path: r.images!.groundTruth, caption: `round ${r.round}, client ${r.clientId}: ground truth` },
          { path: r.images!.reconstruction, caption: `round ${r.round}, client ${r.clientId}: reconstruction` },
        ]),
      }] : []),
      { heading: 'Reproduce', code: `${reproduceCommand(config, seed, choice.name, dataDir)}\n# continue this run to more rounds: fedattack train --resume ${runDir} --rounds N` },
    ],
  });
  log(`final accuracy ${pct(result.finalAccuracy)} after ${result.completedRounds} rounds in ${seconds.toFixed(1)} s; wrote ${runDir}`);
  if (a.json) process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
}

export function trainCommand(y: Argv): Argv {
  return y.command(
    'train',
    'federated training (FedAvg / FedSGD / FedProx) with per-round test accuracy, checkpoints and a report',
    (b) =>
      withCommonOptions(b)
        .option('dataset', { type: 'string', describe: 'dataset name (synthetic, mnist, fashion-mnist, cifar10, cifar100, femnist, image-folder)', defaultDescription: TRAIN_DEFAULTS.dataset })
        .option('data-dir', { type: 'string', describe: 'data directory (default $FEDATTACK_DATA_DIR or data/)' })
        .option('model', { type: 'string', describe: `model (${MODEL_NAMES.join(', ')})`, defaultDescription: TRAIN_DEFAULTS.model })
        .option('clients', { type: 'number', describe: 'number of clients K', defaultDescription: `${TRAIN_DEFAULTS.clients} (natural: all users)` })
        .option('fraction', { type: 'number', describe: 'fraction C of clients sampled per round (max(1, round(C·K)) clients)', defaultDescription: String(TRAIN_DEFAULTS.fraction) })
        .option('local-epochs', { type: 'number', describe: 'local epochs E', defaultDescription: String(TRAIN_DEFAULTS.localEpochs) })
        .option('batch-size', { type: 'string', describe: 'local batch size B (0 or inf = full local dataset)', defaultDescription: String(TRAIN_DEFAULTS.batchSize) })
        .option('lr', { type: 'number', describe: 'client learning rate', defaultDescription: String(TRAIN_DEFAULTS.lr) })
        .option('rounds', { type: 'number', describe: 'communication rounds', defaultDescription: String(TRAIN_DEFAULTS.rounds) })
        .option('partition', { type: 'string', describe: `data split among clients (${PARTITION_KINDS.join(', ')})`, defaultDescription: TRAIN_DEFAULTS.partition })
        .option('shards-per-client', { type: 'number', describe: 'shards partition: shards per client', defaultDescription: String(TRAIN_DEFAULTS.shardsPerClient) })
        .option('alpha', { type: 'number', describe: 'dirichlet partition: concentration (small = skewed)', defaultDescription: String(TRAIN_DEFAULTS.alpha) })
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
        .option('client-defense', { type: 'string', describe: `adversarial training of the clients:\n${describeClientDefenses()}` })
        .option('leak', { type: 'string', choices: ['dlg', 'idlg', 'ig'], describe: 'run this gradient-leakage attack on observed honest clients' })
        .option('leak-clients', { type: 'number', describe: 'honest clients attacked per round', defaultDescription: '1' })
        .option('leak-rounds', { type: 'number', describe: 'attack the clients of rounds 1..R', defaultDescription: '1' })
        .option('leak-iterations', { type: 'number', describe: "optimiser steps of the leakage attack (default: the attack's own)" })
        .option('progress', { type: 'boolean', describe: 'progress bars on stderr (default: when stderr is a terminal and not --json)' }),
    async (argv) => {
      await trainHandler(argv as unknown as TrainArgs);
    },
  );
}
