/**
 * MNIST and Fashion-MNIST from IDX files.
 *
 * Format (LeCun et al., http://yann.lecun.com/exdb/mnist/): big-endian IDX files.
 * - images: int32 magic 2051 (0x00000803: unsigned bytes, 3 dimensions), int32 count, int32 rows,
 *   int32 cols, then count*rows*cols pixel bytes (0 = background, 255 = ink), row-major.
 * - labels: int32 magic 2049 (0x00000801: unsigned bytes, 1 dimension), int32 count, then count
 *   label bytes.
 *
 * Files (in the directory given), each optionally gzip-compressed with a `.gz` suffix:
 * `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte` (the variants with a dot, `train-images.idx3-ubyte`, are accepted too).
 * Fashion-MNIST (Xiao et al. 2017, https://github.com/zalandoresearch/fashion-mnist) uses the same
 * names and format, with 10 clothing classes.
 *
 * Validated: the magic numbers, the dimensions (positive; train and test images of one size), that
 * each file's length equals the size its header announces exactly (a truncated or oversized file is
 * an error giving expected and actual bytes), that images and labels have the same count, and that
 * labels are in 0..9. Missing files are an error naming the directory and the expected names.
 *
 * Output: images [N, rows, cols, 1] scaled to [0, 1] (byte / 255), labels Int32.
 */
import * as path from 'node:path';
import { allInOrder, bytesToUnit, describeDir, findFile, isDir, readMaybeGz } from './files.js';
import { DataError, type Dataset, type DatasetSplit } from './types.js';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

/** The four IDX files of an MNIST-like dataset (without `.gz`). */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

export type MnistVariant = 'mnist' | 'fashion-mnist';

/** Parsed IDX images: the raw pixel bytes and the header's dimensions. */
export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
}

function readU32BE(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

function checkLength(file: string, buf: Uint8Array, expected: number, what: string): void {
  if (buf.length !== expected) {
    const kind = buf.length < expected ? 'truncated' : 'longer than its header says';
    throw new DataError(
      `${file} is ${kind}: its header announces ${what}, so ${expected} bytes were expected, but it has ${buf.length} bytes`,
      file,
    );
  }
}

/** Parses an IDX image file (magic 2051, 3 dimensions). */
export function parseIdxImages(buf: Uint8Array, file: string): IdxImages {
  if (buf.length < 16) throw new DataError(`${file} is too short for an IDX image header (${buf.length} bytes, need 16)`, file);
  const magic = readU32BE(buf, 0);
  if (magic !== IDX_IMAGES_MAGIC) {
    const hint = magic === IDX_LABELS_MAGIC ? ' (this is a label file)' : '';
    throw new DataError(`${file} is not an IDX image file: magic number ${magic}, expected ${IDX_IMAGES_MAGIC}${hint}`, file);
  }
  const count = readU32BE(buf, 4);
  const rows = readU32BE(buf, 8);
  const cols = readU32BE(buf, 12);
  if (rows === 0 || cols === 0 || rows > 4096 || cols > 4096) {
    throw new DataError(`${file} has implausible image dimensions ${rows}x${cols}`, file);
  }
  checkLength(file, buf, 16 + count * rows * cols, `${count} images of ${rows}x${cols}`);
  return { count, rows, cols, pixels: buf.subarray(16) };
}

/** Parses an IDX label file (magic 2049, 1 dimension); labels must be below `numClasses`. */
export function parseIdxLabels(buf: Uint8Array, file: string, numClasses = 10): Int32Array {
  if (buf.length < 8) throw new DataError(`${file} is too short for an IDX label header (${buf.length} bytes, need 8)`, file);
  const magic = readU32BE(buf, 0);
  if (magic !== IDX_LABELS_MAGIC) {
    const hint = magic === IDX_IMAGES_MAGIC ? ' (this is an image file)' : '';
    throw new DataError(`${file} is not an IDX label file: magic number ${magic}, expected ${IDX_LABELS_MAGIC}${hint}`, file);
  }
  const count = readU32BE(buf, 4);
  checkLength(file, buf, 8 + count, `${count} labels`);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const y = buf[8 + i]!;
    if (y >= numClasses) {
      throw new DataError(`${file}: label ${y} of sample ${i} is out of range 0..${numClasses - 1}`, file);
    }
    labels[i] = y;
  }
  return labels;
}

async function locate(dir: string, base: string): Promise<string | null> {
  // Accept the standard name and the dotted variant some mirrors use (train-images.idx3-ubyte).
  const dotted = base.replace(/-(idx\d)/, '.$1');
  return findFile(dir, [base, dotted]);
}

async function loadPair(imagesFile: string, labelsFile: string, name: string): Promise<Dataset> {
  const [imgBuf, lblBuf] = await allInOrder([readMaybeGz(imagesFile), readMaybeGz(labelsFile)]);
  const images = parseIdxImages(imgBuf, imagesFile);
  const labels = parseIdxLabels(lblBuf, labelsFile, 10);
  if (images.count !== labels.length) {
    throw new DataError(
      `${imagesFile} has ${images.count} images but ${labelsFile} has ${labels.length} labels; they must match`,
      imagesFile,
    );
  }
  return {
    name,
    images: bytesToUnit(images.pixels),
    labels,
    shape: [images.rows, images.cols, 1],
    numClasses: 10,
  };
}

/**
 * Loads MNIST or Fashion-MNIST from the four IDX files (plain or `.gz`) in `dir`.
 * Throws DataError when a file is missing or malformed.
 */
export async function loadMnist(dir: string, variant: MnistVariant = 'mnist'): Promise<DatasetSplit> {
  const expected = Object.values(MNIST_FILES).join(', ');
  const hint = `; download them with \`fedattack download ${variant}\``;
  if (!(await isDir(dir))) {
    throw new DataError(`${variant} directory ${dir} does not exist; expected it to hold ${expected} (each may end in .gz)${hint}`, dir);
  }
  const found: Record<keyof typeof MNIST_FILES, string | null> = {
    trainImages: await locate(dir, MNIST_FILES.trainImages),
    trainLabels: await locate(dir, MNIST_FILES.trainLabels),
    testImages: await locate(dir, MNIST_FILES.testImages),
    testLabels: await locate(dir, MNIST_FILES.testLabels),
  };
  const missing = (Object.keys(found) as (keyof typeof MNIST_FILES)[]).filter((k) => found[k] === null).map((k) => MNIST_FILES[k]);
  if (missing.length > 0) {
    throw new DataError(
      `${variant}: missing ${missing.join(', ')} in ${path.resolve(dir)} (each may end in .gz); ` +
        `the directory holds: ${await describeDir(dir)}${hint}`,
      dir,
    );
  }
  const [train, test] = (await allInOrder([
    loadPair(found.trainImages!, found.trainLabels!, variant),
    loadPair(found.testImages!, found.testLabels!, variant),
  ])) as [Dataset, Dataset];
  if (train.shape[0] !== test.shape[0] || train.shape[1] !== test.shape[1]) {
    throw new DataError(
      `${found.testImages} has ${test.shape[0]}x${test.shape[1]} images but ${found.trainImages} has ${train.shape[0]}x${train.shape[1]}`,
      found.testImages!,
    );
  }
  const classNames = variant === 'fashion-mnist' ? FASHION_MNIST_CLASS_NAMES : MNIST_CLASS_NAMES;
  train.classNames = classNames.slice();
  test.classNames = classNames.slice();
  return { train, test };
}
