import {
  ArtifactKind,
  type ArtifactManifest,
  type ArtifactsService,
  type Chunk,
  type GetChunkRequest,
  type GetManifestRequest,
} from '@fedistill/wire';
import { OutOfRangeError, RequestInvalidError } from '../domain/errors';
import type { FederationService } from '../federation/federation.service';
import type { StudentCatalog } from '../students/student-catalog';
import type { CallContext, MethodSpec } from './secure-service';

/**
 * Content-addressed downloads for member sites: the manifest names every chunk's SHA-256 and
 * the whole digest, so a node verifies what it got and can resume an interrupted download.
 */
export function artifactsMethods(
  federations: FederationService,
  students: StudentCatalog,
): Record<keyof typeof ArtifactsService, MethodSpec> {
  return {
    getManifest: {
      requestType: 'GetManifestRequest',
      handler: async (req: GetManifestRequest, ctx: CallContext): Promise<ArtifactManifest> => {
        const site = ctx.site?.name ?? '';
        if (req.kind === ArtifactKind.ARTIFACT_KIND_STUDENT) {
          const { record, artifact } = await students.forMember(req.federationId, site, req.version);
          return {
            kind: ArtifactKind.ARTIFACT_KIND_STUDENT,
            sha256: Buffer.from(artifact.sha256, 'hex'),
            totalBytes: artifact.totalBytes,
            chunkBytes: artifact.chunkBytes,
            chunkSha256: artifact.chunkSha256.map((c) => Buffer.from(c, 'hex')),
            version: record.version,
            modelCardJson: JSON.stringify(record.modelCard),
          };
        }
        if (req.kind !== ArtifactKind.ARTIFACT_KIND_REFERENCE_SET)
          throw new RequestInvalidError('GetManifestRequest: field kind is required');
        const view = await federations.forMember(req.federationId, site);
        const record = await federations.artifactFor(site, view.referenceSet.sha256);
        return {
          kind: ArtifactKind.ARTIFACT_KIND_REFERENCE_SET,
          sha256: Buffer.from(record.sha256, 'hex'),
          totalBytes: record.totalBytes,
          chunkBytes: record.chunkBytes,
          chunkSha256: record.chunkSha256.map((c) => Buffer.from(c, 'hex')),
          version: 0,
          modelCardJson: '',
        };
      },
    },
    getChunk: {
      requestType: 'GetChunkRequest',
      handler: async (req: GetChunkRequest, ctx: CallContext): Promise<Chunk> => {
        const sha256 = Buffer.from(req.sha256).toString('hex');
        const record = await federations.artifactFor(ctx.site?.name ?? '', sha256);
        if (req.index >= record.chunkSha256.length) {
          throw new OutOfRangeError(
            `chunk ${req.index} is past the last chunk (${record.chunkSha256.length - 1})`,
          );
        }
        const data = await federations.chunk(sha256, req.index);
        return { index: req.index, data: Buffer.from(data) };
      },
    },
  };
}
