import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOpenApiDocument, errorStatuses, inputSchema, pathParams } from './openapi';
import { type AdminRouteSpec, openApiPath } from './route-spec';
import { ADMIN_ROUTES } from './routes';

type Json = Record<string, unknown>;
const routes = Object.values(ADMIN_ROUTES as Record<string, AdminRouteSpec>);
const jsonRoutes = routes.filter(
  (r): r is AdminRouteSpec & { body: { kind: 'json' } & Json } => r.body?.kind === 'json',
);
const doc = buildOpenApiDocument(ADMIN_ROUTES) as { paths: Record<string, Record<string, Json>> };
const operationOf = (r: AdminRouteSpec) => doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()] as Json;

describe(buildOpenApiDocument.name, () => {
  it('documents every registry route once, with a unique operationId and its path parameters', () => {
    const ids = routes.map((r) => r.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const route of routes) {
      const op = operationOf(route);
      expect(op.operationId).toBe(route.operationId);
      const params = (op.parameters as Array<{ name: string; in: string; description: string }>).filter(
        (p) => p.in === 'path',
      );
      expect(params.map((p) => p.name)).toEqual(pathParams(route.path));
      expect(params.filter((p) => p.description === '')).toEqual([]);
    }
  });

  it('gives each route the statuses its access implies: 401 and 429 with a token, 403 when mutating', () => {
    for (const route of routes) {
      const statuses = Object.keys(operationOf(route).responses as Json).map(Number);
      expect(statuses).toEqual([route.success.status, ...errorStatuses(route)]);
      expect(statuses.includes(401)).toBe(route.access !== 'public');
      expect(statuses.includes(403)).toBe(route.access === 'mutate');
      expect(operationOf(route).security).toEqual(route.access === 'public' ? [] : [{ bearer: [] }]);
    }
  });

  it('has every route, with its roles, in the route table of docs/api.md', () => {
    const docs = fs.readFileSync(path.resolve(__dirname, '../../../../docs/api.md'), 'utf8');
    const roles = { public: 'anyone', read: 'operator, auditor', mutate: 'operator' };
    const missing = routes
      .map((r) => `| \`${r.method} ${r.path}\` | ${roles[r.access]} | \`${r.operationId}\` |`)
      .filter((row) => !docs.includes(row));
    expect(missing).toEqual([]);
  });

  describe('agrees with the validation the routes run', () => {
    it.each(jsonRoutes.map((r) => [r.operationId, r] as const))(
      '%s: documented examples validate; documented optional fields may be left out',
      (_id, route) => {
        const schema = route.body.schema;
        const documented = (operationOf(route).requestBody as Json).content as Record<string, Json>;
        const body = documented['application/json'] as {
          schema: Json;
          examples: Record<string, { value: Json }>;
        };
        expect(body.schema).toEqual(inputSchema(schema));
        const required = new Set((body.schema.required as string[] | undefined) ?? []);
        for (const { value } of Object.values(body.examples)) {
          expect(schema.safeParse(value).success).toBe(true);
          for (const key of Object.keys(value).filter((k) => !required.has(k))) {
            const { [key]: _left, ...rest } = value;
            expect({ key, valid: schema.safeParse(rest).success }).toEqual({ key, valid: true });
          }
          for (const key of required) {
            const { [key]: _left, ...rest } = value;
            expect({ key, valid: schema.safeParse(rest).success }).toEqual({ key, valid: false });
          }
        }
        // additionalProperties: false in the document ⇔ the validation refuses an unknown field.
        const example = Object.values(body.examples)[0]?.value ?? {};
        expect(schema.safeParse({ ...example, unexpectedField: 1 }).success).toBe(
          body.schema.additionalProperties !== false,
        );
        // A body the document says is optional is valid when absent ({}), and vice versa.
        expect((operationOf(route).requestBody as Json).required).toBe(!schema.safeParse({}).success);
      },
    );
  });
});
