import { createHash, randomBytes } from 'node:crypto';
import type { CoordinatorStore } from '../ports';
import {
  FederationExistsError,
  RoundExistsError,
  SiteAlreadyEnrolledError,
  SiteAlreadyRevokedError,
  StudentExistsError,
  UnknownFederationError,
  UnknownSiteError,
} from '../ports';

const key = (): Uint8Array => new Uint8Array(randomBytes(32));

/**
 * The contract every CoordinatorStore adapter passes (SQLite now, PostgreSQL later):
 * call it from the adapter's spec with a factory that returns a fresh, empty store.
 */
export function describeCoordinatorStoreContract(
  adapter: string,
  factory: () => CoordinatorStore | Promise<CoordinatorStore>,
): void {
  describe(`CoordinatorStore contract: ${adapter}`, () => {
    let sut: CoordinatorStore;
    const now = 1_700_000_000_000;
    const token = (hash: string, site: string, expiresAt = now + 60_000) => ({
      tokenHash: hash,
      siteName: site,
      createdAt: now,
      expiresAt,
    });
    const redeem = (hash: string, site: string, at = now + 1, signingPublicKey = key()) =>
      sut.enrolments.redeem({
        tokenHash: hash,
        siteName: site,
        signingPublicKey,
        boxPublicKey: key(),
        now: at,
      });

    beforeEach(async () => {
      sut = await factory();
    });
    afterEach(async () => {
      await sut.close();
    });

    it('enrols a site by redeeming its token once', async () => {
      await sut.enrolments.issue(token('h1', 'site-a'));
      const first = await redeem('h1', 'site-a');
      expect(first.ok).toBe(true);
      expect(await redeem('h1', 'site-a')).toEqual({ ok: false, reason: 'used-token' });
      const site = await sut.sites.get('site-a');
      expect(site?.enrolledAt).toBe(now + 1);
      expect(site?.signingPublicKey).toHaveLength(32);
    });

    it('refuses unknown, expired and wrong-site tokens without enrolling anyone', async () => {
      await sut.enrolments.issue(token('h2', 'site-b', now + 10));
      await sut.enrolments.issue(token('h3', 'site-c'));
      expect(await redeem('nope', 'site-b')).toEqual({ ok: false, reason: 'unknown-token' });
      expect(await redeem('h2', 'site-b', now + 10)).toEqual({ ok: false, reason: 'expired-token' });
      expect(await redeem('h3', 'site-x')).toEqual({ ok: false, reason: 'wrong-site' });
      expect(await sut.sites.list()).toEqual([]);
      expect((await redeem('h3', 'site-c')).ok).toBe(true);
    });

    it('refuses a second site with the same signing key, leaving the token unused', async () => {
      const shared = key();
      await sut.enrolments.issue(token('h4', 'site-d'));
      await sut.enrolments.issue(token('h5', 'site-e'));
      expect((await redeem('h4', 'site-d', now + 1, shared)).ok).toBe(true);
      expect(await redeem('h5', 'site-e', now + 1, shared)).toEqual({ ok: false, reason: 'key-in-use' });
      expect((await redeem('h5', 'site-e')).ok).toBe(true);
    });

    it('refuses to issue a token for an enrolled site', async () => {
      await sut.enrolments.issue(token('h6', 'site-f'));
      await redeem('h6', 'site-f');
      await expect(sut.enrolments.issue(token('h7', 'site-f'))).rejects.toThrow(SiteAlreadyEnrolledError);
    });

    it('records last seen monotonically and lists sites by name', async () => {
      await sut.enrolments.issue(token('h8', 'site-h'));
      await sut.enrolments.issue(token('h9', 'site-g'));
      await redeem('h8', 'site-h');
      await redeem('h9', 'site-g');
      await sut.sites.recordSeen('site-h', now + 500);
      await sut.sites.recordSeen('site-h', now + 100);
      expect((await sut.sites.get('site-h'))?.lastSeenAt).toBe(now + 500);
      expect((await sut.sites.list()).map((s) => s.name)).toEqual(['site-g', 'site-h']);
    });

    it('revokes a site once and names unknown sites', async () => {
      await sut.enrolments.issue(token('h10', 'site-i'));
      await redeem('h10', 'site-i');
      const revoked = await sut.sites.revoke('site-i', now + 5, 'lost laptop');
      expect(revoked.revokedAt).toBe(now + 5);
      expect((await sut.sites.get('site-i'))?.revokedReason).toBe('lost laptop');
      await expect(sut.sites.revoke('site-i', now + 6, 'again')).rejects.toThrow(SiteAlreadyRevokedError);
      await expect(sut.sites.revoke('ghost', now, 'x')).rejects.toThrow(UnknownSiteError);
    });

    it('admits each nonce once per site, and forgets nonces past the window', async () => {
      expect(await sut.replayGuard.admit('site-a', 'n1', now, now, 60_000)).toBe(true);
      expect(await sut.replayGuard.admit('site-a', 'n1', now, now + 1, 60_000)).toBe(false);
      expect(await sut.replayGuard.admit('site-b', 'n1', now, now + 1, 60_000)).toBe(true);
      expect(await sut.replayGuard.admit('site-a', 'n1', now + 200_000, now + 200_000, 60_000)).toBe(true);
    });
  });
}

/** Federations, membership and artifacts: part of the same CoordinatorStore contract. */
export function describeFederationStoreContract(
  adapter: string,
  factory: () => CoordinatorStore | Promise<CoordinatorStore>,
): void {
  describe(`CoordinatorStore federations and artifacts contract: ${adapter}`, () => {
    let sut: CoordinatorStore;
    const now = 1_700_000_000_000;
    beforeEach(async () => {
      sut = await factory();
      for (const site of ['site-a', 'site-b']) {
        await sut.enrolments.issue({
          tokenHash: site,
          siteName: site,
          createdAt: now,
          expiresAt: now + 1000,
        });
        await sut.enrolments.redeem({
          tokenHash: site,
          siteName: site,
          signingPublicKey: key(),
          boxPublicKey: key(),
          now,
        });
      }
    });
    afterEach(async () => {
      await sut.close();
    });

    it('creates federations once and keeps their definition', async () => {
      await sut.federations.create({ id: 'fed-b', spec: { labels: ['x', 'y'] }, createdAt: now });
      await sut.federations.create({ id: 'fed-a', spec: { n: 1 }, createdAt: now });
      await expect(sut.federations.create({ id: 'fed-a', spec: {}, createdAt: now })).rejects.toThrow(
        FederationExistsError,
      );
      expect(await sut.federations.get('fed-b')).toEqual({
        id: 'fed-b',
        spec: { labels: ['x', 'y'] },
        createdAt: now,
      });
      expect((await sut.federations.list()).map((f) => f.id)).toEqual(['fed-a', 'fed-b']);
    });

    it('adds enrolled sites to federations, idempotently, and names unknown ones', async () => {
      await sut.federations.create({ id: 'fed', spec: {}, createdAt: now });
      await sut.federations.addMember('fed', 'site-b', now);
      await sut.federations.addMember('fed', 'site-a', now);
      await sut.federations.addMember('fed', 'site-a', now + 1);
      expect(await sut.federations.members('fed')).toEqual(['site-a', 'site-b']);
      expect(await sut.federations.federationsOf('site-a')).toEqual(['fed']);
      await expect(sut.federations.addMember('nope', 'site-a', now)).rejects.toThrow(UnknownFederationError);
      await expect(sut.federations.addMember('fed', 'ghost', now)).rejects.toThrow(UnknownSiteError);
    });

    it('stores artifacts by content in chunks that reassemble to the same digest', async () => {
      const bytes = new Uint8Array(randomBytes(2500));
      const sut1 = await sut.artifacts.put('reference-set', bytes, 1000, now);
      expect(sut1.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(sut1).toMatchObject({ totalBytes: 2500, chunkBytes: 1000, kind: 'reference-set' });
      expect(sut1.chunkSha256).toHaveLength(3);
      const parts = await Promise.all([0, 1, 2].map((i) => sut.artifacts.chunk(sut1.sha256, i)));
      expect(Buffer.concat(parts.map((p) => Buffer.from(p!)))).toEqual(Buffer.from(bytes));
      expect(createHash('sha256').update(parts[2]!).digest('hex')).toBe(sut1.chunkSha256[2]);
      expect(await sut.artifacts.chunk(sut1.sha256, 3)).toBeUndefined();
      expect(await sut.artifacts.put('reference-set', bytes, 1000, now + 5)).toEqual(sut1);
      expect((await sut.artifacts.put('student', new Uint8Array(0), 1000, now)).chunkSha256).toHaveLength(1);
    });
  });
}

/** Rounds: part of the same CoordinatorStore contract. */
export function describeRoundStoreContract(
  adapter: string,
  factory: () => CoordinatorStore | Promise<CoordinatorStore>,
): void {
  describe(`CoordinatorStore rounds contract: ${adapter}`, () => {
    let sut: CoordinatorStore;
    const record = (round: number, status: 'open' | 'completed' = 'open') => ({
      federationId: 'fed',
      round,
      status,
      stage: 'keys',
      engine: JSON.stringify({ round }),
      createdAt: 1000 + round,
      updatedAt: 1000 + round,
    });
    beforeEach(async () => {
      sut = await factory();
      await sut.federations.create({ id: 'fed', spec: {}, createdAt: 1 });
    });
    afterEach(async () => {
      await sut.close();
    });

    it('creates rounds once, saves transitions and lists them', async () => {
      await sut.rounds.create(record(1));
      await sut.rounds.create(record(2));
      await expect(sut.rounds.create(record(2))).rejects.toThrow(RoundExistsError);
      await sut.rounds.save({ ...record(1, 'completed'), stage: 'done', engine: '{"x":1}', updatedAt: 5000 });
      expect(await sut.rounds.get('fed', 1)).toEqual({
        ...record(1, 'completed'),
        stage: 'done',
        engine: '{"x":1}',
        updatedAt: 5000,
      });
      expect((await sut.rounds.list('fed')).map((r) => r.round)).toEqual([1, 2]);
      expect((await sut.rounds.open()).map((r) => r.round)).toEqual([2]);
      expect(await sut.rounds.get('fed', 9)).toBeUndefined();
    });
  });
}

/** Students and evaluation sets: part of the same CoordinatorStore contract. */
export function describeStudentStoreContract(
  adapter: string,
  factory: () => CoordinatorStore | Promise<CoordinatorStore>,
): void {
  describe(`CoordinatorStore students contract: ${adapter}`, () => {
    let sut: CoordinatorStore;
    let onnx: string;
    beforeEach(async () => {
      sut = await factory();
      await sut.federations.create({ id: 'fed', spec: {}, createdAt: 1 });
      await sut.federations.create({ id: 'other', spec: {}, createdAt: 1 });
      onnx = (await sut.artifacts.put('student', new Uint8Array(randomBytes(300)), 100, 2)).sha256;
    });
    afterEach(async () => {
      await sut.close();
    });

    const student = (version: number, rounds: number[]) => ({
      federationId: 'fed',
      version,
      sha256: onnx,
      rounds,
      // Key order is kept: the card is served as text to sites.
      modelCard: { version, privacy: { mechanism: 'skellam', epsilon: 1.5 }, labels: ['b', 'a'] },
      createdAt: 100 + version,
    });

    it('versions students per federation, once each, and lists them oldest first', async () => {
      expect(await sut.students.latest('fed')).toBeUndefined();
      await sut.students.create(student(1, [1]));
      await sut.students.create(student(2, [1, 2]));
      await expect(sut.students.create(student(2, [3]))).rejects.toThrow(StudentExistsError);
      expect(await sut.students.get('fed', 2)).toEqual(student(2, [1, 2]));
      expect(JSON.stringify((await sut.students.get('fed', 2))?.modelCard)).toBe(
        JSON.stringify(student(2, []).modelCard),
      );
      expect(await sut.students.latest('fed')).toEqual(student(2, [1, 2]));
      expect((await sut.students.list('fed')).map((s) => s.version)).toEqual([1, 2]);
      expect(await sut.students.list('other')).toEqual([]);
      expect(await sut.students.get('fed', 3)).toBeUndefined();
    });

    it('keeps one evaluation set per federation; a new one replaces it', async () => {
      const a = (await sut.artifacts.put('evaluation-set', new Uint8Array([1, 2, 3]), 100, 3)).sha256;
      const b = (await sut.artifacts.put('evaluation-set', new Uint8Array([4, 5]), 100, 3)).sha256;
      expect(await sut.evaluationSets.get('fed')).toBeUndefined();
      const first = { federationId: 'fed', inputsSha256: a, labelsSha256: b, rows: 3, createdAt: 10 };
      await sut.evaluationSets.put(first);
      expect(await sut.evaluationSets.get('fed')).toEqual(first);
      const second = { ...first, inputsSha256: b, labelsSha256: a, rows: 2, createdAt: 11 };
      await sut.evaluationSets.put(second);
      expect(await sut.evaluationSets.get('fed')).toEqual(second);
      expect(await sut.evaluationSets.get('other')).toBeUndefined();
      expect((await sut.artifacts.get(a))?.kind).toBe('evaluation-set');
    });
  });
}
