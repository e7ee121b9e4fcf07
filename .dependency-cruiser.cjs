/**
 * The dependency rules of fedattack, checked by `npm test` (test/architecture.test.ts) with
 * dependency-cruiser: layers import only downward, and no module imports itself through a cycle.
 *
 * Layers, lowest first (a module may import its own layer and any layer below it):
 *   0 ground      src/core/ (errors, the component spec grammar, registries, worker pool), src/io/, src/metrics/
 *   1 engine      src/engine/ (tfjs, kernel and gradient fixes, optimizers, RNG, backends)
 *   2 models+data src/models/, datasets/
 *   3 harness     src/fl/ (clients, server, strategies, partitions, the threat-model types)
 *   4 components  attacks/, defenses/
 *   5 verify      src/verify/ (gradient checks, the PyTorch oracle)
 *   6 experiments src/experiments/ (one function per kind of run)
 *   7 interface   src/cli/, src/index.ts (the public API), src/plugins.ts
 */
const LAYERS = [
  ['ground', '^(src/core|src/io|src/metrics)/'],
  ['engine', '^src/engine/'],
  ['models-data', '^(src/models|datasets)/'],
  ['harness', '^src/fl/'],
  ['components', '^(attacks|defenses)/'],
  ['verify', '^src/verify/'],
  ['experiments', '^src/experiments/'],
  ['interface', '^(src/cli/|src/index\\.ts$|src/plugins\\.ts$)'],
];

const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'import cycles make load order fragile and layers meaningless',
    from: {},
    to: { circular: true },
  },
];
LAYERS.forEach(([name, from], i) => {
  const above = LAYERS.slice(i + 1).map(([, p]) => p);
  if (above.length === 0) return;
  forbidden.push({
    name: `layer-${name}-imports-upward`,
    severity: 'error',
    comment: `${name} may import only its own layer and those below it`,
    from: { path: from },
    to: { path: above },
  });
});

// Every module of the library belongs to a layer: a new top folder must be placed above.
const LAYERED = LAYERS.map(([, p]) => p);
forbidden.push(
  {
    name: 'unlayered-module',
    severity: 'error',
    comment: 'every module belongs to a layer (add its folder to LAYERS)',
    from: { path: '^(src|attacks|defenses|datasets)/', pathNot: LAYERED },
    to: {},
  },
  {
    name: 'import-of-unlayered-module',
    severity: 'error',
    comment: 'every module belongs to a layer (add its folder to LAYERS)',
    from: {},
    to: { path: '^(src|attacks|defenses|datasets)/', pathNot: LAYERED },
  },
);

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|test|examples|bench)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
