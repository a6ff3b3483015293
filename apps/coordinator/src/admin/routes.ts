// Just over the ~300-line guide: this is the one table of every admin route (routing, access,
// validation and the OpenAPI document read it), and splitting it would scatter the contract.
import { z } from 'zod';
import { federationSpecSchema } from '@fedistill/protocol';
import { ACCESS_ROLES } from '@fedistill/store';
import type { AdminRouteSpec } from './route-spec';

/** Access token names: also what the transcript records as the caller. */
export const ACCESS_TOKEN_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const ttl = z.string().describe('a duration such as 30m, 24h or 7d');
const iso = z.string().describe('RFC 3339 UTC time');

/** The body of every error response. */
export const errorBody = z.object({ error: z.string(), status: z.number().int() }).strict();

const enrolmentTokenBody = z
  .object({
    site: z.string().describe('the site the token enrols (lower-case letters, digits, hyphens)'),
    ttl: ttl.optional(),
  })
  .strict();
const revokeSiteBody = z.object({ reason: z.string().max(512).optional() }).strict();
const startRoundBody = z
  .object({
    evaluate: z.boolean().default(false).describe('open a secure evaluation of a published student'),
    studentVersion: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('with evaluate: the version (default latest)'),
  })
  .strict();
const addSiteBody = z.object({ site: z.string() }).strict();
const createAccessTokenBody = z
  .object({
    name: z
      .string()
      .regex(ACCESS_TOKEN_NAME, 'must be 1-64 lower-case letters, digits, dots, hyphens or underscores')
      .describe('unique for ever; the transcript records calls under this name'),
    role: z.enum(ACCESS_ROLES).describe('operator: everything; auditor: read-only'),
    ttl: ttl.optional().describe('lifetime (default admin.accessTokens.defaultTtl, 30d)'),
  })
  .strict();
const revokeAccessTokenBody = z.object({ reason: z.string().max(512).optional() }).strict();

const siteView = z
  .object({
    name: z.string(),
    online: z.boolean(),
    enrolledAt: iso,
    lastSeenAt: iso.nullable(),
    revoked: z.boolean(),
    revokedAt: iso.nullable(),
    revokedReason: z.string().nullable(),
    signingPublicKey: z.string().describe('Ed25519 public key, hex'),
    nodeVersion: z.string().nullable().describe('the node software version from its last heartbeat'),
  })
  .strict();
export const callerView = z
  .object({ name: z.string(), role: z.enum(ACCESS_ROLES), expiresAt: iso.nullable() })
  .strict();
export const accessTokenView = z
  .object({
    name: z.string(),
    role: z.enum(ACCESS_ROLES),
    createdBy: z.string(),
    createdAt: iso,
    expiresAt: iso,
    revokedAt: iso.nullable(),
    state: z.enum(['active', 'expired', 'revoked']),
  })
  .strict();
export const issuedAccessToken = z
  .object({
    name: z.string(),
    role: z.enum(ACCESS_ROLES),
    token: z.string().describe('the secret: shown once, stored only as its SHA-256'),
    expiresAt: iso,
  })
  .strict();
const object = (what: string) => z.looseObject({}).describe(what);

const federation = { id: 'federation id' } as const;
const student = { id: 'federation id', version: "a version >= 1, or 'latest'" } as const;

/** Every route of the admin HTTP API, keyed by operationId. */
export const ADMIN_ROUTES = {
  health: {
    operationId: 'health',
    method: 'GET',
    path: '/healthz',
    access: 'public',
    tag: 'service',
    summary: 'Liveness for load balancers and scripts',
    success: { status: 200, description: 'up', schema: z.object({ status: z.literal('ok') }).strict() },
  },
  openApiDocument: {
    operationId: 'openApiDocument',
    method: 'GET',
    path: '/api/v1/openapi.json',
    access: 'public',
    tag: 'service',
    summary: 'This document (OpenAPI 3.1); public: it holds no data',
    success: { status: 200, description: 'the OpenAPI document', schema: object('OpenAPI 3.1 document') },
  },
  apiDocs: {
    operationId: 'apiDocs',
    method: 'GET',
    path: '/api/v1/docs',
    access: 'public',
    tag: 'service',
    summary: 'This document as a browsable page (self-contained HTML, no scripts)',
    success: { status: 200, description: 'HTML page', contentType: 'text/html' },
  },
  whoami: {
    operationId: 'whoami',
    method: 'GET',
    path: '/api/v1/whoami',
    access: 'read',
    tag: 'access',
    summary: "The caller's token name, role and expiry",
    success: { status: 200, description: 'the caller', schema: callerView },
  },
  createAccessToken: {
    operationId: 'createAccessToken',
    method: 'POST',
    path: '/api/v1/access-tokens',
    access: 'mutate',
    tag: 'access',
    summary: 'Create a named access token with a role and an expiry (the secret is shown once)',
    body: {
      kind: 'json',
      schema: createAccessTokenBody,
      examples: [
        { name: 'privacy-officer', role: 'auditor', ttl: '30d' },
        { name: 'ops-2', role: 'operator' },
      ],
    },
    success: { status: 201, description: 'the new token', schema: issuedAccessToken },
    errors: [409],
  },
  listAccessTokens: {
    operationId: 'listAccessTokens',
    method: 'GET',
    path: '/api/v1/access-tokens',
    access: 'read',
    tag: 'access',
    summary: 'Every access token (names, roles, expiry, revocation; never the secrets)',
    success: {
      status: 200,
      description: 'the tokens, oldest first',
      schema: z.object({ accessTokens: z.array(accessTokenView) }).strict(),
    },
  },
  revokeAccessToken: {
    operationId: 'revokeAccessToken',
    method: 'POST',
    path: '/api/v1/access-tokens/:name/revoke',
    access: 'mutate',
    tag: 'access',
    summary: 'Revoke an access token: it is refused from the next request on',
    params: { name: 'access token name' },
    body: { kind: 'json', schema: revokeAccessTokenBody, examples: [{}, { reason: 'left the project' }] },
    success: { status: 200, description: 'the revoked token', schema: accessTokenView },
    errors: [404, 409],
  },
  createEnrolmentToken: {
    operationId: 'createEnrolmentToken',
    method: 'POST',
    path: '/api/v1/enrolment-tokens',
    access: 'mutate',
    tag: 'sites',
    summary: 'Issue a one-time, expiring enrolment token for a site',
    body: { kind: 'json', schema: enrolmentTokenBody, examples: [{ site: 'st-marys', ttl: '24h' }] },
    success: {
      status: 201,
      description: 'the token',
      schema: z
        .object({ token: z.string(), site: z.string(), expiresAt: z.number().int(), expiresAtIso: iso })
        .strict(),
    },
    errors: [409],
  },
  listSites: {
    operationId: 'listSites',
    method: 'GET',
    path: '/api/v1/sites',
    access: 'read',
    tag: 'sites',
    summary: 'Enrolled sites: online, last seen, revoked',
    success: {
      status: 200,
      description: 'the sites',
      schema: z.object({ sites: z.array(siteView) }).strict(),
    },
  },
  revokeSite: {
    operationId: 'revokeSite',
    method: 'POST',
    path: '/api/v1/sites/:name/revoke',
    access: 'mutate',
    tag: 'sites',
    summary: 'Revoke a site: its requests are refused from now on',
    params: { name: 'site name' },
    body: { kind: 'json', schema: revokeSiteBody, examples: [{ reason: 'decommissioned' }, {}] },
    success: { status: 200, description: 'the revoked site', schema: siteView },
    errors: [404, 409],
  },
  registerReferenceSet: {
    operationId: 'registerReferenceSet',
    method: 'POST',
    path: '/api/v1/reference-sets',
    access: 'mutate',
    tag: 'federations',
    summary: 'Register a reference set (an NPY file, float32/float64, [rows, ...input shape])',
    body: {
      kind: 'binary',
      contentType: 'application/octet-stream',
      description: 'the NPY file (at most 512 MiB)',
    },
    success: {
      status: 201,
      description: 'sha256, totalBytes, chunks, rows, sampleShape',
      schema: object('ReferenceSetView'),
    },
  },
  createFederation: {
    operationId: 'createFederation',
    method: 'POST',
    path: '/api/v1/federations',
    access: 'mutate',
    tag: 'federations',
    summary: 'Create a federation from its definition (docs/federations.md)',
    body: {
      kind: 'json',
      schema: federationSpecSchema,
      examples: [
        {
          id: 'demo',
          labels: ['a', 'b'],
          input: { shape: [4] },
          referenceSet: { sha256: 'a'.repeat(64) },
          student: { architecture: 'mlp' },
          privacy: { mechanism: 'skellam', noiseMultiplier: 1.2, epsilonCap: 8 },
        },
      ],
    },
    success: { status: 201, description: 'the federation', schema: object('FederationView') },
    errors: [404, 409],
  },
  listFederations: {
    operationId: 'listFederations',
    method: 'GET',
    path: '/api/v1/federations',
    access: 'read',
    tag: 'federations',
    summary: 'Every federation',
    success: { status: 200, description: '{federations: FederationView[]}', schema: object('{federations}') },
  },
  getFederation: {
    operationId: 'getFederation',
    method: 'GET',
    path: '/api/v1/federations/:id',
    access: 'read',
    tag: 'federations',
    summary: 'One federation: its definition and members',
    params: federation,
    success: { status: 200, description: 'the federation', schema: object('FederationView') },
    errors: [404],
  },
  addFederationSite: {
    operationId: 'addFederationSite',
    method: 'POST',
    path: '/api/v1/federations/:id/sites',
    access: 'mutate',
    tag: 'federations',
    summary: 'Add an enrolled site to a federation',
    params: federation,
    body: { kind: 'json', schema: addSiteBody, examples: [{ site: 'st-marys' }] },
    success: { status: 200, description: 'the federation', schema: object('FederationView') },
    errors: [404, 409],
  },
  startRound: {
    operationId: 'startRound',
    method: 'POST',
    path: '/api/v1/federations/:id/rounds',
    access: 'mutate',
    tag: 'rounds',
    summary: "Open the federation's next round (or a secure evaluation of a student)",
    params: federation,
    body: { kind: 'json', schema: startRoundBody, examples: [{}, { evaluate: true, studentVersion: 1 }] },
    success: { status: 201, description: 'the round', schema: object('RoundView') },
    errors: [404, 409],
  },
  listRounds: {
    operationId: 'listRounds',
    method: 'GET',
    path: '/api/v1/federations/:id/rounds',
    access: 'read',
    tag: 'rounds',
    summary: "The federation's rounds, their stages and students",
    params: federation,
    success: { status: 200, description: '{rounds: RoundView[]}', schema: object('{rounds}') },
    errors: [404],
  },
  listStudents: {
    operationId: 'listStudents',
    method: 'GET',
    path: '/api/v1/federations/:id/students',
    access: 'read',
    tag: 'students',
    summary: 'Published students with their model cards',
    params: federation,
    success: { status: 200, description: '{students: StudentView[]}', schema: object('{students}') },
    errors: [404],
  },
  getStudent: {
    operationId: 'getStudent',
    method: 'GET',
    path: '/api/v1/federations/:id/students/:version',
    access: 'read',
    tag: 'students',
    summary: 'One published student and its model card',
    params: student,
    success: { status: 200, description: 'the student', schema: object('StudentView') },
    errors: [400, 404],
  },
  getStudentModel: {
    operationId: 'getStudentModel',
    method: 'GET',
    path: '/api/v1/federations/:id/students/:version/model',
    access: 'read',
    tag: 'students',
    summary: "The student's ONNX file (SHA-256 in X-Fedistill-Sha256)",
    params: student,
    success: { status: 200, description: 'the ONNX file', contentType: 'application/octet-stream' },
    errors: [400, 404],
  },
  putEvaluationSet: {
    operationId: 'putEvaluationSet',
    method: 'PUT',
    path: '/api/v1/federations/:id/evaluation-set',
    access: 'mutate',
    tag: 'students',
    summary: "Register the federation's labelled evaluation set (kept by the coordinator only)",
    params: federation,
    body: {
      kind: 'multipart',
      files: ['inputs', 'labels'],
      description: 'inputs: NPY [rows, ...input shape] float32/float64; labels: NPY [rows] integers',
    },
    success: { status: 200, description: 'the evaluation set', schema: object('EvaluationSetView') },
    errors: [404],
  },
  getEvaluationSet: {
    operationId: 'getEvaluationSet',
    method: 'GET',
    path: '/api/v1/federations/:id/evaluation-set',
    access: 'read',
    tag: 'students',
    summary: "The federation's evaluation set (hashes and size)",
    params: federation,
    success: { status: 200, description: 'the evaluation set', schema: object('EvaluationSetView') },
    errors: [404],
  },

  // Served by the dashboard (apps/coordinator/src/console) and the metrics (../metrics): their
  // controllers keep Nest's own decorators; these entries give them their access and contract.
  metrics: {
    operationId: 'metrics',
    method: 'GET',
    path: '/metrics',
    access: 'read',
    tag: 'service',
    summary: 'Prometheus metrics (text exposition format)',
    success: { status: 200, description: 'the metrics', contentType: 'text/plain' },
  },
  consolePrivacy: {
    operationId: 'consolePrivacy',
    method: 'GET',
    path: '/api/v1/console/federations/:id/privacy',
    access: 'read',
    tag: 'console',
    summary: 'Epsilon spent per site over rounds, against the limits',
    params: federation,
    success: { status: 200, description: 'PrivacyBySite', schema: object('PrivacyBySite') },
    errors: [404],
  },
  consoleAudit: {
    operationId: 'consoleAudit',
    method: 'GET',
    path: '/api/v1/console/audit',
    access: 'read',
    tag: 'console',
    summary: "Verification status of the coordinator's transcript and the anchors received",
    success: { status: 200, description: 'TranscriptStatus', schema: object('TranscriptStatus') },
  },
  consoleAuditReport: {
    operationId: 'consoleAuditReport',
    method: 'GET',
    path: '/api/v1/console/audit/report',
    access: 'read',
    tag: 'console',
    summary: "The transcript's audit report as a download",
    query: { format: 'html (default), md or json' },
    success: { status: 200, description: 'the report', contentType: 'text/html' },
    errors: [400],
  },
  consoleRoot: {
    operationId: 'consoleRoot',
    method: 'GET',
    path: '/',
    access: 'public',
    tag: 'console',
    summary: 'Redirects to the dashboard',
    success: { status: 302, description: 'to /console/' },
  },
  consoleIndex: {
    operationId: 'consoleIndex',
    method: 'GET',
    path: '/console',
    access: 'public',
    tag: 'console',
    summary: "The dashboard's page (it holds no data; its API calls carry the pasted token)",
    success: { status: 200, description: 'HTML page', contentType: 'text/html' },
  },
  consoleFile: {
    operationId: 'consoleFile',
    method: 'GET',
    path: '/console/:file',
    access: 'public',
    tag: 'console',
    summary: "The dashboard's scripts and styles",
    params: { file: 'a file of the built dashboard' },
    success: { status: 200, description: 'the file', contentType: 'application/octet-stream' },
    errors: [404],
  },
} as const satisfies Record<string, AdminRouteSpec>;

export type AdminRouteId = keyof typeof ADMIN_ROUTES;

const BY_METHOD_AND_PATH = new Map(
  Object.values(ADMIN_ROUTES as Record<string, AdminRouteSpec>).map((r) => [`${r.method} ${r.path}`, r]),
);

/** The registry entry of a route, by HTTP method and path pattern (/api/v1/federations/:id). */
export function findAdminRoute(method: string, pattern: string): AdminRouteSpec | undefined {
  return BY_METHOD_AND_PATH.get(`${method.toUpperCase()} ${pattern}`);
}

/** The routes an auditor may call (every `read` route), as "METHOD /path". */
export const READ_ROUTES: readonly string[] = Object.values(ADMIN_ROUTES as Record<string, AdminRouteSpec>)
  .filter((r) => r.access === 'read')
  .map((r) => `${r.method} ${r.path}`);
