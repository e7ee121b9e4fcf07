/**
 * CIFAR-10 and CIFAR-100, binary version.
 *
 * Format (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size records, no
 * header. A CIFAR-10 record is 1 label byte (0..9) then 3072 pixel bytes; a CIFAR-100 record is 2
 * label bytes (coarse 0..19, fine 0..99) then 3072 pixel bytes. The pixels of a 32x32 image are
 * stored planar (CHW): 1024 red bytes, 1024 green, 1024 blue, each plane row-major. They are
 * converted here to HWC and scaled to [0, 1].
 *
 * Files:
 * - CIFAR-10: `data_batch_1.bin` .. `data_batch_5.bin` (train) and `test_batch.bin`; optional
 *   `batches.meta.txt` (one class name per line).
 * - CIFAR-100: `train.bin` and `test.bin`; optional `fine_label_names.txt`. The fine label (100
 *   classes) is used.
 * They are looked for in the directory given and in its `cifar-10-batches-bin/` or
 * `cifar-100-binary/` sub-directory (the layouts of the official archives). Each may be gzipped
 * (`.gz`).
 *
 * Validated: every file is present (else an error listing what is missing), its size is a non-zero
 * multiple of the record size (else an error giving the size and the record size), every label is in
 * range, and a class-name file, when present, names exactly the number of classes.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { allInOrder, describeDir, findFile, isDir, isFile, readMaybeGz } from './files.js';
import { DataError, type Dataset, type DatasetSplit } from './types.js';

export const CIFAR_IMAGE_BYTES = 3072;
export const CIFAR10_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES;
export const CIFAR100_RECORD_BYTES = 2 + CIFAR_IMAGE_BYTES;

export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_META_FILE = 'batches.meta.txt';
export const CIFAR10_SUBDIR = 'cifar-10-batches-bin';
export const CIFAR100_TRAIN_FILE = 'train.bin';
export const CIFAR100_TEST_FILE = 'test.bin';
export const CIFAR100_META_FILE = 'fine_label_names.txt';
export const CIFAR100_SUBDIR = 'cifar-100-binary';

export const CIFAR10_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR100_CLASS_NAMES = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

interface RecordLayout {
  recordBytes: number;
  /** Offset of the label used, within a record. */
  labelOffset: number;
  /** Range of each label byte in the record, to validate ([coarse, fine] for CIFAR-100). */
  labelRanges: number[];
  numClasses: number;
}

const CIFAR10_LAYOUT: RecordLayout = { recordBytes: CIFAR10_RECORD_BYTES, labelOffset: 0, labelRanges: [10], numClasses: 10 };
const CIFAR100_LAYOUT: RecordLayout = { recordBytes: CIFAR100_RECORD_BYTES, labelOffset: 1, labelRanges: [20, 100], numClasses: 100 };

/**
 * Decodes CIFAR binary records into HWC float images and labels. `buf` must hold whole records.
 * Exported for tests and for other tools that read CIFAR-like records.
 */
export function parseCifarRecords(buf: Uint8Array, file: string, layout: RecordLayout): { images: Float32Array; labels: Int32Array } {
  const { recordBytes, labelOffset, labelRanges } = layout;
  if (buf.length === 0 || buf.length % recordBytes !== 0) {
    throw new DataError(
      `${file} has ${buf.length} bytes, which is not a ${buf.length === 0 ? 'non-zero ' : ''}multiple of the ` +
        `${recordBytes}-byte record size (${labelRanges.length} label byte${labelRanges.length > 1 ? 's' : ''} + 3072 pixel bytes); ` +
        `the file is truncated or not a CIFAR-${layout.numClasses} binary batch`,
      file,
    );
  }
  const n = buf.length / recordBytes;
  const images = new Float32Array(n * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(n);
  const scale = 1 / 255;
  const headerBytes = labelRanges.length;
  for (let r = 0; r < n; r++) {
    const base = r * recordBytes;
    for (let k = 0; k < headerBytes; k++) {
      const v = buf[base + k]!;
      if (v >= labelRanges[k]!) {
        const which = headerBytes > 1 ? (k === 0 ? 'coarse label' : 'fine label') : 'label';
        throw new DataError(`${file}: ${which} ${v} of record ${r} is out of range 0..${labelRanges[k]! - 1}`, file);
      }
    }
    labels[r] = buf[base + labelOffset]!;
    const px = base + headerBytes;
    const out = r * CIFAR_IMAGE_BYTES;
    // CHW planar (R plane, G plane, B plane) -> HWC interleaved.
    for (let i = 0; i < 1024; i++) {
      const o = out + i * 3;
      images[o] = buf[px + i]! * scale;
      images[o + 1] = buf[px + 1024 + i]! * scale;
      images[o + 2] = buf[px + 2048 + i]! * scale;
    }
  }
  return { images, labels };
}

async function resolveCifarDir(dir: string, subdir: string, probe: string, what: string): Promise<string> {
  if (!(await isDir(dir))) {
    throw new DataError(`${what} directory ${dir} does not exist; download it with \`fedattack download ${what.toLowerCase().replace('-', '')}\``, dir);
  }
  const nested = path.join(dir, subdir);
  if ((await findFile(dir, [probe])) === null && (await isDir(nested))) return nested;
  return dir;
}

async function readClassNames(dir: string, file: string, numClasses: number, defaults: string[]): Promise<string[]> {
  const p = path.join(dir, file);
  if (!(await isFile(p))) return defaults.slice();
  const names = (await fsp.readFile(p, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== numClasses) {
    throw new DataError(`${p} names ${names.length} classes, expected ${numClasses} (one name per line)`, p);
  }
  return names;
}

function concat(parts: { images: Float32Array; labels: Int32Array }[]): { images: Float32Array; labels: Int32Array } {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((s, p) => s + p.labels.length, 0);
  const images = new Float32Array(n * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * CIFAR_IMAGE_BYTES);
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  return { images, labels };
}

async function loadFiles(dir: string, names: string[], layout: RecordLayout, what: string): Promise<{ images: Float32Array; labels: Int32Array }[]> {
  const found = await Promise.all(names.map((n) => findFile(dir, [n])));
  const missing = names.filter((_, i) => found[i] === null);
  if (missing.length > 0) {
    throw new DataError(
      `${what}: missing ${missing.join(', ')} in ${path.resolve(dir)}; the directory holds: ${await describeDir(dir)}; ` +
        `download it with \`fedattack download ${what.toLowerCase().replace('-', '')}\``,
      dir,
    );
  }
  return allInOrder(found.map(async (f) => parseCifarRecords(await readMaybeGz(f!), f!, layout)));
}

function makeDataset(name: string, d: { images: Float32Array; labels: Int32Array }, numClasses: number, classNames: string[]): Dataset {
  return { name, images: d.images, labels: d.labels, shape: [32, 32, 3], numClasses, classNames: classNames.slice() };
}

/** Loads CIFAR-10 (binary version) from `dir` or `dir/cifar-10-batches-bin`. */
export async function loadCifar10(dir: string): Promise<DatasetSplit> {
  const root = await resolveCifarDir(dir, CIFAR10_SUBDIR, CIFAR10_TEST_FILE, 'CIFAR-10');
  const files = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const parts = await loadFiles(root, files, CIFAR10_LAYOUT, 'CIFAR-10');
  const classNames = await readClassNames(root, CIFAR10_META_FILE, 10, CIFAR10_CLASS_NAMES);
  return {
    train: makeDataset('cifar10', concat(parts.slice(0, 5)), 10, classNames),
    test: makeDataset('cifar10', parts[5]!, 10, classNames),
  };
}

/** Loads CIFAR-100 (binary version, fine labels) from `dir` or `dir/cifar-100-binary`. */
export async function loadCifar100(dir: string): Promise<DatasetSplit> {
  const root = await resolveCifarDir(dir, CIFAR100_SUBDIR, CIFAR100_TEST_FILE, 'CIFAR-100');
  const parts = await loadFiles(root, [CIFAR100_TRAIN_FILE, CIFAR100_TEST_FILE], CIFAR100_LAYOUT, 'CIFAR-100');
  const classNames = await readClassNames(root, CIFAR100_META_FILE, 100, CIFAR100_CLASS_NAMES);
  return {
    train: makeDataset('cifar100', parts[0]!, 100, classNames),
    test: makeDataset('cifar100', parts[1]!, 100, classNames),
  };
}
