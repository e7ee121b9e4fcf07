/**
 * Per-round checkpoints of a federated run, so that `--resume DIR` continues from the last completed
 * round and ends with exactly the numbers of an uninterrupted run (same seed and backend).
 *
 * Layout, under `<run dir>/checkpoint/`:
 * - `params-<round>.bin`: the global parameters after that round, float32 little-endian, concatenated in
 *   the model's parameter order;
 * - `state.json`: format/version, the last completed round, the seed and RNG scheme, the backend, the run
 *   configuration, the metrics of every completed round, and the parameter file's name, byte size,
 *   SHA-256 and tensor table (name, shape, offset).
 * Both are written atomically (temp file + fsync + rename), the binary first; `state.json` only ever
 * names a complete binary, and older binaries are removed after it is replaced. A crash at any point
 * leaves the previous checkpoint usable.
 *
 * RNG state: every random draw of the harness comes from a stream derived from (seed, purpose, round,
 * client) — `new Rng(seed).fork('sample:<round>')`, `fork('client:<round>:<k>')` — never from a stream
 * carried across rounds, so the seed and the round number are the whole RNG state.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../engine/tf.js';
import { DataError } from '../../datasets/types.js';
import { parseJson, writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import type { Model, Params } from '../models/index.js';
import type { RoundMetrics } from './types.js';

export const CHECKPOINT_FORMAT = 'fedattack-fl-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_SUBDIR = 'checkpoint';

/** A missing, corrupt or mismatched checkpoint; user-facing. */
export class CheckpointError extends DataError {
  constructor(message: string, file?: string) {
    super(message, file);
    this.name = 'CheckpointError';
  }
}

export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** Last completed round (1-based). */
  round: number;
  seed: number;
  rng: { scheme: 'derived-per-round'; seed: number };
  backend?: string;
  /** The run's settings (model, data, partition, algorithm, ...); compared on resume. */
  config: Record<string, unknown>;
  rounds: RoundMetrics[];
  params: {
    file: string;
    bytes: number;
    sha256: string;
    dtype: 'float32';
    byteOrder: 'little';
    tensors: { name: string; shape: number[]; offset: number }[];
  };
  savedAt: string;
}

export function checkpointDir(runDir: string): string {
  return path.join(runDir, CHECKPOINT_SUBDIR);
}

function statePath(runDir: string): string {
  return path.join(checkpointDir(runDir), 'state.json');
}

/** Saves a checkpoint of the global model after `round`. */
export async function saveCheckpoint(
  runDir: string,
  s: { round: number; seed: number; backend?: string; config: Record<string, unknown>; rounds: RoundMetrics[]; params: Params; model: Model },
): Promise<void> {
  const dir = checkpointDir(runDir);
  const tensors: CheckpointState['params']['tensors'] = [];
  let total = 0;
  for (const [name, shape] of s.model.paramShapes) {
    tensors.push({ name, shape, offset: total });
    total += shape.reduce((a, b) => a * b, 1);
  }
  const flat = new Float32Array(total);
  for (const t of tensors) {
    const p = s.params[t.name];
    if (p === undefined) throw new Error(`checkpoint: missing parameter '${t.name}'`);
    flat.set((await p.data()) as Float32Array, t.offset);
  }
  const bytes = toLittleEndian(flat);
  const file = `params-${String(s.round).padStart(6, '0')}.bin`;
  await writeFileAtomic(path.join(dir, file), bytes);
  const state: CheckpointState = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    round: s.round,
    seed: s.seed,
    rng: { scheme: 'derived-per-round', seed: s.seed },
    ...(s.backend !== undefined ? { backend: s.backend } : {}),
    config: s.config,
    rounds: s.rounds,
    params: {
      file,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      dtype: 'float32',
      byteOrder: 'little',
      tensors,
    },
    savedAt: new Date().toISOString(),
  };
  await writeJsonAtomic(statePath(runDir), state);
  for (const f of await fsp.readdir(dir)) {
    if (/^params-\d+\.bin$/.test(f) && f !== file) await fsp.rm(path.join(dir, f), { force: true });
  }
}

/** The checkpoint's state, or null when the directory has none. */
export async function readCheckpointState(runDir: string): Promise<CheckpointState | null> {
  const p = statePath(runDir);
  let text: string;
  try {
    text = await fsp.readFile(p, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CheckpointError(`cannot read checkpoint ${p}: ${(e as Error).message}`, p);
  }
  let s: CheckpointState;
  try {
    s = parseJson<CheckpointState>(text);
  } catch (e) {
    throw new CheckpointError(`checkpoint ${p} is not valid JSON (${(e as Error).message.split('\n')[0]})`, p);
  }
  if (s === null || typeof s !== 'object' || s.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${p} is not a fedattack checkpoint`, p);
  if (s.version !== CHECKPOINT_VERSION) throw new CheckpointError(`${p} has checkpoint version ${s.version}; this fedattack reads version ${CHECKPOINT_VERSION}`, p);
  if (!Number.isInteger(s.round) || s.round < 0 || !Array.isArray(s.rounds) || typeof s.params?.file !== 'string') {
    throw new CheckpointError(`checkpoint ${p} is malformed`, p);
  }
  return s;
}

/** Loads the parameters of a checkpoint, checking size, hash and shapes against `model`. */
export async function loadCheckpointParams(runDir: string, state: CheckpointState, model: Model): Promise<Params> {
  const file = path.join(checkpointDir(runDir), path.basename(state.params.file));
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (e) {
    throw new CheckpointError(`cannot read checkpoint parameters ${file}: ${(e as Error).message}`, file);
  }
  if (buf.length !== state.params.bytes) {
    throw new CheckpointError(`checkpoint parameters ${file} have ${buf.length} bytes, state.json says ${state.params.bytes} (truncated?)`, file);
  }
  if (createHash('sha256').update(buf).digest('hex') !== state.params.sha256) {
    throw new CheckpointError(`checkpoint parameters ${file} are corrupt (SHA-256 mismatch)`, file);
  }
  const flat = fromLittleEndian(buf);
  const table = new Map(state.params.tensors.map((t) => [t.name, t]));
  const out: Params = {};
  try {
    for (const [name, shape] of model.paramShapes) {
      const t = table.get(name);
      if (t === undefined || !tf.util.arraysEqual(t.shape, shape)) {
        throw new CheckpointError(
          `checkpoint ${file} does not fit model '${model.name}': parameter '${name}' ${t ? `has shape [${t.shape}]` : 'is missing'}, expected [${shape}]`,
          file,
        );
      }
      const size = shape.reduce((a, b) => a * b, 1);
      if (t.offset < 0 || t.offset + size > flat.length) throw new CheckpointError(`checkpoint ${file}: parameter '${name}' lies outside the file`, file);
      out[name] = tf.tensor(flat.subarray(t.offset, t.offset + size), shape, 'float32');
    }
  } catch (e) {
    tf.dispose(Object.values(out));
    throw e;
  }
  return out;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

function toLittleEndian(a: Float32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const buf = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) buf.writeFloatLE(a[i]!, i * 4);
  return buf;
}

function fromLittleEndian(buf: Buffer): Float32Array {
  if (buf.length % 4 !== 0) throw new CheckpointError(`checkpoint parameter file has ${buf.length} bytes, not a multiple of 4`);
  if (LITTLE_ENDIAN) return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
