#!/bin/bash
# Rooms not involved in an overload (docs/operations.md, "Overload"; issue #10 item 6).
# Starts a 1 gateway + 1 room worker cluster (its own Redis, fresh data dir) on c2s port
# ${PORT:-16222}, runs bench/scenarios/bystanders-20x10.json alone (20 s measured), then
# probe-100x10 at 5x (--rate 80, 55 s measured) with the same bystanders started 22 s into it.
# Extra arguments are environment settings for the cluster, e.g. PARLEY_ROOM_WORKER_BATCH_SIZE=64.
# Results: $OUT/{alone,during,probe}.json (OUT defaults to a new temp dir, printed at the end).
# Run `npx tsc -b` first.
set -u
cd "$(dirname "$0")/.."
PORT=${PORT:-16222}
OUT=${OUT:-$(mktemp -d /tmp/parley-overload-XXXXXX)}
mkdir -p "$OUT"
env "$@" node deploy/local/dist/cli.js --gateways 1 --workers 1 --c2s-port "$PORT" --ws-port $((PORT + 58)) \
  --no-admin --open-auth --json --data-dir "$OUT/redis" > "$OUT/cluster.log" 2>&1 &
CLUSTER=$!
for _ in $(seq 1 120); do grep -q READY "$OUT/cluster.log" && break; sleep 1; done
if ! grep -q READY "$OUT/cluster.log"; then echo "cluster not ready (see $OUT/cluster.log)"; kill "$CLUSTER"; exit 1; fi
T=127.0.0.1:$PORT
node packages/loadgen/dist/cli.js --scenario bench/scenarios/bystanders-20x10.json --targets "$T" --workers 1 --duration 20 --quiet --out "$OUT/alone.json" > "$OUT/alone.txt" 2>&1
node packages/loadgen/dist/cli.js --scenario bench/scenarios/probe-100x10.json --targets "$T" --workers 1 --rate 80 --duration 55 --quiet --out "$OUT/probe.json" > "$OUT/probe.txt" 2>&1 &
PROBE=$!
sleep 22
node packages/loadgen/dist/cli.js --scenario bench/scenarios/bystanders-20x10.json --targets "$T" --workers 1 --duration 20 --quiet --out "$OUT/during.json" > "$OUT/during.txt" 2>&1
wait "$PROBE"
kill -INT "$CLUSTER"; wait "$CLUSTER" 2>/dev/null
for f in alone during probe; do
  node -e 'const d=require(process.argv[1]),m=d.messages,l=m.latency;console.log(process.argv[2].padEnd(7),`delivered ${m.delivered}/${m.expected} dup ${m.duplicates} ${m.deliveriesPerSec}/s p50 ${l.p50Ms.toFixed(1)} p99 ${l.p99Ms.toFixed(1)} max ${l.maxMs.toFixed(0)} ms`)' "$OUT/$f.json" "$f"
done
grep -o '"msg":"[^"]*\(behind\|standing\)[^"]*"' "$OUT/cluster.log" | sort | uniq -c
echo "results in $OUT"
