import * as path from 'node:path';
import { exited } from './support/processes';
import { ProxiedFederation } from './support/proxied-federation';
import {
  type FoundVector,
  plausible,
  sameWords,
  scanCoordinator,
  subsetSums,
  type VectorShape,
} from './support/vector-scan';
import { SubmitMaskedSummaryRequest } from '@fedistill/wire';
import { unpackWords } from '@fedistill/secagg';

const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];
const LOST = ['site-c', 'site-d'];
const KEPT = ['site-a', 'site-b'];

/**
 * "Too few survivors: the round is abandoned and nothing is revealed" (SPEC, what a round does,
 * step 4), after masked inputs have arrived, with four real `fedistill node start` processes,
 * noise on, and a recording proxy in front of the coordinator that holds every byte the sites
 * sent. The federation tolerates one dropout: with n = 4 in a full mesh, t = 2, the survivor
 * floor is n - T = 3 (the noise plan counts on three shares) and the consistency quorum is 3.
 *
 * - Two nodes SIGKILLed the moment their masked summaries reach the coordinator: all four
 *   masked inputs are in, but only two sites are left to sign the survivor set (Bonawitz et al.,
 *   CCS 2017, Fig. 4, round 3), so no quorum: the round is abandoned at the consistency stage.
 * - Two nodes held by the dropout drill after sharing their keys: two masked inputs arrive,
 *   below the floor of three, and the round is abandoned when the input stage closes.
 *
 * Each time: no site sent SubmitUnmaskShares (the proxy's capture and every node's own egress
 * log), the coordinator's files hold no vector of plausible size at any moment of the round
 * (every round message triggers a scan of each table, file and log line), the round record
 * has neither result nor masked sum, no student is trained on the round, and every node's
 * audit log verifies with the coordinator's transcript (`fedistill audit verify`).
 *
 * What it cannot show: that a coordinator deviating from the protocol gets nothing either (the
 * malicious-coordinator e2e and libs/secagg attack tests cover that); here the coordinator is
 * honest and the test checks that an honest abandonment leaves nothing behind.
 */
describe('nothing is revealed below the floor, after masked inputs arrived (real nodes, noise on)', () => {
  // Short stages: each abandonment waits for a stage deadline (they add up from the round's start).
  // Each stage still has seconds of slack for a node on a busy machine (the honest sites answer
  // in well under a second when idle); only the stage the lost sites never answer is waited out.
  const fed = new ProxiedFederation('below-the-floor', SITES, 1, {
    advertiseKeys: '12s',
    shareKeys: '8s',
    maskedInput: '12s',
    consistency: '6s',
    unmask: '8s',
  });

  beforeAll(() => fed.start(), 300_000);
  afterAll(() => fed.stop());

  /** Scans the coordinator at every round message a site sends until the round ends. */
  async function abandonedRound(): Promise<{
    round: number;
    mark: number;
    found: FoundVector[];
    shape: VectorShape;
  }> {
    const found: FoundVector[] = [];
    let current = 0;
    const shapeOf = (round: number): VectorShape | undefined => {
      const a = fed.announcements.get(round);
      return (
        a && {
          length: a.queryIndices.length * a.numClasses,
          bits: a.modulusBits,
          plausibleBound: a.participants.length * a.maxInput,
        }
      );
    };
    const previous = fed.onRequest;
    fed.onRequest = (call) => {
      previous(call);
      const s = shapeOf(current);
      if (s && call.path.includes('.Rounds/'))
        found.push(...scanCoordinator(path.join(fed.fx.dir, 'data'), fed.fx.logFile, s));
    };
    const { round, mark } = await fed.startRound();
    current = round;
    const view = await fed.finished(round);
    fed.onRequest = () => undefined;
    expect(view.status).toBe('abandoned');
    const shape = shapeOf(round)!;
    found.push(...scanCoordinator(path.join(fed.fx.dir, 'data'), fed.fx.logFile, shape));
    return { round, mark, found, shape };
  }

  /** What every check of an abandonment below the floor must find. */
  async function expectNothingRevealed(
    round: number,
    mark: number,
    found: FoundVector[],
    shape: VectorShape,
  ) {
    // No site revealed a share: not in what the coordinator received, not in any egress log.
    expect(fed.captured(mark, 'SubmitUnmaskShares').map((c) => c.site)).toEqual([]);
    for (const site of SITES)
      expect(
        fed.egress(site).filter((r) => r.round === String(round) && r.kind === 'Rounds/SubmitUnmaskShares'),
      ).toEqual([]);
    // The coordinator holds no sum: the round record has no result and no masked sum left.
    const stored = fed.storedRound(round);
    expect(stored).toMatchObject({
      status: 'abandoned',
      coordinator: { stage: 'abandoned', result: null, maskedSum: null },
    });
    // At no moment did it hold a vector of plausible size: only masked inputs as received and
    // their sums (the masks of Bonawitz et al. CCS 2017 §4 never came off), or opaque bytes.
    const masked = fed.captured(mark, 'SubmitMaskedSummary').map((c) => {
      const req = SubmitMaskedSummaryRequest.decode(c.body);
      return unpackWords(req.maskedVector, req.length, shape.bits);
    });
    const asReceived = subsetSums(masked, shape.bits);
    const zero = new Uint32Array(shape.length);
    const leaks = found.filter(
      (v) =>
        !sameWords(v.words, zero) &&
        plausible(v.words, shape) &&
        !asReceived.some((s) => sameWords(s, v.words)),
    );
    expect(leaks.map((v) => v.where)).toEqual([]);
    // The scan saw the inputs stage: a non-zero running sum of masked inputs, as received.
    expect(
      found.some((v) => !sameWords(v.words, zero) && asReceived.some((s) => sameWords(s, v.words))),
    ).toBe(true);
    // No student is trained on the round.
    expect((await fed.students()).filter((s) => s.rounds.includes(round))).toEqual([]);
    // Every log still verifies, chained and signed, against the coordinator's transcript.
    for (const site of SITES) {
      const verified = await fed.verifyAudit(site);
      expect({ site, code: verified.code }).toEqual({ site, code: 0 });
    }
  }

  it('abandons at the consistency stage when two nodes die as their masked inputs arrive; nothing is unmasked', async () => {
    const killed: string[] = [];
    fed.onRequest = ({ path: method, site }) => {
      if (!LOST.includes(site) || !method.endsWith('/SubmitMaskedSummary') || killed.includes(site)) return;
      // The masked summary has left the node (it is forwarded after this hook): kill it now.
      fed.nodes.get(site)!.kill('SIGKILL');
      killed.push(site);
    };
    const { round, mark, found, shape } = await abandonedRound();
    expect(killed.sort()).toEqual(LOST);
    await Promise.all(LOST.map((s) => exited(fed.nodes.get(s)!)));
    const view = (await fed.rounds()).find((r) => r.round === round)!;
    expect([...view.inputsFrom].sort()).toEqual(SITES);
    expect(view.reason).toBe('only 2 sites signed the survivor set; threshold is 3');
    // The two left did take part in the consistency round: they signed the survivor set.
    for (const site of KEPT)
      expect(
        fed
          .egress(site)
          .filter((r) => r.round === String(round) && r.kind === 'Rounds/SubmitSurvivorSignature'),
      ).toHaveLength(1);
    await expectNothingRevealed(round, mark, found, shape);
  });

  it('abandons when the input stage closes with two masked inputs, below the floor of three; nothing is unmasked', async () => {
    for (const site of LOST) {
      fed.configure(site, 'shares');
      fed.startNode(site);
    }
    await fed.online(SITES.length);
    const { round, mark, found, shape } = await abandonedRound();
    const view = (await fed.rounds()).find((r) => r.round === round)!;
    expect([...view.inputsFrom].sort()).toEqual(KEPT);
    expect([...view.sharesFrom].sort()).toEqual(SITES);
    expect(view.reason).toBe('only 2 sites sent masked inputs; threshold is 3');
    expect(fed.captured(mark, 'SubmitSurvivorSignature').map((c) => c.site)).toEqual([]);
    await expectNothingRevealed(round, mark, found, shape);
  });
});
