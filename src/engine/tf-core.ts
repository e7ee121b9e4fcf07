/**
 * Raw TensorFlow.js, before fedattack's fixes: the union package (which registers every stock
 * gradient) and the wasm backend. Only the engine's fix modules import this; everything else imports
 * `tf` from `./tf.js`, which registers the fixes first.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

tf.env().set('PROD', true);

export { tf };
