import * as fs from 'node:fs';
import * as path from 'node:path';
import { featureSize, loadLabelledFile } from '@fedistill/data';
import type { NodeConfig, SiteDataConfig } from '../node-config';
import { federationSchema, loadSiteData } from '../site-data';
import { type DoctorCheck, failed, oneLine, passed, warned } from './doctor-check';

function dataFiles(d: SiteDataConfig): string[] {
  return [d.train, d.labels, d.test, d.testLabels].filter((f): f is string => f !== undefined);
}

/** A file the node must read: present, a regular file, readable by this user. */
function unreadable(file: string): string | undefined {
  try {
    if (!fs.statSync(file).isFile()) return `data: ${file} is not a regular file`;
    fs.accessSync(file, fs.constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `data: ${file} does not exist`
      : `data: ${file} cannot be read (${code ?? oneLine(err)})`;
  }
}

/** The federations this node holds (DIR/federations/<id>/federation.json, written when it syncs). */
export function localFederations(dir: string): { id: string; spec: unknown }[] {
  const root = path.join(dir, 'federations');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((id) => fs.existsSync(path.join(root, id, 'federation.json')))
    .sort()
    .map((id) => {
      try {
        const local = JSON.parse(fs.readFileSync(path.join(root, id, 'federation.json'), 'utf8')) as {
          spec?: unknown;
        };
        return { id, spec: local.spec };
      } catch {
        return { id, spec: undefined };
      }
    });
}

async function againstFederation(config: NodeConfig, id: string, spec: unknown): Promise<DoctorCheck> {
  try {
    const schema = federationSchema(id, spec);
    const data = await loadSiteData(config, schema);
    return passed(
      `data:${id}`,
      `${data.train.count} training and ${data.test?.count ?? 0} test records fit federation '${id}' (input [${schema.inputShape.join(', ')}], ${schema.labels.length} classes)`,
    );
  } catch (err) {
    return failed(`data:${id}`, oneLine(err));
  }
}

/** Before any federation is known: the records parse as node.yaml describes them. */
async function withoutFederation(d: SiteDataConfig): Promise<DoctorCheck> {
  const later = "checked against a federation's schema once the node holds one";
  if (d.labelValues === 'name')
    return warned('data', `the files are readable; their label names are ${later}`);
  try {
    const read = (file: string, labels: string | undefined) =>
      loadLabelledFile(file, { format: d.format, labels, labelColumn: d.labelColumn, header: d.header });
    const train = await read(d.train, d.labels);
    const test = d.test ? await read(d.test, d.testLabels) : undefined;
    const counts = test ? `${train.count} training and ${test.count} test records` : `${train.count} records`;
    return passed('data', `${counts} with ${featureSize(train)} features each; ${later}`);
  } catch (err) {
    return failed('data', oneLine(err));
  }
}

/**
 * The site's records as the node reads them: with each federation the node holds, through the
 * node's own loader and that federation's schema; before it holds one, as plain labelled files.
 */
export async function checkData(config: NodeConfig): Promise<DoctorCheck[]> {
  const d = config.data;
  if (!d)
    return [warned('data', 'node.yaml has no data section: the node joins federations but declines rounds')];
  const problems = dataFiles(d)
    .map(unreadable)
    .filter((p): p is string => p !== undefined);
  if (problems.length > 0) return [failed('data', problems.join('; '))];
  const federations = localFederations(config.dir);
  if (federations.length === 0) return [await withoutFederation(d)];
  return Promise.all(federations.map((f) => againstFederation(config, f.id, f.spec)));
}
