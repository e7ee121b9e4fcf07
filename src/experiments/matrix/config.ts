/**
 * `fedattack matrix` configuration: parsing, validation (every mistake is one UserError line, raised
 * before any cell runs), expansion into cells, and the stable key of a cell.
 *
 * A config (JSON or YAML) holds the axes of the matrix and the shared settings:
 * ```yaml
 * defenses: [mean, median, {name: median+pgd, aggregator: median, clientDefense: "pgd:epsilon=0.1"}]
 * attacks: ["gaussian:sigma=10", alie, ipm, model-replacement, "leak:idlg"]   # "none" is added
 * byzantine: [2]              # F, number or list
 * partitions: [iid, "dirichlet:alpha=0.5"]
 * seeds: [0]
 * dataset: synthetic; model: mlp; clients: 20; fraction: 0.5; rounds: 3; ...
 * leakage: {batch: 1, clients: 1, rounds: 1, iterations: 100}
 * ```
 * Cells: for every partition × seed × byzantine × defense, one cell per poisoning attack (F malicious
 * clients), one clean cell (attack "none": the same defense, assuming F, with no malicious client) and
 * one cell per leakage attack (all clients honest, the server attacks what it observes). The key of a
 * cell is a hash of its complete settings (shared settings included), so a changed config never reuses
 * a result computed under other settings.
 */
import { createHash } from 'node:crypto';
import { buildAttack, isBackdoor as isBackdoorAttack } from '../../../attacks/poisoning/index.js';
import { leakageAttackNames, getLeakageAttack } from '../../../attacks/leakage/index.js';
import { buildAggregator } from '../../../defenses/aggregation/index.js';
import { canonicalDatasetName } from '../../../datasets/index.js';
import { modelNames } from '../../models/index.js';
import { clientsPerRound } from '../../fl/server.js';
import { formatPartition, parsePartition } from '../../fl/partition.js';
import { clientDefenseKind } from '../federated.js';
import { UserError } from '../../core/errors.js';

/** Bumped when the meaning of a cell's settings or result changes (old cells are then not reused). */
export const CELL_VERSION = 1;

export class MatrixConfigError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Defaults: small enough that a matrix of a few dozen cells runs in minutes on 2 cores. */
export const MATRIX_DEFAULTS = {
  dataset: 'synthetic',
  model: 'mlp',
  clients: 20,
  fraction: 0.5,
  localEpochs: 1,
  batchSize: 10,
  lr: 0.1,
  rounds: 3,
  trainSize: 2000,
  testSize: 500,
  byzantine: [2] as number[],
  partitions: ['iid'] as string[],
  seeds: [0] as number[],
  leakage: { batch: 1, clients: 1, rounds: 1, iterations: 100, restarts: 1 },
} as const;

export interface DefenseSpec {
  /** Row label. */
  name: string;
  aggregator: string;
  clientDefense?: string;
}

export interface LeakageSettings {
  batch: number;
  clients: number;
  rounds: number;
  iterations: number;
  restarts: number;
}

export interface MatrixConfig {
  defenses: DefenseSpec[];
  /** Poisoning specs and leak:NAME, in the order given ("none" not included). */
  attacks: string[];
  byzantine: number[];
  partitions: string[];
  seeds: number[];
  dataset: string;
  dataDir?: string;
  model: string;
  clients: number;
  fraction: number;
  localEpochs: number;
  batchSize: number;
  lr: number;
  rounds: number;
  trainSize?: number;
  testSize?: number;
  leakage: LeakageSettings;
}

export type CellKind = 'clean' | 'poison' | 'leak';

/** Everything that determines a cell's result. */
export interface CellSettings {
  version: number;
  kind: CellKind;
  backend: string;
  defense: DefenseSpec;
  /** 'none', a poisoning spec, or 'leak:NAME'. */
  attack: string;
  /** F: malicious clients (poison cells) and the F the defense assumes (all cells). */
  byzantine: number;
  partition: string;
  seed: number;
  dataset: string;
  dataDir?: string;
  model: string;
  clients: number;
  fraction: number;
  localEpochs?: number;
  batchSize?: number;
  lr: number;
  rounds?: number;
  trainSize?: number;
  testSize?: number;
  leakage?: LeakageSettings;
}

export interface Cell {
  key: string;
  settings: CellSettings;
}

const KNOWN_KEYS = new Set([
  'defenses', 'attacks', 'byzantine', 'partitions', 'partition', 'seeds', 'seed', 'dataset', 'dataDir', 'model', 'clients', 'fraction',
  'localEpochs', 'batchSize', 'lr', 'rounds', 'trainSize', 'testSize', 'leakage',
  // loaded by the CLI before the config is read (src/cli/options.ts pluginsFromArgs)
  'plugins',
]);

export { clientDefenseKind } from '../federated.js';

export function isLeak(attack: string): boolean {
  return attack.startsWith('leak:');
}

export function leakName(attack: string): string {
  return attack.slice('leak:'.length);
}

/** Whether a poisoning spec builds a backdoor attack (its `backdoor` capability): those report an attack success rate. */
export function isBackdoor(attack: string): boolean {
  if (isLeak(attack) || attack.trim() === 'none') return false;
  try {
    return isBackdoorAttack(buildAttack(attack));
  } catch {
    return false;
  }
}

function num(name: string, v: unknown, o: { min?: number; max?: number; integer?: boolean; above?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new MatrixConfigError(`${name} must be a finite number, got ${JSON.stringify(v)}`);
  if (o.integer && !Number.isInteger(v)) throw new MatrixConfigError(`${name} must be an integer, got ${v}`);
  if (o.min !== undefined && v < o.min) throw new MatrixConfigError(`${name} must be ≥ ${o.min}, got ${v}`);
  if (o.above !== undefined && !(v > o.above)) throw new MatrixConfigError(`${name} must be > ${o.above}, got ${v}`);
  if (o.max !== undefined && v > o.max) throw new MatrixConfigError(`${name} must be ≤ ${o.max}, got ${v}`);
  return v;
}

function list<T>(name: string, v: unknown, fallback: readonly T[]): unknown[] {
  if (v === undefined) return [...fallback];
  const arr = Array.isArray(v) ? v : [v];
  if (arr.length === 0) throw new MatrixConfigError(`${name} must not be empty`);
  return arr;
}

function str(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new MatrixConfigError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v.trim();
}

/** Validates a raw config object (from JSON/YAML) completely; throws MatrixConfigError/SpecError (one line). */
export function parseMatrixConfig(raw: Record<string, unknown>): MatrixConfig {
  for (const k of Object.keys(raw)) {
    if (!KNOWN_KEYS.has(k)) throw new MatrixConfigError(`unknown config key "${k}"; valid keys: ${[...KNOWN_KEYS].join(', ')}`);
  }
  const d = MATRIX_DEFAULTS;
  const dataset = canonicalDatasetName(raw['dataset'] === undefined ? d.dataset : str('dataset', raw['dataset']));
  const model = raw['model'] === undefined ? d.model : str('model', raw['model']);
  if (!modelNames().includes(model)) throw new MatrixConfigError(`model must be one of ${modelNames().join(', ')}, got "${model}"`);
  const clients = num('clients', raw['clients'] ?? d.clients, { min: 1, integer: true });
  const fraction = num('fraction', raw['fraction'] ?? d.fraction, { above: 0, max: 1 });
  const localEpochs = num('localEpochs', raw['localEpochs'] ?? d.localEpochs, { min: 1, integer: true });
  const batchSize = num('batchSize', raw['batchSize'] ?? d.batchSize, { min: 0, integer: true });
  const lr = num('lr', raw['lr'] ?? d.lr, { above: 0 });
  const rounds = num('rounds', raw['rounds'] ?? d.rounds, { min: 1, integer: true });
  const trainSize = raw['trainSize'] === null ? undefined : num('trainSize', raw['trainSize'] ?? d.trainSize, { min: 1, integer: true });
  const testSize = raw['testSize'] === null ? undefined : num('testSize', raw['testSize'] ?? d.testSize, { min: 1, integer: true });
  const seeds = list('seeds', raw['seeds'] ?? raw['seed'], d.seeds).map((s, i) => num(`seeds[${i}]`, s, { min: 0, integer: true }));
  const byzantine = list('byzantine', raw['byzantine'], d.byzantine).map((f, i) => num(`byzantine[${i}]`, f, { min: 0, max: clients, integer: true }));
  const partitions = list('partitions', raw['partitions'] ?? raw['partition'], d.partitions).map((p, i) => {
    return formatPartition(parsePartition(str(`partitions[${i}]`, p)));
  });

  // Defenses: an aggregator spec, or {name?, aggregator?, clientDefense?}.
  if (raw['defenses'] === undefined) throw new MatrixConfigError('the config needs "defenses": a list of aggregator specs or {name, aggregator, clientDefense} rows');
  const defenses: DefenseSpec[] = list('defenses', raw['defenses'], []).map((e, i) => {
    let def: DefenseSpec;
    if (typeof e === 'string') def = { name: e.trim(), aggregator: str(`defenses[${i}]`, e) };
    else if (e !== null && typeof e === 'object' && !Array.isArray(e)) {
      const o = e as Record<string, unknown>;
      for (const k of Object.keys(o)) if (!['name', 'aggregator', 'clientDefense'].includes(k)) throw new MatrixConfigError(`defenses[${i}]: unknown key "${k}" (valid: name, aggregator, clientDefense)`);
      const aggregator = o['aggregator'] === undefined ? 'mean' : str(`defenses[${i}].aggregator`, o['aggregator']);
      def = { name: '', aggregator };
      if (o['clientDefense'] !== undefined) def.clientDefense = str(`defenses[${i}].clientDefense`, o['clientDefense']);
      def.name = o['name'] !== undefined ? str(`defenses[${i}].name`, o['name']) : def.clientDefense ? `${aggregator} + ${def.clientDefense}` : aggregator;
    } else throw new MatrixConfigError(`defenses[${i}] must be an aggregator spec or an object {name, aggregator, clientDefense}`);
    // Spec, precondition (e.g. Krum n ≥ 2f+3 with the clients sampled per round) for every F.
    const m = clientsPerRound(clients, fraction);
    for (const f of byzantine) {
      const agg = buildAggregator(def.aggregator, { numByzantine: f, seed: 0 });
      try {
        agg.checkClients(m);
      } catch (err) {
        throw new MatrixConfigError(`defense "${def.name}" with byzantine ${f}: ${(err as Error).message} (${m} clients per round = round(fraction·clients))`);
      }
    }
    if (def.clientDefense !== undefined) clientDefenseKind(def.clientDefense);
    return def;
  });
  const names = defenses.map((x) => x.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new MatrixConfigError(`two defenses are named "${dup}"; give them distinct names`);

  // Attacks: poisoning specs and leak:NAME.
  if (raw['attacks'] === undefined) throw new MatrixConfigError('the config needs "attacks": a list of poisoning specs and leak:dlg / leak:idlg');
  const attacks = list('attacks', raw['attacks'], []).map((a, i) => {
    const text = str(`attacks[${i}]`, a);
    if (text === 'none') return text;
    if (isLeak(text) || leakageAttackNames().includes(text)) {
      const name = isLeak(text) ? leakName(text) : text;
      if (!leakageAttackNames().includes(name)) throw new MatrixConfigError(`unknown leakage attack "${name}" in "${text}"; valid: ${leakageAttackNames().map((n) => `leak:${n}`).join(', ')}`);
      return `leak:${name}`;
    }
    buildAttack(text);
    return text;
  }).filter((a) => a !== 'none');
  const poisoning = attacks.filter((a) => !isLeak(a));
  if (poisoning.length > 0 && byzantine.some((f) => f < 1)) throw new MatrixConfigError('byzantine must be ≥ 1 when poisoning attacks are listed (the number of malicious clients)');

  // Leakage.
  const lraw = raw['leakage'] ?? {};
  if (lraw === null || typeof lraw !== 'object' || Array.isArray(lraw)) throw new MatrixConfigError('leakage must be an object {batch, clients, rounds, iterations, restarts}');
  const lo = lraw as Record<string, unknown>;
  for (const k of Object.keys(lo)) if (!['batch', 'clients', 'rounds', 'iterations', 'restarts'].includes(k)) throw new MatrixConfigError(`leakage: unknown key "${k}" (valid: batch, clients, rounds, iterations, restarts)`);
  const leakage: LeakageSettings = {
    batch: num('leakage.batch', lo['batch'] ?? d.leakage.batch, { min: 1, integer: true }),
    clients: num('leakage.clients', lo['clients'] ?? d.leakage.clients, { min: 1, integer: true }),
    rounds: num('leakage.rounds', lo['rounds'] ?? d.leakage.rounds, { min: 1, integer: true }),
    iterations: num('leakage.iterations', lo['iterations'] ?? d.leakage.iterations, { min: 1, integer: true }),
    restarts: num('leakage.restarts', lo['restarts'] ?? d.leakage.restarts, { min: 1, integer: true }),
  };
  for (const a of attacks.filter(isLeak)) {
    const la = getLeakageAttack(leakName(a));
    if (leakage.batch > la.maxBatch) throw new MatrixConfigError(`leakage.batch ${leakage.batch} exceeds ${la.name}'s maximum of ${la.maxBatch} images`);
  }
  if (attacks.some(isLeak) && leakage.clients > clientsPerRound(clients, fraction)) {
    throw new MatrixConfigError(`leakage.clients ${leakage.clients} exceeds the ${clientsPerRound(clients, fraction)} clients sampled per round`);
  }
  const c: MatrixConfig = { defenses, attacks, byzantine, partitions, seeds, dataset, model, clients, fraction, localEpochs, batchSize, lr, rounds, leakage };
  if (raw['dataDir'] !== undefined) c.dataDir = str('dataDir', raw['dataDir']);
  if (trainSize !== undefined) c.trainSize = trainSize;
  if (testSize !== undefined) c.testSize = testSize;
  return c;
}

/** JSON with object keys sorted at every level (a stable text for hashing). */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function cellKey(s: CellSettings): string {
  return createHash('sha256').update(stableJson(s)).digest('hex').slice(0, 16);
}

/** Where a cell sits in the matrix (the same cell may sit in several places, e.g. a leak cell in every partition). */
export interface GridEntry {
  partition: string;
  seed: number;
  byzantine: number;
  defense: string;
  attack: string;
  key: string;
}

/** Expands the config into its cells (deduplicated by key, in a stable order) and their grid positions. */
export function expandCells(c: MatrixConfig, backend: string): { cells: Cell[]; grid: GridEntry[] } {
  const out = new Map<string, Cell>();
  const grid: GridEntry[] = [];
  const shared = {
    dataset: c.dataset, model: c.model, clients: c.clients, fraction: c.fraction, localEpochs: c.localEpochs,
    batchSize: c.batchSize, lr: c.lr, rounds: c.rounds,
    ...(c.dataDir !== undefined ? { dataDir: c.dataDir } : {}),
    ...(c.trainSize !== undefined ? { trainSize: c.trainSize } : {}),
    ...(c.testSize !== undefined ? { testSize: c.testSize } : {}),
  };
  for (const partition of c.partitions) {
    for (const seed of c.seeds) {
      for (const byzantine of c.byzantine) {
        for (const defense of c.defenses) {
          for (const attack of ['none', ...c.attacks]) {
            const kind: CellKind = attack === 'none' ? 'clean' : isLeak(attack) ? 'leak' : 'poison';
            let settings: CellSettings = { version: CELL_VERSION, kind, backend, defense, attack, byzantine, partition, seed, ...shared };
            if (kind === 'leak') {
              // Leak cells fix their own data split and local training (see cell.ts): the shared
              // partition, E, B, rounds and train size do not enter them.
              const { localEpochs: _e, batchSize: _b, rounds: _r, trainSize: _t, ...rest } = settings;
              settings = { ...rest, partition: 'iid', leakage: c.leakage } as CellSettings;
            }
            const key = cellKey(settings);
            if (!out.has(key)) out.set(key, { key, settings });
            grid.push({ partition, seed, byzantine, defense: defense.name, attack, key });
          }
        }
      }
    }
  }
  return { cells: [...out.values()], grid };
}
