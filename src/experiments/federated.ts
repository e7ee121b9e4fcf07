/**
 * A federated run as a function: `runFederatedExperiment(settings, ctx)` loads the data, partitions it,
 * builds the strategy, aggregator, poisoning attack, client defense and leakage observer, runs the
 * harness (src/fl/harness.ts), scores backdoors, and — when `ctx.outDir` is given — writes the run
 * directory. `fedattack train` is flags → settings → this → print; a `fedattack matrix` cell calls it too.
 *
 * Settings are the `train` flags in camelCase (= the config-file keys); every key is optional and
 * {@link FEDERATED_DEFAULTS} fills the rest (McMahan et al. 2017's K=100, C=0.1, E=5, B=10; 5 rounds).
 * `partition` is a spec: `iid`, `shards:perClient=2`, `dirichlet:alpha=0.5`, `natural`
 * (`alpha` and `shardsPerClient` are accepted as aliases of the spec's parameters).
 *
 * Poisoning: `attack` + `byzantine` F makes a fixed set of F clients (drawn with the seed) malicious in
 * the rounds they are sampled; `byzantine` without `attack` is only the F the aggregator assumes.
 * `aggregator` (default mean) is the server rule; `clientDefense` is adversarial training (pgd:…,
 * fgsm:…) or update clipping + noise (clip-noise:…). Under an aggregator that cannot drop NaN/Inf
 * updates (mean) such an update stops the run: the result then has `stoppedAtRound` and `error`, the
 * completed rounds are kept. Backdoors (model-replacement) report per round `attackSuccessRate` and
 * `cleanTargetRate` (clean non-target test inputs classified as the target: ASR's baseline).
 *
 * Files (ctx.outDir, `ctx.files` 'all'): metrics.json (rewritten atomically after every round,
 * complete at the end), report.md / report.html, accuracy.png, checkpoint/ (`resume: DIR` continues a
 * stopped run there), leak/*.png. With `ctx.files` 'leak-images' only the leakage images are written.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { describeChoice, selectBackend, type BackendChoice } from '../engine/backend.js';
import { Rng } from '../engine/rng.js';
import { UserError } from '../core/errors.js';
import { countParams, createModel } from '../models/index.js';
import { loadDataset, resolveDatasetDir, type DatasetSplit, type LoadOptions } from '../../datasets/index.js';
import type { Dataset } from '../../datasets/types.js';
import { formatPartitionSummary, parsePartition, partition, partitionSpecOf, summarizePartition, type PartitionChoice } from '../fl/partition.js';
import { DEFAULTS as ALGO_DEFAULTS, makeStrategy } from '../fl/algorithms.js';
import { clientsPerRound } from '../fl/server.js';
import { NonFiniteUpdateError, runFederated, RESUME_MUTABLE_KEYS, type HarnessEvents } from '../fl/harness.js';
import { checkpointDir, readCheckpointState } from '../fl/checkpoint.js';
import { dataTensors, disposeData, type DataTensors } from '../fl/client.js';
import { evaluate } from '../fl/evaluate.js';
import type { Params, UpdateTransform } from '../fl/types.js';
import type { FederatedConfig, FederatedMetrics, FederatedRound } from './federated-types.js';

export type { FederatedConfig, FederatedMetrics, FederatedRound } from './federated-types.js';
import { batchDefenseStrategy, BackdoorEvaluator, behaviourFromCraft, chooseByzantine } from './poisoning.js';
import { leakageObserver } from './leak-observer.js';
import type { LeakRecord } from './leak-observer.js';
import { writeFederatedReport } from './federated-report.js';
import { buildAttack, isBackdoor } from '../../attacks/poisoning/index.js';
import { getLeakageAttack } from '../../attacks/leakage/index.js';
import { buildAggregator } from '../../defenses/aggregation/index.js';
import { buildClientDefenses, type ClientDefense } from '../../defenses/client/index.js';
import { writeJsonAtomic } from '../io/atomic.js';

/** Settings of a federated run: the `train` flags in camelCase; absent keys take {@link FEDERATED_DEFAULTS}. */
export interface FederatedSettings {
  dataset?: string;
  /** Data directory (default $FEDATTACK_DATA_DIR or data/). */
  dataDir?: string;
  model?: string;
  /** Number of clients K (natural partition: default all users). */
  clients?: number;
  /** Fraction C of clients sampled per round. */
  fraction?: number;
  localEpochs?: number;
  /** Local batch size B (0 = the full local dataset). */
  batchSize?: number;
  lr?: number;
  rounds?: number;
  /** Partition spec: iid | shards:perClient=N | dirichlet:alpha=A | natural. */
  partition?: string;
  /** Alias of shards' perClient. */
  shardsPerClient?: number;
  /** Alias of dirichlet's alpha. */
  alpha?: number;
  algorithm?: string;
  mu?: number;
  serverLr?: number;
  trainSize?: number;
  testSize?: number;
  evalEvery?: number;
  /** Poisoning attack spec of the `byzantine` malicious clients. */
  attack?: string;
  /** F: malicious clients (with `attack`), and the F every f-based aggregator assumes. */
  byzantine?: number;
  /** Server aggregation spec (default mean). */
  aggregator?: string;
  /** pgd:… | fgsm:… (adversarial training) | clip-noise:… (update clipping + noise). */
  clientDefense?: string;
  /** Gradient-leakage attack run by the server on observed honest clients. */
  leak?: string;
  leakClients?: number;
  leakRounds?: number;
  leakIterations?: number;
  leakRestarts?: number;
  seed?: number;
  backend?: string;
  /** Worker threads for the clients of a round: a number, or 'auto' (one per core, at most 8, on wasm/cpu). */
  workers?: number | 'auto';
  /** Continue the run in this directory from its last completed round (same settings; rounds may grow). */
  resume?: string;
}

/** Defaults of a federated run (McMahan et al. 2017's K=100, C=0.1, E=5, B=10; few rounds for a demo). */
export const FEDERATED_DEFAULTS = {
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
  leakClients: 1,
  leakRounds: 1,
  leakRestarts: 1,
  seed: 0,
  backend: 'auto',
  workers: 'auto',
} as const;

/** The keys of FederatedSettings that are part of FederatedConfig (what a checkpoint compares on resume). */
const CONFIG_KEYS = ['dataset', 'model', 'clients', 'fraction', 'localEpochs', 'batchSize', 'lr', 'rounds', 'partition', 'shardsPerClient', 'alpha',
  'algorithm', 'mu', 'serverLr', 'trainSize', 'testSize', 'evalEvery', 'attack', 'byzantine', 'aggregator', 'clientDefense'] as const;

/** What a run reports besides the files: progress, a log, and things a caller already holds. */
export interface FederatedContext {
  /** Run directory (files written only when given). */
  outDir?: string;
  /** 'all' (default): metrics.json, report, plot, checkpoint, leak images; 'leak-images': only those. */
  files?: 'all' | 'leak-images';
  /** One line per event (settings, rounds, leakage). */
  log?: (line: string) => void;
  /** Harness events (progress bars); called in addition to the run's own. */
  events?: HarnessEvents;
  /** Called once the run is set up, before the first round. */
  onStart?: (info: { rounds: number; startRound: number; workers: number }) => void;
  /** An already selected backend (skips selectBackend). */
  backend?: BackendChoice;
  /** An already loaded dataset for these settings (skips loading). */
  data?: DatasetSplit;
}

export interface FederatedRunResult {
  metrics: FederatedMetrics;
  /** Files written (absolute paths). */
  files: string[];
  outDir?: string;
}

/** Fills in defaults and drops settings that do not apply (alpha without dirichlet, mu without fedprox). */
export function completeFederatedConfig(s: FederatedSettings, numClients?: number): FederatedConfig {
  const d = FEDERATED_DEFAULTS;
  const algorithm = s.algorithm ?? d.algorithm;
  const part = partitionOf(s);
  const clients = numClients ?? s.clients ?? d.clients;
  const fraction = s.fraction ?? d.fraction;
  const c: FederatedConfig = {
    dataset: s.dataset ?? d.dataset,
    model: s.model ?? d.model,
    clients,
    fraction,
    clientsPerRound: clientsPerRound(clients, fraction),
    localEpochs: algorithm === 'fedsgd' ? 1 : s.localEpochs ?? d.localEpochs,
    batchSize: algorithm === 'fedsgd' ? 0 : s.batchSize ?? d.batchSize,
    lr: s.lr ?? d.lr,
    rounds: s.rounds ?? d.rounds,
    partition: part.kind,
    algorithm,
    serverLr: s.serverLr ?? (algorithm === 'fedsgd' ? ALGO_DEFAULTS.fedsgdServerLr : ALGO_DEFAULTS.serverLr),
    evalEvery: s.evalEvery ?? d.evalEvery,
  };
  if (part.kind === 'shards') c.shardsPerClient = part.shardsPerClient;
  if (part.kind === 'dirichlet') c.alpha = part.alpha;
  if (algorithm === 'fedprox') c.mu = s.mu ?? d.mu;
  for (const k of ['trainSize', 'testSize', 'attack', 'byzantine', 'aggregator', 'clientDefense'] as const) {
    if (s[k] !== undefined) (c as unknown as Record<string, unknown>)[k] = s[k];
  }
  return c;
}

/** The partition of the settings: the spec, with the `alpha` / `shardsPerClient` aliases applied. */
export function partitionOf(s: FederatedSettings): PartitionChoice {
  const p = parsePartition(s.partition ?? FEDERATED_DEFAULTS.partition);
  const given = s.partition !== undefined && s.partition.includes(':');
  if (p.kind === 'dirichlet' && s.alpha !== undefined) {
    if (given && s.alpha !== p.alpha) throw new UserError(`partition ${s.partition} and alpha ${s.alpha} disagree: give alpha once`);
    return { kind: 'dirichlet', alpha: s.alpha };
  }
  if (p.kind === 'shards' && s.shardsPerClient !== undefined) {
    if (given && s.shardsPerClient !== p.shardsPerClient) throw new UserError(`partition ${s.partition} and shardsPerClient ${s.shardsPerClient} disagree: give it once`);
    return { kind: 'shards', shardsPerClient: s.shardsPerClient };
  }
  return p;
}

/**
 * The client defenses of a spec (`pgd:…`, `fgsm:…`, `clip-noise:…`, registered ones, chained with `+`):
 * checks it (SpecError, one line) and says whether one acts on training batches.
 */
export function clientDefenseKind(text: string): 'batch' | 'update' {
  return buildClientDefenses(text).some((d) => d.level === 'batch') ? 'batch' : 'update';
}

/** Loads the dataset of a run (a seeded subset when trainSize/testSize are given). */
export async function loadFederatedData(s: FederatedSettings, seed = s.seed ?? FEDERATED_DEFAULTS.seed): Promise<DatasetSplit> {
  const name = s.dataset ?? FEDERATED_DEFAULTS.dataset;
  const load: LoadOptions = { seed };
  if (s.trainSize !== undefined) load.trainSize = s.trainSize;
  if (s.testSize !== undefined) load.testSize = s.testSize;
  if (s.dataDir !== undefined && name !== 'synthetic') {
    const dataDir = path.resolve(s.dataDir);
    load.dataDir = dataDir;
    if (!existsSync(await resolveDatasetDir(name, { dataDir }))) load.path = dataDir;
  }
  return loadDataset(name, load);
}

/** The command line that repeats a run (same seed and backend → same numbers). */
export function reproduceCommand(c: FederatedConfig, seed: number, backend: string, dataDir?: string): string {
  const flags = Object.entries(c)
    .filter(([k]) => k !== 'clientsPerRound')
    .map(([k, v]) => `--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)} ${String(v)}`);
  if (dataDir !== undefined) flags.push(`--data-dir ${JSON.stringify(dataDir)}`);
  return `fedattack train ${flags.join(' ')} --seed ${seed} --backend ${backend}`;
}

function describeAlgorithm(c: FederatedConfig): string {
  if (c.algorithm === 'fedsgd') return `fedsgd (full-batch gradients, server lr ${c.serverLr})`;
  const b = c.batchSize === 0 ? '∞' : String(c.batchSize);
  const prox = c.algorithm === 'fedprox' ? `, mu ${c.mu}` : '';
  const slr = c.serverLr !== 1 ? `, server lr ${c.serverLr}` : '';
  return `${c.algorithm} (E=${c.localEpochs}, B=${b}, lr ${c.lr}${prox}${slr})`;
}

const pct = (v: number | null): string => (v === null ? '—' : `${(100 * v).toFixed(2)}%`);

function roundLine(m: FederatedRound, total: number): string {
  return `round ${m.round}/${total}: accuracy ${pct(m.accuracy)}, test loss ${m.loss === null ? '—' : m.loss.toFixed(4)}, ` +
    `train loss ${Number.isFinite(m.trainLoss) ? m.trainLoss.toFixed(4) : '—'}` +
    (m.attackSuccessRate !== undefined ? `, attack success ${pct(m.attackSuccessRate ?? null)}` : '') +
    (m.droppedClients !== undefined ? `, dropped non-finite updates of clients ${m.droppedClients.join(' ')}` : '') +
    `, ${m.seconds.toFixed(1)} s`;
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

/** Settings and run directory after resume: the checkpoint's settings overridden by those given. */
async function resolveResume(s: FederatedSettings, outDir: string | undefined): Promise<{ settings: FederatedSettings; outDir: string | undefined; seed: number; backend: string; startRound: number }> {
  const seed = s.seed ?? FEDERATED_DEFAULTS.seed;
  const backend = s.backend ?? FEDERATED_DEFAULTS.backend;
  if (s.resume === undefined) return { settings: s, outDir, seed, backend, startRound: 0 };
  const runDir = path.resolve(s.resume);
  if (outDir !== undefined && path.resolve(outDir) !== runDir) throw new UserError('--resume continues in its own directory; drop --out (or give the same directory)');
  const state = await readCheckpointState(runDir);
  if (state === null) throw new UserError(`nothing to resume in ${runDir}: no checkpoint/state.json there`);
  const stored = state.config as Record<string, unknown>;
  if (s.seed !== undefined && s.seed !== 0 && s.seed !== state.seed) throw new UserError(`--seed ${s.seed} differs from the checkpoint's seed ${state.seed}`);
  const given: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) if (s[k] !== undefined) given[k] = s[k];
  // A partition spec compares as the kind and its parameter, as stored.
  if (s.partition !== undefined || s.alpha !== undefined || s.shardsPerClient !== undefined) {
    const p = partitionOf({ ...s, partition: s.partition ?? String(stored['partition']) });
    given['partition'] = p.kind;
    delete given['alpha'];
    delete given['shardsPerClient'];
    if (p.kind === 'dirichlet') given['alpha'] = p.alpha;
    if (p.kind === 'shards') given['shardsPerClient'] = p.shardsPerClient;
  }
  const changed = Object.entries(given).filter(([k, v]) => !RESUME_MUTABLE_KEYS.includes(k) && JSON.stringify(v) !== JSON.stringify(stored[k]));
  if (changed.length > 0) {
    throw new UserError(`cannot resume with other settings: ${changed.map(([k, v]) => `${k} ${JSON.stringify(v)} (checkpoint: ${JSON.stringify(stored[k])})`).join(', ')}`);
  }
  const merged = { ...stored, ...given } as FederatedSettings;
  if (s.dataDir !== undefined) merged.dataDir = s.dataDir;
  for (const k of ['leak', 'leakClients', 'leakRounds', 'leakIterations', 'leakRestarts', 'workers'] as const) if (s[k] !== undefined) (merged as Record<string, unknown>)[k] = s[k];
  return {
    settings: merged, outDir: runDir, seed: state.seed, startRound: state.round,
    backend: backend === 'auto' && state.backend !== undefined ? state.backend : backend,
  };
}

/** Runs a federated experiment (see the file header). */
export async function runFederatedExperiment(given: FederatedSettings, ctx: FederatedContext = {}): Promise<FederatedRunResult> {
  const t0 = performance.now();
  const log = ctx.log ?? ((): void => {});
  const r = await resolveResume(given, ctx.outDir);
  const { settings, seed } = r;
  const runDir = r.outDir;
  const allFiles = runDir !== undefined && (ctx.files ?? 'all') === 'all';
  const files: string[] = [];
  const dataDir = settings.dataDir !== undefined ? path.resolve(settings.dataDir) : undefined;

  const choice = ctx.backend ?? await selectBackend(r.backend);
  if (ctx.backend === undefined) log(describeChoice(choice));
  const threadable = choice.name === 'wasm' || choice.name === 'cpu';
  const workersSetting = settings.workers ?? FEDERATED_DEFAULTS.workers;
  if (workersSetting !== 'auto' && workersSetting > 1 && !threadable) throw new UserError(`--workers needs the wasm or cpu backend (the ${choice.name} backend uses its own parallelism)`);
  const requestedWorkers = workersSetting !== 'auto' ? workersSetting : threadable ? Math.max(1, Math.min(8, os.availableParallelism())) : 1;

  // Data and partition.
  const part = partitionOf(settings);
  const { train, test } = ctx.data ?? await loadFederatedData(settings, seed);
  const naturalClients = part.kind === 'natural' && settings.clients === undefined ? train.users?.length : undefined;
  const config = completeFederatedConfig(settings, naturalClients);
  const workers = Math.min(requestedWorkers, config.clientsPerRound);
  const ignored: string[] = [];
  if (config.algorithm === 'fedsgd') {
    if (given.localEpochs !== undefined) ignored.push('--local-epochs');
    if (given.batchSize !== undefined) ignored.push('--batch-size');
    if (given.lr !== undefined) ignored.push('--lr (fedsgd steps with --server-lr)');
  }
  if (given.mu !== undefined && config.algorithm !== 'fedprox') ignored.push('--mu (fedprox only)');
  if (given.alpha !== undefined && part.kind !== 'dirichlet') ignored.push('--alpha (dirichlet partition only)');
  if (given.shardsPerClient !== undefined && part.kind !== 'shards') ignored.push('--shards-per-client (shards partition only)');
  if (ignored.length > 0) log(`note: ignoring ${ignored.join(', ')}`);
  log(`dataset: ${train.name}, ${train.labels.length} train / ${test.labels.length} test samples, ${train.shape.join('x')}, ${train.numClasses} classes`);
  const parts = partition(train.labels, config.clients, partitionSpecOf(part, train.users), new Rng(seed).fork('partition'));
  // Natural partition: clients are named after their users (LEAF writers).
  let clientIds: string[] | undefined;
  if (part.kind === 'natural' && train.users) {
    const byFirst = new Map(train.users.map((u) => [u.indices.reduce((m, i) => Math.min(m, i), Infinity), u.id]));
    clientIds = parts.map((p, k) => byFirst.get(p[0]!) ?? `client-${k}`);
  }
  const summary = summarizePartition(parts, train.labels, train.numClasses);
  log(`partition: ${config.partition}${part.kind === 'shards' ? ` (${part.shardsPerClient} shards per client)` : part.kind === 'dirichlet' ? ` (alpha ${part.alpha})` : ''}`);
  const partitionText = formatPartitionSummary(summary, 3);
  log(partitionText.split('\n').map((l) => `  ${l}`).join('\n'));

  // Model, algorithm, poisoning and defenses.
  const model = createModel(config.model, { inputShape: train.shape, classes: train.numClasses });
  let strategy = makeStrategy(config.algorithm, {
    epochs: config.localEpochs, batchSize: config.batchSize, lr: config.lr, serverLr: config.serverLr,
    ...(config.mu !== undefined ? { mu: config.mu } : {}),
  });
  const numByzantine = config.byzantine ?? 0;
  if (numByzantine > config.clients) throw new UserError(`--byzantine ${numByzantine} exceeds the ${config.clients} clients`);
  const aggregator = buildAggregator(config.aggregator ?? 'mean', { numByzantine, seed });
  aggregator.checkClients(config.clientsPerRound);
  const attack = config.attack !== undefined ? buildAttack(config.attack) : null;
  const byzantineClients = attack !== null ? chooseByzantine(config.clients, numByzantine, new Rng(seed).fork('byzantine')) : [];
  const byzantineSet = new Set(byzantineClients);
  const behaviour = attack !== null ? behaviourFromCraft(attack) : null;
  let clientWorkers = workers;
  const transforms: UpdateTransform[] = [];
  const defenses: ClientDefense[] = config.clientDefense !== undefined ? buildClientDefenses(config.clientDefense, { seed }) : [];
  for (const d of defenses) {
    if (d.level === 'batch') {
      if (config.algorithm === 'fedsgd') throw new UserError(`--client-defense needs --algorithm fedavg or fedprox (${d.name} changes the local SGD steps)`);
      strategy = batchDefenseStrategy(strategy, d);
      clientWorkers = 1;
    } else transforms.push(d.transform);
  }
  const backdoor = attack !== null && isBackdoor(attack) ? new BackdoorEvaluator(test, attack.backdoor) : null;
  // Without the trigger: a model that predicts the target for everything is not a backdoor.
  const cleanTarget = attack !== null && isBackdoor(attack) ? nonTargetSet(test, attack.backdoor.target) : null;
  log(`model: ${model.name} (${countParams(model).toLocaleString('en-US')} parameters)`);
  log(`algorithm: ${describeAlgorithm(config)}; ${config.clientsPerRound} of ${config.clients} clients per round; ${config.rounds} rounds`);
  if (clientWorkers > 1) log(`worker threads: ${clientWorkers} (the clients of a round train in parallel; same results as --workers 1)`);
  if (attack !== null) log(`attack: ${attack.name} by ${numByzantine} of ${config.clients} clients (${byzantineClients.join(', ')}), acting in the rounds they are sampled`);
  log(`aggregator: ${aggregator.name}${aggregator.dropsNonFinite ? ' (updates with NaN/Inf are dropped)' : ' (updates with NaN/Inf stop the run)'}`);
  if (config.clientDefense !== undefined) log(`client defense: ${defenses.map((d) => (d.level === 'batch' ? `${d.name} (on every training batch)` : d.name)).join(' + ')}${clientWorkers < workers ? ' (in this thread: worker threads off)' : ''}`);
  if (runDir !== undefined && allFiles) log(`output: ${runDir}`);
  let leakObs: ReturnType<typeof leakageObserver> | null = null;
  if (settings.leak !== undefined) {
    const attackName = getLeakageAttack(settings.leak).name;
    const leakClients = settings.leakClients ?? FEDERATED_DEFAULTS.leakClients;
    const leakRounds = settings.leakRounds ?? FEDERATED_DEFAULTS.leakRounds;
    leakObs = leakageObserver({
      attack: attackName, clients: leakClients, rounds: leakRounds, seed, train, ...(runDir !== undefined ? { outDir: runDir } : {}),
      restarts: settings.leakRestarts ?? FEDERATED_DEFAULTS.leakRestarts,
      ...(settings.leakIterations !== undefined ? { iterations: settings.leakIterations } : {}), log,
    });
    log(`leakage: ${attackName} on ${leakClients} honest client(s) per round in rounds 1..${leakRounds}` +
      (config.algorithm === 'fedsgd' ? ' (FedSGD gradients)' : ' (FedAvg updates read as pseudo-gradients −Δ/(lr·steps))'));
  }

  const { rounds: totalRounds, ...settingsForJson } = config;
  const base: Omit<FederatedMetrics, 'rounds' | 'complete'> = {
    command: 'train', backend: choice.name, backendDetail: choice.detail, seed,
    ...settingsForJson, totalRounds,
    ...(dataDir !== undefined ? { dataDir } : {}),
    trainSamples: train.labels.length, testSamples: test.labels.length, inputShape: train.shape, classes: train.numClasses,
    parameters: countParams(model),
    ...(attack !== null ? { attackSpec: attack.name, byzantineClients } : {}),
    aggregatorSpec: aggregator.name,
    partitionSummary: {
      minSamples: summary.minSamples, medianSamples: summary.medianSamples, maxSamples: summary.maxSamples,
      meanClasses: summary.meanClasses, minClasses: summary.minClasses, maxClasses: summary.maxClasses,
    },
  };
  const metricsFile = runDir !== undefined ? path.join(runDir, 'metrics.json') : null;
  const writeMetrics = async (m: FederatedMetrics): Promise<void> => {
    if (!allFiles || metricsFile === null) return;
    await writeJsonAtomic(metricsFile, m);
    if (!files.includes(metricsFile)) files.push(metricsFile);
  };
  if (given.resume !== undefined) log(`resuming after round ${r.startRound}`);
  ctx.onStart?.({ rounds: config.rounds, startRound: Math.min(r.startRound, config.rounds), workers: clientWorkers });

  let result;
  let lastHistory: FederatedRound[] = [];
  try {
    result = await runFederated({
      model, train, test, partition: parts, strategy, rounds: config.rounds, fraction: config.fraction, seed, aggregator,
      ...(clientIds !== undefined ? { clientIds } : {}),
      ...(behaviour !== null ? { behaviour: (k: number) => (byzantineSet.has(k) ? behaviour : undefined) } : {}),
      ...(backdoor !== null ? {
        extraMetrics: async (_round: number, p: Params) => ({
          attackSuccessRate: await backdoor.successRate(model, p),
          cleanTargetRate: cleanTarget === null ? null : (await evaluate(model, p, cleanTarget)).accuracy,
        }),
      } : {}),
      ...(transforms.length > 0 ? { transforms } : {}),
      workers: clientWorkers,
      ...(leakObs !== null ? { observers: [leakObs] } : {}),
      evalEvery: config.evalEvery,
      ...(allFiles ? { checkpoint: { dir: runDir!, config: { ...config, ...(dataDir !== undefined ? { dataDir } : {}) }, backend: choice.name, resume: given.resume !== undefined } } : {}),
      events: {
        ...ctx.events,
        onRoundEnd: async (m, history) => {
          lastHistory = history;
          log(roundLine(m, config.rounds));
          await ctx.events?.onRoundEnd?.(m, history);
          await writeMetrics({ ...base, rounds: history, complete: false });
        },
      },
    });
  } catch (e) {
    if (!(e instanceof NonFiniteUpdateError)) throw e;
    // Keep the metrics of the completed rounds, and say why the run stopped.
    const metrics: FederatedMetrics = { ...base, rounds: lastHistory, complete: false, stoppedAtRound: e.round, error: e.message, ...(leakObs !== null ? { leakage: leakObs.records } : {}) };
    await writeMetrics(metrics);
    return { metrics, files: [...files, ...leakFiles(leakObs, runDir)], ...(runDir !== undefined ? { outDir: runDir } : {}) };
  } finally {
    backdoor?.dispose();
    if (cleanTarget !== null) disposeData(cleanTarget);
  }
  tf.dispose(Object.values(result.params));

  const seconds = (performance.now() - t0) / 1000;
  const metrics: FederatedMetrics = {
    ...base, rounds: result.rounds, finalAccuracy: result.finalAccuracy, finalLoss: result.finalLoss, completedRounds: result.completedRounds,
    ...(result.resumedFrom > 0 ? { resumedFrom: result.resumedFrom } : {}),
    seconds, complete: true,
    ...(leakObs !== null ? { leakage: leakObs.records } : {}),
  };
  await writeMetrics(metrics);
  if (allFiles) {
    files.push(checkpointDir(runDir!));
    files.push(...await writeFederatedReport(runDir!, {
      config, metrics, seed, backend: `${choice.name} (${choice.detail})`, partitionText, trainName: train.name, modelName: model.name,
      reproduce: `${reproduceCommand(config, seed, choice.name, dataDir)}\n# continue this run to more rounds: fedattack train --resume ${runDir} --rounds N`,
      leak: settings.leak, dropping: aggregator.dropsNonFinite === true,
    }));
  }
  return { metrics, files: [...files, ...leakFiles(leakObs, runDir)], ...(runDir !== undefined ? { outDir: runDir } : {}) };
}

function leakFiles(obs: { records: LeakRecord[] } | null, runDir: string | undefined): string[] {
  if (obs === null || runDir === undefined) return [];
  return obs.records.flatMap((r) => (r.images ? [path.join(runDir, r.images.reconstruction), path.join(runDir, r.images.groundTruth)] : []));
}
