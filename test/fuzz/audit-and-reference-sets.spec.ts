import { fromJsonLines, verifyAuditLog } from '@fedistill/audit';
import { assertNoFindings } from './support/property';
import { auditLogSurface, auditSeedText } from './surfaces/audit-log';
import { referenceSurfaces } from './surfaces/reference-sets';

describe('fuzzing: audit-log imports, reference and evaluation sets', () => {
  beforeAll(() => auditLogSurface.prepare?.());

  it('audit-log import: a damaged log is refused naming its line or entry, never verified', async () => {
    await assertNoFindings(auditLogSurface, 300);
  });

  it.each(referenceSurfaces.map((s) => [s.name, s] as const))(
    '%s: every case is registered or refused naming the problem',
    async (_n, s) => {
      await assertNoFindings(s, 300);
    },
  );

  it('refuses a signature field that is not canonical base64, even when it decodes to the signature', async () => {
    // Fuzz case 7717 of 'audit-log import': a byte inside the genesis entry's signature became
    // U+FFFD; Buffer.from(..., 'base64') skipped it and --full verified the log.
    const feed = (text: string) => verifyAuditLog(fromJsonLines(text, 'log.jsonl'), { signatures: 'every' });
    const good = await auditSeedText();
    expect(feed(good).ok).toBe(true);
    const damaged = good.replace(/("signature":"[A-Za-z0-9+/]{10})/, '$1\uFFFD');
    const sut = feed(damaged);
    expect(sut.ok).toBe(false);
    expect(sut.problem).toMatchObject({ position: 1, field: 'signature' });
  });
});
