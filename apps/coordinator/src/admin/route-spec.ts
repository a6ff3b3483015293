import { applyDecorators, HttpCode, RequestMapping, RequestMethod, SetMetadata } from '@nestjs/common';
import type { z } from 'zod';
import { RequestInvalidError } from '../domain/errors';

/**
 * Who may call a route: anyone (`public`), any valid token (`read`), or operators only
 * (`mutate`: the route changes the coordinator's state and is recorded in the transcript).
 */
export type RouteAccess = 'public' | 'read' | 'mutate';

/** A request body: JSON validated by `schema`, raw bytes, or a multipart form of files. */
export type RouteBody =
  | {
      readonly kind: 'json';
      readonly schema: z.ZodType;
      /** Valid bodies, shown in the document and checked against the validation by a test. */
      readonly examples: readonly unknown[];
    }
  | { readonly kind: 'binary'; readonly contentType: string; readonly description: string }
  | { readonly kind: 'multipart'; readonly files: readonly string[]; readonly description: string };

/**
 * One admin route: the single description that Nest's routing (AdminRoute), the access check
 * (AdminAuthGuard), the body validation (parseBody) and the OpenAPI document all read.
 */
export interface AdminRouteSpec {
  readonly operationId: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Nest/Express style: /api/v1/federations/:id. */
  readonly path: string;
  readonly access: RouteAccess;
  readonly tag: string;
  readonly summary: string;
  /** Path parameters and what they are. */
  readonly params?: Readonly<Record<string, string>>;
  /** Query parameters (all optional strings) and what they are. */
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: RouteBody;
  readonly success: {
    readonly status: number;
    readonly description: string;
    /** JSON response schema; leave out for bodies described in `description` only. */
    readonly schema?: z.ZodType;
    /** Default application/json. */
    readonly contentType?: string;
  };
  /** Statuses this route can answer besides the ones its access and body imply (404, 409...). */
  readonly errors?: readonly number[];
}

/** Metadata key under which AdminRoute stores the route's spec on the handler. */
export const ADMIN_ROUTE = 'fedistill:admin-route';

/** Declares a Nest handler from its registry entry: method, path, success status and access. */
export function AdminRoute(spec: AdminRouteSpec): MethodDecorator {
  return applyDecorators(
    RequestMapping({ path: spec.path, method: RequestMethod[spec.method] }),
    HttpCode(spec.success.status),
    SetMetadata(ADMIN_ROUTE, spec),
  );
}

/** The path in OpenAPI form: /api/v1/federations/{id}. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** "a.b: message" for each problem ("body: message" for the body as a whole), as federation specs do. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}

/**
 * Validates a JSON body with the route's registry schema (a missing body counts as {}), so that
 * what is validated is what the OpenAPI document says. Throws RequestInvalidError naming each problem.
 */
export function parseBody<T>(
  spec: AdminRouteSpec & { body: { kind: 'json'; schema: z.ZodType<T> } },
  body: unknown,
): T {
  const parsed = spec.body.schema.safeParse(body ?? {});
  if (!parsed.success) throw new RequestInvalidError(describeIssues(parsed.error.issues));
  return parsed.data;
}
