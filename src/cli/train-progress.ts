/**
 * Progress bars of `fedattack train` on stderr (cli-progress): rounds, and local training.
 */
import cliProgress from 'cli-progress';

/**
 * Progress bars on stderr: rounds, and local training — the current client's local steps, or with
 * worker threads the local steps of all clients of the round started so far.
 */
export class Progress {
  private multi: cliProgress.MultiBar;
  private rounds: cliProgress.SingleBar;
  private client: cliProgress.SingleBar | null = null;
  private lastYield = 0;
  private readonly started = new Map<number, { step: number; steps: number }>();

  constructor(total: number, start: number, private readonly parallel: boolean) {
    this.multi = new cliProgress.MultiBar(
      { stream: process.stderr, hideCursor: true, clearOnComplete: false, autopadding: true, fps: 5, format: '{label} [{bar}] {value}/{total} {info}' },
      cliProgress.Presets.shades_classic,
    );
    this.rounds = this.multi.create(total, start, { label: 'rounds', info: '' });
  }

  log(line: string): void {
    this.multi.log(`${line}\n`);
  }

  clientStart(position: number, count: number, clientIndex: number, steps: number): void {
    if (this.parallel) {
      this.started.set(clientIndex, { step: 0, steps });
      const total = [...this.started.values()].reduce((a, c) => a + c.steps, 0);
      const info = `local steps, ${this.started.size}/${count} clients started`;
      if (this.client === null) this.client = this.multi.create(total, 0, { label: 'local', info });
      else {
        this.client.setTotal(total);
        this.client.update({ info });
      }
      return;
    }
    this.client?.stop();
    if (this.client) this.multi.remove(this.client);
    this.client = this.multi.create(Math.max(1, steps), 0, { label: 'client', info: `#${clientIndex} (${position + 1}/${count}), local steps` });
  }

  async step(clientIndex: number, step: number, steps: number): Promise<void> {
    if (this.client) {
      if (this.parallel) {
        this.started.set(clientIndex, { step, steps });
        this.client.update([...this.started.values()].reduce((a, c) => a + c.step, 0));
      } else {
        this.client.setTotal(steps);
        this.client.update(step);
      }
    }
    // Let the bar's timer run now and then (in-thread local training is otherwise synchronous).
    const now = performance.now();
    if (now - this.lastYield > 100) {
      this.lastYield = now;
      await new Promise((r) => setImmediate(r));
    }
  }

  roundEnd(round: number, info: string): void {
    this.rounds.update(round, { info });
    this.started.clear();
  }

  stop(): void {
    this.client?.stop();
    this.multi.stop();
  }
}
