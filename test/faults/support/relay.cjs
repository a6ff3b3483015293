'use strict';
/**
 * A byte relay for the network-partition cases (test/faults/support/site-network.ts), run as its
 * own process so that it can live inside a network namespace:
 *
 *   node relay.cjs tcp HOST PORT unix PATH   listen on TCP HOST:PORT, forward to the Unix socket PATH
 *   node relay.cjs unix PATH tcp HOST PORT   listen on the Unix socket PATH, forward to TCP HOST:PORT
 *
 * A Unix socket is a file, not a network address, so it is the one way between the test's network
 * namespaces and the host's loopback without giving the host an interface or a route. SIGUSR1
 * makes the relay hold every chunk, in both directions, for RELAY_DELAY_MS (default 200) before
 * passing it on (in order); SIGUSR2 ends the delay. (The kernel here has no netem qdisc, so a
 * delay cannot come from `tc`.) Prints "relay ready" once it listens.
 */
const net = require('node:net');
const fs = require('node:fs');

/** Reads one endpoint ('tcp HOST PORT' or 'unix PATH') from `args`, consuming it. */
function endpoint(args) {
  const kind = args.shift();
  if (kind === 'tcp') return { kind, host: args.shift(), port: Number(args.shift()) };
  if (kind === 'unix') return { kind, path: args.shift() };
  throw new Error(`relay: expected 'tcp HOST PORT' or 'unix PATH', got '${kind}'`);
}
const args = process.argv.slice(2);
const from = endpoint(args);
const to = endpoint(args);
const delayWhenOn = Number(process.env.RELAY_DELAY_MS ?? 200);
let delayMs = 0;
process.on('SIGUSR1', () => (delayMs = delayWhenOn));
process.on('SIGUSR2', () => (delayMs = 0));

const listenArgs = from.kind === 'tcp' ? [from.port, from.host] : [from.path];
const connectArgs = to.kind === 'tcp' ? { host: to.host, port: to.port } : { path: to.path };
if (from.kind === 'unix') fs.rmSync(from.path, { force: true });

/** Passes `from`'s bytes to `to`, each chunk no earlier than `delayMs` after it arrived, in order. */
function pipe(from, to) {
  const queue = [];
  let timer = null;
  const flush = () => {
    timer = null;
    while (queue.length > 0 && queue[0].at <= Date.now()) to.write(queue.shift().chunk);
    if (queue.length > 0) timer = setTimeout(flush, queue[0].at - Date.now());
  };
  from.on('data', (chunk) => {
    if (delayMs === 0 && queue.length === 0) return void to.write(chunk);
    queue.push({ at: Date.now() + delayMs, chunk });
    if (!timer) timer = setTimeout(flush, Math.max(0, queue[0].at - Date.now()));
  });
  from.on('end', () => {
    const done = () => (queue.length > 0 ? setTimeout(done, 10) : to.end());
    done();
  });
}

const server = net.createServer((client) => {
  const upstream = net.connect(connectArgs);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  // An error ends both at once; an orderly end is passed on once the delayed bytes are out.
  client.on('error', close);
  upstream.on('error', close);
  pipe(client, upstream);
  pipe(upstream, client);
});
server.listen(...listenArgs, () => process.stdout.write('relay ready\n'));
process.on('SIGTERM', () => process.exit(0));
