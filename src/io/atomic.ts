/**
 * Atomic result files. A reader (or a crash) never sees a half-written file: data goes to a
 * temporary file in the destination's directory, is fsync'ed, and is then renamed over the
 * destination (rename is atomic within a filesystem on POSIX). On any failure the temporary file
 * is removed and the previous content of the destination, if any, is left untouched.
 *
 * JSON: `JSON.stringify` silently turns `Infinity`, `-Infinity` and `NaN` into `null`, which would
 * make e.g. the PSNR of a perfect reconstruction (+Infinity) indistinguishable from "missing".
 * {@link toJson} encodes them as the strings `"Infinity"`, `"-Infinity"` and `"NaN"` instead
 * (the spellings `Number()` and Python's `float()` both parse), and typed arrays as plain arrays.
 * {@link parseJson} / {@link readJson} turn those strings back into numbers.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

function tempPathFor(file: string): string {
  const dir = path.dirname(file);
  const base = path.basename(file);
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Write `data` to `file` atomically: mkdir -p of the parent, write to a temp file in the same
 * directory, fsync, rename over `file`, then (best effort) fsync the directory.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  await fsp.mkdir(dir, { recursive: true });
  const tmp = tempPathFor(path.resolve(file));
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx', 0o644);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, file);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

/** Synchronous twin of {@link writeFileAtomic} (for exit handlers and simple scripts). */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(path.resolve(file));
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* directory fsync is not supported everywhere */
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const h = await fsp.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* directory fsync is not supported everywhere (e.g. Windows); the rename is still atomic */
  }
}

function nonFiniteReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>);
  }
  return value;
}

/**
 * `JSON.stringify(obj, null, indent)` that keeps non-finite numbers: +Infinity → `"Infinity"`,
 * −Infinity → `"-Infinity"`, NaN → `"NaN"`; typed arrays become arrays. Ends with a newline.
 */
export function toJson(obj: unknown, indent = 2): string {
  const s = JSON.stringify(obj, nonFiniteReplacer, indent);
  if (s === undefined) throw new Error(`toJson: value of type ${typeof obj} has no JSON representation`);
  return s + '\n';
}

/** `JSON.parse` that maps the strings `"Infinity"`, `"-Infinity"`, `"NaN"` back to numbers. */
export function parseJson<T = unknown>(text: string): T {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    if (value === 'NaN') return NaN;
    return value;
  }) as T;
}

/** Read and {@link parseJson} a file. */
export async function readJson<T = unknown>(file: string): Promise<T> {
  return parseJson<T>(await fsp.readFile(file, 'utf8'));
}

/**
 * Write `obj` as pretty JSON (2-space indent, trailing newline) atomically, with non-finite
 * numbers encoded as strings (see {@link toJson}). Serialisation happens before anything touches
 * the disk, so an unserialisable value (cycle, BigInt) throws and leaves the old file intact.
 */
export async function writeJsonAtomic(file: string, obj: unknown): Promise<void> {
  await writeFileAtomic(file, toJson(obj));
}

/** Synchronous twin of {@link writeJsonAtomic}. */
export function writeJsonAtomicSync(file: string, obj: unknown): void {
  writeFileAtomicSync(file, toJson(obj));
}
