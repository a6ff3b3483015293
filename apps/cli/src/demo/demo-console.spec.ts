import { PassThrough } from 'node:stream';
import { consoleAccessText, untilInterrupted } from './demo-console';

describe('demo console', () => {
  it('prints where the dashboard is and the read-only token to sign in with', () => {
    const text = consoleAccessText({ url: 'http://127.0.0.1:4100/console/', token: 'tok-123' });
    expect(text).toContain('http://127.0.0.1:4100/console/');
    expect(text).toMatch(/read-only \(auditor\) token:\n {6}tok-123\n$/);
  });

  it('waits for Ctrl-C, then lets go of the signal handlers it added', async () => {
    const out = new PassThrough();
    const before = process.listenerCount('SIGINT');
    const beforeTerm = process.listenerCount('SIGTERM');
    const waiting = untilInterrupted(out);
    expect(String(out.read())).toContain('Press Ctrl-C to stop them.');
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    process.emit('SIGINT', 'SIGINT');
    await expect(waiting).resolves.toBe('SIGINT');
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(process.listenerCount('SIGTERM')).toBe(beforeTerm);
  });
});
