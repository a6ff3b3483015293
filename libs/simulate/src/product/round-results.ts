import * as path from 'node:path';
import Database from 'better-sqlite3';
import { RdpAccountant } from '@fedistill/dp';
import { releasePlanOf } from '@fedistill/protocol';
import { openSqliteCoordinatorStore } from '@fedistill/store';
import { type CompletedRound, completedRounds } from '../../../../apps/coordinator/src';

/** What the simulator reads back from its own deployment's coordinator store after the rounds. */
export interface DeployedRounds {
  readonly completed: readonly CompletedRound[];
  /** The federation's RDP curve over the completed rounds' releases (what the model card reports). */
  readonly accountant: RdpAccountant;
}

/** The completed rounds in the coordinator's database under `dataDir` (opened for reading). */
export async function readDeployedRounds(dataDir: string, federationId: string): Promise<DeployedRounds> {
  const store = openSqliteCoordinatorStore(path.join(dataDir, 'coordinator.db'));
  try {
    const completed = completedRounds(await store.rounds.list(federationId));
    const accountant = new RdpAccountant();
    for (const r of completed) {
      const mechanism = releasePlanOf(r.plan).mechanism;
      if (mechanism) accountant.add(mechanism);
    }
    return { completed, accountant };
  } finally {
    await store.close();
  }
}

/**
 * The bytes each node sent for `round`, from its own signed egress log (DIR/audit-log.db): keys,
 * sealed shares, the masked summary, signatures and unmask shares, as they left the site.
 */
export function egressBytes(nodeDirs: readonly string[], federationId: string, round: number): number[] {
  return nodeDirs.map((dir) => {
    const db = new Database(path.join(dir, 'audit-log.db'), { readonly: true });
    try {
      const row = db
        .prepare(
          "SELECT COALESCE(SUM(CAST(bytes AS INTEGER)), 0) AS total FROM audit_log WHERE event = 'egress' AND federation = ? AND round = ?",
        )
        .get(federationId, String(round)) as { total: number };
      return row.total;
    } finally {
      db.close();
    }
  });
}
