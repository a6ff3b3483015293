/**
 * The simulated deployment's round clock (the coordinator's `roundClock`): the wall clock plus an
 * offset that only grows. A deployment waits for a silent site until the stage's deadline; the
 * simulator knows which sites its dropouts silence, so once a stage waits for no one else it moves
 * this clock just past the deadline and the coordinator closes the stage on its next check, as it
 * would after the real wait. Only the time differs: the same sites drop at the same stage.
 */
export class SimulationClock {
  private offset = 0;

  readonly now = (): number => Date.now() + this.offset;

  /** Moves the clock just past `deadline` (Unix ms); never backwards. */
  passDeadline(deadline: number): void {
    this.offset = Math.max(this.offset, deadline + 1 - Date.now());
  }
}
