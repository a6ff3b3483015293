/** The secure-aggregation round id bound into every signature and sealed share. */
export const secaggRoundId = (federationId: string, round: number): string => `${federationId}#${round}`;
