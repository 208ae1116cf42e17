#!/usr/bin/env python3
"""Regenerate crates/cli/hot-symbols.txt: the functions of the release
`sops-like` binary that the usual commands run, which build.rs asks the
linker (LLD) to place together.

Why: the binary holds every key service's SDK (16 MB of code), and a run
touches a few hundred functions spread all over it. The kernel maps a
binary's code in blocks around each page a run touches, so scattered hot
code costs about 4 MiB of resident memory per run; placed together, about
1.5 MiB. Measured with `/usr/bin/time -f %M` on a 1 KB decrypt: 9.0 -> 5.9 MB.

How: runs the release binary under valgrind's callgrind (every function a
run executes is named in its output) on encrypt, decrypt, rotate, set,
exec-env and edit over small and medium generated documents of every
format, and keeps the names that are symbols of the binary. The names are
mangled with the hashes of this toolchain and Cargo.lock: after a toolchain
or dependency update, rerun this script (stale names are ignored by the
linker, so an old list only costs memory, never correctness).

Usage: scripts/hot-symbols.py   (needs valgrind and nm; builds release)
"""
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/cli/hot-symbols.txt"
KEY = ROOT / "testdata/keys/age-test.txt"


def bench_module():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts/bench-compare.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = ROOT / "target/release/sops-like"
    bench = bench_module()
    rec = bench.recipient()
    names = set()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp), "SOPS_AGE_KEY_FILE": str(KEY),
               "EDITOR": "true"}
        runs = []
        for label, leaves in (("small", 30), ("medium", 5000)):
            for ext, text in bench.generate(leaves).items():
                plain = tmp / f"{label}.{ext}"
                plain.write_text(text)
                enc = tmp / f"{label}.enc.{ext}"
                with open(enc, "wb") as out:
                    subprocess.run([binary, "encrypt", "--age", rec, plain], stdout=out, env=env, check=True)
                runs.append(["encrypt", "--age", rec, plain])
                runs.append(["decrypt", enc])
                if label == "small":
                    first = "SERVICE_0_PASSWORD_0" if ext == "env" else "service_0"
                    runs.append(["decrypt", "--extract", f'["{first}"]', enc])
                    runs.append(["rotate", "-i", enc])
                    runs.append(["set", enc, f'["{first}"]', '"x"'])
                    runs.append(["edit", enc])
                    if ext == "env":
                        runs.append(["exec-env", enc, "true"])
        for i, args in enumerate(runs):
            out = tmp / f"cg.{i}"
            subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}",
                            binary] + [str(a) for a in args],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for line in out.read_text(errors="replace").splitlines():
                m = re.match(r"^c?fn=\(\d+\) (.+)$", line)
                if m:
                    names.add(m.group(1))
    nm = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    symbols = {parts[2] for parts in (l.split(" ", 2) for l in nm.splitlines()) if len(parts) == 3}
    hot = sorted(names & symbols)
    OUT.write_text("".join(n + "\n" for n in hot))
    print(f"{len(hot)} hot functions of {len(names)} executed names -> {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
