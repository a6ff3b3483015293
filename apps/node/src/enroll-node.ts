import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSiteKeyFile, signEnrolmentProof } from '@fedistill/identity';
import { EnrolmentService, type WireChannel } from '@fedistill/wire';
import { openNodeEgress } from './node-audit';
import { loadNodeConfig, NODE_FILES, NodeConfigError } from './node-config';

/** What DIR/enrolment.json records after a successful enrolment. */
export interface EnrolmentRecord {
  readonly site: string;
  readonly coordinator: string;
  readonly coordinatorSigningPublicKey: string;
  readonly heartbeatIntervalMs: number;
  readonly enrolledAt: string;
}

export function readEnrolment(dir: string): EnrolmentRecord {
  const file = path.join(dir, NODE_FILES.enrolment);
  if (!fs.existsSync(file))
    throw new NodeConfigError(
      `${dir} is not enrolled yet: run \`fedistill node enroll --dir ${dir} --token TOKEN\``,
    );
  return JSON.parse(fs.readFileSync(file, 'utf8')) as EnrolmentRecord;
}

/** Redeems a one-time token at the coordinator and records the enrolment in the node directory. */
export async function enrollNode(
  dir: string,
  token: string,
  o: { channel?: WireChannel } = {},
): Promise<EnrolmentRecord> {
  const config = loadNodeConfig(dir);
  if (fs.existsSync(path.join(config.dir, NODE_FILES.enrolment)))
    throw new NodeConfigError(`${config.dir} is already enrolled`);
  const keys = readSiteKeyFile(path.join(config.dir, NODE_FILES.keys));
  const { audit, egress } = openNodeEgress(config, keys, undefined, o.channel);
  try {
    const res = await egress.unary(
      EnrolmentService.enroll,
      {
        token: token.trim(),
        siteName: config.site,
        signingPublicKey: Buffer.from(keys.signingPublicKey),
        boxPublicKey: Buffer.from(keys.boxPublicKey),
        proof: Buffer.from(
          signEnrolmentProof(token.trim(), config.site, keys.signingSecretKey, keys.boxPublicKey),
        ),
      },
      { signed: false },
    );
    const record: EnrolmentRecord = {
      site: res.siteName,
      coordinator: config.coordinator,
      coordinatorSigningPublicKey: Buffer.from(res.coordinatorSigningPublicKey).toString('hex'),
      heartbeatIntervalMs: res.heartbeatIntervalMs,
      enrolledAt: new Date(res.enrolledAtUnixMs).toISOString(),
    };
    fs.writeFileSync(path.join(config.dir, NODE_FILES.enrolment), `${JSON.stringify(record, null, 2)}\n`, {
      mode: 0o600,
    });
    return record;
  } finally {
    egress.close();
    audit.close();
  }
}
