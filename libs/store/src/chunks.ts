import { createHash } from 'node:crypto';

/** SHA-256 of `bytes`, lower-case hex: the address of an artifact and of each of its chunks. */
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** One chunk of an artifact as both adapters store it. */
export interface ArtifactChunk {
  readonly index: number;
  readonly sha256: string;
  readonly data: Buffer;
}

/** Throws a RangeError naming 'chunkBytes' unless it is a positive integer. */
export function checkChunkBytes(chunkBytes: number): void {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1)
    throw new RangeError("'chunkBytes' must be a positive integer");
}

/** Splits `bytes` into chunks of `chunkBytes` (the last may be shorter); an empty file is one empty chunk. */
export function splitIntoChunks(bytes: Uint8Array, chunkBytes: number): ArtifactChunk[] {
  checkChunkBytes(chunkBytes);
  const count = Math.max(1, Math.ceil(bytes.length / chunkBytes));
  return Array.from({ length: count }, (_, index) => {
    const part = bytes.subarray(index * chunkBytes, Math.min(bytes.length, (index + 1) * chunkBytes));
    return {
      index,
      sha256: sha256Hex(part),
      data: Buffer.from(part.buffer, part.byteOffset, part.byteLength),
    };
  });
}
