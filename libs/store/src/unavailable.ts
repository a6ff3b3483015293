/**
 * Whether `err` says the database could not be reached or went away mid-query (PostgreSQL
 * restarting, the network to it cut), as opposed to a query the database refused. Such a failure
 * is transient: a caller may try again, and the coordinator answers it as UNAVAILABLE (which the
 * nodes retry until the stage's deadline) rather than INTERNAL (which ends their attempt).
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // SQLSTATE class 08 (connection exception); 57P01..57P03: admin shutdown, crash shutdown,
    // cannot connect now (starting up or shutting down).
    if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code))
      return true;
  }
  // pg's own messages for a connection that ended under a query or could not be opened in time.
  return /^Connection terminated( unexpectedly| due to connection timeout)?$/.test(err.message);
}
