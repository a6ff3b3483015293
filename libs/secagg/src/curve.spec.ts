import nacl from 'tweetnacl';
import { boxSharedKey, ed25519Sign, ed25519Verify, x25519Agree, x25519PublicKey } from './curve';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

describe('curve', () => {
  it('matches the X25519 test vector of RFC 7748 §6.1', () => {
    const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bobPublic = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    expect(Buffer.from(x25519PublicKey(alice)).toString('hex')).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(Buffer.from(x25519Agree(alice, bobPublic)).toString('hex')).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
  });

  it('derives the same box key as nacl.box.before', () => {
    const a = nacl.box.keyPair();
    const b = nacl.box.keyPair();
    expect(Buffer.from(boxSharedKey(a.secretKey, b.publicKey))).toEqual(
      Buffer.from(nacl.box.before(b.publicKey, a.secretKey)),
    );
  });

  it('signs like nacl.sign.detached and verifies natively', () => {
    const kp = nacl.sign.keyPair();
    const msg = new TextEncoder().encode('round 7');
    const sig = ed25519Sign(msg, kp.secretKey);
    expect(Buffer.from(sig)).toEqual(Buffer.from(nacl.sign.detached(msg, kp.secretKey)));
    expect(ed25519Verify(msg, sig, kp.publicKey)).toBe(true);
    sig[0] = (sig[0] as number) ^ 1;
    expect(ed25519Verify(msg, sig, kp.publicKey)).toBe(false);
    expect(ed25519Verify(msg, new Uint8Array(3), kp.publicKey)).toBe(false);
  });
});
