/**
 * What a leakage run writes and reports: metrics.json ({@link LeakageMetrics}), ground-truth.png,
 * reconstruction.png, progress.png and report.md/html of one attack ({@link writeLeakageOutputs}); and for a
 * per-image batch (`leak --each`) summary.json ({@link LeakageBatchSummary}) and its report
 * ({@link writeBatchSummary}). Every file is written atomically.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { BackendChoice } from '../engine/backend.js';
import type { Model, Shape3 } from '../models/index.js';
import { imageGrid } from '../io/image.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { markdownTable, writeReport } from '../io/report.js';
import { splitImages, type Score } from '../metrics/reconstruction.js';
import type { Snapshot } from '../../attacks/leakage/index.js';
import type { AttackRun } from '../../attacks/leakage/run.js';
import type { ResolvedLeakageSettings } from './leakage-settings.js';

/** metrics.json of one attack. */
export interface LeakageMetrics {
  attack: string;
  model: string;
  backend: string;
  backendDetail: string;
  seed: number;
  seconds: number;
  evaluations: number;
  msPerEvaluation: number;
  psnr: number;
  mse: number;
  ssim: number;
  labelAccuracy: number;
  labelMultisetAccuracy: number;
  perImage: {
    index: number; source: string; trueLabel: number; predictedLabel: number; psnr: number; ssim: number; mse: number; reconstruction: number;
  }[];
  matchingLoss: number;
  labelMethod: string;
  diverged: boolean;
  interrupted: boolean;
  settings: {
    classes: number; inputShape: Shape3; width?: number; variant: ResolvedLeakageSettings['variant']; batch: number; optimizer: string; iterations: number; lr: number;
    tv: number; restarts: number; labels: number[];
  };
  restarts: { requested: number; allDiverged: boolean; kept: number; note: string | null; attempts: AttackRun['attempts'] };
}

export function fmt(v: number, digits = 2): string {
  if (v === Infinity) return '∞';
  if (!Number.isFinite(v)) return String(v);
  return v.toFixed(digits);
}

export function fmtLoss(v: number): string {
  return Number.isFinite(v) ? v.toExponential(2) : String(v);
}

/** The settings block of metrics.json and summary.json (defaults filled in). */
export function settingsRecord(s: ResolvedLeakageSettings): LeakageMetrics['settings'] {
  return {
    classes: s.classes, inputShape: s.shape, ...(s.width !== undefined ? { width: s.width } : {}), variant: s.variant, batch: s.batch, optimizer: s.optimizer,
    iterations: s.iterations, lr: s.lr ?? s.attack.defaultLr[s.optimizer], tv: s.tv ?? s.attack.defaultTv, restarts: s.restarts, labels: s.labels,
  };
}

/** "lenet (32x32x3, 100 classes, width …, variant …)" for the reports. */
export function describeModel(s: ResolvedLeakageSettings, name: string): string {
  return `${name} (${s.shape.join('x')}, ${s.classes} classes${s.width !== undefined ? `, width ${s.width}` : ''}${Object.entries(s.variant).map(([k, v]) => `, ${k} ${v}`).join('')})`;
}

/** metrics.json of one attack. */
export function leakageMetrics(s: ResolvedLeakageSettings, model: Model, choice: BackendChoice, run: AttackRun, score: Score, sources: string[]): LeakageMetrics {
  const rec = run.reconstruction;
  return {
    attack: s.attack.name,
    model: model.name,
    backend: choice.name,
    backendDetail: choice.detail,
    seed: s.seed,
    seconds: run.seconds,
    evaluations: run.evaluations,
    msPerEvaluation: run.evaluations > 0 ? (run.seconds * 1000) / run.evaluations : 0,
    psnr: score.psnr,
    mse: score.mse,
    ssim: score.ssim,
    labelAccuracy: score.labelAccuracy,
    labelMultisetAccuracy: score.labelMultisetAccuracy,
    perImage: score.perImage.map((p) => ({ ...p, source: sources[p.index]! })),
    matchingLoss: rec.matchingLoss,
    labelMethod: rec.labelMethod,
    diverged: run.allDiverged,
    interrupted: run.interrupted,
    settings: settingsRecord(s),
    restarts: { requested: s.restarts, allDiverged: run.allDiverged, kept: run.attempts.findIndex((x) => x.kept), note: run.policyNote, attempts: run.attempts },
  };
}

/** One image's line of summary.json. */
export interface LeakageBatchImage {
  index: number;
  source: string;
  /** Its folder under --out. */
  dir: string;
  trueLabel: number;
  predictedLabel: number;
  labelRight: boolean;
  psnr: number;
  ssim: number;
  mse: number;
  matchingLoss: number;
  seconds: number;
  evaluations: number;
  restartsRun: number;
  diverged: boolean;
  interrupted: boolean;
}

export interface LeakageBatchSummary {
  command: 'leak --each';
  attack: string;
  model: string;
  backend: string;
  backendDetail: string;
  seed: number;
  workers: number;
  /** Wall time of the whole command. */
  seconds: number;
  interrupted: boolean;
  /** PSNR (dB) at or above which an image counts as reconstructed. */
  successDb: number;
  /** Images attacked (all of them unless interrupted) and the statistics over them. */
  attacked: number;
  requested: number;
  successRate: number;
  meanPsnr: number;
  medianPsnr: number;
  meanSsim: number;
  medianSsim: number;
  labelAccuracy: number;
  evaluations: number;
  settings: LeakageMetrics['settings'];
  images: LeakageBatchImage[];
}

/** PSNR at which a reconstruction counts as a success in the --each summary. */
export const SUCCESS_DB = 30;

/** summary.json and report.md/html at the top of the output directory; returns the files written. */
export async function writeBatchSummary(s: ResolvedLeakageSettings, m: LeakageBatchSummary): Promise<string[]> {
  const summary = path.join(s.out, 'summary.json');
  await writeJsonAtomic(summary, m);
  const pct = (v: number): string => (Number.isFinite(v) ? `${fmt(100 * v, 0)}%` : '—');
  const report = await writeReport(s.out, {
    title: `Gradient leakage, image by image: ${m.attack} on ${m.model}`,
    subtitle: `Each of ${m.requested} private image${m.requested === 1 ? '' : 's'} is one client's batch (B = 1): the server sees its FedSGD gradient and reconstructs it.`,
    sections: [
      {
        heading: 'Summary',
        text: `Reconstructed (PSNR ≥ ${m.successDb} dB): **${pct(m.successRate)}** of ${m.attacked} image${m.attacked === 1 ? '' : 's'}` +
          `; PSNR mean ${fmt(m.meanPsnr)} dB, median ${fmt(m.medianPsnr)} dB; SSIM mean ${fmt(m.meanSsim, 3)}, median ${fmt(m.medianSsim, 3)}; labels right ${pct(m.labelAccuracy)}. ` +
          `${m.evaluations} evaluations, ${fmt(m.seconds, 1)} s wall time in ${m.workers} worker${m.workers === 1 ? '' : 's'} (${m.backend}).` +
          (m.interrupted ? `\n\n**Interrupted** (Ctrl-C): ${m.attacked} of ${m.requested} images attacked, the last ones with the best result reached so far.` : ''),
        table: {
          headers: ['#', 'image', 'true label', 'recovered label', 'label right', 'PSNR (dB)', 'SSIM', 'seconds', 'evaluations', 'folder'],
          rows: m.images.map((r) => [r.index, r.source, r.trueLabel, r.predictedLabel, r.labelRight ? 'yes' : 'no', fmt(r.psnr), fmt(r.ssim, 3), fmt(r.seconds, 1), r.evaluations, r.dir]),
        },
      },
      {
        heading: 'Reconstructions',
        images: m.images.map((r) => ({ path: `${r.dir}/reconstruction.png`, caption: `#${r.index} ${r.source}: ${fmt(r.psnr, 1)} dB` })),
      },
      {
        heading: 'Settings',
        text: markdownTable(['setting', 'value'], [
          ['attack', m.attack], ['model', describeModel(s, m.model)],
          ['backend', `${m.backend} (${m.backendDetail})`], ['seed', m.seed], ['optimizer', s.optimizer], ['iterations', s.iterations],
          ['learning rate', m.settings.lr], ['TV weight', m.settings.tv], ['restarts per image', s.restarts], ['labels', s.labels.join(', ')], ['workers', m.workers],
        ]),
      },
    ],
  });
  return [summary, report.markdown, report.html];
}

/**
 * Writes every output file of one attack into `s.out` and returns their paths; removes the directory
 * again if it created it and a write failed.
 */
export async function writeLeakageOutputs(
  s: ResolvedLeakageSettings, m: LeakageMetrics, score: Score, truth: Float32Array[], recon: Float32Array, snapshots: Snapshot[], sources: string[],
): Promise<string[]> {
  const dir = s.out;
  const [h, w, c] = s.shape;
  const existed = existsSync(dir);
  const scale = Math.max(1, Math.round(128 / Math.max(h, w)));
  const recons = splitImages(recon, s.shape);
  // reconstructions in ground-truth order (their matched partner)
  const order = score.perImage.map((p) => p.reconstruction);
  try {
    const file = (name: string): string => path.join(dir, name);
    await writeJsonAtomic(file('metrics.json'), m);
    await writeFileAtomic(file('ground-truth.png'), await imageGrid(truth, h, w, c, {
      scale, labels: truth.map((_, i) => `#${i + 1} label ${s.labels[i]}`), title: 'ground truth (private)',
    }));
    await writeFileAtomic(file('reconstruction.png'), await imageGrid(order.map((r) => recons[r]!), h, w, c, {
      scale,
      labels: score.perImage.map((p) => `${fmt(p.psnr, 1)} dB · label ${p.predictedLabel}`),
      title: `${m.attack} reconstruction`,
    }));
    const B = truth.length;
    const snapTiles = snapshots.flatMap((sn) => order.map((r) => sn.images.slice(r * h * w * c, (r + 1) * h * w * c)));
    const caption = (sn: Snapshot): string => `it ${sn.iteration} · loss ${fmtLoss(sn.loss)}`;
    await writeFileAtomic(file('progress.png'), await imageGrid(snapTiles, h, w, c, B === 1
      ? { scale: Math.max(1, Math.round(scale / 2)), columns: Math.min(5, snapTiles.length), labels: snapshots.map(caption), title: `${m.attack}: reconstruction over the iterations` }
      : { scale: Math.max(1, Math.round(scale / 2)), columns: B, rowLabels: snapshots.map(caption), title: `${m.attack}: reconstruction over the iterations` }));
    const report = await writeReport(dir, {
      title: `Gradient leakage: ${m.attack} on ${m.model}`,
      subtitle: `An honest-but-curious server sees one FedSGD gradient of a batch of ${B} private image${B === 1 ? '' : 's'} and reconstructs ${B === 1 ? 'it' : 'them'}.`,
      sections: [
        {
          heading: 'Metrics',
          text: 'Reconstructions are matched one-to-one to the ground truth (least total MSE) and scored on [0, 1] pixels after clipping.' +
            (m.interrupted ? '\n\n**Interrupted** (Ctrl-C): the best result reached so far.' : '') +
            (m.diverged ? '\n\n**Every restart diverged**: the best finite point reached is shown.' : ''),
          table: {
            headers: ['PSNR (dB)', 'SSIM', 'MSE', 'label accuracy', 'matching loss', 'evaluations', 'seconds', 'ms / evaluation'],
            rows: [[fmt(m.psnr), fmt(m.ssim, 3), m.mse.toExponential(2), fmt(100 * m.labelAccuracy, 0) + '%', fmtLoss(m.matchingLoss), m.evaluations, fmt(m.seconds, 1), fmt(m.msPerEvaluation, 2)]],
          },
          images: [
            { path: 'ground-truth.png', caption: 'ground truth' },
            { path: 'reconstruction.png', caption: 'reconstruction (matched to the ground truth)' },
          ],
        },
        {
          heading: 'Per image',
          table: {
            headers: ['#', 'source', 'true label', 'recovered label', 'PSNR (dB)', 'SSIM', 'MSE'],
            rows: m.perImage.map((p) => [p.index + 1, p.source, p.trueLabel, p.predictedLabel, fmt(p.psnr), fmt(p.ssim, 3), p.mse.toExponential(2)]),
          },
        },
        { heading: 'Progress', images: [{ path: 'progress.png', caption: 'dummy images over the iterations' }] },
        {
          heading: 'Restarts',
          text: 'The kept restart is the one with the lowest gradient-matching loss (never chosen by the ground truth). A diverged restart is dropped and retried once with a new seed. '
            + 'Once a restart has matched the gradient (relative matching loss below the policy threshold) the remaining ones are skipped; a restart whose loss plateaus high is stopped as stalled (still a candidate) and its unused steps run extra restarts.'
            + (m.restarts.note ? ` This run: ${m.restarts.note}.` : ''),
          table: {
            headers: ['restart', 'attempt', 'seed', 'matching loss', 'steps', 'evaluations', 'seconds', 'diverged', 'kept'],
            rows: m.restarts.attempts.map((x) => [x.restart + 1, x.attempt + 1, x.seed, fmtLoss(x.matchingLoss), x.iterations, x.evaluations, fmt(x.seconds, 1), x.diverged ? (x.divergence ?? 'yes') : x.stalled ? 'stalled (stopped early)' : 'no', x.kept ? 'yes' : '']),
          },
        },
        {
          heading: 'Settings',
          text: markdownTable(['setting', 'value'], [
            ['attack', m.attack], ['model', describeModel(s, m.model)],
            ['backend', `${m.backend} (${m.backendDetail})`], ['seed', m.seed], ['optimizer', s.optimizer], ['iterations', s.iterations],
            ['learning rate', m.settings.lr], ['TV weight', m.settings.tv], ['restarts', s.restarts], ['labels', s.labels.join(', ')],
            ['label recovery', m.labelMethod], ['images', sources.join('; ')],
          ]),
        },
      ],
    });
    return [...['metrics.json', 'ground-truth.png', 'reconstruction.png', 'progress.png'].map(file), report.markdown, report.html];
  } catch (e) {
    if (!existed) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
