import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyEnvOverrides, ConfigError, loadCoordinatorConfig } from './coordinator-config';

describe(loadCoordinatorConfig.name, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-cfg-'));
  const token = 't'.repeat(40);
  fs.writeFileSync(path.join(dir, 'c.crt'), 'CERT');
  fs.writeFileSync(path.join(dir, 'c.key'), 'KEY');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const minimal = `grpc:\n  tls:\n    cert: c.crt\n    key: c.key\nadmin:\n  operatorToken: ${token}\n`;

  it('applies defaults, resolves paths against the file and freezes the result', () => {
    const sut = loadCoordinatorConfig(write('ok.yaml', minimal));
    expect(sut.grpc).toMatchObject({ host: '0.0.0.0', port: 7443, tlsCertPem: 'CERT', tlsKeyPem: 'KEY' });
    expect(sut.dataDir).toBe(path.join(dir, 'coordinator-data'));
    expect(sut.sessions).toEqual({ heartbeatIntervalMs: 5000, offlineAfterMs: 15000, resumeGraceMs: 30_000 });
    expect(sut.enrolment.defaultTokenTtlMs).toBe(86_400_000);
    expect(Object.isFrozen(sut) && Object.isFrozen(sut.grpc)).toBe(true);
  });

  it('lets FEDISTILL_ environment variables override nested settings', () => {
    const sut = loadCoordinatorConfig(write('env.yaml', minimal), {
      FEDISTILL_GRPC__LISTEN: '127.0.0.1:0',
      FEDISTILL_SESSIONS__OFFLINE_AFTER: '1m',
      FEDISTILL_DATA_DIR: '/var/lib/fedistill',
    });
    expect(sut.grpc.port).toBe(0);
    expect(sut.sessions.offlineAfterMs).toBe(60_000);
    expect(sut.dataDir).toBe('/var/lib/fedistill');
  });

  it('names every bad setting: wrong type, missing field, unknown key, bad duration, cross-field rule', () => {
    const file = write(
      'bad.yaml',
      `grpc:\n  listen: 99\n  tls:\n    cert: c.crt\nadmin:\n  operatorToken: short\nsessions:\n  heartbeatInterval: 10s\n  offlineAfter: 5s\nauth:\n  clockSkew: soon\nextra: 1\n`,
    );
    let message = '';
    try {
      loadCoordinatorConfig(file);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('grpc.listen: Invalid input: expected string, received number');
    expect(message).toContain('grpc.tls.key: Invalid input: expected string, received undefined');
    expect(message).toContain('admin.operatorToken: must be at least 32 characters');
    expect(message).toContain("auth.clockSkew: 'soon' is not a duration");
    expect(message).toContain('(top level): Unrecognized key: "extra"');
  });

  it('checks cross-field rules and unreadable files', () => {
    expect(() =>
      loadCoordinatorConfig(
        write('x.yaml', `${minimal}sessions:\n  heartbeatInterval: 10s\n  offlineAfter: 5s\n`),
      ),
    ).toThrow('sessions: offlineAfter must be longer than heartbeatInterval');
    expect(() => loadCoordinatorConfig(write('y.yaml', minimal.replace('c.key', 'missing.key')))).toThrow(
      /grpc.tls.key: cannot read/,
    );
    expect(() => loadCoordinatorConfig(path.join(dir, 'none.yaml'))).toThrow('cannot be read');
    expect(() => loadCoordinatorConfig(write('z.yaml', 'grpc: [unclosed'))).toThrow(/not valid YAML/);
  });

  it('sets access token lifetimes and the authentication failure limit, naming bad values', () => {
    const sut = loadCoordinatorConfig(write('access.yaml', minimal));
    expect(sut.admin.accessTokens).toEqual({ defaultTtlMs: 30 * 86_400_000, maxTtlMs: 365 * 86_400_000 });
    expect(sut.admin.authFailures).toEqual({ limit: 10, windowMs: 60_000 });
    const set = loadCoordinatorConfig(write('access-env.yaml', minimal), {
      FEDISTILL_ADMIN__AUTH_FAILURES__LIMIT: '3',
      FEDISTILL_ADMIN__ACCESS_TOKENS__MAX_TTL: '90d',
    });
    expect(set.admin.authFailures.limit).toBe(3);
    expect(set.admin.accessTokens.maxTtlMs).toBe(90 * 86_400_000);
    const bad = `${minimal}  accessTokens:\n    defaultTtl: 400d\n  authFailures:\n    limit: 0\n`;
    expect(() => loadCoordinatorConfig(write('access-bad.yaml', bad))).toThrow(
      /admin\.accessTokens: defaultTtl must not exceed maxTtl[\s\S]*admin\.authFailures\.limit: Too small/,
    );
  });

  describe('admin API transport (issue 11, finding 10)', () => {
    const adminWith = (extra: string) => minimal.replace('admin:\n', `admin:\n${extra}`);

    it('refuses a non-loopback admin listen address without TLS, naming the settings that fix it', () => {
      const file = write('insecure.yaml', adminWith('  listen: 0.0.0.0:7080\n'));
      expect(() => loadCoordinatorConfig(file)).toThrow(ConfigError);
      expect(() => loadCoordinatorConfig(file)).toThrow(
        /admin\.listen: 0\.0\.0\.0 is not a loopback address and admin\.tls is not set.*admin\.tls\.cert and admin\.tls\.key.*admin\.allowInsecureNonLoopback: true/,
      );
      // The same through the environment, as a container would set it.
      expect(() =>
        loadCoordinatorConfig(write('env-insecure.yaml', minimal), {
          FEDISTILL_ADMIN__LISTEN: '10.0.0.5:7080',
        }),
      ).toThrow(/admin\.listen: 10\.0\.0\.5 is not a loopback address/);
    });

    it('accepts loopback in clear text, HTTPS anywhere, and clear text off loopback only when told so', () => {
      expect(loadCoordinatorConfig(write('loop.yaml', adminWith('  listen: 127.0.0.1:0\n'))).admin.tls).toBe(
        undefined,
      );
      const tls = loadCoordinatorConfig(
        write(
          'tls.yaml',
          adminWith('  listen: 0.0.0.0:0\n  tls:\n    cert: c.crt\n    key: c.key\n    ca: c.crt\n'),
        ),
      );
      expect(tls.admin.tls).toEqual({ certPem: 'CERT', keyPem: 'KEY', caFile: path.join(dir, 'c.crt') });
      const told = loadCoordinatorConfig(write('told.yaml', adminWith('  listen: 0.0.0.0:0\n')), {
        FEDISTILL_ADMIN__ALLOW_INSECURE_NON_LOOPBACK: 'true',
      });
      expect(told.admin).toMatchObject({ host: '0.0.0.0', allowInsecureNonLoopback: true, tls: undefined });
      expect(() =>
        loadCoordinatorConfig(
          write(
            'badtls.yaml',
            adminWith('  listen: 0.0.0.0:0\n  tls:\n    cert: c.crt\n    key: nope.key\n'),
          ),
        ),
      ).toThrow(/admin\.tls\.key: cannot read/);
    });
  });
});

describe(applyEnvOverrides.name, () => {
  it('ignores variables that name no setting (the CLI client, tests) and leaves the input untouched', () => {
    const raw = { admin: { listen: 'a:1' } };
    const sut = applyEnvOverrides(raw, {
      FEDISTILL_ADMIN_URL: 'http://x',
      FEDISTILL_ADMIN_TOKEN: 'y',
      FEDISTILL_TEST_POSTGRES_URL: 'postgres://z',
      FEDISTILL_ADMIN__LISTEN: 'b:2',
    });
    expect(sut).toEqual({ admin: { listen: 'b:2' } });
    expect(raw.admin.listen).toBe('a:1');
  });
});
