/**
 * Poisoning in the federated harness: the adapter from the pure attack building blocks
 * (attacks/poisoning/, which work on flat Float32Array updates) to the harness's ClientBehaviour, the
 * fixed Byzantine set, client-side adversarial training as a strategy, and the backdoor
 * attack-success-rate evaluation. (Aggregators need no adapter: the harness's Aggregator works on the
 * flat vectors itself.)
 *
 * A malicious client, in a round where it is sampled (the harness runs it after every honest client
 * of the round, so the honest updates exist):
 * ```
 *   needsOwnUpdate:     data ← poisonData(data)  (label-flip: relabel; model-replacement: stamp the
 *                       trigger on a fraction of its samples with the target label), ownUpdate ← local training
 *   seesHonestUpdates:  honest ← the round's honest updates, as flattened once by the harness
 *   send unflatten(craft({honest, ownUpdate, n, f, rng, globalParams, serverLr, dim}))
 * ```
 */
import { tf } from '../engine/tf.js';
import type { Rng } from '../engine/rng.js';
import type { Dataset } from '../../datasets/types.js';
import type { MaliciousCraft, LocalSamples, CraftContext } from '../../attacks/poisoning/index.js';
import type { Backdoor } from '../../attacks/poisoning/index.js';
import type { Model, Params } from '../models/index.js';
import type { BatchDefense } from '../../defenses/client/index.js';
import { dataTensors, disposeData, localSgd, type DataTensors } from '../fl/client.js';
import { evaluate } from '../fl/evaluate.js';
import { flatten, unflatten } from '../fl/flat.js';
import type { ClientBehaviour, ClientResult, ClientTask, LocalData, RoundContext, Strategy } from '../fl/types.js';

/** The F malicious client indices of a run: F distinct indices of 0..K-1 drawn with the seed, ascending. */
export function chooseByzantine(numClients: number, numByzantine: number, rng: Rng): number[] {
  if (!(Number.isInteger(numByzantine) && numByzantine >= 0 && numByzantine <= numClients)) {
    throw new Error(`the number of Byzantine clients must be an integer in 0..${numClients}, got ${numByzantine}`);
  }
  return rng.sample(numClients, numByzantine).sort((a, b) => a - b);
}

/** A client's rows of the (device) training set as host arrays. */
async function localSamples(data: LocalData): Promise<LocalSamples> {
  const [, h, w, c] = data.x.shape;
  const idx = tf.tensor1d(data.indices, 'int32');
  try {
    const x = tf.gather(data.x, idx);
    const y = tf.gather(data.labels, idx);
    try {
      return { images: (await x.data()) as Float32Array, labels: (await y.data()) as Int32Array, shape: [h, w, c], numClasses: data.numClasses };
    } finally {
      tf.dispose([x, y]);
    }
  } finally {
    idx.dispose();
  }
}

/** Turns a {@link MaliciousCraft} into the harness's {@link ClientBehaviour} (see the file header). */
export function behaviourFromCraft(attack: MaliciousCraft): ClientBehaviour {
  return {
    name: attack.name,
    async craft(ctx: RoundContext): Promise<Params> {
      let ownUpdate: Float32Array | undefined;
      if (attack.needsOwnUpdate) {
        let data = ctx.data;
        let owned: DataTensors | null = null;
        if (attack.poisonData) {
          const poisoned = attack.poisonData(await localSamples(ctx.data), ctx.rng.fork('poison'));
          const [h, w, c] = poisoned.shape;
          const n = poisoned.labels.length;
          owned = { x: tf.tensor4d(poisoned.images, [n, h, w, c], 'float32'), labels: tf.tensor1d(poisoned.labels, 'int32'), numClasses: poisoned.numClasses };
          data = { x: owned.x, labels: owned.labels, indices: Array.from({ length: n }, (_, i) => i), numClasses: poisoned.numClasses };
        }
        try {
          const r = await ctx.trainLocal(data);
          try {
            ownUpdate = await flatten(r.delta);
          } finally {
            tf.dispose(Object.values(r.delta));
          }
        } finally {
          if (owned !== null) disposeData(owned);
        }
      }
      const globalFlat = ctx.globalVector;
      const cctx: CraftContext = {
        honest: attack.seesHonestUpdates ? [...ctx.honestVectors] : [],
        numClients: ctx.numClients,
        numByzantine: ctx.numMalicious,
        rng: ctx.rng.fork('craft'),
        globalParams: globalFlat,
        serverLr: ctx.serverLr,
        dim: globalFlat.length,
        ...(ownUpdate !== undefined ? { ownUpdate } : {}),
      };
      return unflatten(attack.craft(cctx), ctx.globalParams);
    },
  };
}

/**
 * Attack success rate of a backdoor: the fraction of triggered test inputs whose true class is not
 * the target that the model classifies as the target (accuracy on backdoorTestSet).
 */
export class BackdoorEvaluator {
  private readonly data: DataTensors | null;

  constructor(test: Dataset, backdoor: Backdoor) {
    const bd = backdoor.testSet({ images: test.images, labels: test.labels, shape: test.shape, numClasses: test.numClasses });
    this.data = bd.labels.length === 0 ? null : dataTensors({ ...test, images: bd.images, labels: bd.labels, users: undefined } as Dataset);
  }

  async successRate(model: Model, params: Params): Promise<number | null> {
    if (this.data === null) return null;
    return (await evaluate(model, params, this.data)).accuracy;
  }

  dispose(): void {
    if (this.data !== null) disposeData(this.data);
  }
}

/**
 * A batch-level client defense in local training (--client-defense pgd:… | fgsm:… or a registered one):
 * the strategy's local SGD, with every mini-batch replaced by `defense.transformBatch` at the current
 * local parameters (adversarial training: defenses/training/adversarial.ts). Local-update strategies only
 * (fedavg, fedprox); runs in the main thread. Malicious clients that train (label-flip,
 * model-replacement) use the same local procedure.
 */
export function batchDefenseStrategy(base: Strategy, defense: BatchDefense): Strategy {
  const st = base.settings;
  if (base.kind !== 'update' || st.algorithm === 'fedsgd') {
    throw new Error(`a batch-level client defense needs a local-SGD strategy (fedavg or fedprox), not ${base.name}`);
  }
  const cfg = { epochs: st.epochs, batchSize: st.batchSize, lr: st.lr, mu: st.mu ?? 0 };
  const kind = defense.name.split(':')[0]!;
  return {
    name: `${base.name}+${kind}`,
    kind: base.kind,
    clientUpdate: (task: ClientTask): Promise<ClientResult> => {
      const seed = task.rng.fork('adversarial').int(2 ** 31 - 1);
      return localSgd(task, cfg, (params, x, targets, call) => defense.transformBatch(task.model, params, x, targets, seed + call));
    },
    serverUpdate: (global, aggregate) => base.serverUpdate(global, aggregate),
    // A variant: worker threads (which rebuild built-in strategies) refuse it.
    settings: { ...st, variant: kind },
  };
}
