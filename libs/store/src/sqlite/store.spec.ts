import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import {
  describeCoordinatorStoreContract,
  describeFederationStoreContract,
  describeRoundStoreContract,
  describeStudentStoreContract,
} from '../contracts/coordinator-store.contract';
import { describeAccessTokenStoreContract } from '../contracts/access-tokens.contract';
import { COORDINATOR_MIGRATIONS, migrate } from './migrations';
import { openSqliteCoordinatorStore } from './store';

describeCoordinatorStoreContract('SQLite in memory', () => openSqliteCoordinatorStore(':memory:'));
describeFederationStoreContract('SQLite in memory', () => openSqliteCoordinatorStore(':memory:'));
describeRoundStoreContract('SQLite in memory', () => openSqliteCoordinatorStore(':memory:'));
describeStudentStoreContract('SQLite in memory', () => openSqliteCoordinatorStore(':memory:'));
describeAccessTokenStoreContract('SQLite in memory', () => openSqliteCoordinatorStore(':memory:'));

describe(openSqliteCoordinatorStore.name, () => {
  it('keeps data across a reopen of the same file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-db-'));
    const file = path.join(dir, 'sub', 'coordinator.db');
    const first = openSqliteCoordinatorStore(file);
    await first.enrolments.issue({ tokenHash: 'h', siteName: 'site-a', createdAt: 1, expiresAt: 10 });
    await first.enrolments.redeem({
      tokenHash: 'h',
      siteName: 'site-a',
      signingPublicKey: new Uint8Array(32).fill(1),
      boxPublicKey: new Uint8Array(32).fill(2),
      now: 2,
    });
    await first.close();
    const sut = openSqliteCoordinatorStore(file);
    expect((await sut.sites.list()).map((s) => s.name)).toEqual(['site-a']);
    await sut.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe(migrate.name, () => {
  it('applies every step once and records the version', () => {
    const db = new Database(':memory:');
    expect(migrate(db, COORDINATOR_MIGRATIONS)).toBe(COORDINATOR_MIGRATIONS.length);
    expect(migrate(db, COORDINATOR_MIGRATIONS)).toBe(COORDINATOR_MIGRATIONS.length);
    expect(db.pragma('user_version', { simple: true })).toBe(COORDINATOR_MIGRATIONS.length);
    db.close();
  });

  it('refuses a database written by a newer version', () => {
    const db = new Database(':memory:');
    db.pragma('user_version = 99');
    expect(() => migrate(db, COORDINATOR_MIGRATIONS)).toThrow(/schema version 99 is newer/);
    db.close();
  });
});
