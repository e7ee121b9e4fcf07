/**
 * `fedattack check`: can this backend be trusted with gradients of gradients? Runs the standard
 * first/second-order gradient checks (finite differences on cpu; cpu autodiff as the reference
 * elsewhere) and the PyTorch float64 oracle for the DLG objective (batch 1 and 4), prints a table and
 * exits 0 only if everything passes.
 */
import type { Argv } from 'yargs';
import { tf } from '../../engine/tf.js';
import { describeChoice, selectBackend } from '../../engine/backend.js';
import { standardCases } from '../../verify/checks.js';
import { runCheck, type CheckResult } from '../../verify/gradcheck.js';
import { compareWithOracle, loadOracle, type OracleComparison } from '../../verify/oracle.js';
import { withCommonOptions, type CommonArgs } from '../options.js';

export interface CheckReport {
  backend: string;
  backendDetail: string;
  gradients: CheckResult[];
  oracle: (OracleComparison & { tol: number; pass: boolean })[];
  pass: boolean;
  seconds: number;
}

/** Oracle tolerance (relative): 1e-4 on cpu; 1e-3 elsewhere (float32 sums in another order). */
export function oracleTolerance(backend: string): number {
  return backend === 'cpu' ? 1e-4 : 1e-3;
}

export async function runChecks(seed: number, onRow?: (line: string) => void): Promise<Omit<CheckReport, 'backendDetail'>> {
  const t0 = performance.now();
  const backend = tf.getBackend();
  const gradients: CheckResult[] = [];
  for (const c of await standardCases(7 + seed)) {
    const r = await runCheck(c, 1 + seed);
    gradients.push(r);
    onRow?.(formatCheckRow(r));
  }
  const tol = oracleTolerance(backend);
  const oracle: (OracleComparison & { tol: number; pass: boolean })[] = [];
  for (const b of [1, 4] as const) {
    const cmp = await compareWithOracle(loadOracle(b));
    const worst = Math.max(cmp.targetGradRelError, cmp.objectiveRelError, cmp.dxRelError, cmp.dyRelError);
    const row = { ...cmp, tol, pass: worst <= tol };
    onRow?.(formatOracleRow(row));
    oracle.push(row);
  }
  const pass = gradients.every((g) => g.pass) && oracle.every((o) => o.pass);
  return { backend, gradients, oracle, pass, seconds: (performance.now() - t0) / 1000 };
}

const COLS = ['check', 'order', 'reference', 'autodiff', 'expected', 'rel.err', 'tol', 'result', 'ms'];
const WIDTHS = [34, 5, 19, 13, 13, 9, 7, 6, 6];

function row(cells: string[]): string {
  return cells.map((c, i) => (i >= 3 ? c.padStart(WIDTHS[i]!) : c.padEnd(WIDTHS[i]!))).join('  ');
}

export function tableHeader(): string {
  return `${row(COLS)}\n${WIDTHS.map((w) => '-'.repeat(w)).join('  ')}`;
}

function formatCheckRow(r: CheckResult): string {
  const num = (v: number): string => (Number.isFinite(v) ? v.toPrecision(7) : String(v));
  const line = row([
    r.name, String(r.order), r.reference, num(r.autodiff), num(r.expected),
    Number.isFinite(r.relError) ? r.relError.toExponential(1) : 'n/a', r.tol.toExponential(0), r.pass ? 'ok' : 'FAIL', r.ms.toFixed(0),
  ]);
  return r.error ? `${line}\n    error: ${r.error}` : line;
}

function formatOracleRow(o: OracleComparison & { tol: number; pass: boolean }): string {
  const worst = Math.max(o.targetGradRelError, o.objectiveRelError, o.dxRelError, o.dyRelError);
  return row([
    `PyTorch oracle DLG LeNet B=${o.batch}`, '2', 'PyTorch float64', o.objective.toPrecision(7), 'obj,∇x,∇y,∇θ',
    worst.toExponential(1), o.tol.toExponential(0), o.pass ? 'ok' : 'FAIL', o.ms.toFixed(0),
  ]);
}

export function checkCommand(y: Argv): Argv {
  return y.command(
    'check',
    'verify first- and second-order gradients on the chosen backend (finite differences + PyTorch oracle)',
    (b) => withCommonOptions(b),
    async (argv) => {
      const a = argv as unknown as CommonArgs;
      const choice = await selectBackend(a.backend);
      const log = a.json ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => process.stdout.write(`${s}\n`);
      log(describeChoice(choice));
      log(tableHeader());
      const report = await runChecks(a.seed, log);
      const failed = report.gradients.filter((g) => !g.pass).length + report.oracle.filter((o) => !o.pass).length;
      const total = report.gradients.length + report.oracle.length;
      log(`\n${total - failed} passed, ${failed} failed on ${report.backend} in ${report.seconds.toFixed(1)} s`);
      if (a.json) process.stdout.write(`${JSON.stringify({ ...report, backendDetail: choice.detail }, null, 2)}\n`);
      if (!report.pass) process.exitCode = 1;
    },
  );
}
