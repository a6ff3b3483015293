// Public API of @fedistill/data: IDX, CSV and NPY loaders, standardization, splits, batching.
export type { Dataset } from './dataset';
export { featureSize, selectSamples } from './dataset';
export { DataFormatError } from './errors';
export { loadIdxDataset, parseIdx, readIdx } from './idx';
export type { IdxArray, IdxDatasetOptions } from './idx';
export { csvOptionsFromSchema, loadCsv, loadCsvSchema, parseCsv } from './csv';
export type { CsvOptions, CsvSchema, CsvTable } from './csv';
export { encodeNpy, encodeNpyFloat32, loadNpyDataset, parseNpy, readNpy } from './npy';
export type { NpyArray } from './npy';
export { trainValidationSplit } from './split';
export { Standardizer } from './standardize';
export { miniBatches } from './batches';
export type { BatchOptions, LabelledBatch } from './batches';
export { permutation, seededUniform } from './random';
export { dataFormatFromName, loadLabelledFile } from './labelled-file';
export type { LabelledFileFormat, LabelledFileOptions } from './labelled-file';
