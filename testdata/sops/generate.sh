#!/usr/bin/env bash
# Regenerates the sops interoperability corpus (see README.md in this directory).
#
# Run from the repository root:   testdata/sops/generate.sh
#   SOPS=/path/to/sops   use another sops binary (default: .venv/bin/sops, which scripts/test.sh installs)
#   FORCE=1              re-encrypt every file (new data keys, new IVs, new lastmodified)
#
# Idempotent: an encrypted file under enc/ is only (re)written when it is missing or FORCE=1,
# because encryption is randomized. Everything derived from the encrypted files (expected/,
# errors/, cases.tsv) is rewritten on every run and comes out identical when enc/ is unchanged.
set -euo pipefail

SOPS=${SOPS:-.venv/bin/sops}
FORCE=${FORCE:-0}
D=testdata/sops
KEYS=testdata/keys

if [[ ! -d $D/plain || ! -f $KEYS/age-test.txt ]]; then
    echo "generate.sh: run from the repository root" >&2
    exit 1
fi

pubkey() { sed -n 's/^# public key: //p' "$1"; }
K1=$(pubkey $KEYS/age-test.txt)
K2=$(pubkey $KEYS/age-test-2.txt)
K3=$(pubkey $KEYS/age-test-3.txt)
SSH_ED25519=$(cat $KEYS/id_ed25519.pub)
SSH_RSA=$(cat $KEYS/id_rsa.pub)

# Isolate sops from the caller's environment: it also reads ~/.ssh/id_ed25519, ~/.ssh/id_rsa,
# ~/.config/sops/age/keys.txt and a number of SOPS_* variables.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export HOME=$TMP/home XDG_CONFIG_HOME=$TMP/home/.config
mkdir -p "$HOME"
for v in $(env | sed -n 's/^\(SOPS_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export SOPS_DISABLE_VERSION_CHECK=1
export SOPS_AGE_KEY_FILE=$KEYS/age-test.txt

mkdir -p $D/enc $D/expected $D/errors
MANIFEST=$TMP/cases.tsv
printf '# enc\texpected\tidentities (comma-separated; any listed set opens the file)\textra decrypt args\n' >"$MANIFEST"

CFG=$D/config/default.yaml

# encrypt NAME SOPS-ARGS... : plain/NAME -> enc/NAME (only if missing or FORCE=1).
# SOPS-ARGS are the full argument list before the file name (global flags, subcommand, flags).
encrypt() {
    local name=$1
    shift
    local out=$D/enc/$name
    if [[ -f $out && $FORCE != 1 ]]; then
        return
    fi
    "$SOPS" "$@" "$D/plain/$name" >"$TMP/out"
    mv "$TMP/out" "$out"
    echo "encrypted $out"
}

# expect NAME IDENTITIES [DECRYPT-ARGS...] : enc/NAME -> expected/NAME with `sops decrypt`.
# IDENTITIES: comma-separated identity files (age identities or an ssh private key).
expect() {
    local name=$1 ids=$2
    shift 2
    local keyfile=$TMP/identities.txt ssh=""
    : >"$keyfile"
    local IFS=,
    for id in $ids; do
        case $id in
        */id_ed25519 | */id_rsa) ssh=$id ;;
        *) cat "$id" >>"$keyfile" ;;
        esac
    done
    unset IFS
    SOPS_AGE_KEY_FILE=$keyfile SOPS_AGE_SSH_PRIVATE_KEY_FILE=$ssh \
        "$SOPS" decrypt "$@" "$D/enc/$name" >"$D/expected/$name"
    printf '%s\t%s\t%s\t%s\n' "enc/$name" "expected/$name" "$ids" "$*" >>"$MANIFEST"
}

A1=$KEYS/age-test.txt
A2=$KEYS/age-test-2.txt
A3=$KEYS/age-test-3.txt

# --- plain formats, default selector (unencrypted_suffix _unencrypted) -----------------------
for f in yaml-comments.yaml yaml-multidoc.yaml yaml-anchors.yaml yaml-blocks.yaml \
    yaml-types.yaml yaml-lists.yaml yaml-unicode.yaml yaml-default-suffix.yaml \
    yaml-crlf.yaml yaml-bom.yaml yaml-no-final-newline.yaml \
    json-basic.json dotenv-basic.env dotenv-crlf.env ini-basic.ini; do
    encrypt "$f" --config "$CFG" encrypt
    expect "$f" "$A1"
done
encrypt binary.bin --config "$CFG" encrypt --input-type binary
expect binary.bin "$A1" --input-type binary

# --- selectors (subcommand flags) ---------------------------------------------------------
encrypt sel-unencrypted-suffix.yaml --config "$CFG" encrypt --unencrypted-suffix _plain
encrypt sel-encrypted-suffix.yaml --config "$CFG" encrypt --encrypted-suffix _secret
encrypt sel-unencrypted-regex.yaml --config "$CFG" encrypt --unencrypted-regex '^public'
encrypt sel-encrypted-regex.yaml --config "$CFG" encrypt --encrypted-regex '^(password|token)$'
encrypt sel-encrypted-regex.json --config "$CFG" encrypt --encrypted-regex '^(password|token)$'
encrypt sel-encrypted-regex.env --config "$CFG" encrypt --encrypted-regex '^(PASSWORD|TOKEN)$'
# In this build these three exist only as global flags, and the `encrypt` subcommand silently
# ignores global flags: only the legacy `sops <flags> -e FILE` form honours them.
encrypt sel-unencrypted-comment-regex.yaml --config "$CFG" --unencrypted-comment-regex 'sops:clear' -e
encrypt sel-encrypted-comment-regex.yaml --config "$CFG" --encrypted-comment-regex 'sops:enc' -e
encrypt sel-mac-only-encrypted.yaml --config "$CFG" --mac-only-encrypted -e
# The same three, set in a config file instead (works with the subcommand).
encrypt cfg-unencrypted-comment-regex.yaml --config $D/config/unencrypted-comment-regex.yaml encrypt
encrypt cfg-encrypted-comment-regex.yaml --config $D/config/encrypted-comment-regex.yaml encrypt
encrypt cfg-mac-only-encrypted.yaml --config $D/config/mac-only-encrypted.yaml encrypt
for f in sel-unencrypted-suffix.yaml sel-encrypted-suffix.yaml sel-unencrypted-regex.yaml \
    sel-encrypted-regex.yaml sel-encrypted-regex.json sel-encrypted-regex.env \
    sel-unencrypted-comment-regex.yaml sel-encrypted-comment-regex.yaml sel-mac-only-encrypted.yaml \
    cfg-unencrypted-comment-regex.yaml cfg-encrypted-comment-regex.yaml cfg-mac-only-encrypted.yaml; do
    expect "$f" "$A1"
done

# --- key groups -------------------------------------------------------------------------------
for f in groups-shamir.yaml groups-shamir.json groups-shamir.env groups-shamir.ini; do
    encrypt "$f" --config $D/config/groups-shamir.yaml encrypt
    expect "$f" "$A1,$A2"
done
# The other two pairs of groups open it as well; check they give the same output.
for pair in "$A2,$A3" "$A1,$A3"; do
    mv $D/expected/groups-shamir.yaml "$TMP/first"
    expect groups-shamir.yaml "$pair"
    cmp -s "$TMP/first" $D/expected/groups-shamir.yaml || {
        echo "groups-shamir.yaml: different output with $pair" >&2
        exit 1
    }
done
encrypt groups-flat-two.yaml --config "$CFG" encrypt --age "$K1,$K2"
expect groups-flat-two.yaml "$A1"
mv $D/expected/groups-flat-two.yaml "$TMP/first"
expect groups-flat-two.yaml "$A2"
cmp -s "$TMP/first" $D/expected/groups-flat-two.yaml

# --- ssh recipients ---------------------------------------------------------------------------
encrypt ssh-ed25519.yaml --config "$CFG" encrypt --age "$SSH_ED25519"
expect ssh-ed25519.yaml "$KEYS/id_ed25519"
encrypt ssh-rsa.yaml --config "$CFG" encrypt --age "$SSH_RSA"
expect ssh-rsa.yaml "$KEYS/id_rsa"

mv "$MANIFEST" $D/cases.tsv

# --- error cases ------------------------------------------------------------------------------
# errcase CASE KEYFILE SOPS-ARGS... : records the exit code and the stderr of one sops run.
errcase() {
    local case=$1 keyfile=$2
    shift 2
    local code=0
    SOPS_AGE_KEY_FILE=$keyfile "$SOPS" "$@" >"$TMP/stdout" 2>"$TMP/stderr" || code=$?
    echo "$code" >$D/errors/$case.code
    # Strip absolute paths and log timestamps.
    sed -e "s#$PWD/##g" -e "s#$TMP#<TMP>#g" -e 's/time="[^"]*"/time="<TIME>"/g' \
        "$TMP/stderr" >$D/errors/$case.stderr
    if [[ $code == 0 ]]; then
        echo "error case $case unexpectedly succeeded" >&2
        exit 1
    fi
}

SRC=$D/enc/yaml-default-suffix.yaml
# The inputs of the tampering cases are kept as files, so other tests can use them.
# 1. Flip one base64 character of the ciphertext of `password` (GCM tag check fails).
python3 - "$SRC" $D/errors/tampered-data.yaml <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
m = re.search(r'^password: ENC\[AES256_GCM,data:(.)', src, re.M)
i = m.start(1)
flipped = 'B' if src[i] != 'B' else 'C'
open(sys.argv[2], 'w').write(src[:i] + flipped + src[i + 1:])
EOF
# 2. Swap the ENC values of `password` and `normal.key` (both decrypt, but with the wrong AAD).
python3 - "$SRC" $D/errors/tampered-swap.yaml <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
a = re.search(r'^password: (ENC\[[^\]]*\])', src, re.M)
b = re.search(r'^    key: (ENC\[[^\]]*\])', src, re.M)
va, vb = a.group(1), b.group(1)
out = src[:a.start(1)] + vb + src[a.end(1):b.start(1)] + va + src[b.end(1):]
open(sys.argv[2], 'w').write(out)
EOF
# 3. Change a cleartext (`_unencrypted`) value: only the MAC can notice.
sed 's/^password_unencrypted: visible-value$/password_unencrypted: visible-valuX/' "$SRC" \
    >$D/errors/tampered-cleartext.yaml
cmp -s "$SRC" $D/errors/tampered-cleartext.yaml && exit 1
# 4. Remove the MAC value.
sed 's/^    mac: ENC\[.*\]$/    mac: ""/' "$SRC" >$D/errors/empty-mac.yaml

errcase tampered-data "$A1" decrypt $D/errors/tampered-data.yaml
errcase tampered-swap "$A1" decrypt $D/errors/tampered-swap.yaml
errcase tampered-cleartext "$A1" decrypt $D/errors/tampered-cleartext.yaml
errcase empty-mac "$A1" decrypt $D/errors/empty-mac.yaml
errcase decrypt-plaintext "$A1" decrypt $D/plain/yaml-default-suffix.yaml
errcase encrypt-already-encrypted "$A1" --config "$CFG" encrypt "$SRC"
errcase decrypt-no-matching-key "$A2" decrypt "$SRC"
# sops cannot render YAML's .inf/.nan as JSON.
errcase yaml-inf-as-json "$A1" decrypt --output-type json $D/enc/yaml-types.yaml
errcase shamir-one-group-only "$A1" decrypt $D/enc/groups-shamir.yaml

# Sanity: the tampered-cleartext file still opens with --ignore-mac.
SOPS_AGE_KEY_FILE=$A1 "$SOPS" decrypt --ignore-mac $D/errors/tampered-cleartext.yaml >/dev/null

echo "done: $(($(wc -l <$D/cases.tsv) - 1)) cases, $(ls $D/errors/*.code | wc -l) error cases"
