import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '@fedistill/data';
import { planRelease, type ReleaseSpec, siteRelease } from '@fedistill/distill';
import { seededRandom } from '@fedistill/dp';
import { DeclineReason, type GetReleasedTargetsRequest, GetReleasedTargetsResponse } from '@fedistill/wire';
import { referenceRows, RoundRefusal } from './announcement-checks';
import type { LocalFederation } from './federation-sync';
import type { NodeConfig } from './node-config';
import { testNodeConfig } from './testing/node-config';
import type { ReleasedTargetsSource } from './released-targets';
import { chargeRound } from './round-charge';
import { SiteLedger } from './site-ledger';
import { type PreparedSite, SitePreparation } from './site-preparation';
import { TeacherRevisit } from './teacher-revisit';

const REFERENCE_ROWS = 20;
const QUERIES = [0, 3, 6, 9, 12];

/** A malicious coordinator's GetReleasedTargets: whatever rows and targets it likes, through the wire codec. */
function coordinator(
  rows: number[],
  probs: number[],
  rounds = [1],
): ReleasedTargetsSource & { asked: number } {
  const source = (req: GetReleasedTargetsRequest) => {
    source.asked += 1;
    const bytes = Buffer.alloc(probs.length * 4);
    probs.forEach((p, i) => bytes.writeFloatLE(p, i * 4));
    const page = { rows, numClasses: 2, probs: bytes, totalRows: rows.length, rounds };
    expect(req.start).toBe(0);
    return Promise.resolve(
      GetReleasedTargetsResponse.decode(GetReleasedTargetsResponse.encode(page).finish()),
    );
  };
  source.asked = 0;
  return source;
}

/** Every reference row "released" as certainly class 0: a poisoning coordinator's targets. */
const poison = () =>
  coordinator(
    Array.from({ length: REFERENCE_ROWS }, (_, i) => i),
    Array.from({ length: REFERENCE_ROWS }, () => [1, 0]).flat(),
  );

describe(TeacherRevisit.name, () => {
  let dir: string;
  let infos: string[];
  let warnings: string[];
  const log = {
    info: (_o: object, m: string) => infos.push(m),
    warn: (_o: object, m: string) => warnings.push(m),
    error: () => undefined,
  };

  const config = (onnx?: NodeConfig['teachers']['onnx']): NodeConfig =>
    testNodeConfig(dir, { site: 'a-site', teachers: { epochs: 3, onnx } });

  const local = (revisit: unknown): LocalFederation => ({
    id: 'fed',
    spec: { labels: ['no', 'yes'], input: { shape: [3] }, ...(revisit ? { revisit } : {}) },
    members: [],
    referenceFile: path.join(dir, 'reference.npy'),
    referenceSha256: 'a'.repeat(64),
  });
  const terms = { digestEpochs: 4, localEpochs: 1, learningRate: 0.05 };

  const preparations: SitePreparation[] = [];
  async function prepare(
    revisit: unknown = terms,
    onnx?: NodeConfig['teachers']['onnx'],
  ): Promise<PreparedSite> {
    const p = new SitePreparation(config(onnx), log);
    preparations.push(p);
    return p.prepare(local(revisit));
  }
  const queried = () => referenceRows(path.join(dir, 'reference.npy'), QUERIES, [3]);
  const answers = async (site: PreparedSite) =>
    (await site.teachers.probabilities(queried(), QUERIES.length)).map((p) => [...p]);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-revisit-'));
    infos = [];
    warnings = [];
    const rows = Array.from(
      { length: 40 },
      (_, i) => `${(i % 7) / 7},${((i * 3) % 5) / 5},${i % 2},${i % 2}`,
    );
    fs.writeFileSync(path.join(dir, 'train.csv'), `a,b,c,label\n${rows.join('\n')}\n`);
    const reference = Float32Array.from({ length: REFERENCE_ROWS * 3 }, (_, i) => ((i * 37) % 11) / 11);
    fs.writeFileSync(path.join(dir, 'reference.npy'), encodeNpy([REFERENCE_ROWS, 3], reference));
  });
  afterEach(async () => {
    for (const p of preparations.splice(0)) await p.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('digests the released targets and revisits once before round 2, deterministically for a node.yaml seed', async () => {
    const site = await prepare();
    const before = await answers(site);
    const source = poison();
    const sut = new TeacherRevisit({ config: config(), log, source: () => source });
    await sut.beforeRound(2, local(terms), site);
    expect(source.asked).toBe(1);
    expect(infos).toContain('revisit: teachers digested the released targets and revisited their partitions');
    const after = await answers(site);
    expect(after).not.toEqual(before);
    // Round 2 again (announced twice): nothing new to digest, nothing asked.
    await sut.beforeRound(2, local(terms), site);
    expect(source.asked).toBe(1);
    // Another node with the same node.yaml and the same targets ends with the same teachers.
    const twin = await prepare();
    await new TeacherRevisit({ config: config(), log, source: () => poison() }).beforeRound(
      2,
      local(terms),
      twin,
    );
    expect(await answers(twin)).toEqual(after);
  });

  it('does nothing in round 1 or for a federation without revisit', async () => {
    const source = poison();
    const sut = new TeacherRevisit({ config: config(), log, source: () => source });
    await sut.beforeRound(1, local(terms), await prepare());
    await sut.beforeRound(3, local(null), await prepare(null));
    expect(source.asked).toBe(0);
  });

  it('refuses malformed targets with a parameters refusal and leaves the teachers as they were', async () => {
    const site = await prepare();
    const before = await answers(site);
    const malformed: Array<[ReleasedTargetsSource, RegExp]> = [
      [coordinator([0, 20], [1, 0, 0, 1]), /row 20 is outside the reference set's 20 rows/],
      [coordinator([4, 4], [1, 0, 0, 1]), /row 4 appears twice/],
      [coordinator([4], [Number.NaN, 1]), /target NaN/],
      [coordinator([4], [2, -1]), /target 2 \(row 4\) is not a probability/],
      [coordinator([4, 5], [1, 0, 0]), /not rows x 2 float32/],
    ];
    for (const [source, why] of malformed) {
      const sut = new TeacherRevisit({ config: config(), log, source: () => source });
      const refusal = await sut.beforeRound(2, local(terms), site).catch((err: unknown) => err);
      expect(refusal).toBeInstanceOf(RoundRefusal);
      expect((refusal as RoundRefusal).reason).toBe(DeclineReason.DECLINE_REASON_PARAMETERS_REFUSED);
      expect((refusal as RoundRefusal).message).toMatch(why);
    }
    expect(await answers(site)).toEqual(before);
  });

  it('cannot change what the next round costs or lift its clipping bound, whatever targets it is fed', async () => {
    const revisited = await prepare();
    const untouched = await prepare();
    const ledgerDir = (name: string) => {
      fs.mkdirSync(path.join(dir, name));
      return path.join(dir, name);
    };
    const ledgers = await Promise.all(
      ['revisit', 'none'].map((n) => SiteLedger.open(ledgerDir(n), { epsilonLimit: 100, delta: 1e-5 })),
    );
    try {
      await new TeacherRevisit({ config: config(), log, source: () => poison() }).beforeRound(
        2,
        local(terms),
        revisited,
      );
      expect(await answers(revisited)).not.toEqual(await answers(untouched));
      expect(ledgers[0]!.spent).toBe(0);
      const spec: ReleaseSpec = {
        summary: 'soft-labels',
        queries: QUERIES.length,
        classes: 2,
        clipNorm: 1,
        granularity: 0.01,
        maxTeachers: 8,
        noise: { kind: 'skellam', noiseMultiplier: 3, sites: 3, toleratedDropouts: 0, assumedColluders: 2 },
      };
      const plan = planRelease(spec);
      const charges = ledgers.map((l) => chargeRound(plan, { kind: 'paranoid' }, l, 'fed#2'));
      expect(charges[0]!.epsilon).toBeGreaterThan(0);
      expect(charges[0]!.epsilon).toBe(charges[1]!.epsilon);
      expect(charges[0]!.context.charge).toEqual(charges[1]!.context.charge);
      // The summary of the revisited teachers is still clipped to the bound the charge assumes.
      const exact = { ...spec, noise: null };
      const summary = siteRelease(
        await revisited.teachers.probabilities(queried(), QUERIES.length),
        exact,
        planRelease(exact),
        seededRandom(1),
      );
      expect(Math.max(...summary.map(Math.abs))).toBeLessThanOrEqual(planRelease(exact).maxSignal);
    } finally {
      for (const l of ledgers) l.close();
    }
  });

  it('answers without revisit (and says so once) with site-provided ONNX teachers', async () => {
    const trained = await prepare(null);
    const file = path.join(dir, 'teacher.onnx');
    fs.writeFileSync(file, trained.teachers.models[0]!);
    const onnx = [{ path: file, input: undefined, output: undefined, outputKind: 'logits' as const }];
    const site = await prepare(terms, onnx);
    const source = poison();
    const sut = new TeacherRevisit({ config: config(onnx), log, source: () => source });
    await sut.beforeRound(2, local(terms), site);
    await sut.beforeRound(3, local(terms), site);
    expect(source.asked).toBe(0);
    expect(warnings).toEqual([
      'revisit skipped: site-provided ONNX teachers (teachers.onnx) cannot be fine-tuned; answering without revisit',
    ]);
  });
});
