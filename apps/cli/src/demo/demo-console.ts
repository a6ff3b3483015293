import { type AdminConnection, adminRequest } from '../admin-client';

/**
 * The demo's dashboard: where to open it and with which token, and --keep-running, which leaves
 * the coordinator and the nodes up after the demo's rounds until Ctrl-C.
 */
export interface ConsoleAccess {
  /** The dashboard's page on the coordinator's admin port. */
  readonly url: string;
  /** A read-only (auditor) access token. */
  readonly token: string;
}

/**
 * A read-only auditor token for the demo's dashboard (named, expiring in a day, recorded in the
 * transcript as created by the operator), and the address of the dashboard.
 */
export async function demoConsoleAccess(admin: AdminConnection): Promise<ConsoleAccess> {
  const { token } = await adminRequest<{ token: string }>(admin, 'POST', '/api/v1/access-tokens', {
    name: 'demo-auditor',
    role: 'auditor',
    ttl: '1d',
  });
  return { url: `${admin.url}/console/`, token };
}

/** The lines that tell a newcomer how to watch the rounds in a browser. */
export function consoleAccessText(access: ConsoleAccess): string {
  return (
    `    watch the rounds live in a browser: ${access.url}\n` +
    `    sign in with this read-only (auditor) token:\n` +
    `      ${access.token}\n`
  );
}

/**
 * Resolves on the first SIGINT or SIGTERM after printing how to stop. The caller then stops the
 * processes as after any demo.
 */
export function untilInterrupted(out: NodeJS.WritableStream = process.stdout): Promise<NodeJS.Signals> {
  out.write(
    '\n--keep-running: the coordinator and the hospital nodes keep running (watch them in the dashboard).\nPress Ctrl-C to stop them.\n',
  );
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
