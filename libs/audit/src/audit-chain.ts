import { ed25519Signer } from '@fedistill/identity';
import { type AuditEntry, type AuditEntryInput, entryHash, entrySignatureBytes, GENESIS_PREV } from './entry';
import { AuditSequenceError, type AuditLogStore } from './store';

/**
 * Appends signed, hash-chained entries to a store for one actor. Appends are serialized, so
 * concurrent callers get consecutive sequence numbers; the first append of an empty log writes
 * the genesis entry with the actor's public key.
 */
export class AuditChain {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly sign: (message: Uint8Array) => Uint8Array;

  constructor(
    private readonly store: AuditLogStore,
    readonly actor: string,
    private readonly keys: { readonly signingSecretKey: Uint8Array; readonly signingPublicKey: Uint8Array },
    private readonly now: () => number = Date.now,
  ) {
    this.sign = ed25519Signer(keys.signingSecretKey);
  }

  /** Appends one entry durably and returns it (with seq, hash and signature). */
  append(input: AuditEntryInput): Promise<AuditEntry> {
    const next = this.tail.then(() => this.appendNow(input));
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** The current head (appending the genesis entry first if the log is empty). */
  async head(): Promise<AuditEntry> {
    await this.tail;
    return (await this.store.head()) ?? this.append({ event: 'genesis' });
  }

  /**
   * Another process may append to the same store between reading the head and writing (a node's
   * CLI commands while the node runs); the store refuses the stale entry, and it is rebuilt on
   * the new head (a few times at most, so a broken store still fails).
   */
  private async appendNow(input: AuditEntryInput): Promise<AuditEntry> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.appendOnce(input);
      } catch (err) {
        if (!(err instanceof AuditSequenceError) || attempt >= 5) throw err;
      }
    }
  }

  private async appendOnce(input: AuditEntryInput): Promise<AuditEntry> {
    let last = await this.store.head();
    if (!last && input.event !== 'genesis') last = await this.write(undefined, this.genesisInput());
    return this.write(last, input.event === 'genesis' ? this.genesisInput() : input);
  }

  private genesisInput(): AuditEntryInput {
    return {
      event: 'genesis',
      detail: JSON.stringify({ publicKey: Buffer.from(this.keys.signingPublicKey).toString('hex') }),
    };
  }

  private async write(last: AuditEntry | undefined, input: AuditEntryInput): Promise<AuditEntry> {
    const body = {
      v: '1',
      seq: String(last ? Number(last.seq) + 1 : 1),
      time: new Date(this.now()).toISOString(),
      actor: this.actor,
      event: input.event,
      federation: input.federation ?? '',
      round: input.round ?? '',
      kind: input.kind ?? '',
      peer: input.peer ?? '',
      bytes: input.bytes ?? '',
      sha256: input.sha256 ?? '',
      epsilon: input.epsilon ?? '',
      epsilonTotal: input.epsilonTotal ?? '',
      epsilonLimit: input.epsilonLimit ?? '',
      detail: input.detail ?? '',
      prev: last?.hash ?? GENESIS_PREV,
    };
    const hash = entryHash(body);
    const entry: AuditEntry = {
      ...body,
      hash,
      signature: Buffer.from(this.sign(entrySignatureBytes(hash))).toString('base64'),
    };
    await this.store.append(entry);
    return entry;
  }
}
