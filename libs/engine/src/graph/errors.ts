/** A graph could not be built: bad shapes, element types or arguments for an op. */
export class GraphBuildError extends Error {
  constructor(
    /** The ONNX op type being added when the check failed. */
    readonly op: string,
    detail: string,
  ) {
    super(`${op}: ${detail}`);
    this.name = 'GraphBuildError';
  }
}

/** An op type the engine does not know, or one with no gradient rule when differentiating. */
export class UnsupportedOpError extends Error {
  constructor(
    readonly op: string,
    detail: string,
  ) {
    super(`${op}: ${detail}`);
    this.name = 'UnsupportedOpError';
  }
}
