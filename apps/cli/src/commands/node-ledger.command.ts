import type { Command } from 'commander';
import { output } from '../cli-error';

/** `fedistill node ledger show|rebuild`: the site's privacy ledger (issue 11, finding 7). */
export function registerNodeLedgerCommand(node: Command): void {
  const ledger = node.command('ledger').description("the site's privacy budget ledger (privacy-ledger.json)");
  ledger
    .command('show')
    .description(
      'print the epsilon spent, the limit and every release recorded (read-only; the node may run)',
    )
    .requiredOption('--dir <dir>', 'node directory')
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const { chargesInLog, loadNodeConfig, readNodeLog, rebuildCommand, SiteLedger, uncoveredCharges } =
        await import('../../../node/src');
      const config = loadNodeConfig(opts.dir);
      const view = SiteLedger.read(config.dir, config.privacy);
      // Releases the egress log shows leaving that the ledger lacks: the node will not start.
      const missing = uncoveredCharges(chargesInLog(await readNodeLog(config.dir)), view).map((c) => c.label);
      output(Boolean(opts.json), { ...view, missingFromLedger: missing }, () =>
        [
          `${view.file}${view.exists ? '' : ' (absent)'}`,
          `epsilon spent ${view.spent.toFixed(4)} of ${view.epsilonLimit} at delta ${view.delta}`,
          ...view.entries.map((e) => `  ${e.label}  x${e.count}  epsilon total ${e.epsilonAfter.toFixed(4)}`),
          ...(missing.length > 0
            ? [
                `WARNING: the egress log shows ${missing.length} release(s) this ledger lacks (${missing.join(', ')}); the node will not start: \`${rebuildCommand(config.dir)}\``,
              ]
            : []),
        ].join('\n'),
      );
    });
  ledger
    .command('rebuild')
    .description(
      'rebuild a lost ledger from the signed egress log (verified first; the node must be stopped; never overwrites a ledger)',
    )
    .requiredOption('--dir <dir>', 'node directory')
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const { rebuildLedger } = await import('../../../node/src');
      const res = await rebuildLedger(opts.dir);
      output(Boolean(opts.json), res, () =>
        [
          `${res.file} rebuilt from ${res.logEntries} verified log entries: ${res.releases} release(s), ` +
            `epsilon spent ${res.epsilonSpent.toFixed(4)} of ${res.epsilonLimit} at delta ${res.delta}`,
          ...res.differences.map(
            (d) =>
              `  note: ${d.label}: the log recorded a running total of ${d.logged}, the rebuild gives ${d.rebuilt} (delta or an unsent commit differ)`,
          ),
        ].join('\n'),
      );
    });
}
