#!/usr/bin/env bash
# The main job on the embedded reference: `sseaudit audit` starts the
# reference, seeds a demo estate, runs the conformance suite and a compliance
# scan, and writes a signed report set to sseaudit-report/ (open index.html);
# `sseaudit report verify` checks it. Then a short tour of the reference KMS
# through the official Alibaba Cloud KMS SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/sseaudit

printf '== audit: conformance + scan + signed reports, on the embedded reference\n'
# The demo estate is broken on purpose, so the audit's verdict is FAIL
# (exit 1: findings at or above --fail-on high). Anything else is a fault
# of the demo itself.
set +e
"$bin" audit --out sseaudit-report
rc=$?
set -e
if [ "$rc" -ne 1 ]; then
  echo "demo: audit exited $rc; the demo estate must give exit 1 (findings)" >&2
  exit 1
fi
printf '\n== verify the signed report set\n'
"$bin" report verify sseaudit-report

data=$(mktemp -d)
out="$data/serve.out"
unset SSEAUDIT_ROOT_ACCESS_KEY_ID SSEAUDIT_ROOT_ACCESS_KEY_SECRET SSEAUDIT_ROOT_KEY
"$bin" serve --addr 127.0.0.1:0 --kms-addr 127.0.0.1:0 --data "$data/ref" >"$out" 2>"$data/serve.log" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 100); do grep -q 'ALIBABA_CLOUD_ACCESS_KEY_SECRET=' "$out" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sed -n 's/^kms endpoint: //p' "$out")
[ -n "$endpoint" ] || { echo "demo: the reference server did not start:"; cat "$data/serve.log"; exit 1; }
export ALIBABA_CLOUD_ACCESS_KEY_ID=$(sed -n 's/.*ALIBABA_CLOUD_ACCESS_KEY_ID=//p' "$out")
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=$(sed -n 's/.*ALIBABA_CLOUD_ACCESS_KEY_SECRET=//p' "$out")
export SSEAUDIT_KMS_ENDPOINT=$endpoint

step() { printf '\n== %s\n' "$*"; }
step "reference KMS listening at $endpoint (data in a temp dir, removed on exit)"
step "create a customer master key"
key=$("$bin" kms create-key --description "demo CMK for bucket encryption")
echo "key id: $key"
"$bin" kms create-alias alias/demo-bucket-key "$key"
step "describe it (the KeyMetadata an auditor checks)"
"$bin" kms describe-key alias/demo-bucket-key
step "the OSS default key alias/acs/oss is created on first use, Creator Oss"
"$bin" kms describe-key alias/acs/oss | grep -E '"KeyId"|"Creator"'
step "rotate the CMK: a new primary version; old versions keep decrypting"
"$bin" kms rotate-key "$key"
step "disable, re-enable, schedule and cancel deletion"
"$bin" kms disable-key "$key"
"$bin" kms describe-key "$key" | grep -E '"KeyState"'
"$bin" kms enable-key "$key"
"$bin" kms schedule-key-deletion "$key" --days 7
"$bin" kms describe-key "$key" | grep -E '"KeyState"|"DeleteDate"'
"$bin" kms cancel-key-deletion "$key"
step "done: the report set is in sseaudit-report/ (open sseaudit-report/index.html)"
