/**
 * The client-defense registry: every defense an honest client can run, by name, built from a spec.
 *
 *     buildClientDefense('pgd:epsilon=0.1,steps=5')      batch-level: adversarial training (Madry et al. 2018)
 *     buildClientDefense('fgsm')                         batch-level: adversarial training (Goodfellow et al. 2015)
 *     buildClientDefense('clip-noise:clip=1,sigma=0.01') update-level: clipping + Gaussian noise (DP-FedAvg)
 *     buildClientDefenses('pgd+clip-noise')              a chain: at most one batch-level defense, then
 *                                                        update-level ones applied in order
 *
 * A batch-level defense changes the local SGD steps (`transformBatch`); an update-level one changes the
 * update sent (`transform`, an UpdateTransform with an asynchronous apply).
 */
import { ComponentRegistry, RegistryError } from '../../src/core/registry.js';
import { SpecError } from '../../src/core/spec.js';
import { fgsmComponent, pgdComponent } from '../training/adversarial.js';
import { clipNoiseComponent } from '../training/clip-noise.js';
import type { ClientDefense, ClientDefenseComponent, ClientDefenseContext } from './types.js';

export * from './types.js';
export { pgdComponent, fgsmComponent, clipNoiseComponent };

/** Every client defense by name (process-wide: see ComponentRegistry.shared); built-ins first. */
export const clientDefenseRegistry = ComponentRegistry.shared<ClientDefense, ClientDefenseContext, ClientDefenseComponent>('client defense', {
  chain: true,
  example: 'pgd:epsilon=0.1,steps=5, clip-noise:clip=1,sigma=0.01, fgsm+clip-noise',
});

for (const c of [pgdComponent, fgsmComponent, clipNoiseComponent]) clientDefenseRegistry.registerBuiltin(c);

/**
 * Adds a client defense (`level: 'batch'` or `'update'`) usable in every `--client-defense` spec and
 * config. RegistryError on a taken name or a malformed component.
 *
 * ```ts
 * registerClientDefense({ name: 'halve', summary: 'send half the update', level: 'update', params: {},
 *   build: () => ({ level: 'update', name: 'halve', params: {},
 *     transform: { name: 'halve', apply: async (d) => mapParams(d, (t) => tf.mul(t, 0.5)) } }) });
 * ```
 */
export function registerClientDefense(component: ClientDefenseComponent): ClientDefenseComponent {
  const level = (component as { level?: unknown } | undefined)?.level;
  if (level !== 'batch' && level !== 'update') {
    throw new RegistryError(`cannot register client defense ${JSON.stringify(component?.name)}: level must be 'batch' or 'update', got ${JSON.stringify(level)}`);
  }
  return clientDefenseRegistry.register({ ...component, role: component.role ?? `${level}-level` });
}

/** Removes a registered client defense (tests, plug-ins replacing their own); true if it was there. */
export function unregisterClientDefense(name: string): boolean {
  return clientDefenseRegistry.unregister(name);
}

/** Names of every client defense, built-in and registered, in registration order. */
export function clientDefenseNames(): string[] {
  return clientDefenseRegistry.names();
}

/** Listing for --help: every registered client defense, its level and parameters. */
export function describeClientDefenses(): string {
  return clientDefenseRegistry.describe();
}

/** Builds one client defense from its spec (`name:k=v,...`, no chain); SpecError on a bad spec. */
export function buildClientDefense(text: string, ctx: ClientDefenseContext = {}): ClientDefense {
  return checked(clientDefenseRegistry.build(text, ctx), text);
}

/**
 * Builds a chain `a+b+…` of client defenses: at most one batch-level defense and any number of
 * update-level ones (applied to the update in the order given). SpecError on a bad spec.
 */
export function buildClientDefenses(text: string, ctx: ClientDefenseContext = {}): ClientDefense[] {
  const built = clientDefenseRegistry.parse(text).map((p) => checked(clientDefenseRegistry.buildParsed(p, ctx), p.name));
  const batch = built.filter((d) => d.level === 'batch');
  if (batch.length > 1) {
    throw new SpecError(`"${text.trim()}": at most one batch-level client defense per chain, got ${batch.map((d) => d.name).join(' and ')}`);
  }
  return built;
}

/** A built defense whose level is not what its component declared is the plug-in's bug: say so in one line. */
function checked(d: ClientDefense, what: string): ClientDefense {
  if (d?.level !== 'batch' && d?.level !== 'update') throw new RegistryError(`client defense "${what.trim()}" built an object without level 'batch' or 'update'`);
  return d;
}
