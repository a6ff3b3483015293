import type { Command } from 'commander';
import { output } from '../cli-error';
import { registerNodeFederationCommand } from './node-federation.command';
import { registerNodeLogAlarmCommand } from './node-log-alarm.command';
import { registerNodeLedgerCommand } from './node-ledger.command';
import { registerNodeDoctorCommand } from './node-doctor.command';
import { checkBeforeStart, registerNodeCheckCommand } from './node-check.command';

export function registerNodeCommand(program: Command): void {
  const node = program.command('node').description("run a site's node on-premises");
  node
    .command('init')
    .description(
      "create a node directory: the site's Ed25519 and X25519 keys (mode 0600), the CA and node.yaml",
    )
    .requiredOption('--dir <dir>', 'node directory')
    .requiredOption('--coordinator <host:port>', "the coordinator's gRPC address")
    .requiredOption('--ca <file>', "CA certificate that signed the coordinator's certificate")
    .requiredOption('--site <name>', "this site's name (as in its enrolment token)")
    .option(
      '--server-name <name>',
      "name to expect in the coordinator's certificate, if not the host in --coordinator",
    )
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        dir: string;
        coordinator: string;
        ca: string;
        site: string;
        serverName?: string;
        json?: boolean;
      }) => {
        const { initNode } = await import('../../../node/src');
        const res = await initNode({
          dir: opts.dir,
          coordinator: opts.coordinator,
          caFile: opts.ca,
          site: opts.site,
          serverName: opts.serverName,
        });
        output(
          Boolean(opts.json),
          res,
          () =>
            `node directory ${res.dir} created for site '${opts.site}'\nsigning key: ${res.signingPublicKeyHex}`,
        );
      },
    );
  node
    .command('enroll')
    .description('enrol this node at the coordinator with a one-time token')
    .requiredOption('--dir <dir>', 'node directory')
    .requiredOption('--token <token>', 'enrolment token from the operator')
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; token: string; json?: boolean }) => {
      const { enrollNode } = await import('../../../node/src');
      const res = await enrollNode(opts.dir, opts.token);
      output(Boolean(opts.json), res, () => `site '${res.site}' enrolled at ${res.coordinator}`);
    });
  node
    .command('start')
    .description(
      'run the node: checks data: and teachers: first (node check), then signed heartbeats and events, reconnecting with backoff, until SIGTERM',
    )
    .requiredOption('--dir <dir>', 'node directory')
    .action(async (opts: { dir: string }) => {
      await checkBeforeStart(opts.dir);
      const { startNode } = await import('../../../node/src');
      const running = await startNode(opts.dir);
      const stop = () => running.stop();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await running.finished;
    });
  registerNodeFederationCommand(node);
  registerNodeLogAlarmCommand(node);
  registerNodeLedgerCommand(node);
  registerNodeDoctorCommand(node);
  registerNodeCheckCommand(node);
}
