import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditChain } from '@fedistill/audit';
import { Predictor } from '@fedistill/engine';
import { ArtifactsService, type StudentPublished } from '@fedistill/wire';
import { ArtifactIntegrityError, ArtifactKind, downloadArtifact } from './artifact-download';
import type { NodeEgress } from './egress';
import type { SessionLogger } from './node-session';
import type { SiteData } from './site-data';

/** What the site recorded about a published student: DIR/federations/<id>/students/v<N>/student.json. */
export interface StudentRecord {
  readonly federation: string;
  readonly version: number;
  readonly sha256: string;
  /** The digest was checked against the StudentPublished event before the file was kept. */
  readonly verified: true;
  readonly bytes: number;
  /** Accuracy on the site's local test split (never sent anywhere), or null without one. */
  readonly localAccuracy: number | null;
  readonly localTestRecords: number;
}

/**
 * Downloads a published student in verified chunks, checks its SHA-256 against the one in the
 * StudentPublished event, keeps it with its model card, and evaluates it on the site's local
 * test split. The accuracy stays at the site (written beside the student and logged).
 */
export async function fetchStudent(
  o: {
    egress: NodeEgress;
    audit: AuditChain;
    dir: string;
    log: SessionLogger;
    local: () => Promise<{ inputShape: readonly number[]; test: SiteData['test'] } | null>;
  },
  event: StudentPublished,
): Promise<StudentRecord> {
  const expected = Buffer.from(event.sha256).toString('hex');
  const folder = path.join(o.dir, 'federations', event.federationId, 'students', `v${event.version}`);
  // Announced again (the coordinator repeats the latest student to a site that reconnects): a
  // student this site already verified, with the same digest, is not downloaded twice.
  const kept = keptStudent(folder, event.version, expected);
  if (kept) return kept;
  fs.mkdirSync(folder, { recursive: true });
  const download = await downloadArtifact(
    o.egress,
    {
      federationId: event.federationId,
      kind: ArtifactKind.ARTIFACT_KIND_STUDENT,
      version: event.version,
      expectedSha256: expected,
    },
    path.join(folder, 'student.onnx'),
  );
  if (download.sha256 !== expected || download.version !== event.version)
    throw new ArtifactIntegrityError(
      `student v${download.version} ${download.sha256} is not the announced v${event.version} ${expected}`,
    );
  if (download.modelCardJson) fs.writeFileSync(path.join(folder, 'model-card.json'), download.modelCardJson);
  let localAccuracy: number | null = null;
  let localTestRecords = 0;
  const local = await o.local().catch((err: Error) => {
    o.log.warn({ reason: err.message }, 'no local data to evaluate the student on');
    return null;
  });
  if (local?.test && local.test.count > 0) {
    const predictor = await Predictor.create(
      new Uint8Array(fs.readFileSync(download.file)),
      local.inputShape,
    );
    localAccuracy = await predictor.accuracy(local.test.features, local.test.labels);
    localTestRecords = local.test.count;
    await predictor.dispose();
  }
  const record: StudentRecord = {
    federation: event.federationId,
    version: event.version,
    sha256: expected,
    verified: true,
    bytes: download.bytes,
    localAccuracy,
    localTestRecords,
  };
  fs.writeFileSync(path.join(folder, 'student.json'), `${JSON.stringify(record, null, 2)}\n`);
  await o.audit.append({
    event: 'received',
    federation: event.federationId,
    peer: 'coordinator',
    kind: 'Artifacts/Student',
    sha256: expected,
    bytes: String(download.bytes),
    detail: `student v${event.version} verified${localAccuracy === null ? '' : `; local test accuracy ${localAccuracy.toFixed(4)} on ${localTestRecords} records`}`,
  });
  o.log.info(
    { federation: event.federationId, version: event.version, sha256: expected, localAccuracy },
    'student verified',
  );
  return record;
}

/** The record of a student this site already verified in `folder`, if it is that version and digest. */
function keptStudent(folder: string, version: number, sha256: string): StudentRecord | null {
  try {
    const record = JSON.parse(fs.readFileSync(path.join(folder, 'student.json'), 'utf8')) as StudentRecord;
    return record.verified === true &&
      record.version === version &&
      record.sha256 === sha256 &&
      fs.existsSync(path.join(folder, 'student.onnx'))
      ? record
      : null;
  } catch {
    return null;
  }
}

/**
 * The digest the coordinator's manifest gives for a student version, for a node that missed the
 * StudentPublished event (it was offline): the chunks are still checked against it on download.
 */
export async function publishedDigest(
  egress: NodeEgress,
  federationId: string,
  version: number,
): Promise<Buffer> {
  const manifest = await egress.unary(ArtifactsService.getManifest, {
    federationId,
    kind: ArtifactKind.ARTIFACT_KIND_STUDENT,
    version,
  });
  if (manifest.version !== version)
    throw new ArtifactIntegrityError(
      `asked for student v${version}, the coordinator described v${manifest.version}`,
    );
  return Buffer.from(manifest.sha256);
}
