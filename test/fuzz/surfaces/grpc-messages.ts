import { mutateDocument } from '../support/documents';
import { fuzzBytes } from '../support/mutators';
import { mutateProtobuf } from '../support/protobuf';
import type { Rng } from '../support/rng';

/** A ts-proto message codec (the generated `Xxx` object of each message). */
export interface MessageCodec {
  encode(m: object): Uint8Array;
  decode(b: Uint8Array): object;
  toJSON(m: object): unknown;
  fromJSON(o: unknown): object;
  /** A whole message from some of its fields (the rest default). */
  fromPartial(o: object): object;
}

/** The codec of message type `name` from ts-proto's generated objects (e.g. @fedistill/wire's exports). */
export function codecOf(module: Record<string, unknown>, name: string): MessageCodec {
  const c = module[name] as
    | {
        encode(m: object): { finish(): Uint8Array };
        decode(b: Uint8Array): object;
        toJSON(m: object): unknown;
        fromJSON(o: unknown): object;
        fromPartial(o: object): object;
      }
    | undefined;
  if (!c?.encode) throw new RangeError(`no generated codec for message ${name}`);
  return {
    encode: (m) => c.encode(m).finish(),
    decode: (b) => c.decode(b),
    toJSON: (m) => c.toJSON(m),
    fromJSON: (o) => c.fromJSON(o),
    fromPartial: (o) => c.fromPartial(o),
  };
}

/**
 * A damaged message for one case: a third byte-level damage of a valid encoding (the protobuf
 * framing: tags, lengths, varints), a third the encoding's field tree changed without the
 * schema (support/protobuf.ts), a third a valid message changed field by field through its
 * JSON form (a field dropped, a key one byte short, a number out of range, an extra list item)
 * and encoded again with the generated codec: these reach the checks behind the decoder.
 */
export function fuzzMessage(rng: Rng, seeds: readonly Uint8Array[], codec: MessageCodec): Uint8Array {
  const roll = rng.below(3);
  if (roll === 0) return fuzzBytes(rng, seeds);
  if (roll === 1) return mutateProtobuf(rng, rng.pick(seeds)) ?? fuzzBytes(rng, seeds);
  const json = codec.toJSON(codec.decode(rng.pick(seeds)));
  let doc: unknown = json;
  const steps = 1 + rng.below(2);
  for (let i = 0; i < steps; i += 1) doc = mutateDocument(rng, doc);
  try {
    return codec.encode(codec.fromJSON(doc));
  } catch {
    // The generated codec cannot even write it (a value JSON allows, protobuf does not).
    return fuzzBytes(rng, seeds);
  }
}
