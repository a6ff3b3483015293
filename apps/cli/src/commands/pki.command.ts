import * as fs from 'node:fs';
import type { Command } from 'commander';
import { output } from '../cli-error';

export function registerPkiCommand(program: Command): void {
  const pki = program.command('pki').description('certificates for TLS between nodes and the coordinator');
  pki
    .command('init')
    .description(
      'create a development CA and a coordinator server certificate (bring your own for production)',
    )
    .requiredOption('--out <dir>', 'directory for ca.crt, ca.key, coordinator.crt, coordinator.key')
    .option(
      '--host <name...>',
      'extra DNS names or IP addresses of the coordinator (localhost and 127.0.0.1 are always included)',
      [],
    )
    .option('--days <n>', 'validity in days', '365')
    .option('--json', 'print JSON')
    .action(async (opts: { out: string; host: string[]; days: string; json?: boolean }) => {
      const { createDevelopmentPki, describeCertificate, writeDevelopmentPki } =
        await import('@fedistill/pki');
      const days = Number(opts.days);
      if (!Number.isInteger(days)) throw new RangeError(`--days '${opts.days}' must be a whole number`);
      const files = writeDevelopmentPki(
        opts.out,
        await createDevelopmentPki({ hosts: opts.host, validityDays: days }),
      );
      const cert = describeCertificate(fs.readFileSync(files.serverCert, 'utf8'));
      output(Boolean(opts.json), { files, ...cert }, () =>
        [
          `development PKI written to ${opts.out}`,
          `  CA certificate (give to nodes): ${files.caCert}`,
          `  coordinator certificate:        ${files.serverCert} (${cert.subjectAltName}, valid to ${cert.validTo})`,
          `  private keys (mode 0600):       ${files.caKey}, ${files.serverKey}`,
        ].join('\n'),
      );
    });
}
