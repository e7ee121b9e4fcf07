#!/usr/bin/env node
/**
 * fedattack — privacy and robustness attacks against federated learning, on TensorFlow.js.
 * Entry point of the `fedattack` command.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isUserError } from '../core/errors.js';
import { loadPlugin } from '../core/plugins.js';
import { pluginsFromArgs } from './options.js';
import { checkCommand } from './commands/check.js';
import { trainCommand } from './commands/train.js';
import { leakCommand } from './commands/leak.js';
import { benchCommand } from './commands/bench.js';
import { datasetsCommand } from './commands/datasets.js';
import { matrixCommand } from './commands/matrix.js';

class UsageError extends Error {}

/**
 * Runs the command line `args`. Plug-ins (`--plugin FILE`, `plugins:` in a `--config` file) are
 * loaded first, so that the commands' choice lists, `--help` and validation see their components.
 */
export async function main(args: string[]): Promise<void> {
  for (const p of pluginsFromArgs(args)) await loadPlugin(p.file, p.baseDir);
  let cli: Argv = yargs(args)
    .scriptName('fedattack')
    .usage('$0 <command> [options]')
    .strict()
    .demandCommand(1, 'name a command (see --help)')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .option('plugin', {
      type: 'string',
      requiresArg: true,
      describe: 'module that registers components (aggregators, attacks, datasets, models…), loaded first; repeatable',
    })
    .option('plugins', { hidden: true, describe: 'config-file key: plug-in modules, relative to the config file' })
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  cli = checkCommand(cli);
  cli = trainCommand(cli);
  cli = leakCommand(cli);
  cli = benchCommand(cli);
  cli = datasetsCommand(cli);
  cli = matrixCommand(cli);
  await cli.parseAsync();
}



function report(e: unknown): number {
  if (e instanceof UsageError || isUserError(e)) {
    process.stderr.write(`fedattack: error: ${(e as Error).message}\n`);
    return 2;
  }
  const err = e as Error;
  process.stderr.write(`fedattack: internal error: ${err?.message ?? String(e)}\n`);
  if (process.env['FEDATTACK_DEBUG']) process.stderr.write(`${err?.stack ?? ''}\n`);
  else process.stderr.write('(set FEDATTACK_DEBUG=1 for the stack trace; please report it)\n');
  return 70;
}

// A closed pipe (`fedattack check | head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(hideBin(process.argv)).catch((e: unknown) => {
  process.exitCode = report(e);
});
