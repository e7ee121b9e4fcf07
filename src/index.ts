/**
 * fedattack as a library: `import { … } from 'fedattack'`.
 *
 * Privacy (gradient leakage: DLG, iDLG, Inverting Gradients) and robustness (poisoning, robust
 * aggregation) attacks on federated learning, on TensorFlow.js. What the CLI does is built from the
 * pieces exported here; a component registered with a `register…` function (or by a `--plugin` module
 * that calls one) works like a built-in one, from this API and from the CLI.
 *
 * ```ts
 * import { selectBackend, createModel, loadDataset, runFederated, fedavg, partition, Rng } from 'fedattack';
 * await selectBackend('cpu');
 * const train = await loadDataset('synthetic', { split: 'train' });
 * const model = createModel('mlp', { inputShape: train.shape, numClasses: train.numClasses });
 * const parts = partition(train.labels, 4, { kind: 'iid' }, new Rng(0).fork('partition'));
 * const run = await runFederated({ model, train, partition: parts, strategy: fedavg(), rounds: 2, fraction: 1, seed: 0 });
 * ```
 */

// ---------------------------------------------------------------------------------------------------
// Errors, spec grammar, registries, plug-ins (src/core)

export {
  /** A mistake the user can fix; the CLI prints its message as one line and exits 2. Base of every user-facing error. */
  UserError,
  /** Whether an error is a {@link UserError} (`instanceof`). */
  isUserError,
} from './core/errors.js';
export {
  /** Parses and validates a component spec (`name:k=v,...`, chains `a+b` where the registry allows). */
  parseSpec,
  /** The canonical text of parsed components (inverse of parseSpec). */
  formatSpec,
  /** The `--help` listing of a registry: one block per component with its parameters. */
  describeRegistry,
  /** A malformed or invalid component spec (user-facing). */
  SpecError,
  /** A declared component parameter: type, default, range, description. */
  type ParamDecl,
  /** A component's declaration: name, one-line summary, parameters. */
  type ComponentDecl,
  /** A parsed component: its name and validated values (defaults filled in). */
  type ParsedComponent,
  /** The value of one component parameter. */
  type ParamValue,
  /** What parseSpec validates against: a kind and its component declarations. */
  type Registry,
} from './core/spec.js';
export {
  /** An open registry of components of one kind (see `ComponentRegistry.shared(kind)`). */
  ComponentRegistry,
  /** A name clash or malformed component at registration (user-facing). */
  RegistryError,
  /** A registrable component: its declaration plus `build(values, ctx)`. */
  type Component,
  /** Validated parameter values of one component. */
  type ComponentValues,
} from './core/registry.js';
export {
  /** Imports a plug-in module (a file that registers components) once; PluginError if missing or failing. */
  loadPlugin,
  /** Loads plug-ins in order. */
  loadPlugins,
  /** File URLs of the plug-ins loaded in this thread (worker threads load them too). */
  loadedPlugins,
  /** A plug-in that cannot be found or failed while loading (user-facing). */
  PluginError,
} from './core/plugins.js';
export {
  /** A pool of worker threads or child processes serving jobs over a message channel. */
  WorkerPool,
  /** How a {@link WorkerPool} starts its workers and talks to them. */
  type PoolOptions,
  /** One job handed to a {@link WorkerPool}: its message and how to read the replies. */
  type PoolJob,
} from './core/pool.js';

// ---------------------------------------------------------------------------------------------------
// Backend and tensors (src/engine)

export {
  /** The TensorFlow.js namespace fedattack uses (the same instance: tensors are interchangeable). */
  tf,
  /** A TensorFlow.js tensor. */
  type Tensor,
} from './engine/tf.js';
export {
  /** Starts a compute backend ('auto', 'tensorflow', 'webgpu', 'wasm', 'cpu') with fedattack's kernels and gradients. */
  selectBackend,
  /** One line naming the backend that was started. */
  describeChoice,
  /** The backend names `selectBackend` accepts. */
  BACKEND_NAMES,
  /** A backend that cannot be started (user-facing). */
  BackendError,
  /** The backend `selectBackend` started, and why. */
  type BackendChoice,
} from './engine/backend.js';
export {
  /** The seeded random stream of fedattack (`new Rng(seed).fork(label)` for one purpose). */
  Rng,
} from './engine/rng.js';

// ---------------------------------------------------------------------------------------------------
// Models (src/models)

export {
  /** Builds a registered model by name (`mlp`, `cnn`, `lenet`, `convnet`, …). */
  createModel,
  /** Name and one-line description of each registered model. */
  describeModels,
  /** Number of trainable scalars of a model. */
  countParams,
  /** Disposes every tensor of a parameter set. */
  disposeParams,
  /** A parameter set built from host arrays, shaped like the model's parameters. */
  paramsFromArrays,
  /** An unknown model or bad model options (user-facing). */
  ModelError,
  /** A functional model: parameter shapes, `init(seed)`, `apply(params, x)`. */
  type Model,
  /** Options of createModel: input shape, classes, variant settings. */
  type ModelOptions,
  /** Parameters by name: `Record<string, tf.Tensor>`. */
  type Params,
  /** An image shape [height, width, channels]. */
  type Shape3,
} from './models/index.js';

// ---------------------------------------------------------------------------------------------------
// Datasets (datasets/)

export {
  /** Loads one split of a registered dataset (synthetic, mnist, cifar10, an image folder, …). */
  loadDataset,
  /** The registered datasets with their descriptions. */
  listDatasets,
  /** The canonical name of a dataset (aliases resolved). */
  canonicalDatasetName,
  /** Where datasets are stored by default. */
  defaultDataDir,
  /** Downloads a dataset that has a download plan. */
  downloadDataset,
  /** The datasets that can be downloaded. */
  downloadableDatasets,
  /** A dataset that cannot be found or read (user-facing). */
  DataError,
  /** Options of loadDataset: split, data directory, path, limits. */
  type LoadOptions,
  /** One split of a dataset: images, labels, shape, classes. */
  type DatasetSplit,
  /** A dataset: its splits and metadata. */
  type Dataset,
  /** A registered dataset's listing entry. */
  type DatasetInfo,
} from '../datasets/index.js';

// ---------------------------------------------------------------------------------------------------
// The federated harness (src/fl)

export {
  /** Runs federated training: sampling, local training, client behaviours, aggregation, evaluation, observers. */
  runFederated,
  /** A seeded stream for one purpose of a run (`new Rng(seed).fork(label)`). */
  derivedRng,
  /** An update with NaN/Inf coordinates under the 'stop' policy (user-facing). */
  NonFiniteUpdateError,
  /** Options of runFederated. */
  type FederatedOptions,
  /** What runFederated returns: final parameters and per-round metrics. */
  type FederatedResult,
  /** Progress callbacks of runFederated. */
  type HarnessEvents,
} from './fl/harness.js';
export {
  /** FedAvg (McMahan et al. 2017): E local epochs of SGD, sample-weighted mean of the updates. */
  fedavg,
  /** FedSGD: one full-batch gradient per client per round. */
  fedsgd,
  /** FedProx (Li et al. 2020): FedAvg with a proximal term μ/2‖w − w_global‖². */
  fedprox,
  /** A built-in strategy by name ('fedavg', 'fedsgd', 'fedprox'). */
  makeStrategy,
  /** The built-in strategy names. */
  ALGORITHM_NAMES,
  /** Options of fedavg. */
  type FedAvgOptions,
  /** Options of fedprox. */
  type FedProxOptions,
  /** Options of fedsgd. */
  type FedSgdOptions,
} from './fl/algorithms.js';
export {
  /** Splits sample indices over clients: iid, by shards, Dirichlet(α) label skew, … */
  partition,
  /** Per-client sizes and label counts of a partition. */
  summarizePartition,
  /** A partition scheme. */
  type PartitionSpec,
  /** An impossible partition (user-facing). */
  PartitionError,
  /** What summarizePartition returns. */
  type PartitionSummary,
  /** Parses a partition spec (`iid`, `shards:perClient=2`, `dirichlet:alpha=0.5`, `natural`): the grammar of train and matrix. */
  parsePartition,
} from './fl/partition.js';
export {
  /** The FedSGD observation of a batch (what the harness's client sends; the leak victim). */
  fedSgdObservation,
} from './fl/client.js';
export {
  /** The server's default rule: the sample-weighted mean of the updates. */
  meanAggregator,
} from './fl/server.js';
export {
  /** An observer that records every observation (optionally with its update). */
  recordingObserver,
  /** An observer that calls a function with every observation. */
  callbackObserver,
  /** What recordingObserver keeps of one observation. */
  type ObservationRecord,
  /** An observer with the records it kept. */
  type RecordingObserver,
} from './fl/observers.js';
export {
  /** Flattens a parameter set into one host vector (parameter order). */
  flatten,
  /** A host vector back into tensors shaped like `like`. */
  unflatten,
  /** FedAvg's sample-weighted mean of flat updates (the one mean: the harness's default and `mean`). */
  weightedMean,
} from './fl/flat.js';
export {
  /** Test-set accuracy and loss of parameters. */
  evaluate,
  /** What evaluate returns. */
  type EvalResult,
} from './fl/evaluate.js';
export type {
  /** What the server sees from one client in one round (its update, the global model, the metadata). */
  Observation,
  /** The ground truth behind an observation (the client's samples), for scoring attacks. */
  ObservationTruth,
  /** Something the server runs on every observation (e.g. a leakage attack). */
  Observer,
  /** How a malicious client replaces its honest update (poisoning). */
  ClientBehaviour,
  /** A federated algorithm: the client's local procedure and the server's update. */
  Strategy,
  /** A client-side transform of its update before sending (e.g. clip-noise). */
  UpdateTransform,
  /** Metrics of one round. */
  RoundMetrics,
  /** One client's result: its update and metadata. */
  ClientResult,
  /** Local training settings of the 'update' strategies. */
  LocalTrainConfig,
} from './fl/types.js';

// ---------------------------------------------------------------------------------------------------
// Attacks: gradient leakage (attacks/leakage) and poisoning (attacks/poisoning)

export {
  /** DLG (Zhu et al. 2019): dummy images and soft labels optimised to match the observed gradient. */
  dlg,
  /** iDLG (Zhao et al. 2020): DLG with the labels read from the last layer's gradient. */
  idlg,
  /** Inverting Gradients (Geiping et al. 2020): cosine matching + total variation, signed Adam. */
  ig,
  /** A registered leakage attack by name. */
  getLeakageAttack,
  /** The gradient-matching objective shared by the attacks (Euclidean or cosine, per-layer weights). */
  matchGradients,
  /** Total variation of an image batch (the image prior of IG). */
  totalVariation,
  /** Restores the batch's labels from the last layer's gradient. */
  restoreLabels,
  /** The observed gradient of an observation (an update read as a gradient). */
  observedGradient,
  /** The batch size of an observation. */
  observedBatch,
  /** A leakage attack's invalid settings (user-facing). */
  ConfigError,
  /** A gradient-leakage attack: `reconstruct(observation, options)`. */
  type LeakageAttack,
  /** What a leakage attack receives: the harness observation with the training metadata optional. */
  type Observation as LeakageObservation,
  /** Options of a leakage attack: iterations, optimiser, lr, TV weight, init, seed, callbacks. */
  type AttackOptions,
  /** A leakage attack's output: images, labels, loss, snapshots. */
  type Reconstruction,
  /** Which gradient distance matchGradients computes. */
  type MatchingSpec,
} from '../attacks/leakage/index.js';
export {
  /** Runs a leakage attack with restarts, divergence retries and the stop rule (optionally in worker threads). */
  runAttack,
  /** The observed gradient of a victim batch (a FedSGD observation). */
  victimObservation,
  /** Disposes an observation's tensors. */
  disposeObservation,
  /** Options of runAttack. */
  type RunOptions,
  /** What runAttack returns: the best reconstruction and every attempt. */
  type AttackRun,
} from '../attacks/leakage/run.js';
export {
  /** Builds a malicious-client behaviour from its spec (`sign-flip:scale=10`, `alie`, `ipm:eps=0.5`, …). */
  buildAttack,
  /** The `--help` listing of the poisoning attacks. */
  describePoisoning,
  /** Whether a built attack plants a backdoor (its `backdoor` capability: trigger, target, test set). */
  isBackdoor,
  /** The backdoor capability of an attack. */
  type Backdoor,
  /** A poisoning attack that cannot run (user-facing). */
  AttackError,
  /** A malicious client's craft: how it builds its update (and, for data poisoning, its samples). */
  type MaliciousCraft,
  /** What a craft sees: its own honest update, the honest updates (omniscient), the round. */
  type CraftContext,
} from '../attacks/poisoning/index.js';

// ---------------------------------------------------------------------------------------------------
// Defenses (defenses/)

export {
  /** Builds an aggregation rule or chain from its spec (`krum:f=2`, `clip:bound=5+median`, …). */
  buildAggregator,
  /** The `--help` listing of the aggregation rules. */
  describeAggregators,
  /** Base class of the built-in rules (NaN/Inf dropping, `lastInfo`). */
  BaseAggregator,
  /** An aggregation that cannot run (user-facing). */
  AggregatorError,
  /** A robust aggregation rule over flattened host vectors. */
  type Aggregator,
  /** What an aggregator's build may read from the run: Byzantine count, seed. */
  type BuildContext as AggregatorContext,
  /** What one aggregate call did (dropped, selected, iterations). */
  type AggregationInfo,
} from '../defenses/aggregation/index.js';
export {
  /** A client-side defense: clip each update to a norm and add Gaussian noise (DP-style). */
  clipNoiseTransform,
  /** Options of clipNoiseTransform. */
  type ClipNoiseOptions,
} from '../defenses/training/clip-noise.js';

// ---------------------------------------------------------------------------------------------------
// Metrics (src/metrics)

export {
  /** Mean squared error of two images. */
  mse,
  /** Peak signal-to-noise ratio (dB) of two images in [0, 1]. */
  psnr,
  /** Structural similarity (Wang et al. 2004) of two images. */
  ssim,
  /** Fraction of labels recovered at their positions. */
  labelAccuracy,
  /** Fraction of labels recovered as a multiset (order ignored). */
  labelMultisetAccuracy,
  /** Mean of numbers. */
  mean,
  /** Median of numbers. */
  median,
  /** The best one-to-one matching of reconstructions to ground-truth images. */
  matchAndScore,
  /** Scores a reconstructed batch against the ground truth (PSNR, SSIM, labels), matched optimally. */
  scoreReconstruction,
  /** Splits a batch of images (B·H·W·C values) into one array per image. */
  splitImages,
  /** Options of ssim. */
  type SsimOptions,
  /** The ground truth of a batch. */
  type GroundTruth,
  /** The score of one reconstructed image. */
  type ImageScore,
  /** The score of a batch. */
  type Score,
} from './metrics/index.js';

// ---------------------------------------------------------------------------------------------------
// Registration (every registry is open: a registered component works like a built-in on the CLI, in
// configs and in worker threads) and experiments (one function per kind of run).
export {
  /** Adds an aggregator or pre-aggregator usable in every --aggregator spec, chain and config. */ registerAggregator,
  /** Removes a registered aggregator. */ unregisterAggregator,
  /** Every final aggregator's name, built-in and registered. */ aggregatorNames,
  /** Every pre-aggregator's name. */ preAggregatorNames,
  /** What registerAggregator takes: declaration, role and build. */ type AggregationComponent,
} from '../defenses/aggregation/index.js';
export {
  /** Adds a poisoning attack usable as --attack and in matrix rows. */ registerPoisoningAttack,
  /** Removes a registered poisoning attack. */ unregisterPoisoningAttack,
  /** Every poisoning attack's name. */ poisoningAttackNames,
  /** What registerPoisoningAttack takes. */ type PoisoningComponent,
} from '../attacks/poisoning/index.js';
export {
  /** Adds a leakage attack usable as leak --attack, train --leak and leak:NAME in a matrix. */ registerLeakageAttack,
  /** Removes a registered leakage attack. */ unregisterLeakageAttack,
  /** The `--help` listing of the leakage attacks. */ describeLeakageAttacks,
  /** Every leakage attack's name. */ leakageAttackNames,
} from '../attacks/leakage/index.js';
export {
  /** Adds a client defense (batch-level or update-level). */ registerClientDefense,
  /** Every client defense's name. */ clientDefenseNames,
  /** Builds client defenses from a spec (`pgd:epsilon=0.1+clip-noise`): at most one batch-level. */ buildClientDefenses,
  /** Builds one client defense from its spec. */ buildClientDefense,
  /** Removes a registered client defense. */ unregisterClientDefense,
  /** The `--help` listing of the client defenses. */ describeClientDefenses,
  /** A built client defense: batch-level (`transformBatch`) or update-level (`transform`). */ type ClientDefense,
  /** What registerClientDefense takes. */ type ClientDefenseComponent,
} from '../defenses/client/index.js';
export {
  /** Adds a dataset (with its files, probe and download plan). */ registerDataset,
  /** Removes a registered dataset. */ unregisterDataset,
  /** Every dataset's name. */ datasetNames,
  /** What registerDataset takes. */ type DatasetEntry,
} from '../datasets/index.js';
export {
  /** Adds a model (and its variants as parameters). */ registerModel,
  /** Removes a registered model. */ unregisterModel,
  /** Builds a model from a spec with its variants (`convnet:width=16,pool=avg`). */ buildModel,
  /** Every model's name. */ modelNames,
  /** What registerModel takes. */ type ModelComponent,
} from './models/index.js';
export {
  /** A federated run from plain settings (the train flags in camelCase): metrics, files written. */ runFederatedExperiment,
  /** Defaults of runFederatedExperiment's settings. */ FEDERATED_DEFAULTS,
  /** Settings of runFederatedExperiment. */ type FederatedSettings,
  /** Run context of runFederatedExperiment: outDir, log, events. */ type FederatedContext,
  /** What runFederatedExperiment returns. */ type FederatedRunResult,
} from './experiments/federated.js';
export {
  /** A leakage run from plain settings (the leak flags in camelCase): metrics, files written. */ runLeakage,
  /** Defaults of the leakage settings. */ LEAKAGE_DEFAULTS,
  /** Settings of runLeakage and runLeakageBatch. */ type LeakageSettings,
  /** Run context of a leakage run: outDir, log, shouldStop, progress. */ type LeakageRunContext,
  /** What runLeakage returns. */ type LeakageResult,
} from './experiments/leakage.js';
export {
  /** Every image attacked on its own (leak --each): summary, files written. */ runLeakageBatch,
  /** What runLeakageBatch returns. */ type LeakageBatchResult,
} from './experiments/leakage-batch.js';
export {
  /** A whole matrix (defenses × attacks × …) from a parsed config: resumable, cells in worker processes. */ runMatrix,
} from './experiments/matrix/run.js';
export {
  /** Parses and validates a matrix config object (the YAML/JSON of `fedattack matrix --config`). */ parseMatrixConfig,
  /** A parsed matrix config. */ type MatrixConfig,
} from './experiments/matrix/config.js';
export {
  /** One matrix cell (a federated run with one defense and one attack). */ runMatrixCell,
  /** What runMatrixCell returns. */ type CellResult,
} from './experiments/matrix/cell.js';
export {
  /** The benchmark suites from plain settings. */ runBench,
  /** Defaults of runBench's settings. */ BENCH_DEFAULTS,
  /** Settings of runBench. */ type BenchSettings,
} from './experiments/bench.js';
