/**
 * The simulator's settings before a simulation became a federation definition plus sites and
 * data (issue 18), each with where it lives now. A configuration that still uses one is refused
 * naming the new setting: no silent aliasing, so a file means one thing.
 */
const MOVED: Record<string, string> = {
  rounds: 'federation.rounds.maxRounds',
  queries:
    'federation.rounds.queriesPerRound and federation.rounds.querySelection (perRound → queriesPerRound, strategy → querySelection)',
  summary: 'federation.privacy.summary',
  aggregation:
    'federation.distillation.aggregation (kind → aggregation, temperature → eraTemperature, threshold → gnmaxThreshold)',
  privacy:
    'federation.privacy (kind → mechanism, clip → clipNorm; noiseMultiplier or targetEpsilon, delta, granularity, assumedColluders keep their names; epsilonCap is required with noiseMultiplier)',
  secureAggregation:
    'federation.secureAggregation (toleratedDropouts → dropoutTolerance, bits → modulusBits, neighbours: all → neighbours: 0), and its dropouts → the top-level dropouts',
  student:
    'federation.student (hidden) and federation.distillation (epochs, batchSize, temperature, schedule; pseudoLabelThreshold → selfTraining.threshold)',
  revisit: 'federation.revisit',
};

const RENAMED_TEACHER: Record<string, string> = { perSite: 'teachers.count (node.yaml teachers.count)' };

/** One problem per old setting in `raw` ("privacy: is now federation.privacy (kind → mechanism, ...)"). */
export function legacyNameProblems(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [];
  const r = raw as Record<string, unknown>;
  const problems = Object.keys(MOVED)
    .filter((k) => k in r)
    .map(
      (k) =>
        `${k}: the simulator's old name; a simulation is a federation definition plus sites and data: use ${MOVED[k]}`,
    );
  const teachers = r.teachers;
  if (typeof teachers === 'object' && teachers !== null)
    for (const k of Object.keys(RENAMED_TEACHER))
      if (k in teachers) problems.push(`teachers.${k}: the simulator's old name; use ${RENAMED_TEACHER[k]}`);
  return problems;
}
