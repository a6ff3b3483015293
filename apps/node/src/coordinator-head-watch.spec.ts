import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditChain, headToWire, type SignedHead, signLogHead, SqliteAuditLogStore } from '@fedistill/audit';
import { generateSiteKeys } from '@fedistill/identity';
import {
  COORDINATOR_HEAD_FILE,
  compareHeads,
  CoordinatorHeadWatch,
  LOG_ALARM_FILE,
} from './coordinator-head-watch';
import type { NodeEgress } from './egress';
import { CoordinatorLogAlarmError, LogAnchor } from './log-anchor';

const coordinator = generateSiteKeys();
const site = generateSiteKeys();
const head = (seq: number, hashChar: string): SignedHead =>
  signLogHead('coordinator', seq, hashChar.repeat(64), coordinator.signingSecretKey);

describe(LogAnchor.name, () => {
  let dir: string;
  let store: SqliteAuditLogStore;
  let chain: AuditChain;
  let answers: SignedHead[];
  const errors: string[] = [];
  let sut: LogAnchor;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-anchor-'));
    store = new SqliteAuditLogStore(path.join(dir, 'audit-log.db'));
    chain = new AuditChain(store, 'a-site', site);
    answers = [];
    errors.length = 0;
    // A coordinator that answers each anchor exchange with the next head of `answers`.
    const egress = {
      unary: () => Promise.resolve({ coordinatorHead: headToWire(answers.shift()!) }),
    } as unknown as NodeEgress;
    sut = new LogAnchor(egress, chain, site, coordinator.signingPublicKey, new CoordinatorHeadWatch(dir), {
      info: () => undefined,
      warn: () => undefined,
      error: (_o, m) => errors.push(m),
    });
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rejected = async () => (await store.all()).filter((e) => e.event === 'rejected');

  it('accepts heads that move forward and remembers the last one in the node directory', async () => {
    answers.push(head(3, 'a'), head(3, 'a'), head(8, 'b'));
    for (let i = 0; i < 3; i += 1) await sut.exchange();
    expect(JSON.parse(fs.readFileSync(path.join(dir, COORDINATOR_HEAD_FILE), 'utf8'))).toMatchObject({
      sequence: 8,
    });
    expect(await rejected()).toEqual([]);
    expect(fs.existsSync(path.join(dir, LOG_ALARM_FILE))).toBe(false);
  });

  it('raises a rollback at once: error log, a rejected entry with both heads, and the alarm', async () => {
    answers.push(head(8, 'b'), head(5, 'c'));
    await sut.exchange();
    await expect(sut.exchange()).rejects.toThrow(CoordinatorLogAlarmError);
    expect(errors).toEqual([expect.stringMatching(/rolled back.*sequence 5 after one at 8/)]);
    const [entry] = await rejected();
    expect(entry).toMatchObject({ kind: 'Audit/AnchorLogHead', peer: 'coordinator' });
    expect(JSON.parse(entry!.detail)).toMatchObject({
      alarm: 'rollback',
      last: { sequence: 8 },
      received: { sequence: 5 },
    });
    expect(new CoordinatorHeadWatch(dir).alarm()).toMatchObject({ kind: 'rollback' });
    // Not recorded as an anchor, and the remembered head is still the last good one.
    expect((await store.all()).filter((e) => e.event === 'anchor')).toHaveLength(1);
    expect(new CoordinatorHeadWatch(dir).last()?.sequence).toBe(8);
  });

  it('raises a fork: the same sequence number with another entry hash', async () => {
    answers.push(head(8, 'b'), head(8, 'd'));
    await sut.exchange();
    await expect(sut.exchange()).rejects.toThrow(/forked/);
    expect(new CoordinatorHeadWatch(dir).alarm()).toMatchObject({ kind: 'fork' });
    expect(await rejected()).toHaveLength(1);
  });

  it('remembers across restarts: a rollback after the node restarted is still caught', async () => {
    answers.push(head(8, 'b'));
    await sut.exchange();
    const restarted = new CoordinatorHeadWatch(dir);
    expect(restarted.observe(head(2, 'e')).kind).toBe('rollback');
  });

  it("the operator's acknowledgement clears the alarm and takes the new head as the last one", () => {
    const watch = new CoordinatorHeadWatch(dir);
    watch.observe(head(8, 'b'));
    watch.observe(head(5, 'c'));
    expect(watch.acknowledge()?.kind).toBe('rollback');
    expect(watch.alarm()).toBeUndefined();
    expect(watch.observe(head(6, 'f')).kind).toBe('ok');
  });
});

describe(compareHeads.name, () => {
  it('cannot tell from heads alone whether a later head extends the last one (documented limit)', () => {
    expect(compareHeads(head(8, 'b'), head(9, 'z')).kind).toBe('ok');
    expect(compareHeads(undefined, head(1, 'a')).kind).toBe('ok');
  });
});
