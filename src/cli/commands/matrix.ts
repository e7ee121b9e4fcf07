/**
 * `fedattack matrix --config FILE`: flags → runMatrix (src/experiments/matrix/run.ts) → print.
 * Defenses × attacks (poisoning and leakage) × byzantine counts × partitions × seeds, one federated
 * run per cell (src/experiments/matrix/cell.ts, which calls runFederatedExperiment), in child processes.
 *
 * - The whole config is validated before any cell runs (one error line, exit 2).
 * - `<out>/matrix.json` holds every finished cell under the hash of its complete settings; it is
 *   rewritten atomically after every cell, so an interrupted run leaves a valid file, and a rerun with
 *   the same --out runs only the cells that are missing. A changed config gets new keys for the cells
 *   it changes (their old results are kept in the file but never reported as the new ones).
 * - `--workers N|auto` child processes (auto: min(cores, cells to run)); every cell is seeded from its
 *   own settings, so results do not depend on the worker count or order.
 * - `report.md` / `report.html` with heatmaps (src/experiments/matrix/report.ts), rewritten at the end.
 */
import cliProgress from 'cli-progress';
import type { Argv } from 'yargs';
import path from 'node:path';
import { BACKEND_NAMES, describeChoice, selectBackend } from '../../engine/backend.js';
import { describePoisoning } from '../../../attacks/poisoning/index.js';
import { describeAggregators } from '../../../defenses/aggregation/index.js';
import { describeClientDefenses } from '../../../defenses/client/index.js';
import { leakageAttackNames } from '../../../attacks/leakage/index.js';
import { MATRIX_DEFAULTS, parseMatrixConfig } from '../../experiments/matrix/config.js';
import { runMatrix } from '../../experiments/matrix/run.js';
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

export async function matrixHandler(a: MatrixArgs): Promise<void> {
  const log = (s: string): void => {
    (a.json ? process.stderr : process.stdout).write(`${s}\n`);
  };
  if (a.config === undefined) throw new UserError('matrix needs --config FILE (JSON or YAML; see fedattack matrix --help)');
  const config = parseMatrixConfig(loadConfigFile(a.config));
  let workers: number | undefined;
  if (a.workers !== undefined && !(typeof a.workers === 'string' && a.workers.trim().toLowerCase() === 'auto')) {
    workers = requireNumber('workers', a.workers, { min: 1, max: 64, integer: true });
  }
  const limit = a.limit === undefined ? undefined : requireNumber('limit', a.limit, { min: 1, integer: true });
  const choice = await selectBackend(a.backend);
  log(describeChoice(choice));
  const useBar = a.progress !== false && !a.json && (a.progress === true || process.stderr.isTTY === true);
  const bar = useBar
    ? new cliProgress.SingleBar({ stream: process.stderr, hideCursor: true, fps: 5, format: 'cells [{bar}] {value}/{total} {info}' }, cliProgress.Presets.shades_classic)
    : null;
  const say = (line: string): void => {
    if (bar) {
      process.stderr.write('\r\x1b[K');
      log(line);
      bar.render?.();
    } else log(line);
  };
  let r;
  try {
    r = await runMatrix(config, {
      outDir: defaultOutDir('matrix', a.out), backend: choice.name, log: say,
      ...(workers !== undefined ? { workers } : {}), ...(limit !== undefined ? { limit } : {}),
      onStart: (n) => bar?.start(n, 0, { info: '' }),
      onCell: (finished, label) => bar?.update(finished, { info: label }),
    });
  } finally {
    bar?.stop();
  }
  const file = path.join(r.outDir, 'matrix.json');
  log(`${r.done} of ${r.cells} cells finished (${r.seconds.toFixed(1)} s); wrote ${file}, ${path.join(r.outDir, 'report.md')} and report.html`);
  if (a.json) process.stdout.write(`${JSON.stringify({ out: r.outDir, cells: r.cells, done: r.done, failed: r.failed }, null, 2)}\n`);
  const nFailed = Object.keys(r.failed).length;
  if (nFailed > 0) throw new Error(`${nFailed} cell${nFailed === 1 ? '' : 's'} failed (listed under "failed" in matrix.json); rerun to retry them`);
}

const CONFIG_HELP = `Config file keys (JSON or YAML), with defaults:
  defenses     (required) list of aggregator specs, or {name, aggregator, clientDefense} rows;
               clientDefense: pgd:… | fgsm:… (adversarial training) | clip-noise:clip=C,sigma=S
  attacks      (required) poisoning specs and leak:${leakageAttackNames().join(' | leak:')}; a "none" column is added
  byzantine    ${JSON.stringify(MATRIX_DEFAULTS.byzantine)}  malicious clients F (number or list)
  partitions   ${JSON.stringify(MATRIX_DEFAULTS.partitions)}  iid | shards:perClient=2 | dirichlet:alpha=0.5 | natural
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
        .usage(`$0 matrix --config FILE [--out DIR] [--workers N|auto]\n\n${CONFIG_HELP}\n\n${describePoisoning()}\n\n${describeAggregators()}\n\n${describeClientDefenses()}`)
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
