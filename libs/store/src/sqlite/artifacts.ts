import type Database from 'better-sqlite3';
import { checkChunkBytes, sha256Hex, splitIntoChunks } from '../chunks';
import type { ArtifactRecord, ArtifactStore } from '../ports';

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the port is async. */

/** Content-addressed artifacts in SQLite, chunk by chunk (see ArtifactStore). */
export class SqliteArtifactStore implements ArtifactStore {
  constructor(private readonly db: Database.Database) {}

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
    const insertChunk = this.db.prepare(
      'INSERT INTO artifact_chunks (sha256, idx, chunk_sha256, data) VALUES (?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO artifacts (sha256, kind, total_bytes, chunk_bytes, chunk_count, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(digest, kind, bytes.length, chunkBytes, chunks.length, at);
      for (const c of chunks) insertChunk.run(digest, c.index, c.sha256, c.data);
    })();
    return (await this.get(digest)) as ArtifactRecord;
  }

  async get(digest: string): Promise<ArtifactRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM artifacts WHERE sha256 = ?').get(digest) as
      | {
          sha256: string;
          kind: ArtifactRecord['kind'];
          total_bytes: number;
          chunk_bytes: number;
          created_at: number;
        }
      | undefined;
    if (!row) return undefined;
    const chunks = this.db
      .prepare('SELECT chunk_sha256 FROM artifact_chunks WHERE sha256 = ? ORDER BY idx')
      .all(digest) as { chunk_sha256: string }[];
    return {
      sha256: row.sha256,
      kind: row.kind,
      totalBytes: row.total_bytes,
      chunkBytes: row.chunk_bytes,
      chunkSha256: chunks.map((c) => c.chunk_sha256),
      createdAt: row.created_at,
    };
  }

  async chunk(digest: string, index: number): Promise<Uint8Array | undefined> {
    const row = this.db
      .prepare('SELECT data FROM artifact_chunks WHERE sha256 = ? AND idx = ?')
      .get(digest, index) as { data: Buffer } | undefined;
    return row && new Uint8Array(row.data);
  }
}
