/**
 * BatchMatMul on wasm without XNNPACK's expensive paths. wasm runs a product on XNNPACK only when
 * neither operand is transposed and the batch is 1, with `b` as the "weights": it packs b (about 3 ns
 * per value: 250 µs for a 768×100 dense layer's weights) and caches the packed operator by b's tensor
 * id; transposed products fall back to a scalar loop. In a DLG evaluation the weights-sized operands
 * of the dense layer's gradients are new every time, so:
 * - a·bᵀ (a [M,K], b [N,K], M ≤ N) runs as (b·aᵀ)ᵀ: b becomes the XNNPACK *input* (no packing, no
 *   transpose) and the smaller aᵀ [K,M] the weights (a dense layer's dx = dy·Wᵀ and its second-order
 *   counterpart: 600 → 60 µs at M = 1, K = 100, N = 768);
 * - aᵀ·b runs as an explicit Transpose of a followed by a plain product (the weight gradient xᵀ·dy).
 * The operator cache is keyed by tensor id only, not by shape: a tensor used as weights once as
 * [K,N] and once (through a reshape, which shares the id) as [K',N'] would reuse the first operator.
 * Weights are therefore passed as a private copy whenever their id was seen with another shape.
 * A single row times large weights (K·N ≥ 4096) is computed in JavaScript, accumulated in float64: 100 µs
 * against 255 µs for packing 768×100 weights XNNPACK has not seen. The choice is by shape alone, never by
 * what ran before, so the same inputs give the same bits in any thread and after any history (a
 * cached-operand path that was faster for repeated weights made restarts in worker threads differ in
 * the last bits from the same restarts run in one thread).
 * Other cases go to the backend's own kernel unchanged.
 */
import { tf } from '../tf-core.js';
import { callKernel, release, wasmCopy, wasmOutput, wasmView, type TensorInfo } from './util.js';

const size = (s: readonly number[]): number => s.reduce((p, q) => p * q, 1);

export function batchMatMulKernel(backendName: string): tf.KernelConfig {
  const stock = tf.getKernel('BatchMatMul', backendName);
  const original = stock?.kernelFunc;
  /** dataId → the [K, N] under which the tensor was last used as XNNPACK weights. */
  const weightShapes = new WeakMap<object, string>();
  return {
    kernelName: 'BatchMatMul',
    backendName,
    // the wasm kernel binds its wasm function in setupFunc, which the backend runs at initialisation
    ...(stock?.setupFunc !== undefined ? { setupFunc: stock.setupFunc } : {}),
    kernelFunc: (args) => {
      if (original === undefined) throw new Error(`fedattack: no BatchMatMul kernel on ${backendName}`);
      const { inputs, backend, attrs } = args;
      const { a, b } = inputs as unknown as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const temps: TensorInfo[] = [];
      const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
      const run = (name: string, ins: Record<string, TensorInfo>, at: Record<string, unknown>): TensorInfo =>
        callKernel(backendName, name, backend, ins, at);
      /** a·b with no transposes, the weights b passed under an id that never had another shape. */
      const plain = (x: TensorInfo, w: TensorInfo): TensorInfo => {
        const r = w.shape.length;
        if (x.dtype === 'float32' && w.dtype === 'float32' && size(x.shape.slice(0, -2)) === 1 && size(w.shape.slice(0, -2)) === 1) {
          const K = w.shape[r - 2]!;
          const N = w.shape[r - 1]!;
          const key = `${K},${N}`;
          // a single row times large weights: in JavaScript, always — packing weights XNNPACK has not seen
          // (the DLG objective's weight-gradient residual, new at every evaluation) costs ~3x the product,
          // and choosing by shape alone keeps the numbers independent of what ran before (worker threads,
          // --each: the same inputs give the same bits whatever the history)
          if (x.shape[x.shape.length - 2] === 1 && K * N >= 4096) return vectorTimesMatrix(x, w, K, N);
          const seen = weightShapes.get(w.dataId);
          if (seen === undefined) {
            weightShapes.set(w.dataId, key);
          } else if (seen !== key) w = keep(wasmCopy(backend, w, w.shape));
        }
        return original({ inputs: { a: x, b: w }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } } as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
      };
      /** [.., 1, K] · [.., K, N] in JavaScript on the wasm heap, accumulated in float64. */
      const vectorTimesMatrix = (x: TensorInfo, w: TensorInfo, K: number, N: number): TensorInfo => {
        const rank = Math.max(x.shape.length, w.shape.length);
        const out = wasmOutput(backend, [...new Array<number>(rank - 2).fill(1), 1, N]);
        const xv = wasmView(backend, x);
        const wv = wasmView(backend, w);
        const acc = new Float64Array(N);
        let k = 0;
        // four rows of w per pass over acc: a quarter of the accumulator loads and stores (2x in V8)
        for (; k + 4 <= K; k += 4) {
          const a0 = xv[k]!, a1 = xv[k + 1]!, a2 = xv[k + 2]!, a3 = xv[k + 3]!;
          const r0 = k * N, r1 = r0 + N, r2 = r1 + N, r3 = r2 + N;
          for (let n = 0; n < N; n++) acc[n]! += a0 * wv[r0 + n]! + a1 * wv[r1 + n]! + a2 * wv[r2 + n]! + a3 * wv[r3 + n]!;
        }
        for (; k < K; k++) {
          const a = xv[k]!;
          const row = k * N;
          for (let n = 0; n < N; n++) acc[n]! += a * wv[row + n]!;
        }
        wasmView(backend, out).set(acc);
        return out;
      };
      const swapLast = (t: TensorInfo): TensorInfo => {
        const r = t.shape.length;
        const perm = Array.from({ length: r }, (_, i) => i);
        [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
        return keep(run('Transpose', { x: t }, { perm }));
      };
      try {
        const ra = a.shape.length;
        const rb = b.shape.length;
        if (transposeB && !transposeA && a.dtype === 'float32' && b.dtype === 'float32' &&
            size(a.shape.slice(0, -2)) === 1 && size(b.shape.slice(0, -2)) === 1 && a.shape[ra - 2]! <= b.shape[rb - 2]!) {
          const M = a.shape[ra - 2]!;
          const K = a.shape[ra - 1]!;
          const N = b.shape[rb - 2]!;
          const outShape = [...(ra >= rb ? a.shape : b.shape).slice(0, -2), M, N];
          // aᵀ [K, M] as a private tensor (its id is the XNNPACK operator's cache key)
          const aT = M === 1 ? keep(wasmCopy(backend, a, [K, 1]))
            : keep(run('Transpose', { x: keep(run('Reshape', { x: a }, { shape: [M, K] })) }, { perm: [1, 0] }));
          const b2 = keep(run('Reshape', { x: b }, { shape: [N, K] }));
          const o = keep(plain(b2, aT)); // [N, M]
          const oT = M === 1 ? o : keep(run('Transpose', { x: o }, { perm: [1, 0] }));
          return run('Reshape', { x: oT }, { shape: outShape });
        }
        if (!transposeA && !transposeB) return plain(a, b);
        return plain(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b);
      } finally {
        release(backend, temps);
      }
    },
  };
}
