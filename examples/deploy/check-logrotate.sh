#!/bin/bash
# check-logrotate.sh: shows that logrotate.conf (next to this script) works with personalize-tail: across
# rename rotations, delayed compression and a rotated file compressed before the agent finished it, every line
# written is delivered exactly once.
#
# Needs logrotate (apt-get install -y logrotate) and the two binaries:
#   swift build --product personalize-tail --product personalize-standin
# Usage: examples/deploy/check-logrotate.sh [BIN_DIR]   (default: .build/debug of this repository)
# Talks only to the local stand-in (127.0.0.1); needs no AWS account. Exits 0 when the check passes.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${1:-$ROOT/.build/debug}
AGENT=$BIN/personalize-tail
STANDIN=$BIN/personalize-standin
command -v logrotate >/dev/null || { echo "logrotate is not installed (apt-get install -y logrotate)" >&2; exit 2; }
[ -x "$AGENT" ] && [ -x "$STANDIN" ] || { echo "build first: swift build --product personalize-tail --product personalize-standin" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/check-logrotate.XXXXXX")
chmod 0755 "$T"
STANDIN_PID=
cleanup() {
    [ -n "$STANDIN_PID" ] && kill "$STANDIN_PID" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/logs" "$T/state"

# The snippet, with its paths pointed at the temporary directory. What is dropped: the owner of `create` (the test
# does not run as "shop") and the postrotate signal (the test's writer opens the file for each line, so it follows
# the rename by itself, as an application does once it has reopened its log).
sed -e "s|/var/log/shop/|$T/logs/|" \
    -e 's|^\( *create\) 0640 shop adm|\1 0644|' \
    -e '/postrotate/,/endscript/d' \
    -e '/sharedscripts/d' \
    "$HERE/logrotate.conf" >"$T/logrotate.conf"
rotate() { logrotate -s "$T/logrotate.state" -f "$T/logrotate.conf"; echo "  rotated: $(cd "$T/logs" && ls | tr '\n' ' ')"; }

# The local stand-in: verifies SigV4, validates bodies and counts accepted records.
"$STANDIN" >"$T/standin.out" 2>"$T/standin.err" &
STANDIN_PID=$!
for _ in $(seq 100); do [ -s "$T/standin.out" ] && break; sleep 0.1; done
ENDPOINT=$(head -1 "$T/standin.out")
[ -n "$ENDPOINT" ] || { echo "the stand-in did not start" >&2; cat "$T/standin.err" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_PERSONALIZE_EVENTS || true

write_config() { # $1 = config path, $2 = state directory
    cat >"$1" <<JSON
{
  "aws": { "endpoint": "$ENDPOINT", "region": "us-east-1", "maxAttempts": 3 },
  "state": { "directory": "$2" },
  "sources": [{ "name": "app", "paths": ["$T/logs/app.jsonl*"] }],
  "unmatched": "deadLetter",
  "mappings": {
    "events": {
      "target": "event",
      "trackingId": "11111111-2222-3333-4444-555555555555",
      "fields": {
        "eventId": "id", "userId": "user", "sessionId": "sid", "eventType": { "const": "View" },
        "itemId": "item", "sentAt": { "path": "ts", "format": "epochSeconds" }
      }
    }
  }
}
JSON
}
write_config "$T/config.json" "$T/state"

WRITTEN=0
append() { # $1 = how many lines; each opens the file anew, as a logger that reopens after rotation would
    local n=$1 i
    for ((i = 0; i < n; i++)); do
        WRITTEN=$((WRITTEN + 1))
        printf '{"id":"e-%06d","user":"u%d","item":"i%d","sid":"s%d","ts":%d}\n' \
            "$WRITTEN" $((WRITTEN % 17)) $((WRITTEN % 101)) $((WRITTEN % 5)) $((1700000000 + WRITTEN)) >>"$T/logs/app.jsonl"
    done
}
SENT=0
catch_up() {
    local status=0
    "$AGENT" run --once --config "$T/config.json" 2>"$T/run.err" || status=$?
    local summary
    summary=$(grep 'summary' "$T/run.err" || true)
    echo "  run --once: exit $status; ${summary#personalize-tail: }"
    [ "$status" -eq 0 ] || { cat "$T/run.err" >&2; exit 1; }
    SENT=$((SENT + $(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$summary")))
}

echo "round 1: lines, a catch-up, more lines, rotation (the rest is read from app.jsonl.1), new lines"
append 200; catch_up
append 150; rotate
append 40; catch_up
echo "round 2: rotation while nothing is unread, then lines on both sides of the next rotation"
rotate
append 120; catch_up
append 80; rotate; append 25
catch_up
echo "round 3: two rotations before the agent runs: the unread part of .1 has become .2.gz (delaycompress)"
append 300; rotate
append 70; rotate
append 10
catch_up
echo "round 4: rotation with the application still writing, several runs in between"
for _ in 1 2 3; do append 33; catch_up; append 12; rotate; done
catch_up

echo "final: one more catch-up must find nothing new"
BEFORE=$SENT; catch_up
[ "$SENT" -eq "$BEFORE" ] || { echo "FAIL: a run after everything was delivered sent records again" >&2; exit 1; }

kill -TERM "$STANDIN_PID"; wait "$STANDIN_PID" || true; STANDIN_PID=
STATS=$(grep '^standin:' "$T/standin.err")
DELIVERED=$(sed -n 's/.* records=\([0-9]*\).*/\1/p' <<<"$STATS")
REJECTED=$(sed -n 's/.* rejected=\([0-9]*\).*/\1/p' <<<"$STATS")
echo "$STATS"

# An independent count: a fresh agent (empty state) in dry-run mode over everything left on disk (the live file,
# .1, and .2.gz ... that logrotate kept) must see every line once, whatever the rotations did to the files.
write_config "$T/fresh.json" "$T/fresh-state"
"$AGENT" run --once --dry-run --config "$T/fresh.json" >"$T/dry-run.out" 2>"$T/dry-run.err" || true
DRY_TOTAL=$(grep -o '"eventId":"e-[0-9]*"' "$T/dry-run.out" | wc -l)
DRY_DISTINCT=$(grep -o '"eventId":"e-[0-9]*"' "$T/dry-run.out" | sort -u | wc -l)
ON_DISK=$( (cd "$T/logs" && for f in *; do case $f in *.gz) gzip -dc "$f" ;; *) cat "$f" ;; esac; done) | wc -l)

echo "lines written: $WRITTEN; lines still on disk (rotate 14 keeps them all here): $ON_DISK"
echo "delivered to the stand-in: $DELIVERED records (rejected requests: $REJECTED); agents' sent= total: $SENT"
echo "fresh dry run over the rotated files: $DRY_TOTAL events, $DRY_DISTINCT distinct ids"
if [ "$DELIVERED" -eq "$WRITTEN" ] && [ "$SENT" -eq "$WRITTEN" ] && [ "$REJECTED" -eq 0 ] \
    && [ "$DRY_TOTAL" -eq "$ON_DISK" ] && [ "$DRY_DISTINCT" -eq "$ON_DISK" ] && [ "$ON_DISK" -eq "$WRITTEN" ]; then
    echo "PASS: every line delivered exactly once across rotations"
else
    echo "FAIL" >&2
    KEEP=1
    echo "kept $T for inspection" >&2
    exit 1
fi
