/**
 * The model registry: every architecture by name, `createModel(name, options)` to build one.
 *
 * A model declares its variants as parameters (convnet's width, batchNorm, batchNormStats, layout,
 * weightInit, activation, pool; mlp's width): `createModel` checks the ModelOptions a model declares
 * against those declarations and fills in their defaults, and `buildModel('convnet:width=8,pool=avg', ctx)`
 * builds the same from a spec. Options a model does not declare are ignored (ModelOptions is shared by
 * every model). `registerModel` adds an architecture; worker threads rebuild models by name.
 */
import { UserError } from '../core/errors.js';
import { ComponentRegistry } from '../core/registry.js';
import { parseValue, type ParamValue } from '../core/spec.js';
import { tf } from '../engine/tf.js';
import { cnnModel } from './cnn.js';
import { convnetModel } from './convnet.js';
import { lenetModel } from './lenet.js';
import { mlpModel } from './mlp.js';
import type { Model, ModelComponent, ModelContext, ModelOptions, Params } from './types.js';

export type { Model, ModelComponent, ModelContext, ModelOptions, Params, Shape3 } from './types.js';
export { cnnModel, convnetModel, lenetModel, mlpModel };

/** A model that cannot be built as asked (unknown name, bad shape or option); user-facing. */
export class ModelError extends UserError {}

/** Every model by name (process-wide: see ComponentRegistry.shared); built-ins first. */
const registry = ComponentRegistry.shared<Model, ModelContext, ModelComponent>('model', { example: 'convnet:width=8,activation=elu,pool=avg' });

for (const m of [lenetModel, mlpModel, cnnModel, convnetModel]) registry.registerBuiltin(m);

/**
 * Adds a model usable as `--model NAME` everywhere, in configs and in worker threads (which load the
 * same plug-ins). RegistryError on a taken name or a malformed component.
 *
 * ```ts
 * registerModel({ name: 'tiny', summary: 'one dense layer', params: {},
 *   build: (_v, { inputShape, classes }) => myTinyModel(inputShape, classes) });
 * ```
 */
export function registerModel(component: ModelComponent): ModelComponent {
  return registry.register(component);
}

/** Removes a registered model (tests, plug-ins replacing their own); true if it was there. */
export function unregisterModel(name: string): boolean {
  return registry.unregister(name);
}

/** Names of every model, built-in and registered, in registration order. */
export function modelNames(): string[] {
  return registry.names();
}

/** @deprecated The built-in models only; use {@link modelNames}, which sees registered ones. */
export const MODEL_NAMES: readonly string[] = modelNames();

function component(name: string): ModelComponent {
  if (!registry.has(name)) throw new ModelError(`unknown model '${name}' (known: ${modelNames().join(', ')})`);
  return registry.get(name);
}

function checkContext(ctx: ModelContext): void {
  const [h, w, c] = ctx.inputShape;
  if (![h, w, c, ctx.classes].every((v) => Number.isInteger(v) && v > 0)) {
    throw new ModelError(`bad model options: inputShape [${ctx.inputShape.join(', ')}], classes ${ctx.classes}`);
  }
}

/**
 * Builds the model `name` for `opts.inputShape` and `opts.classes`, with the variant options it declares
 * (checked; defaults filled in). ModelError on an unknown name or bad shape, SpecError on a bad option.
 */
export function createModel(name: string, opts: ModelOptions): Model {
  const c = component(name);
  checkContext(opts);
  const given = opts as unknown as Record<string, unknown>;
  const values: Record<string, ParamValue> = {};
  for (const [key, decl] of Object.entries(c.params)) {
    const v = given[key];
    if (v !== undefined) values[key] = parseValue(String(v), decl, `${name}:${key}`);
    else if (decl.default !== undefined) values[key] = decl.default;
  }
  return c.build(values, { inputShape: opts.inputShape, classes: opts.classes });
}

/** Builds a model from a spec (`convnet:width=8,pool=avg`); SpecError on a bad spec, ModelError on a bad shape. */
export function buildModel(text: string, ctx: ModelContext): Model {
  checkContext(ctx);
  return registry.build(text, ctx);
}

/** One line per model: its name and summary. */
export function describeModels(): { name: string; about: string }[] {
  return registry.list().map((m) => ({ name: m.name, about: m.summary }));
}

/** Listing for --help: every model and its declared variant options, types and defaults. */
export function describeModelVariants(): string {
  return registry.describe();
}

/** Number of scalar parameters. */
export function countParams(model: Model): number {
  return model.paramShapes.reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
}

export function disposeParams(p: Params): void {
  tf.dispose(Object.values(p));
}

/** Parameters from flat arrays (e.g. a fixture or a checkpoint), checked against the model's shapes. */
export function paramsFromArrays(model: Model, arrays: Record<string, ArrayLike<number>>): Params {
  const out: Params = {};
  for (const [name, shape] of model.paramShapes) {
    const a = arrays[name];
    const n = shape.reduce((x, y) => x * y, 1);
    if (a === undefined) throw new ModelError(`missing parameter '${name}'`);
    if (a.length !== n) throw new ModelError(`parameter '${name}' has ${a.length} values, expected ${n} for shape [${shape.join(', ')}]`);
    out[name] = tf.tensor(Float32Array.from(a), shape, 'float32');
  }
  return out;
}
