import * as path from 'node:path';
import type { Command } from 'commander';
import { output } from '../cli-error';

/**
 * `fedistill node log-alarm show|ack`: a rollback or fork of the coordinator's log that this node
 * saw stops it answering rounds until its operator has looked and acknowledges it.
 */
export function registerNodeLogAlarmCommand(node: Command): void {
  const alarm = node
    .command('log-alarm')
    .description(
      "a rollback or fork of the coordinator's log seen by this node (rounds stop until acknowledged)",
    );
  alarm
    .command('show')
    .description('the raised alarm, if any')
    .requiredOption('--dir <dir>', 'node directory')
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const { CoordinatorHeadWatch, describeAlarm } = await import('../../../node/src');
      const raised = new CoordinatorHeadWatch(opts.dir).alarm();
      output(Boolean(opts.json), { alarm: raised ?? null }, () =>
        raised ? `raised ${raised.raisedAt}: ${describeAlarm(raised)}` : 'no alarm',
      );
    });
  alarm
    .command('ack')
    .description('acknowledge the alarm (recorded in the site log); the node answers rounds again')
    .requiredOption('--dir <dir>', 'node directory')
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const { CoordinatorHeadWatch, describeAlarm, loadNodeConfig, NODE_FILES, openNodeAudit } =
        await import('../../../node/src');
      const { readSiteKeyFile } = await import('@fedistill/identity');
      const config = loadNodeConfig(opts.dir);
      const watch = new CoordinatorHeadWatch(config.dir);
      const raised = watch.alarm();
      if (raised) {
        const audit = openNodeAudit(
          config.dir,
          config.site,
          readSiteKeyFile(path.join(config.dir, NODE_FILES.keys)),
        );
        try {
          await audit.chain.append({
            event: 'admin',
            kind: 'node log-alarm ack',
            peer: 'coordinator',
            detail: JSON.stringify({
              acknowledged: describeAlarm(raised),
              last: raised.last,
              received: raised.received,
            }),
          });
        } finally {
          audit.close();
        }
        watch.acknowledge();
      }
      output(Boolean(opts.json), { acknowledged: raised ?? null }, () =>
        raised ? `acknowledged: ${describeAlarm(raised)}` : 'no alarm to acknowledge',
      );
    });
}
