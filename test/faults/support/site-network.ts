import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exited, waitFor } from '../../e2e/support/processes';

const RELAY = path.join(__dirname, 'relay.cjs');
const ip = (...args: string[]): string => execFileSync('ip', args, { stdio: 'pipe' }).toString();

/**
 * One site's own network, for the partition cases: two fresh network namespaces joined by a veth
 * pair on a private /30 that exists only inside them: the site's (`<tag>-s`, where its node
 * runs, at .2) and the coordinator side's (`<tag>-c`, at .1), where a relay (relay.cjs) listens on
 * the coordinator's port and forwards through a Unix socket to a second relay on the host, which
 * dials the real coordinator on 127.0.0.1. The host's own network is never touched: no interface,
 * address, route or firewall rule is added to it.
 *
 * Faults act on the site's end of the veth, with real sockets and the kernel's TCP: a cut is the
 * link going down (packets vanish; the coordinator hears nothing, as when a cable is pulled),
 * packet loss is an iptables `statistic` rule dropping a share of packets both ways, and a delay
 * is the coordinator-side relay holding every chunk (this kernel has no netem qdisc).
 *
 * Needs root and iproute2; `SiteNetwork.create` returns the reason when it cannot be built.
 */
export class SiteNetwork {
  private constructor(
    private readonly tag: string,
    private readonly subnet: string,
    private readonly relays: ChildProcess[],
    private readonly socket: string,
    readonly port: number,
  ) {}

  get siteNs(): string {
    return `${this.tag}-s`;
  }
  private get coordinatorNs(): string {
    return `${this.tag}-c`;
  }
  private get siteLink(): string {
    return `${this.tag}s`;
  }
  /** The address the site's node dials: the coordinator side's end of the veth. */
  get dial(): string {
    return `${this.subnet}.1:${this.port}`;
  }
  /** The command prefix that runs a process in the site's namespace. */
  get wrap(): string[] {
    return ['ip', 'netns', 'exec', this.siteNs];
  }

  /**
   * Builds the namespaces, the veth pair and the relays to the coordinator's 127.0.0.1:`port`.
   * `tag`: a short unique name (at most 12 characters); `socketDir`: where the Unix socket lives.
   */
  static async create(tag: string, port: number, socketDir: string): Promise<SiteNetwork | string> {
    // A /30 per test process, from the private 10.0.0.0/8 range, inside the namespaces only.
    const subnet = `10.${200 + (process.pid % 50)}.${Math.floor(process.pid / 50) % 250}`;
    const socket = path.join(socketDir, `${tag}.sock`);
    const relays: ChildProcess[] = [];
    const net = new SiteNetwork(tag, subnet, relays, socket, port);
    try {
      ip('netns', 'add', net.siteNs);
      ip('netns', 'add', net.coordinatorNs);
      ip(
        'link',
        'add',
        `${tag}c`,
        'netns',
        net.coordinatorNs,
        'type',
        'veth',
        'peer',
        'name',
        net.siteLink,
        'netns',
        net.siteNs,
      );
      for (const [ns, link, host] of [
        [net.coordinatorNs, `${tag}c`, 1],
        [net.siteNs, net.siteLink, 2],
      ] as const) {
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        ip('-n', ns, 'addr', 'add', `${subnet}.${host}/30`, 'dev', link);
        ip('-n', ns, 'link', 'set', link, 'up');
      }
      relays.push(await relay([process.execPath, RELAY, 'unix', socket, 'tcp', '127.0.0.1', String(port)]));
      relays.push(
        await relay([
          ...['ip', 'netns', 'exec', net.coordinatorNs],
          process.execPath,
          RELAY,
          'tcp',
          `${subnet}.1`,
          String(port),
          'unix',
          socket,
        ]),
      );
      return net;
    } catch (err) {
      await net.dispose();
      const e = err as { stderr?: Buffer; message: string };
      return `could not build network namespaces (needs root and iproute2): ${e.stderr?.toString().trim() || e.message}`;
    }
  }

  /** Cuts the site off: its end of the veth goes down. */
  cut(): void {
    ip('-n', this.siteNs, 'link', 'set', this.siteLink, 'down');
  }

  /** Heals a cut. */
  heal(): void {
    ip('-n', this.siteNs, 'link', 'set', this.siteLink, 'up');
  }

  /** Drops `share` (0..1) of the packets in each direction on the site's link; 0 removes the rule. */
  loss(share: number): void {
    const iptables = (...args: string[]) =>
      execFileSync('ip', ['netns', 'exec', this.siteNs, 'iptables', ...args], { stdio: 'pipe' });
    iptables('-F');
    if (share === 0) return;
    const rule = ['-m', 'statistic', '--mode', 'random', '--probability', String(share), '-j', 'DROP'];
    iptables('-A', 'INPUT', '-i', this.siteLink, ...rule);
    iptables('-A', 'OUTPUT', '-o', this.siteLink, ...rule);
  }

  /** Holds every chunk for RELAY_DELAY_MS (200 ms) each way on the coordinator side, or stops. */
  delay(on: boolean): void {
    this.relays[1]?.kill(on ? 'SIGUSR1' : 'SIGUSR2');
  }

  /** Stops the relays and deletes both namespaces (and with them the veth pair and rules). */
  async dispose(): Promise<void> {
    for (const r of this.relays) r.kill('SIGTERM');
    await Promise.all(this.relays.map((r) => exited(r)));
    for (const ns of [this.siteNs, this.coordinatorNs])
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created
      }
    fs.rmSync(this.socket, { force: true });
  }
}

/** Starts a relay process and waits until it listens. */
async function relay(command: string[]): Promise<ChildProcess> {
  const [cmd, ...args] = command;
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('a relay to listen', 60_000, () => {
    if (child.exitCode !== null) throw new Error(`relay exited: ${out}`);
    return out.includes('relay ready') ? true : undefined;
  });
  return child;
}
