import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RoundView } from '../../../apps/coordinator/src/rounds/round-view';
import { admin, type CoordinatorFixture, waitFor } from '../../e2e/support/processes';

/** One federation's rounds as an operator sees them through the admin API, for the fault cases. */
export class FederationRounds {
  constructor(
    private readonly fx: () => CoordinatorFixture,
    readonly federation: string,
  ) {}

  async online(expected: number): Promise<true> {
    return waitFor(`${expected} sites online`, 90_000, async () => {
      const { body } = await admin<{ sites: { online: boolean }[] }>(this.fx(), 'GET', '/api/v1/sites');
      return body.sites.filter((s) => s.online).length === expected ? true : undefined;
    });
  }

  async view(n: number): Promise<RoundView | undefined> {
    const { body } = await admin<{ rounds: RoundView[] }>(
      this.fx(),
      'GET',
      `/api/v1/federations/${this.federation}/rounds`,
    );
    return body.rounds.find((r) => r.round === n);
  }

  until(what: string, n: number, ok: (r: RoundView) => boolean): Promise<RoundView> {
    return waitFor(what, 90_000, async () => {
      const r = await this.view(n);
      return r && ok(r) ? r : undefined;
    });
  }

  finished(n: number): Promise<RoundView> {
    return this.until(`round ${n} to finish`, n, (r) => r.status !== 'open');
  }

  async open(): Promise<number> {
    const res = await admin<{ round: number; error?: string }>(
      this.fx(),
      'POST',
      `/api/v1/federations/${this.federation}/rounds`,
      {},
    );
    if (res.status !== 201) throw new Error(`round refused: ${res.body.error ?? res.status}`);
    return res.body.round;
  }

  /** Whether the site's privacy ledger (node directory `dir`) holds a charge for round `n`. */
  charged(dir: string, n: number): boolean {
    const file = path.join(dir, 'privacy-ledger.json');
    if (!fs.existsSync(file)) return false;
    const { entries } = JSON.parse(fs.readFileSync(file, 'utf8')) as { entries: { label: string }[] };
    return entries.some((e) => e.label === `${this.federation}#${n}`);
  }

  /** The sites charged for round `r`, which must be exactly those whose input is in its sum. */
  checkCharges(r: RoundView, dirs: Readonly<Record<string, string>>): string {
    const sites = Object.keys(dirs).sort();
    const chargedSites = sites.filter((s) => this.charged(dirs[s]!, r.round));
    expect(chargedSites).toEqual(sites.filter((s) => r.inputsFrom.includes(s)));
    return `charged: ${chargedSites.join(', ') || 'none'}`;
  }
}

export const outcome = (r: RoundView): string =>
  r.status === 'completed'
    ? `completed with ${[...r.inputsFrom].sort().join(', ')}`
    : `${r.status}: ${r.reason ?? ''}`;

/** Writes the cases' rows as a Markdown table to `file` (under tmp/) and prints them. */
export function writeRows(
  file: string,
  rows: ReadonlyArray<{ fault: string; expected: string; observed: string }>,
): void {
  if (rows.length === 0) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const table = [
    '| fault | expected | observed |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.fault} | ${r.expected} | ${r.observed} |`),
  ].join('\n');
  fs.writeFileSync(file, `${table}\n`);
  process.stdout.write(`\nfault matrix (${file}):\n${table}\n`);
}
