import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { admin, type CoordinatorFixture, freePort, startCoordinatorProcess } from './support/processes';
import { enrollWithGeneratedClient, signedHeartbeat } from './support/wire-client';

/** The coordinator process on PostgreSQL instead of SQLite: same behaviour, state kept across a crash. */
const url = process.env.FEDISTILL_TEST_POSTGRES_URL;

(url ? describe : describe.skip)(
  'coordinator on PostgreSQL (needs FEDISTILL_TEST_POSTGRES_URL; .ci/run sets it)',
  () => {
    let fx: CoordinatorFixture;
    const schema = `e2e_${randomBytes(5).toString('hex')}`;

    beforeAll(async () => {
      fx = await startCoordinatorProcess({
        database: { url: url ?? '', schema },
        grpcPort: await freePort(),
      });
    });
    afterAll(async () => {
      await fx.stop();
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    });

    it('enrols a site, authenticates it, and keeps it across a coordinator crash', async () => {
      const { body } = await admin<{ token: string }>(fx, 'POST', '/api/v1/enrolment-tokens', {
        site: 'site-pg',
      });
      const { keys } = await enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, 'site-pg', body.token);
      await signedHeartbeat(fx.grpcAddress, fx.caPem, 'site-pg', keys);
      await fx.restart();
      const sites = await admin<{ sites: Array<{ name: string; lastSeenAt: string | null }> }>(
        fx,
        'GET',
        '/api/v1/sites',
      );
      expect(sites.body.sites).toEqual([
        expect.objectContaining({ name: 'site-pg', lastSeenAt: expect.any(String) }),
      ]);
      await expect(signedHeartbeat(fx.grpcAddress, fx.caPem, 'site-pg', keys)).resolves.toMatchObject({
        heartbeatIntervalMs: 300,
      });
    });
  },
);
