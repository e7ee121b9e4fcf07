/**
 * The engine clones every tensor it saves for a backward pass (`Engine.clone`): an Identity kernel
 * dispatch, taped with a gradient that is a Cast kernel dispatch. On LeNet DLG that is ~150 Identity
 * and ~35 Cast dispatches per evaluation, a third of all. On the backends whose Identity shares
 * storage (cpu, wasm, webgpu: reference counting, tensors are immutable) the clone is replaced by the
 * same thing without the dispatch: a new tensor on the same data (reference count + 1), taped exactly
 * as the engine tapes it, whose gradient is again such a shared copy of dy (taped when a tape records,
 * as the Cast it replaces would be). Values, tape structure and gradients of every order are unchanged.
 */
import { tf } from './tf-core.js';

interface TensorInfoRecord { backend: unknown }
interface EngineInternals {
  backend: { incRef(dataId: object): void };
  backendName: string;
  state: { activeScope: { name: string } | null; tensorInfo: { get(dataId: object): TensorInfoRecord | undefined } };
  makeTensorFromTensorInfo(info: { dataId: object; shape: number[]; dtype: string }, backend?: unknown): tf.Tensor;
  addTapeNode(kernelName: string, inputs: Record<string, tf.Tensor>, outputs: tf.Tensor[],
    gradientsFunc: (dy: tf.Tensor) => Record<string, () => tf.Tensor>, saved: tf.Tensor[], attrs: Record<string, unknown>): void;
  isTapeOn(): boolean;
  clone(x: tf.Tensor): tf.Tensor;
}

/** Backends whose Identity kernel shares storage by reference counting (wasm: fedattack's kernels/Identity.ts). */
const SHARING = new Set(['cpu', 'wasm', 'webgpu']);

const engineOf = (): EngineInternals => tf.engine() as unknown as EngineInternals;
const sharable = (engine: EngineInternals, x: tf.Tensor): boolean =>
  SHARING.has(engine.backendName) && engine.state.tensorInfo.get(x.dataId)?.backend === engine.backend;

/**
 * tf.reshape without a kernel dispatch: a new tensor of the given shape on x's data (reference count
 * + 1), taped (when a tape records) with the gradient sharedReshape(dy, x.shape) — the Reshape kernel's
 * and gradient's exact semantics. Falls back to tf.reshape on other backends. For gradient functions,
 * which reshape a lot (broadcast reductions, Reshape's own gradient).
 */
export function sharedReshape(x: tf.Tensor, shape: number[]): tf.Tensor {
  const engine = engineOf();
  if (x.dtype === 'string' || x.dtype === 'complex64' || !sharable(engine, x)) return tf.reshape(x, shape);
  const out = tf.util.inferFromImplicitShape(shape, x.size);
  if (tf.util.sizeFromShape(out) !== x.size) return tf.reshape(x, shape); // let tfjs raise its error
  engine.backend.incRef(x.dataId);
  const y = engine.makeTensorFromTensorInfo({ dataId: x.dataId, shape: out, dtype: x.dtype });
  if (engine.isTapeOn()) {
    const xShape = x.shape;
    engine.addTapeNode('SharedReshape', { x }, [y], (dy) => ({ x: () => sharedReshape(dy, xShape) }), [], {});
  }
  return y;
}

let installed = false;
export function installSharedClone(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as EngineInternals;
  const stockClone = engine.clone.bind(engine);
  const canShare = (x: tf.Tensor): boolean =>
    x.dtype !== 'complex64' && x.dtype !== 'string' && sharable(engine, x);
  const share = (x: tf.Tensor): tf.Tensor => {
    engine.backend.incRef(x.dataId);
    return engine.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype });
  };
  // gradient of a clone: dy itself, as a new tensor (taped like the engine's Cast when a tape records)
  const grad = (dy: tf.Tensor): Record<string, () => tf.Tensor> => ({
    x: () => {
      if (dy.dtype !== 'float32' || !canShare(dy)) return tf.cast(dy, 'float32');
      const y = share(dy);
      if (engine.isTapeOn()) engine.addTapeNode(engine.state.activeScope?.name ?? '', { x: dy }, [y], grad, [], {});
      return y;
    },
  });
  engine.clone = (x: tf.Tensor): tf.Tensor => {
    if (!canShare(x)) return stockClone(x);
    const y = share(x);
    engine.addTapeNode(engine.state.activeScope?.name ?? '', { x }, [y], grad, [], {});
    return y;
  };
}
