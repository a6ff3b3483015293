import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadCoordinatorConfig } from './coordinator-config';

/**
 * deploy/compose and deploy/kubernetes each carry a coordinator.yaml and name its secrets, ports
 * and database URL elsewhere in the manifests (deploy/check-manifests.sh checks the manifests
 * themselves). This holds those pieces and the configuration loader together: the file loads,
 * every file it names is a secret the manifests mount, and the ports agree.
 */
describe('deployment manifests', () => {
  const deploy = path.join(__dirname, '../../../../deploy');
  const read = (file: string) => fs.readFileSync(path.join(deploy, file), 'utf8');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-manifests-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /**
   * Writes `yamlText` with the in-container secret folder replaced by a scratch one holding a
   * file for each name in `secrets`, and dataDir by a scratch folder; returns the config path.
   */
  function materialize(name: string, yamlText: string, secretDir: string, secrets: string[]): string {
    const dir = path.join(root, name);
    fs.mkdirSync(path.join(dir, 'secrets'), { recursive: true });
    for (const s of secrets)
      fs.writeFileSync(path.join(dir, 'secrets', s), s === 'operator.token' ? 't'.repeat(64) : `PEM ${s}`);
    const file = path.join(dir, 'coordinator.yaml');
    fs.writeFileSync(
      file,
      yamlText
        .replaceAll(`${secretDir}/`, `${path.join(dir, 'secrets')}/`)
        .replace(/^dataDir: \S+/m, `dataDir: ${path.join(dir, 'data')}`),
    );
    return file;
  }

  describe('compose', () => {
    const compose = parseYaml(read('compose/docker-compose.yml')) as {
      services: Record<
        string,
        { entrypoint?: string[]; secrets?: string[]; ports?: string[]; healthcheck?: { test: string[] } }
      >;
    };
    const coordinator = compose.services.coordinator!;
    const configText = read('compose/coordinator.yaml');

    it('loads coordinator.yaml with the secrets the service mounts and the database URL its entrypoint builds', () => {
      const mounted = coordinator.secrets ?? [];
      const named = [...configText.matchAll(/\/run\/secrets\/([\w.]+)/g)].map((m) => m[1]!);
      expect(named.length).toBeGreaterThan(0);
      for (const secret of named) expect(mounted).toContain(secret);
      const script = coordinator.entrypoint?.[2] ?? '';
      const template = /FEDISTILL_DATABASE__URL="([^"]+)"/.exec(script)?.[1];
      expect(template).toContain('$$(cat /run/secrets/postgres_password)');
      // Compose turns $$ into $; the shell then substitutes the file's contents.
      const url = template!.replace('$$(cat /run/secrets/postgres_password)', '0123abcd');

      const sut = loadCoordinatorConfig(materialize('compose', configText, '/run/secrets', mounted), {
        FEDISTILL_DATABASE__URL: url,
      });

      expect(sut.database.url).toBe('postgres://fedistill:0123abcd@postgres:5432/fedistill');
      expect(sut.admin.operatorToken).toBe('t'.repeat(64));
      expect(coordinator.ports).toContain(`${sut.grpc.port}:${sut.grpc.port}`);
      expect(sut.admin.host).toBe('127.0.0.1'); // the healthcheck runs inside the container
      expect(coordinator.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${sut.admin.port}/healthz`);
    });
  });

  describe('kubernetes', () => {
    type Container = {
      ports: { name: string; containerPort: number }[];
      readinessProbe: { httpGet: { port: string; scheme: string } };
      volumeMounts: { name: string; mountPath: string }[];
    };
    const configMap = parseYaml(read('kubernetes/base/coordinator-config.yaml')) as {
      data: Record<string, string>;
    };
    const deployment = parseYaml(read('kubernetes/base/coordinator-deployment.yaml')) as {
      spec: { template: { spec: { containers: Container[]; volumes: { name: string; secret?: object }[] } } };
    };
    const container = deployment.spec.template.spec.containers[0]!;
    const secretDir = container.volumeMounts.find((m) => m.name === 'secrets')!.mountPath;
    const configText = configMap.data['coordinator.yaml']!;
    const named = [
      ...new Set([...configText.matchAll(/\/run\/secrets\/fedistill\/([\w.]+)/g)].map((m) => m[1]!)),
    ];
    const port = (name: string) => container.ports.find((p) => p.name === name)!.containerPort;

    it('loads the ConfigMap coordinator.yaml with the keys of the Secret docs/deploy.md creates', () => {
      expect(secretDir).toBe('/run/secrets/fedistill');
      expect(named.sort()).toEqual(['ca.crt', 'coordinator.crt', 'coordinator.key', 'operator.token']);
      const guide = fs.readFileSync(path.join(deploy, '../docs/deploy.md'), 'utf8');
      for (const key of named) expect(guide).toContain(`--from-file=${key}=`);

      const sut = loadCoordinatorConfig(materialize('kubernetes', configText, secretDir, named), {});

      expect(sut.admin.tls).toBeDefined(); // the probes and port-forward reach it off loopback
      expect(container.readinessProbe.httpGet).toEqual(
        expect.objectContaining({ port: 'admin', scheme: 'HTTPS' }),
      );
      expect(port('admin')).toBe(sut.admin.port);
      expect(port('grpc')).toBe(sut.grpc.port);
      expect(sut.database.url).toBeUndefined(); // SQLite in dataDir unless overlays/postgres says otherwise
    });

    it("takes overlays/postgres's database URL from the variable its patch sets", () => {
      const patch = parseYaml(read('kubernetes/overlays/postgres/coordinator-database.yaml')) as {
        path: string;
        value: { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }[];
      }[];
      const env = patch[0]!.value[0]!;
      expect(patch[0]!.path).toBe('/spec/template/spec/containers/0/env');
      expect(env.valueFrom.secretKeyRef).toEqual({ name: 'fedistill-database', key: 'url' });
      const url = 'postgres://fedistill:0123abcd@fedistill-postgres:5432/fedistill';

      const sut = loadCoordinatorConfig(materialize('kubernetes-pg', configText, secretDir, named), {
        [env.name]: url,
      });

      expect(sut.database.url).toBe(url);
    });
  });
});
