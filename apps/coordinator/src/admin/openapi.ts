import { z } from 'zod';
import { type AdminRouteSpec, openApiPath } from './route-spec';
import { errorBody } from './routes';

/** A JSON Schema or OpenAPI object (plain JSON). */
type Json = Record<string, unknown>;

/** The reason phrases of the statuses the API answers with, as the document describes them. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'the request is invalid: wrong types, unknown fields, bad values (the message names the field)',
  401: 'no token, a malformed Authorization header, or an unknown, expired or revoked token',
  403: "the token's role may not call this route (auditors are read-only)",
  404: 'what the path names does not exist',
  409: 'conflicts with the current state (already exists, already revoked...)',
  413: 'the body is larger than the limit (JSON 1 MiB, NPY files 512 MiB)',
  429: 'too many failed authentications from this address: retry after Retry-After seconds',
  500: 'unexpected error (logged by the coordinator; no details are given)',
};

/** The JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) of what a zod schema accepts as input. */
export function inputSchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

function outputSchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
  return rest;
}

/** The statuses a route can fail with: those its access and body imply, then its own. */
export function errorStatuses(route: AdminRouteSpec): number[] {
  const out = new Set<number>();
  if (route.body) out.add(400);
  if (route.access !== 'public') [401, 429].forEach((s) => out.add(s));
  if (route.access === 'mutate') out.add(403);
  if (route.body && route.body.kind !== 'multipart') out.add(413);
  for (const s of route.errors ?? []) out.add(s);
  out.add(500);
  return [...out].sort((a, b) => a - b);
}

/** The names of a path's parameters, in order (/a/:id/b/:version → [id, version]). */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
}

function requestBody(route: AdminRouteSpec): Json | undefined {
  const body = route.body;
  if (!body) return undefined;
  if (body.kind === 'binary')
    return {
      required: true,
      description: body.description,
      content: { [body.contentType]: { schema: { type: 'string', contentMediaType: body.contentType } } },
    };
  if (body.kind === 'multipart')
    return {
      required: true,
      description: body.description,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: [...body.files],
            properties: Object.fromEntries(
              body.files.map((f) => [f, { type: 'string', contentMediaType: 'application/octet-stream' }]),
            ),
          },
        },
      },
    };
  return {
    // A missing JSON body counts as {} (parseBody): required only if {} is not valid.
    required: !body.schema.safeParse({}).success,
    content: {
      'application/json': {
        schema: inputSchema(body.schema),
        examples: Object.fromEntries(body.examples.map((value, i) => [`example${i + 1}`, { value }])),
      },
    },
  };
}

function operation(route: AdminRouteSpec): Json {
  const success: Json = { description: route.success.description };
  const type = route.success.contentType ?? 'application/json';
  if (route.success.schema) success.content = { [type]: { schema: outputSchema(route.success.schema) } };
  else success.content = { [type]: {} };
  const responses: Json = { [String(route.success.status)]: success };
  for (const status of errorStatuses(route))
    responses[String(status)] = {
      description: STATUS_TEXT[status] ?? 'error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      ...(status === 429
        ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } } }
        : {}),
    };
  const body = requestBody(route);
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    security: route.access === 'public' ? [] : [{ bearer: [] }],
    'x-fedistill-access': route.access,
    'x-fedistill-roles':
      route.access === 'public' ? [] : route.access === 'read' ? ['operator', 'auditor'] : ['operator'],
    parameters: pathParams(route.path)
      .map((name) => ({
        name,
        in: 'path',
        required: true,
        description: route.params?.[name] ?? '',
        schema: { type: 'string' },
      }))
      .concat(
        Object.entries(route.query ?? {}).map(([name, description]) => ({
          name,
          in: 'query',
          required: false,
          description,
          schema: { type: 'string' },
        })),
      ),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the admin API, built from the route registry alone. */
export function buildOpenApiDocument(routes: Readonly<Record<string, AdminRouteSpec>>): Json {
  const paths: Record<string, Json> = {};
  for (const route of Object.values(routes)) {
    const key = openApiPath(route.path);
    paths[key] = { ...(paths[key] ?? {}), [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'fedistill coordinator admin API',
      version: 'v1',
      description:
        'Operators change state; auditors read. Send "Authorization: Bearer <token>". See docs/api.md.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(Object.values(routes).map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: outputSchema(errorBody) },
    },
  };
}
