import * as readline from 'node:readline/promises';
import type { Command } from 'commander';
import { CliError, output } from '../cli-error';
import type { RosterProposal } from '../../../node/src';

/** The roster as the operator reads it: one line per member, then what changed and the fingerprint. */
export function renderProposal(p: RosterProposal): string {
  const width = Math.max(...p.members.map((m) => m.site.length), 4);
  const changed = new Set([...(p.changes?.added ?? []), ...(p.changes?.rekeyed ?? [])]);
  const lines = [
    `federation '${p.federation}': ${p.members.length} member sites and their identity keys (SHA-256 of the Ed25519 key)`,
    ...p.members.map(
      (m) =>
        `  ${m.site.padEnd(width)}  ${m.fingerprint}${m.site === p.site ? '  (this site)' : ''}${
          p.changes?.rekeyed.includes(m.site) ? '  KEY CHANGED' : changed.has(m.site) ? '  NEW' : ''
        }`,
    ),
  ];
  if (p.changes) {
    const { added, removed, rekeyed } = p.changes;
    lines.push(
      added.length + removed.length + rekeyed.length === 0
        ? `unchanged since it was approved on ${p.previous?.approvedAt ?? '?'}`
        : `changed since the approval of ${p.previous?.approvedAt ?? '?'}: ${[
            added.length ? `added ${added.join(', ')}` : '',
            removed.length ? `removed ${removed.join(', ')}` : '',
            rekeyed.length ? `new key for ${rekeyed.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; ')}`,
    );
  } else lines.push('not approved before');
  lines.push(`roster fingerprint: ${p.fingerprint}`);
  lines.push(
    'Check each key with its site out of band (or compare the roster fingerprint with every other site): your node will take part only in rounds among exactly these sites and keys.',
  );
  return lines.join('\n');
}

async function ask(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

interface ApproveOptions {
  dir: string;
  yes?: boolean;
  expectFingerprint?: string;
  json?: boolean;
}

/** `fedistill node federation approve|list|show`: the rosters this site's operator approved. */
export function registerNodeFederationCommand(node: Command): void {
  const federation = node
    .command('federation')
    .description(
      "approve a federation's roster (member sites and identity keys) before this node joins its rounds",
    );
  federation
    .command('approve <id>')
    .description(
      "fetch the federation's members and identity keys, show their fingerprints and store them as approved after confirmation",
    )
    .requiredOption('--dir <dir>', 'node directory')
    .option('--yes', 'approve without asking (scripts; prefer --expect-fingerprint)')
    .option('--expect-fingerprint <fp>', 'approve only if the roster fingerprint is exactly this one')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: ApproveOptions) => {
      const { approveFederation, normalizeFingerprint } = await import('../../../node/src');
      const res = await approveFederation(opts.dir, id, async (p) => {
        if (!opts.json) process.stdout.write(`${renderProposal(p)}\n`);
        if (opts.expectFingerprint !== undefined) {
          if (normalizeFingerprint(opts.expectFingerprint) !== normalizeFingerprint(p.fingerprint))
            throw new CliError(
              `the roster fingerprint ${p.fingerprint} is not the expected ${opts.expectFingerprint}; nothing was approved`,
            );
          return true;
        }
        if (opts.yes) return true;
        if (!process.stdin.isTTY)
          throw new CliError(
            'not approved: confirm interactively, or pass --expect-fingerprint FP (or --yes)',
          );
        return ask(`approve this roster for federation '${id}'? [y/N] `);
      });
      if (!res.approved) throw new CliError(`federation '${id}' not approved; nothing was changed`);
      output(Boolean(opts.json), { approved: true, ...res.proposal }, () => `federation '${id}' approved`);
    });
  federation
    .command('list')
    .description('the federations whose rosters this site approved')
    .requiredOption('--dir <dir>', 'node directory')
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const { readApprovedRosters } = await import('../../../node/src');
      const rosters = [...readApprovedRosters(opts.dir).values()];
      output(Boolean(opts.json), { federations: rosters }, () =>
        rosters.length === 0
          ? 'no federation approved'
          : rosters
              .map(
                (r) =>
                  `${r.federation}  ${r.members.length} sites  ${r.fingerprint}  approved ${r.approvedAt}`,
              )
              .join('\n'),
      );
    });
  federation
    .command('show <id>')
    .description('the approved roster of a federation: sites and identity-key fingerprints')
    .requiredOption('--dir <dir>', 'node directory')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { dir: string; json?: boolean }) => {
      const { readApprovedRosters, keyFingerprint } = await import('../../../node/src');
      const r = readApprovedRosters(opts.dir).get(id);
      if (!r) throw new CliError(`federation '${id}' is not approved at this node`);
      const members = r.members.map((m) => ({ ...m, fingerprint: keyFingerprint(m.signingPublicKey) }));
      output(Boolean(opts.json), { ...r, members }, () =>
        [
          `federation '${id}', approved ${r.approvedAt}`,
          ...members.map((m) => `  ${m.site}  ${m.fingerprint}`),
          `roster fingerprint: ${r.fingerprint}`,
        ].join('\n'),
      );
    });
}
