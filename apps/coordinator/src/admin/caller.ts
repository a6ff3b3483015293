import type { Request } from 'express';
import type { AccessRole } from '@fedistill/store';
import type { AdminRouteSpec } from './route-spec';

/** The name the configured operator token (admin.operatorToken) acts under. */
export const BOOTSTRAP_OPERATOR = 'config:operator';

/** Who is calling the admin API: the token's name and role (set by AdminAuthGuard). */
export interface AdminCaller {
  /** The access token's name, or BOOTSTRAP_OPERATOR for the configured operator token. */
  readonly name: string;
  readonly role: AccessRole;
  /** When the token stops working (ISO 8601), or null for the configured operator token. */
  readonly expiresAt: string | null;
}

/** What the guard attaches to an admitted request. */
interface AdmittedRequest extends Request {
  fedistillCaller?: AdminCaller;
  fedistillRoute?: AdminRouteSpec;
}

export function attachCaller(req: Request, caller: AdminCaller, route: AdminRouteSpec): void {
  (req as AdmittedRequest).fedistillCaller = caller;
  (req as AdmittedRequest).fedistillRoute = route;
}

/** The authenticated caller of a request that passed the guard (undefined on public routes). */
export function callerOf(req: Request): AdminCaller | undefined {
  return (req as AdmittedRequest).fedistillCaller;
}

/** The registry entry of the route a request was admitted to. */
export function routeOf(req: Request): AdminRouteSpec | undefined {
  return (req as AdmittedRequest).fedistillRoute;
}
