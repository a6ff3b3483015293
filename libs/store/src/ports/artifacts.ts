/** A content-addressed file kept in chunks (reference sets, published students). */
export interface ArtifactRecord {
  /** SHA-256 of the whole file, hex. */
  readonly sha256: string;
  readonly kind: 'reference-set' | 'student' | 'evaluation-set';
  readonly totalBytes: number;
  readonly chunkBytes: number;
  /** SHA-256 of each chunk, hex, in order. */
  readonly chunkSha256: readonly string[];
  readonly createdAt: number;
}

/** Content-addressed artifacts. */
export interface ArtifactStore {
  /** Stores the bytes (idempotent: the same content returns the existing record). */
  put(
    kind: ArtifactRecord['kind'],
    bytes: Uint8Array,
    chunkBytes: number,
    at: number,
  ): Promise<ArtifactRecord>;
  get(sha256: string): Promise<ArtifactRecord | undefined>;
  /** One chunk's bytes; undefined for an unknown artifact or index. */
  chunk(sha256: string, index: number): Promise<Uint8Array | undefined>;
}
