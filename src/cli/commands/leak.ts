/**
 * `fedattack leak`: one gradient-leakage attack, end to end — flags → {@link LeakageSettings} →
 * runLeakage (or runLeakageBatch with --each, src/experiments/) → one summary line on stdout.
 *
 * The command adds what only a terminal has: the progress bar (stderr, when it is a TTY and --json is
 * not given) and Ctrl-C: the first one stops the optimisation, the best result so far is written and the
 * command exits with 130; a second Ctrl-C quits at once. What a run is, its defaults, outputs and
 * reports live in src/experiments/leakage*.ts.
 */
import cliProgress from 'cli-progress';
import type { Argv } from 'yargs';
import { convnetModel, modelNames } from '../../models/index.js';
import { toJson } from '../../io/atomic.js';
import { leakageAttackNames } from '../../../attacks/leakage/index.js';
import { fmt, fmtLoss, LEAKAGE_DEFAULTS, runLeakage, type LeakageRunContext, type LeakageSettings } from '../../experiments/leakage.js';
import { runLeakageBatch } from '../../experiments/leakage-batch.js';
import { withCommonOptions, type CommonArgs } from '../options.js';

type LeakArgs = CommonArgs & LeakageSettings;

/** Ctrl-C: the first one asks to stop (the best so far is kept), the second quits. */
function watchSigint(): { stopped: () => boolean; release: () => void } {
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\ninterrupted: stopping after this step and writing the best result so far (Ctrl-C again quits now)\n');
  };
  process.on('SIGINT', onSigint);
  return { stopped: () => stop, release: () => void process.off('SIGINT', onSigint) };
}

/**
 * The progress display of a single-batch run: a bar per restart in one thread, one bar over every
 * running restart's steps with several workers; without a bar, a line per restart when there are several.
 */
function progress(useBar: boolean, quiet: boolean, log: (line: string) => void): Pick<LeakageRunContext, 'onStart' | 'onAttempt' | 'onStep'> & { stop: () => void } {
  const bar = useBar
    ? new cliProgress.SingleBar({
      stream: process.stderr,
      format: '{attack} {restart} |{bar}| {value}/{total} steps · loss {loss} · {evals} evals · {elapsed}s',
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    }, cliProgress.Presets.shades_classic)
    : null;
  const t0 = performance.now();
  const elapsed = (): string => ((performance.now() - t0) / 1000).toFixed(1);
  let attack = '';
  let iterations = 1;
  let workers = 1;
  const stepsOf = new Map<number, number>();
  return {
    onStart: (info) => {
      ({ attack, workers } = info);
      iterations = Math.max(1, info.iterations);
      if (bar && workers > 1) bar.start(info.restarts * iterations, 0, { attack, restart: `(${info.restarts} restarts, ${workers} workers)`, loss: '—', evals: 0, elapsed: '0.0' });
    },
    onAttempt: ({ restart, restarts, attempt }) => {
      if (bar && workers > 1) return;
      const label = `${restart < restarts ? `restart ${restart + 1}/${restarts}` : `extra restart ${restart + 1 - restarts} (on a stalled restart's steps)`}${attempt > 0 ? ' (retry after divergence)' : ''}`;
      if (bar) {
        bar.stop();
        bar.start(iterations, 0, { attack, restart: label, loss: '—', evals: 0, elapsed: elapsed() });
      } else if (!quiet && (restarts > 1 || attempt > 0)) log(label);
    },
    onStep: (p) => {
      if (bar === null) return;
      if (workers === 1) {
        bar.update(p.iteration, { loss: fmtLoss(p.loss), evals: p.evaluations, elapsed: elapsed() });
        return;
      }
      stepsOf.set(p.restart, p.iteration);
      let total = 0;
      for (const v of stepsOf.values()) total += v;
      bar.update(Math.min(total, bar.getTotal()), { loss: fmtLoss(p.loss), evals: p.evaluations, elapsed: elapsed() });
    },
    stop: () => bar?.stop(),
  };
}

/** The run's summary line on stdout (on stderr with --json, which prints the metrics JSON instead). */
function print(a: LeakArgs, line: string, outDir: string, json: unknown, log: (line: string) => void): void {
  if (a.json) {
    log(line);
    log(`wrote ${outDir}`);
    process.stdout.write(toJson(json));
  } else process.stdout.write(`${line}\nwrote ${outDir}\n`);
}

async function leak(a: LeakArgs): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const sig = watchSigint();
  const ctx: LeakageRunContext = { log, shouldStop: sig.stopped, ...(a.out !== undefined ? { outDir: a.out } : {}) };
  try {
    if (a.each) {
      const r = await runLeakageBatch(a, ctx);
      const m = r.summary;
      print(a, `${m.attack} on ${m.model}, ${m.attacked} of ${m.requested} image${m.requested === 1 ? '' : 's'} one by one: ${fmt(100 * m.successRate, 0)}% at ≥ ${m.successDb} dB, ` +
        `PSNR mean ${fmt(m.meanPsnr)} / median ${fmt(m.medianPsnr)} dB, labels right ${fmt(100 * m.labelAccuracy, 0)}%, ${fmt(m.seconds, 1)} s in ${m.workers} worker${m.workers === 1 ? '' : 's'}${m.interrupted ? ' — interrupted' : ''}`,
      r.outDir, m, log);
      if (m.interrupted) process.exitCode = 130;
      return;
    }
    const bar = progress(!a.json && process.stderr.isTTY === true, a.json, log);
    let r;
    try {
      r = await runLeakage(a, { ...ctx, onStart: bar.onStart!, onAttempt: bar.onAttempt!, onStep: bar.onStep! });
    } finally {
      bar.stop();
    }
    const m = r.metrics;
    print(a, `${m.attack} on ${m.model}: PSNR ${fmt(m.psnr)} dB, SSIM ${fmt(m.ssim, 3)}, label accuracy ${fmt(100 * m.labelAccuracy, 0)}%, ` +
      `${m.evaluations} evaluations in ${fmt(m.seconds, 1)} s (${fmt(m.msPerEvaluation, 2)} ms each)${m.interrupted ? ' — interrupted' : ''}`, r.outDir, m, log);
    if (m.interrupted) process.exitCode = 130;
  } finally {
    sig.release();
  }
}

/** Help of a convnet variant flag, from the model's declared parameter (src/models/convnet.ts). */
function variantHelp(key: string): string {
  const p = convnetModel.params[key];
  if (p === undefined) return `convnet ${key}`;
  const values = p.choices !== undefined ? p.choices.join(' | ') : p.type;
  return `convnet ${key}: ${values} (default ${String(p.default)}): ${p.description}`;
}

export function leakCommand(y: Argv): Argv {
  const d = LEAKAGE_DEFAULTS;
  return y.command(
    'leak',
    'reconstruct private images from one shared gradient (DLG, iDLG, Inverting Gradients) and score the result',
    (b) =>
      withCommonOptions(b)
        .option('image', { type: 'string', array: true, describe: 'private image file(s), any PNG/JPEG (centre-cropped and resized); default: built-in scenes' })
        .option('batch', { type: 'number', describe: `number of built-in images when no --image is given (default ${d.batch})` })
        .option('attack', { type: 'string', default: d.attack, describe: `attack: ${leakageAttackNames().join(' | ')}` })
        .option('model', { type: 'string', default: d.model, describe: `model: ${modelNames().join(' | ')}` })
        .option('classes', { type: 'number', describe: 'number of classes (default 100 for lenet as in the DLG paper, 10 otherwise)' })
        .option('input-size', { type: 'number', default: d.inputSize, describe: 'image height and width fed to the model' })
        .option('channels', { type: 'number', default: d.channels, describe: '3 = RGB, 1 = greyscale' })
        .option('width', { type: 'number', describe: variantHelp('width') })
        .option('bn-stats', { type: 'string', describe: variantHelp('batchNormStats') })
        .option('layout', { type: 'string', describe: variantHelp('layout') })
        .option('weight-init', { type: 'string', describe: variantHelp('weightInit') })
        .option('activation', { type: 'string', describe: variantHelp('activation') })
        .option('pool', { type: 'string', describe: variantHelp('pool') })
        .option('optimizer', { type: 'string', describe: 'lbfgs | adam (default: the attack\'s: lbfgs for dlg/idlg, adam for ig)' })
        .option('iterations', { type: 'number', describe: 'optimiser steps (default: dlg/idlg 200 L-BFGS steps of ≤ 20 evaluations — the papers used 300; ig 1000 Adam steps)' })
        .option('restarts', { type: 'number', default: d.restarts, describe: 'independent restarts; the lowest gradient-matching loss is kept' })
        .option('tv', { type: 'number', describe: 'total-variation weight (default: ig 0.2 on normalised images, dlg/idlg 0)' })
        .option('lr', { type: 'number', describe: 'learning rate (default: lbfgs 1, adam 0.1)' })
        .option('labels', { type: 'string', array: true, describe: 'true labels of the images (default 0 1 2 ...)' })
        .option('each', { type: 'boolean', default: d.each, describe: 'attack every image on its own (B = 1, its own label): OUT/<n>-<name>/ per image, summary.json and report at the top' })
        .option('workers', { type: 'string', describe: 'worker threads for restarts (or images with --each): a number or auto = min(cores, restarts or images); 1 on GPU backends; results do not change', defaultDescription: d.workers })
        .example('$0 leak', 'DLG on the DLG paper\'s LeNet with a built-in image')
        .example('$0 leak --attack idlg --image cat.jpg --labels 3 --restarts 4', 'iDLG on your own image')
        .example('$0 leak --attack ig --model convnet --width 8 --layout inversefed --weight-init kaiming --activation elu --pool avg --tv 1e-4 --batch 4 --iterations 2000', 'Inverting Gradients on a batch of 4 (the smooth ConvNet it reconstructs, README)')
        .example('$0 leak --attack idlg --each --image photos/*.png --labels 3 10 17', 'iDLG on each photo separately, a summary over them'),
    (argv) => leak(argv as unknown as LeakArgs),
  );
}
