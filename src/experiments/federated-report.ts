/**
 * The report of a federated run (runFederatedExperiment): `accuracy.png` (test accuracy per evaluated
 * round) and `report.md` / `report.html` with the settings, the partition summary, the per-round table
 * (backdoor success, malicious and dropped clients where they apply), the leakage results and the
 * command line that reproduces the run.
 */
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { linePlot } from '../io/plot.js';
import { writeReport, type Cell } from '../io/report.js';
import type { FederatedConfig, FederatedMetrics } from './federated-types.js';

/** What the report shows besides the metrics. */
export interface FederatedReportInput {
  config: FederatedConfig;
  metrics: FederatedMetrics;
  seed: number;
  /** Backend name and detail, as shown. */
  backend: string;
  partitionText: string;
  trainName: string;
  modelName: string;
  /** The command line(s) that repeat the run. */
  reproduce: string;
  /** The leakage attack run on observed clients, if any. */
  leak: string | undefined;
  /** The aggregator drops non-finite updates (the table gets a 'dropped' column). */
  dropping: boolean;
}

const pct = (v: number | null): string => (v === null ? '—' : `${(100 * v).toFixed(2)}%`);

/** Writes accuracy.png, report.md and report.html into `dir`; returns the files written. */
export async function writeFederatedReport(dir: string, r: FederatedReportInput): Promise<string[]> {
  const { config, metrics: m } = r;
  const backdoor = m.rounds.some((x) => x.attackSuccessRate !== undefined);
  const malicious = m.attackSpec !== undefined;
  const dropping = r.dropping;
  const evaluated = m.rounds.filter((x) => x.accuracy !== null);
  const png = await linePlot([{ name: 'test accuracy', points: evaluated.map((x) => [x.round, x.accuracy!] as [number, number]) }], {
    title: `${config.algorithm} on ${r.trainName} (${config.partition}), ${r.modelName}`, xLabel: 'round', yLabel: 'test accuracy', yMin: 0, yMax: 1,
  });
  const pngFile = path.join(dir, 'accuracy.png');
  await writeFileAtomic(pngFile, png);
  const settingsRows: Cell[][] = Object.entries({ backend: r.backend, seed: r.seed, ...config }).map(([k, v]) => [k, String(v)]);
  const records = m.leakage ?? [];
  const written = await writeReport(dir, {
    title: `Federated training: ${config.algorithm} on ${r.trainName}`,
    subtitle: `Final test accuracy **${pct(m.finalAccuracy ?? null)}** after ${m.completedRounds} rounds (${(m.seconds ?? 0).toFixed(1)} s).`,
    sections: [
      { heading: 'Settings', table: { headers: ['setting', 'value'], rows: settingsRows } },
      { heading: 'Partition', code: r.partitionText },
      {
        heading: 'Rounds',
        table: {
          headers: ['round', 'test accuracy', 'test loss', 'train loss', ...(backdoor ? ['attack success'] : []), 'seconds', 'clients',
            ...(malicious ? ['malicious'] : []), ...(dropping ? ['dropped'] : [])],
          rows: m.rounds.map((x) => [x.round, x.accuracy === null ? null : +x.accuracy.toFixed(4), x.loss === null ? null : +x.loss.toFixed(4),
            Number.isFinite(x.trainLoss) ? +x.trainLoss.toFixed(4) : null,
            ...(backdoor ? [x.attackSuccessRate == null ? null : +x.attackSuccessRate.toFixed(4)] : []),
            +x.seconds.toFixed(2), x.sampledClients.join(' '),
            ...(malicious ? [(x.maliciousClients ?? []).join(' ')] : []), ...(dropping ? [(x.droppedClients ?? []).join(' ')] : [])]),
        },
        images: [{ path: 'accuracy.png', caption: 'Test accuracy of the global model per round' }],
      },
      ...(r.leak !== undefined ? [{
        heading: 'Gradient leakage on observed clients',
        text: `The server ran ${r.leak} on what it observed of honest clients (their gradient or update, the model, the sample count). ` +
          (config.algorithm === 'fedsgd' ? 'FedSGD clients send one full-batch gradient: the whole batch is reconstructed.'
            : 'FedAvg clients send a multi-step update, read as a pseudo-gradient −Δ/(lr·steps): one mini-batch of images is reconstructed and matched one-to-one to the best of all the client\'s samples.'),
        table: {
          headers: ['round', 'client', 'kind', 'samples', 'batch', 'local steps', 'PSNR (dB)', 'SSIM', 'label acc.', 'note'],
          rows: records.map((x) => [x.round, x.clientId, x.kind, x.numSamples, x.batch, x.localSteps,
            x.psnr === undefined ? null : +x.psnr.toFixed(2), x.ssim === undefined ? null : +x.ssim.toFixed(3),
            x.labelAccuracy === undefined ? null : pct(x.labelAccuracy), x.skipped ?? (x.pseudoGradient ? 'pseudo-gradient' : '')]),
        },
        images: records.filter((x) => x.images).flatMap((x) => [
          { path: x.images!.groundTruth, caption: `round ${x.round}, client ${x.clientId}: ground truth` },
          { path: x.images!.reconstruction, caption: `round ${x.round}, client ${x.clientId}: reconstruction` },
        ]),
      }] : []),
      { heading: 'Reproduce', code: r.reproduce },
    ],
  });
  return [pngFile, written.markdown, written.html];
}
