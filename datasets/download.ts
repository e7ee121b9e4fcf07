/**
 * Downloading datasets for users with internet access (`fedattack datasets download <name>`).
 *
 * - MNIST and Fashion-MNIST: the four gzip IDX files (`train-images-idx3-ubyte.gz`,
 *   `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`) from a
 *   base URL, by default the usual public mirrors tried in order (MNIST: the PyTorch/OSSCI S3 mirror,
 *   then Google's CVDF mirror; Fashion-MNIST: Zalando's S3 bucket). They are stored as `.gz`, which
 *   the loader reads directly.
 * - CIFAR-10 / CIFAR-100: the binary archives `cifar-10-binary.tar.gz` / `cifar-100-binary.tar.gz`
 *   (https://www.cs.toronto.edu/~kriz/), from which the `.bin` batches and the class-name `.txt`
 *   files are extracted with the small tar reader below (POSIX ustar: 512-byte headers, octal or
 *   base-256 sizes, ustar name prefixes, GNU long names and pax `path` records).
 *
 * Files go to `<dataDir>/<name>/`. Every file is written to a temporary name and renamed when
 * complete, so an interrupted download never leaves a half file under a real name. A dataset whose
 * files already load is not downloaded again unless `force` is set. After downloading, the result
 * is loaded with the dataset's loader (which validates the headers and sizes) and a failure is
 * reported. HTTP errors and unreachable hosts are DataError naming the URL.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { MNIST_FILES } from './mnist.js';
import { DataError, type DatasetSplit } from './types.js';

const gunzipAsync = promisify(gunzip);

export const MNIST_MIRRORS = ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'];
export const FASHION_MNIST_MIRRORS = ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'];
export const CIFAR_MIRRORS = ['https://www.cs.toronto.edu/~kriz/'];
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';
export const CIFAR100_ARCHIVE = 'cifar-100-binary.tar.gz';

export interface DownloadOptions {
  /** Base URL (directory) to fetch from, replacing the default mirrors. */
  baseUrl?: string;
  /** The fetch to use (default the global fetch). */
  fetchImpl?: typeof fetch;
  /** Download even when the files already load. */
  force?: boolean;
  /** Progress messages (default none). */
  log?: (message: string) => void;
}

export interface DownloadResult {
  /** The directory the files are in. */
  dir: string;
  /** The files written (empty when skipped). */
  files: string[];
  /** True when the dataset already loaded and nothing was downloaded. */
  skipped: boolean;
  /** Train and test sample counts of the loaded result. */
  trainSamples: number;
  testSamples: number;
}

/**
 * Where a dataset's files come from: `fedattack datasets download NAME` fetches every `remote` file
 * from the first mirror that answers (or from --base-url) into `<dataDir>/<name>/`, extracting archives.
 * A dataset entry (datasets/index.ts) carries its plan, if it has one.
 */
export interface DownloadPlan {
  /** Base URLs (directories) tried in order. */
  mirrors: readonly string[];
  /** Remote file names; archives are extracted. */
  remote: readonly string[];
  /** Whether the remote files are .tar.gz archives to extract (flat) and delete. */
  archive: boolean;
  /** For archives: whether an entry (by base name) is to be kept. */
  keep?: (base: string) => boolean;
}

/** MNIST: the four gzip IDX files, stored as .gz. */
export const MNIST_PLAN: DownloadPlan = { mirrors: MNIST_MIRRORS, remote: Object.values(MNIST_FILES).map((f) => `${f}.gz`), archive: false };
/** Fashion-MNIST: the four gzip IDX files, stored as .gz. */
export const FASHION_MNIST_PLAN: DownloadPlan = { mirrors: FASHION_MNIST_MIRRORS, remote: Object.values(MNIST_FILES).map((f) => `${f}.gz`), archive: false };
/** CIFAR-10: the binary archive; the .bin batches and the class names are kept. */
export const CIFAR10_PLAN: DownloadPlan = {
  mirrors: CIFAR_MIRRORS, remote: [CIFAR10_ARCHIVE], archive: true, keep: (b) => b.endsWith('.bin') || b === 'batches.meta.txt',
};
/** CIFAR-100: the binary archive; the .bin files and the fine and coarse class names are kept. */
export const CIFAR100_PLAN: DownloadPlan = {
  mirrors: CIFAR_MIRRORS, remote: [CIFAR100_ARCHIVE], archive: true,
  keep: (b) => b.endsWith('.bin') || b === 'fine_label_names.txt' || b === 'coarse_label_names.txt',
};

/** One entry of a tar archive. */
export interface TarEntry {
  name: string;
  /** '0' regular file, '5' directory, ... (the ustar typeflag; '\0' is read as '0'). */
  type: string;
  data: Uint8Array;
}

function cString(buf: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && buf[end] !== 0) end++;
  return Buffer.from(buf.subarray(start, end)).toString('utf8');
}

function tarNumber(buf: Uint8Array, start: number, length: number, archive: string): number {
  if (buf[start]! & 0x80) {
    // GNU base-256: big-endian binary, the top bit of the first byte is the marker.
    let v = buf[start]! & 0x7f;
    for (let i = 1; i < length; i++) v = v * 256 + buf[start + i]!;
    return v;
  }
  const s = cString(buf, start, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new DataError(`${archive} is not a valid tar archive: bad number field "${s}"`, archive);
  return parseInt(s, 8);
}

/** Reads the entries of an uncompressed tar archive (`archive` names it in errors). */
export function readTar(buf: Uint8Array, archive = 'tar archive'): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | null = null;
  let paxPath: string | null = null;
  while (offset + 512 <= buf.length) {
    const header = buf.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break; // end of archive (two zero blocks; one is enough)
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    const stored = tarNumber(header, 148, 8, archive);
    if (stored !== sum) throw new DataError(`${archive} is not a valid tar archive: header checksum mismatch at byte ${offset}`, archive);
    const size = tarNumber(header, 124, 12, archive);
    const typeByte = header[156]!;
    const type = typeByte === 0 ? '0' : String.fromCharCode(typeByte);
    let name = cString(header, 0, 100);
    if (cString(header, 257, 5) === 'ustar') {
      const prefix = cString(header, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const dataStart = offset + 512;
    if (dataStart + size > buf.length) {
      throw new DataError(`${archive} is truncated: entry "${name}" needs ${size} bytes, ${buf.length - dataStart} are left`, archive);
    }
    const data = buf.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(Buffer.from(data).toString('utf8'));
      paxPath = m ? m[1]! : null;
      continue;
    }
    if (type === 'g') continue;
    if (longName !== null) name = longName;
    if (paxPath !== null) name = paxPath;
    longName = null;
    paxPath = null;
    entries.push({ name, type, data });
  }
  return entries;
}

async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.part-${process.pid}`;
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw new DataError(`cannot write ${file}: ${(e as Error).message}`, file);
  }
}

function describeFetchError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message} (${cause})` : err.message;
}

/** Fetches `url` into `file` through a temporary file. Returns the bytes written. */
async function fetchToFile(url: string, file: string, fetchImpl: typeof fetch): Promise<number> {
  let res: Response;
  try {
    res = await fetchImpl(url);
  } catch (e) {
    throw new DataError(`cannot download ${url}: ${describeFetchError(e)}`, url);
  }
  if (!res.ok) {
    throw new DataError(`cannot download ${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, url);
  }
  const tmp = `${file}.part-${process.pid}`;
  let written = 0;
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await fsp.open(tmp, 'w');
  } catch (e) {
    throw new DataError(`cannot write ${tmp}: ${(e as Error).message}`, tmp);
  }
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        written += chunk.length;
      }
    } else {
      const buf = new Uint8Array(await res.arrayBuffer());
      await fh.write(buf);
      written = buf.length;
    }
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw new DataError(`download of ${url} was interrupted: ${describeFetchError(e)}`, url);
  }
  await fsp.rename(tmp, file);
  return written;
}

function joinUrl(base: string, file: string): string {
  return base.endsWith('/') ? `${base}${file}` : `${base}/${file}`;
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** A dataset to download: its canonical name, plan, and loader (which validates what was fetched). */
export interface DownloadTarget {
  name: string;
  plan: DownloadPlan;
  load(dir: string): Promise<DatasetSplit>;
}

/**
 * Downloads a dataset into `<dataDir>/<name>/` by its plan, verifies it loads, and returns where it is
 * (`downloadDataset` in datasets/index.ts finds the target by name). Throws DataError on HTTP errors,
 * unreachable hosts and files that do not load.
 */
export async function downloadWithPlan(dataset: DownloadTarget, dataDir: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const { plan } = dataset;
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  const log = opts.log ?? (() => undefined);
  const dir = path.join(dataDir, dataset.name);

  if (!opts.force) {
    try {
      const split = await dataset.load(dir);
      log(`${dataset.name}: already present in ${dir}`);
      return { dir, files: [], skipped: true, trainSamples: split.train.labels.length, testSamples: split.test.labels.length };
    } catch {
      // not there, or incomplete: download
    }
  }
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new DataError(`cannot create ${dir}: ${(e as Error).message}`, dir);
  }

  const mirrors = opts.baseUrl ? [opts.baseUrl] : plan.mirrors;
  const written: string[] = [];
  for (const remote of plan.remote) {
    const target = path.join(dir, remote);
    const failures: string[] = [];
    let ok = false;
    for (const base of mirrors) {
      const url = joinUrl(base, remote);
      log(`${dataset.name}: downloading ${url}`);
      try {
        const bytes = await fetchToFile(url, target, fetchImpl);
        log(`${dataset.name}: ${remote} ${mb(bytes)}`);
        ok = true;
        break;
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        failures.push(e.message);
      }
    }
    if (!ok) {
      throw new DataError(
        `${failures.join('; ')}. ` +
          `Check the connection or pass another base URL, or download ${plan.remote.join(', ')} by hand into ${dir}`,
        dir,
      );
    }
    if (!plan.archive) {
      written.push(target);
      continue;
    }
    // Archive: gunzip, extract the wanted files flat into dir, delete the archive.
    const packed = await fsp.readFile(target);
    let tar: Buffer;
    try {
      tar = await gunzipAsync(packed);
    } catch (e) {
      throw new DataError(`${target} is not a valid gzip archive: ${(e as Error).message}`, target);
    }
    const entries = readTar(tar, target).filter((en) => en.type === '0' && (plan.keep?.(path.posix.basename(en.name)) ?? true));
    if (entries.length === 0) throw new DataError(`${target} holds none of the expected .bin files`, target);
    for (const en of entries) {
      const out = path.join(dir, path.posix.basename(en.name));
      await writeAtomic(out, en.data);
      written.push(out);
    }
    await fsp.rm(target, { force: true });
    log(`${dataset.name}: extracted ${entries.length} files into ${dir}`);
  }

  let split: DatasetSplit;
  try {
    split = await dataset.load(dir);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new DataError(`downloaded ${dataset.name} into ${dir}, but the files do not load: ${msg}`, dir);
  }
  log(`${dataset.name}: ${split.train.labels.length} train and ${split.test.labels.length} test samples in ${dir}`);
  return { dir, files: written, skipped: false, trainSamples: split.train.labels.length, testSamples: split.test.labels.length };
}
