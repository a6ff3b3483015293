// The admin API's JSON, as the dashboard reads it (apps/coordinator/src/**: SiteView, RoundView,
// StudentView, PrivacyBySite, TranscriptStatus). Only the fields the pages show.

export type Role = 'operator' | 'auditor';

/** GET /api/v1/whoami. */
export interface WhoAmI {
  readonly name: string;
  readonly role: Role;
  /** When the token stops working, or null for the configured operator token. */
  readonly expiresAt: string | null;
}

export interface Site {
  readonly name: string;
  readonly online: boolean;
  readonly enrolledAt: string;
  readonly lastSeenAt: string | null;
  readonly revoked: boolean;
  readonly revokedAt: string | null;
  readonly revokedReason: string | null;
  readonly signingPublicKey: string;
  /** From the node's last heartbeat; null until it sends one after a coordinator start. */
  readonly nodeVersion: string | null;
}

export interface Federation {
  readonly id: string;
  readonly description?: string;
  readonly labels: readonly string[];
  readonly members: readonly string[];
  readonly createdAt: string;
  readonly privacyOff: boolean;
  readonly privacy: { readonly delta: number; readonly epsilonCap?: number; readonly mechanism: string };
  readonly rounds: {
    readonly minSites: number;
    readonly queriesPerRound: number;
    readonly maxRounds?: number;
  };
}

export interface Decline {
  readonly site: string;
  readonly reason: string;
  readonly detail: string;
}

export interface Round {
  readonly federationId: string;
  readonly round: number;
  readonly status: 'open' | 'completed' | 'abandoned';
  readonly stage: string;
  readonly participants: readonly string[];
  readonly queries: number;
  readonly keysFrom: readonly string[];
  readonly sharesFrom: readonly string[];
  readonly inputsFrom: readonly string[];
  readonly awaiting: readonly string[];
  readonly declines: readonly Decline[];
  readonly reason: string | null;
  readonly kind: 'distill' | 'evaluation';
  readonly student?: { readonly version?: number; readonly state?: string } | null;
  readonly evaluation?: {
    readonly studentVersion: number;
    readonly accuracy: number | null;
    readonly records: number;
  } | null;
}

export interface ModelCard {
  readonly warning?: string;
  readonly version: number;
  readonly createdAt: string;
  readonly student: {
    readonly sha256: string;
    readonly bytes: number;
    readonly architecture: { readonly architecture: string; readonly hidden?: readonly number[] };
    readonly inputShape: readonly number[];
    readonly labels: readonly string[];
  };
  readonly referenceSet: { readonly sha256: string; readonly rows: number; readonly rowsDistilled: number };
  readonly rounds: readonly { readonly round: number; readonly sites: number; readonly queries: number }[];
  readonly privacy: {
    readonly mechanism: string;
    readonly epsilon: number | null;
    readonly delta: number;
    readonly assumption: string | null;
    readonly note: string;
  };
  readonly distillation: { readonly trainingSeconds: number; readonly epochs?: number };
  readonly metrics: {
    readonly measuredOn: unknown;
    readonly accuracy?: number;
    readonly macroF1?: number;
    readonly ece?: number;
    readonly auroc?: number;
  };
}

export interface Student {
  readonly federationId: string;
  readonly version: number;
  readonly sha256: string;
  readonly bytes: number;
  readonly rounds: readonly number[];
  readonly publishedAt: string;
  readonly modelCard: ModelCard;
}

export interface PrivacyPoint {
  readonly round: number;
  readonly status: Round['status'];
  readonly federation: number;
  readonly sites: Readonly<Record<string, number>>;
}

export interface PrivacyBySite {
  readonly federationId: string;
  readonly delta: number;
  readonly epsilonCap: number | null;
  readonly points: readonly PrivacyPoint[];
  readonly siteLimits: Readonly<Record<string, number | null>>;
}

export interface AuditProblem {
  readonly position: number;
  readonly seq: string;
  readonly field: string;
  readonly reason: string;
}

export interface TranscriptStatus {
  readonly ok: boolean;
  readonly entries: number;
  readonly head: { readonly seq: number; readonly hash: string } | null;
  readonly publicKey: string;
  readonly problem: AuditProblem | null;
  readonly anchors: readonly {
    readonly site: string;
    readonly received: number;
    readonly verified: number;
    readonly latest: {
      readonly sequence: number;
      readonly signedAt: string;
      readonly recordedAt: string;
    } | null;
  }[];
  readonly checkedAt: string;
}
