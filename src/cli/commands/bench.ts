/**
 * `fedattack bench` (also `npm run bench`): flags → {@link BenchSettings} → runBench
 * (src/experiments/bench.ts, the suites and what they time) → the timings table on stdout (bench.json
 * with --json).
 */
import type { Argv } from 'yargs';
import { markdownTable } from '../../io/report.js';
import { BENCH_DEFAULTS, benchTable, runBench, SUITES, type BenchSettings } from '../../experiments/bench.js';
import { withCommonOptions, type CommonArgs } from '../options.js';

export function benchCommand(y: Argv): Argv {
  const d = BENCH_DEFAULTS;
  return y.command(
    'bench',
    'time DLG evaluations, DLG to 40 dB, FedAvg local steps and rounds, ConvNet steps per backend (with a PyTorch reference when available)',
    (b) => withCommonOptions(b)
      .option('backends', { type: 'string', default: d.backends, describe: 'comma-separated backends to time (auto, tensorflow, webgpu, wasm, cpu)' })
      .option('batches', { type: 'string', default: d.batches, describe: 'DLG batch sizes' })
      .option('suites', { type: 'string', default: d.suites, describe: `what to time: ${SUITES.join(', ')}` })
      .option('oracle-budget', { type: 'number', default: d.oracleBudget, describe: 'oracle suite: seconds allowed per backend to reach 40 dB' })
      .option('convnet-width', { type: 'number', default: d.convnetWidth, describe: 'convnet-step suite: ConvNet width (Inverting Gradients used 64)' })
      .option('torch', { type: 'string', default: d.torch, describe: "PyTorch reference: auto (python3 with torch, if any), off, or a python executable" })
      .option('torch-device', { type: 'string', default: d.torchDevice, describe: 'PyTorch reference device(s), comma-separated: cpu (1 thread), cuda' }),
    async (argv) => {
      const a = argv as unknown as CommonArgs & BenchSettings;
      const { result, outDir } = await runBench(a, {
        ...(a.out !== undefined ? { outDir: a.out } : {}),
        ...(a.json ? {} : { log: (s: string): void => void process.stdout.write(`${s}\n`) }),
      });
      if (a.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        const t = benchTable(result.rows);
        process.stdout.write(`report: ${outDir}/report.md\n${markdownTable(t.headers.slice(0, 6), t.rows.map((r) => r.slice(0, 6)))}\n`);
      }
    },
  );
}
