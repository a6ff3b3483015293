import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeSessionService } from '@fedistill/wire';
import { ArtifactKind, downloadArtifact } from './artifact-download';
import type { NodeEgress } from './egress';
import type { SessionLogger } from './node-session';

/** What a node keeps about one federation: DIR/federations/<id>/{federation.json,reference.npy}. */
export interface LocalFederation {
  readonly id: string;
  readonly spec: unknown;
  readonly members: readonly string[];
  readonly referenceFile: string;
  readonly referenceSha256: string;
}

/**
 * Keeps the node's copy of its federations: the definition, and the reference set, downloaded
 * in verified chunks and checked against the digest the federation names.
 */
export class FederationSync {
  constructor(
    private readonly egress: NodeEgress,
    private readonly dir: string,
    private readonly log: SessionLogger,
  ) {}

  /** Syncs in flight, by federation: a round announced during the welcome's sync waits for it. */
  private readonly inFlight = new Map<string, Promise<LocalFederation>>();

  /**
   * Fetches the federation's definition and downloads (or re-verifies) its reference set. One
   * sync per federation at a time: two concurrent downloads into the same parts folder would
   * remove each other's chunks, so a second caller shares the first one's result.
   */
  sync(federationId: string): Promise<LocalFederation> {
    const running = this.inFlight.get(federationId);
    if (running) return running;
    const p = this.syncOnce(federationId).finally(() => this.inFlight.delete(federationId));
    this.inFlight.set(federationId, p);
    return p;
  }

  private async syncOnce(federationId: string): Promise<LocalFederation> {
    const info = await this.egress.unary(NodeSessionService.getFederation, { federationId });
    const folder = path.join(this.dir, 'federations', federationId);
    fs.mkdirSync(folder, { recursive: true });
    const referenceSha256 = Buffer.from(info.referenceSha256).toString('hex');
    const spec = JSON.parse(info.specJson) as unknown;
    fs.writeFileSync(
      path.join(folder, 'federation.json'),
      `${JSON.stringify({ spec, members: info.members }, null, 2)}\n`,
    );
    const download = await downloadArtifact(
      this.egress,
      { federationId, kind: ArtifactKind.ARTIFACT_KIND_REFERENCE_SET, expectedSha256: referenceSha256 },
      path.join(folder, 'reference.npy'),
    );
    this.log.info(
      {
        federation: federationId,
        sha256: referenceSha256,
        bytes: download.bytes,
        fetched: download.chunksFetched,
        reused: download.chunksReused,
      },
      'reference set verified',
    );
    return { id: federationId, spec, members: info.members, referenceFile: download.file, referenceSha256 };
  }

  /** Syncs each federation; a failure is logged and does not stop the others. */
  async syncAll(federationIds: readonly string[]): Promise<LocalFederation[]> {
    const done: LocalFederation[] = [];
    for (const id of federationIds) {
      try {
        done.push(await this.sync(id));
      } catch (err) {
        this.log.error({ federation: id, reason: (err as Error).message }, 'could not sync the federation');
      }
    }
    return done;
  }
}
