/**
 * `fedattack matrix --config FILE`: defenses × attacks (poisoning and leakage) × byzantine counts ×
 * partitions × seeds, one federated run per cell (src/matrix/cell.ts), in child processes.
 *
 * - The whole config is validated before any cell runs (one error line, exit 2).
 * - `<out>/matrix.json` holds every finished cell under the hash of its complete settings; it is
 *   rewritten atomically after every cell, so an interrupted run leaves a valid file, and a rerun with
 *   the same --out runs only the cells that are missing. A changed config gets new keys for the cells
 *   it changes (their old results are kept in the file but never reported as the new ones).
 * - `--workers N|auto` child processes (auto: min(cores, cells to run)); every cell is seeded from its
 *   own settings, so results do not depend on the worker count or order.
 * - `report.md` / `report.html` with heatmaps (src/matrix/report.ts), rewritten at the end.
 */
import cliProgress from 'cli-progress';
import type { Argv } from 'yargs';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_NAMES, describeChoice, selectBackend } from '../../engine/backend.js';
import { describePoisoning } from '../../../attacks/poisoning/index.js';
import { describeAggregators } from '../../../defenses/aggregation/index.js';
import { describeClientDefenses } from '../../../defenses/training/adversarial.js';
import { LEAKAGE_ATTACK_NAMES } from '../../../attacks/leakage/index.js';
import { parseJson, writeJsonAtomic } from '../../io/atomic.js';
import { checkDataset, type CellResult } from '../../experiments/matrix/cell.js';
import { expandCells, MATRIX_DEFAULTS, parseMatrixConfig, type Cell, type CellSettings } from '../../experiments/matrix/config.js';
import { writeMatrixReport } from '../../experiments/matrix/report.js';
import { loadConfigFile, outDir as defaultOutDir, requireNumber } from '../options.js';
import { UserError } from '../../core/errors.js';

interface MatrixArgs {
  config?: string;
  out?: string;
  workers?: string | number;
  backend: string;
  json: boolean;
  progress?: boolean;
  limit?: number;
}

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

const WORKER = fileURLToPath(new URL('../../experiments/matrix/worker.js', import.meta.url));

function cellLabel(s: CellSettings): string {
  const extra = [s.kind === 'poison' ? `F=${s.byzantine}` : s.kind === 'clean' && s.byzantine > 0 ? `assumed F=${s.byzantine}` : '', s.partition, `seed ${s.seed}`].filter((x) => x !== '');
  return `${s.defense.name} × ${s.attack} (${extra.join(', ')})`;
}

function cellSummary(r: CellResult): string {
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

/** Runs `cells` in `n` child processes; `onDone` is called (and awaited) after each. */
async function runPool(
  cells: Cell[], n: number, outDir: string,
  onDone: (cell: Cell, result: CellResult) => Promise<void>,
  onFail: (cell: Cell, message: string) => Promise<void>,
): Promise<void> {
  const queue = [...cells];
  const children = new Set<ChildProcess>();
  let stopping = false;
  const onSigint = (): void => {
    stopping = true;
    for (const c of children) c.kill('SIGTERM');
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  const runOne = (): Promise<void> => new Promise<void>((resolve) => {
    const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    children.add(child);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000); });
    let current: Cell | undefined;
    let chain: Promise<void> = Promise.resolve();
    const next = (): void => {
      current = stopping ? undefined : queue.shift();
      if (current === undefined) {
        child.send({ type: 'exit' });
        return;
      }
      child.send({ type: 'run', key: current.key, settings: current.settings, outDir: path.join(outDir, 'cells', current.key) });
    };
    child.on('message', (m: { type: string; key: string; result?: CellResult; message?: string }) => {
      const cell = current!;
      chain = chain.then(async () => {
        if (m.type === 'done') await onDone(cell, m.result!);
        else await onFail(cell, m.message ?? 'unknown error');
        next();
      });
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      void chain.then(async () => {
        if (current !== undefined && !stopping) {
          await onFail(current, `worker process exited (${signal ?? `code ${code}`}) while running it${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
          current = undefined;
          if (queue.length > 0) await runOne();
        }
        resolve();
      });
    });
    next();
  });
  try {
    await Promise.all(Array.from({ length: n }, () => runOne()));
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (stopping) throw new UserError('interrupted; matrix.json keeps every finished cell: rerun the same command to run the rest');
}

export async function matrixHandler(a: MatrixArgs): Promise<void> {
  const t0 = performance.now();
  const log = (s: string): void => {
    (a.json ? process.stderr : process.stdout).write(`${s}\n`);
  };
  if (a.config === undefined) throw new UserError('matrix needs --config FILE (JSON or YAML; see fedattack matrix --help)');
  const config = parseMatrixConfig(loadConfigFile(a.config));
  let workersFlag: number | null = null;
  if (a.workers !== undefined && !(typeof a.workers === 'string' && a.workers.trim().toLowerCase() === 'auto')) {
    workersFlag = requireNumber('workers', a.workers, { min: 1, max: 64, integer: true });
  }
  const limit = a.limit === undefined ? Infinity : requireNumber('limit', a.limit, { min: 1, integer: true });
  const out = defaultOutDir('matrix', a.out);
  const choice = await selectBackend(a.backend);
  log(describeChoice(choice));
  const { cells, grid } = expandCells(config, choice.name);

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
  const todo = todoAll.slice(0, Number.isFinite(limit) ? limit : undefined);
  log(`matrix: ${config.defenses.length} defenses × ${config.attacks.length + 1} attacks (incl. none) × F ${config.byzantine.join('/')} × ${config.partitions.length} partition(s) × ${config.seeds.length} seed(s) = ${cells.length} distinct cells`);
  if (stored !== null) log(`resuming ${file}: ${cells.length - todoAll.length} cells already finished${foreign > 0 ? `, ${foreign} from other settings kept but not used` : ''}`);
  const workers = Math.max(1, Math.min(workersFlag ?? os.availableParallelism(), todo.length));
  log(`output: ${out}`);
  if (todo.length > 0) log(`running ${todo.length} cell${todo.length === 1 ? '' : 's'} in ${workers} worker process${workers === 1 ? '' : 'es'}${todo.length < todoAll.length ? ` (--limit; ${todoAll.length - todo.length} left for a later run)` : ''}`);

  // Saves run one after another (two workers may finish at once): the file on disk only ever grows.
  let saving: Promise<void> = Promise.resolve();
  const save = (complete: boolean): Promise<void> => {
    saving = saving.then(() => writeJsonAtomic(file, {
      command: 'matrix', formatVersion: 1, backend: choice.name, config, grid, cells: { ...all },
      ...(Object.keys(failed).length > 0 ? { failed: { ...failed } } : {}), complete,
    } satisfies MatrixFile));
    return saving;
  };
  await save(todoAll.length === 0);
  const useBar = a.progress !== false && !a.json && (a.progress === true || process.stderr.isTTY === true);
  const bar = useBar
    ? new cliProgress.SingleBar({ stream: process.stderr, hideCursor: true, fps: 5, format: 'cells [{bar}] {value}/{total} {info}' }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(todo.length, 0, { info: '' });
  const say = (line: string): void => {
    if (bar) {
      process.stderr.write('\r\x1b[K');
      log(line);
      bar.render?.();
    } else log(line);
  };
  let finished = 0;
  try {
    if (todo.length > 0) {
      await runPool(todo, workers, out, async (cell, result) => {
        all[cell.key] = { settings: cell.settings, result, finishedAt: new Date().toISOString() };
        delete failed[cell.key];
        finished++;
        await save(cells.every((c) => all[c.key] !== undefined));
        say(`cell ${finished}/${todo.length}: ${cellLabel(cell.settings)}: ${cellSummary(result)} (${result.seconds.toFixed(1)} s)`);
        bar?.update(finished, { info: cellLabel(cell.settings) });
      }, async (cell, message) => {
        failed[cell.key] = message;
        finished++;
        await save(false);
        say(`cell ${finished}/${todo.length}: ${cellLabel(cell.settings)}: FAILED: ${message}`);
        bar?.update(finished, { info: 'failed' });
      });
    }
  } finally {
    bar?.stop();
  }
  const done = cells.filter((c) => all[c.key] !== undefined).length;
  const seconds = (performance.now() - t0) / 1000;
  await writeMatrixReport(out, config, grid, all, { backend: choice.name, seconds, done, total: cells.length });
  log(`${done} of ${cells.length} cells finished (${seconds.toFixed(1)} s); wrote ${file}, ${path.join(out, 'report.md')} and report.html`);
  if (a.json) process.stdout.write(`${JSON.stringify({ out, cells: cells.length, done, failed }, null, 2)}\n`);
  const nFailed = Object.keys(failed).length;
  if (nFailed > 0) throw new Error(`${nFailed} cell${nFailed === 1 ? '' : 's'} failed (listed under "failed" in matrix.json); rerun to retry them`);
}

const CONFIG_HELP = `Config file keys (JSON or YAML), with defaults:
  defenses     (required) list of aggregator specs, or {name, aggregator, clientDefense} rows;
               clientDefense: pgd:… | fgsm:… (adversarial training) | clip-noise:clip=C,sigma=S
  attacks      (required) poisoning specs and leak:${LEAKAGE_ATTACK_NAMES.join(' | leak:')}; a "none" column is added
  byzantine    ${JSON.stringify(MATRIX_DEFAULTS.byzantine)}  malicious clients F (number or list)
  partitions   ${JSON.stringify(MATRIX_DEFAULTS.partitions)}  iid | shards:perClient=2 | dirichlet:alpha=0.5
  seeds        ${JSON.stringify(MATRIX_DEFAULTS.seeds)}
  dataset ${MATRIX_DEFAULTS.dataset}, dataDir, model ${MATRIX_DEFAULTS.model}, clients ${MATRIX_DEFAULTS.clients}, fraction ${MATRIX_DEFAULTS.fraction},
  localEpochs ${MATRIX_DEFAULTS.localEpochs}, batchSize ${MATRIX_DEFAULTS.batchSize}, lr ${MATRIX_DEFAULTS.lr}, rounds ${MATRIX_DEFAULTS.rounds}, trainSize ${MATRIX_DEFAULTS.trainSize}, testSize ${MATRIX_DEFAULTS.testSize}
  leakage      ${JSON.stringify(MATRIX_DEFAULTS.leakage)}
               (leak cells: every client holds \`batch\` samples and takes one SGD step; the server
               attacks \`clients\` honest clients in each of rounds 1..\`rounds\`)`;

export function matrixCommand(y: Argv): Argv {
  return y.command(
    'matrix',
    'defenses × attacks (poisoning and leakage) × byzantine counts × partitions × seeds: resumable, parallel, with a heatmap report',
    (b) =>
      b
        .wrap(null)
        .usage(`$0 matrix --config FILE [--out DIR] [--workers N|auto]\n\n${CONFIG_HELP}\n\n${describePoisoning()}\n\n${describeAggregators()}\n\n${describeClientDefenses()}\n  clip-noise: clip=1 (L2 bound of the sent update), sigma=0.01 (noise std as a multiple of clip)`)
        .option('config', { type: 'string', describe: 'the matrix: JSON or YAML file (keys above)' })
        .option('out', { type: 'string', describe: 'output directory; rerunning with the same one resumes (default results/matrix-<timestamp>)' })
        .option('workers', { type: 'string', describe: 'cells run in parallel in this many child processes (a number or auto = min(cores, cells to run)); results do not change', defaultDescription: 'auto' })
        .option('limit', { type: 'number', describe: 'run at most this many of the missing cells now (the rest on a later run)' })
        .option('backend', { type: 'string', default: 'auto', choices: BACKEND_NAMES as unknown as string[], describe: 'compute backend (part of every cell key)' })
        .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary on stdout' })
        .option('progress', { type: 'boolean', describe: 'progress bar on stderr (default: when stderr is a terminal)' }),
    async (argv) => {
      await matrixHandler(argv as unknown as MatrixArgs);
    },
  );
}
