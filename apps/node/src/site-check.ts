import * as fs from 'node:fs';
import { loadLabelledFile, trainValidationSplit } from '@fedistill/data';
import { checkData, localFederations } from './doctor/data-check';
import { type DoctorCheck, failed, oneLine, passed, warned } from './doctor/doctor-check';
import type { NodeConfig } from './node-config';
import { federationSchema, loadSiteData, siteOnnxTeachers } from './site-data';

/** A federation as the node keeps it on disk (DIR/federations/<id>/federation.json), unparsed. */

const later = "checked against a federation's schema once the node holds one";

/** Site-provided ONNX teachers: readable files, then each federation's input shape and classes. */
async function checkOnnxTeachers(config: NodeConfig, files: NonNullable<NodeConfig['teachers']['onnx']>) {
  const missing = files
    .map((f) => (fs.existsSync(f.path) ? undefined : `teachers.onnx: ${f.path} does not exist`))
    .filter((m): m is string => m !== undefined);
  if (missing.length > 0) return [failed('teachers', missing.join('; '))];
  const federations = localFederations(config.dir);
  if (federations.length === 0)
    return [
      passed('teachers', `${files.length} ONNX teachers present; their inputs and outputs are ${later}`),
    ];
  return Promise.all(
    federations.map(async (f): Promise<DoctorCheck> => {
      try {
        const schema = federationSchema(f.id, f.spec);
        const teachers = await siteOnnxTeachers(files, schema, config.executionProvider);
        await teachers.dispose();
        return passed(`teachers:${f.id}`, `${files.length} ONNX teachers fit federation '${f.id}'`);
      } catch (err) {
        return failed(`teachers:${f.id}`, oneLine(err));
      }
    }),
  );
}

/** Teachers the node trains: one disjoint partition of the training records each, so no more than them. */
function countCheck(name: string, count: number, records: number): DoctorCheck {
  return count > records
    ? failed(name, `teachers.count ${count} is more than the site's ${records} training records`)
    : passed(name, `${count} teachers on ${records} training records (${Math.floor(records / count)} each)`);
}

async function checkTrainedTeachers(config: NodeConfig): Promise<DoctorCheck[]> {
  const d = config.data;
  const count = config.teachers.count;
  // Without records (or with records that do not load: the data check says why) there is no count to check.
  if (!d) return [];
  const federations = localFederations(config.dir);
  if (federations.length > 0) {
    const checks: DoctorCheck[] = [];
    for (const f of federations) {
      const data = await loadSiteData(config, federationSchema(f.id, f.spec)).catch(() => undefined);
      if (data) checks.push(countCheck(`teachers:${f.id}`, count, data.train.count));
    }
    return checks;
  }
  if (d.labelValues === 'name') return [warned('teachers', `teachers.count ${count} is ${later}`)];
  try {
    const all = await loadLabelledFile(d.train, {
      format: d.format,
      labels: d.labels,
      labelColumn: d.labelColumn,
      header: d.header,
    });
    // The node holds out testFraction of the records for its own test split unless `test` is given.
    const train =
      d.test || d.testFraction === 0 ? all : trainValidationSplit(all, d.testFraction, d.seed).train;
    return [countCheck('teachers', count, train.count)];
  } catch {
    return [];
  }
}

/**
 * node.yaml's `data:` and `teachers:` against the files, before the node joins anything: the
 * records load as described (with each federation's schema the node holds, else as plain
 * labelled files), ONNX teachers exist and fit each such federation, and there are enough
 * training records for teachers.count. What `fedistill node check` prints, and what
 * `fedistill node start` refuses to start on.
 */
export async function checkSiteFiles(config: NodeConfig): Promise<DoctorCheck[]> {
  const data = await checkData(config);
  const onnx = config.teachers.onnx;
  const teachers = onnx ? await checkOnnxTeachers(config, onnx) : await checkTrainedTeachers(config);
  return [...data, ...teachers];
}
