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

  it('does not excuse a query the database refused, or anything else', () => {
    expect(isStoreUnavailable(withCode('duplicate key value violates unique constraint', '23505'))).toBe(
      false,
    );
    expect(isStoreUnavailable(withCode('relation "sites" does not exist', '42P01'))).toBe(false);
    expect(isStoreUnavailable(new Error('SQLITE_FULL: database or disk is full'))).toBe(false);
    expect(isStoreUnavailable('ECONNREFUSED')).toBe(false);
  });
});
