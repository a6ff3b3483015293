import { type AdminApp, call } from './admin-app.testing';
import { buildOpenApiDocument } from './openapi';
import type { AdminRouteSpec } from './route-spec';
import { ADMIN_ROUTES } from './routes';

/** The contract as served: public, the same as the registry's, covering every route Nest serves. */
export function describeServedContract(app: () => AdminApp): void {
  describe('admin API contract as served', () => {
    it('serves the OpenAPI document without a token, listing every route Nest serves', async () => {
      const sut = app();
      const res = await call(sut.port, 'GET', '/api/v1/openapi.json');
      expect(res.status).toBe(200);
      const doc = res.json as { paths: Record<string, Record<string, unknown>> };
      expect(doc).toEqual(buildOpenApiDocument(ADMIN_ROUTES));
      const documented = Object.entries(doc.paths).flatMap(([p, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`),
      );
      expect([...new Set(sut.routeTable())].sort()).toEqual(documented.sort());
    });

    it('serves a self-contained page of the document (no scripts, nothing fetched elsewhere)', async () => {
      const res = await call(app().port, 'GET', '/api/v1/docs');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
      expect(res.text).not.toMatch(/<script|src=|https?:\/\//i);
      for (const route of Object.values(ADMIN_ROUTES as Record<string, AdminRouteSpec>))
        expect(res.text).toContain(`id="${route.operationId}"`);
    });
  });
}
