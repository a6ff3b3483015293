import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import type { Dataset } from '@fedistill/data';
import { readSiteKeyFile } from '@fedistill/identity';
import { rosterFingerprint } from '../../../apps/node/src/approved-roster';
import { npyInputs, writeHospitalCsv } from '../../../apps/cli/src/demo/demo-data';
import { admin, cli, type CoordinatorFixture, uploadReferenceSet, waitFor } from './processes';

/**
 * Gives an enrolled node directory its records (the breast-cancer CSV the demo writes) and the
 * data, teachers and privacy sections of node.yaml that let `node start` answer rounds.
 */
export function prepareSiteNode(
  dir: string,
  records: Dataset,
  settings: {
    epsilonLimit: number;
    teachers: { count: number; hidden: number[]; epochs: number; batchSize: number };
    drill?: 'keys' | 'shares' | 'input';
  },
): void {
  writeHospitalCsv(path.join(dir, 'data', 'records.csv'), records, 'diagnosis');
  const file = path.join(dir, 'node.yaml');
  const config = parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  Object.assign(config, {
    data: { train: 'data/records.csv', labelColumn: 'diagnosis', testFraction: 0.25 },
    teachers: settings.teachers,
    privacy: { epsilonLimit: settings.epsilonLimit, delta: 1e-5 },
  });
  if (settings.drill) config.drill = { stopAfter: settings.drill };
  else delete config.drill;
  fs.writeFileSync(file, stringify(config));
}

/** Registers a reference set; returns its SHA-256. */
export function uploadReference(fx: CoordinatorFixture, reference: Dataset): Promise<string> {
  return uploadReferenceSet(fx, npyInputs(reference));
}

/**
 * Creates a breast-cancer federation (Skellam noise) with `members`, and waits until each member
 * node holds its verified reference set.
 */
export async function createBreastCancerFederation(
  fx: CoordinatorFixture,
  o: {
    id: string;
    referenceSha256: string;
    members: readonly string[];
    dirs: Readonly<Record<string, string>>;
    noiseMultiplier: number;
    epsilonCap?: number;
    dropoutTolerance?: number;
    /** privacy.assumedColluders of the noise plan (default: the federation's default, 'all'). */
    assumedColluders?: number | 'all';
    /** privacy.summary (default: the federation's default, 'soft-labels'). */
    summary?: 'soft-labels' | 'votes';
    rounds: Record<string, unknown>;
    /** The definition's revisit section (digest and revisit at the sites), absent by default. */
    revisit?: Record<string, unknown>;
  },
): Promise<void> {
  const created = await admin<{ error?: string }>(fx, 'POST', '/api/v1/federations', {
    id: o.id,
    labels: ['malignant', 'benign'],
    input: { shape: [30] },
    referenceSet: { sha256: o.referenceSha256 },
    student: { architecture: 'mlp', hidden: [8] },
    privacy: {
      mechanism: 'skellam',
      noiseMultiplier: o.noiseMultiplier,
      epsilonCap: o.epsilonCap ?? 50,
      ...(o.assumedColluders === undefined ? {} : { assumedColluders: o.assumedColluders }),
      ...(o.summary === undefined ? {} : { summary: o.summary }),
    },
    secureAggregation: { dropoutTolerance: o.dropoutTolerance ?? 0 },
    rounds: o.rounds,
    ...(o.revisit ? { revisit: o.revisit } : {}),
  });
  if (created.status !== 201) throw new Error(`federation ${o.id} refused: ${created.body.error ?? ''}`);
  for (const site of o.members) await admin(fx, 'POST', `/api/v1/federations/${o.id}/sites`, { site });
  await approveRoster(o.id, o.members, o.dirs);
  await waitFor(`the reference set of ${o.id} at every member`, 60_000, () =>
    o.members.every((s) => fs.existsSync(path.join(o.dirs[s]!, 'federations', o.id, 'reference.npy')))
      ? true
      : undefined,
  );
}

/** The roster fingerprint the members' operators agree on out of band, from their own key files. */
export function expectedRosterFingerprint(
  id: string,
  members: readonly string[],
  dirs: Readonly<Record<string, string>>,
): string {
  return rosterFingerprint(
    id,
    members.map((site) => ({
      site,
      signingPublicKey: Buffer.from(
        readSiteKeyFile(path.join(dirs[site]!, 'site.key')).signingPublicKey,
      ).toString('hex'),
    })),
  );
}

/**
 * Each member's operator approves the federation's roster with the real CLI, pinning the roster
 * fingerprint computed from the members' own keys (a few at a time: each is a process).
 */
export async function approveRoster(
  id: string,
  members: readonly string[],
  dirs: Readonly<Record<string, string>>,
): Promise<void> {
  const fingerprint = expectedRosterFingerprint(id, members, dirs);
  for (let i = 0; i < members.length; i += 4)
    await Promise.all(
      members.slice(i, i + 4).map(async (site) => {
        const res = await cli([
          'node',
          'federation',
          'approve',
          id,
          '--dir',
          dirs[site]!,
          '--expect-fingerprint',
          fingerprint,
        ]);
        if (res.code !== 0) throw new Error(`${site} did not approve ${id}: ${res.stderr}`);
      }),
    );
}
