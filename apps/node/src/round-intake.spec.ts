import { AuditChain, MemoryAuditLogStore } from '@fedistill/audit';
import { DataFormatError } from '@fedistill/data';
import { generateSiteKeys } from '@fedistill/identity';
import { type DeclineRoundRequest, DeclineReason, type RoundAnnouncement } from '@fedistill/wire';
import type { NodeEgress } from './egress';
import { declineRound, UNFIT_REPORTED, UNPREPARED_REPORTED, unavailable } from './round-intake';
import { SiteDataError } from './site-data';
import type { SiteLedger } from './site-ledger';

describe(unavailable.name, () => {
  it("tells the coordinator only the kind of problem, keeping the site's own message", () => {
    const unfit = new DataFormatError(
      '/srv/st-marys/records.csv',
      "label column 'outcome' not found in columns age, size, diagnosis",
    );
    const sut = unavailable(unfit);
    expect(sut.reason).toBe(DeclineReason.DECLINE_REASON_UNAVAILABLE);
    expect(sut.message).toBe(unfit.message);
    expect(sut.reported).toBe(UNFIT_REPORTED);
    expect(unavailable(new SiteDataError('data: /srv/x.csv has labels up to 7')).reported).toBe(
      UNFIT_REPORTED,
    );
    expect(unavailable(new Error('ENOENT: /srv/fedistill/federations/f/reference.npy')).reported).toBe(
      UNPREPARED_REPORTED,
    );
    for (const text of [UNFIT_REPORTED, UNPREPARED_REPORTED]) expect(text).not.toMatch(/\//);
  });
});

describe(declineRound.name, () => {
  it("records the full reason in the site's audit log and sends the coordinator the reason code and the reported text", async () => {
    const store = new MemoryAuditLogStore();
    const audit = new AuditChain(store, 'st-marys', generateSiteKeys());
    const sent: DeclineRoundRequest[] = [];
    const egress = {
      unary: (_method: unknown, request: DeclineRoundRequest) => {
        sent.push(request);
        return Promise.resolve({});
      },
    } as unknown as NodeEgress;
    const warnings: object[] = [];
    const log = { info: () => undefined, warn: (o: object) => warnings.push(o), error: () => undefined };
    const a = { round: { federationId: 'cancer', round: 3 } } as RoundAnnouncement;
    const refusal = unavailable(
      new DataFormatError('/srv/st-marys/records.csv', "label column 'outcome' not found"),
    );
    await declineRound(a, refusal, {
      audit,
      egress,
      ledger: { spent: 1.5, epsilonLimit: 8 } as SiteLedger,
      log,
    });
    expect(sent).toEqual([
      {
        round: { federationId: 'cancer', round: 3 },
        reason: DeclineReason.DECLINE_REASON_UNAVAILABLE,
        detail: UNFIT_REPORTED,
        epsilonSpent: 1.5,
        epsilonLimit: 8,
        roundEpsilon: 0,
      },
    ]);
    const refusals = store.entries.filter((e) => e.event === 'refusal');
    expect(refusals.map((e) => e.detail)).toEqual([`declined round: ${refusal.message}`]);
    expect(refusals[0]?.detail).toContain('/srv/st-marys/records.csv');
    expect(warnings).toEqual([expect.objectContaining({ reason: refusal.message })]);
  });
});
