#!/usr/bin/env python3
"""An independent verifier for fedistill audit logs, written from docs/audit-log.md alone.

Usage: python3 audit-log-verify.py LOG.jsonl [PUBLIC_KEY_HEX]

Checks every entry's position, chain link, hash and (when the `cryptography` package is
installed) its Ed25519 signature. Exits 0 and prints "chain ok: N entries, head S" when the log
is intact; exits 1 naming the first bad entry and field otherwise.
"""
import hashlib
import json
import sys

FIELDS = [
    ("v", "v"), ("seq", "seq"), ("time", "time"), ("actor", "actor"), ("event", "event"),
    ("federation", "federation"), ("round", "round"), ("kind", "kind"), ("peer", "peer"),
    ("bytes", "bytes"), ("sha256", "sha256"), ("epsilon", "epsilon"),
    ("epsilonTotal", "epsilon_total"), ("epsilonLimit", "epsilon_limit"),
    ("detail", "detail"), ("prev", "prev"),
]


def canonical(entry):
    out = b"fedistill-log-v1\n"
    for key, name in FIELDS:
        value = entry[key].encode("utf-8")
        out += name.encode("utf-8") + b":" + str(len(value)).encode("ascii") + b":" + value + b"\n"
    return out


def fail(position, field, why):
    print(f"entry {position}: {field}: {why}")
    sys.exit(1)


def main():
    entries = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    if not entries or entries[0]["event"] != "genesis":
        fail(1, "event", "the first entry must be the genesis entry")
    key_hex = json.loads(entries[0]["detail"])["publicKey"]
    if len(sys.argv) > 2 and sys.argv[2].lower() != key_hex:
        fail(1, "detail", "public key is not the expected one")
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.exceptions import InvalidSignature
        import base64
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))
    except ImportError:
        key = None
    prev = "0" * 64
    for position, entry in enumerate(entries, start=1):
        if entry["seq"] != str(position):
            fail(position, "seq", f"expected {position}, found {entry['seq']}")
        if entry["prev"] != prev:
            fail(position, "prev", "does not match the previous entry's hash")
        digest = hashlib.sha256(canonical(entry)).hexdigest()
        if digest != entry["hash"]:
            fail(position, "hash", "content does not match the stored hash")
        if key is not None:
            try:
                key.verify(base64.b64decode(entry["signature"]), b"fedistill-log-entry-v1\n" + bytes.fromhex(digest))
            except InvalidSignature:
                fail(position, "signature", "does not verify with the genesis key")
        prev = digest
    print("signatures ok" if key is not None else "signatures not checked: install the 'cryptography' package")
    print(f"chain ok: {len(entries)} entries, head {entries[-1]['seq']}")


if __name__ == "__main__":
    main()
