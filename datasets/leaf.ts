/**
 * LEAF JSON datasets, FEMNIST in particular, with their natural per-user (per-writer) split.
 *
 * Format (Caldas et al. 2018, "LEAF: A Benchmark for Federated Settings",
 * https://github.com/TalwalkarLab/leaf): each JSON file is an object
 * `{ "users": [u, ...], "num_samples": [n_u, ...], "user_data": { u: { "x": number[][], "y": number[] } } }`.
 * For FEMNIST a row of `x` is a flattened 28x28 grey image of 784 values in [0, 1] and `y` is one of
 * 62 classes (digits 0-9, then A-Z, then a-z). NOTE: LEAF FEMNIST pixels are inverted with respect
 * to MNIST: 1.0 is the white background and the strokes are dark (near 0). The values are kept as
 * given; invert them yourself (1 - x) if a model or an attack assumes MNIST polarity.
 *
 * Files: either a directory with `train/*.json` and `test/*.json` (what LEAF's preprocessing writes
 * under `data/femnist/data/`), or a directory of JSON files without that split (e.g.
 * `data/all_data/`), or a single JSON file. Without a train/test split, each user's samples are
 * split at random (seeded) into train and test, with `testFraction` (default 0.1) going to test, as
 * LEAF's own `--tf` option does.
 *
 * Validated: the JSON parses, has `users`, `num_samples` and `user_data`; every listed user has data
 * and `num_samples` equals the lengths of its `x` and `y`; all rows have the same length (784 for
 * FEMNIST; other lengths are accepted when they are a square, s*s*1, or s*s*3), the values are
 * finite numbers in [0, 1], and the labels are integers in 0..numClasses-1. Each error names the
 * file and the user.
 *
 * Output: images [N, H, W, C], labels Int32, and `users`: each user's sample indices into its split,
 * in the order the files list them.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../src/engine/rng.js';
import { isDir, isFile } from './files.js';
import { DataError, type Dataset, type DatasetSplit } from './types.js';

export const FEMNIST_NUM_CLASSES = 62;
export const FEMNIST_CLASS_NAMES = [
  ...'0123456789'.split(''),
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''),
  ...'abcdefghijklmnopqrstuvwxyz'.split(''),
];

export interface LeafOptions {
  /** Dataset name put on the result (default 'femnist'). */
  name?: string;
  /** Number of classes; labels must be below it (default 62, FEMNIST). */
  numClasses?: number;
  /** Image shape; default inferred from the row length (784 -> [28, 28, 1]). */
  shape?: [number, number, number];
  /** Share of each user's samples sent to test when the data has no train/test split (default 0.1). */
  testFraction?: number;
  /** Seed of that split (default 0). */
  seed?: number;
}

/** One LEAF file's users, parsed and validated. */
export interface LeafUserData {
  id: string;
  rows: Float32Array; // n * rowLength
  labels: Int32Array;
}

interface LeafFileContent {
  users: LeafUserData[];
  rowLength: number;
}

/** Parses the text of one LEAF JSON file. `rowLength` (when known) is checked against every row. */
export function parseLeafJson(text: string, file: string, numClasses: number, rowLength?: number): LeafFileContent {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${file} is not valid JSON: ${(e as Error).message}`, file);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new DataError(`${file} is not a LEAF file: expected a JSON object with users, num_samples and user_data`, file);
  }
  const o = doc as Record<string, unknown>;
  for (const key of ['users', 'num_samples', 'user_data']) {
    if (!(key in o)) throw new DataError(`${file} is not a LEAF file: it has no "${key}" field (expected users, num_samples, user_data)`, file);
  }
  const users = o.users;
  const numSamples = o.num_samples;
  const userData = o.user_data;
  if (!Array.isArray(users) || !Array.isArray(numSamples)) {
    throw new DataError(`${file}: "users" and "num_samples" must be arrays`, file);
  }
  if (users.length !== numSamples.length) {
    throw new DataError(`${file}: "users" lists ${users.length} users but "num_samples" has ${numSamples.length} entries`, file);
  }
  if (typeof userData !== 'object' || userData === null || Array.isArray(userData)) {
    throw new DataError(`${file}: "user_data" must be an object keyed by user id`, file);
  }
  const data = userData as Record<string, unknown>;
  let rowLen = rowLength;
  const out: LeafUserData[] = [];
  users.forEach((uid, ui) => {
    const id = String(uid);
    const entry = data[id];
    if (typeof entry !== 'object' || entry === null) {
      throw new DataError(`${file}: user "${id}" is listed in "users" but has no entry in "user_data"`, file);
    }
    const { x, y } = entry as { x?: unknown; y?: unknown };
    if (!Array.isArray(x) || !Array.isArray(y)) {
      throw new DataError(`${file}: user "${id}" must have arrays "x" and "y"`, file);
    }
    const n = numSamples[ui];
    if (n !== x.length || n !== y.length) {
      throw new DataError(`${file}: user "${id}" has num_samples ${String(n)} but ${x.length} rows in x and ${y.length} labels in y`, file);
    }
    if (n === 0) return;
    const first = x[0];
    if (!Array.isArray(first)) throw new DataError(`${file}: user "${id}": x must be an array of rows (arrays of numbers)`, file);
    if (rowLen === undefined) rowLen = first.length;
    const len = rowLen;
    const rows = new Float32Array(n * len);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const row = x[i] as unknown;
      if (!Array.isArray(row) || row.length !== len) {
        const got = Array.isArray(row) ? `${row.length} values` : typeof row;
        throw new DataError(`${file}: user "${id}", sample ${i}: row has ${got}, expected ${len} values like the other rows`, file);
      }
      const base = i * len;
      for (let j = 0; j < len; j++) {
        const v = row[j];
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
          throw new DataError(`${file}: user "${id}", sample ${i}: value ${JSON.stringify(v)} at position ${j} is not a number in [0, 1]`, file);
        }
        rows[base + j] = v;
      }
      const label = y[i];
      if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= numClasses) {
        throw new DataError(`${file}: user "${id}", sample ${i}: label ${JSON.stringify(label)} is not an integer in 0..${numClasses - 1}`, file);
      }
      labels[i] = label;
    }
    out.push({ id, rows, labels });
  });
  return { users: out, rowLength: rowLen ?? 0 };
}

/** [H, W, C] for a row length: 784 -> [28, 28, 1]; s*s -> [s, s, 1]; 3*s*s -> [s, s, 3]. */
export function inferLeafShape(rowLength: number, file: string): [number, number, number] {
  const s1 = Math.round(Math.sqrt(rowLength));
  if (s1 * s1 === rowLength) return [s1, s1, 1];
  const s3 = Math.round(Math.sqrt(rowLength / 3));
  if (rowLength % 3 === 0 && s3 * s3 * 3 === rowLength) return [s3, s3, 3];
  throw new DataError(`${file}: rows have ${rowLength} values, which is not an image shape (s*s or s*s*3); pass the shape explicitly`, file);
}

async function jsonFilesIn(dir: string): Promise<string[]> {
  const names = (await fsp.readdir(dir)).filter((f) => f.toLowerCase().endsWith('.json')).sort();
  return names.map((f) => path.join(dir, f));
}

interface Accumulated {
  users: Map<string, number[]>;
  chunks: Float32Array[];
  labelChunks: Int32Array[];
  count: number;
  rowLength?: number;
  firstFile?: string;
}

async function accumulate(files: string[], numClasses: number, acc: Accumulated): Promise<void> {
  for (const file of files) {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      throw new DataError(`cannot read ${file}: ${(e as Error).message}`, file);
    }
    const content = parseLeafJson(text, file, numClasses, acc.rowLength);
    if (content.users.length > 0 && acc.rowLength === undefined) {
      acc.rowLength = content.rowLength;
      acc.firstFile = file;
    }
    for (const u of content.users) {
      const n = u.labels.length;
      const idx = acc.users.get(u.id) ?? [];
      for (let i = 0; i < n; i++) idx.push(acc.count + i);
      acc.users.set(u.id, idx);
      acc.chunks.push(u.rows);
      acc.labelChunks.push(u.labels);
      acc.count += n;
    }
  }
}

function newAcc(rowLength?: number): Accumulated {
  const acc: Accumulated = { users: new Map(), chunks: [], labelChunks: [], count: 0 };
  if (rowLength !== undefined) acc.rowLength = rowLength;
  return acc;
}

function build(acc: Accumulated, name: string, shape: [number, number, number], numClasses: number, classNames?: string[]): Dataset {
  const len = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(acc.count * len);
  const labels = new Int32Array(acc.count);
  let at = 0;
  acc.chunks.forEach((c, k) => {
    images.set(c, at * len);
    labels.set(acc.labelChunks[k]!, at);
    at += acc.labelChunks[k]!.length;
  });
  const ds: Dataset = {
    name,
    images,
    labels,
    shape,
    numClasses,
    users: [...acc.users.entries()].map(([id, indices]) => ({ id, indices })),
  };
  if (classNames) ds.classNames = classNames.slice();
  return ds;
}

/** Splits every user's samples into train and test (seeded, per user), like LEAF's --tf. */
function splitPerUser(all: Dataset, testFraction: number, seed: number): DatasetSplit {
  const rng = new Rng(seed).fork('leaf-split');
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  const trainUsers: { id: string; indices: number[] }[] = [];
  const testUsers: { id: string; indices: number[] }[] = [];
  for (const u of all.users ?? []) {
    const order = rng.shuffle(u.indices.slice());
    // At least one training sample per user; test gets round(n * fraction).
    const nTest = Math.min(order.length - 1, Math.round(order.length * testFraction));
    const te = order.slice(0, nTest).sort((a, b) => a - b);
    const tr = order.slice(nTest).sort((a, b) => a - b);
    trainUsers.push({ id: u.id, indices: tr.map((_, k) => trainIdx.length + k) });
    trainIdx.push(...tr);
    if (te.length > 0) {
      testUsers.push({ id: u.id, indices: te.map((_, k) => testIdx.length + k) });
      testIdx.push(...te);
    }
  }
  const pick = (idx: number[], users: { id: string; indices: number[] }[]): Dataset => {
    const len = all.shape[0] * all.shape[1] * all.shape[2];
    const images = new Float32Array(idx.length * len);
    const labels = new Int32Array(idx.length);
    idx.forEach((src, dst) => {
      images.set(all.images.subarray(src * len, (src + 1) * len), dst * len);
      labels[dst] = all.labels[src]!;
    });
    return { ...all, images, labels, users };
  };
  return { train: pick(trainIdx, trainUsers), test: pick(testIdx, testUsers) };
}

/**
 * Loads a LEAF dataset from a directory (`train/` + `test/`, or a flat directory of JSON files) or
 * from a single JSON file.
 */
export async function loadLeaf(location: string, opts: LeafOptions = {}): Promise<DatasetSplit> {
  const name = opts.name ?? 'femnist';
  const numClasses = opts.numClasses ?? FEMNIST_NUM_CLASSES;
  const testFraction = opts.testFraction ?? 0.1;
  if (!(testFraction >= 0 && testFraction < 1)) throw new DataError(`testFraction must be in [0, 1), got ${testFraction}`);
  const classNames = numClasses === FEMNIST_NUM_CLASSES ? FEMNIST_CLASS_NAMES : undefined;
  const expectedRow = opts.shape ? opts.shape[0] * opts.shape[1] * opts.shape[2] : undefined;
  const hint = 'expected a directory with train/*.json and test/*.json, a directory of LEAF .json files, or one .json file';

  let trainFiles: string[] | null = null;
  let testFiles: string[] | null = null;
  let allFiles: string[] | null = null;
  if (await isFile(location)) {
    allFiles = [location];
  } else if (await isDir(location)) {
    const trainDir = path.join(location, 'train');
    const testDir = path.join(location, 'test');
    if ((await isDir(trainDir)) && (await isDir(testDir))) {
      trainFiles = await jsonFilesIn(trainDir);
      testFiles = await jsonFilesIn(testDir);
      if (trainFiles.length === 0) throw new DataError(`${trainDir} has no .json files; ${hint}`, trainDir);
      if (testFiles.length === 0) throw new DataError(`${testDir} has no .json files; ${hint}`, testDir);
    } else {
      allFiles = await jsonFilesIn(location);
      if (allFiles.length === 0) throw new DataError(`${location} has no train/ and test/ sub-directories and no .json files; ${hint}`, location);
    }
  } else {
    throw new DataError(`LEAF data ${location} does not exist; ${hint}`, location);
  }

  const finish = (acc: Accumulated, where: string): Dataset => {
    if (acc.count === 0) throw new DataError(`${where} holds no samples`, where);
    const shape = opts.shape ?? inferLeafShape(acc.rowLength!, acc.firstFile ?? where);
    return build(acc, name, shape, numClasses, classNames);
  };

  if (allFiles) {
    const acc = newAcc(expectedRow);
    await accumulate(allFiles, numClasses, acc);
    const all = finish(acc, location);
    return splitPerUser(all, testFraction, opts.seed ?? 0);
  }
  const trainAcc = newAcc(expectedRow);
  await accumulate(trainFiles!, numClasses, trainAcc);
  const train = finish(trainAcc, path.join(location, 'train'));
  const testAcc = newAcc(trainAcc.rowLength);
  await accumulate(testFiles!, numClasses, testAcc);
  const test = finish(testAcc, path.join(location, 'test'));
  return { train, test };
}
