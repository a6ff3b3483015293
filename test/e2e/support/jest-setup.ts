// End-to-end tests start real processes; CLI round trips on 2 cores take seconds, not milliseconds.
// A ceiling, not a wait: every wait inside is event-driven. Set-up hooks that start a coordinator
// and several node processes took over 120 s on a machine at load 25 (2026-12-02), so the ceiling
// is generous enough that a busy machine slows the suite down rather than failing it.
jest.setTimeout(300_000);
