import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCoordinatorConfig } from './coordinator-config';

/**
 * deploy/systemd/fedistill-coordinator.service passes the secrets as credentials and names them
 * through Environment= lines; this holds those lines and the configuration loader together.
 */
describe('fedistill-coordinator.service', () => {
  const unit = fs.readFileSync(
    path.join(__dirname, '../../../../deploy/systemd/fedistill-coordinator.service'),
    'utf8',
  );
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-unit-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** The unit's Environment= variables with systemd's %d (credentials) and %S (state) resolved. */
  function unitEnvironment(credentials: string, state: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [, name, value] of unit.matchAll(/^Environment=([A-Z0-9_]+)=(.*)$/gm))
      env[name!] = value!.replace(/%d/g, credentials).replace(/%S/g, state);
    return env;
  }

  it('reads the operator token and the gRPC key from its credentials, and keeps state in its state directory', () => {
    const credentials = path.join(root, 'credentials');
    const etc = path.join(root, 'etc');
    fs.mkdirSync(credentials);
    fs.mkdirSync(etc);
    // What LoadCredential= copies: the credential names the unit gives, from the files in /etc.
    const credentialNames = [...unit.matchAll(/^LoadCredential=([^:\n]+):/gm)].map((m) => m[1]);
    expect(credentialNames).toEqual(['operator.token', 'grpc.key']);
    fs.writeFileSync(path.join(credentials, 'operator.token'), `${'c'.repeat(40)}\n`);
    fs.writeFileSync(path.join(credentials, 'grpc.key'), 'KEY FROM CREDENTIALS');
    fs.writeFileSync(path.join(etc, 'operator.token'), 'e'.repeat(40));
    fs.writeFileSync(path.join(etc, 'coordinator.crt'), 'CERT');
    const config = path.join(etc, 'coordinator.yaml');
    fs.writeFileSync(
      config,
      'dataDir: ./elsewhere\ngrpc:\n  tls:\n    cert: coordinator.crt\n    key: coordinator.key\nadmin:\n  operatorTokenFile: operator.token\n',
    );

    const sut = loadCoordinatorConfig(config, unitEnvironment(credentials, path.join(root, 'state')));

    expect(sut.admin.operatorToken).toBe('c'.repeat(40));
    expect(sut.grpc.tlsKeyPem).toBe('KEY FROM CREDENTIALS');
    expect(sut.grpc.tlsCertPem).toBe('CERT');
    expect(sut.dataDir).toBe(path.join(root, 'state', 'fedistill', 'coordinator'));
  });
});
