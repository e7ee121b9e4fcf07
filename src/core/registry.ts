/**
 * Open registries: every kind of component (leakage attack, poisoning attack, aggregator, client
 * defense, dataset, model) is found by name in one {@link ComponentRegistry}, which users extend with
 * the `register…` functions of the public API or a `--plugin` module. Every choice list, `--help` text
 * and config validation is derived from the registries, so a registered component works like a
 * built-in one.
 *
 * A component is its declaration (name, one-line summary, declared parameters: see spec.ts) plus a
 * `build` function from validated parameter values (defaults filled in) and a build context to the
 * object the harness or an experiment uses:
 *
 * ```ts
 * registry.register({ name: 'my-rule', summary: 'one line', params: { k: { type: 'int', default: 2, description: '…' } },
 *   build: (values, ctx) => new MyRule(values['k'] as number) });
 * registry.build('my-rule:k=3', ctx);
 * ```
 */
import { UserError } from './errors.js';
import { describeRegistry, parseSpec, SpecError, type ComponentDecl, type ParamValue, type ParsedComponent, type Registry } from './spec.js';

/** Validated parameter values of one component: every given key plus every declared default. */
export type ComponentValues = Readonly<Record<string, ParamValue>>;

/** A registrable component: its declaration and how to build it. */
export interface Component<T, Ctx = void> extends ComponentDecl {
  build(values: ComponentValues, ctx: Ctx): T;
}

/** A name clash or malformed component at registration (a plug-in's mistake: user-facing). */
export class RegistryError extends UserError {}

const NAME = /^[a-z][a-z0-9-]*$/;
const PARAM_TYPES = new Set<unknown>(['number', 'int', 'boolean', 'string']);

/**
 * Registries live on `globalThis` under one symbol, keyed by kind: a plug-in that imports its own copy
 * of fedattack (a packed install beside the CLI's) still registers into the registries the CLI reads.
 */
const SHARED = Symbol.for('fedattack.registries');
type SharedTable = Map<string, ComponentRegistry<unknown, unknown, Component<unknown, unknown>>>;
function sharedTable(): SharedTable {
  const g = globalThis as { [SHARED]?: SharedTable };
  return (g[SHARED] ??= new Map());
}

/** Components of one kind, by name, in registration order (built-ins first). */
export class ComponentRegistry<T, Ctx = void, E extends Component<T, Ctx> = Component<T, Ctx>> implements Registry {
  private readonly entries = new Map<string, E>();

  /** The process-wide registry of `kind` (created on first use; see SHARED). */
  static shared<T, Ctx = void, E extends Component<T, Ctx> = Component<T, Ctx>>(kind: string, opts: { chain?: boolean; example?: string } = {}): ComponentRegistry<T, Ctx, E> {
    const table = sharedTable();
    let r = table.get(kind);
    if (r === undefined) {
      r = new ComponentRegistry<unknown, unknown, Component<unknown, unknown>>(kind, opts);
      table.set(kind, r);
    }
    return r as unknown as ComponentRegistry<T, Ctx, E>;
  }

  constructor(
    /** Singular noun for messages: 'aggregator', 'attack', 'leakage attack'. */
    readonly kind: string,
    private readonly opts: { chain?: boolean; example?: string } = {},
  ) {}

  get chain(): boolean | undefined {
    return this.opts.chain;
  }

  get example(): string | undefined {
    return this.opts.example;
  }

  /** The declarations, in registration order (for parseSpec and listings). */
  get components(): readonly ComponentDecl[] {
    return [...this.entries.values()];
  }

  /** Adds a component; a name already taken or not of the form `lower-case-words` is a RegistryError. */
  register(component: E): E {
    if (typeof component?.name !== 'string' || !NAME.test(component.name)) {
      throw new RegistryError(`cannot register ${this.kind} ${JSON.stringify(component?.name)}: a name is lower-case letters, digits and '-', starting with a letter`);
    }
    if (this.entries.has(component.name)) throw new RegistryError(`cannot register ${this.kind} '${component.name}': the name is taken`);
    if (typeof component.build !== 'function') throw new RegistryError(`cannot register ${this.kind} '${component.name}': it has no build function`);
    const params: unknown = component.params ?? {};
    if (typeof params !== 'object' || params === null) throw new RegistryError(`cannot register ${this.kind} '${component.name}': params must be an object of parameter declarations`);
    for (const [key, decl] of Object.entries(params)) {
      if (!PARAM_TYPES.has((decl as { type?: unknown } | null)?.type)) {
        throw new RegistryError(`cannot register ${this.kind} '${component.name}': parameter '${key}' needs a type (${[...PARAM_TYPES].join(' | ')})`);
      }
    }
    this.entries.set(component.name, { ...component, params: component.params ?? {}, summary: component.summary ?? '' });
    return this.entries.get(component.name)!;
  }

  /**
   * Registers a built-in component unless one of that name is there already (a second copy of
   * fedattack in the process registering its built-ins into the shared registry).
   */
  registerBuiltin(component: E): void {
    if (!this.entries.has(component.name)) this.register(component);
  }

  /** Removes a component (tests, or a plug-in replacing its own); true if it was there. */
  unregister(name: string): boolean {
    return this.entries.delete(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Every registered name, in registration order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The component called `name`; SpecError (with the valid names) if there is none. */
  get(name: string): E {
    const c = this.entries.get(name);
    if (c === undefined) throw new SpecError(`unknown ${this.kind} "${name}"; valid ${this.kind}s: ${this.names().join(', ')}`);
    return c;
  }

  /** Every registered component, in registration order. */
  list(): E[] {
    return [...this.entries.values()];
  }

  /** Parses and validates a spec (`name:k=v,...`, chains where allowed); SpecError on a mistake. */
  parse(text: string): ParsedComponent[] {
    return parseSpec(text, this);
  }

  /** Builds the single component a spec names (no chain). */
  build(text: string, ctx: Ctx): T {
    const parsed = this.parse(text);
    if (parsed.length !== 1) throw new SpecError(`"${text.trim()}": one ${this.kind} expected, not a chain`);
    return this.buildParsed(parsed[0]!, ctx);
  }

  /** Builds an already parsed component. */
  buildParsed(p: ParsedComponent, ctx: Ctx): T {
    return this.get(p.name).build(p.values, ctx);
  }

  /** The listing shown by `--help`: one block per component with its parameters. */
  describe(): string {
    return describeRegistry(this);
  }
}
