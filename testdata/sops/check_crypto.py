#!/usr/bin/env python3
"""Independent check of the sops value encryption, AAD and MAC on sops-written YAML files.

Usage (from the repository root, with the `cryptography` package and the `age` CLI):

    python3 testdata/sops/check_crypto.py [--dump] IDENTITY[,IDENTITY...] FILE.yaml [FILE.yaml...]

For each file it:
  1. unwraps every `enc` of the `sops` metadata with `age -d -i IDENTITY` (tries each identity);
     one flat group gives the 32-byte data key directly, key groups give 33-byte Shamir shares
     (x = last byte) that are combined by Lagrange interpolation in GF(2^8) mod 0x11B;
  2. decrypts every `ENC[AES256_GCM,data:,iv:,tag:,type:]` value and comment with AES-256-GCM,
     using the IV as given (it must be 32 bytes) and AAD = key path joined by ':' plus ':';
  3. checks the plaintext spelling of each type (int, float, bool, time, str, comment);
  4. recomputes the MAC: uppercase hex SHA-512 over the value texts of all leaves in document
     order (cleartext leaves included, comments and nulls excluded; with mac_only_encrypted the
     hash starts with sha256("sops") and covers only encrypted values), and compares it with
     the decrypted `mac` (AAD = lastmodified).

It only reads the block-style YAML that sops itself writes (go-yaml v3, one leaf per line),
not YAML in general. Written from the format description, not from sops code.
"""

import base64
import hashlib
import json
import math
import re
import subprocess
import sys
from decimal import Decimal

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DUMP = False  # --dump: print every decrypted value (AAD, type, plaintext)
ENC_RE = re.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")


class CheckError(Exception):
    pass


# ----------------------------------------------------------------------------- YAML (sops-written)


def unquote_key(k):
    if k.startswith("!!merge "):
        k = k[len("!!merge "):]
    if k.startswith('"'):
        return json.loads(k)
    if k.startswith("'"):
        return k[1:-1].replace("''", "'")
    return k


def split_key(rest):
    """Split `key: value` / `key:`; returns (key, value or None) or None for a bare scalar."""
    if rest.startswith('"'):
        m = re.match(r'("(?:[^"\\]|\\.)*"):(?: (.*))?$', rest)
    elif rest.startswith("'"):
        m = re.match(r"('(?:[^']|'')*'):(?: (.*))?$", rest)
    else:
        m = re.match(r"((?:!!merge )?[^\s:#\[\]{}'\"][^:]*?):(?: (.*))?$", rest)
    if not m:
        return None
    return unquote_key(m.group(1)), m.group(2)


def parse_document(lines):
    """Yield (kind, path, text) for each leaf of one document in order.

    kind is 'value' or 'comment'; text is the raw scalar text (value) or the comment text.
    The path only grows on mapping keys; sequence indices are not part of it."""
    stack = []  # (column, key)
    for line in lines:
        col = len(line) - len(line.lstrip(" "))
        rest = line[col:]
        # Sequence item markers.
        while rest.startswith("- ") or rest == "-":
            rest = rest[2:]
            col += 2
        while stack and stack[-1][0] >= col:
            stack.pop()
        path = [k for _, k in stack]
        if rest.startswith("#"):
            yield "comment", path, rest[1:]
            continue
        kv = split_key(rest)
        if kv is None:
            yield "value", path, rest
            continue
        key, value = kv
        if value is None or value == "":
            stack.append((col, key))
        elif value in ("|", "|-", "|+", ">", ">-") or value.startswith(("|", ">")):
            raise CheckError(f"block scalar in data section at {path + [key]} (unsupported)")
        else:
            yield "value", path + [key], value


def split_file(text):
    """Split a sops-written YAML stream into (data lines, sops block text) per document."""
    docs = []
    for doc in re.split(r"^---\n", text, flags=re.M):
        if not doc.strip():
            continue
        m = re.search(r"^sops:\n", doc, re.M)
        if not m:
            raise CheckError("document without sops metadata")
        data = [l for l in doc[: m.start()].split("\n") if l.strip()]
        docs.append((data, doc[m.end():]))
    return docs


# ----------------------------------------------------------------------------- scalars


def resolve_plain(s):
    """YAML 1.2 core-schema resolution of a cleartext scalar -> (type, python value)."""
    if s.startswith('"'):
        return "str", json.loads(s)
    if s.startswith("'"):
        return "str", s[1:-1].replace("''", "'")
    if s in ("null", "Null", "NULL", "~", ""):
        return "null", None
    if s in ("{}", "[]"):
        return "empty", None
    if s in ("true", "True", "TRUE"):
        return "bool", True
    if s in ("false", "False", "FALSE"):
        return "bool", False
    if re.fullmatch(r"[-+]?[0-9]+", s):
        return "int", int(s)
    if re.fullmatch(r"0x[0-9a-fA-F]+", s):
        return "int", int(s, 16)
    if re.fullmatch(r"0o[0-7]+", s):
        return "int", int(s[2:], 8)
    if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", s):
        return "float", float(s)
    if re.fullmatch(r"[-+]?\.(inf|Inf|INF)", s):
        return "float", -math.inf if s.startswith("-") else math.inf
    if re.fullmatch(r"\.(nan|NaN|NAN)", s):
        return "float", math.nan
    return "str", s


def go_float(f):
    """strconv.FormatFloat(f, 'f', -1, 64)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    t = format(Decimal(repr(f)), "f")
    if "." in t:
        t = t.rstrip("0").rstrip(".")
    return t


def sops_text(kind, value):
    if kind == "str":
        return value
    if kind == "int":
        return str(value)
    if kind == "float":
        return go_float(value)
    if kind == "bool":
        return "True" if value else "False"
    raise CheckError(f"cleartext value of kind {kind} not handled")


TYPE_CHECKS = {
    "int": re.compile(r"-?[0-9]+"),
    "float": re.compile(r"-?[0-9]+(\.[0-9]+)?|[+-]Inf|NaN"),
    "bool": re.compile(r"True|False"),
    "time": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?(Z|[+-][0-9]{2}:[0-9]{2})"),
}


# ----------------------------------------------------------------------------- crypto


def b64(s, what):
    raw = base64.b64decode(s, validate=True)
    if base64.b64encode(raw).decode() != s:
        raise CheckError(f"{what}: not canonical padded standard base64")
    return raw


def decrypt_value(key, enc, aad):
    m = ENC_RE.match(enc)
    if not m:
        raise CheckError(f"not an ENC value: {enc[:40]}")
    data, iv, tag = (b64(m.group(i), n) for i, n in ((1, "data"), (2, "iv"), (3, "tag")))
    typ = m.group(4)
    if len(iv) != 32:
        raise CheckError(f"iv is {len(iv)} bytes, expected 32")
    if len(tag) != 16:
        raise CheckError(f"tag is {len(tag)} bytes, expected 16")
    plain = AESGCM(key).decrypt(iv, data + tag, aad.encode())
    if len(plain) != len(data):
        raise CheckError("ciphertext length differs from plaintext length")
    return typ, plain


def gf_mul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return r


def gf_inv(a):
    r = 1
    for _ in range(254):
        r = gf_mul(r, a)
    return r


def shamir_combine(shares):
    xs = [s[-1] for s in shares]
    out = bytearray()
    for i in range(len(shares[0]) - 1):
        acc = 0
        for j, sj in enumerate(shares):
            num, den = 1, 1
            for k, xk in enumerate(xs):
                if k != j:
                    num = gf_mul(num, xk)  # (0 - xk) == xk in GF(2^8)
                    den = gf_mul(den, xs[j] ^ xk)
            acc ^= gf_mul(sj[i], gf_mul(num, gf_inv(den)))
        out.append(acc)
    return bytes(out)


def age_decrypt(armored, identity):
    r = subprocess.run(["age", "-d", "-i", identity], input=armored.encode(), capture_output=True)
    return r.stdout if r.returncode == 0 else None


def yaml_meta(sops_block):
    """Metadata summary of a YAML `sops:` block."""
    encs = re.findall(r"recipient: (.+)\n\s+enc: \|\n((?:\s+.*\n)+?\s+-----END AGE ENCRYPTED FILE-----\n)",
                      sops_block)
    encs = [(r, "\n".join(l.strip() for l in b.strip("\n").split("\n")) + "\n") for r, b in encs]
    th = re.search(r"^    shamir_threshold: (\d+)", sops_block, re.M)
    return {
        "encs": encs,
        "groups": "key_groups:" in sops_block,
        "threshold": int(th.group(1)) if th else None,
        "lastmodified": re.search(r'^    lastmodified: "([^"]+)"', sops_block, re.M).group(1),
        "mac": re.search(r"^    mac: (ENC\[.*\])$", sops_block, re.M).group(1),
        "mac_only": re.search(r"^    mac_only_encrypted: true$", sops_block, re.M) is not None,
    }


def flat_meta(flat):
    """Metadata summary from ENV/INI flattened keys (`age__list_0__map_enc`, ...)."""
    encs = {}
    for k, v in flat.items():
        m = re.fullmatch(r"(?:key_groups__list_(\d+)__map_)?age__list_(\d+)__map_(recipient|enc)", k)
        if m:
            encs.setdefault((m.group(1) or "", m.group(2)), {})[m.group(3)] = v.replace("\\n", "\n")
    th = flat.get("shamir_threshold")
    return {
        "encs": [(e["recipient"], e["enc"]) for _, e in sorted(encs.items())],
        "groups": any(k.startswith("key_groups__") for k in flat),
        "threshold": int(float(th)) if th else None,
        "lastmodified": flat["lastmodified"],
        "mac": flat["mac"],
        "mac_only": flat.get("mac_only_encrypted") == "true",
    }


def json_meta(sops):
    groups = sops.get("key_groups")
    encs = []
    for g in groups if groups else [sops]:
        for a in g.get("age") or []:
            encs.append((a["recipient"], a["enc"]))
    return {
        "encs": encs,
        "groups": bool(groups),
        "threshold": sops.get("shamir_threshold"),
        "lastmodified": sops["lastmodified"],
        "mac": sops["mac"],
        "mac_only": sops.get("mac_only_encrypted") is True,
    }


def data_key(meta, identities, notes):
    encs = meta["encs"]
    if not encs:
        raise CheckError("no age recipients in metadata")
    payloads = []
    for recipient, armored in encs:
        body = armored.split("\n")[1:-2]
        if any(len(l) > 64 for l in body):
            notes.append("armor line longer than 64 columns")
        for ident in identities:
            p = age_decrypt(armored, ident)
            if p is not None:
                payloads.append(p)
                break
    if not meta["groups"]:
        if not payloads:
            raise CheckError("no identity opens any enc")
        if any(len(p) != 32 for p in payloads) or len(set(payloads)) != 1:
            raise CheckError("flat group: payloads are not one 32-byte key")
        notes.append(f"flat group: {len(encs)} enc(s), {len(payloads)} opened, 32-byte key")
        return payloads[0]
    t = meta["threshold"] or len(encs)
    shares = {p[-1]: p for p in payloads if len(p) == 33}
    if len(shares) < t:
        raise CheckError(f"only {len(shares)} Shamir shares, threshold {t}")
    key = shamir_combine(list(shares.values())[:t])
    notes.append(f"key groups: {len(encs)} enc(s), shares x={sorted(shares)}, threshold {t}, combined")
    if len(shares) > t:
        alt = shamir_combine(list(shares.values())[-t:])
        if alt != key:
            raise CheckError("different share subsets give different keys")
        notes.append("another share subset gives the same key")
    return key


# ----------------------------------------------------------------------------- main check


def aad_of(path):
    return "".join(p + ":" for p in path) if path else ":"


def yaml_leaves(text):
    docs = split_file(text)
    if any(d[1] != docs[0][1] for d in docs):
        raise CheckError("documents carry different metadata")
    leaves = []
    for data_lines, _ in docs:
        for kind, kpath, raw in parse_document(data_lines):
            if kind == "comment":
                leaves.append(("comment", aad_of(kpath), raw, None))
            elif raw.startswith("ENC["):
                leaves.append(("value", aad_of(kpath), raw, None))
            else:
                leaves.append(("value", aad_of(kpath), None, resolve_plain(raw)))
    return yaml_meta(docs[0][1]), leaves


def json_leaves(text):
    doc = json.loads(text, object_pairs_hook=lambda pairs: pairs)
    sops = None
    leaves = []

    def walk(node, path):
        if isinstance(node, list) and (not node or isinstance(node[0], tuple)):
            for k, v in node:  # an object, as its list of pairs
                walk(v, path + [k])
        elif isinstance(node, list):
            for v in node:
                walk(v, path)
        elif isinstance(node, str) and node.startswith("ENC["):
            leaves.append(("value", aad_of(path), node, None))
        elif isinstance(node, str):
            leaves.append(("value", aad_of(path), None, ("str", node)))
        elif isinstance(node, bool):
            leaves.append(("value", aad_of(path), None, ("bool", node)))
        elif isinstance(node, (int, float)):
            leaves.append(("value", aad_of(path), None, ("float", float(node))))

    for k, v in doc:
        if k == "sops":
            sops = v
        else:
            walk(v, [k])

    def to_py(node):
        if isinstance(node, list) and node and isinstance(node[0], tuple):
            return {k: to_py(v) for k, v in node}
        if isinstance(node, list):
            return [to_py(v) for v in node]
        return node

    return json_meta(to_py(sops)), leaves


def env_leaves(text):
    leaves, flat = [], {}
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("#"):
            c = line[1:]
            leaves.append(("comment", ":", c, None))
            continue
        k, _, v = line.partition("=")
        if k.startswith("sops_"):
            flat[k[len("sops_"):]] = v
        elif v.startswith("ENC["):
            leaves.append(("value", k + ":", v, None))
        else:
            leaves.append(("value", k + ":", None, ("str", v.replace("\\n", "\n"))))
    return flat_meta(flat), leaves


def ini_leaves(text):
    leaves, flat, section = [], {}, "DEFAULT"
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if line[0] in ";#":
            leaves.append(("comment", section + ":", line[1:].strip(), None))
            continue
        k, _, v = line.partition("=")
        k, v = k.strip(), v.strip()
        if section == "sops":
            flat[k] = v
        elif v.startswith("ENC["):
            leaves.append(("value", f"{section}:{k}:", v, None))
        else:
            leaves.append(("value", f"{section}:{k}:", None, ("str", v)))
    return flat_meta(flat), leaves


def check_file(path, identities):
    text = open(path, encoding="utf-8").read()  # binary store files are JSON too
    ext = path.rsplit(".", 1)[-1]
    reader = {"yaml": yaml_leaves, "yml": yaml_leaves, "json": json_leaves,
              "env": env_leaves, "ini": ini_leaves, "bin": json_leaves}[ext]
    meta, leaves = reader(text)
    notes = []
    key = data_key(meta, identities, notes)
    lastmod, mac_enc, mac_only = meta["lastmodified"], meta["mac"], meta["mac_only"]

    h = hashlib.sha512()
    if mac_only:
        h.update(hashlib.sha256(b"sops").digest())
    counts = {}
    for kind, aad, raw, clear in leaves:
        if kind == "comment":
            if raw.startswith("ENC["):
                typ, plain = decrypt_value(key, raw, aad)
                if typ != "comment":
                    raise CheckError(f"comment with type {typ}")
                if DUMP:
                    print(f"  {aad!r:40} #      {plain.decode()!r}")
                counts["comment"] = counts.get("comment", 0) + 1
            else:
                counts["clear comment"] = counts.get("clear comment", 0) + 1
            continue
        if raw is not None:
            typ, plain = decrypt_value(key, raw, aad)
            if typ == "comment":
                if DUMP:
                    print(f"  {aad!r:40} - #    {plain.decode()!r}")
                # sops writes a comment that sits inside a sequence as an item
                # `- ENC[...,type:comment]`; it is a comment again on decryption.
                counts["comment as sequence item"] = counts.get("comment as sequence item", 0) + 1
                continue
            ptext = plain.decode("utf-8", "surrogateescape")  # binary store: any bytes
            check = TYPE_CHECKS.get(typ)
            if check and not check.fullmatch(ptext):
                raise CheckError(f"{aad} type {typ}: unexpected plaintext spelling {ptext!r}")
            if typ not in ("str", "int", "float", "bool", "time"):
                raise CheckError(f"{aad}: unexpected value type {typ}")
            counts[typ] = counts.get(typ, 0) + 1
            if DUMP:
                print(f"  {aad!r:40} {typ:6} {ptext!r}")
            h.update(plain)
        else:
            kind_, value = clear
            if kind_ in ("null", "empty"):
                continue
            counts["clear " + kind_] = counts.get("clear " + kind_, 0) + 1
            if not mac_only:
                h.update(sops_text(kind_, value).encode())
    typ, mac_plain = decrypt_value(key, mac_enc, lastmod)
    if typ != "str":
        raise CheckError("mac is not type str")
    computed = h.hexdigest().upper()
    if mac_plain.decode() != computed:
        raise CheckError(f"MAC mismatch: file {mac_plain.decode()[:16]}..., computed {computed[:16]}...")
    notes.append("MAC ok" + (" (mac_only_encrypted)" if mac_only else ""))
    notes.append("leaves: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return notes


def main(argv):
    global DUMP
    if "--dump" in argv:
        DUMP = True
        argv = [a for a in argv if a != "--dump"]
    if len(argv) < 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    identities = argv[1].split(",")
    failed = 0
    for path in argv[2:]:
        try:
            notes = check_file(path, identities)
            print(f"OK   {path}: " + "; ".join(notes))
        except Exception as e:  # report and continue with the next file
            failed += 1
            print(f"FAIL {path}: {type(e).__name__}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
