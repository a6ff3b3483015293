/** A data file is malformed: truncated, wrong magic number, ragged rows, bad cells or labels. */
export class DataFormatError extends Error {
  constructor(
    /** The file (or 'input') the problem was found in. */
    readonly source: string,
    detail: string,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'DataFormatError';
  }
}
