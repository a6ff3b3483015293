import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import type { TrustAssumption } from '@fedistill/distill';
import {
  encodeAnnouncement,
  type FederationView,
  parseFederationSpec,
  planEvaluationRound,
  planRound,
} from '@fedistill/protocol';
import { evaluationFromAnnouncement, releaseFromAnnouncement } from '../../../node/src/announcement-checks';
import { chargeRound } from '../../../node/src/round-charge';
import { SiteLedger } from '../../../node/src/site-ledger';
import { CliError } from '../cli-error';
import { registerPrivacyCommand } from './privacy.command';

async function cost(args: string[]): Promise<string> {
  const program = new Command('fedistill').exitOverride().configureOutput({ writeErr: () => undefined });
  registerPrivacyCommand(program);
  program.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride()));
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'fedistill', 'privacy', 'cost', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

const DEFINITION = {
  id: 'cancer',
  labels: ['malignant', 'benign'],
  input: { shape: [30] },
  referenceSet: { sha256: 'a'.repeat(64) },
  student: { architecture: 'mlp' },
  privacy: { mechanism: 'skellam', summary: 'votes', noiseMultiplier: 2, epsilonCap: 8, assumedColluders: 1 },
  secureAggregation: { maxTeachersPerSite: 8 },
  rounds: { minSites: 4, maxRounds: 3, queriesPerRound: 40 },
};

interface CostJson {
  epsilon: number;
  delta: number;
  firstDeclined: number | null;
  assumption: string;
  rounds: Array<{ round: number; kind: string; epsilon: number; epsilonTotal: number; answered: boolean }>;
}

/**
 * What a node's own ledger charges for the same rounds: each round planned by the coordinator's
 * planner, encoded for the wire, decoded and recomputed by the node (releaseFromAnnouncement,
 * evaluationFromAnnouncement) and charged to a real SiteLedger on disk (chargeRound).
 */
async function nodeLedgerCharges(
  dir: string,
  o: { rounds: number; evaluations: number; sites: number; trust: TrustAssumption; delta: number },
): Promise<number[]> {
  const parsed = parseFederationSpec(DEFINITION);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const view: FederationView = { ...parsed.spec, members: [], createdAt: '', privacyOff: false };
  const sites = Array.from({ length: o.sites }, (_v, i) => ({
    name: `s${i}`,
    signingPublicKey: 'ab'.repeat(32),
  }));
  const queries = Array.from({ length: DEFINITION.rounds.queriesPerRound }, (_v, i) => i);
  const schema = { id: 'cancer', labels: DEFINITION.labels, inputShape: DEFINITION.input.shape };
  const ledger = await SiteLedger.open(dir, { epsilonLimit: 1e6, delta: o.delta });
  const totals: number[] = [];
  try {
    for (let r = 1; r <= o.rounds + o.evaluations; r += 1) {
      const evaluation = r > o.rounds;
      const plan = evaluation
        ? planEvaluationRound(parsed.spec, r, sites, 1, Date.now())
        : planRound(parsed.spec, r, sites, queries, Date.now());
      const wire = encodeAnnouncement(plan, view);
      const release = evaluation
        ? evaluationFromAnnouncement(wire, schema, 50, false)
        : releaseFromAnnouncement(wire, schema, 5, false);
      chargeRound(release.plan, o.trust, ledger, `cancer/${r}`).commit();
      totals.push(ledger.spent);
    }
  } finally {
    ledger.close();
  }
  return totals;
}

describe('privacy cost --federation', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fed-cost-'));
    file = path.join(dir, 'federation.json');
    fs.writeFileSync(file, JSON.stringify(DEFINITION));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['paranoid (node.yaml default)', [], { kind: 'paranoid' } as TrustAssumption],
    ['1 colluder', ['--assumed-colluders', '1'], { kind: 'colluders', colluders: 1 } as TrustAssumption],
    ['0 colluders', ['--assumed-colluders', '0'], { kind: 'colluders', colluders: 0 } as TrustAssumption],
  ])("prints what a node's ledger charges, round by round (%s)", async (_name, flags, trust) => {
    const sut = JSON.parse(
      await cost(['--federation', file, '--evaluations', '1', ...flags, '--json']),
    ) as CostJson;
    const ledgerDir = fs.mkdtempSync(path.join(dir, 'node-'));
    const charged = await nodeLedgerCharges(ledgerDir, {
      rounds: 3,
      evaluations: 1,
      sites: 4,
      trust,
      delta: 1e-5,
    });
    expect(sut.rounds.map((r) => r.epsilonTotal)).toEqual(charged);
    expect(sut.epsilon).toBe(charged.at(-1));
    expect(sut.rounds.map((r) => r.kind)).toEqual(['distill', 'distill', 'distill', 'evaluation']);
    expect(sut.delta).toBe(1e-5);
  });

  it('counts more of the noise the more the site trusts (a paranoid site charges the most)', async () => {
    const paranoid = JSON.parse(await cost(['--federation', file, '--json'])) as CostJson;
    const trusting = JSON.parse(
      await cost(['--federation', file, '--assumed-colluders', '0', '--json']),
    ) as CostJson;
    expect(trusting.epsilon).toBeLessThan(paranoid.epsilon);
    expect(paranoid.assumption).toMatch(/paranoid/);
  });

  it('names the round a site at its epsilonLimit declines, and says it in words', async () => {
    const all = JSON.parse(await cost(['--federation', file, '--json'])) as CostJson;
    const second = all.rounds[1]?.epsilonTotal as number;
    const limit = String(
      (all.rounds[0]?.epsilonTotal as number) + (second - (all.rounds[0]?.epsilonTotal as number)) / 2,
    );
    const sut = JSON.parse(
      await cost(['--federation', file, '--epsilon-limit', limit, '--json']),
    ) as CostJson;
    expect(sut.firstDeclined).toBe(2);
    expect(sut.rounds.map((r) => r.answered)).toEqual([true, false, false]);
    const text = await cost(['--federation', file, '--epsilon-limit', limit]);
    expect(text).toMatch(
      /^each site's ledger charges epsilon \d+\.\d{4} at delta 0\.00001 for 3 round\(s\) of federation 'cancer'/,
    );
    expect(text).toMatch(/declines round 2 and every later one/);
    expect(text).toMatch(/one round is one release, however many queries it asks/);
  });

  it('prices the rounds given by --rounds and --sites, not the definition’s', async () => {
    const sut = JSON.parse(
      await cost(['--federation', file, '--rounds', '5', '--sites', '6', '--json']),
    ) as CostJson & {
      sites: number;
    };
    expect(sut.rounds).toHaveLength(5);
    expect(sut.sites).toBe(6);
  });

  it.each([
    [['--federation', '/nonexistent/federation.yaml'], /cannot be read/],
    [['--federation', 'FILE', '--sigma', '2'], /--sigma: not with --federation/],
    [['--federation', 'FILE', '--mechanism', 'gaussian'], /--mechanism: not with --federation/],
    [
      ['--federation', 'FILE', '--assumed-colluders', '-1'],
      /--assumed-colluders '-1' must be an integer >= 0/,
    ],
    [['--federation', 'FILE', '--rounds', '0'], /--rounds '0' must be an integer >= 1/],
    [['--federation', 'FILE', '--delta', '2'], /--delta '2' must be a number in \(0, 1\)/],
    [['--federation', 'NONE'], /privacy\.mechanism is 'none'/],
    [['--federation', 'BAD'], /rounds\.minSites: /],
  ])('refuses %j, naming the problem', async (args, message) => {
    const none = path.join(dir, 'none.json');
    fs.writeFileSync(none, JSON.stringify({ ...DEFINITION, privacy: { mechanism: 'none' } }));
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...DEFINITION, rounds: { minSites: 0 } }));
    const named = args.map((a) => ({ FILE: file, NONE: none, BAD: bad })[a] ?? a);
    const err = await cost(named).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(message);
    expect(err instanceof CliError ? err.exitCode : err instanceof RangeError ? 2 : -1).toBe(2);
  });
});
