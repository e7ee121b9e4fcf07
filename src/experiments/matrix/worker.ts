/**
 * Child process of `fedattack matrix --workers N`: runs the cells it is sent, one at a time, and sends
 * each result back. Messages: out {type:'ready'} once the plug-ins are loaded; in {type:'run', key, settings, outDir};
 * out {type:'done', key, result} or
 * {type:'failed', key, message, userError}. Every cell is a function of its settings alone, so which
 * worker runs it does not change its result. Components registered by the parent's plug-ins are
 * rebuilt by name here after the same plug-ins are loaded (src/core/pool.ts, loadWorkerPlugins).
 */
import { isUserError } from '../../core/errors.js';
import { loadWorkerPlugins } from '../../core/pool.js';
import { runMatrixCell } from './cell.js';
import type { CellSettings } from './config.js';

interface RunMessage {
  type: 'run';
  key: string;
  settings: CellSettings;
  outDir: string;
}

if (process.send === undefined) {
  process.stderr.write('fedattack matrix worker: must be started by `fedattack matrix` (no IPC channel)\n');
  process.exit(2);
}

// The parent's plug-ins (FEDATTACK_PLUGINS, set by processEndpoint) load before the first cell runs;
// a plug-in that fails to load fails every cell with its message.
const plugins = loadWorkerPlugins();
plugins.then(
  () => process.send!({ type: 'ready' }),
  (e: unknown) => process.send!({ type: 'error', message: (e as Error)?.message ?? String(e) }),
);
let queue: Promise<void> = Promise.resolve();
process.on('message', (m: RunMessage | { type: 'exit' }) => {
  if (m.type === 'exit') {
    queue.then(() => process.exit(0), () => process.exit(0));
    return;
  }
  queue = queue.then(async () => {
    try {
      await plugins;
      const result = await runMatrixCell(m.settings, m.outDir);
      process.send!({ type: 'done', key: m.key, result });
    } catch (e) {
      const err = e as Error;
      process.send!({ type: 'failed', key: m.key, message: err?.message ?? String(e), userError: isUserError(e), stack: err?.stack });
    }
  });
});
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: the parent decides (it stops the workers and keeps matrix.json valid).
process.on('SIGINT', () => {});
