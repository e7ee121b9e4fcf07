/**
 * Gradient leakage inside a federated run: an honest-but-curious server that attacks what it observes.
 * For the first `clients` honest clients it observes in each of the first `rounds` rounds, the observer
 * hands the Observation (and nothing else) to a leakage attack, then scores the reconstruction against
 * the client's real samples (ObservationTruth, used for scoring only) and writes the images.
 *
 * What is reconstructed: for a FedSGD gradient, the client's whole batch (numSamples images); for a
 * FedAvg update, B = the local mini-batch size images from the update read as a pseudo-gradient
 * −Δ/(lr·steps) (exact for one local step; for several steps it mixes every mini-batch of every epoch,
 * so the B reconstructions are matched one-to-one to the best of all the client's samples). A batch
 * beyond the attack's limit is skipped with the reason recorded.
 */
import path from 'node:path';
import { getLeakageAttack } from '../../attacks/leakage/index.js';
import { runAttack } from '../../attacks/leakage/run.js';
import { scoreReconstruction } from '../metrics/reconstruction.js';
import type { Dataset } from '../../datasets/index.js';
import { imageGrid } from '../io/image.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Observation, ObservationTruth, Observer } from '../fl/types.js';

export interface LeakObserverOptions {
  attack: string;
  /** Honest clients attacked per round. */
  clients: number;
  /** Rounds attacked: 1..rounds. */
  rounds: number;
  iterations?: number;
  restarts?: number;
  seed: number;
  /** The training set (for scoring and ground-truth images only). */
  train: Dataset;
  /** Where per-client images go (outDir/leak/round-R-client-K-*.png); absent: no images are written. */
  outDir?: string;
  log?: (line: string) => void;
}

export interface LeakRecord {
  round: number;
  clientId: string;
  kind: 'gradient' | 'update';
  numSamples: number;
  batch: number;
  localSteps: number;
  pseudoGradient: boolean;
  skipped?: string;
  psnr?: number;
  ssim?: number;
  mse?: number;
  labelAccuracy?: number;
  labelMultisetAccuracy?: number;
  evaluations?: number;
  seconds?: number;
  images?: { reconstruction: string; groundTruth: string };
}

export function leakageObserver(opts: LeakObserverOptions): Observer & { records: LeakRecord[] } {
  const attack = getLeakageAttack(opts.attack);
  const records: LeakRecord[] = [];
  const perRound = new Map<number, number>();
  const [h, w, c] = opts.train.shape;
  const pixels = h * w * c;
  return {
    name: `leak-${attack.name}`,
    records,
    async observe(obs: Observation, truth: ObservationTruth): Promise<void> {
      if (truth.malicious || obs.round > opts.rounds) return;
      const done = perRound.get(obs.round) ?? 0;
      if (done >= opts.clients) return;
      perRound.set(obs.round, done + 1);
      const batch = obs.kind === 'gradient' ? obs.numSamples : Math.min(obs.batchSize, obs.numSamples);
      const rec: LeakRecord = {
        round: obs.round, clientId: obs.clientId, kind: obs.kind, numSamples: obs.numSamples, batch,
        localSteps: obs.localSteps, pseudoGradient: obs.kind === 'update' && obs.localSteps > 1,
      };
      records.push(rec);
      if (batch > attack.maxBatch) {
        rec.skipped = `batch ${batch} exceeds ${attack.name}'s maximum of ${attack.maxBatch} images (use FedSGD on small clients, or a smaller --batch-size)`;
        opts.log?.(`leak: round ${obs.round} client ${obs.clientId}: skipped (${rec.skipped})`);
        return;
      }
      const run = await runAttack(attack, { ...obs, batchSize: batch }, {
        seed: opts.seed + 1009 * obs.round + truth.clientIndex,
        restarts: opts.restarts ?? 1,
        ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}),
        snapshots: 2,
      });
      const images = truth.indices.map((i) => opts.train.images.slice(i * pixels, (i + 1) * pixels));
      const labels = truth.indices.map((i) => opts.train.labels[i]!);
      const score = scoreReconstruction(run.reconstruction, { images, labels }, [h, w, c]);
      Object.assign(rec, {
        psnr: score.psnr, ssim: score.ssim, mse: score.mse, labelAccuracy: score.labelAccuracy,
        labelMultisetAccuracy: score.labelMultisetAccuracy, evaluations: run.evaluations, seconds: run.seconds,
      });
      if (opts.outDir !== undefined) {
        const stem = `round-${obs.round}-client-${obs.clientId}`;
        const recPath = path.join('leak', `${stem}-reconstruction.png`);
        const gtPath = path.join('leak', `${stem}-ground-truth.png`);
        const recImgs = score.perImage.map((p) => run.reconstruction.images.slice(p.reconstruction * pixels, (p.reconstruction + 1) * pixels));
        const gtImgs = score.perImage.map((p) => images[p.index]!);
        const scale = Math.max(1, Math.floor(96 / Math.max(h, w)));
        await writeFileAtomic(path.join(opts.outDir, recPath), await imageGrid(recImgs, h, w, c, {
          columns: Math.min(8, recImgs.length), scale, labels: score.perImage.map((p) => `${p.psnr.toFixed(1)} dB`),
        }));
        await writeFileAtomic(path.join(opts.outDir, gtPath), await imageGrid(gtImgs, h, w, c, {
          columns: Math.min(8, gtImgs.length), scale, labels: score.perImage.map((p) => `label ${p.trueLabel}`),
        }));
        rec.images = { reconstruction: recPath, groundTruth: gtPath };
      }
      opts.log?.(`leak: round ${obs.round} client ${obs.clientId}: ${attack.name} PSNR ${score.psnr.toFixed(2)} dB, labels ${(100 * score.labelAccuracy).toFixed(0)}%`);
    },
    finish: () => records,
  };
}
