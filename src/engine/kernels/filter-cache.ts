/**
 * Transformed copies of operands that are used more than once — a model's parameters: in a DLG
 * evaluation each conv filter reaches Conv2DBackpropInput twice, and again at every evaluation — keyed
 * by the operand's data. A hit and a miss compute the same values, so results never depend on it. Reusing the copy saves rewriting it and,
 * on wasm, lets XNNPACK find the operator it built for it (its caches are keyed by the weights' tensor
 * id): a Conv2D with a new 5x5x12x12 filter costs ~55 µs against ~28 µs with a known one. An operand is
 * cached from its second use on, so the one-off operands of a second-order gradient never are. At most
 * ENTRIES copies of at most MAX_VALUES values are kept (least recently used first out); a copy outlives
 * its operand until it is pushed out.
 */
import { release, type TensorInfo } from './util.js';

const ENTRIES = 8;
const MAX_VALUES = 1 << 18;

interface Entry { key: string; backend: unknown; ts: TensorInfo[] }
const seen = new WeakSet<object>();
const cache = new Map<object, Entry>();

const drop = (e: Entry): void => {
  try {
    release(e.backend, e.ts);
  } catch {
    // the backend is gone (tf.removeBackend), and its memory with it
  }
};

/**
 * The transformation `key` of `operand` (key must name everything the copy depends on except the
 * operand's values and shape), made by `make` and kept — or null the first time an operand is seen
 * (the caller then transforms it itself, as it would without a cache). Do not release the result.
 */
export function cachedCopy(backend: unknown, operand: TensorInfo, key: string, make: () => TensorInfo): TensorInfo | null {
  return cachedCopies(backend, operand, key, () => [make()])?.[0] ?? null;
}

/** cachedCopy for transformations into several tensors. */
export function cachedCopies(backend: unknown, operand: TensorInfo, key: string, make: () => TensorInfo[]): TensorInfo[] | null {
  const id = operand.dataId as object;
  const fullKey = `${key}|${operand.shape.join(',')}`;
  const hit = cache.get(id);
  if (hit !== undefined && hit.key === fullKey && hit.backend === backend) {
    cache.delete(id);
    cache.set(id, hit);
    return hit.ts;
  }
  if (operand.shape.reduce((p, q) => p * q, 1) > MAX_VALUES || !seen.has(id)) {
    seen.add(id);
    return null;
  }
  if (hit !== undefined) {
    cache.delete(id);
    drop(hit);
  }
  const ts = make();
  cache.set(id, { key: fullKey, backend, ts });
  if (cache.size > ENTRIES) {
    const [oldest, e] = cache.entries().next().value as [object, Entry];
    cache.delete(oldest);
    drop(e);
  }
  return ts;
}
