import { assertNoFindings } from './support/property';
import { configSurfaces } from './surfaces/configs';

describe('fuzzing: configuration documents', () => {
  it.each(configSurfaces.map((s) => [s.name, s] as const))(
    '%s: every case is accepted or refused naming the setting',
    async (_n, s) => {
      await assertNoFindings(s, 300);
    },
  );
});
