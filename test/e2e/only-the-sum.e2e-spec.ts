import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeSigned, deriveMaskKey, expandMask, shamirCombine, unpackWords } from '@fedistill/secagg';
import { ShareKind, SubmitMaskedSummaryRequest, SubmitUnmaskSharesRequest } from '@fedistill/wire';
import { ProxiedFederation } from './support/proxied-federation';
import {
  type FoundVector,
  packed,
  plausible,
  ringAdd,
  sameWords,
  scanCoordinator,
  subsetSums,
  type VectorShape,
} from './support/vector-scan';

const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];
const TEACHERS_PER_SITE = 4;

/**
 * "The coordinator learns only the sum" (SPEC privacy model 2), checked as an auditor would,
 * with four real `fedistill node start` processes, noise on, and a recording proxy in front of
 * the coordinator, so the test holds every byte each site sent: exactly what a coordinator
 * holds, including the shares revealed at unmask time.
 *
 * What it shows:
 * - Rebuilt by the test alone from the captured bytes (libs/secagg's public Shamir and PRG
 *   functions, not the coordinator's unmasking code), sum(masked) - sum(self masks) equals the
 *   aggregate the coordinator stored, and every entry of it is as small as a sum of real
 *   summaries can be (a pairwise mask left in would make it uniform on the ring), with each
 *   query's class total in the band of 16 teachers' clipped probabilities plus noise (Bonawitz
 *   et al., CCS 2017, §4). With noise on, that band is wide: it rejects a masked or garbled
 *   release, not a sum missing one site.
 * - No site revealed a mask-key share of a site that survived (with its seed share, that
 *   would unmask the site), and every masked vector looks uniform on the ring.
 * - Per site, what the coordinator can compute with everything it received (the masked vector
 *   minus the self mask it can rebuild) is still far from any plausible summary: the pairwise
 *   masks, whose keys never left the sites, still hide it.
 * - Every table and column of the coordinator's databases, every file in its data directory and
 *   every line of its log, scanned at each round message a site sends and after the round,
 *   for vector-sized values in every encoding (BLOB, base64, hex, JSON integers):
 *   each is the released aggregate, a masked vector or a sum of masked vectors as received,
 *   or opaque; none is a per-site vector of plausible size or any site's self-unmasked vector.
 *
 * What it cannot show: a site's exact unmasked input. Each node draws its noise share from a
 * cryptographic source, so nothing outside the node can reproduce its input, and the product has
 * (rightly) no debug path that reveals it. Nor can it prove that no cleverer computation
 * recovers an input: that rests on the PRG and X25519 (the libs/secagg attack tests cover
 * deviating coordinators). The scan finds a vector stored whole in the encodings above; one
 * split across rows, compressed or encrypted at rest would escape it.
 */
describe('the coordinator learns only the sum (real nodes, noise on, everything it holds scanned)', () => {
  const fed = new ProxiedFederation('only-the-sum', SITES, 1);

  beforeAll(() => fed.start(), 300_000);
  afterAll(() => fed.stop());

  it('releases the exact sum of the masked inputs, and holds nothing per site that is not masked', async () => {
    // The coordinator's files are scanned at every round message a site sends (each stage of the
    // round, each arrival of a masked input), not only at the end.
    const during: FoundVector[] = [];
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
    let current = 0;
    fed.onRequest = ({ path: method }) => {
      const s = shapeOf(current);
      if (!s || !method.includes('.Rounds/')) return;
      for (const v of scanCoordinator(path.join(fed.fx.dir, 'data'), fed.fx.logFile, s))
        during.push({ where: `${v.where} at ${method.split('/').at(-1)}`, words: v.words });
    };
    const { round, mark } = await fed.startRound();
    current = round;
    expect(await fed.finished(round)).toMatchObject({ status: 'completed', reason: null });
    fed.onRequest = () => undefined;

    const a = fed.announcements.get(round)!;
    const bits = a.modulusBits;
    const length = a.queryIndices.length * a.numClasses;
    const n = a.participants.length;
    const shape = shapeOf(round)!;
    const roundId = `${fed.id}#${round}`;
    const idOf = new Map(a.participants.map((p) => [p.siteName, p.siteId]));

    // Every masked vector as it left its site, one per site.
    const sent = fed.captured(mark, 'SubmitMaskedSummary');
    expect(sent.map((c) => c.site).sort()).toEqual(SITES);
    const masked = new Map(
      sent.map((c) => {
        const req = SubmitMaskedSummaryRequest.decode(c.body);
        return [idOf.get(c.site)!, unpackWords(req.maskedVector, req.length, bits)];
      }),
    );

    // The shares revealed at unmask time: seed shares only (nobody dropped), t per site at least.
    const revealed = fed
      .captured(mark, 'SubmitUnmaskShares')
      .flatMap((c) => SubmitUnmaskSharesRequest.decode(c.body).shares);
    expect(revealed.filter((s) => s.kind !== ShareKind.SHARE_KIND_SELF_MASK_SEED)).toEqual([]);
    const selfMask = new Map<number, Uint32Array>();
    for (const id of masked.keys()) {
      const shares = revealed
        .filter((s) => s.aboutSiteId === id)
        .map((s) => ({ x: s.x, y: new Uint8Array(s.share) }));
      expect(shares.length).toBeGreaterThanOrEqual(a.threshold);
      const seed = shamirCombine(shares.slice(0, a.threshold));
      const words = expandMask(deriveMaskKey(seed, 'self', roundId, [id]), length);
      selfMask.set(id, ringAdd(words, new Uint32Array(length), bits));
    }

    // The sum, recomputed by the test from the captured bytes alone.
    let sum: Uint32Array = new Uint32Array(length);
    for (const [id, y] of masked) sum = ringAdd(ringAdd(sum, y, bits), selfMask.get(id)!, bits, -1);
    const stored = fed.storedRound(round).coordinator.result!;
    expect([...stored]).toEqual([...sum]);
    expect(plausible(sum, shape)).toBe(true);
    // Each query's class total is 16 teachers' clipped probabilities (each in [min(1, clip), 1])
    // times the scale, plus the noise of four shares (and rounding): far from a masked vector.
    const released = decodeSigned(sum, bits);
    const queries = a.queryIndices.length;
    let total = 0;
    for (let i = 0; i < released.length; i += 1) total += released[i]!;
    const meanTotal = total / queries;
    const teachers = TEACHERS_PER_SITE * n;
    const tolerance = (5 * Math.sqrt(a.numClasses * n) * a.siteNoiseStddev) / Math.sqrt(queries) + teachers;
    expect(meanTotal).toBeGreaterThanOrEqual(
      teachers * Math.min(1, a.clipNorm) * a.quantizationScale - tolerance,
    );
    expect(meanTotal).toBeLessThanOrEqual(teachers * a.quantizationScale + tolerance);

    // Per site: the masked vector and what is left once the coordinator removes the self mask it
    // can rebuild look uniform on the ring, nowhere near a summary (pairwise masks still on).
    const ringHit = (2 * shape.plausibleBound + 1) / 2 ** bits;
    const allowed = Math.max(1, Math.ceil(length * ringHit + 4 * Math.sqrt(length * ringHit)));
    const residuals = [...masked].map(([id, y]) => ringAdd(y, selfMask.get(id)!, bits, -1));
    for (const v of [...masked.values(), ...residuals]) {
      const small = decodeSigned(v, bits).filter((x) => Math.abs(x) <= shape.plausibleBound).length;
      expect(small).toBeLessThanOrEqual(allowed);
    }
    let ones = 0;
    for (const y of masked.values())
      for (const w of y) for (let b = 0; b < bits; b += 1) ones += (w >>> b) & 1;
    const bitCount = masked.size * length * bits;
    expect(Math.abs(ones / bitCount - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / bitCount));

    // The auditor's scan of everything the coordinator keeps, during the round and after it.
    const found = [...during, ...scanCoordinator(path.join(fed.fx.dir, 'data'), fed.fx.logFile, shape)];
    const asReceived = subsetSums([...masked.values()], bits);
    const classify = (v: FoundVector) =>
      sameWords(v.words, sum)
        ? 'aggregate'
        : residuals.some((r) => sameWords(v.words, r))
          ? 'LEAK: a site vector without its self mask'
          : asReceived.some((s) => sameWords(v.words, s))
            ? 'masked, as received'
            : plausible(v.words, shape)
              ? 'LEAK: a vector of plausible size'
              : 'opaque';
    const kinds = found.map((v) => ({ where: v.where, kind: classify(v) }));
    // The scan works: it finds the aggregate the coordinator stored, in whatever encoding.
    expect(kinds.filter((k) => k.kind === 'aggregate').length).toBeGreaterThan(0);
    // ... and it saw the input stage: a running sum of masked inputs, as received, not yet zero.
    const zero = new Uint32Array(length);
    expect(
      found.some((v) => !sameWords(v.words, zero) && asReceived.some((s) => sameWords(s, v.words))),
    ).toBe(true);
    expect(kinds.filter((k) => k.kind.startsWith('LEAK'))).toEqual([]);
    // The raw files too (a value in a free page or the WAL, in wire or text form).
    const raw = [fed.fx.dbFile, `${fed.fx.dbFile}-wal`, fed.coordinatorFiles.auditDb, fed.fx.logFile]
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.readFileSync(f));
    for (const r of residuals)
      for (const needle of [packed(r, bits), Buffer.from(packed(r, bits).toString('base64'))])
        expect(raw.some((file) => file.includes(needle))).toBe(false);
  });
});
