import { encodeNpyFloat32 } from '@fedistill/data';

/** A float32 NPY file (the project's own encoder, checked against its parser in libs/data). */
export function float32Npy(shape: readonly number[], values: Float32Array): Buffer {
  return Buffer.from(encodeNpyFloat32(shape, values));
}
