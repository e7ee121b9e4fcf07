/**
 * Generators of small dataset files in each real on-disk format, for tests: IDX (MNIST), CIFAR
 * binary batches, LEAF JSON, image folders (PNG/JPEG via sharp), tar and gzip archives, and a
 * local HTTP server that serves them. Every writer returns the raw values it wrote, so a test can
 * compare what a loader reads back with what was written.
 */
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { Rng } from '../../src/engine/rng.js';

/** A fresh temporary directory. */
export async function makeTempDir(prefix = 'fedattack-test-'): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Removes a directory tree (no error if absent). */
export async function removeDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
}

export function gzip(data: Uint8Array): Buffer {
  return gzipSync(data);
}

function randomBytes(rng: Rng, n: number, max = 256): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(max);
  return out;
}

export interface IdxWriteOptions {
  /** Gzip the file and append `.gz` to its name. */
  gz?: boolean;
  /** Cut this many bytes off the end (a truncated file). */
  truncateBy?: number;
  /** Append this many extra bytes (an oversized file). */
  extraBytes?: number;
}

/** Bytes of an IDX file: magic, the dims as int32 big-endian, then the data. */
export function idxBytes(magic: number, dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** Writes an IDX file (2051 images: dims [n, rows, cols]; 2049 labels: dims [n]). Returns its path. */
export async function writeIdx(file: string, magic: number, dims: number[], data: Uint8Array, opts: IdxWriteOptions = {}): Promise<string> {
  let bytes: Buffer = idxBytes(magic, dims, data);
  if (opts.truncateBy) bytes = bytes.subarray(0, bytes.length - opts.truncateBy);
  if (opts.extraBytes) bytes = Buffer.concat([bytes, Buffer.alloc(opts.extraBytes)]);
  const target = opts.gz ? `${file}.gz` : file;
  await fsp.writeFile(target, opts.gz ? gzip(bytes) : bytes);
  return target;
}

export interface MnistSplitData {
  /** n*rows*cols pixel bytes. */
  images: Uint8Array;
  labels: Uint8Array;
}

export interface MnistDirData {
  train: MnistSplitData;
  test: MnistSplitData;
  rows: number;
  cols: number;
  files: { trainImages: string; trainLabels: string; testImages: string; testLabels: string };
}

/** Writes the four MNIST IDX files with random pixels and labels 0..9. */
export async function writeMnistDir(
  dir: string,
  opts: { n?: number; nTest?: number; gz?: boolean; rows?: number; cols?: number; seed?: number } = {},
): Promise<MnistDirData> {
  const n = opts.n ?? 20;
  const nTest = opts.nTest ?? Math.max(1, Math.floor(n / 2));
  const rows = opts.rows ?? 28;
  const cols = opts.cols ?? 28;
  const rng = new Rng(opts.seed ?? 1);
  await fsp.mkdir(dir, { recursive: true });
  const mk = (count: number): MnistSplitData => ({ images: randomBytes(rng, count * rows * cols), labels: randomBytes(rng, count, 10) });
  const train = mk(n);
  const test = mk(nTest);
  const gz = opts.gz ?? false;
  const files = {
    trainImages: await writeIdx(path.join(dir, 'train-images-idx3-ubyte'), 2051, [n, rows, cols], train.images, { gz }),
    trainLabels: await writeIdx(path.join(dir, 'train-labels-idx1-ubyte'), 2049, [n], train.labels, { gz }),
    testImages: await writeIdx(path.join(dir, 't10k-images-idx3-ubyte'), 2051, [nTest, rows, cols], test.images, { gz }),
    testLabels: await writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), 2049, [nTest], test.labels, { gz }),
  };
  return { train, test, rows, cols, files };
}

/** CHW planar 32x32x3 bytes to HWC floats in [0, 1] (what the CIFAR loader should produce). */
export function chwToHwcUnit(chw: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count * 3072);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < 1024; i++) {
      for (let c = 0; c < 3; c++) out[r * 3072 + i * 3 + c] = chw[r * 3072 + c * 1024 + i]! / 255;
    }
  }
  return out;
}

export interface CifarSplitData {
  /** count*3072 CHW planar pixel bytes. */
  chw: Uint8Array;
  /** The label used (CIFAR-10 label, CIFAR-100 fine label). */
  labels: number[];
  /** CIFAR-100 only: coarse labels. */
  coarse?: number[];
}

function cifarRecords(split: CifarSplitData, labelBytes: 1 | 2): Buffer {
  const n = split.labels.length;
  const rec = labelBytes + 3072;
  const out = Buffer.alloc(n * rec);
  for (let r = 0; r < n; r++) {
    if (labelBytes === 2) {
      out[r * rec] = split.coarse![r]!;
      out[r * rec + 1] = split.labels[r]!;
    } else {
      out[r * rec] = split.labels[r]!;
    }
    out.set(split.chw.subarray(r * 3072, (r + 1) * 3072), r * rec + labelBytes);
  }
  return out;
}

/** Writes CIFAR-10 binary batches (5 train batches of `perBatch` records, a test batch of `nTest`). */
export async function writeCifar10Dir(
  dir: string,
  opts: { perBatch?: number; nTest?: number; nested?: boolean; meta?: string[]; gz?: boolean; seed?: number } = {},
): Promise<{ root: string; batches: CifarSplitData[]; train: CifarSplitData; test: CifarSplitData }> {
  const perBatch = opts.perBatch ?? 3;
  const nTest = opts.nTest ?? 4;
  const rng = new Rng(opts.seed ?? 2);
  const root = opts.nested ? path.join(dir, 'cifar-10-batches-bin') : dir;
  await fsp.mkdir(root, { recursive: true });
  const mk = (n: number): CifarSplitData => ({ chw: randomBytes(rng, n * 3072), labels: Array.from({ length: n }, () => rng.int(10)) });
  const batches = Array.from({ length: 5 }, () => mk(perBatch));
  const test = mk(nTest);
  const write = async (name: string, data: Buffer): Promise<void> => {
    if (opts.gz) await fsp.writeFile(path.join(root, `${name}.gz`), gzip(data));
    else await fsp.writeFile(path.join(root, name), data);
  };
  for (let b = 0; b < 5; b++) await write(`data_batch_${b + 1}.bin`, cifarRecords(batches[b]!, 1));
  await write('test_batch.bin', cifarRecords(test, 1));
  if (opts.meta) await fsp.writeFile(path.join(root, 'batches.meta.txt'), `${opts.meta.join('\n')}\n\n`);
  const train: CifarSplitData = {
    chw: Buffer.concat(batches.map((b) => b.chw)),
    labels: batches.flatMap((b) => b.labels),
  };
  return { root, batches, train, test };
}

/** Writes CIFAR-100 `train.bin` and `test.bin` (coarse + fine label bytes per record). */
export async function writeCifar100Dir(
  dir: string,
  opts: { nTrain?: number; nTest?: number; nested?: boolean; meta?: string[]; seed?: number } = {},
): Promise<{ root: string; train: CifarSplitData; test: CifarSplitData }> {
  const rng = new Rng(opts.seed ?? 3);
  const root = opts.nested ? path.join(dir, 'cifar-100-binary') : dir;
  await fsp.mkdir(root, { recursive: true });
  const mk = (n: number): CifarSplitData => ({
    chw: randomBytes(rng, n * 3072),
    labels: Array.from({ length: n }, () => rng.int(100)),
    coarse: Array.from({ length: n }, () => rng.int(20)),
  });
  const train = mk(opts.nTrain ?? 6);
  const test = mk(opts.nTest ?? 3);
  await fsp.writeFile(path.join(root, 'train.bin'), cifarRecords(train, 2));
  await fsp.writeFile(path.join(root, 'test.bin'), cifarRecords(test, 2));
  if (opts.meta) await fsp.writeFile(path.join(root, 'fine_label_names.txt'), `${opts.meta.join('\n')}\n`);
  return { root, train, test };
}

/** Raw CIFAR records for a custom file: count records with the given label bytes. */
export function cifarRecordBytes(labels: number[][], seed = 4): Buffer {
  const rng = new Rng(seed);
  return Buffer.concat(labels.map((ls) => Buffer.concat([Buffer.from(ls), Buffer.from(randomBytes(rng, 3072))])));
}

export interface LeafUser {
  id: string;
  x: number[][];
  y: number[];
}

/** A LEAF JSON document for the given users. */
export function leafJson(users: LeafUser[]): string {
  return JSON.stringify({
    users: users.map((u) => u.id),
    num_samples: users.map((u) => u.y.length),
    user_data: Object.fromEntries(users.map((u) => [u.id, { x: u.x, y: u.y }])),
  });
}

/** Random LEAF users: `samples[k]` samples for user k, rows of `rowLength` values in [0, 1]. */
export function makeLeafUsers(samples: number[], opts: { rowLength?: number; numClasses?: number; seed?: number; prefix?: string } = {}): LeafUser[] {
  const rng = new Rng(opts.seed ?? 5);
  const rowLength = opts.rowLength ?? 784;
  const numClasses = opts.numClasses ?? 62;
  return samples.map((n, k) => ({
    id: `${opts.prefix ?? 'f'}${String(k).padStart(4, '0')}_${k}`,
    // Multiples of 1/256 survive the float32 conversion exactly.
    x: Array.from({ length: n }, () => Array.from({ length: rowLength }, () => rng.int(257) / 256)),
    y: Array.from({ length: n }, () => rng.int(numClasses)),
  }));
}

/**
 * Writes a LEAF directory: `train/` and `test/` with `filesPerSplit` JSON files each, the users
 * spread over them in order. Returns the users of each split.
 */
export async function writeLeafDir(
  dir: string,
  opts: { trainSamples?: number[]; testSamples?: number[]; filesPerSplit?: number; rowLength?: number; numClasses?: number; seed?: number } = {},
): Promise<{ train: LeafUser[]; test: LeafUser[] }> {
  const trainSamples = opts.trainSamples ?? [4, 2, 3];
  const testSamples = opts.testSamples ?? trainSamples.map(() => 1);
  const filesPerSplit = opts.filesPerSplit ?? 2;
  const common = { rowLength: opts.rowLength ?? 784, numClasses: opts.numClasses ?? 62 };
  const train = makeLeafUsers(trainSamples, { ...common, seed: opts.seed ?? 5 });
  const test = makeLeafUsers(testSamples, { ...common, seed: (opts.seed ?? 5) + 100 }).map((u, k) => ({ ...u, id: train[k]?.id ?? u.id }));
  for (const [split, users] of [['train', train], ['test', test]] as const) {
    const d = path.join(dir, split);
    await fsp.mkdir(d, { recursive: true });
    const per = Math.ceil(users.length / filesPerSplit);
    for (let f = 0; f < filesPerSplit; f++) {
      const chunk = users.slice(f * per, (f + 1) * per);
      await fsp.writeFile(path.join(d, `all_data_${f}_niid_${split}.json`), leafJson(chunk));
    }
  }
  return { train, test };
}

export interface ImageFolderData {
  classNames: string[];
  /** Per class, the files written and the solid RGB colour of each. */
  images: { file: string; label: number; rgb: [number, number, number] }[];
}

/**
 * Writes an image folder: one sub-folder per class with `perClass` solid-colour images of
 * `width` x `height` (so the expected pixels after any resize are known exactly).
 */
export async function writeImageFolder(
  dir: string,
  opts: { classes?: string[]; perClass?: number; width?: number; height?: number; format?: 'png' | 'jpeg'; seed?: number } = {},
): Promise<ImageFolderData> {
  const classNames = opts.classes ?? ['cat', 'dog', 'bird'];
  const perClass = opts.perClass ?? 3;
  const width = opts.width ?? 40;
  const height = opts.height ?? 30;
  const format = opts.format ?? 'png';
  const rng = new Rng(opts.seed ?? 6);
  const images: ImageFolderData['images'] = [];
  for (let label = 0; label < classNames.length; label++) {
    const d = path.join(dir, classNames[label]!);
    await fsp.mkdir(d, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const rgb: [number, number, number] = [rng.int(256), rng.int(256), rng.int(256)];
      const file = path.join(d, `img${i}.${format === 'png' ? 'png' : 'jpg'}`);
      const img = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
      await (format === 'png' ? img.png() : img.jpeg({ quality: 100 })).toFile(file);
      images.push({ file, label, rgb });
    }
  }
  return { classNames: [...classNames].sort(), images };
}

/** Writes a PNG from raw HWC bytes. */
export async function writePng(file: string, width: number, height: number, channels: 1 | 3 | 4, data: Uint8Array): Promise<void> {
  await sharp(Buffer.from(data), { raw: { width, height, channels } }).png().toFile(file);
}

/** A POSIX ustar archive of the given files (regular files only; names up to 100 bytes). */
export function makeTar(entries: { name: string; data: Uint8Array }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 8, 'ascii');
    h.write('0000000\0', 108, 8, 'ascii');
    h.write('0000000\0', 116, 8, 'ascii');
    h.write(`${e.data.length.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
    h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136, 12, 'ascii');
    h.write('        ', 148, 8, 'ascii');
    h.write('0', 156, 1, 'ascii');
    h.write('ustar\0', 257, 6, 'ascii');
    h.write('00', 263, 2, 'ascii');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += h[i]!;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
    blocks.push(h, Buffer.from(e.data));
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface FileServer {
  /** Base URL, ending in '/'. */
  url: string;
  /** Paths requested so far. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `files` (URL path without the leading '/' -> bytes) on 127.0.0.1; anything else is 404. */
export async function serveFiles(files: Record<string, Uint8Array>): Promise<FileServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent((req.url ?? '/').split('?')[0]!.replace(/^\//, ''));
    requests.push(p);
    const body = files[p];
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
