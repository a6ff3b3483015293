import { createHash } from 'node:crypto';
import type { CoordinatorStore } from '@fedistill/store';
import { STORE } from '../tokens';
import { type AdminApp, call, concretePath, snapshotDatabase } from './admin-app.testing';
import { JSON_BODY_LIMIT_BYTES } from './http-app';
import { inputSchema } from './openapi';
import type { AdminRouteSpec } from './route-spec';
import { ADMIN_ROUTES } from './routes';

type Json = Record<string, unknown>;

/** One bad request and the documented answer: a status and an error message that names the cause. */
interface Row {
  readonly name: string;
  readonly route: AdminRouteSpec;
  readonly token: 'operator' | 'none' | string;
  readonly body?: string | Buffer;
  readonly contentType?: string;
  readonly path?: string;
  readonly status: number;
  readonly error: RegExp;
}

const routes = Object.values(ADMIN_ROUTES as Record<string, AdminRouteSpec>);
const jsonRoutes = routes.filter((r) => r.body?.kind === 'json');

/** A value whose JSON type the documented `type` does not allow (or undefined if none is known). */
function wrongTypeFor(schema: Json): unknown {
  const allowed = new Set([schema.type].flat().filter((t): t is string => typeof t === 'string'));
  if (allowed.size === 0) return undefined;
  const candidates: Array<[string[], unknown]> = [
    [['integer', 'number'], 12345],
    [['string'], 'not-a-valid-value'],
    [['boolean'], true],
    [['array'], ['x']],
    [['object'], { x: 1 }],
  ];
  return candidates.find(([types]) => !types.some((t) => allowed.has(t)))?.[1];
}

/** Bad bodies derived from the route's documented schema, so the document is checked too. */
function bodyRows(route: AdminRouteSpec): Row[] {
  if (route.body?.kind !== 'json') return [];
  const doc = inputSchema(route.body.schema) as { properties?: Record<string, Json>; required?: string[] };
  const example = route.body.examples[0] as Json;
  const row = (name: string, body: unknown, error: RegExp): Row => ({
    name: `${route.operationId}: ${name}`,
    route,
    token: 'operator',
    body: JSON.stringify(body),
    status: 400,
    error,
  });
  const rows = [
    row('an unknown field', { ...example, unexpectedField: 1 }, /unexpectedField/),
    row('an array instead of an object', [example], /expected object, received array/),
  ];
  for (const [prop, schema] of Object.entries(doc.properties ?? {})) {
    const wrong = wrongTypeFor(schema);
    if (wrong !== undefined)
      rows.push(
        row(`'${prop}' of the wrong type`, { ...example, [prop]: wrong }, new RegExp(`(^|[ ;(])${prop}: `)),
      );
  }
  for (const prop of doc.required ?? []) {
    const { [prop]: _dropped, ...rest } = example;
    rows.push(row(`'${prop}' missing`, rest, new RegExp(`(^|[ ;(])${prop}: `)));
  }
  return rows;
}

/**
 * Bad input on every route: wrong types, unknown fields, missing fields, malformed and oversized
 * bodies, bad path parameters, and missing, malformed, unknown, expired and revoked tokens. Each
 * gets its documented status and {error, status} body, and the database is left exactly as it was.
 */
export function describeBadInput(app: () => AdminApp): void {
  describe('admin API bad input (table-driven, every route)', () => {
    let sut: AdminApp;
    let revoked: string;
    const expired = 'fdat_expired-token-for-the-bad-input-table';

    beforeAll(async () => {
      sut = app();
      const op = { token: sut.operatorToken };
      const made = await call(sut.port, 'POST', '/api/v1/access-tokens', {
        ...op,
        body: JSON.stringify({ name: 'bad-input-revoked', role: 'operator' }),
      });
      revoked = (made.json as { token: string }).token;
      await call(sut.port, 'POST', '/api/v1/access-tokens/bad-input-revoked/revoke', { ...op, body: '{}' });
      await sut.app.get<CoordinatorStore>(STORE).accessTokens.create({
        name: 'bad-input-expired',
        role: 'operator',
        tokenHash: createHash('sha256').update(expired).digest('hex'),
        createdBy: 'test',
        createdAt: Date.now() - 2000,
        expiresAt: Date.now() - 1000,
      });
    });

    const tokenRows = (): Row[] =>
      routes
        .filter((r) => r.access !== 'public')
        .flatMap((route) =>
          (
            [
              ['no token', 'none', /^missing Authorization header/],
              ['an unknown token', 'fdat_unknown', /^wrong operator token or unknown access token$/],
              ['a revoked token', revoked, /^access token 'bad-input-revoked' was revoked at /],
              ['an expired token', expired, /^access token 'bad-input-expired' expired at /],
            ] as const
          ).map(([name, token, error]) => ({
            name: `${route.operationId}: ${name}`,
            route,
            token,
            status: 401,
            error,
          })),
        );

    const otherRows = (): Row[] => [
      ...jsonRoutes.flatMap((route) => [
        {
          name: `${route.operationId}: malformed JSON`,
          route,
          token: 'operator',
          body: '{"site":',
          status: 400,
          error: /^request body is not valid JSON: /,
        },
        {
          name: `${route.operationId}: a body over the 1 MiB limit`,
          route,
          token: 'operator',
          body: JSON.stringify({ pad: 'x'.repeat(JSON_BODY_LIMIT_BYTES) }),
          status: 413,
          error: /^request body is larger than the limit \(1048576 bytes\)$/,
        },
      ]),
      {
        name: 'registerReferenceSet: an empty body',
        route: ADMIN_ROUTES.registerReferenceSet,
        token: 'operator',
        body: Buffer.alloc(0),
        contentType: 'application/octet-stream',
        status: 400,
        error: /^send the reference set \(an NPY file\) as the body/,
      },
      {
        name: 'registerReferenceSet: JSON instead of an NPY file',
        route: ADMIN_ROUTES.registerReferenceSet,
        token: 'operator',
        body: '{}',
        status: 400,
        error: /^send the reference set/,
      },
      {
        name: 'registerReferenceSet: bytes that are not NPY',
        route: ADMIN_ROUTES.registerReferenceSet,
        token: 'operator',
        body: Buffer.from('not an npy file'),
        contentType: 'application/octet-stream',
        status: 400,
        error: /^reference set: /,
      },
      {
        name: 'putEvaluationSet: no files',
        route: ADMIN_ROUTES.putEvaluationSet,
        token: 'operator',
        body: '{}',
        status: 400,
        error: /multipart\/form-data body with two NPY files/,
      },
      {
        name: 'getStudent: a version that is not a number',
        route: ADMIN_ROUTES.getStudent,
        token: 'operator',
        path: '/api/v1/federations/nothing-here/students/abc',
        status: 400,
        error: /^student version must be a number >= 1 or 'latest', not 'abc'$/,
      },
      {
        name: 'getFederation: an unknown federation',
        route: ADMIN_ROUTES.getFederation,
        token: 'operator',
        status: 404,
        error: /^federation 'nothing-here' does not exist$/,
      },
      {
        name: 'revokeAccessToken: an unknown token name',
        route: ADMIN_ROUTES.revokeAccessToken,
        token: 'operator',
        body: '{}',
        status: 404,
        error: /^access token 'nothing-here' does not exist$/,
      },
      {
        name: 'createAccessToken: a role that does not exist',
        route: ADMIN_ROUTES.createAccessToken,
        token: 'operator',
        body: JSON.stringify({ name: 'x', role: 'admin' }),
        status: 400,
        error: /^role: Invalid option: expected one of "operator"\|"auditor"$/,
      },
      {
        name: 'createAccessToken: a name with capitals, a ttl past the maximum',
        route: ADMIN_ROUTES.createAccessToken,
        token: 'operator',
        body: JSON.stringify({ name: 'Bad Name', role: 'auditor' }),
        status: 400,
        error: /^name: must be 1-64 lower-case/,
      },
      {
        name: 'createAccessToken: a ttl past admin.accessTokens.maxTtl',
        route: ADMIN_ROUTES.createAccessToken,
        token: 'operator',
        body: JSON.stringify({ name: 'long', role: 'auditor', ttl: '400d' }),
        status: 400,
        error: /^ttl: must be more than 0 and at most admin.accessTokens.maxTtl \(365 days\)$/,
      },
    ];

    it('covers every route with a JSON body, and every route with a token', () => {
      const covered = new Set(
        [...otherRows(), ...jsonRoutes.flatMap(bodyRows)].map((r) => r.route.operationId),
      );
      expect(jsonRoutes.filter((r) => !covered.has(r.operationId))).toEqual([]);
      expect(jsonRoutes.flatMap(bodyRows).length).toBeGreaterThan(jsonRoutes.length * 3);
    });

    it('answers each bad request with its documented status and message, changing nothing', async () => {
      const rows = [...tokenRows(), ...jsonRoutes.flatMap(bodyRows), ...otherRows()];
      const failures: string[] = [];
      // No row may change anything, so every row must leave the database as the first found it.
      const before = snapshotDatabase(sut.dbFile);
      for (const [i, row] of rows.entries()) {
        const res = await call(sut.port, row.route.method, row.path ?? concretePath(row.route.path), {
          ...(row.token === 'none'
            ? {}
            : { token: row.token === 'operator' ? sut.operatorToken : row.token }),
          ...(row.body === undefined ? {} : { body: row.body }),
          ...(row.contentType ? { contentType: row.contentType } : {}),
          // One source address per row: refused tokens must not add up to the rate limit.
          from: `127.0.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`,
        });
        const body = res.json as { error?: unknown; status?: unknown } | undefined;
        const ok =
          res.status === row.status &&
          body?.status === row.status &&
          typeof body.error === 'string' &&
          row.error.test(body.error);
        if (!ok) failures.push(`${row.name}: got ${res.status} ${res.text.slice(0, 200)}`);
        expect({ row: row.name, db: snapshotDatabase(sut.dbFile) }).toEqual({ row: row.name, db: before });
      }
      expect(failures).toEqual([]);
      expect(rows.length).toBeGreaterThan(150);
    }, 60_000);
  });
}
