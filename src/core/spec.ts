/**
 * The component syntax used on every command line and in every config file:
 *
 * ```
 * spec      := component ( '+' component )*          (chains only where the registry allows them)
 * component := NAME [ ':' key '=' value ( ',' key '=' value )* ]
 * ```
 *
 * Examples: `median`, `gaussian:sigma=100`, `trimmed-mean:beta=0.2`, `norm-clip:bound=5,noise=0.01`,
 * `clip:bound=5+median` (pre-aggregation chain: clip every update, then take the coordinate-wise
 * median). A boolean parameter may be written bare (`foo:verbose` = `foo:verbose=true`).
 *
 * Every component declares its parameters (type number | int | boolean | string, default, description,
 * bounds, choices); `parseSpec` checks names, keys and values against those declarations and returns
 * typed values with the defaults filled in. Every mistake is a `SpecError` with one line that says what
 * was wrong and lists the valid options, so that `--aggregator medain` tells the user what to type.
 * `describeRegistry` prints the same declarations for `--help` and `fedattack list`.
 */
import { UserError } from './errors.js';

export type ParamType = 'number' | 'int' | 'boolean' | 'string';
export type ParamValue = number | boolean | string;
export type ParamValues = Readonly<Record<string, ParamValue>>;

/** One declared parameter of a component. */
export interface ParamDecl {
  readonly type: ParamType;
  /** Value used when the spec does not give the key. Absent: see `required` and `defaultText`. */
  readonly default?: ParamValue;
  /**
   * Describes a default that the caller fills in at build time (e.g. "the run's --byzantine"). Such a
   * parameter is left out of `ParsedComponent.values` when the spec does not give it.
   */
  readonly defaultText?: string;
  /** The spec must give this key. */
  readonly required?: boolean;
  readonly description: string;
  /** Inclusive bounds for number and int. */
  readonly min?: number;
  readonly max?: number;
  /** Exclusive bounds for number and int. */
  readonly above?: number;
  readonly below?: number;
  /** Allowed values of a string parameter. */
  readonly choices?: readonly string[];
}

/** A named component (an aggregator, an attack...) and its parameters, in display order. */
export interface ComponentDecl {
  readonly name: string;
  /** One line for listings. */
  readonly summary: string;
  readonly params: Readonly<Record<string, ParamDecl>>;
  /** Free-form role label shown in listings, e.g. 'pre-aggregator'. */
  readonly role?: string;
}

/** A set of components that share a namespace on the command line. */
export interface Registry {
  /** Singular noun for messages: 'aggregator', 'attack'. */
  readonly kind: string;
  readonly components: readonly ComponentDecl[];
  /** Whether `a+b+c` chains are allowed. */
  readonly chain?: boolean;
  /** An example shown by describeRegistry. */
  readonly example?: string;
}

/** One component of a parsed spec. */
export interface ParsedComponent {
  readonly name: string;
  /** Typed values: every given key plus every declared `default`. */
  readonly values: Readonly<Record<string, ParamValue>>;
  /** The keys the text gave explicitly, in the order given. */
  readonly given: readonly string[];
  /** The declaration it was checked against. */
  readonly decl: ComponentDecl;
}

/** A spec that does not parse or does not validate; user-facing, one line. */
export class SpecError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/**
 * Parse `text` against `registry`. Returns one ParsedComponent per `+`-separated component (exactly
 * one unless the registry allows chains). Throws SpecError on any unknown name or key, duplicate key,
 * missing required key, or value of the wrong type or out of bounds.
 */
export function parseSpec(text: string, registry: Registry): ParsedComponent[] {
  const kind = registry.kind;
  const trimmed = text.trim();
  if (trimmed === '') throw new SpecError(`empty ${kind} spec; valid ${kind}s: ${names(registry)}`);
  const parts = splitChain(trimmed);
  if (parts.length > 1 && registry.chain !== true) {
    throw new SpecError(`"${trimmed}": ${kind}s cannot be chained with '+'; give one of: ${names(registry)}`);
  }
  return parts.map((part) => parseComponent(part, registry, trimmed));
}

/** Canonical text of parsed components: the explicitly given keys, in declaration order. */
export function formatSpec(parsed: readonly ParsedComponent[]): string {
  return parsed
    .map((p) => {
      const keys = Object.keys(p.decl.params).filter((k) => p.given.includes(k));
      return keys.length === 0 ? p.name : `${p.name}:${keys.map((k) => `${k}=${String(p.values[k])}`).join(',')}`;
    })
    .join('+');
}

/**
 * `name:key=value,...` listing the values that differ from their declared defaults (and every value of
 * a parameter without a default, such as f), in declaration order: the name a component reports.
 */
export function canonicalSpec(decl: ComponentDecl, values: Readonly<Record<string, ParamValue | undefined>>): string {
  const keys = Object.keys(decl.params).filter((k) => values[k] !== undefined && values[k] !== decl.params[k]!.default);
  return keys.length === 0 ? decl.name : `${decl.name}:${keys.map((k) => `${k}=${String(values[k])}`).join(',')}`;
}

/** Human-readable listing of every component, its parameters, types, bounds and defaults. */
export function describeRegistry(registry: Registry): string {
  const lines: string[] = [];
  const header = `${registry.kind}s` + (registry.chain === true ? ` (chain pre-steps with '+')` : '');
  lines.push(`${header}:`);
  if (registry.example !== undefined) lines.push(`  syntax: NAME[:key=value,...]   e.g. ${registry.example}`);
  const width = Math.max(...registry.components.map((c) => c.name.length));
  for (const c of registry.components) {
    const role = c.role !== undefined ? ` [${c.role}]` : '';
    lines.push(`  ${c.name.padEnd(width)}  ${c.summary}${role}`);
    const keys = Object.keys(c.params);
    const kw = Math.max(0, ...keys.map((k) => k.length));
    for (const k of keys) {
      const d = c.params[k]!;
      lines.push(`  ${' '.repeat(width)}    ${k.padEnd(kw)}  ${typeText(d)}; ${defaultText(d)}. ${d.description}`);
    }
  }
  return lines.join('\n');
}

/** Describe one parameter's type and bounds, e.g. "int >= 0", "number in (0, 0.5)". */
export function typeText(d: ParamDecl): string {
  if (d.type === 'string' && d.choices !== undefined) return `one of ${d.choices.join('|')}`;
  const bounds: string[] = [];
  if (d.min !== undefined) bounds.push(`>= ${d.min}`);
  if (d.above !== undefined) bounds.push(`> ${d.above}`);
  if (d.max !== undefined) bounds.push(`<= ${d.max}`);
  if (d.below !== undefined) bounds.push(`< ${d.below}`);
  return bounds.length === 0 ? d.type : `${d.type} ${bounds.join(', ')}`;
}

function defaultText(d: ParamDecl): string {
  if (d.required === true) return 'required';
  if (d.default !== undefined) return `default ${String(d.default)}`;
  if (d.defaultText !== undefined) return `default: ${d.defaultText}`;
  return 'optional';
}

/**
 * Split at every '+' except the sign of a number's exponent (a '+' between "<digit>e" and a digit):
 * `clip:bound=1e+3+median` is `clip:bound=1e+3` then `median`. Values cannot contain other '+'.
 */
function splitChain(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '+') continue;
    const exponent = /[0-9.][eE]$/.test(text.slice(Math.max(start, i - 2), i)) && /^[0-9]/.test(text.slice(i + 1));
    if (exponent) continue;
    parts.push(text.slice(start, i));
    start = i + 1;
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

function parseComponent(part: string, registry: Registry, whole: string): ParsedComponent {
  const kind = registry.kind;
  if (part === '') throw new SpecError(`"${whole}": empty component in a '+' chain; valid ${kind}s: ${names(registry)}`);
  const colon = part.indexOf(':');
  const name = (colon < 0 ? part : part.slice(0, colon)).trim();
  if (!NAME_RE.test(name)) throw new SpecError(`"${part}": "${name}" is not a ${kind} name; valid ${kind}s: ${names(registry)}`);
  const decl = registry.components.find((c) => c.name === name);
  if (decl === undefined) {
    const hint = suggest(name, registry.components.map((c) => c.name));
    throw new SpecError(`unknown ${kind} "${name}"${hint}; valid ${kind}s: ${names(registry)}`);
  }
  const values: Record<string, ParamValue> = {};
  const given: string[] = [];
  const body = colon < 0 ? '' : part.slice(colon + 1).trim();
  if (colon >= 0 && body === '') throw new SpecError(`"${part}": nothing after ':'; ${paramList(decl)}`);
  for (const raw of body === '' ? [] : body.split(',')) {
    const item = raw.trim();
    if (item === '') throw new SpecError(`"${part}": empty parameter (stray ','); ${paramList(decl)}`);
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim();
    const p = decl.params[key];
    if (p === undefined) {
      const hint = suggest(key, Object.keys(decl.params));
      throw new SpecError(`unknown parameter "${key}" for ${kind} ${name}${hint}; ${paramList(decl)}`);
    }
    if (given.includes(key)) throw new SpecError(`"${part}": parameter ${key} given twice`);
    let valueText: string;
    if (eq < 0) {
      if (p.type !== 'boolean') throw new SpecError(`${name}:${key} needs a value (${key}=...); ${key} is ${typeText(p)}`);
      valueText = 'true';
    } else {
      valueText = item.slice(eq + 1).trim();
    }
    values[key] = parseValue(valueText, p, `${name}:${key}`);
    given.push(key);
  }
  for (const [key, p] of Object.entries(decl.params)) {
    if (key in values) continue;
    if (p.required === true) throw new SpecError(`${kind} ${name} needs ${key}=<${typeText(p)}> (${p.description}); e.g. ${name}:${key}=...`);
    if (p.default !== undefined) values[key] = p.default;
  }
  return { name, values, given, decl };
}

/** Parse and check one value against its declaration; `where` names it in messages ("krum:f"). */
export function parseValue(text: string, p: ParamDecl, where: string): ParamValue {
  const bad = (why: string): SpecError => new SpecError(`${where} must be ${typeText(p)}, got "${text}"${why}`);
  switch (p.type) {
    case 'boolean': {
      const t = text.toLowerCase();
      if (TRUE_WORDS.has(t)) return true;
      if (FALSE_WORDS.has(t)) return false;
      throw bad(' (use true or false)');
    }
    case 'string': {
      if (text === '') throw bad('');
      if (p.choices !== undefined && !p.choices.includes(text)) throw bad('');
      return text;
    }
    case 'number':
    case 'int': {
      if (!NUMBER_RE.test(text)) throw bad('');
      const v = Number(text);
      if (!Number.isFinite(v)) throw bad(' (not finite)');
      if (p.type === 'int' && !Number.isInteger(v)) throw bad(' (not an integer)');
      checkBounds(v, p, bad);
      return v;
    }
  }
}

function checkBounds(v: number, p: ParamDecl, bad: (why: string) => SpecError): void {
  if (p.min !== undefined && v < p.min) throw bad('');
  if (p.max !== undefined && v > p.max) throw bad('');
  if (p.above !== undefined && !(v > p.above)) throw bad('');
  if (p.below !== undefined && !(v < p.below)) throw bad('');
}

function names(registry: Registry): string {
  return registry.components.map((c) => c.name).join(', ');
}

function paramList(decl: ComponentDecl): string {
  const keys = Object.entries(decl.params);
  if (keys.length === 0) return `${decl.name} takes no parameters`;
  return `valid parameters of ${decl.name}: ${keys.map(([k, p]) => `${k} (${typeText(p)}, ${defaultText(p)})`).join(', ')}`;
}

/** ' (did you mean "x"?)' for the closest candidate within edit distance 2, else ''. */
function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (__, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
