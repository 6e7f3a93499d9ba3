#!/usr/bin/env bash
# The run command: installs what is missing, builds, then runs the demo scenario — a fresh
# hub on embedded RocksDB with freshly generated development certificates, and two example
# member platforms on the SDK (examples/course_platform, examples/design_store, driven by
# examples/scenario) exchanging catalogues and one person's profile under her consent until
# she revokes it; then the auditor's checks from the command line: both chains verified,
# the consent report on the demo's person, and one line of it proved against a signed tree
# head and verified by the standard-library Python verifier in tools/.
#
# Everything lives in a fresh directory under ${FEDHUB_DEMO_DIR:-.fedhub/demo}; the hub is
# stopped at the end, its data kept for a look with rocksdb tools or a second run of
# fedhubctl against a restarted hub, with the platforms' state files in platforms/.
# FEDHUB_BUILD_DIR (default build) chooses the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "== building fedhubd, fedhubctl and the example platforms"
scripts/build.sh fedhubd fedhubctl fedhub_demo | tail -n 1
BUILD_DIR="${FEDHUB_BUILD_DIR:-build}"
FEDHUBD="$BUILD_DIR/hub/server/fedhubd"
FEDHUBCTL="$BUILD_DIR/tools/fedhubctl/fedhubctl"
DEMO="$BUILD_DIR/examples/scenario/fedhub_demo"

ROOT="${FEDHUB_DEMO_DIR:-.fedhub/demo}"
mkdir -p "$ROOT"
W="$(mktemp -d "$ROOT/run-XXXXXX")"
echo "== working directory $W"

echo "== development certificates (a CA, the hub, operator, auditor, courses, store)"
"$FEDHUBCTL" dev-certs --out "$W/certs" --platform courses --platform store

echo "== starting fedhubd (mutual TLS on a free loopback port, RocksDB in $W/data)"
"$FEDHUBD" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --data-dir "$W/data" \
  --tls-cert "$W/certs/hub.crt" --tls-key "$W/certs/hub.key" --tls-ca "$W/certs/ca.crt" \
  --signing-key "$W/signing.key" --port-file "$W/ports" >"$W/fedhubd.log" 2>&1 &
HUB_PID=$!
trap 'kill "$HUB_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  [ -s "$W/ports" ] && break
  if ! kill -0 "$HUB_PID" 2>/dev/null; then
    echo "fedhubd exited during start-up:" >&2; cat "$W/fedhubd.log" >&2; exit 1
  fi
  sleep 0.1
done
[ -s "$W/ports" ] || { echo "fedhubd did not start within 30 s" >&2; cat "$W/fedhubd.log" >&2; exit 1; }
PORT="$(sed -n 1p "$W/ports")"
METRICS_PORT="$(sed -n 2p "$W/ports")"
sed -n 1p "$W/fedhubd.log"
ENDPOINT="127.0.0.1:$PORT"
echo

if ! "$DEMO" --endpoint "$ENDPOINT" --certs "$W/certs" --state-dir "$W/platforms" | tee "$W/demo.out"; then
  echo "run.sh: the demo scenario failed (above); the hub's log is $W/fedhubd.log" >&2
  exit 1
fi

ctl() { "$FEDHUBCTL" --endpoint "$ENDPOINT" --certs "$W/certs" "$@"; }
echo
echo "== the same checks from the command line"
echo "\$ fedhubctl --as auditor audit verify"
ctl --as auditor audit verify
echo "\$ fedhubctl --as auditor audit tail -n 6"
ctl --as auditor audit tail -n 6
ADA="$(sed -n 's/.*Ada Lovelace signed up as learner \([^ ]*\) .*/\1/p' "$W/demo.out" | head -n 1)"
echo "\$ fedhubctl --as auditor report person $ADA --platform courses"
ctl --as auditor report person "$ADA" --platform courses
SEQ="$(ctl --as auditor report person "$ADA" --platform courses --format csv | awk -F, '$4 == "access" { print $1; exit }')"
echo "\$ fedhubctl --as auditor audit prove $SEQ --out proof.json   # the first access line"
ctl --as auditor audit prove "$SEQ" --out "$W/proof.json"
ctl --as auditor --json info | python3 -c 'import json,sys; print(json.load(sys.stdin)["signing_public_key_pem"], end="")' > "$W/hub.pub.pem"
echo "\$ python3 tools/fedhub_verify_proof.py proof.json --hub-key hub.pub.pem   # standard library only, no hub"
python3 tools/fedhub_verify_proof.py "$W/proof.json" --hub-key "$W/hub.pub.pem"
echo "\$ fedhubctl --as operator platform list"
ctl --as operator platform list
echo "\$ fedhubctl --as store catalogue list"
ctl --as store catalogue list

echo
echo "== a few of the hub's metrics (http://127.0.0.1:$METRICS_PORT/metrics)"
exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT"
printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
grep -E '^fedhub_(stream_events_total|open_streams|rpc_requests_total\{.*(GrantConsent|RevokeConsent|AcknowledgeErasure))' <&3 | head -n 8 || true
exec 3<&-

kill -TERM "$HUB_PID"
wait "$HUB_PID" || true
trap - EXIT
echo
echo "== fedhubd stopped cleanly; data, certificates and log are in $W"
