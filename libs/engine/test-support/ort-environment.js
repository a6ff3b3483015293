'use strict';
// Jest runs each spec in its own VM context, so typed arrays created there are not
// `instanceof` the outer realm's constructors that onnxruntime-node's native addon uses to
// build output tensors ("A float32 tensor's data must be type of Float32Array"). This
// environment shares the outer realm's typed-array constructors with the spec.
const { TestEnvironment } = require('jest-environment-node');

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'ArrayBuffer',
      'Float32Array',
      'Float64Array',
      'Int8Array',
      'Uint8Array',
      'Int16Array',
      'Uint16Array',
      'Int32Array',
      'Uint32Array',
      'BigInt64Array',
      'BigUint64Array',
    ]) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OrtEnvironment;
