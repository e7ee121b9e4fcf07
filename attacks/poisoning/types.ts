/**
 * Poisoning attacks: the contracts shared by every malicious client.
 *
 * The threat model is data, not a code path: `seesHonestUpdates` says whether the attacker is
 * omniscient (reads this round's honest updates: ALIE, IPM) or not (sign-flip, gaussian, the data
 * attacks); `needsOwnUpdate` says whether the harness must first run this client's local training
 * (on its own data, after `poisonData` where the attack has it) and pass the result as `ownUpdate`.
 *
 * Updates are flattened (`flatten` in defenses/aggregation/vectors.ts) deltas: what the client sends,
 * which the server aggregates and adds (times its learning rate η) to the global model.
 */
import { UserError } from '../../src/core/errors.js';
import type { Component } from '../../src/core/registry.js';
import type { Rng } from '../../src/engine/rng.js';
import type { ParamValue } from '../../src/core/spec.js';

/** What a malicious client knows when it crafts its update in one round. */
export interface CraftContext {
  /** This round's honest updates; empty unless the attack's `seesHonestUpdates`. */
  honest: Float32Array[];
  /** What this client's local training (on its possibly poisoned data) would send. */
  ownUpdate?: Float32Array;
  /** Number of clients whose updates the server aggregates this round (n). */
  numClients: number;
  /** Number of Byzantine clients among them (f). */
  numByzantine: number;
  /** This client's generator for this round (seeded by the harness). */
  rng: Rng;
  /** The current global model, flattened. */
  globalParams?: Float32Array;
  /** Server learning rate η: global ← global + η · aggregate. Default 1 (plain FedAvg). */
  serverLr?: number;
  /** Length d of an update, when neither ownUpdate, honest nor globalParams gives it. */
  dim?: number;
}

/**
 * A client's local training samples as plain arrays (the layout of a dataset split: NHWC in [0, 1]).
 * The harness converts to and from its tensor `LocalData` (src/fl/types.ts) around `poisonData`.
 */
export interface LocalSamples {
  images: Float32Array;
  labels: Int32Array;
  /** [H, W, C] of one image. */
  shape: [number, number, number];
  numClasses: number;
}

export type TriggerPattern = 'square' | 'plus';
export type TriggerPosition = 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';

/** A pixel trigger stamped into an image (a backdoor's key). */
export interface Trigger {
  pattern: TriggerPattern;
  size: number;
  value: number;
  position: TriggerPosition;
  /** Pixels between the trigger's box and the corner (default 0). */
  margin?: number;
}

/**
 * The backdoor capability of an attack: what the harness needs to score it (attack success rate =
 * accuracy on `testSet(test)`) and to measure clean accuracy on the non-target samples.
 */
export interface Backdoor {
  /** The trigger stamped into backdoored images. */
  readonly trigger: Trigger;
  /** The label a triggered image is meant to get. */
  readonly target: number;
  /** The backdoor test set of a clean test split: its non-target samples, triggered, labelled `target`. */
  testSet(test: LocalSamples): LocalSamples;
}

/** A malicious client's behaviour. */
export interface MaliciousCraft {
  readonly name: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Threat model: the attacker reads the honest updates of the round (omniscient). */
  readonly seesHonestUpdates: boolean;
  /** The harness must pass `ownUpdate` (run this client's local training first). */
  readonly needsOwnUpdate: boolean;
  /** Data attacks: transform the local training data before local training. Pure. */
  poisonData?(data: LocalSamples, rng: Rng): LocalSamples;
  /** The update this client sends. Never modifies ctx's arrays. */
  craft(ctx: CraftContext): Float32Array;
  /** Backdoor attacks: the trigger and target, for backdoor scoring (see {@link isBackdoor}). */
  readonly backdoor?: Backdoor;
}

/** Whether an attack plants a backdoor (and so is scored by attack success rate on `backdoor.testSet`). */
export function isBackdoor(attack: MaliciousCraft): attack is MaliciousCraft & { readonly backdoor: Backdoor } {
  return attack.backdoor !== undefined;
}

/**
 * A poisoning attack as a registrable component (see `registerPoisoningAttack`): its declaration and
 * `build(values)` from validated spec values. The threat model it needs is stated by the built attack
 * (`seesHonestUpdates`, `needsOwnUpdate`, `poisonData`, `backdoor`).
 */
export type PoisoningComponent = Component<MaliciousCraft>;

/** A poisoning setup that cannot work (e.g. ALIE with a Byzantine majority); user-facing. */
export class AttackError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'AttackError';
  }
}

/** ctx.ownUpdate, or an error naming the attack (a harness bug: it must train the client first). */
export function requireOwnUpdate(who: string, ctx: CraftContext): Float32Array {
  if (ctx.ownUpdate === undefined) throw new Error(`${who}: needs ctx.ownUpdate (run the client's local training first)`);
  return ctx.ownUpdate;
}

/** ctx.honest, non-empty, or an error naming the attack. */
export function requireHonest(who: string, ctx: CraftContext): Float32Array[] {
  if (ctx.honest.length === 0) throw new Error(`${who}: needs the round's honest updates in ctx.honest (omniscient threat model)`);
  return ctx.honest;
}

/** The update length d from whatever the context carries. */
export function updateDim(who: string, ctx: CraftContext): number {
  const d = ctx.dim ?? ctx.ownUpdate?.length ?? ctx.globalParams?.length ?? ctx.honest[0]?.length;
  if (d === undefined) throw new Error(`${who}: cannot tell the update length: give ctx.dim, ownUpdate or globalParams`);
  return d;
}
