/**
 * `fedattack datasets list` and `fedattack datasets download NAME` (for users with internet: MNIST,
 * Fashion-MNIST, CIFAR-10/100 from the usual public mirrors, or from --base-url).
 */
import type { Argv } from 'yargs';
import { defaultDataDir, downloadDataset, listDatasets } from '../../../datasets/index.js';

export function datasetsCommand(y: Argv): Argv {
  return y.command('datasets <action> [name]', 'list the datasets, or download one (needs internet)', (b) =>
    b.positional('action', { choices: ['list', 'download'] as const, describe: 'list | download' })
      .positional('name', { type: 'string', describe: 'dataset to download' })
      .option('data-dir', { type: 'string', describe: 'where datasets live (default $FEDATTACK_DATA_DIR or ./data)' })
      .option('base-url', { type: 'string', describe: 'fetch from this URL (a directory) instead of the public mirrors' })
      .option('force', { type: 'boolean', default: false, describe: 'download even if the files already load' }),
  async (argv) => {
    const a = argv as unknown as { action: 'list' | 'download'; name?: string; dataDir?: string; baseUrl?: string; force: boolean };
    if (a.action === 'list') {
      for (const d of listDatasets()) {
        process.stdout.write(`${d.name.padEnd(14)} ${d.description}${d.aliases.length ? ` (aliases: ${d.aliases.join(', ')})` : ''}\n` +
          `${''.padEnd(14)} files: ${d.files || 'none (generated)'}${d.downloadable ? '; downloadable' : ''}\n`);
      }
      return;
    }
    if (a.name === undefined) throw new (await import('../../core/errors.js')).UserError('datasets download needs a dataset name (see `fedattack datasets list`)');
    const dir = a.dataDir ?? defaultDataDir();
    const r = await downloadDataset(a.name, dir, {
      baseUrl: a.baseUrl, force: a.force, log: (m) => process.stderr.write(`${m}\n`),
    });
    process.stdout.write(`${a.name}: ${r.skipped ? 'already present' : 'downloaded'} in ${r.dir} (${r.trainSamples} train, ${r.testSamples} test samples)\n`);
  });
}
