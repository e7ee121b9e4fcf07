import { tf } from '../tf-core.js';
import { conv2DBackpropFilter, conv2DBackpropInput, type Pad, type Rounding } from '../kernel-ops.js';
import { reduceTo } from './Add_grad.js';

interface FusedConv2DAttrs {
  strides: [number, number] | number; pad: Pad; dataFormat?: string; dilations?: [number, number] | number;
  dimRoundingMode?: Rounding; activation?: string;
}

/**
 * FusedConv2D with a bias and no activation (NHWC, dilation 1) — what ops.ts convBias runs on cpu and
 * wasm: y = conv2d(x, W) + b, so dx = Conv2DBackpropInput(dy, W), dW = Conv2DBackpropFilter(x, dy),
 * db = Σ_{n,h,w} dy: the gradients of the separate Conv2D and Add, without the Add's dispatch forward.
 * tfjs registers no gradient for this kernel (tf.fused.conv2d differentiates through customGrad, which
 * cannot be differentiated twice); other attributes are refused rather than differentiated wrongly.
 */
export const fusedConv2DGrad: tf.GradConfig = {
  kernelName: 'FusedConv2D',
  inputsToSave: ['x', 'filter', 'bias'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, bias] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor | undefined];
    const a = attrs as unknown as FusedConv2DAttrs;
    const dil = a.dilations ?? 1;
    if ((a.activation ?? 'linear') !== 'linear' || (a.dataFormat ?? 'NHWC') !== 'NHWC' ||
        !(dil === 1 || (Array.isArray(dil) && dil[0] === 1 && dil[1] === 1))) {
      throw new Error(`fedattack: no gradient for FusedConv2D with activation ${a.activation}, ${a.dataFormat}, dilations ${dil}`);
    }
    const g = dy as tf.Tensor4D;
    const grads: Record<string, () => tf.Tensor> = {
      x: () => conv2DBackpropInput(x.shape, g, filter, a.strides, a.pad, a.dimRoundingMode),
      filter: () => conv2DBackpropFilter(x, g, filter.shape, a.strides, a.pad, a.dimRoundingMode),
    };
    if (bias !== undefined) grads['bias'] = () => reduceTo(g, bias.shape, g.shape);
    return grads;
  },
};
