/**
 * Tests for src/spec.ts (the NAME[:key=value,...][+...] syntax) and for the registries built on it:
 * typed values and defaults, chains, and one clear SpecError (listing the valid options) for every
 * kind of mistake.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalSpec, describeRegistry, formatSpec, parseSpec, SpecError, type Registry } from '../src/core/spec.js';
import { isUserError } from '../src/core/errors.js';
import { aggregationRegistry, buildAggregator, describeAggregators } from '../defenses/aggregation/index.js';
import { buildAttack, describePoisoning, poisoningRegistry } from '../attacks/poisoning/index.js';

const toy: Registry = {
  kind: 'widget',
  chain: true,
  components: [
    {
      name: 'alpha',
      summary: 'a test component',
      params: {
        n: { type: 'int', min: 1, max: 10, default: 3, description: 'an int' },
        x: { type: 'number', above: 0, below: 1, default: 0.5, description: 'a number' },
        on: { type: 'boolean', default: false, description: 'a flag' },
        mode: { type: 'string', choices: ['fast', 'slow'], default: 'fast', description: 'a choice' },
        label: { type: 'string', description: 'free text', defaultText: 'from the caller' },
      },
    },
    { name: 'beta', summary: 'needs k', params: { k: { type: 'number', required: true, description: 'required' } } },
    { name: 'gamma', summary: 'no params', params: {} },
  ],
};

/** Assert that fn throws a SpecError whose message matches every pattern. */
function throwsSpec(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpecError, `expected SpecError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('parseSpec: valid specs', () => {
  it('a bare name gets every default', () => {
    const [p] = parseSpec('alpha', toy);
    assert.equal(p!.name, 'alpha');
    assert.deepEqual(p!.values, { n: 3, x: 0.5, on: false, mode: 'fast' });
    assert.deepEqual(p!.given, []);
  });

  it('typed values: int, number, boolean, string, with whitespace', () => {
    const [p] = parseSpec('  alpha : n=7, x = 0.25 ,on=yes,mode=slow,label=hi there ', toy);
    assert.deepEqual(p!.values, { n: 7, x: 0.25, on: true, mode: 'slow', label: 'hi there' });
    assert.deepEqual(p!.given, ['n', 'x', 'on', 'mode', 'label']);
  });

  it('a bare boolean key means true; numbers accept exponents and signs', () => {
    assert.equal(parseSpec('alpha:on', toy)[0]!.values['on'], true);
    assert.equal(parseSpec('alpha:x=2.5e-1', toy)[0]!.values['x'], 0.25);
    assert.equal(parseSpec('beta:k=-1e+3', toy)[0]!.values['k'], -1000);
    assert.equal(parseSpec('beta:k=.5', toy)[0]!.values['k'], 0.5);
  });

  it("'+' chains split at a '+' followed by a name, never inside an exponent", () => {
    const ps = parseSpec('alpha:n=2+beta:k=1e+3+gamma', toy);
    assert.deepEqual(
      ps.map((p) => p.name),
      ['alpha', 'beta', 'gamma'],
    );
    assert.equal(ps[1]!.values['k'], 1000);
  });

  it('the examples of the brief parse against the real registries', () => {
    assert.deepEqual(parseSpec('gaussian:sigma=100', poisoningRegistry)[0]!.values, { sigma: 100, mu: 0 });
    assert.deepEqual(parseSpec('trimmed-mean:beta=0.2', aggregationRegistry)[0]!.values, { beta: 0.2 });
    assert.deepEqual(parseSpec('norm-clip:bound=5,noise=0.01', aggregationRegistry)[0]!.values, { bound: 5, noise: 0.01 });
    const chain = parseSpec('norm-clip:bound=5+median', aggregationRegistry);
    assert.deepEqual(
      chain.map((p) => [p.name, p.values]),
      [
        ['norm-clip', { bound: 5, noise: 0 }],
        ['median', {}],
      ],
    );
  });

  it('formatSpec and canonicalSpec give back canonical text', () => {
    assert.equal(formatSpec(parseSpec('alpha:mode=slow,n=2+gamma', toy)), 'alpha:n=2,mode=slow+gamma');
    assert.equal(canonicalSpec(toy.components[0]!, { n: 3, x: 0.75 }), 'alpha:x=0.75');
    assert.equal(canonicalSpec(toy.components[0]!, { n: 3 }), 'alpha');
  });
});

describe('parseSpec: every mistake is one SpecError listing the options', () => {
  it('unknown name, with a suggestion and the valid names', () => {
    throwsSpec(() => parseSpec('alpah', toy), /unknown widget "alpah"/, /did you mean "alpha"/, /valid widgets: alpha, beta, gamma/);
    throwsSpec(() => parseSpec('medain', aggregationRegistry), /did you mean "median"/, /mean, median, trimmed-mean, krum/);
  });

  it('unknown key, listing the valid parameters with types and defaults', () => {
    throwsSpec(() => parseSpec('gaussian:sigm=3', poisoningRegistry), /unknown parameter "sigm" for attack gaussian/, /did you mean "sigma"/, /sigma \(number >= 0, default 1\)/, /mu \(number, default 0\)/);
    throwsSpec(() => parseSpec('gamma:x=1', toy), /gamma takes no parameters/);
  });

  it('bad values: not a number, not an integer, out of bounds, not a choice, not a boolean', () => {
    throwsSpec(() => parseSpec('alpha:x=abc', toy), /alpha:x must be number > 0, < 1, got "abc"/);
    throwsSpec(() => parseSpec('alpha:n=1.5', toy), /alpha:n must be int >= 1, <= 10, got "1.5" \(not an integer\)/);
    throwsSpec(() => parseSpec('alpha:n=11', toy), /alpha:n must be int >= 1, <= 10/);
    throwsSpec(() => parseSpec('alpha:x=1', toy), /< 1/);
    throwsSpec(() => parseSpec('alpha:x=0', toy), /> 0/);
    throwsSpec(() => parseSpec('alpha:mode=medium', toy), /one of fast\|slow, got "medium"/);
    throwsSpec(() => parseSpec('alpha:on=maybe', toy), /use true or false/);
    throwsSpec(() => parseSpec('alpha:x=', toy), /got ""/);
    throwsSpec(() => parseSpec('alpha:x=Infinity', toy), /got "Infinity"/);
    throwsSpec(() => parseSpec('trimmed-mean:beta=0.5', aggregationRegistry), /trimmed-mean:beta must be number >= 0, < 0.5/);
    throwsSpec(() => parseSpec('krum:f=-1', aggregationRegistry), /krum:f must be int >= 0/);
  });

  it('structure: duplicates, missing required, missing value, stray separators, empty', () => {
    throwsSpec(() => parseSpec('alpha:n=2,n=3', toy), /parameter n given twice/);
    throwsSpec(() => parseSpec('beta', toy), /widget beta needs k=<number>/);
    throwsSpec(() => parseSpec('alpha:n', toy), /alpha:n needs a value/);
    throwsSpec(() => parseSpec('alpha:', toy), /nothing after ':'/);
    throwsSpec(() => parseSpec('alpha:n=2,', toy), /stray ','/);
    throwsSpec(() => parseSpec('   ', toy), /empty widget spec; valid widgets: alpha, beta, gamma/);
    throwsSpec(() => parseSpec('alpha++gamma', toy), /empty component/);
    throwsSpec(() => parseSpec('9lives', toy), /not a widget name/);
  });

  it("chains are refused where the registry does not allow them", () => {
    throwsSpec(() => parseSpec('gaussian+alie', poisoningRegistry), /attacks cannot be chained/);
  });

  it('SpecError is a user error (one line, no stack, in the CLI)', () => {
    try {
      parseSpec('nope', toy);
      assert.fail('should throw');
    } catch (e) {
      assert.ok(isUserError(e));
      assert.ok(e instanceof Error && !e.message.includes('\n'));
    }
  });
});

describe('registries built on the spec syntax', () => {
  it('describeRegistry lists every component with its parameters and defaults', () => {
    const text = describeRegistry(toy);
    assert.match(text, /^widgets \(chain pre-steps with '\+'\):/);
    assert.match(text, /alpha {2}a test component/);
    assert.match(text, /\n +n +int >= 1, <= 10; default 3\. an int/);
    assert.match(text, /label +string; default: from the caller\. free text/);
    assert.match(text, /k +number; required\. required/);
    const aggs = describeAggregators();
    for (const name of ['mean', 'median', 'trimmed-mean', 'krum', 'multi-krum', 'bulyan', 'geomed', 'norm-clip', 'centered-clip', 'clip', 'nnm', 'bucketing']) {
      assert.match(aggs, new RegExp(`\\n  ${name} `));
    }
    assert.match(aggs, /bound +number > 0; default 3\./);
    assert.match(aggs, /f +int >= 0; default: the run's --byzantine\./);
    const attacks = describePoisoning();
    for (const name of ['sign-flip', 'gaussian', 'alie', 'ipm', 'label-flip', 'model-replacement']) assert.match(attacks, new RegExp(`\\n  ${name} `));
  });

  it('buildAggregator: f comes from the spec or the run, else a SpecError says how to give it', () => {
    assert.equal(buildAggregator('krum', { numByzantine: 2 }).name, 'krum:f=2');
    assert.equal(buildAggregator('krum:f=1', { numByzantine: 2 }).name, 'krum:f=1');
    throwsSpec(() => buildAggregator('bulyan'), /bulyan needs f/, /bulyan:f=N or run with --byzantine N/);
    assert.equal(buildAggregator('trimmed-mean', { numByzantine: 1 }).name, 'trimmed-mean:f=1');
    assert.equal(buildAggregator('trimmed-mean:beta=0.1').name, 'trimmed-mean:beta=0.1');
    assert.equal(buildAggregator('geomed:maxIter=3,init=zero').name, 'geomed:maxIter=3,init=zero');
    assert.deepEqual(buildAggregator('norm-clip:bound=5,noise=0.01').params, { bound: 5, noise: 0.01 });
  });

  it('buildAggregator: chains are pre-aggregators then one aggregator', () => {
    const chain = buildAggregator('norm-clip:bound=5+median');
    assert.equal(chain.name, 'clip:bound=5+median');
    assert.deepEqual(chain.params, { 'clip.bound': 5 });
    assert.equal(buildAggregator('clip+nnm+krum', { numByzantine: 1 }).name, 'clip+nnm:f=1+krum:f=1');
    throwsSpec(() => buildAggregator('median+clip'), /clip is a pre-aggregator and cannot end the chain/, /mean, median/);
    throwsSpec(() => buildAggregator('clip'), /cannot end the chain/);
    throwsSpec(() => buildAggregator('median+krum:f=1'), /median is an aggregator and can only end a chain/, /clip, nnm, bucketing/);
    throwsSpec(() => buildAggregator('norm-clip:bound=5,noise=0.1+median'), /noise applies only when norm-clip ends the chain/);
  });

  it('buildAttack: names, parameters and threat models', () => {
    const g = buildAttack('gaussian:sigma=100');
    assert.equal(g.name, 'gaussian:sigma=100');
    assert.deepEqual(g.params, { sigma: 100, mu: 0 });
    assert.equal(g.seesHonestUpdates, false);
    assert.equal(buildAttack('alie').seesHonestUpdates, true);
    assert.equal(buildAttack('ipm:eps=0.5').name, 'ipm:eps=0.5');
    assert.equal(buildAttack('sign-flip:scale=10').needsOwnUpdate, true);
    const mr = buildAttack('model-replacement:target=3,pattern=plus');
    assert.equal(mr.name, 'model-replacement:target=3,pattern=plus');
    assert.equal(typeof mr.poisonData, 'function');
    throwsSpec(() => buildAttack('label-flip:mode=random'), /one of reverse\|targeted/);
  });
});
