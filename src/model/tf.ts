/**
 * The one tfjs import of the model core. `@tensorflow/tfjs` rather than `@tensorflow/tfjs-core`: the
 * core package registers no gradients, and its deep `register_all_gradients` import does not resolve
 * under Node's ESM loader, while the union package registers them in both its Node and browser builds
 * (and brings the cpu and webgl backends and tfjs-layers, which the image encoders use).
 */
export * from '@tensorflow/tfjs';
