/**
 * Transformed copies of convolution filters that are used more than once (a model's parameters: in a DLG
 * evaluation each conv filter reaches Conv2DBackpropInput twice, and again at every evaluation), keyed
 * by the filter's data. Reusing the copy saves rewriting it and, on wasm, lets XNNPACK find the operator
 * it built for it (its cache is keyed by the weights' tensor id): a Conv2D with a new 5x5x12x12 filter
 * costs ~55 µs against ~28 µs with a known one. A filter is cached on its second use, so the one-off
 * filters of a second-order gradient never are. At most ENTRIES copies of at most MAX_VALUES values are
 * kept (least recently used first out); a copy outlives its filter until it is pushed out.
 */
import { release, type TensorInfo } from './util.js';

const ENTRIES = 8;
const MAX_VALUES = 1 << 16;

interface Entry { key: string; backend: unknown; t: TensorInfo }
const seen = new WeakSet<object>();
const cache = new Map<object, Entry>();

const drop = (e: Entry): void => {
  try {
    release(e.backend, [e.t]);
  } catch {
    // the backend is gone (tf.removeBackend), and its memory with it
  }
};

/**
 * The transformation `key` (which must name everything it depends on but the filter's values) of
 * `filter`, made by `make` unless cached. `owned`: the caller must release the result.
 */
export function derivedFilter(backend: unknown, filter: TensorInfo, key: string, make: () => TensorInfo): { t: TensorInfo; owned: boolean } {
  const id = filter.dataId as object;
  const fullKey = `${key}|${filter.shape.join(',')}`;
  const hit = cache.get(id);
  if (hit !== undefined && hit.key === fullKey && hit.backend === backend) {
    cache.delete(id);
    cache.set(id, hit);
    return { t: hit.t, owned: false };
  }
  const t = make();
  if (filter.shape.reduce((p, q) => p * q, 1) > MAX_VALUES || !seen.has(id)) {
    seen.add(id);
    return { t, owned: true };
  }
  if (hit !== undefined) {
    cache.delete(id);
    drop(hit);
  }
  cache.set(id, { key: fullKey, backend, t });
  if (cache.size > ENTRIES) {
    const [oldest, e] = cache.entries().next().value as [object, Entry];
    cache.delete(oldest);
    drop(e);
  }
  return { t, owned: false };
}

/** Releases every cached copy (tests). */
export function clearFilterCache(): void {
  for (const e of cache.values()) drop(e);
  cache.clear();
}
