/**
 * Runs idlg-cosine through fedattack's API on one built-in image and prints the score as JSON.
 *
 *   npm run build && node dist/run.js [outDir] [iterations]
 */
import { leakageAttackNames, runLeakage } from 'fedattack';
import './index.js';

const [outDir, iterations] = process.argv.slice(2);
const run = await runLeakage(
  {
    attack: 'idlg-cosine', model: 'mlp', inputSize: 8, channels: 3, batch: 1, backend: 'cpu', workers: 1, seed: 0,
    ...(iterations !== undefined ? { iterations: Number(iterations) } : {}),
  },
  outDir !== undefined ? { outDir } : {},
);
process.stdout.write(`${JSON.stringify({
  registered: leakageAttackNames().includes('idlg-cosine'),
  attack: run.metrics.attack,
  psnr: run.metrics.psnr,
  files: run.files.length,
})}\n`);
