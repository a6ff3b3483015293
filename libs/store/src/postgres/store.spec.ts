import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  describeCoordinatorStoreContract,
  describeFederationStoreContract,
  describeRoundStoreContract,
  describeStudentStoreContract,
} from '../contracts/coordinator-store.contract';
import { describeAccessTokenStoreContract } from '../contracts/access-tokens.contract';
import type { CoordinatorStore } from '../ports';
import { postgresSource, startPostgresContainer } from '../../test-support/postgres-source';
import { openPostgresCoordinatorStore } from './store';

/**
 * The PostgreSQL adapter passes the same contract as SQLite. It needs a server: .ci/run starts
 * Debian's PostgreSQL and sets FEDISTILL_TEST_POSTGRES_URL; without it, a container started by
 * testcontainers where a container runtime answers; else the suite is skipped, saying why. Each
 * test gets its own schema.
 */
const source = postgresSource(process.env);
let url = source.kind === 'url' ? source.url : undefined;

async function freshStore(): Promise<CoordinatorStore> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const store = await openPostgresCoordinatorStore({ url: url ?? '', schema, maxConnections: 4 });
  return {
    ...store,
    close: async () => {
      await store.close();
      const admin = new Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

if (source.kind === 'container') {
  let stop: (() => Promise<void>) | undefined;
  // The first start may pull the image.
  beforeAll(async () => {
    const started = await startPostgresContainer(
      process.env.FEDISTILL_TEST_POSTGRES_IMAGE ?? 'postgres:17-alpine',
    );
    url = started.url;
    stop = started.stop;
  }, 300_000);
  afterAll(async () => stop?.());
}

if (source.kind !== 'none') {
  describeCoordinatorStoreContract('PostgreSQL', freshStore);
  describeFederationStoreContract('PostgreSQL', freshStore);
  describeRoundStoreContract('PostgreSQL', freshStore);
  describeStudentStoreContract('PostgreSQL', freshStore);
  describeAccessTokenStoreContract('PostgreSQL', freshStore);

  describe(openPostgresCoordinatorStore.name, () => {
    it('names a server it cannot reach', async () => {
      await expect(
        openPostgresCoordinatorStore({ url: 'postgres://nobody:x@127.0.0.1:1/none' }),
      ).rejects.toThrow(/^cannot connect to PostgreSQL: /);
    });

    it('serializes two redemptions of one token: exactly one enrols', async () => {
      const sut = await freshStore();
      await sut.enrolments.issue({ tokenHash: 'h', siteName: 'site-a', createdAt: 1, expiresAt: 10 });
      const attempt = () =>
        sut.enrolments.redeem({
          tokenHash: 'h',
          siteName: 'site-a',
          signingPublicKey: new Uint8Array(randomBytes(32)),
          boxPublicKey: new Uint8Array(32),
          now: 2,
        });
      const outcomes = await Promise.all([attempt(), attempt(), attempt()]);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok).map((o) => (o.ok ? '' : o.reason))).toEqual([
        'used-token',
        'used-token',
      ]);
      await sut.close();
    });
  });
} else {
  describe.skip(`PostgreSQL adapter (skipped: ${source.reason}; .ci/run sets the URL)`, () => {
    it('passes the CoordinatorStore contract', () => undefined);
  });
}
