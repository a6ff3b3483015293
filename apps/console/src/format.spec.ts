import { formatEpsilon, formatPercent, participantState, stageSteps, timeAgo } from './format';
import { parseRoute, routeHash } from './route';
import type { Round } from './types';

const round = (over: Partial<Round>): Round => ({
  federationId: 'f',
  round: 1,
  status: 'open',
  stage: 'keys',
  participants: ['a', 'b', 'c'],
  queries: 10,
  keysFrom: [],
  sharesFrom: [],
  inputsFrom: [],
  awaiting: [],
  declines: [],
  reason: null,
  kind: 'distill',
  ...over,
});

describe('console formatting', () => {
  it('prints epsilon to three significant digits, never sixteen', () => {
    expect(formatEpsilon(6.8292521421520025)).toBe('6.83');
    expect(formatEpsilon(0.41234)).toBe('0.412');
    expect(formatEpsilon(12)).toBe('12');
    expect(formatEpsilon(1234.5)).toBe('1235');
    expect(formatEpsilon(0)).toBe('0');
    expect([null, undefined, NaN, Infinity].map(formatEpsilon)).toEqual(['—', '—', '—', '—']);
    expect(formatPercent(0.9123)).toBe('91.2%');
    expect(formatPercent(null)).toBe('—');
  });

  it('says how long ago in the largest whole unit', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(timeAgo('2026-12-02T11:59:48Z', now)).toBe('12 s ago');
    expect(timeAgo('2026-12-02T11:57:00Z', now)).toBe('3 min ago');
    expect(timeAgo('2026-12-02T09:00:00Z', now)).toBe('3 h ago');
    expect(timeAgo('2026-11-28T12:00:00Z', now)).toBe('4 d ago');
    expect(timeAgo(null, now)).toBe('never');
  });

  it('places a round on its stages: done, current, failed where it was abandoned', () => {
    const states = (r: Round) => stageSteps(r).map((s) => s.state);
    expect(states(round({ stage: 'inputs' }))).toEqual(['done', 'done', 'current', 'todo', 'todo']);
    expect(states(round({ status: 'completed', stage: 'done' }))).toEqual([
      'done',
      'done',
      'done',
      'done',
      'done',
    ]);
    expect(
      states(round({ status: 'abandoned', stage: 'abandoned', keysFrom: ['a', 'b'], sharesFrom: ['a'] })),
    ).toEqual(['done', 'failed', 'todo', 'todo', 'todo']);
    expect(states(round({ status: 'abandoned', stage: 'abandoned' }))[0]).toBe('failed');
  });

  it('tells what each participant did, refusals and dropouts included', () => {
    const open = round({ stage: 'shares', keysFrom: ['a', 'b', 'c'], sharesFrom: ['a'], awaiting: ['b'] });
    expect(['a', 'b', 'c'].map((s) => participantState(open, s))).toEqual([
      'sent its shares',
      'awaited at shares',
      'sent its keys',
    ]);
    const done = round({
      status: 'completed',
      stage: 'done',
      keysFrom: ['a', 'b'],
      sharesFrom: ['a', 'b'],
      inputsFrom: ['a'],
      declines: [{ site: 'c', reason: 'budget-exhausted', detail: 'past its limit' }],
    });
    expect(['a', 'b', 'c'].map((s) => participantState(done, s))).toEqual([
      'contributed',
      'dropped out after its shares',
      'refused (budget-exhausted)',
    ]);
  });

  it('reads and writes the page and federation of the address', () => {
    expect(parseRoute('#/privacy/breast%20cancer')).toEqual({ page: 'privacy', federation: 'breast cancer' });
    expect(parseRoute('')).toEqual({ page: 'sites', federation: null });
    expect(parseRoute('#/nonsense/x')).toEqual({ page: 'sites', federation: 'x' });
    expect(routeHash({ page: 'students', federation: 'a/b' })).toBe('#/students/a%2Fb');
    expect(parseRoute(routeHash({ page: 'audit', federation: null }))).toEqual({
      page: 'audit',
      federation: null,
    });
  });
});
