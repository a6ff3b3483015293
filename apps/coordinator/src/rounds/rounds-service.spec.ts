import { DeclineReason } from '@fedistill/wire';
import { declineReasonName } from './rounds-service';

describe(declineReasonName.name, () => {
  it("names a decline's reason as proto/ does, and keeps an unknown number visible", () => {
    expect(declineReasonName(DeclineReason.DECLINE_REASON_UNAVAILABLE)).toBe('DECLINE_REASON_UNAVAILABLE');
    expect(declineReasonName(DeclineReason.DECLINE_REASON_BUDGET_EXHAUSTED)).toBe(
      'DECLINE_REASON_BUDGET_EXHAUSTED',
    );
    expect(declineReasonName(99)).toBe('DECLINE_REASON_99 (unknown to this coordinator)');
    expect(declineReasonName(-1)).toBe('DECLINE_REASON_-1 (unknown to this coordinator)');
  });
});
