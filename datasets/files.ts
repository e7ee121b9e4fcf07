/**
 * File helpers shared by the dataset loaders: reading plain or gzip-compressed files with errors
 * that name the file, finding a file under one of several accepted names, scaling bytes to
 * [0, 1], and taking a seeded subset of a dataset (keeping the LEAF per-user split consistent).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { Rng } from '../src/engine/rng.js';
import { DataError, type Dataset } from './types.js';

const gunzipAsync = promisify(gunzip);

/**
 * Like Promise.all, but when several reject, the error thrown is that of the first in argument
 * order (not the first in time), so that a dataset with several bad files always reports the same.
 */
export async function allInOrder<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Whether `p` exists and is a directory. */
export async function isDir(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `p` exists and is a regular file. */
export async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` (each also tried with `.gz` appended) that exists in `dir`, or null. */
export async function findFile(dir: string, names: string[]): Promise<string | null> {
  for (const name of names) {
    for (const candidate of [name, `${name}.gz`]) {
      const p = path.join(dir, candidate);
      if (await isFile(p)) return p;
    }
  }
  return null;
}

/**
 * Reads a whole file; a file whose name ends in `.gz` (or that starts with the gzip magic bytes)
 * is decompressed. Any failure is a DataError naming the file.
 */
export async function readMaybeGz(file: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await fsp.readFile(file);
  } catch (e) {
    throw new DataError(`cannot read ${file}: ${(e as Error).message}`, file);
  }
  const looksGz = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  if (file.endsWith('.gz') || looksGz) {
    if (!looksGz) throw new DataError(`${file} is named .gz but is not a gzip file (no gzip magic bytes 1f 8b)`, file);
    try {
      return await gunzipAsync(raw);
    } catch (e) {
      throw new DataError(`${file} is a corrupt or truncated gzip file: ${(e as Error).message}`, file);
    }
  }
  return raw;
}

/** Bytes 0..255 to Float32 in [0, 1]. */
export function bytesToUnit(bytes: Uint8Array, offset = 0, length = bytes.length - offset): Float32Array {
  const out = new Float32Array(length);
  const scale = 1 / 255;
  for (let i = 0; i < length; i++) out[i] = bytes[offset + i]! * scale;
  return out;
}

/** A short listing of what a directory holds, for error messages ("(empty)", "a, b, c, ... (12 entries)"). */
export async function describeDir(dir: string, max = 8): Promise<string> {
  try {
    const entries = (await fsp.readdir(dir)).sort();
    if (entries.length === 0) return '(empty)';
    const shown = entries.slice(0, max).join(', ');
    return entries.length > max ? `${shown}, ... (${entries.length} entries)` : shown;
  } catch {
    return '(does not exist)';
  }
}

/** The samples `indices` (in that order) of `ds`, with the per-user split remapped (empty users dropped). */
export function selectSamples(ds: Dataset, indices: number[]): Dataset {
  const sampleSize = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images = new Float32Array(indices.length * sampleSize);
  const labels = new Int32Array(indices.length);
  const newIndex = new Map<number, number>();
  indices.forEach((src, dst) => {
    images.set(ds.images.subarray(src * sampleSize, (src + 1) * sampleSize), dst * sampleSize);
    labels[dst] = ds.labels[src]!;
    newIndex.set(src, dst);
  });
  const out: Dataset = { ...ds, images, labels };
  if (ds.users) {
    out.users = ds.users
      .map((u) => ({ id: u.id, indices: u.indices.filter((i) => newIndex.has(i)).map((i) => newIndex.get(i)!) }))
      .filter((u) => u.indices.length > 0);
  }
  return out;
}

/**
 * A seeded random subset of `size` samples of `ds` (kept in their original order); `ds` itself
 * when `size` is undefined or not smaller than the dataset.
 */
export function subsetDataset(ds: Dataset, size: number | undefined, rng: Rng): Dataset {
  const n = ds.labels.length;
  if (size === undefined || size >= n) return ds;
  if (!Number.isInteger(size) || size < 1) {
    throw new DataError(`the requested number of samples must be a positive integer, got ${size}`);
  }
  const picked = rng.sample(n, size).sort((a, b) => a - b);
  return selectSamples(ds, picked);
}
