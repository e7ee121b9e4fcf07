/**
 * The benchmark suite (`fedattack bench`, `npm run bench`): the standard speed numbers, per backend, in
 * one run, written as bench.json and a report ({@link runBench}).
 *
 * Suites (all by default):
 *   dlg           ms per DLG objective + gradient evaluation, DLG LeNet 32x32x3 → 100, batch 1/4/8
 *   oracle        time to 40 dB PSNR on the PyTorch oracle instance (DLG, L-BFGS, the fixture's start)
 *   local-step    ms per local SGD step of McMahan's CNN (28x28x1 → 10), batch 10 and 32, through the
 *                 harness's own localSgd
 *   round         seconds per FedAvg round (CNN, 10 clients × 100 synthetic samples, C = 0.5, E = 1, B = 10)
 *   convnet-step  ms per SGD step of the Inverting Gradients ConvNet (32x32x3 → 10), batch 64
 *
 * PyTorch: when a python3 that imports torch is found (python3 on PATH, then Debian's /usr/bin/python3),
 * bench/torch_reference.py runs the same models and shapes in the same run (CPU, 1 thread; `--torch-device
 * cuda` on a GPU machine) and the report gives ratios against it. Otherwise the ratios are against the
 * numbers in shared/docs/references.md, labelled as such.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { tf } from '../engine/tf.js';
import { describeChoice, selectBackend } from '../engine/backend.js';
import { createModel, disposeParams, type Model } from '../models/index.js';
import { dlgObjective, paramGradients } from '../../attacks/leakage/objective.js';
import { oneHot } from '../engine/ops.js';
import { readFlat } from '../engine/read.js';
import { Rng } from '../engine/rng.js';
import { loadOracle, oracleProblem, packageRoot } from '../verify/oracle.js';
import { dlg } from '../../attacks/leakage/index.js';
import { disposeObservation, victimObservation } from '../../attacks/leakage/run.js';
import { psnr } from '../metrics/index.js';
import { localSgd } from '../fl/client.js';
import { runFederated } from '../fl/harness.js';
import { fedavg } from '../fl/algorithms.js';
import { partition } from '../fl/partition.js';
import { generateSynthetic } from '../../datasets/synthetic.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { writeReport } from '../io/report.js';
import { outDir } from '../core/validate.js';
import { UserError } from '../core/errors.js';

/** PyTorch 1.13 CPU, 1 thread, this machine type: ms per DLG objective+gradient (references.md). */
export const TORCH_DLG_MS: Record<number, number> = { 1: 1.6, 4: 3.3, 8: 5.3 };

export const SUITES = ['dlg', 'oracle', 'local-step', 'round', 'convnet-step'] as const;
export type Suite = (typeof SUITES)[number];

export interface BenchRow {
  suite: Suite;
  backend: string;
  /** What was timed, e.g. 'B=4'. */
  case: string;
  value: number;
  unit: 'ms' | 's';
  runs: number;
  detail?: string;
  /** The PyTorch number for the same case, and where it came from. */
  torch?: number;
  torchSource?: string;
  ratio?: number;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median ms of one DLG objective+gradient evaluation (LeNet, 100 classes), read back as the attack does. */
export async function timeDlgEvaluation(batch: number, opts: { minEvals?: number; minMs?: number } = {}): Promise<{ median: number; evals: number }> {
  const model = createModel('lenet', { inputShape: [32, 32, 3], classes: 100 });
  const params = model.init(1);
  const target = tf.tidy(() => paramGradients(model, params, tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D,
    oneHot(Array.from({ length: batch }, (_, i) => i), 100)));
  const x = tf.variable(tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 3));
  const y = tf.variable(tf.randomNormal([batch, 100], 0, 1, 'float32', 4));
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const out = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => dlgObjective(model, params, target, a as tf.Tensor4D, b))([x, y]);
      return [value, ...grads];
    });
    try {
      await readFlat(out);
    } finally {
      tf.dispose(out);
    }
    return performance.now() - t0;
  };
  try {
    // warm-up: kernel setup, XNNPACK operator caches and the JIT take a few hundred evaluations to settle
    const warm = performance.now();
    for (let i = 0; i < 5 || (i < 300 && performance.now() - warm < 1000); i++) await once();
    const times: number[] = [];
    const start = performance.now();
    while (times.length < (opts.minEvals ?? 30) || performance.now() - start < (opts.minMs ?? 2500)) times.push(await once());
    return { median: median(times), evals: times.length };
  } finally {
    tf.dispose([x, y, ...target]);
    disposeParams(params);
  }
}

/** Seconds until DLG on the oracle instance reaches 40 dB (checked every 5 steps), within a budget. */
export async function timeOracleTo40dB(budgetSeconds: number): Promise<{ seconds: number; iterations: number; evaluations: number; psnr: number; reached: boolean }> {
  const fx = loadOracle(1);
  const { model, params } = oracleProblem(fx);
  const truth = Float32Array.from(fx.x_true);
  const obs = victimObservation(model, params, [truth], fx.labels);
  let stop = false;
  let at = { iterations: 0, evaluations: 0, psnr: -Infinity };
  const t0 = performance.now();
  try {
    const rec = await dlg.reconstruct(obs, {
      seed: 0,
      iterations: 300,
      init: { x: Float32Array.from(fx.x_dummy), y: Float32Array.from(fx.y_dummy) },
      onProgress: async (p) => {
        if (p.iteration % 5 !== 0) return;
        const q = psnr(await p.images(), truth);
        at = { iterations: p.iteration, evaluations: p.evaluations, psnr: q };
        if (q >= 40 || (performance.now() - t0) / 1000 > budgetSeconds) stop = true;
      },
      shouldStop: () => stop,
    });
    const seconds = (performance.now() - t0) / 1000;
    const final = psnr(rec.images, truth);
    if (final > at.psnr) at = { iterations: rec.iterations, evaluations: rec.evaluations, psnr: final };
    return { seconds, ...at, reached: at.psnr >= 40 };
  } finally {
    disposeObservation(obs);
    disposeParams(params);
  }
}

/** ms per local SGD step through the harness's localSgd (steps of `batch` random samples). */
async function timeLocalSteps(model: Model, batch: number, steps: number, seed: number): Promise<{ median: number; runs: number }> {
  const [h, w, c] = model.inputShape;
  const n = batch * steps;
  const rng = new Rng(seed);
  const x = tf.tensor4d(Float32Array.from({ length: n * h * w * c }, () => rng.uniform()), [n, h, w, c]);
  const labels = tf.tensor1d(Int32Array.from({ length: n }, (_, i) => i % model.classes), 'int32');
  const global = model.init(seed);
  const data = { x, labels, indices: Array.from({ length: n }, (_, i) => i), numClasses: model.classes };
  const run = async (count: number): Promise<number> => {
    const d = { ...data, indices: data.indices.slice(0, count * batch) };
    const t0 = performance.now();
    const r = await localSgd({ model, global, data: d, rng: rng.fork(count) }, { epochs: 1, batchSize: batch, lr: 0.01 });
    const ms = performance.now() - t0;
    disposeParams(r.delta);
    return ms;
  };
  try {
    await run(2); // warm-up (kernel setup, shader compilation)
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push((await run(steps)) / steps);
    return { median: median(times), runs: 3 * steps };
  } finally {
    tf.dispose([x, labels]);
    disposeParams(global);
  }
}

/** Seconds per FedAvg round (median of the rounds after the first). */
async function timeRound(seed: number): Promise<{ median: number; runs: number }> {
  const model = createModel('cnn', { inputShape: [28, 28, 1], classes: 10 });
  const data = generateSynthetic({ trainSize: 1000, testSize: 200, seed });
  const parts = partition(data.train.labels, 10, { kind: 'iid' }, new Rng(seed));
  const r = await runFederated({
    model, train: data.train, test: data.test, partition: parts, strategy: fedavg({ epochs: 1, batchSize: 10, lr: 0.05 }),
    rounds: 3, fraction: 0.5, seed, evalEvery: 3,
  });
  disposeParams(r.params);
  return { median: median(r.rounds.slice(1).map((x) => x.seconds)), runs: r.rounds.length - 1 };
}

/** What bench/torch_reference.py reports for one device. */
export interface TorchResult {
  torch: string;
  device: string;
  deviceName: string;
  threads: number | null;
  dlg?: Record<string, { ms: number; runs: number }>;
  localStep?: Record<string, { ms: number; runs: number }>;
  convnetStep?: { batch: number; width: number; ms: number; runs: number };
}

/** A python3 that imports torch: `python3` on PATH, then Debian's /usr/bin/python3. */
function findTorchPython(explicit: string): string | null {
  const candidates = explicit !== 'auto' ? [explicit] : ['python3', '/usr/bin/python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

function runTorch(py: string, device: string, o: { batches: number[]; convnetWidth: number; suites: Suite[] }): TorchResult {
  const script = path.join(packageRoot(), 'bench', 'torch_reference.py');
  if (!existsSync(script)) throw new UserError(`the PyTorch reference script is missing (${script})`);
  const suites = o.suites.filter((s) => s === 'dlg' || s === 'local-step' || s === 'convnet-step');
  const r = spawnSync(py, [script, '--device', device, '--threads', '1', '--batches', o.batches.join(','),
    '--convnet-width', String(o.convnetWidth), '--suites', suites.join(',')], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new UserError(`the PyTorch reference failed (${py}, ${device}): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchResult;
}

/** A bench run as the user states it (keys = the CLI flags in camelCase); unset ones take {@link BENCH_DEFAULTS}. */
export interface BenchSettings {
  /** Backends to time, comma-separated or a list (auto, tensorflow, webgpu, wasm, cpu). */
  backends?: string | string[];
  /** DLG batch sizes, comma-separated or a list (each 1..64). */
  batches?: string | number[];
  /** Suites to run, comma-separated or a list (see {@link SUITES}). */
  suites?: string | string[];
  /** oracle suite: seconds allowed per backend to reach 40 dB. */
  oracleBudget?: number;
  /** convnet-step suite: ConvNet width (1..256). */
  convnetWidth?: number;
  /** PyTorch reference: 'auto' (python3 with torch, if any), 'off', or a python executable. */
  torch?: string;
  /** PyTorch reference device(s): cpu (1 thread) and/or cuda. */
  torchDevice?: string | string[];
}

/** The defaults of {@link BenchSettings}. */
export const BENCH_DEFAULTS = {
  backends: 'cpu,wasm', batches: '1,4,8', suites: SUITES.join(','), oracleBudget: 120, convnetWidth: 16, torch: 'auto', torchDevice: 'cpu',
} as const;

/** How a bench run talks to its caller. */
export interface BenchContext {
  /** Output directory (default results/bench-<timestamp>). */
  outDir?: string;
  /** One line per backend and per timing (default: none). */
  log?: (line: string) => void;
}

/** bench.json. */
export interface BenchResult {
  command: 'bench';
  backends: { name: string; detail: string }[];
  suites: Suite[];
  rows: BenchRow[];
  /** The PyTorch runs of this bench (none when not found or off). */
  torch: TorchResult[];
  /** Where the PyTorch numbers come from. */
  reference: string;
  timestamp: string;
}

/** The timings as a table (headers and rows), for the report and the CLI. */
export function benchTable(rows: BenchRow[]): { headers: string[]; rows: string[][] } {
  return {
    headers: ['suite', 'case', 'backend', 'time', 'PyTorch', 'ratio', 'notes'],
    rows: rows.map((r) => [r.suite, r.case, r.backend, `${r.value.toFixed(2)} ${r.unit}`, r.torch !== undefined ? `${r.torch.toFixed(2)} ${r.unit}` : '',
      r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : '', r.detail ?? '']),
  };
}

const list = (v: string | readonly (string | number)[]): string[] => (typeof v === 'string' ? v.split(',') : v.map(String)).map((s) => s.trim());

/** Checks every setting; throws a {@link UserError} with one line. */
function resolveBenchSettings(s: BenchSettings): { backends: string[]; batches: number[]; suites: Suite[]; oracleBudget: number; convnetWidth: number; torch: string; torchDevices: string[] } {
  const d = BENCH_DEFAULTS;
  const batches = list(s.batches ?? d.batches).map(Number);
  if (batches.some((b) => !Number.isInteger(b) || b < 1 || b > 64)) throw new UserError(`--batches must be integers in 1..64, got '${String(s.batches)}'`);
  const suites = list(s.suites ?? d.suites) as Suite[];
  const bad = suites.filter((x) => !(SUITES as readonly string[]).includes(x));
  if (bad.length > 0) throw new UserError(`unknown suite '${bad[0]}' (known: ${SUITES.join(', ')})`);
  const oracleBudget = s.oracleBudget ?? d.oracleBudget;
  if (!(oracleBudget > 0)) throw new UserError(`--oracle-budget must be > 0, got ${oracleBudget}`);
  const convnetWidth = s.convnetWidth ?? d.convnetWidth;
  if (!(Number.isInteger(convnetWidth) && convnetWidth >= 1 && convnetWidth <= 256)) throw new UserError(`--convnet-width must be an integer in 1..256, got ${convnetWidth}`);
  const torchDevices = list(s.torchDevice ?? d.torchDevice).filter(Boolean);
  if (torchDevices.some((x) => x !== 'cpu' && x !== 'cuda')) throw new UserError(`--torch-device must be cpu and/or cuda, got '${String(s.torchDevice)}'`);
  return { backends: list(s.backends ?? d.backends).filter(Boolean), batches, suites, oracleBudget, convnetWidth, torch: s.torch ?? d.torch, torchDevices };
}

/**
 * Runs the benchmark suites on every backend (PyTorch first, so that its processes do not share the
 * cores with the timings) and writes bench.json and report.md/html; returns bench.json's content and the
 * files written.
 */
export async function runBench(settings: BenchSettings, ctx: BenchContext = {}): Promise<{ result: BenchResult; files: string[]; outDir: string }> {
  const a = resolveBenchSettings(settings);
  const { batches, suites } = a;
  const dir = outDir('bench', ctx.outDir);
  const say = ctx.log ?? ((): void => {});

  const torch: TorchResult[] = [];
  let torchNote = 'PyTorch 1.13 CPU 1 thread on this machine type, from shared/docs/references.md (not measured in this run)';
  if (a.torch !== 'off') {
    const py = findTorchPython(a.torch);
    if (py === null && a.torch !== 'auto') throw new UserError(`--torch ${a.torch}: that python cannot import torch`);
    if (py !== null) {
      for (const d of a.torchDevices) {
        say(`PyTorch reference (${py}, ${d}) …`);
        torch.push(runTorch(py, d, { batches, convnetWidth: a.convnetWidth, suites }));
      }
      torchNote = `PyTorch ${torch[0]!.torch} measured in this run: ${torch.map((t) => t.device === 'cpu' ? `CPU, ${t.threads} thread` : `${t.device} (${t.deviceName})`).join('; ')}`;
    } else say('PyTorch not found (no python3 that imports torch): ratios use references.md');
  }
  const ref = torch[0];
  const withRef = (row: BenchRow, torchMs: number | undefined, source: string): BenchRow =>
    torchMs !== undefined && Number.isFinite(torchMs) ? { ...row, torch: torchMs, torchSource: source, ratio: row.value / torchMs } : row;
  const refSource = ref ? `measured, ${ref.device === 'cpu' ? 'CPU 1 thread' : ref.deviceName}` : 'references.md';

  const rows: BenchRow[] = [];
  const push = (r: BenchRow): void => {
    rows.push(r);
    say(`${r.suite} ${r.case} on ${r.backend}: ${r.value.toFixed(r.unit === 's' ? 2 : 2)} ${r.unit}` +
      (r.detail ? ` (${r.detail})` : '') + (r.ratio !== undefined ? `, ${r.ratio.toFixed(2)}x PyTorch (${r.torch!.toFixed(2)} ${r.unit}, ${r.torchSource})` : ''));
  };
  const backends: { name: string; detail: string }[] = [];
  for (const name of a.backends) {
    const choice = await selectBackend(name);
    say(describeChoice(choice));
    backends.push({ name: choice.name, detail: choice.detail });
    const be = choice.name;
    if (suites.includes('dlg')) {
      for (const batch of batches) {
        const { median: ms, evals } = await timeDlgEvaluation(batch);
        const torchMs = ref ? ref.dlg?.[String(batch)]?.ms : TORCH_DLG_MS[batch];
        push(withRef({ suite: 'dlg', backend: be, case: `LeNet B=${batch}`, value: ms, unit: 'ms', runs: evals, detail: `median of ${evals}` }, torchMs, refSource));
      }
    }
    if (suites.includes('oracle')) {
      const o = await timeOracleTo40dB(a.oracleBudget);
      push({
        suite: 'oracle', backend: be, case: 'DLG to 40 dB', value: o.seconds, unit: 's', runs: 1,
        detail: `${o.reached ? 'reached' : 'NOT reached'}: ${o.psnr.toFixed(1)} dB at step ${o.iterations}, ${o.evaluations} evaluations; PyTorch CPU: 300 steps in 12.9 s, 42.9 dB (references.md)`,
      });
    }
    if (suites.includes('local-step')) {
      const model = createModel('cnn', { inputShape: [28, 28, 1], classes: 10 });
      for (const b of [10, 32]) {
        const t = await timeLocalSteps(model, b, b === 10 ? 8 : 4, 5);
        // references.md: "CNN batch 32: torch 1 thread 1.58 ms" — implausible for McMahan's CNN (≈2.4 GFLOP per step), shown labelled
        const torchMs = ref ? ref.localStep?.[String(b)]?.ms : b === 32 ? 1.58 : undefined;
        push(withRef({ suite: 'local-step', backend: be, case: `CNN B=${b}`, value: t.median, unit: 'ms', runs: t.runs }, torchMs, ref ? refSource : 'references.md, model unclear'));
      }
    }
    if (suites.includes('round')) {
      const t = await timeRound(5);
      push({ suite: 'round', backend: be, case: 'FedAvg CNN 5×100 samples E=1 B=10', value: t.median, unit: 's', runs: t.runs });
    }
    if (suites.includes('convnet-step')) {
      const model = createModel('convnet', { inputShape: [32, 32, 3], classes: 10, width: a.convnetWidth });
      const t = await timeLocalSteps(model, 64, 3, 6);
      push(withRef({ suite: 'convnet-step', backend: be, case: `ConvNet w=${a.convnetWidth} B=64`, value: t.median, unit: 'ms', runs: t.runs }, ref?.convnetStep?.ms, refSource));
    }
  }
  const result: BenchResult = { command: 'bench', backends, suites, rows, torch, reference: torchNote, timestamp: new Date().toISOString() };
  const json = path.join(dir, 'bench.json');
  await writeJsonAtomic(json, result);
  const extra = torch.slice(1).map((t) => ({
    heading: `PyTorch on ${t.device} (${t.deviceName})`,
    table: {
      headers: ['case', 'ms'],
      rows: [
        ...Object.entries(t.dlg ?? {}).map(([b, v]) => [`DLG LeNet B=${b}`, v.ms.toFixed(2)]),
        ...Object.entries(t.localStep ?? {}).map(([b, v]) => [`CNN step B=${b}`, v.ms.toFixed(2)]),
        ...(t.convnetStep ? [[`ConvNet w=${t.convnetStep.width} B=${t.convnetStep.batch}`, t.convnetStep.ms.toFixed(2)]] : []),
      ],
    },
  }));
  const report = await writeReport(dir, {
    title: 'fedattack bench',
    sections: [{
      heading: 'Timings',
      text: `Backends: ${backends.map((b) => `${b.name} (${b.detail})`).join('; ')}. Reference: ${torchNote}. ` +
        'DLG: median ms per objective + gradient evaluation read back to the host; local-step / convnet-step: median ms per SGD step through the harness; round: seconds per FedAvg round.',
      table: benchTable(rows),
    }, ...extra],
  });
  return { result, files: [json, report.markdown, report.html], outDir: dir };
}
