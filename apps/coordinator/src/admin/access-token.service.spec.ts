import type { AuditEntryInput } from '@fedistill/audit';
import { openSqliteCoordinatorStore } from '@fedistill/store';
import { RequestInvalidError } from '../domain/errors';
import { ACCESS_TOKEN_PREFIX, AccessTokenService } from './access-token.service';
import { BOOTSTRAP_OPERATOR } from './caller';

describe(AccessTokenService.name, () => {
  const by = { name: BOOTSTRAP_OPERATOR, role: 'operator' as const, expiresAt: null };
  const day = 86_400_000;
  let now: number;
  let entries: AuditEntryInput[];
  let sut: AccessTokenService;
  let close: () => void | Promise<void>;

  beforeEach(() => {
    now = Date.UTC(2026, 11, 2);
    entries = [];
    const store = openSqliteCoordinatorStore(':memory:');
    close = store.close;
    const transcript = { append: (e: AuditEntryInput) => Promise.resolve(entries.push(e)) };
    sut = new AccessTokenService(
      store.accessTokens,
      transcript,
      { defaultMs: 30 * day, maxMs: 365 * day },
      () => now,
    );
  });
  afterEach(() => close());

  it('issues a 256-bit secret once, admits it until the instant it expires, then names the expiry', async () => {
    const issued = await sut.create({ name: 'po', role: 'auditor', ttl: '1d' }, by);
    expect(issued.token).toMatch(new RegExp(`^${ACCESS_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`));
    expect(await sut.authenticate(issued.token)).toEqual({
      ok: true,
      caller: { name: 'po', role: 'auditor', expiresAt: '2026-12-03T00:00:00.000Z' },
    });
    now += day - 1;
    expect((await sut.authenticate(issued.token)).ok).toBe(true);
    now += 1;
    expect(await sut.authenticate(issued.token)).toEqual({
      ok: false,
      reason: "access token 'po' expired at 2026-12-03T00:00:00.000Z",
    });
    expect((await sut.list())[0]?.state).toBe('expired');
  });

  it('never writes the secret to the transcript; records who created and revoked the token', async () => {
    const issued = await sut.create({ name: 'ops', role: 'operator' }, by);
    await sut.revoke('ops', { name: 'ops', role: 'operator', expiresAt: null }, 'rotated');
    expect(JSON.stringify(entries)).not.toContain(issued.token.slice(ACCESS_TOKEN_PREFIX.length));
    expect(entries.map((e) => e.detail)).toEqual([
      'access token created: role operator, expires 2027-01-01T00:00:00.000Z, by config:operator',
      'access token revoked by ops: rotated',
    ]);
    expect(await sut.authenticate(issued.token)).toMatchObject({ ok: false, reason: /was revoked at/ });
  });

  it('refuses a ttl that is not a duration, is zero or is past the maximum, storing nothing', async () => {
    for (const ttl of ['forever', '0s', '366d'])
      await expect(sut.create({ name: 'x', role: 'auditor', ttl }, by)).rejects.toThrow(RequestInvalidError);
    expect(await sut.list()).toEqual([]);
    expect(entries).toEqual([]);
    expect(await sut.authenticate('fdat_nothing')).toEqual({ ok: false, reason: 'unknown access token' });
  });
});
