#!/usr/bin/env bash
# The cost of unwrapping container logs: the same clickstream read as plain JSON lines and as a CRI log
# (`<time> stdout F <line>`, every 50th line split into P and F pieces), in alternating catch-up runs into the
# stand-in. Reports CPU-seconds per million events and events/s of each run, with the load (`uptime`) beside them:
# on a shared machine CPU time is the figure to compare, wall time only when the machine is idle.
#
#   bench/cri.sh [--lines N] [--runs N] [--no-build]     (defaults: 300,000 lines, 3 pairs of runs)
#   PT_BIN=DIR bench/cri.sh --no-build ...               (binaries from DIR instead of .build/release)
#
# Kept apart from run.sh on purpose (a separate case, its own results file in $BENCH_WORK).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
REL=${PT_BIN:-$ROOT/.build/release}  # PT_BIN=.build/debug: a rough figure without a release build
WORK=${BENCH_WORK:-/tmp/personalize-tail-bench}
LINES=300000 RUNS=3 BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --lines) LINES=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
    shift
done

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_PERSONALIZE_EVENTS || true
TIME=/usr/bin/time
[ -x $TIME ] || apt-get install -y time >/dev/null

if [ $BUILD = 1 ]; then
    (cd "$ROOT" && swift build -c release --product personalize-tail >&2 && \
        swift build -c release --product personalize-standin >&2)
fi

GEN_ID=$(cat "$BENCH/generate.py" "$0" | md5sum | cut -c1-8)
DATA=$WORK/cri-$GEN_ID
mkdir -p "$DATA/plain" "$DATA/cri"
PLAIN=$DATA/plain/web-$LINES.jsonl
CRI=$DATA/cri/web-$LINES.log
if [ ! -s "$PLAIN" ]; then
    python3 "$BENCH/generate.py" lines "$PLAIN.tmp" "$LINES" && mv "$PLAIN.tmp" "$PLAIN"
fi
if [ ! -s "$CRI" ]; then
    python3 - "$PLAIN" "$CRI.tmp" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
with open(src, "rb") as f, open(out, "wb") as o:
    for n, line in enumerate(f):
        line = line.rstrip(b"\n")
        stamp = b"2026-12-05T22:%02d:%02d.%09dZ stdout " % (n // 60000 % 60, n // 1000 % 60, n % 1000 * 1000)
        if n % 50 == 49:
            cut = len(line) // 2
            o.write(stamp + b"P " + line[:cut] + b"\n" + stamp + b"F " + line[cut:] + b"\n")
        else:
            o.write(stamp + b"F " + line + b"\n")
PY
    mv "$CRI.tmp" "$CRI"
fi

OUT=$WORK/cri-results-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
"$REL/personalize-standin" --threads 1 > "$OUT/standin.url" 2> "$OUT/standin.log" &
STANDIN=$!
trap 'kill -TERM $STANDIN 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$OUT/standin.url" ] && break; sleep 0.05; done
URL=$(head -1 "$OUT/standin.url")

run_one() { # KIND RUN
    local kind=$1 run=$2 state paths format
    state=$(mktemp -d "$WORK/cri-state.XXXXXX")
    if [ "$kind" = cri ]; then paths=$CRI format=cri; else paths=$PLAIN format=jsonl; fi
    python3 "$BENCH/lib.py" render "$BENCH/config.json" "$state/config.json" "$URL" "$state/state" "$paths" ""
    python3 - "$state/config.json" "$format" <<'PY'
import json, sys
path, fmt = sys.argv[1], sys.argv[2]
config = json.load(open(path))
config["sources"][0]["format"] = fmt
json.dump(config, open(path, "w"), indent=2)
PY
    local rc=0
    $TIME -f '%e %U %S %M' -o "$state/time" "$REL/personalize-tail" run --once --config "$state/config.json" \
        > /dev/null 2> "$state/stderr" || rc=$?
    python3 - "$kind" "$run" "$rc" "$state/time" "$state/stderr" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/results.jsonl" <<'PY'
import json, re, sys
kind, run, rc, time_file, stderr, load = sys.argv[1:7]
wall, user, sys_, rss = [l for l in open(time_file).read().splitlines() if re.match(r"^[\d.]+ [\d.]+ [\d.]+ \d+$", l)][-1].split()
sent = 0
for line in open(stderr, errors="replace"):
    if "summary" in line:
        m = re.search(r"sent=(\d+)", line)
        sent = int(m.group(1)) if m else 0
cpu = float(user) + float(sys_)
print(json.dumps({"kind": kind, "run": int(run), "rc": int(rc), "wall": float(wall), "cpu": cpu, "events": sent,
                  "cpu_s_per_million": cpu / sent * 1e6 if sent else None,
                  "events_per_s": sent / float(wall) if float(wall) else None, "rss_mib": int(rss) / 1024, "load": load}))
PY
    rm -rf "$state"
}

uptime | tee "$OUT/uptime-before"
for run in $(seq "$RUNS"); do
    # Alternate which goes first, so a change in the machine's load hits both alike.
    if [ $((run % 2)) = 1 ]; then run_one plain "$run"; run_one cri "$run"; else run_one cri "$run"; run_one plain "$run"; fi
done
uptime | tee "$OUT/uptime-after"
python3 - "$OUT/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("%-6s %4s %9s %8s %8s %14s %12s  %s" % ("kind", "run", "events", "wall s", "cpu s", "cpu s/million", "events/s", "load 1/5/15"))
for r in rows:
    print("%-6s %4d %9d %8.2f %8.2f %14.2f %12.0f  %s" % (r["kind"], r["run"], r["events"], r["wall"], r["cpu"],
          r["cpu_s_per_million"] or 0, r["events_per_s"] or 0, r["load"]))
for kind in ("plain", "cri"):
    cpu = [r["cpu_s_per_million"] for r in rows if r["kind"] == kind and r["cpu_s_per_million"]]
    eps = [r["events_per_s"] for r in rows if r["kind"] == kind and r["events_per_s"]]
    if cpu:
        print("median %-5s: %.2f cpu s per million events, %.0f events/s" % (kind, statistics.median(cpu), statistics.median(eps)))
PY
echo "results: $OUT/results.jsonl" >&2
