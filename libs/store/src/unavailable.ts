/**
 * Whether `err` says the database could not be reached or went away mid-query (PostgreSQL
 * restarting, the network to it cut), or could not write because its disk is full or read-only
 * (SQLite's SQLITE_FULL, SQLITE_READONLY*, SQLITE_IOERR*; PostgreSQL's 53100 disk_full), as
 * opposed to a query the database refused. Such a failure is transient (once the database is
 * back or the disk freed or repaired): a caller may try again, and the coordinator answers it as
 * UNAVAILABLE (which the nodes retry until the stage's deadline) rather than INTERNAL (which
 * ends their attempt).
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // SQLSTATE class 08 (connection exception); 57P01..57P03: admin shutdown, crash shutdown,
    // cannot connect now (starting up or shutting down); 53100: disk full.
    if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code) || code === '53100') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code))
      return true;
    // better-sqlite3's extended result codes: the disk is full, read-only, or failing.
    if (/^SQLITE_(FULL|READONLY|IOERR)(_[A-Z_]+)?$/.test(code)) return true;
    if (['ENOSPC', 'EROFS', 'EIO'].includes(code)) return true;
  }
  // pg's own messages for a connection that ended under a query or could not be opened in time.
  return /^Connection terminated( unexpectedly| due to connection timeout)?$/.test(err.message);
}
