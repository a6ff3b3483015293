import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArtifactKind, ArtifactsService } from '@fedistill/wire';
import type { NodeEgress } from './egress';

/** The coordinator served bytes that do not match the digests it announced. */
export class ArtifactIntegrityError extends Error {
  override readonly name = 'ArtifactIntegrityError';
}

export interface DownloadResult {
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly chunksFetched: number;
  readonly chunksReused: number;
  /** The artifact's version (students) and model card JSON (students; empty for a reference set). */
  readonly version: number;
  readonly modelCardJson: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Downloads a federation's content-addressed artifact into `dest`. Each chunk is checked against
 * the manifest's digest and kept under `dest.parts/` as it arrives, so an interrupted download
 * resumes where it stopped; the assembled file must have the expected SHA-256, and only then is
 * it moved into place. An existing `dest` with the right digest is kept as is.
 */
export async function downloadArtifact(
  egress: NodeEgress,
  request: { federationId: string; kind: ArtifactKind; expectedSha256?: string; version?: number },
  dest: string,
): Promise<DownloadResult> {
  const manifest = await egress.unary(ArtifactsService.getManifest, {
    federationId: request.federationId,
    kind: request.kind,
    version: request.version ?? 0,
  });
  const described = { version: manifest.version, modelCardJson: manifest.modelCardJson };
  const digest = Buffer.from(manifest.sha256).toString('hex');
  if (request.expectedSha256 && request.expectedSha256 !== digest) {
    throw new ArtifactIntegrityError(
      `the coordinator offers ${digest}, but the federation names ${request.expectedSha256}`,
    );
  }
  if (fs.existsSync(dest) && sha256(fs.readFileSync(dest)) === digest) {
    return {
      file: dest,
      sha256: digest,
      bytes: manifest.totalBytes,
      chunksFetched: 0,
      chunksReused: manifest.chunkSha256.length,
      ...described,
    };
  }
  const parts = `${dest}.parts`;
  fs.mkdirSync(parts, { recursive: true });
  let fetched = 0;
  let reused = 0;
  for (const [index, expected] of manifest.chunkSha256.map((c) => Buffer.from(c).toString('hex')).entries()) {
    const part = path.join(parts, String(index));
    if (fs.existsSync(part) && sha256(fs.readFileSync(part)) === expected) {
      reused += 1;
      continue;
    }
    const chunk = await egress.unary(ArtifactsService.getChunk, { sha256: manifest.sha256, index });
    if (chunk.index !== index || sha256(chunk.data) !== expected) {
      throw new ArtifactIntegrityError(`chunk ${index} of ${digest} does not match its announced SHA-256`);
    }
    fs.writeFileSync(part, chunk.data);
    fetched += 1;
  }
  const whole = Buffer.concat(
    manifest.chunkSha256.map((_c, i) => fs.readFileSync(path.join(parts, String(i)))),
  );
  if (whole.length !== manifest.totalBytes || sha256(whole) !== digest) {
    fs.rmSync(parts, { recursive: true, force: true });
    throw new ArtifactIntegrityError(`the assembled file does not have the announced SHA-256 ${digest}`);
  }
  const tmp = `${dest}.tmp`;
  fs.writeFileSync(tmp, whole);
  fs.renameSync(tmp, dest);
  fs.rmSync(parts, { recursive: true, force: true });
  return {
    file: dest,
    sha256: digest,
    bytes: whole.length,
    chunksFetched: fetched,
    chunksReused: reused,
    ...described,
  };
}

export { ArtifactKind };
