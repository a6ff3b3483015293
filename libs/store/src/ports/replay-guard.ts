/** Remembers request nonces so that a signed request is accepted at most once. */
export interface ReplayGuard {
  /**
   * Records (site, nonce); false when it was seen before. Forgets nonces older than
   * `now - windowMs`: requests that old are refused by their timestamp anyway.
   */
  admit(site: string, nonce: string, timestamp: number, now: number, windowMs: number): Promise<boolean>;
}
