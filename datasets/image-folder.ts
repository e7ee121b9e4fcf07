/**
 * A folder of images with one sub-folder per class (the torchvision `ImageFolder` layout).
 *
 * Layout: `<dir>/<class name>/<image>.png|.jpg|.jpeg` (case-insensitive extensions; other files and
 * hidden files are ignored). Class names are the sub-folder names sorted alphabetically (code-point
 * order), and label k is the k-th of them. If `<dir>` has exactly the sub-folders `train/` and
 * `test/`, each laid out as above, they are used as the split; otherwise the images are split at
 * random (seeded, stratified per class) with `testFraction` (default 0.2) going to test.
 *
 * Images are decoded with sharp (libvips): centre-cropped to a square (`fit: 'cover'`), resized to
 * `size` x `size` (default 32), converted to `channels` (3 = RGB, default, or 1 = grey; an alpha
 * channel is dropped), and scaled to [0, 1].
 *
 * Validated: the folder exists and has at least one class sub-folder with images; every image
 * decodes (an unreadable image is an error naming the file); with a train/test layout, both halves
 * have the same classes.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../src/engine/rng.js';
import { isDir } from './files.js';
import { DataError, type Dataset, type DatasetSplit } from './types.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export interface ImageFolderOptions {
  /** Side of the square output images (default 32). */
  size?: number;
  /** 3 (RGB, default) or 1 (grey). */
  channels?: 1 | 3;
  /** Share of each class's images that goes to test when there is no train/test layout (default 0.2). */
  testFraction?: number;
  /** Seed of the train/test split (default 0). */
  seed?: number;
  /** Dataset name put on the result (default 'image-folder'). */
  name?: string;
  /** Images decoded at once (default 16). */
  concurrency?: number;
}

interface Listing {
  classNames: string[];
  files: { file: string; label: number }[];
}

async function listClasses(dir: string): Promise<Listing> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new DataError(`cannot read image folder ${dir}: ${(e as Error).message}`, dir);
  }
  const classNames = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (classNames.length === 0) {
    throw new DataError(`image folder ${dir} has no class sub-folders; expected ${dir}/<class name>/<image>.png|.jpg`, dir);
  }
  const files: { file: string; label: number }[] = [];
  for (let label = 0; label < classNames.length; label++) {
    const classDir = path.join(dir, classNames[label]!);
    const images = (await fsp.readdir(classDir))
      .filter((f) => !f.startsWith('.') && IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()))
      .sort();
    for (const f of images) files.push({ file: path.join(classDir, f), label });
  }
  if (files.length === 0) {
    throw new DataError(`image folder ${dir} has class sub-folders (${classNames.join(', ')}) but no .png/.jpg/.jpeg images in them`, dir);
  }
  return { classNames, files };
}

/** Decodes one image to `size` x `size` x `channels` floats in [0, 1] (centre crop, then resize). */
export async function decodeImage(file: string, size: number, channels: 1 | 3): Promise<Float32Array> {
  let data: Buffer;
  let info: sharp.OutputInfo;
  try {
    let pipeline = sharp(file).rotate().resize(size, size, { fit: 'cover', position: 'centre' }).removeAlpha();
    pipeline = channels === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb');
    ({ data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new DataError(`cannot read image ${file}: ${(e as Error).message}`, file);
  }
  const px = size * size;
  const got = info.channels;
  if (info.width !== size || info.height !== size || data.length !== px * got) {
    throw new DataError(`cannot read image ${file}: decoder returned ${info.width}x${info.height}x${got}, expected ${size}x${size}`, file);
  }
  const out = new Float32Array(px * channels);
  const scale = 1 / 255;
  for (let i = 0; i < px; i++) {
    if (channels === 1) {
      // Grey requested: the first channel (greyscale() leaves one, or more identical ones).
      out[i] = data[i * got]! * scale;
    } else if (got >= 3) {
      out[i * 3] = data[i * got]! * scale;
      out[i * 3 + 1] = data[i * got + 1]! * scale;
      out[i * 3 + 2] = data[i * got + 2]! * scale;
    } else {
      const v = data[i * got]! * scale;
      out[i * 3] = v;
      out[i * 3 + 1] = v;
      out[i * 3 + 2] = v;
    }
  }
  return out;
}

async function decodeAll(
  files: { file: string; label: number }[],
  size: number,
  channels: 1 | 3,
  concurrency: number,
  name: string,
  classNames: string[],
): Promise<Dataset> {
  const len = size * size * channels;
  const images = new Float32Array(files.length * len);
  const labels = new Int32Array(files.length);
  let next = 0;
  let firstError: { index: number; error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const f = files[i]!;
      try {
        images.set(await decodeImage(f.file, size, channels), i * len);
      } catch (error) {
        // Report the first bad file in listing order, whatever order the decoders finish in.
        if (firstError === null || i < firstError.index) firstError = { index: i, error };
      }
      labels[i] = f.label;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  if (firstError !== null) throw (firstError as { error: unknown }).error;
  return { name, images, labels, shape: [size, size, channels], numClasses: classNames.length, classNames: classNames.slice() };
}

/** Loads an image folder, resized to `size` x `size` x `channels`, split into train and test. */
export async function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<DatasetSplit> {
  const size = opts.size ?? 32;
  const channels = opts.channels ?? 3;
  const testFraction = opts.testFraction ?? 0.2;
  const name = opts.name ?? 'image-folder';
  const concurrency = opts.concurrency ?? 16;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new DataError(`image size must be an integer in 1..4096, got ${size}`);
  if (channels !== 1 && channels !== 3) throw new DataError(`channels must be 1 or 3, got ${String(channels)}`);
  if (!(testFraction >= 0 && testFraction < 1)) throw new DataError(`testFraction must be in [0, 1), got ${testFraction}`);
  if (!(await isDir(dir))) throw new DataError(`image folder ${dir} does not exist; expected ${dir}/<class name>/<image>.png|.jpg`, dir);

  const trainDir = path.join(dir, 'train');
  const testDir = path.join(dir, 'test');
  const top = (await fsp.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  if (top.length === 2 && top.includes('train') && top.includes('test')) {
    const tr = await listClasses(trainDir);
    const te = await listClasses(testDir);
    if (tr.classNames.join('\n') !== te.classNames.join('\n')) {
      throw new DataError(
        `${trainDir} and ${testDir} have different class sub-folders (${tr.classNames.join(', ')} vs ${te.classNames.join(', ')})`,
        testDir,
      );
    }
    return {
      train: await decodeAll(tr.files, size, channels, concurrency, name, tr.classNames),
      test: await decodeAll(te.files, size, channels, concurrency, name, tr.classNames),
    };
  }

  const { classNames, files } = await listClasses(dir);
  // Stratified seeded split: round(n_c * testFraction) of each class to test, at least one to train.
  const rng = new Rng(opts.seed ?? 0).fork('image-folder-split');
  const trainFiles: typeof files = [];
  const testFiles: typeof files = [];
  for (let c = 0; c < classNames.length; c++) {
    const ofClass = files.filter((f) => f.label === c);
    if (ofClass.length === 0) continue;
    rng.shuffle(ofClass);
    const nTest = Math.min(ofClass.length - 1, Math.round(ofClass.length * testFraction));
    testFiles.push(...ofClass.slice(0, nTest));
    trainFiles.push(...ofClass.slice(nTest));
  }
  const byName = (a: { file: string }, b: { file: string }): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  trainFiles.sort(byName);
  testFiles.sort(byName);
  return {
    train: await decodeAll(trainFiles, size, channels, concurrency, name, classNames),
    test: await decodeAll(testFiles, size, channels, concurrency, name, classNames),
  };
}
