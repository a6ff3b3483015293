import { assertNoFindings } from './support/property';
import { dataSurfaces } from './surfaces/data-files';

describe('fuzzing: data files', () => {
  it.each(dataSurfaces.map((s) => [s.name, s] as const))(
    '%s: every case is read or refused by name',
    async (_n, s) => {
      await assertNoFindings(s, 300);
    },
  );
});
