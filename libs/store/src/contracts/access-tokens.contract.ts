import {
  AccessTokenAlreadyRevokedError,
  AccessTokenExistsError,
  type CoordinatorStore,
  UnknownAccessTokenError,
} from '../ports';

/** The contract of AccessTokenBook; call it from each adapter's spec with a fresh, empty store. */
export function describeAccessTokenStoreContract(
  adapter: string,
  factory: () => CoordinatorStore | Promise<CoordinatorStore>,
): void {
  describe(`CoordinatorStore access tokens contract: ${adapter}`, () => {
    let sut: CoordinatorStore;
    const now = 1_700_000_000_000;
    const token = (name: string, hash: string, role: 'operator' | 'auditor' = 'auditor') => ({
      name,
      role,
      tokenHash: hash,
      createdBy: 'config:operator',
      createdAt: now,
      expiresAt: now + 86_400_000,
    });

    beforeEach(async () => {
      sut = await factory();
    });
    afterEach(async () => {
      await sut.close();
    });

    it('stores a token and finds it by its hash only', async () => {
      await sut.accessTokens.create(token('alice', 'a'.repeat(64), 'operator'));
      await sut.accessTokens.create(token('bob', 'b'.repeat(64)));
      expect(await sut.accessTokens.findByHash('a'.repeat(64))).toEqual({
        ...token('alice', 'a'.repeat(64), 'operator'),
        revokedAt: null,
      });
      expect(await sut.accessTokens.findByHash('c'.repeat(64))).toBeUndefined();
      expect((await sut.accessTokens.list()).map((t) => [t.name, t.role])).toEqual([
        ['alice', 'operator'],
        ['bob', 'auditor'],
      ]);
    });

    it('refuses a second token with a name ever used, revoked or not, keeping the first', async () => {
      await sut.accessTokens.create(token('alice', 'a'.repeat(64)));
      await expect(sut.accessTokens.create(token('alice', 'd'.repeat(64)))).rejects.toThrow(
        AccessTokenExistsError,
      );
      await sut.accessTokens.revoke('alice', now + 5);
      await expect(sut.accessTokens.create(token('alice', 'e'.repeat(64)))).rejects.toThrow(
        AccessTokenExistsError,
      );
      expect(await sut.accessTokens.findByHash('d'.repeat(64))).toBeUndefined();
      expect(await sut.accessTokens.list()).toHaveLength(1);
    });

    it('revokes once, records when, and names unknown or already revoked tokens', async () => {
      await sut.accessTokens.create(token('bob', 'b'.repeat(64)));
      expect((await sut.accessTokens.revoke('bob', now + 7)).revokedAt).toBe(now + 7);
      expect((await sut.accessTokens.findByHash('b'.repeat(64)))?.revokedAt).toBe(now + 7);
      await expect(sut.accessTokens.revoke('bob', now + 9)).rejects.toThrow(AccessTokenAlreadyRevokedError);
      await expect(sut.accessTokens.revoke('nobody', now)).rejects.toThrow(UnknownAccessTokenError);
      expect((await sut.accessTokens.list())[0]?.revokedAt).toBe(now + 7);
    });
  });
}
