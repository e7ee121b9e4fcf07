/**
 * The dataset registry: one name per dataset, `loadDataset(name, opts)` to load it (from files
 * under a data directory, or generated), `listDatasets()` to describe what is available.
 *
 * Where files are looked for: `opts.path` when given (the dataset's own directory, or for LEAF a
 * single JSON file); otherwise `<dataDir>/<name>` (or `<dataDir>/<alias>`), or `<dataDir>` itself
 * when it directly holds the dataset's files. `dataDir` defaults to $FEDATTACK_DATA_DIR, else
 * `data`. `fedattack download <name>` writes into `<dataDir>/<name>`.
 *
 * `trainSize` / `testSize` take a seeded random subset (kept in file order) of a file-based
 * dataset, capped at its size; for `synthetic` they are the numbers of samples generated.
 */
import * as path from 'node:path';
import { ComponentRegistry, RegistryError, type Component } from '../src/core/registry.js';
import { Rng } from '../src/engine/rng.js';
import { CIFAR100_SUBDIR, CIFAR100_TEST_FILE, CIFAR10_SUBDIR, CIFAR10_TEST_FILE, loadCifar10, loadCifar100 } from './cifar.js';
import {
  CIFAR100_PLAN, CIFAR10_PLAN, downloadWithPlan, FASHION_MNIST_PLAN, MNIST_PLAN, type DownloadOptions, type DownloadPlan, type DownloadResult,
} from './download.js';
import { findFile, isDir, subsetDataset } from './files.js';
import { loadImageFolder } from './image-folder.js';
import { loadLeaf } from './leaf.js';
import { loadMnist, MNIST_FILES } from './mnist.js';
import { generateSynthetic } from './synthetic.js';
import { DataError, type DatasetSplit } from './types.js';

export { DataError } from './types.js';
export type { Dataset, DatasetSplit } from './types.js';
export { readTar, type DownloadOptions, type DownloadPlan, type DownloadResult } from './download.js';

export interface LoadOptions {
  /** Root data directory (default $FEDATTACK_DATA_DIR, else `data`). */
  dataDir?: string;
  /** The dataset's own location, overriding dataDir (a directory, or a LEAF JSON file). */
  path?: string;
  /** Seed of generation (synthetic), subsets and random train/test splits (default 0). */
  seed?: number;
  /** Training samples: generated (synthetic) or a seeded subset (files). */
  trainSize?: number;
  /** Test samples: generated (synthetic) or a seeded subset (files). */
  testSize?: number;
  /** synthetic: number of classes (default 10). */
  classes?: number;
  /** synthetic: image shape [H, W, C] (default [28, 28, 1]). */
  shape?: [number, number, number];
  /** synthetic: pixel noise std (default 0.2). */
  noise?: number;
  /** image-folder: output side in pixels (default 32). */
  size?: number;
  /** image-folder: 3 (RGB, default) or 1 (grey). */
  channels?: 1 | 3;
  /** image-folder (default 0.2) and LEAF without a train/test split (default 0.1): share sent to test. */
  testFraction?: number;
  /** LEAF: number of classes (default 62, FEMNIST). */
  numClasses?: number;
}

export interface DatasetInfo {
  name: string;
  aliases: string[];
  description: string;
  /** The files expected in the dataset's directory ('' when none). */
  files: string;
  /** Whether `fedattack download` can fetch it. */
  downloadable: boolean;
}

/**
 * A dataset as the registry holds it (see {@link registerDataset}): one file with a loader plus this
 * entry adds a dataset to `loadDataset`, `--dataset`, configs and `fedattack datasets list/download`.
 */
export interface DatasetEntry {
  /** Canonical name: lower-case letters, digits and '-'. */
  readonly name: string;
  /** Other names accepted everywhere (case-insensitive), e.g. 'fmnist'. */
  readonly aliases?: readonly string[];
  /** One line for listings: what it is, image shape, classes, sizes, file format. */
  readonly summary: string;
  /** The files expected in the dataset's directory, for listings and errors. Absent for a generated dataset. */
  readonly files?: string;
  /**
   * Generated, not read from files: `load` gets no directory ('') and reads trainSize/testSize itself
   * (file-based datasets are subset to them by loadDataset).
   */
  readonly generated?: boolean;
  /** Files whose presence directly in dataDir means dataDir itself is the dataset's directory. */
  readonly probe?: readonly string[];
  /** How `fedattack datasets download` fetches it; absent: it cannot be downloaded. */
  readonly download?: DownloadPlan;
  /** Loads both splits from `dir` (the resolved directory or `opts.path`); DataError on bad files or options. */
  load(dir: string, opts: LoadOptions): Promise<DatasetSplit>;
}

/** What a dataset component is built from: the resolved directory and the load options. */
export interface DatasetLoadContext {
  dir: string;
  options: LoadOptions;
}

type DatasetComponent = DatasetEntry & Component<Promise<DatasetSplit>, DatasetLoadContext>;

/** Every dataset by canonical name (process-wide: see ComponentRegistry.shared); built-ins first. */
const registry = ComponentRegistry.shared<Promise<DatasetSplit>, DatasetLoadContext, DatasetComponent>('dataset');

const BUILTIN: DatasetEntry[] = [
  {
    name: 'synthetic',
    summary: 'generated learnable images (class prototypes of random strokes, shifted, noisy); no files',
    generated: true,
    load: async (_dir, o) => {
      const s: Parameters<typeof generateSynthetic>[0] = {};
      if (o.classes !== undefined) s.classes = o.classes;
      if (o.shape !== undefined) s.shape = o.shape;
      if (o.trainSize !== undefined) s.trainSize = o.trainSize;
      if (o.testSize !== undefined) s.testSize = o.testSize;
      if (o.seed !== undefined) s.seed = o.seed;
      if (o.noise !== undefined) s.noise = o.noise;
      return generateSynthetic(s);
    },
  },
  {
    name: 'mnist',
    summary: 'MNIST handwritten digits, 28x28x1, 10 classes, 60k/10k (IDX files)',
    files: Object.values(MNIST_FILES).map((f) => `${f}[.gz]`).join(', '),
    download: MNIST_PLAN,
    probe: [MNIST_FILES.testLabels],
    load: (dir) => loadMnist(dir, 'mnist'),
  },
  {
    name: 'fashion-mnist',
    aliases: ['fashion', 'fmnist', 'fashion_mnist'],
    summary: 'Fashion-MNIST clothing images, 28x28x1, 10 classes, 60k/10k (IDX files)',
    files: Object.values(MNIST_FILES).map((f) => `${f}[.gz]`).join(', '),
    download: FASHION_MNIST_PLAN,
    probe: [MNIST_FILES.testLabels],
    load: (dir) => loadMnist(dir, 'fashion-mnist'),
  },
  {
    name: 'cifar10',
    aliases: ['cifar-10'],
    summary: 'CIFAR-10 colour images, 32x32x3, 10 classes, 50k/10k (binary version)',
    files: 'data_batch_1.bin .. data_batch_5.bin, test_batch.bin (or cifar-10-batches-bin/)',
    download: CIFAR10_PLAN,
    probe: [CIFAR10_TEST_FILE, path.join(CIFAR10_SUBDIR, CIFAR10_TEST_FILE)],
    load: (dir) => loadCifar10(dir),
  },
  {
    name: 'cifar100',
    aliases: ['cifar-100'],
    summary: 'CIFAR-100 colour images, 32x32x3, 100 fine classes, 50k/10k (binary version)',
    files: 'train.bin, test.bin (or cifar-100-binary/)',
    download: CIFAR100_PLAN,
    probe: [path.join(CIFAR100_SUBDIR, CIFAR100_TEST_FILE)],
    load: (dir) => loadCifar100(dir),
  },
  {
    name: 'femnist',
    aliases: ['leaf'],
    summary: 'LEAF FEMNIST handwritten characters by writer, 28x28x1, 62 classes, natural per-user split (JSON)',
    files: 'train/*.json and test/*.json, a directory of LEAF .json files, or one .json file (via path)',
    load: (dir, o) => {
      const l: Parameters<typeof loadLeaf>[1] = { name: 'femnist' };
      if (o.numClasses !== undefined) l.numClasses = o.numClasses;
      if (o.testFraction !== undefined) l.testFraction = o.testFraction;
      if (o.seed !== undefined) l.seed = o.seed;
      return loadLeaf(dir, l);
    },
  },
  {
    name: 'image-folder',
    aliases: ['folder', 'imagefolder'],
    summary: 'your own images: one sub-folder per class of PNG/JPEG files, resized (set path)',
    files: '<class name>/<image>.png|.jpg (optionally under train/ and test/)',
    load: (dir, o) => {
      const f: Parameters<typeof loadImageFolder>[1] = { name: 'image-folder' };
      if (o.size !== undefined) f.size = o.size;
      if (o.channels !== undefined) f.channels = o.channels;
      if (o.testFraction !== undefined) f.testFraction = o.testFraction;
      if (o.seed !== undefined) f.seed = o.seed;
      return loadImageFolder(dir, f);
    },
  },
];

function component(entry: DatasetEntry): DatasetComponent {
  return { ...entry, params: {}, build: (_values, ctx) => entry.load(ctx.dir, ctx.options) };
}

for (const e of BUILTIN) registry.registerBuiltin(component(e));

/**
 * Adds a dataset usable as `--dataset NAME` (or any alias), in configs, `loadDataset` and
 * `fedattack datasets list` (and `download`, when the entry has a plan). RegistryError on a taken name
 * or alias, or a malformed entry.
 *
 * ```ts
 * registerDataset({ name: 'my-data', summary: '32x32x3, 5 classes', files: 'train.npy, test.npy',
 *   load: async (dir, opts) => ({ train: …, test: … }) });
 * ```
 */
export function registerDataset(entry: DatasetEntry): DatasetEntry {
  const e = entry as Partial<DatasetEntry> | undefined;
  const what = `cannot register dataset ${JSON.stringify(e?.name)}`;
  if (typeof e?.load !== 'function') throw new RegistryError(`${what}: it has no load(dir, opts) function`);
  if (typeof e.summary !== 'string') throw new RegistryError(`${what}: it needs a one-line summary`);
  for (const alias of e.aliases ?? []) {
    if (typeof alias !== 'string' || alias.trim() === '' || alias !== alias.toLowerCase()) throw new RegistryError(`${what}: alias ${JSON.stringify(alias)} is not a lower-case name`);
  }
  for (const word of [e.name, ...(e.aliases ?? [])]) {
    const owner = typeof word === 'string' ? findEntryOrNull(word) : null;
    if (owner !== null) throw new RegistryError(`${what}: "${word}" is already a name of dataset ${owner.name}`);
  }
  registry.register(component(entry));
  return entry;
}

/** Removes a registered dataset (tests, plug-ins replacing their own); true if it was there. */
export function unregisterDataset(name: string): boolean {
  return registry.unregister(name);
}

/** Canonical names of every dataset, built-in and registered, in registration order. */
export function datasetNames(): string[] {
  return registry.names();
}

function findEntryOrNull(name: string): DatasetComponent | null {
  const key = name.trim().toLowerCase();
  return registry.list().find((e) => e.name === key || (e.aliases ?? []).includes(key)) ?? null;
}

function findEntry(name: string): DatasetComponent {
  const entry = findEntryOrNull(name);
  if (entry === null) throw new DataError(`unknown dataset "${name}"; known datasets: ${datasetNames().join(', ')}`);
  return entry;
}

/** The canonical name of a dataset name or alias (DataError if unknown). */
export function canonicalDatasetName(name: string): string {
  return findEntry(name).name;
}

/** Descriptions of every registered dataset (for `fedattack datasets list` and --help). */
export function listDatasets(): DatasetInfo[] {
  return registry.list().map((e) => ({
    name: e.name, aliases: [...(e.aliases ?? [])], description: e.summary, files: e.files ?? '', downloadable: e.download !== undefined,
  }));
}

/** Names of the datasets `fedattack datasets download` can fetch (those with a download plan). */
export function downloadableDatasets(): string[] {
  return registry.list().filter((e) => e.download !== undefined).map((e) => e.name);
}

/**
 * Downloads a dataset (name or alias) into `<dataDir>/<name>/` by its plan, verifies it loads, and
 * returns where it is. Throws DataError on unknown or non-downloadable names, HTTP errors, unreachable
 * hosts and files that do not load.
 */
export async function downloadDataset(name: string, dataDir: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const entry = findEntryOrNull(name);
  if (entry?.download === undefined) {
    const byHand = registry.list().filter((e) => e.download === undefined && e.generated !== true).map((e) => e.name);
    const generated = registry.list().filter((e) => e.generated === true).map((e) => e.name);
    throw new DataError(`cannot download "${name}": downloadable datasets are ${downloadableDatasets().join(', ')}` +
      ` (${generated.join(', ')} need${generated.length === 1 ? 's' : ''} no files; ${byHand.join(', ')} must be prepared by hand)`);
  }
  return downloadWithPlan({ name: entry.name, plan: entry.download, load: (dir) => entry.load(dir, {}) }, dataDir, opts);
}

/** The default root data directory: $FEDATTACK_DATA_DIR, else `data`. */
export function defaultDataDir(): string {
  return process.env.FEDATTACK_DATA_DIR || 'data';
}

/** Where a file-based dataset's files are looked for, given the options. */
export async function resolveDatasetDir(name: string, opts: Pick<LoadOptions, 'dataDir' | 'path'> = {}): Promise<string> {
  const entry = findEntry(name);
  if (opts.path) return opts.path;
  const base = opts.dataDir ?? defaultDataDir();
  for (const n of [entry.name, ...(entry.aliases ?? [])]) {
    const dir = path.join(base, n);
    if (await isDir(dir)) return dir;
  }
  if (entry.probe && (await findFile(base, [...entry.probe])) !== null) return base;
  return path.join(base, entry.name);
}

/** Loads (or generates) a dataset by name or alias. Errors in the files or options are DataError. */
export async function loadDataset(name: string, opts: LoadOptions = {}): Promise<DatasetSplit> {
  const entry = findEntry(name);
  const dir = entry.generated === true ? '' : await resolveDatasetDir(entry.name, opts);
  const split = await entry.build({}, { dir, options: opts });
  if (entry.generated === true) return split;
  const rng = new Rng(opts.seed ?? 0);
  return {
    train: subsetDataset(split.train, opts.trainSize, rng.fork('subset-train')),
    test: subsetDataset(split.test, opts.testSize, rng.fork('subset-test')),
  };
}
