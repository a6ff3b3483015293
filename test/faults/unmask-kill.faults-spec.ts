import * as path from 'node:path';
import { exited, waitFor } from '../e2e/support/processes';
import { ProxiedFederation } from '../e2e/support/proxied-federation';
import { FederationRounds, outcome, writeRows } from './support/rounds';

const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];
const FEDERATION = 'unmask-kill';
const RESULTS = path.join(__dirname, '..', '..', 'tmp', 'fault-matrix', 'unmask-kill.md');

/**
 * The fault matrix's "node SIGKILLed during the unmask stage" case (issue 15), with real node
 * processes behind a recording proxy (test/e2e/support/proxied-federation.ts) so that the kill
 * lands at an exact point: the moment the coordinator hands site-d its unmask request, before the
 * proxy passes it on. site-d has sent its masked input and signed the survivor set, so it is in
 * the sum; the other three hold enough shares (threshold 3 of 4) to remove its masks.
 */
jest.setTimeout(600_000);

describe('fault matrix: a node SIGKILLed during the unmask stage', () => {
  const fed = new ProxiedFederation(FEDERATION, SITES, 1);
  const rounds = new FederationRounds(() => fed.fx, FEDERATION);
  const rows: { fault: string; expected: string; observed: string }[] = [];

  beforeAll(() => fed.start(), 900_000);

  afterAll(async () => {
    writeRows(RESULTS, rows);
    await fed.stop();
  });

  it('node SIGKILLed holding its unmask request, restarted: the others complete the round with its input; all four charged', async () => {
    let killedIn: { stage: string; awaiting: readonly string[] } | null = null;
    let killed = false;
    fed.onResponse = ({ path: method, site }) => {
      if (killed || site !== 'site-d' || !method.endsWith('/GetUnmaskRequest')) return;
      killed = true;
      fed.nodes.get('site-d')!.kill('SIGKILL');
    };
    const { round: n, mark } = await fed.startRound();
    await waitFor(`site-d to be killed at its unmask request in round ${n}`, 120_000, () =>
      killed ? true : undefined,
    );
    fed.onResponse = () => undefined;
    const view = (await rounds.view(n))!;
    killedIn = { stage: view.stage, awaiting: view.awaiting };
    // The kill landed in the unmask stage, with site-d's answer still awaited.
    expect(view.stage).toBe('unmask');
    expect(view.awaiting).toContain('site-d');
    await exited(fed.nodes.get('site-d')!);
    fed.configure('site-d');
    fed.startNode('site-d');
    const r = await fed.finished(n);
    expect(r.status).toBe('completed');
    expect([...r.inputsFrom].sort()).toEqual(SITES);
    // site-d revealed nothing in this round; the three others answered the unmask request.
    const unmasked = fed.captured(mark, 'SubmitUnmaskShares').map((c) => c.site);
    expect(unmasked).not.toContain('site-d');
    expect([...new Set(unmasked)].sort()).toEqual(['site-a', 'site-b', 'site-c']);
    const charges = rounds.checkCharges(r, fed.dirs);
    await fed.online(SITES.length);
    const next = await rounds.open();
    const r2 = await fed.finished(next);
    expect([...r2.inputsFrom].sort()).toEqual(SITES);
    const verified: string[] = [];
    for (const site of SITES) {
      const v = await fed.verifyAudit(site);
      expect(v.code).toBe(0);
      verified.push(site);
    }
    rows.push({
      fault:
        'node SIGKILLed during the unmask stage (holding its unmask request, before its answer), restarted',
      expected:
        "the other 3 reveal what removes site-d's masks; completes with all 4 (site-d's input is in the sum); all 4 charged; the restarted node answers the next round",
      observed: `killed in stage ${killedIn.stage} (awaiting ${killedIn.awaiting.join(', ')}); ${outcome(r)}; unmask answers from ${[...new Set(unmasked)].sort().join(', ')}; ${charges}; next round ${outcome(r2)}; ${rounds.checkCharges(r2, fed.dirs)}; audit logs of ${verified.join(', ')} and the coordinator verify`,
    });
  });
});
