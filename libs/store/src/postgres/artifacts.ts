import type { Pool } from 'pg';
import { checkChunkBytes, sha256Hex, splitIntoChunks } from '../chunks';
import type { ArtifactRecord, ArtifactStore } from '../ports';
import { inTransaction, num, type Row } from './support';

/** Content-addressed artifacts in PostgreSQL, chunk by chunk (see ArtifactStore). */
export class PgArtifactStore implements ArtifactStore {
  constructor(private readonly pool: Pool) {}

  async put(
    kind: ArtifactRecord['kind'],
    bytes: Uint8Array,
    chunkBytes: number,
    at: number,
  ): Promise<ArtifactRecord> {
    checkChunkBytes(chunkBytes);
    const digest = sha256Hex(bytes);
    const existing = await this.get(digest);
    if (existing) return existing;
    const chunks = splitIntoChunks(bytes, chunkBytes);
    await inTransaction(this.pool, async (c) => {
      const res = await c.query(
        'INSERT INTO artifacts (sha256, kind, total_bytes, chunk_bytes, chunk_count, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
        [digest, kind, bytes.length, chunkBytes, chunks.length, at],
      );
      if (res.rowCount !== 1) return; // stored meanwhile by a concurrent upload of the same content
      for (const chunk of chunks) {
        await c.query(
          'INSERT INTO artifact_chunks (sha256, idx, chunk_sha256, data) VALUES ($1, $2, $3, $4)',
          [digest, chunk.index, chunk.sha256, chunk.data],
        );
      }
    });
    return (await this.get(digest)) as ArtifactRecord;
  }

  async get(digest: string): Promise<ArtifactRecord | undefined> {
    const row = (await this.pool.query('SELECT * FROM artifacts WHERE sha256 = $1', [digest])).rows[0] as
      Row | undefined;
    if (!row) return undefined;
    const chunks = await this.pool.query(
      'SELECT chunk_sha256 FROM artifact_chunks WHERE sha256 = $1 ORDER BY idx',
      [digest],
    );
    return {
      sha256: String(row.sha256),
      kind: row.kind as ArtifactRecord['kind'],
      totalBytes: num(row.total_bytes),
      chunkBytes: num(row.chunk_bytes),
      chunkSha256: chunks.rows.map((c: Row) => String(c.chunk_sha256)),
      createdAt: num(row.created_at),
    };
  }

  async chunk(digest: string, index: number): Promise<Uint8Array | undefined> {
    const row = (
      await this.pool.query('SELECT data FROM artifact_chunks WHERE sha256 = $1 AND idx = $2', [
        digest,
        index,
      ])
    ).rows[0] as Row | undefined;
    return row && new Uint8Array(row.data as Buffer);
  }
}
