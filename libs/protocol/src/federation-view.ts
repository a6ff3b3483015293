import type { FederationSpec } from './federation-spec';

/** A federation as the coordinator holds it: its definition, its members and when it was made. */
export interface FederationView extends FederationSpec {
  readonly members: readonly string[];
  readonly createdAt: string;
  /** True when the federation runs without differential privacy (experiments only). */
  readonly privacyOff: boolean;
}
