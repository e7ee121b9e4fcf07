/**
 * Runs the sign-majority rule through fedattack's API: a 2-round federated run (FedAvg, 4 clients on
 * the synthetic dataset, one of them flipping and scaling its update) and prints its metrics as JSON.
 *
 *   npm run build && node dist/run.js [outDir]
 */
import { aggregatorNames, runFederatedExperiment } from 'fedattack';
import './index.js';

const outDir = process.argv[2];
const run = await runFederatedExperiment(
  {
    dataset: 'synthetic', model: 'mlp', clients: 4, fraction: 1, localEpochs: 1, rounds: 2, trainSize: 80, testSize: 40,
    attack: 'sign-flip:scale=10', byzantine: 1, aggregator: 'sign-majority', backend: 'cpu', workers: 1, seed: 0,
  },
  outDir !== undefined ? { outDir } : {},
);
process.stdout.write(`${JSON.stringify({
  registered: aggregatorNames().includes('sign-majority'),
  aggregator: run.metrics.aggregatorSpec,
  finalAccuracy: run.metrics.finalAccuracy,
  files: run.files.length,
})}\n`);
