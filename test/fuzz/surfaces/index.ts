import type { AnySurface } from '../support/surface';

/**
 * Every fuzzed surface by group. Groups load on demand, so a worker that fuzzes CSV files does
 * not load ONNX Runtime.
 */
const GROUPS: Readonly<Record<string, () => readonly AnySurface[]>> = {
  /* eslint-disable @typescript-eslint/no-require-imports -- lazy, per-group loading */
  data: () => (require('./data-files') as typeof import('./data-files')).dataSurfaces,
  configs: () => (require('./configs') as typeof import('./configs')).configSurfaces,
  audit: () => [(require('./audit-log') as typeof import('./audit-log')).auditLogSurface],
  grpc: () => (require('./grpc-coordinator') as typeof import('./grpc-coordinator')).coordinatorSurfaces(),
  node: () => (require('./grpc-node') as typeof import('./grpc-node')).nodeSurfaces,
  onnx: () => [(require('./onnx-teachers') as typeof import('./onnx-teachers')).onnxTeacherSurface],
  references: () => (require('./reference-sets') as typeof import('./reference-sets')).referenceSurfaces,
  /* eslint-enable @typescript-eslint/no-require-imports */
};

/** Surfaces whose native code could abort the process: the bench runs them in a child process. */
export const ISOLATED_SURFACES: readonly string[] = ['onnx teacher'];

const NAMES: Readonly<Record<string, readonly string[]>> = {
  data: ['npy', 'idx', 'npy dataset', 'idx dataset', 'csv', 'gzip'],
  configs: ['federation definition', 'simulation config', 'coordinator config', 'node.yaml'],
  audit: ['audit-log import'],
  references: ['reference set', 'evaluation set'],
  onnx: ['onnx teacher'],
  node: [
    'node RoundAnnouncement',
    'node GetRoundKeysResponse',
    'node FetchSharesResponse',
    'node GetSurvivorSetResponse',
    'node GetUnmaskRequestResponse',
  ],
  grpc: [
    'grpc Enrolment/enroll',
    'grpc NodeSession/heartbeat',
    'grpc NodeSession/subscribe',
    'grpc NodeSession/getFederation',
    ...[
      'advertiseKeys',
      'getRoundKeys',
      'sendShares',
      'fetchShares',
      'submitMaskedSummary',
      'getSurvivorSet',
      'submitSurvivorSignature',
      'getUnmaskRequest',
      'submitUnmaskShares',
      'declineRound',
      'getReleasedTargets',
    ].map((m) => `grpc Rounds/${m}`),
    'grpc Artifacts/getManifest',
    'grpc Artifacts/getChunk',
    'grpc Audit/anchorLogHead',
  ],
};

export function surfaceNames(): string[] {
  return Object.values(NAMES).flat();
}

export function loadSurface(name: string): AnySurface {
  const group = Object.keys(NAMES).find((g) => NAMES[g]!.includes(name));
  const surface = group && GROUPS[group]!().find((s) => s.name === name);
  if (!surface) throw new RangeError(`unknown fuzz surface '${name}'`);
  return surface;
}
