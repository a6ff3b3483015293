import { createHash } from 'node:crypto';
import { encodeNpyFloat32 } from '@fedistill/data';
import type { CoordinatorStore } from '@fedistill/store';
import { STORE } from '../tokens';
import { type AdminApp, call, callJson, concretePath, snapshotDatabase } from './admin-app.testing';
import type { AdminRouteSpec } from './route-spec';
import { ADMIN_ROUTES } from './routes';

/**
 * Access control of the admin API, on the real Nest application over loopback HTTP: the route
 * table, the roles route by route, token lifecycle, the transcript and the failure rate limit.
 * Run by admin-api.spec.ts (one application for every admin case).
 */
export function describeAccessControl(app: () => AdminApp): void {
  describe('admin API access control', () => {
    let sut: AdminApp;
    let auditor: string;
    let ops: string;
    const routes = Object.values(ADMIN_ROUTES as Record<string, AdminRouteSpec>);

    beforeAll(async () => {
      sut = app();
      const a = await callJson(sut.port, 'POST', '/api/v1/access-tokens', sut.operatorToken, {
        name: 'privacy-officer',
        role: 'auditor',
        ttl: '1h',
      });
      expect(a.status).toBe(201);
      auditor = (a.json as { token: string }).token;
      const o = await callJson(sut.port, 'POST', '/api/v1/access-tokens', sut.operatorToken, {
        name: 'ops',
        role: 'operator',
      });
      ops = (o.json as { token: string }).token;
    });

    it('serves exactly the registry: every Nest route is declared once, every declared route is served', () => {
      const served = sut.routeTable();
      expect(served.filter((r, i) => served.indexOf(r) !== i)).toEqual([]);
      expect([...served].sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    });

    it('refuses an auditor on every mutating route with 403, changing nothing, and records each refusal', async () => {
      const mutating = routes.filter((r) => r.access === 'mutate');
      expect(mutating.length).toBeGreaterThanOrEqual(8);
      for (const route of mutating) {
        const before = snapshotDatabase(sut.dbFile);
        const example = route.body?.kind === 'json' ? route.body.examples[0] : undefined;
        const res = await callJson(sut.port, route.method, concretePath(route.path), auditor, example ?? {});
        expect({ route: route.operationId, status: res.status, body: res.json }).toEqual({
          route: route.operationId,
          status: 403,
          body: {
            status: 403,
            error: `role 'auditor' is read-only: ${route.method} ${route.path} (${route.operationId}) changes the coordinator; use an operator token`,
          },
        });
        expect(snapshotDatabase(sut.dbFile)).toEqual(before);
      }
      const refusals = (await sut.transcript()).filter(
        (e) => e.event === 'admin' && e.peer === 'privacy-officer' && e.kind !== '',
      );
      expect(refusals.map((e) => e.kind).sort()).toEqual(mutating.map((r) => r.operationId).sort());
      expect(refusals.every((e) => (JSON.parse(e.detail) as { status: number }).status === 403)).toBe(true);
    });

    it('lets an auditor call every read route (never 401 or 403) and tells it who it is', async () => {
      for (const route of routes.filter((r) => r.access === 'read')) {
        const res = await call(sut.port, 'GET', concretePath(route.path), { token: auditor });
        expect({ route: route.operationId, refused: [401, 403].includes(res.status) }).toEqual({
          route: route.operationId,
          refused: false,
        });
      }
      const me = await call(sut.port, 'GET', '/api/v1/whoami', { token: auditor });
      expect(me.json).toEqual({ name: 'privacy-officer', role: 'auditor', expiresAt: expect.any(String) });
      const root = await call(sut.port, 'GET', '/api/v1/whoami', { token: sut.operatorToken });
      expect(root.json).toEqual({ name: 'config:operator', role: 'operator', expiresAt: null });
    });

    it('records a mutating call in the transcript with the token name before answering', async () => {
      const res = await callJson(sut.port, 'POST', '/api/v1/enrolment-tokens', ops, { site: 'st-marys' });
      expect(res.status).toBe(201);
      const last = (await sut.transcript()).at(-1);
      expect(last).toMatchObject({ event: 'admin', peer: 'ops', kind: 'createEnrolmentToken' });
      expect(JSON.parse(last?.detail ?? '')).toEqual({
        role: 'operator',
        method: 'POST',
        path: '/api/v1/enrolment-tokens',
        status: 201,
      });
      // A raw upload is read by its handler, after the guard: the operator's NPY file is stored.
      const npy = Buffer.from(encodeNpyFloat32([2, 3], new Float32Array([0, 1, 2, 3, 4, 5])));
      const upload = await call(sut.port, 'POST', '/api/v1/reference-sets', {
        token: ops,
        body: npy,
        contentType: 'application/octet-stream',
      });
      expect(upload.json).toMatchObject({ rows: 2, sampleShape: [3], totalBytes: npy.length });
      // A refused mutating call by an operator is recorded with its status too.
      const conflict = await callJson(sut.port, 'POST', '/api/v1/sites/nobody/revoke', ops, {});
      expect(conflict.status).toBe(404);
      expect(JSON.parse((await sut.transcript()).at(-1)?.detail ?? '')).toMatchObject({ status: 404 });
    });

    it('lists tokens without secrets or hashes, and refuses a revoked or expired token from then on', async () => {
      const listed = await call(sut.port, 'GET', '/api/v1/access-tokens', { token: auditor });
      expect(listed.text).not.toContain(auditor);
      expect(listed.text).not.toMatch(/[0-9a-f]{64}/);
      expect((listed.json as { accessTokens: unknown[] }).accessTokens).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            name: 'privacy-officer',
            role: 'auditor',
            createdBy: 'config:operator',
            state: 'active',
          }),
          expect.objectContaining({ name: 'ops', role: 'operator', revokedAt: null }),
        ]),
      );
      const temp = await callJson(sut.port, 'POST', '/api/v1/access-tokens', ops, {
        name: 'temp',
        role: 'auditor',
      });
      const secret = (temp.json as { token: string }).token;
      expect((await call(sut.port, 'GET', '/api/v1/sites', { token: secret })).status).toBe(200);
      const revoked = await callJson(sut.port, 'POST', '/api/v1/access-tokens/temp/revoke', ops, {
        reason: 'test',
      });
      expect(revoked.json).toMatchObject({ name: 'temp', state: 'revoked' });
      const after = await call(sut.port, 'GET', '/api/v1/sites', { token: secret, from: '127.0.0.2' });
      expect(after.status).toBe(401);
      expect((after.json as { error: string }).error).toMatch(/^access token 'temp' was revoked at /);
      const again = await callJson(sut.port, 'POST', '/api/v1/access-tokens/temp/revoke', ops, {});
      expect(again.json).toEqual({ status: 409, error: "access token 'temp' is already revoked" });
      const reused = await callJson(sut.port, 'POST', '/api/v1/access-tokens', ops, {
        name: 'temp',
        role: 'auditor',
      });
      expect(reused.status).toBe(409);
      // Expiry: a token whose time has passed (written straight to the store: no waiting).
      await sut.app.get<CoordinatorStore>(STORE).accessTokens.create({
        name: 'old',
        role: 'operator',
        tokenHash: createHash('sha256').update('fdat_old').digest('hex'),
        createdBy: 'test',
        createdAt: Date.now() - 2000,
        expiresAt: Date.now() - 1000,
      });
      const expired = await call(sut.port, 'GET', '/api/v1/sites', { token: 'fdat_old', from: '127.0.0.2' });
      expect(expired.status).toBe(401);
      expect((expired.json as { error: string }).error).toMatch(/^access token 'old' expired at /);
    });

    it('answers 429 with Retry-After after 10 failed authentications from one address, even to a good token', async () => {
      const from = '127.0.0.9';
      for (let i = 0; i < 10; i++)
        expect((await call(sut.port, 'GET', '/api/v1/sites', { token: `wrong-${i}`, from })).status).toBe(
          401,
        );
      const limited = await call(sut.port, 'GET', '/api/v1/sites', { token: sut.operatorToken, from });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(55);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect((limited.json as { error: string }).error).toMatch(
        /^too many failed authentications from .*127\.0\.0\.9/,
      );
      // Another address is not affected; public routes are not limited.
      expect((await call(sut.port, 'GET', '/api/v1/sites', { token: sut.operatorToken })).status).toBe(200);
      expect((await call(sut.port, 'GET', '/healthz', { from })).status).toBe(200);
      // HEAD is GET without the body: the same route and the same access.
      expect((await call(sut.port, 'HEAD', '/healthz')).status).toBe(200);
      expect((await call(sut.port, 'HEAD', '/api/v1/sites', { from: '127.0.0.3' })).status).toBe(401);
      expect((await call(sut.port, 'HEAD', '/api/v1/sites', { token: auditor })).status).toBe(200);
    });
  });
}
