/**
 * The open registries: a component registered at run time (aggregator, pre-aggregator, poisoning
 * attack, leakage attack, client defense, dataset, model) is buildable by name or spec, listed by the
 * `…Names()` function and in the `describe…()` help text, exactly like a built-in. Duplicate names and
 * malformed components are a one-line RegistryError; unknown names list the valid ones. Every test
 * unregisters what it registered, so other tests see the built-ins only.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../src/engine/tf.js';
import { Rng } from '../src/engine/rng.js';
import { isUserError } from '../src/core/errors.js';
import { RegistryError } from '../src/core/registry.js';
import { SpecError } from '../src/core/spec.js';
import {
  aggregatorNames, BaseAggregator, buildAggregator, describeAggregators, preAggregatorNames, registerAggregator, unregisterAggregator,
  type Aggregator, type AggregationComponent, type RunResult,
} from '../defenses/aggregation/index.js';
import {
  backdoorTestSet, buildAttack, describePoisoning, isBackdoor, ModelReplacement, poisoningAttackNames, registerPoisoningAttack,
  unregisterPoisoningAttack, type LocalSamples,
} from '../attacks/poisoning/index.js';
import {
  describeLeakageAttacks, dlg, getLeakageAttack, leakageAttackNames, registerLeakageAttack, unregisterLeakageAttack, type LeakageAttack,
} from '../attacks/leakage/index.js';
import { registeredAttack } from '../attacks/leakage/parallel.js';
import {
  buildClientDefense, buildClientDefenses, clientDefenseNames, describeClientDefenses, registerClientDefense, unregisterClientDefense,
  type ClientDefenseComponent,
} from '../defenses/client/index.js';
import {
  canonicalDatasetName, DataError, datasetNames, downloadableDatasets, downloadDataset, listDatasets, loadDataset, registerDataset,
  unregisterDataset, type DatasetEntry,
} from '../datasets/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { buildModel, createModel, describeModels, describeModelVariants, disposeParams, ModelError, modelNames, registerModel, unregisterModel } from '../src/models/index.js';
import { mlp } from '../src/models/mlp.js';
import type { Params } from '../src/models/types.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** `fn` throws a user error of class `cls`, on one line, matching every pattern. */
function throwsOneLine(fn: () => unknown, cls: new (...a: never[]) => Error, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.ok(isUserError(e));
    assert.ok(!e.message.includes('\n'), `not one line: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

/** Runs fn with the components registered, unregistering them afterwards whatever happens. */
async function withRegistered(cleanup: () => void, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } finally {
    cleanup();
  }
}

const v = (...xs: number[]): Float32Array => Float32Array.from(xs);

/** Unweighted mean times `scale`: a user rule on the BaseAggregator frame. */
class ScaledMean extends BaseAggregator {
  constructor(readonly scale: number) {
    super(`scaled-mean:scale=${scale}`, { scale });
  }

  run(updates: Float32Array[]): RunResult {
    const out = new Float32Array(updates[0]!.length);
    for (const u of updates) for (let j = 0; j < out.length; j++) out[j]! += (u[j]! * this.scale) / updates.length;
    return { out };
  }
}

const scaledMean: AggregationComponent = {
  name: 'scaled-mean',
  summary: 'unweighted mean times scale (test rule)',
  role: 'aggregator',
  params: { scale: { type: 'number', default: 1, description: 'factor' } },
  build: (values) => new ScaledMean(values['scale'] as number),
};

/** A user pre-aggregator: negates every update. */
const negate: AggregationComponent = {
  name: 'negate',
  summary: 'negate every update (test pre-aggregator)',
  role: 'pre-aggregator',
  params: {},
  build: () => ({
    name: 'negate', params: {}, preservesIndices: true,
    apply: (updates, weights) => ({ updates: updates.map((u) => u.map((x) => -x)), weights: [...weights] }),
    outputCount: (n) => n,
  }),
};

/** A user rule that only implements the Aggregator interface: the first update. */
const first: AggregationComponent = {
  name: 'first',
  summary: 'the first update (test rule without BaseAggregator)',
  role: 'aggregator',
  params: {},
  build: (): Aggregator => {
    const agg: Aggregator & { lastInfo: Aggregator['lastInfo'] } = {
      name: 'first', params: {}, lastInfo: undefined,
      aggregate: (updates) => {
        agg.lastInfo = { n: updates.length, dropped: [], selected: [0] };
        return Float32Array.from(updates[0]!);
      },
      checkClients: () => undefined,
      reset: () => undefined,
    };
    return agg;
  },
};

describe('aggregators', () => {
  it('a registered aggregator and pre-aggregator build by spec, chain, and are listed', async () => {
    const builtins = aggregatorNames();
    const builtinPre = preAggregatorNames();
    await withRegistered(
      () => ['scaled-mean', 'negate', 'first'].forEach(unregisterAggregator),
      () => {
        registerAggregator(scaledMean);
        registerAggregator(negate);
        registerAggregator(first);
        assert.deepEqual(aggregatorNames(), [...builtins, 'scaled-mean', 'first']);
        assert.deepEqual(preAggregatorNames(), [...builtinPre, 'negate']);
        assert.match(describeAggregators(), /scaled-mean\s+unweighted mean times scale \(test rule\) \[aggregator\]/);
        assert.match(describeAggregators(), /negate\s+negate every update \(test pre-aggregator\) \[pre-aggregator\]/);

        const agg = buildAggregator('scaled-mean:scale=2');
        assert.equal(agg.name, 'scaled-mean:scale=2');
        assert.deepEqual([...agg.aggregate([v(1, 2), v(3, 4)], [1, 1])], [4, 6]);
        // The NaN policy of the frame applies to user rules: the non-finite update is dropped.
        assert.deepEqual([...agg.aggregate([v(1, 2), v(NaN, 4), v(3, 4)], [1, 1, 1])], [4, 6]);
        assert.deepEqual(agg.lastInfo?.dropped, [1]);

        // A built-in pre-aggregator before a user rule, and a user pre-aggregator before a built-in one.
        const chain = buildAggregator('clip:bound=1+scaled-mean');
        assert.equal(chain.name, 'clip:bound=1+scaled-mean:scale=1');
        const out = chain.aggregate([v(3, 4), v(0, 0.5)], [1, 1]);
        assert.ok(Math.abs(out[0]! - 0.3) < 1e-6 && Math.abs(out[1]! - 0.65) < 1e-6, String(out));
        assert.deepEqual([...buildAggregator('negate+median').aggregate([v(1), v(2), v(100)], [1, 1, 1])], [-2]);

        // A rule without the BaseAggregator frame ends a chain too; its selection maps back to input indices.
        const f = buildAggregator('negate+first');
        assert.deepEqual([...f.aggregate([v(NaN), v(5), v(6)], [1, 1, 1])], [-5]);
        assert.deepEqual(f.lastInfo?.selected, [1]);

        throwsOneLine(() => buildAggregator('scaled-mean+median'), SpecError, /scaled-mean is an aggregator and can only end a chain/, /negate/);
        throwsOneLine(() => buildAggregator('median+negate'), SpecError, /negate is a pre-aggregator and cannot end the chain/, /scaled-mean/);
        throwsOneLine(() => buildAggregator('scaled-mean:factor=2'), SpecError, /unknown parameter "factor"/, /scale/);
        throwsOneLine(() => buildAggregator('scaled-meen'), SpecError, /did you mean "scaled-mean"/, /scaled-mean/);
      },
    );
    assert.deepEqual(aggregatorNames(), builtins);
    assert.deepEqual(preAggregatorNames(), builtinPre);
    throwsOneLine(() => buildAggregator('scaled-mean'), SpecError, /unknown aggregator "scaled-mean"/, /mean, median/);
  });

  it('duplicate names and malformed components are one-line RegistryErrors', () => {
    throwsOneLine(() => registerAggregator({ ...scaledMean, name: 'median' }), RegistryError, /aggregator 'median': the name is taken/);
    throwsOneLine(() => registerAggregator({ ...scaledMean, name: 'Scaled Mean' }), RegistryError, /lower-case letters/);
    throwsOneLine(() => registerAggregator({ ...scaledMean, role: 'final' } as unknown as AggregationComponent), RegistryError, /role must be 'aggregator' or 'pre-aggregator'/);
    throwsOneLine(() => registerAggregator({ ...scaledMean, build: undefined } as unknown as AggregationComponent), RegistryError, /no build function/);
    throwsOneLine(
      () => registerAggregator({ ...scaledMean, params: { scale: { default: 1 } } } as unknown as AggregationComponent),
      RegistryError, /parameter 'scale' needs a type/,
    );
    assert.ok(!aggregatorNames().includes('scaled-mean'));
  });
});

describe('poisoning attacks', () => {
  it('a registered attack builds by spec and is listed', async () => {
    const builtins = poisoningAttackNames();
    await withRegistered(
      () => unregisterPoisoningAttack('constant'),
      () => {
        registerPoisoningAttack({
          name: 'constant',
          summary: 'send a constant vector (test attack)',
          params: { value: { type: 'number', default: 1, description: 'every coordinate' } },
          build: (values) => ({
            name: `constant:value=${String(values['value'])}`,
            params: { ...values },
            seesHonestUpdates: false,
            needsOwnUpdate: false,
            craft: (ctx) => new Float32Array(ctx.dim ?? 0).fill(values['value'] as number),
          }),
        });
        assert.deepEqual(poisoningAttackNames(), [...builtins, 'constant']);
        assert.match(describePoisoning(), /constant\s+send a constant vector \(test attack\)/);
        const a = buildAttack('constant:value=3');
        assert.deepEqual([...a.craft({ honest: [], numClients: 4, numByzantine: 1, rng: new Rng(0), dim: 3 })], [3, 3, 3]);
        assert.equal(isBackdoor(a), false);
        throwsOneLine(() => registerPoisoningAttack({ name: 'constant', summary: '', params: {}, build: () => a }), RegistryError, /the name is taken/);
      },
    );
    assert.deepEqual(poisoningAttackNames(), builtins);
    throwsOneLine(() => buildAttack('constant'), SpecError, /unknown attack "constant"/, /sign-flip, gaussian/);
  });

  it('backdoor scoring is a capability of the built attack, not its class', () => {
    assert.equal(isBackdoor(buildAttack('sign-flip')), false);
    const mr = buildAttack('model-replacement:target=1,size=2');
    assert.ok(isBackdoor(mr));
    assert.ok(mr instanceof ModelReplacement);
    assert.equal(mr.backdoor.target, 1);
    const data: LocalSamples = { images: new Float32Array(3 * 4 * 4).fill(0.5), labels: Int32Array.from([0, 1, 2]), shape: [4, 4, 1], numClasses: 3 };
    const bd = mr.backdoor.testSet(data);
    assert.deepEqual(bd, backdoorTestSet(data, mr.backdoor.trigger, 1));
    assert.deepEqual([...bd.labels], [1, 1]);
  });
});

describe('leakage attacks', () => {
  const fake: LeakageAttack = {
    ...dlg,
    name: 'fake-leak',
    about: 'returns the zero image (test attack)',
    reconstruct: () => Promise.reject(new Error('not run in this test')),
  };

  it('a registered attack is found by name (also where workers rebuild it) and listed', async () => {
    const builtins = leakageAttackNames();
    await withRegistered(
      () => unregisterLeakageAttack('fake-leak'),
      () => {
        assert.equal(registerLeakageAttack(fake), fake);
        assert.equal(getLeakageAttack('fake-leak'), fake);
        assert.equal(registeredAttack(fake), 'fake-leak');
        assert.deepEqual(leakageAttackNames(), [...builtins, 'fake-leak']);
        assert.match(describeLeakageAttacks(), /fake-leak\s+returns the zero image \(test attack\)/);
        throwsOneLine(() => getLeakageAttack('nope'), SpecError, /unknown leakage attack 'nope'/, /dlg, idlg, ig, fake-leak/);
        throwsOneLine(() => registerLeakageAttack({ ...fake }), RegistryError, /the name is taken/);
      },
    );
    assert.deepEqual(leakageAttackNames(), builtins);
    throwsOneLine(() => getLeakageAttack('fake-leak'), SpecError, /\(known: dlg, idlg, ig\)/);
    throwsOneLine(() => registerLeakageAttack({ name: 'half' } as unknown as LeakageAttack), RegistryError, /needs a reconstruct/);
  });
});

describe('client defenses', () => {
  const halve: ClientDefenseComponent = {
    name: 'halve',
    summary: 'send half the update (test defense)',
    level: 'update',
    params: {},
    build: () => ({
      level: 'update', name: 'halve', params: {},
      transform: { name: 'halve', apply: async (d: Params) => Object.fromEntries(Object.entries(d).map(([k, t]) => [k, tf.mul(t, 0.5)])) },
    }),
  };
  const invert: ClientDefenseComponent = {
    name: 'invert',
    summary: 'train on 1 - x (test defense)',
    level: 'batch',
    params: {},
    build: () => ({ level: 'batch', name: 'invert', params: {}, transformBatch: (_m, _p, x) => tf.sub(1, x) }),
  };

  it('registered batch- and update-level defenses build by spec, chain, and are listed', async () => {
    const builtins = clientDefenseNames();
    await withRegistered(
      () => ['halve', 'invert'].forEach(unregisterClientDefense),
      async () => {
        registerClientDefense(halve);
        registerClientDefense(invert);
        assert.deepEqual(clientDefenseNames(), [...builtins, 'halve', 'invert']);
        assert.match(describeClientDefenses(), /halve\s+send half the update \(test defense\) \[update-level\]/);
        const h = buildClientDefense('halve');
        assert.equal(h.level, 'update');
        if (h.level !== 'update') return;
        const delta = { w: tf.tensor1d([2, 4]) };
        const out = await h.transform.apply(delta, { round: 0, clientId: 'c', clientIndex: 0, kind: 'update', numSamples: 1, rng: new Rng(0) });
        assert.deepEqual([...(await out['w']!.data())], [1, 2]);
        tf.dispose([delta.w, out['w']!]);
        const chain = buildClientDefenses('invert+clip-noise:sigma=0+halve');
        assert.deepEqual(chain.map((d) => `${d.level}:${d.name}`), ['batch:invert', 'update:clip-noise:sigma=0', 'update:halve']);
        throwsOneLine(() => buildClientDefenses('invert+pgd'), SpecError, /at most one batch-level client defense/);
        throwsOneLine(() => buildClientDefense('invert+halve'), SpecError, /one client defense expected, not a chain/);
      },
    );
    assert.deepEqual(clientDefenseNames(), builtins);
    throwsOneLine(() => buildClientDefense('halve'), SpecError, /unknown client defense "halve"/, /pgd, fgsm, clip-noise/);
    throwsOneLine(() => registerClientDefense({ ...halve, level: 'server' } as unknown as ClientDefenseComponent), RegistryError, /level must be 'batch' or 'update'/);
    throwsOneLine(() => registerClientDefense({ ...halve, name: 'pgd' }), RegistryError, /the name is taken/);
  });

  it('clip-noise is an update-level defense with an asynchronous apply that clips to the bound', async () => {
    const d = buildClientDefense('clip-noise:clip=1,sigma=0');
    assert.equal(d.level, 'update');
    if (d.level !== 'update') return;
    assert.equal(d.transform.name, 'clip-noise:clip=1,sigma=0');
    const ctx = { round: 0, clientId: 'c', clientIndex: 0, kind: 'update' as const, numSamples: 1, rng: new Rng(0) };
    const big = { a: tf.tensor1d([3]), b: tf.tensor1d([4]) };
    const small = { a: tf.tensor1d([0.3]), b: tf.tensor1d([0.4]) };
    const pending = d.transform.apply(big, ctx);
    assert.ok(pending instanceof Promise);
    const clipped = await pending;
    const kept = await d.transform.apply(small, ctx);
    assert.deepEqual([(await clipped['a']!.data())[0], (await clipped['b']!.data())[0]].map((x) => Math.round(x! * 1e6) / 1e6), [0.6, 0.8]);
    assert.deepEqual([(await kept['a']!.data())[0], (await kept['b']!.data())[0]].map((x) => Math.round(x! * 1e6) / 1e6), [0.3, 0.4]);
    tf.dispose([...Object.values(big), ...Object.values(small), ...Object.values(clipped), ...Object.values(kept)]);
  });
});

describe('datasets', () => {
  const tiny = (): Promise<ReturnType<typeof generateSynthetic>> =>
    Promise.resolve(generateSynthetic({ classes: 3, shape: [8, 8, 1], trainSize: 12, testSize: 6, seed: 1 }));

  it('a registered dataset loads by name or alias, subset like a built-in, and is listed', async () => {
    const builtins = datasetNames();
    const dirs: string[] = [];
    const entry: DatasetEntry = {
      name: 'tiny-files',
      aliases: ['tiny'],
      summary: 'a tiny file-based dataset (test)',
      files: 'tiny.bin',
      load: async (dir) => {
        dirs.push(dir);
        return tiny();
      },
    };
    await withRegistered(
      () => unregisterDataset('tiny-files'),
      async () => {
        registerDataset(entry);
        assert.deepEqual(datasetNames(), [...builtins, 'tiny-files']);
        assert.equal(canonicalDatasetName('TINY'), 'tiny-files');
        assert.deepEqual(listDatasets().find((d) => d.name === 'tiny-files'),
          { name: 'tiny-files', aliases: ['tiny'], description: 'a tiny file-based dataset (test)', files: 'tiny.bin', downloadable: false });
        const root = path.join(os.tmpdir(), 'fedattack-registry-none');
        const split = await loadDataset('tiny', { dataDir: root, trainSize: 5, seed: 3 });
        assert.deepEqual(dirs, [path.join(root, 'tiny-files')]);
        assert.equal(split.train.labels.length, 5);
        assert.equal(split.test.labels.length, 6);
        assert.ok(!downloadableDatasets().includes('tiny-files'));
        await assert.rejects(downloadDataset('tiny', root), (e: unknown) => e instanceof DataError && /cannot download "tiny"/.test(e.message));
        throwsOneLine(() => registerDataset({ ...entry, name: 'other', aliases: ['fmnist'] }), RegistryError, /"fmnist" is already a name of dataset fashion-mnist/);
        throwsOneLine(() => registerDataset({ ...entry, name: 'tiny', aliases: [] }), RegistryError, /"tiny" is already a name of dataset tiny-files/);
      },
    );
    assert.deepEqual(datasetNames(), builtins);
    await assert.rejects(loadDataset('tiny'), (e: unknown) => e instanceof DataError && /unknown dataset "tiny"; known datasets: synthetic, mnist/.test(e.message));
  });

  it('a download plan makes a dataset downloadable; malformed entries are RegistryErrors', async () => {
    await withRegistered(
      () => unregisterDataset('tiny-remote'),
      () => {
        registerDataset({ name: 'tiny-remote', summary: 'fetched (test)', files: 'a.bin', download: { mirrors: ['http://127.0.0.1:9/'], remote: ['a.bin'], archive: false }, load: tiny });
        assert.ok(downloadableDatasets().includes('tiny-remote'));
        assert.equal(listDatasets().find((d) => d.name === 'tiny-remote')?.downloadable, true);
      },
    );
    throwsOneLine(() => registerDataset({ name: 'no-loader', summary: 'x' } as unknown as DatasetEntry), RegistryError, /no load\(dir, opts\) function/);
    throwsOneLine(() => registerDataset({ name: 'mnist', summary: 'x', load: tiny }), RegistryError, /"mnist" is already a name of dataset mnist/);
  });
});

describe('models', () => {
  it('a registered model builds by name and by spec with its declared variants, and is listed', async () => {
    const builtins = modelNames();
    await withRegistered(
      () => unregisterModel('narrow-mlp'),
      () => {
        registerModel({
          name: 'narrow-mlp',
          summary: 'a 2NN with few units (test model)',
          params: { hidden: { type: 'int', min: 1, default: 4, description: 'hidden units' } },
          build: (values, ctx) => mlp({ ...ctx, width: values['hidden'] as number }),
        });
        assert.deepEqual(modelNames(), [...builtins, 'narrow-mlp']);
        assert.ok(describeModels().some((m) => m.name === 'narrow-mlp' && m.about === 'a 2NN with few units (test model)'));
        assert.match(describeModelVariants(), /narrow-mlp[\s\S]*hidden\s+int >= 1; default 4\. hidden units/);
        const ctx = { inputShape: [2, 2, 1] as [number, number, number], classes: 3 };
        assert.deepEqual(createModel('narrow-mlp', ctx).paramShapes[0], ['d1w', [4, 4]]);
        assert.deepEqual(buildModel('narrow-mlp:hidden=7', ctx).paramShapes[0], ['d1w', [4, 7]]);
        throwsOneLine(() => buildModel('narrow-mlp:hidden=0', ctx), SpecError, /narrow-mlp:hidden must be int >= 1/);
        throwsOneLine(() => createModel('nope', ctx), ModelError, /unknown model 'nope' \(known: lenet, mlp, cnn, convnet, narrow-mlp\)/);
        throwsOneLine(() => registerModel({ name: 'convnet', summary: '', params: {}, build: () => createModel('mlp', ctx) }), RegistryError, /model 'convnet': the name is taken/);
      },
    );
    assert.deepEqual(modelNames(), builtins);
  });

  it("convnet's variants are declared parameters: declared defaults give the model of no options; bad values are SpecErrors", async () => {
    const base = { inputShape: [27, 27, 1] as [number, number, number], classes: 2 };
    const a = createModel('convnet', { ...base, width: 2 });
    const b = createModel('convnet', { ...base, width: 2, batchNorm: true, batchNormStats: 'batch', layout: 'fedattack', weightInit: 'torch-default', activation: 'relu', pool: 'max' });
    const c = buildModel('convnet:width=2,activation=elu', base);
    const x = tf.randomUniform([2, 27, 27, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const p = a.init(1);
    const [ya, yb, yc] = [a, b, c].map((m) => tf.tidy(() => m.apply(p, x)));
    assert.deepEqual(await ya!.data(), await yb!.data());
    assert.notDeepEqual(await ya!.data(), await yc!.data());
    tf.dispose([x, ya!, yb!, yc!]);
    disposeParams(p);
    throwsOneLine(() => createModel('convnet', { ...base, activation: 'tanh' as 'elu' }), SpecError, /convnet:activation must be one of relu\|elu, got "tanh"/);
    assert.match(describeModelVariants(), /convnet[\s\S]*layout\s+one of fedattack\|inversefed; default fedattack/);
  });
});
