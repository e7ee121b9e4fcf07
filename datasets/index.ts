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
import { Rng } from '../src/engine/rng.js';
import { CIFAR100_SUBDIR, CIFAR100_TEST_FILE, CIFAR10_SUBDIR, CIFAR10_TEST_FILE, loadCifar10, loadCifar100 } from './cifar.js';
import { findFile, isDir, subsetDataset } from './files.js';
import { loadImageFolder } from './image-folder.js';
import { loadLeaf } from './leaf.js';
import { loadMnist, MNIST_FILES } from './mnist.js';
import { generateSynthetic } from './synthetic.js';
import { DataError, type DatasetSplit } from './types.js';

export { DataError } from './types.js';
export type { Dataset, DatasetSplit } from './types.js';
export { downloadDataset, downloadableDatasets, type DownloadOptions, type DownloadResult } from './download.js';

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

interface Entry extends DatasetInfo {
  /** A file whose presence directly in dataDir means dataDir itself is the dataset's directory. */
  probe?: string[];
  load(dir: string, opts: LoadOptions): Promise<DatasetSplit>;
}

const ENTRIES: Entry[] = [
  {
    name: 'synthetic',
    aliases: [],
    description: 'generated learnable images (class prototypes of random strokes, shifted, noisy); no files',
    files: '',
    downloadable: false,
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
    aliases: [],
    description: 'MNIST handwritten digits, 28x28x1, 10 classes, 60k/10k (IDX files)',
    files: Object.values(MNIST_FILES).map((f) => `${f}[.gz]`).join(', '),
    downloadable: true,
    probe: [MNIST_FILES.testLabels],
    load: (dir) => loadMnist(dir, 'mnist'),
  },
  {
    name: 'fashion-mnist',
    aliases: ['fashion', 'fmnist', 'fashion_mnist'],
    description: 'Fashion-MNIST clothing images, 28x28x1, 10 classes, 60k/10k (IDX files)',
    files: Object.values(MNIST_FILES).map((f) => `${f}[.gz]`).join(', '),
    downloadable: true,
    probe: [MNIST_FILES.testLabels],
    load: (dir) => loadMnist(dir, 'fashion-mnist'),
  },
  {
    name: 'cifar10',
    aliases: ['cifar-10'],
    description: 'CIFAR-10 colour images, 32x32x3, 10 classes, 50k/10k (binary version)',
    files: 'data_batch_1.bin .. data_batch_5.bin, test_batch.bin (or cifar-10-batches-bin/)',
    downloadable: true,
    probe: [CIFAR10_TEST_FILE, path.join(CIFAR10_SUBDIR, CIFAR10_TEST_FILE)],
    load: (dir) => loadCifar10(dir),
  },
  {
    name: 'cifar100',
    aliases: ['cifar-100'],
    description: 'CIFAR-100 colour images, 32x32x3, 100 fine classes, 50k/10k (binary version)',
    files: 'train.bin, test.bin (or cifar-100-binary/)',
    downloadable: true,
    probe: [path.join(CIFAR100_SUBDIR, CIFAR100_TEST_FILE)],
    load: (dir) => loadCifar100(dir),
  },
  {
    name: 'femnist',
    aliases: ['leaf'],
    description: 'LEAF FEMNIST handwritten characters by writer, 28x28x1, 62 classes, natural per-user split (JSON)',
    files: 'train/*.json and test/*.json, a directory of LEAF .json files, or one .json file (via path)',
    downloadable: false,
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
    description: 'your own images: one sub-folder per class of PNG/JPEG files, resized (set path)',
    files: '<class name>/<image>.png|.jpg (optionally under train/ and test/)',
    downloadable: false,
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

function findEntry(name: string): Entry {
  const key = name.trim().toLowerCase();
  const entry = ENTRIES.find((e) => e.name === key || e.aliases.includes(key));
  if (!entry) {
    throw new DataError(`unknown dataset "${name}"; known datasets: ${ENTRIES.map((e) => e.name).join(', ')}`);
  }
  return entry;
}

/** The canonical name of a dataset name or alias (DataError if unknown). */
export function canonicalDatasetName(name: string): string {
  return findEntry(name).name;
}

/** Descriptions of the known datasets. */
export function listDatasets(): DatasetInfo[] {
  return ENTRIES.map(({ name, aliases, description, files, downloadable }) => ({ name, aliases: aliases.slice(), description, files, downloadable }));
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
  for (const n of [entry.name, ...entry.aliases]) {
    const dir = path.join(base, n);
    if (await isDir(dir)) return dir;
  }
  if (entry.probe && (await findFile(base, entry.probe)) !== null) return base;
  return path.join(base, entry.name);
}

/** Loads (or generates) a dataset by name. Errors in the files or options are DataError. */
export async function loadDataset(name: string, opts: LoadOptions = {}): Promise<DatasetSplit> {
  const entry = findEntry(name);
  const dir = entry.files === '' ? '' : await resolveDatasetDir(entry.name, opts);
  const split = await entry.load(dir, opts);
  if (entry.name === 'synthetic') return split;
  const rng = new Rng(opts.seed ?? 0);
  return {
    train: subsetDataset(split.train, opts.trainSize, rng.fork('subset-train')),
    test: subsetDataset(split.test, opts.testSize, rng.fork('subset-test')),
  };
}
