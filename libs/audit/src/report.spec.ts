import { generateSiteKeys } from '@fedistill/identity';
import { AuditChain } from './audit-chain';
import { timeTicks, valueTicks } from './epsilon-plot';
import { buildAuditReport, renderAuditReport } from './report';
import { COMPOSITION_NOTE, formatEpsilon } from './report-format';
import { MemoryAuditLogStore } from './sqlite-store';
import { verifyAuditLog } from './verify';

/**
 * A site's log as the issue found it: two rounds whose own epsilons (6.1 + 6.1 = 12.2) sum to
 * more than the composed total (6.8292521421520025), and a federation message outside any round.
 */
async function siteLog() {
  const store = new MemoryAuditLogStore();
  let t = Date.parse('2026-11-27T10:00:00Z');
  const chain = new AuditChain(store, 'st-marys', generateSiteKeys(), () => (t += 90_000));
  await chain.append({
    event: 'egress',
    federation: 'f1',
    kind: 'Artifacts/FetchReferenceSet',
    peer: 'coordinator',
    bytes: '9108',
  });
  for (const [round, total] of [
    ['1', '6.1'],
    ['2', '6.8292521421520025'],
  ] as const)
    await chain.append({
      event: 'egress',
      federation: 'f1',
      round,
      kind: 'Rounds/SubmitMaskedSummary',
      peer: 'coordinator',
      bytes: '4000',
      epsilon: '6.1',
      epsilonTotal: total,
      epsilonLimit: '10',
      detail: 'assuming any of the other 2 participants may collude with the coordinator',
    });
  return buildAuditReport(store.entries, verifyAuditLog(store.entries), new Date('2026-11-27T12:00:00Z'));
}

describe('the audit report a privacy officer reads', () => {
  it('rounds epsilon to three significant digits in md and html, and keeps every digit in json', async () => {
    const sut = await siteLog();
    for (const format of ['md', 'html'] as const) {
      const text = renderAuditReport(sut, format);
      expect(text).toContain('Epsilon spent: 6.83 of a limit of 10');
      expect(text).not.toContain('6.8292521421520025');
    }
    expect(JSON.parse(renderAuditReport(sut, 'json'))).toMatchObject({
      epsilon: { total: 6.8292521421520025 },
    });
    expect([6.8292521421520025, 0.012345, 123.456, 0, 1e-7].map(formatEpsilon)).toEqual([
      '6.83',
      '0.0123',
      '123',
      '0',
      '1e-7',
    ]);
  });

  it('labels the per-round column as that round alone and says in one sentence why it sums to more than the total', async () => {
    const sut = await siteLog();
    const md = renderAuditReport(sut, 'md');
    expect(md).toContain('| federation | round | messages | bytes | epsilon (this round alone) | assuming |');
    expect(md).toContain('| f1 | 1 | 1 | 4000 | 6.1 |');
    expect(md).toContain(COMPOSITION_NOTE);
    expect(COMPOSITION_NOTE.split('. ')).toHaveLength(1);
    const html = renderAuditReport(sut, 'html');
    expect(html).toContain('<th>epsilon (this round alone)</th>');
    expect(html).toContain('the total composes all rounds with the Rényi (RDP) accountant');
  });

  it('labels a row of messages outside any round by what they were, in every format', async () => {
    const sut = await siteLog();
    expect(sut.rounds).toContainEqual(
      expect.objectContaining({ round: '', what: ['Artifacts/FetchReferenceSet'], bytes: 9108 }),
    );
    expect(renderAuditReport(sut, 'md')).toContain(
      '| f1 | none (outside rounds: Artifacts/FetchReferenceSet) | 1 | 9108 | 0 |',
    );
    const html = renderAuditReport(sut, 'html');
    expect(html).toContain('<td>none (outside rounds: Artifacts/FetchReferenceSet)</td>');
    // No row of the table has an empty round cell.
    expect(html).not.toMatch(/<tr><td>f1<\/td><td><\/td>/);
  });

  it('ticks and labels both axes of the epsilon plot, time in UTC', async () => {
    const html = renderAuditReport(await siteLog(), 'html');
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    // Epsilon spent at 10:04:30 and 10:06:00: ticks every 30 s.
    for (const label of ['10:04:30', '10:05:00', '10:05:30', '10:06:00'])
      expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('time (UTC, from 2026-11-27)');
    // Epsilon ticks 0, 5, 10, 15: past the limit of 10.
    for (const label of ['0', '5', '10', '15']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('limit 10');
  });
});

describe(timeTicks.name, () => {
  const at = (iso: string) => Date.parse(iso);
  it('chooses a step that gives at most six ticks on round instants', () => {
    expect(timeTicks(at('2026-11-27T10:00:07Z'), at('2026-11-27T10:00:52Z')).map((t) => t.label)).toEqual([
      '10:00:10',
      '10:00:20',
      '10:00:30',
      '10:00:40',
      '10:00:50',
    ]);
    expect(timeTicks(at('2026-11-27T09:10:00Z'), at('2026-11-27T14:50:00Z')).map((t) => t.label)).toEqual([
      '10:00',
      '12:00',
      '14:00',
    ]);
    expect(timeTicks(at('2026-11-01T00:00:00Z'), at('2026-11-20T00:00:00Z')).map((t) => t.label)).toEqual([
      '2026-11-01',
      '2026-11-08',
      '2026-11-15',
    ]);
  });

  it('gives one tick when every point has the same time', () => {
    expect(timeTicks(at('2026-11-27T10:00:00Z'), at('2026-11-27T10:00:00Z'))).toHaveLength(1);
  });
});

describe(valueTicks.name, () => {
  it('steps by 1, 2 or 5 times a power of ten and reaches the top', () => {
    expect(valueTicks(7.17)).toEqual([0, 2, 4, 6, 8]);
    expect(valueTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(valueTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
  });
});
