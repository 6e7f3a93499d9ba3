#!/usr/bin/env python3
"""Verifies a FedHub signed tree head, inclusion proof or consistency proof offline.

usage: fedhub_verify_proof.py FILE --hub-key PEM_FILE

FILE is what `fedhubctl audit head|prove|consistency --out FILE` (or --json) exported.
Only FILE and the hub's public key (the PEM `fedhubctl info` prints) are trusted. Standard
library only. The format is docs/audit-proofs.md; section names below refer to it.
Exit 0: verified. Exit 2: "FAILED: ..." naming the check. Exit 64: usage or unreadable input.
"""
import argparse, base64, hashlib, json, sys


class Failed(Exception):
    """A check did not pass (exit 2)."""


def usage(message):
    print("fedhub_verify_proof.py: %s\nusage: fedhub_verify_proof.py FILE --hub-key PEM_FILE" % message, file=sys.stderr)
    sys.exit(64)


# --- Ed25519 verification (RFC 8032 §5.1.7), after the RFC's Python in §6 (verify only) --
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # the group order
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def recover_x(y, sign):
    if y >= P: return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 % P == 0: return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0: x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0: return None
    return P - x if (x & 1) != sign else x


def point_add(a, b):  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x*y = T/Z
    A, B = (a[1] - a[0]) * (b[1] - b[0]) % P, (a[1] + a[0]) * (b[1] + b[0]) % P
    C, E = 2 * a[3] * b[3] * D % P, 2 * a[2] * b[2] % P
    e, f, g, h = B - A, E - C, E + C, B + A
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_mul(s, pt):
    q = (0, 1, 1, 0)  # the neutral element
    while s:
        if s & 1: q = point_add(q, pt)
        pt, s = point_add(pt, pt), s >> 1
    return q


def point_equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def decompress(s):
    n = int.from_bytes(s, "little")
    y, sign = n & ((1 << 255) - 1), n >> 255
    x = recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


BASE = decompress((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64: return False
    A, R = decompress(public), decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if A is None or R is None or s >= L: return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return point_equal(point_mul(s, BASE), point_add(R, point_mul(h, A)))


# --- The hub's key: PEM SubjectPublicKeyInfo of an Ed25519 key ("The hub's key") ---------
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def read_hub_key(path):
    try:
        with open(path, encoding="ascii") as f: text = f.read()
    except (OSError, UnicodeError) as err:
        usage("cannot read the hub key: %s" % err)
    begin, end = text.find("-----BEGIN PUBLIC KEY-----"), text.find("-----END PUBLIC KEY-----")
    try:
        if begin < 0 or end < begin: raise ValueError("no BEGIN/END PUBLIC KEY lines")
        der = base64.b64decode("".join(text[begin + 26:end].split()), validate=True)
    except ValueError as err:
        usage("%s: not a PEM public key (%s)" % (path, err))
    if len(der) != 44 or not der.startswith(SPKI_PREFIX):
        usage("%s: not an Ed25519 public key" % path)
    return der[12:]


# --- Reading the export ("JSON export format") ------------------------------------------
def field(obj, name, default):
    """A field by its proto name, or its lowerCamel JSON name; absent means default."""
    if not isinstance(obj, dict): raise Failed("format: expected a JSON object, got %r" % (obj,))
    camel = name.split("_")[0] + "".join(w.title() for w in name.split("_")[1:])
    return obj.get(name, obj.get(camel, default))


def integer(obj, name, lo=0, hi=2**64 - 1):
    v = field(obj, name, "0")
    try:
        n = int(v) if isinstance(v, (int, str)) and not isinstance(v, bool) else None
    except ValueError:
        n = None
    if n is None or not lo <= n <= hi: raise Failed("format: %s is not an integer in range: %r" % (name, v))
    return n


def raw(value, name, size=None):
    try:
        b = base64.b64decode(value, validate=True)
    except (TypeError, ValueError):
        raise Failed("format: %s is not base64" % name)
    if size is not None and len(b) != size: raise Failed("format: %s is %d bytes, expected %d" % (name, len(b), size))
    return b


def hashes(obj, name):
    return [raw(v, "%s[%d]" % (name, i), 32) for i, v in enumerate(field(obj, name, []))]


# --- Hashes ("Leaves and nodes") ---------------------------------------------------------
def sha256(*parts): return hashlib.sha256(b"".join(parts)).digest()
def node(left, right): return sha256(b"\x01", left, right)
def leaf(entry_hash): return sha256(b"\x00", entry_hash)
def u64(n): return n.to_bytes(8, "big")


def entry_hash(prev, sequence, encoded):  # docs/chain-format.md "Entry hash"
    return sha256(b"fedhub.audit.v1\x00", prev, u64(sequence), encoded)


# --- Signed tree head ("Signed tree head") -----------------------------------------------
def check_head(head, key, which="head"):
    size, stamp = integer(head, "tree_size"), integer(head, "timestamp_micros", -2**63, 2**63 - 1)
    root = raw(field(head, "root_hash", ""), which + " root_hash", 32)
    sig = raw(field(head, "signature", ""), which + " signature", 64)
    message = b"fedhub.sth.v1\x00" + u64(size) + stamp.to_bytes(8, "big", signed=True) + root
    if not ed25519_verify(key, message, sig):
        given, named = hashlib.sha256(key).hexdigest()[:16], field(head, "key_id", "")
        raise Failed("signature: the %s of size %d %s" % (which, size, (
            "was signed by key %s, not by the given key %s" % (named, given) if named != given else
            "does not verify with key %s: the head was altered or forged" % given)))
    return size, root


def describe(head):
    return "signed head #%s (%d entries, root %s…)" % (
        field(head, "number", "0"), integer(head, "tree_size"), raw(field(head, "root_hash", ""), "root_hash").hex()[:16])


# --- Inclusion ("Verifying an inclusion proof", RFC 9162 §2.1.3.2) -----------------------
def root_from_path(index, size, leaf_hash, path):
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0: raise Failed("audit path: longer than a tree of %d entries allows" % size)
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0: fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0: raise Failed("audit path: shorter than a tree of %d entries needs" % size)
    return r


def check_inclusion(proof, key):
    head = field(proof, "head", {})
    size, root = check_head(head, key)
    entry = field(proof, "entry", {})
    seq, index = integer(entry, "sequence"), integer(proof, "leaf_index")
    if seq == 0: raise Failed("leaf index: the proof's entry has no sequence")
    if index != seq - 1: raise Failed("leaf index: leaf_index %d is not sequence - 1 (sequence %d)" % (index, seq))
    prev = raw(field(entry, "prev_hash", ""), "entry prev_hash", 32)
    h = entry_hash(prev, seq, raw(field(entry, "encoded", ""), "entry encoded"))
    if h != raw(field(entry, "entry_hash", ""), "entry entry_hash"):
        raise Failed("entry hash: audit entry %d's content does not match its entry hash" % seq)
    if index >= size: raise Failed("leaf index: %d is not below the tree size %d" % (index, size))
    r = root_from_path(index, size, leaf(h), hashes(proof, "audit_path"))
    if r != root:
        raise Failed("audit path: entry %d's path leads to another root (%s), not the head's root %s" % (seq, r.hex(), root.hex()))
    return "audit entry %d is in %s" % (seq, describe(head))


# --- Consistency ("Verifying a consistency proof", RFC 9162 §2.1.4.2) --------------------
def check_consistency(proof, key):
    first, second = field(proof, "first", {}), field(proof, "second", {})
    m, first_root = check_head(first, key, "first head")
    n, second_root = check_head(second, key, "second head")
    path = hashes(proof, "proof")
    ok = "%s extends %s" % (describe(second), describe(first))
    if not 0 < m <= n: raise Failed("consistency: sizes %d and %d are not 0 < first <= second" % (m, n))
    if m == n:
        if path: raise Failed("consistency: equal sizes need an empty proof")
        if first_root != second_root: raise Failed("consistency: two heads of size %d have different roots" % m)
        return ok
    if not path: raise Failed("consistency: the proof is empty")
    if m & (m - 1) == 0: path = [first_root] + path  # first size a power of two
    fn, sn = m - 1, n - 1
    while fn & 1: fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0: raise Failed("consistency: the proof is longer than the sizes allow")
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0: fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0: raise Failed("consistency: the proof is shorter than the sizes need")
    if fr != first_root: raise Failed("consistency: the proof does not lead to the first head's root: the second head does not extend it")
    if sr != second_root: raise Failed("consistency: the proof does not lead to the second head's root")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.error = usage
    parser.add_argument("file", metavar="FILE", help="a head or proof exported by fedhubctl (--out or --json)")
    parser.add_argument("--hub-key", required=True, metavar="PEM_FILE", help="the hub's public key (`fedhubctl info`)")
    args = parser.parse_args()
    key = read_hub_key(args.hub_key)
    try:
        with open(args.file, encoding="utf-8") as f: doc = json.load(f)
    except (OSError, UnicodeError, ValueError) as err:
        usage("%s: cannot read JSON: %s" % (args.file, err))
    if not isinstance(doc, dict): usage("%s: not a JSON object" % args.file)
    try:  # tell the three shapes apart by their keys
        if {"entry", "audit_path", "auditPath"} & doc.keys(): what = check_inclusion(doc, key)
        elif "first" in doc: what = check_consistency(doc, key)
        else: check_head(doc, key); what = describe(doc) + " is signed by the given key"
    except Failed as failed:
        print("FAILED: %s" % failed)
        sys.exit(2)
    print("ok: " + what)


if __name__ == "__main__":
    main()
