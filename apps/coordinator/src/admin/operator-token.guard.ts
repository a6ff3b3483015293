/**
 * The former operator-only guard, now the admin API's role guard (admin-auth.guard.ts). Kept as a
 * name so that controllers written against it keep compiling; AdminAuthGuard already runs on every
 * route as the application's guard, and running it again here only repeats the role check.
 */
export { AdminAuthGuard as OperatorTokenGuard } from './admin-auth.guard';
