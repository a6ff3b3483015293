import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EnrolmentRecord } from '../enroll-node';
import { NODE_FILES, type NodeConfig } from '../node-config';
import { type DoctorCheck, daysUntil, EXPIRY_WARNING_DAYS, failed, passed, warned } from './doctor-check';

/** The trust anchor (node.yaml `ca`): a CA certificate, valid now. */
export function checkCa(config: NodeConfig, now: Date): DoctorCheck {
  let pem: string;
  try {
    pem = fs.readFileSync(config.caFile, 'utf8');
  } catch {
    return failed(
      'ca',
      `${config.caFile} does not exist or cannot be read: copy the coordinator's CA certificate there`,
    );
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return failed('ca', `${config.caFile} is not a PEM certificate`);
  }
  if (!cert.ca) return failed('ca', `${config.caFile} (${cert.subject}) is not a CA certificate`);
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (from > now) return failed('ca', `${config.caFile} is not valid before ${from.toISOString()}`);
  if (to < now)
    return failed('ca', `${config.caFile} expired on ${to.toISOString()}: get the new CA certificate`);
  const left = daysUntil(to, now);
  const what = `${config.caFile} (${cert.subject.replace(/\n/g, ', ')}), valid until ${to.toISOString()}`;
  return left < EXPIRY_WARNING_DAYS
    ? warned('ca', `${what}: expires in ${Math.floor(left)} days`)
    : passed('ca', what);
}

/** enrolment.json: present, for this site, binding the coordinator's signing key. */
export function checkEnrolment(config: NodeConfig): DoctorCheck {
  const file = path.join(config.dir, NODE_FILES.enrolment);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return failed(
      'enrolment',
      `${config.dir} is not enrolled (no ${NODE_FILES.enrolment}): run \`fedistill node enroll --dir ${config.dir} --token TOKEN\``,
    );
  }
  let record: Partial<EnrolmentRecord>;
  try {
    record = JSON.parse(text) as Partial<EnrolmentRecord>;
  } catch (err) {
    return failed('enrolment', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (record.site !== config.site)
    return failed(
      'enrolment',
      `${file} enrols site '${String(record.site)}', but node.yaml names '${config.site}'`,
    );
  if (
    typeof record.coordinatorSigningPublicKey !== 'string' ||
    !/^[0-9a-f]{64}$/.test(record.coordinatorSigningPublicKey)
  )
    return failed('enrolment', `${file} holds no coordinator signing key (64 hex digits): enrol again`);
  if (record.coordinator !== config.coordinator)
    return warned(
      'enrolment',
      `enrolled at ${String(record.coordinator)}, but node.yaml now names ${config.coordinator}: fine if the coordinator moved`,
    );
  return passed(
    'enrolment',
    `site '${config.site}' enrolled at ${config.coordinator} on ${String(record.enrolledAt)}`,
  );
}
