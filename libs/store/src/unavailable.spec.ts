import { isStoreUnavailable } from './unavailable';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isStoreUnavailable', () => {
  it('recognizes a database that went away or cannot be reached', () => {
    expect(isStoreUnavailable(withCode('terminating connection due to administrator command', '57P01'))).toBe(
      true,
    );
    expect(isStoreUnavailable(withCode('the database system is shutting down', '57P03'))).toBe(true);
    expect(isStoreUnavailable(withCode('connection failure', '08006'))).toBe(true);
    expect(isStoreUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
    expect(isStoreUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it("recognizes a disk that is full or read-only under the database (SQLite's codes, PostgreSQL's 53100)", () => {
    expect(isStoreUnavailable(withCode('database or disk is full', 'SQLITE_FULL'))).toBe(true);
    expect(isStoreUnavailable(withCode('attempt to write a readonly database', 'SQLITE_READONLY'))).toBe(
      true,
    );
    expect(isStoreUnavailable(withCode('disk I/O error', 'SQLITE_IOERR_WRITE'))).toBe(true);
    expect(isStoreUnavailable(withCode('could not extend file', '53100'))).toBe(true);
    expect(isStoreUnavailable(withCode('ENOSPC: no space left on device, write', 'ENOSPC'))).toBe(true);
    expect(isStoreUnavailable(withCode('EROFS: read-only file system, open', 'EROFS'))).toBe(true);
  });

  it('does not excuse a query the database refused, or anything else', () => {
    expect(isStoreUnavailable(withCode('duplicate key value violates unique constraint', '23505'))).toBe(
      false,
    );
    expect(isStoreUnavailable(withCode('relation "sites" does not exist', '42P01'))).toBe(false);
    expect(isStoreUnavailable(new Error('SQLITE_FULL: database or disk is full'))).toBe(false);
    expect(
      isStoreUnavailable(withCode('UNIQUE constraint failed: sites.name', 'SQLITE_CONSTRAINT_UNIQUE')),
    ).toBe(false);
    expect(isStoreUnavailable(withCode('database is locked', 'SQLITE_BUSY'))).toBe(false);
    expect(isStoreUnavailable('ECONNREFUSED')).toBe(false);
  });
});
