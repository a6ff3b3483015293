import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSiteKeys } from '@fedistill/identity';
import type { FederationInfo } from '@fedistill/wire';
import { proposalFrom, RosterApprovalError } from './approve-federation';
import {
  APPROVALS_FILE,
  keyFingerprint,
  normalizeFingerprint,
  readApprovedRosters,
  RosterFileError,
  rosterChanges,
  rosterFingerprint,
  saveApprovedRoster,
} from './approved-roster';

const keys = ['a-site', 'b-site', 'c-site'].map((site) => ({ site, k: generateSiteKeys() }));
const members = keys.map(({ site, k }) => ({
  site,
  signingPublicKey: Buffer.from(k.signingPublicKey).toString('hex'),
}));

const info = (list = keys): FederationInfo => ({
  federationId: 'fed',
  specJson: '{}',
  referenceSha256: Buffer.alloc(32),
  members: list.map((m) => m.site),
  memberKeys: list.map((m) => ({ siteName: m.site, signingPublicKey: Buffer.from(m.k.signingPublicKey) })),
});

describe(rosterFingerprint.name, () => {
  it('is the SHA-256 of the key, in 16 groups of 4 hex digits, and binds every member and key', () => {
    const key = keys[0]!.k.signingPublicKey;
    const fp = keyFingerprint(key);
    expect(fp).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    expect(normalizeFingerprint(fp)).toBe(createHash('sha256').update(key).digest('hex'));
    const fpr = rosterFingerprint('fed', members);
    expect(rosterFingerprint('fed', [...members].reverse())).toBe(fpr);
    expect(rosterFingerprint('other', members)).not.toBe(fpr);
    const swapped = members.map((m, i) =>
      i === 1 ? { ...m, signingPublicKey: members[2]!.signingPublicKey } : m,
    );
    expect(rosterFingerprint('fed', swapped)).not.toBe(fpr);
    expect(rosterFingerprint('fed', members.slice(0, 2))).not.toBe(fpr);
  });
});

describe(proposalFrom.name, () => {
  const self = { site: 'a-site', signingPublicKey: keys[0]!.k.signingPublicKey };

  it('shows each member with its fingerprint and what changed since the last approval', () => {
    const p = proposalFrom(info(), 'fed', self, undefined);
    expect(p.members.map((m) => [m.site, m.fingerprint])).toEqual(
      keys.map(({ site, k }) => [site, keyFingerprint(k.signingPublicKey)]),
    );
    expect(p.fingerprint).toBe(rosterFingerprint('fed', members));
    const previous = { federation: 'fed', fingerprint: '', approvedAt: 'then', members: members.slice(0, 2) };
    const rekeyed = [...keys.slice(0, 2), { site: 'c-site', k: generateSiteKeys() }];
    const before = { ...previous, members };
    expect(proposalFrom(info(), 'fed', self, previous).changes).toEqual({
      added: ['c-site'],
      removed: [],
      rekeyed: [],
    });
    expect(proposalFrom(info(rekeyed), 'fed', self, before).changes).toEqual({
      added: [],
      removed: [],
      rekeyed: ['c-site'],
    });
  });

  it('refuses a roster that gives this site another key, or whose names and keys disagree', () => {
    const forged = [{ site: 'a-site', k: generateSiteKeys() }, ...keys.slice(1)];
    expect(() => proposalFrom(info(forged), 'fed', self, undefined)).toThrow(
      /lists this site 'a-site' with another identity key/,
    );
    expect(() =>
      proposalFrom({ ...info(), members: ['a-site', 'b-site', 'z-site'] }, 'fed', self, undefined),
    ).toThrow(RosterApprovalError);
    expect(() => proposalFrom({ ...info(), memberKeys: [] }, 'fed', self, undefined)).toThrow(
      /no member identity keys/,
    );
  });
});

describe(readApprovedRosters.name, () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-roster-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const save = (federation: string) =>
    saveApprovedRoster(dir, {
      federation,
      fingerprint: rosterFingerprint(federation, members),
      approvedAt: '2026-01-01T00:00:00.000Z',
      members,
    });

  it('stores approvals in a 0600 file and reads them back', () => {
    save('fed');
    save('other');
    expect(fs.statSync(path.join(dir, APPROVALS_FILE)).mode & 0o777).toBe(0o600);
    expect([...readApprovedRosters(dir).keys()]).toEqual(['fed', 'other']);
    expect(fs.readdirSync(dir)).toEqual([APPROVALS_FILE]);
  });

  it('names the file and the problem when it is damaged or edited by hand, and saving changes nothing', () => {
    save('fed');
    const file = path.join(dir, APPROVALS_FILE);
    const edited = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      federations: { fed: { members: unknown[] } };
    };
    edited.federations.fed.members.push({ site: 'sybil', signingPublicKey: 'ab'.repeat(32) });
    fs.writeFileSync(file, JSON.stringify(edited));
    expect(() => readApprovedRosters(dir)).toThrow(/does not match its fingerprint/);
    fs.writeFileSync(file, '{"version": 1, "federations": {"fed": {"members": 3}}}');
    const before = fs.readFileSync(file, 'utf8');
    expect(() => readApprovedRosters(dir)).toThrow(RosterFileError);
    expect(() => readApprovedRosters(dir)).toThrow(new RegExp(`${file}.*federations\\.fed`));
    expect(() => save('other')).toThrow(RosterFileError);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });
});

describe(rosterChanges.name, () => {
  it('lists added, removed and re-keyed members', () => {
    const after = [
      members[0]!,
      { ...members[1]!, signingPublicKey: 'ff'.repeat(32) },
      { site: 'd-site', signingPublicKey: '00'.repeat(32) },
    ];
    expect(rosterChanges(members, after)).toEqual({
      added: ['d-site'],
      removed: ['c-site'],
      rekeyed: ['b-site'],
    });
  });
});
