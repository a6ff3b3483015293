import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvOptionsFromSchema, loadCsv, loadCsvSchema, parseCsv } from './csv';
import { Standardizer } from './standardize';
import { trainValidationSplit } from './split';

const DATA = join(__dirname, '..', '..', '..', 'data');

describe(parseCsv.name, () => {
  it('parses a header, a named label column and named classes', () => {
    const sut = parseCsv('t.csv', 'a,kind,b\n1,cat,2\n3.5,dog,-4\n', {
      label: 'kind',
      classes: ['cat', 'dog'],
    });
    expect(sut.featureNames).toEqual(['a', 'b']);
    expect(Array.from(sut.dataset.features)).toEqual([1, 2, 3.5, -4]);
    expect(Array.from(sut.dataset.labels)).toEqual([0, 1]);
    expect(sut.dataset.numClasses).toBe(2);
  });

  it('uses schema columns for a header-less file', () => {
    const sut = parseCsv('t.csv', '1,2,0\n3,4,1\n', {
      columns: ['x', 'y', 'label'],
      label: 'label',
      classes: 2,
    });
    expect(sut.featureNames).toEqual(['x', 'y']);
    expect(Array.from(sut.dataset.labels)).toEqual([0, 1]);
  });

  it('rejects ragged rows, non-numeric cells and undeclared labels naming the line', () => {
    expect(() => parseCsv('t.csv', 'a,b,y\n1,2,0\n1,2\n', { label: 'y' })).toThrow(
      /^t.csv: line 3: 2 cells, expected 3 \(ragged row\)/,
    );
    expect(() => parseCsv('t.csv', 'a,b,y\n1,x,0\n', { label: 'y' })).toThrow(
      /^t.csv: line 2, column b: 'x' is not a number/,
    );
    expect(() => parseCsv('t.csv', 'a,y\n1,5\n', { label: 'y', classes: 3 })).toThrow(
      /line 2: label 5 is outside the declared classes \[0, 3\)/,
    );
    expect(() => parseCsv('t.csv', 'a,y\n1,bird\n', { label: 'y', classes: ['cat'] })).toThrow(
      /label 'bird' is not one of the declared classes/,
    );
    expect(() => parseCsv('t.csv', 'a,y\n1,0\n', { label: 'z' })).toThrow(/label column 'z' not found/);
  });
});

describe(loadCsvSchema.name, () => {
  it('reads column names, label and classes for a header-less file, and rejects a bad schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedistill-csv-'));
    try {
      writeFileSync(
        join(dir, 's.json'),
        JSON.stringify({ columns: ['a', 'b', 'kind'], label: 'kind', classes: ['no', 'yes'] }),
      );
      writeFileSync(join(dir, 'd.csv'), '1,2,yes\n3,4,no\n');
      writeFileSync(join(dir, 'bad.json'), JSON.stringify({ columns: ['a'], label: 'kind', classes: 2 }));
      const schema = await loadCsvSchema(join(dir, 's.json'));
      const sut = await loadCsv(join(dir, 'd.csv'), csvOptionsFromSchema(schema));
      expect(Array.from(sut.dataset.labels)).toEqual([1, 0]);
      expect(sut.featureNames).toEqual(['a', 'b']);
      await expect(loadCsvSchema(join(dir, 'bad.json'))).rejects.toThrow(
        /needs 'columns' \(names\) and a 'label'/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(loadCsv.name, () => {
  it('loads the bundled breast-cancer data (summary line skipped, label last)', async () => {
    const sut = await loadCsv(join(DATA, 'breast_cancer.csv'), {
      skipLines: 1,
      header: false,
      label: -1,
      classes: 2,
    });
    expect(sut.dataset.count).toBe(569);
    expect(sut.dataset.featureShape).toEqual([30]);
    expect(sut.dataset.features[0]).toBeCloseTo(17.99, 5);
    // 212 malignant (0) and 357 benign (1), as the dataset's description states.
    expect(sut.dataset.labels.filter((v) => v === 0).length).toBe(212);
  });

  it('loads gzipped CSV (digits) and standardizes with training-split statistics only', async () => {
    const { dataset } = await loadCsv(join(DATA, 'digits.csv.gz'), { header: false, label: -1, classes: 10 });
    expect(dataset.count).toBe(1797);
    const { train, validation } = trainValidationSplit(dataset, 0.2, 1);
    expect(train.count + validation.count).toBe(1797);
    expect(validation.count).toBe(359);
    const sut = Standardizer.fit(train);
    const z = sut.apply(train);
    // Feature 20 of the standardized training split has mean 0 and variance 1.
    let m = 0;
    for (let i = 0; i < z.count; i += 1) m += z.features[i * 64 + 20]!;
    expect(m / z.count).toBeCloseTo(0, 5);
    const vz = sut.apply(validation);
    expect(vz.features[20]).toBeCloseTo((validation.features[20]! - sut.mean[20]!) / sut.std[20]!, 5);
  });
});

describe(`${parseCsv.name} (inputs found by fuzzing, test/fuzz)`, () => {
  it('refuses a feature too large for float32 and a label too large for int32', () => {
    // Fuzz case 4164 of 'csv': '0.1e309' (1e308) passed the finiteness check and was stored
    // as Infinity; a label of 2^32 was stored as class 0.
    expect(() => parseCsv('t.csv', 'a,label\n0.1e309,0\n', { label: 'label' })).toThrow(
      "t.csv: line 2, column a: '0.1e309' is too large for a float32 feature",
    );
    expect(() => parseCsv('t.csv', 'a,label\n1,4294967296\n', { label: 'label' })).toThrow(
      't.csv: line 2: label 4294967296 is too large for a class index',
    );
  });

  it('infers the class count of a file with many rows', () => {
    // Math.max(...labels) overflowed the call stack past about 10^5 rows.
    const text = `a,label\n${'1,0\n'.repeat(199_999)}1,4\n`;
    expect(parseCsv('t.csv', text, { label: 'label' }).dataset.numClasses).toBe(5);
  });
});
