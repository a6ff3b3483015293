import { assertNoFindings } from './support/property';
import { coordinatorSurfaces } from './surfaces/grpc-coordinator';
import { nodeSurfaces } from './surfaces/grpc-node';

describe('fuzzing: gRPC messages', () => {
  it.each(coordinatorSurfaces().map((s) => [s.name, s] as const))(
    'coordinator %s: a damaged request is answered or refused with a status naming the problem',
    async (_n, s) => {
      await assertNoFindings(s, 100);
    },
  );

  it.each(nodeSurfaces.map((s) => [s.name, s] as const))(
    '%s: a damaged answer is read or refused naming the field',
    async (_n, s) => {
      await assertNoFindings(s, 200);
    },
  );
});
