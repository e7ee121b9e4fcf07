/**
 * A whole `fedattack matrix` run as a function: config → cells (config.ts), the resumable store
 * (`<outDir>/matrix.json`), the child-process pool that runs the missing cells (worker.ts → cell.ts),
 * and the report (report.ts).
 *
 * - `<outDir>/matrix.json` holds every finished cell under the hash of its complete settings; it is
 *   rewritten atomically after every cell, so an interrupted run leaves a valid file, and a rerun with
 *   the same outDir runs only the cells that are missing. A changed config gets new keys for the cells
 *   it changes (their old results are kept in the file but never reported as the new ones).
 * - `workers` child processes (default: min(cores, cells to run)); every cell is seeded from its own
 *   settings, so results do not depend on the worker count or order.
 * - `report.md` / `report.html` with heatmaps, rewritten at the end.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJson, writeJsonAtomic } from '../../io/atomic.js';
import { UserError } from '../../core/errors.js';
import { processEndpoint, WorkerPool } from '../../core/pool.js';
import { checkDataset, type CellResult } from './cell.js';
import { expandCells, type Cell, type CellSettings, type MatrixConfig } from './config.js';
import { writeMatrixReport } from './report.js';

interface StoredCell {
  settings: CellSettings;
  result: CellResult;
  finishedAt: string;
}

interface MatrixFile {
  command: 'matrix';
  formatVersion: 1;
  backend: string;
  config: unknown;
  grid: unknown;
  cells: Record<string, StoredCell>;
  failed?: Record<string, string>;
  complete: boolean;
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export function cellLabel(s: CellSettings): string {
  const extra = [s.kind === 'poison' ? `F=${s.byzantine}` : s.kind === 'clean' && s.byzantine > 0 ? `assumed F=${s.byzantine}` : '', s.partition, `seed ${s.seed}`].filter((x) => x !== '');
  return `${s.defense.name} × ${s.attack} (${extra.join(', ')})`;
}

export function cellSummary(r: CellResult): string {
  if (r.kind === 'leak') return `PSNR ${r.psnr == null ? '—' : r.psnr.toFixed(2)} dB, labels ${r.labelAccuracy == null ? '—' : `${(100 * r.labelAccuracy).toFixed(0)}%`}`;
  const acc = r.stopped ? `stopped in round ${r.stoppedAtRound} (NaN/Inf update under mean)` : `accuracy ${r.finalAccuracy == null ? '—' : `${(100 * r.finalAccuracy).toFixed(1)}%`}`;
  return r.attackSuccessRate !== undefined ? `${acc}, ASR ${r.attackSuccessRate == null ? '—' : `${(100 * r.attackSuccessRate).toFixed(1)}%`}` : acc;
}

async function readMatrixFile(file: string): Promise<MatrixFile | null> {
  if (!existsSync(file)) return null;
  let data: unknown;
  try {
    data = parseJson(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file} is not valid JSON (${(e as Error).message}); move it away to start over`);
  }
  const m = data as Partial<MatrixFile>;
  if (m === null || typeof m !== 'object' || m.command !== 'matrix' || typeof m.cells !== 'object' || m.cells === null) {
    throw new UserError(`${file} is not a fedattack matrix file; use another --out`);
  }
  return m as MatrixFile;
}

/** A cell that ran and failed (its worker process survived). */
class CellFailed extends Error {}

/**
 * Runs the cells in `n` child processes (src/core/pool.ts; each runs one cell at a time, worker.ts).
 * A cell whose process dies is recorded as failed (with the tail of its stderr) and a fresh process
 * takes the next cells. Ctrl-C / SIGTERM stop the processes; finished cells are kept.
 */
async function runPool(
  cells: Cell[], n: number, outDir: string,
  onDone: (cell: Cell, result: CellResult) => Promise<void>,
  onFail: (cell: Cell, message: string) => Promise<void>,
): Promise<void> {
  const stderr = Array.from({ length: n }, () => '');
  const pool = await WorkerPool.start({
    size: n,
    respawn: true,
    spawn: (slot) => {
      stderr[slot] = '';
      return processEndpoint(WORKER, { onStderr: (chunk) => { stderr[slot] = (stderr[slot] + chunk).slice(-4000); } });
    },
  });
  let stopping = false;
  const onSigint = (): void => {
    stopping = true;
    void pool.close();
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  let chain: Promise<void> = Promise.resolve();
  const record = (fn: () => Promise<void>): Promise<void> => (chain = chain.then(fn));
  try {
    await Promise.all(cells.map(async (cell) => {
      let slot = -1;
      try {
        const result = await pool.run<CellResult>({
          message: { type: 'run', key: cell.key, settings: cell.settings, outDir: path.join(outDir, 'cells', cell.key) },
          onStart: (s) => { slot = s; },
          cancelled: () => stopping,
          reply: (m) => {
            const msg = m as { type: string; result?: CellResult; message?: string };
            if (msg.type === 'done') return { result: msg.result! };
            if (msg.type === 'failed') return { error: new CellFailed(msg.message ?? 'unknown error') };
            return undefined;
          },
        });
        if (result !== undefined) await record(() => onDone(cell, result));
      } catch (e) {
        if (stopping) return;
        const tail = slot >= 0 ? stderr[slot]!.trim() : '';
        const message = e instanceof CellFailed ? e.message
          : `worker process exited (${(e as Error).message}) while running it${tail ? `: ${tail.split('\n').slice(-3).join(' | ')}` : ''}`;
        await record(() => onFail(cell, message));
      }
    }));
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await pool.close();
    await chain;
  }
  if (stopping) throw new UserError('interrupted; matrix.json keeps every finished cell: rerun the same command to run the rest');
}

/** Where and how a matrix runs. */
export interface MatrixContext {
  /** Output directory; rerunning with the same one resumes. */
  outDir: string;
  /** The backend already selected in this process (part of every cell key); cells select it by name. */
  backend: string;
  /** Child processes (default: min(cores, cells to run)). */
  workers?: number;
  /** Run at most this many of the missing cells now. */
  limit?: number;
  log?: (line: string) => void;
  /** Called once the cells to run are known. */
  onStart?: (toRun: number) => void;
  /** Called after each cell (finished or failed) with its label. */
  onCell?: (finished: number, label: string) => void;
}

/** What a matrix run did (plain JSON) and the files it wrote. */
export interface MatrixRunResult {
  outDir: string;
  /** Distinct cells of the config, and how many of them have a result now. */
  cells: number;
  done: number;
  /** Cells that failed this time: key → message. */
  failed: Record<string, string>;
  seconds: number;
  files: string[];
}

/** Runs the missing cells of `config` (see the file header). */
export async function runMatrix(config: MatrixConfig, ctx: MatrixContext): Promise<MatrixRunResult> {
  const t0 = performance.now();
  const log = ctx.log ?? ((): void => {});
  const out = ctx.outDir;
  const { cells, grid } = expandCells(config, ctx.backend);

  // The data must load (missing files, bad dataDir) before any cell runs.
  const firstTraining = cells.find((c) => c.settings.kind !== 'leak') ?? cells[0]!;
  await checkDataset(firstTraining.settings);

  const file = path.join(out, 'matrix.json');
  const stored = await readMatrixFile(file);
  const all: Record<string, StoredCell> = { ...(stored?.cells ?? {}) };
  const failed: Record<string, string> = {};
  const current = new Set(cells.map((c) => c.key));
  const foreign = Object.keys(all).filter((k) => !current.has(k)).length;
  const todoAll = cells.filter((c) => all[c.key] === undefined);
  const todo = todoAll.slice(0, ctx.limit);
  log(`matrix: ${config.defenses.length} defenses × ${config.attacks.length + 1} attacks (incl. none) × F ${config.byzantine.join('/')} × ${config.partitions.length} partition(s) × ${config.seeds.length} seed(s) = ${cells.length} distinct cells`);
  if (stored !== null) log(`resuming ${file}: ${cells.length - todoAll.length} cells already finished${foreign > 0 ? `, ${foreign} from other settings kept but not used` : ''}`);
  const workers = Math.max(1, Math.min(ctx.workers ?? os.availableParallelism(), todo.length));
  log(`output: ${out}`);
  if (todo.length > 0) log(`running ${todo.length} cell${todo.length === 1 ? '' : 's'} in ${workers} worker process${workers === 1 ? '' : 'es'}${todo.length < todoAll.length ? ` (--limit; ${todoAll.length - todo.length} left for a later run)` : ''}`);

  // Saves run one after another (two workers may finish at once): the file on disk only ever grows.
  let saving: Promise<void> = Promise.resolve();
  const save = (complete: boolean): Promise<void> => {
    saving = saving.then(() => writeJsonAtomic(file, {
      command: 'matrix', formatVersion: 1, backend: ctx.backend, config, grid, cells: { ...all },
      ...(Object.keys(failed).length > 0 ? { failed: { ...failed } } : {}), complete,
    } satisfies MatrixFile));
    return saving;
  };
  await save(todoAll.length === 0);
  ctx.onStart?.(todo.length);
  let finished = 0;
  if (todo.length > 0) {
    await runPool(todo, workers, out, async (cell, result) => {
      all[cell.key] = { settings: cell.settings, result, finishedAt: new Date().toISOString() };
      delete failed[cell.key];
      finished++;
      await save(cells.every((c) => all[c.key] !== undefined));
      log(`cell ${finished}/${todo.length}: ${cellLabel(cell.settings)}: ${cellSummary(result)} (${result.seconds.toFixed(1)} s)`);
      ctx.onCell?.(finished, cellLabel(cell.settings));
    }, async (cell, message) => {
      failed[cell.key] = message;
      finished++;
      await save(false);
      log(`cell ${finished}/${todo.length}: ${cellLabel(cell.settings)}: FAILED: ${message}`);
      ctx.onCell?.(finished, 'failed');
    });
  }
  const done = cells.filter((c) => all[c.key] !== undefined).length;
  const seconds = (performance.now() - t0) / 1000;
  await writeMatrixReport(out, config, grid, all, { backend: ctx.backend, seconds, done, total: cells.length });
  return {
    outDir: out, cells: cells.length, done, failed, seconds,
    files: [file, path.join(out, 'report.md'), path.join(out, 'report.html'), ...cells.filter((c) => existsSync(path.join(out, 'cells', c.key))).map((c) => path.join(out, 'cells', c.key))],
  };
}
