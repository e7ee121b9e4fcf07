/**
 * The report of `fedattack matrix`: heatmaps (defense × attack → final accuracy, backdoor attack
 * success rate, leakage PSNR and label accuracy; one set per partition × byzantine count, means over
 * seeds), a table of every cell, the threat model and the settings. Written as report.md / report.html
 * with PNG heatmaps, through the shared io helpers.
 */
import path from 'node:path';
import { heatmap } from '../../io/plot.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { writeReport, type Cell as ReportCell, type ReportImage, type ReportSection } from '../../io/report.js';
import type { CellResult } from './cell.js';
import { isBackdoor, isLeak, type GridEntry, type MatrixConfig } from './config.js';

export interface StoredCell {
  result: CellResult;
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${(100 * v).toFixed(1)}%`);
const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

export const THREAT_MODEL = [
  '**Poisoning cells.** A fixed set of F clients (drawn with the seed) is malicious and acts in the rounds it is sampled; ' +
    'ALIE and IPM see the honest updates of the round (omniscient within the round), the others only their own data. ' +
    'The server aggregates with the defense\'s rule, configured for F. Accuracy is the global model\'s test accuracy after the last round; ' +
    'the `none` column is the same defense with no malicious client (its clean accuracy, the reference). ' +
    'A model-replacement backdoor is scored by its attack success rate (ASR): triggered test inputs whose class is not the target, classified as the target. ' +
    '"NaN" accuracy: an update with NaN/Inf reached the plain mean, and the run stopped instead of training on it.',
  '**Leakage cells.** The server is honest-but-curious: it follows the protocol and runs DLG/iDLG on the update it observes from an honest client ' +
    '(the update, the global model, the sample count; never the data). Every client holds `leakage.batch` samples and takes one local SGD step, ' +
    'so the observed update is exactly −lr·∇L of one small batch (a FedSGD-style observation, where these attacks are meaningful). ' +
    'PSNR (dB) and label accuracy score the reconstruction against the client\'s real samples (higher = more leakage). ' +
    'Robust aggregators act *after* the server has seen each individual update, so they cannot change what is leaked in the observed round: ' +
    'rows that differ only in the aggregator show the same leakage (up to later-round effects when more rounds are attacked). ' +
    'Only client-side defenses change what is observed: adversarial training (the gradient is that of perturbed inputs) and clipping + noise (`clip-noise`). ' +
    'Secure aggregation, which would hide individual updates, is outside this model.',
];

function groupName(partition: string, byzantine: number, multiP: boolean, multiF: boolean): string {
  const parts = [];
  if (multiP) parts.push(`partition ${partition}`);
  if (multiF) parts.push(`F = ${byzantine}`);
  return parts.join(', ');
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9.=-]+/g, '_');
}

export async function writeMatrixReport(
  outDir: string,
  config: MatrixConfig,
  grid: GridEntry[],
  cells: Record<string, StoredCell | undefined>,
  meta: { backend: string; seconds: number; done: number; total: number },
): Promise<void> {
  const poisonCols = ['none', ...config.attacks.filter((a) => !isLeak(a))];
  const backdoorCols = config.attacks.filter(isBackdoor);
  const leakCols = config.attacks.filter(isLeak);
  const rows = config.defenses.map((d) => d.name);
  const multiP = config.partitions.length > 1;
  const multiF = config.byzantine.length > 1;
  const sections: ReportSection[] = [];
  sections.push({ heading: 'Threat model', text: THREAT_MODEL.join('\n\n') });

  const tableRows: ReportCell[][] = [];
  for (const partition of config.partitions) {
    for (const f of config.byzantine) {
      const gname = groupName(partition, f, multiP, multiF);
      const tag = slug(`${multiP ? `${partition}-` : ''}${multiF ? `F${f}-` : ''}`);
      const results = (defense: string, attack: string): CellResult[] =>
        grid.filter((g) => g.partition === partition && g.byzantine === f && g.defense === defense && g.attack === attack)
          .map((g) => cells[g.key]?.result).filter((r): r is CellResult => r !== undefined);
      const metric = (defense: string, attack: string, pick: (r: CellResult) => number | null | undefined): number | null => {
        const rs = results(defense, attack);
        if (rs.length === 0) return null;
        const vs = rs.map(pick);
        if (vs.some((v) => v === null || v === undefined)) {
          // A stopped run (NaN/Inf under the mean) shows as NaN, not as a missing cell.
          return rs.some((r) => r.stoppedAtRound !== undefined) ? NaN : null;
        }
        return mean(vs as number[]);
      };
      const images: ReportImage[] = [];
      const addHeatmap = async (file: string, title: string, cols: string[], pick: (r: CellResult) => number | null | undefined, o: { pct?: boolean; good: 'good-high' | 'good-low'; domain?: [number, number] }): Promise<void> => {
        const values = rows.map((d) => cols.map((a) => metric(d, a, pick)));
        const png = await heatmap(rows, cols, values, {
          title, rowTitle: 'defense', colTitle: 'attack', colorScale: o.good,
          ...(o.domain ? { domain: o.domain } : {}),
          ...(o.pct ? { format: (v: number) => (Number.isNaN(v) ? 'NaN' : `${(100 * v).toFixed(1)}`) } : { format: (v: number) => (Number.isNaN(v) ? 'NaN' : v.toFixed(1)) }),
        });
        await writeFileAtomic(path.join(outDir, file), png);
        images.push({ path: file, caption: title });
      };
      const suffix = gname ? ` (${gname})` : '';
      await addHeatmap(`heatmap-${tag}accuracy.png`, `Final test accuracy (%)${suffix}`, poisonCols, (r) => r.finalAccuracy, { pct: true, good: 'good-high', domain: [0, 1] });
      if (backdoorCols.length > 0) {
        await addHeatmap(`heatmap-${tag}asr.png`, `Backdoor attack success rate, final model (%)${suffix}`, backdoorCols, (r) => r.attackSuccessRate, { pct: true, good: 'good-low', domain: [0, 1] });
        await addHeatmap(`heatmap-${tag}asr-sampled.png`, `Backdoor ASR in the rounds an attacker was sampled, mean (%)${suffix}`, backdoorCols, (r) => r.attackSuccessRateWhenSampled, { pct: true, good: 'good-low', domain: [0, 1] });
      }
      if (leakCols.length > 0) {
        await addHeatmap(`heatmap-${tag}psnr.png`, `Leakage: PSNR of the reconstruction (dB, higher = more leakage)${suffix}`, leakCols, (r) => r.psnr, { good: 'good-low' });
        await addHeatmap(`heatmap-${tag}labels.png`, `Leakage: label accuracy (%)${suffix}`, leakCols, (r) => r.labelAccuracy, { pct: true, good: 'good-low', domain: [0, 1] });
      }
      sections.push({ heading: gname ? `Heatmaps: ${gname}` : 'Heatmaps', text: config.seeds.length > 1 ? `Means over seeds ${config.seeds.join(', ')}.` : '', images });

      for (const d of rows) {
        const clean = metric(d, 'none', (r) => r.finalAccuracy);
        for (const a of ['none', ...config.attacks]) {
          const rs = results(d, a);
          if (rs.length === 0) {
            tableRows.push([partition, f, d, a, 'not run', null, null, null, null, null, null, null, null]);
            continue;
          }
          const acc = metric(d, a, (r) => r.finalAccuracy);
          const perRound = rs.length === 1 && !isLeak(a) ? rs[0]!.rounds.map((r) => (r.accuracy === null ? '—' : (100 * r.accuracy).toFixed(0))).join(' ') : '';
          const asr = isBackdoor(a) ? rs.length === 1 ? rs[0]!.rounds.map((r) => (r.attackSuccessRate == null ? '—' : (100 * r.attackSuccessRate).toFixed(0))).join(' ') : pct(metric(d, a, (r) => r.attackSuccessRate)) : '';
          const stopped = rs.find((r) => r.stopped !== undefined);
          tableRows.push([
            partition, f, d, a,
            stopped ? `stopped in round ${stopped.stoppedAtRound} (NaN/Inf)` : isLeak(a) ? null : pct(acc),
            isLeak(a) || a === 'none' || acc === null || clean === null || Number.isNaN(acc) ? null : `${((acc - clean) * 100).toFixed(1)}`,
            perRound, asr,
            isBackdoor(a) ? pct(metric(d, a, (r) => r.cleanTargetRate)) : null,
            isLeak(a) ? metric(d, a, (r) => r.psnr) === null ? null : +metric(d, a, (r) => r.psnr)!.toFixed(2) : null,
            isLeak(a) ? metric(d, a, (r) => r.ssim) === null ? null : +metric(d, a, (r) => r.ssim)!.toFixed(3) : null,
            isLeak(a) ? pct(metric(d, a, (r) => r.labelAccuracy)) : null,
            +mean(rs.map((r) => r.seconds))!.toFixed(1),
          ]);
        }
      }
    }
  }
  sections.push({
    heading: 'Cells',
    text: 'Accuracy: final test accuracy (mean over seeds); Δ clean: percentage points against the same defense without attack; ' +
      'per-round accuracy / ASR in %, one value per round (one seed); target w/o trigger: share of clean non-target test inputs the final model classifies as the backdoor target (the ASR is only a backdoor when this stays low). Leak cells: round-1 accuracy of the tiny leak setup is not a utility measure and is left out.',
    table: { headers: ['partition', 'F', 'defense', 'attack', 'accuracy', 'Δ clean (pp)', 'accuracy per round', 'ASR per round', 'target w/o trigger', 'PSNR (dB)', 'SSIM', 'label acc.', 'seconds'], rows: tableRows },
  });

  // Reconstructions of the first seed, first group.
  const leakImages: ReportImage[] = [];
  for (const g of grid) {
    if (!isLeak(g.attack) || g.partition !== config.partitions[0] || g.byzantine !== config.byzantine[0] || g.seed !== config.seeds[0]) continue;
    const rec = cells[g.key]?.result.leakRecords?.find((r) => r.images);
    if (rec?.images) {
      leakImages.push({ path: path.join('cells', g.key, rec.images.groundTruth), caption: `${g.defense} × ${g.attack}: ground truth (round ${rec.round}, client ${rec.clientId})` });
      leakImages.push({ path: path.join('cells', g.key, rec.images.reconstruction), caption: `${g.defense} × ${g.attack}: reconstruction, ${rec.psnr?.toFixed(1)} dB` });
    }
  }
  if (leakImages.length > 0) sections.push({ heading: 'Reconstructions', images: leakImages });

  const { defenses, ...rest } = config;
  sections.push({
    heading: 'Settings',
    text: `Backend ${meta.backend}. ${meta.done} of ${meta.total} cells finished${meta.done < meta.total ? ' (rerun the same command to finish the others)' : ''}.`,
    code: JSON.stringify({ defenses, ...rest }, null, 2),
  });
  await writeReport(outDir, {
    title: 'Defense × attack matrix',
    subtitle: `${config.defenses.length} defenses × ${config.attacks.length + 1} attack columns (incl. none) × F ∈ {${config.byzantine.join(', ')}} × ${config.partitions.length} partition(s) × ${config.seeds.length} seed(s); ` +
      `${config.dataset}, ${config.model}, ${config.clients} clients, C = ${config.fraction}, E = ${config.localEpochs}, B = ${config.batchSize}, lr ${config.lr}, ${config.rounds} rounds.`,
    sections,
  });
}
