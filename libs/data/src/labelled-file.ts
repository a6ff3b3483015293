import type { Dataset } from './dataset';
import { loadCsv } from './csv';
import { DataFormatError } from './errors';
import { loadIdxDataset, readIdx } from './idx';
import { loadNpyDataset, readNpy } from './npy';

/** The file formats a site's (or a simulation's) labelled records may come in. */
export type LabelledFileFormat = 'csv' | 'npy' | 'idx';

/**
 * The format named by `file`'s extension (`.csv`, `.npy`, a name containing `idx`; a trailing
 * `.gz` is ignored), or undefined when the name does not tell.
 */
export function dataFormatFromName(file: string): LabelledFileFormat | undefined {
  const name = file.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.npy')) return 'npy';
  if (name.includes('idx')) return 'idx';
  return undefined;
}

/** How to read one labelled file (node.yaml's `data` section uses the same names). */
export interface LabelledFileOptions {
  readonly format: LabelledFileFormat;
  /** NPY/IDX: the labels file (one integer class index per record). Required for those formats. */
  readonly labels?: string;
  /** CSV: the label column, a name (needs a header) or an index (negative counts from the end). */
  readonly labelColumn?: string | number;
  /** CSV: the first line holds column names. Default true. */
  readonly header?: boolean;
  /**
   * Declared classes: a count (labels are integers in [0, count)) or, for a CSV whose label
   * cells are names, the names in class order. Absent: integer labels, count = largest + 1.
   */
  readonly classes?: number | readonly string[];
}

/** Checks that inferred integer labels are non-negative and returns largest + 1. */
function inferredClasses(source: string, values: ArrayLike<number | bigint>): number {
  let max = -1;
  for (let i = 0; i < values.length; i += 1) {
    const v = Number(values[i]);
    if (!Number.isInteger(v) || v < 0)
      throw new DataFormatError(source, `label ${v} of record ${i} is not an integer class index >= 0`);
    // Labels are stored as int32 (dataset.ts classIndices): a larger index would wrap.
    if (v > 0x7fffffff)
      throw new DataFormatError(source, `label ${v} of record ${i} is too large for a class index`);
    if (v > max) max = v;
  }
  if (max < 0) throw new DataFormatError(source, 'holds no labels');
  return max + 1;
}

async function labelCount(format: 'npy' | 'idx', labels: string): Promise<number> {
  const a = format === 'npy' ? await readNpy(labels) : await readIdx(labels);
  return inferredClasses(labels, a.data);
}

/**
 * Reads labelled records from `file`: a CSV with a label column, or NPY/IDX features with a
 * separate labels file. IDX values are scaled by 1/255 (bytes to [0, 1]), as the node reads them.
 * @throws DataFormatError naming the file and the problem (bad magic, ragged rows, a non-numeric
 * cell with its line and column, a missing label column, labels outside the classes).
 */
export async function loadLabelledFile(file: string, o: LabelledFileOptions): Promise<Dataset> {
  if (o.format === 'csv') {
    try {
      return (
        await loadCsv(file, { label: o.labelColumn ?? -1, header: o.header ?? true, classes: o.classes })
      ).dataset;
    } catch (err) {
      // parseCsv reports a numeric label column out of range as a misuse (RangeError).
      if (err instanceof RangeError) throw new DataFormatError(file, err.message);
      throw err;
    }
  }
  if (o.labels === undefined) throw new DataFormatError(file, `format ${o.format} needs a labels file`);
  if (Array.isArray(o.classes))
    throw new DataFormatError(file, `format ${o.format} holds class indices, not label names`);
  const classes = (o.classes as number | undefined) ?? (await labelCount(o.format, o.labels));
  if (o.format === 'npy') return loadNpyDataset(file, o.labels, classes);
  return loadIdxDataset(file, o.labels, { numClasses: classes });
}
