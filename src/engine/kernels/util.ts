/** Helpers to build backend kernels: by composing a backend's own kernels, or in plain JavaScript. */
import { tf } from '../tf-core.js';

export type TensorInfo = tf.TensorInfo;
/** A kernel function's backend argument (typed `{}` by tfjs). */
type Backend = unknown;
const kb = (b: Backend): tf.KernelBackend => b as tf.KernelBackend;

/** Calls a backend's registered kernel directly (not through the engine: nothing is taped). */
export function callKernel(
  backendName: string, kernelName: string, backend: Backend,
  inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>,
): TensorInfo {
  const k = tf.getKernel(kernelName, backendName);
  if (k === undefined) throw new Error(`fedattack: backend '${backendName}' has no kernel ${kernelName}`);
  return k.kernelFunc({ inputs, backend, attrs } as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
}

/** Frees intermediate results made by callKernel. */
export function release(backend: Backend, infos: TensorInfo[]): void {
  for (const t of infos) kb(backend).disposeData(t.dataId);
}

/** Reads a tensor's values on any backend that supports synchronous reads (cpu, wasm, webgpu). */
export function readValues(backend: Backend, t: TensorInfo): Float32Array {
  const v = kb(backend).readSync(t.dataId) as ArrayLike<number>;
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

/** Stores values as a new tensor on the backend. */
export function writeValues(
  backend: Backend, values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32',
): TensorInfo {
  return { dataId: kb(backend).write(values, shape, dtype), shape, dtype } as TensorInfo;
}

/** Replaces (or adds) a kernel for one backend. */
export function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) !== undefined) {
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
}

export interface PoolKernelAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  includeBatchInIndex?: boolean;
}

/** Pool geometry of one window: in-bounds row and column ranges for output position (r, c). */
export function poolWindow(info: tf.backend_util.Conv2DInfo, r: number, c: number): [number, number, number, number] {
  const r0 = r * info.strideHeight - info.padInfo.top;
  const c0 = c * info.strideWidth - info.padInfo.left;
  return [
    Math.max(0, r0), Math.min(info.inHeight, r0 + info.effectiveFilterHeight),
    Math.max(0, c0), Math.min(info.inWidth, c0 + info.effectiveFilterWidth),
  ];
}

/** The wasm backend's internals that the heap-level kernels use. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/** A new float32 tensor on the wasm heap (uninitialised). */
export function wasmOutput(backend: Backend, shape: number[]): TensorInfo {
  return (backend as WasmBackend).makeOutput(shape, 'float32');
}

/**
 * A live view of a float32 tensor's values on the wasm heap. Take views only after the last
 * allocation of the kernel (an allocation can grow the heap and detach earlier views).
 */
export function wasmView(backend: Backend, t: TensorInfo): Float32Array {
  return (backend as WasmBackend).typedArrayFromHeap(t);
}

interface CpuBackend {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}
const isWasm = (backend: Backend): boolean => typeof (backend as Partial<WasmBackend>).typedArrayFromHeap === 'function';

/** Whether the float32 fast paths below (direct value access) work on this backend: cpu and wasm. */
export function hasDirectValues(backendName: string): boolean {
  return backendName === 'cpu' || backendName === 'wasm';
}

/** A new float32 tensor (uninitialised on wasm, zeros on cpu) on a cpu or wasm backend. */
export function floatOutput(backend: Backend, shape: number[]): TensorInfo {
  if (isWasm(backend)) return wasmOutput(backend, shape);
  return (backend as CpuBackend).makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((p, q) => p * q, 1)));
}

/** The live values of a float32 tensor on a cpu or wasm backend (on wasm: see wasmView). */
export function floatView(backend: Backend, t: TensorInfo): Float32Array {
  if (isWasm(backend)) return wasmView(backend, t);
  const v = (backend as CpuBackend).data.get(t.dataId).values;
  if (!(v instanceof Float32Array)) throw new Error('fedattack: expected float32 values');
  return v;
}

/** A fresh copy (own storage, own id) of a float32 wasm tensor with a new shape of the same size. */
export function wasmCopy(backend: Backend, t: TensorInfo, shape: number[]): TensorInfo {
  const out = wasmOutput(backend, shape);
  wasmView(backend, out).set(wasmView(backend, t));
  return out;
}

/** Attributes of a Conv2DBackpropFilter kernel call. */
interface FilterGradAttrs {
  strides: [number, number] | number; pad: 'valid' | 'same' | number;
  dataFormat?: string; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
}

/** Geometry of a Conv2DBackpropFilter call (NHWC only, dilation 1, as tfjs's own kernels). */
export function filterGradInfo(x: TensorInfo, attrs: unknown): tf.backend_util.Conv2DInfo {
  const a = attrs as FilterGradAttrs;
  if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error('fedattack: Conv2DBackpropFilter supports NHWC only');
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode);
}
