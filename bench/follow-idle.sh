#!/usr/bin/env bash
# What following many idle files costs: CPU while nothing is written, and how fast a few appends still go out.
#
#   bench/follow-idle.sh [--files N] [--lines-per-file N] [--idle SECONDS] [--appends N] [--runs N] [--agent PATH ...] [--perf SECONDS]
#                        [--symlinks]
#
#   --files N      files followed (default 10,000 files of 20 lines, bench/generate.py's `files` workload)
#   --lines-per-file N   lines of each file (default 20)
#   --idle S       seconds of no input measured (default 60)
#   --appends N    files that get one line appended after the idle phase (default 100, spread over the files)
#   --runs N       runs per agent (default 1); with several --agent, runs alternate between them
#   --agent PATH   the binary to measure (default .build/release/personalize-tail, which must be a static release
#                  build); give it more than once to compare builds in alternating runs
#   --perf S       also `perf record -g` the agent for S seconds of the idle phase (perf-<run>.data in the results)
#   --symlinks     the files live in pods/ and the agent follows symbolic links to them in logs/ (as a DaemonSet
#                  following /var/log/containers/*.log, whose links lead into /var/log/pods)
#
# Each run: the stand-in (.build/release/personalize-standin, http, --latency-log) as the sink; the agent in follow
# mode with bench/config.json's settings over a fresh copy of the files, as uid/gid 65534 without capabilities when
# run as root (like run.sh); waits until every line was accepted, lets it settle 5 s, then reads the agent's
# utime+stime from /proc/PID/stat before and after the idle phase; then appends one line, stamped with its append
# time (`tsNs`), to each of N files and waits until all are accepted (latency = accepted - appended, as the
# live-follow scenario). Peak RSS is the agent's VmHWM at the end. One line per run goes to
# $BENCH_WORK/follow-idle-<stamp>/results.txt and to stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
WORK=${BENCH_WORK:-/tmp/personalize-tail-bench}
FILES=10000 PER_FILE=20 IDLE=60 APPENDS=100 RUNS=1 PERF=0 AGENTS=() SYMLINKS=0
while [ $# -gt 0 ]; do
    case "$1" in
        --files) FILES=$2; shift ;;
        --lines-per-file) PER_FILE=$2; shift ;;
        --idle) IDLE=$2; shift ;;
        --appends) APPENDS=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --agent) AGENTS+=("$2"); shift ;;
        --perf) PERF=$2; shift ;;
        --symlinks) SYMLINKS=1 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
    shift
done
[ ${#AGENTS[@]} = 0 ] && AGENTS=("$ROOT/.build/release/personalize-tail")
STANDIN=${STANDIN:-$ROOT/.build/release/personalize-standin}

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_PERSONALIZE_EVENTS || true

FILESDIR=$WORK/data-$(md5sum "$BENCH/generate.py" | cut -c1-8)/files-$FILES-$PER_FILE
if [ ! -e "$FILESDIR/.done" ]; then
    echo "== generating $FILES files of $PER_FILE lines" >&2
    rm -rf "$FILESDIR"; python3 "$BENCH/generate.py" files "$FILESDIR" "$FILES" "$PER_FILE" && touch "$FILESDIR/.done"
fi
OUT=$WORK/follow-idle-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT/bin"
chmod 0755 "$WORK" "$OUT" "$OUT/bin"
# Copies of the binaries, out of the build tree (the agent's user must reach them).
for i in "${!AGENTS[@]}"; do
    if readelf -d "${AGENTS[$i]}" | grep -E 'R(UN)?PATH' | grep -q swift; then
        echo "${AGENTS[$i]} finds the Swift runtime through the toolchain: build it with --static-swift-stdlib" >&2
        exit 1
    fi
    install -m 0755 "${AGENTS[$i]}" "$OUT/bin/agent-$i"
done
AS_USER=()
if [ "$(id -u)" = 0 ]; then
    AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs --)
fi
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   commit: $(cd "$ROOT" && git rev-parse --short HEAD)"
    echo "nproc: $(nproc)   cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    for i in "${!AGENTS[@]}"; do echo "agent-$i: ${AGENTS[$i]} ($(md5sum "${AGENTS[$i]}" | cut -c1-8))"; done
    echo "files: $FILES x $PER_FILE lines; symbolic links: $SYMLINKS; idle ${IDLE}s; appends $APPENDS; user: ${AS_USER:+uid 65534}"
} | tee "$OUT/machine.txt" >&2

TICK=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
count() { wc -l < "$1"; }
wait_lines() { # wait_lines FILE N DEADLINE_SECONDS: until FILE has N lines
    local end=$((SECONDS + $3))
    while [ "$(count "$1")" -lt "$2" ]; do
        [ $SECONDS -ge $end ] && { echo "timed out: $(count "$1") of $2 lines" >&2; return 1; }
        sleep 0.2
    done
}

AGENT_PID= SINK_PID=
cleanup() { for p in $AGENT_PID $SINK_PID; do kill -TERM "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

one_run() { # one_run RUN AGENT_INDEX
    local run=$1 a=$2 dir; dir=$(mktemp -d "$WORK/follow-idle.XXXXXX")
    mkdir -p "$dir/logs" "$dir/state"
    if [ "$SYMLINKS" = 1 ]; then
        mkdir -p "$dir/pods"; cp "$FILESDIR"/*.jsonl "$dir/pods/"; chmod 0755 "$dir/pods"
        for f in "$dir"/pods/*.jsonl; do ln -s "$f" "$dir/logs/$(basename "$f")"; done
    else
        cp "$FILESDIR"/*.jsonl "$dir/logs/"
    fi
    : > "$dir/latency.log"
    "$STANDIN" --threads 1 --latency-log "$dir/latency.log" > "$dir/url" 2> "$dir/standin.log" &
    SINK_PID=$!
    for _ in $(seq 100); do [ -s "$dir/url" ] && break; sleep 0.05; done
    python3 "$BENCH/lib.py" render "$BENCH/config.json" "$dir/config.json" "$(head -1 "$dir/url")" "$dir/state" \
        "$dir/logs/*.jsonl" "" ""
    chmod 0755 "$dir" "$dir/logs"; chmod 0644 "$dir"/logs/*.jsonl "$dir/config.json"
    [ ${#AS_USER[@]} -gt 0 ] && chown -R 65534:65534 "$dir/state"
    # setpriv execs the agent: $! is the agent's pid.
    "${AS_USER[@]}" "$OUT/bin/agent-$a" run --config "$dir/config.json" > /dev/null 2> "$dir/stderr" &
    AGENT_PID=$!
    local t0=$SECONDS
    wait_lines "$dir/latency.log" $((FILES * PER_FILE)) 900
    local catchup=$((SECONDS - t0))
    sleep 5
    local load before after
    load=$(cut -d' ' -f1 /proc/loadavg)
    before=$(ticks "$AGENT_PID")
    if [ "$PERF" != 0 ]; then
        perf record -g -o "$OUT/perf-$run-agent-$a.data" -p "$AGENT_PID" -- sleep "$PERF" > /dev/null 2>&1 || true
        sleep $((IDLE - PERF))
    else
        sleep "$IDLE"
    fi
    after=$(ticks "$AGENT_PID")
    local cpu; cpu=$(awk -v t=$((after - before)) -v hz="$TICK" -v s="$IDLE" 'BEGIN { printf "%.2f", t / hz * 60 / s }')
    # One line, stamped with its append time, to every (FILES/APPENDS)th file.
    local total=$((FILES * PER_FILE + APPENDS))
    python3 - "$dir/logs" "$APPENDS" <<'EOF'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
paths = sorted(os.listdir(d))
step = max(1, len(paths) // n)
for p in paths[::step][:n]:
    path = os.path.join(d, p)
    with open(path) as f:
        first = f.readline().rstrip("\n")
    with open(path, "a") as f:  # the file's first line again, with its append time
        f.write(first[:-1] + ',"tsNs":"%d"}\n' % time.time_ns())
EOF
    wait_lines "$dir/latency.log" "$total" 120 || true
    python3 "$BENCH/lib.py" latency "$dir/latency.log" "$dir/latency.json" "$APPENDS" 2> /dev/null
    local rss; rss=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$AGENT_PID/status")
    kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true; AGENT_PID=
    kill -TERM "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=
    local line
    line=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("appends %d/%d p50 %.0f ms max %.0f ms" % (r["received"], r["appended"], r["p50"], r["max"]))' "$dir/latency.json")
    line="run $run agent-$a: idle CPU-s/min $cpu; $line; catch-up ${catchup}s; peak RSS ${rss} MiB; load $load"
    echo "$line" | tee -a "$OUT/results.txt" >&2
    cp "$dir/stderr" "$OUT/agent-$a-run-$run.stderr"
    rm -rf "$dir"
}

for run in $(seq "$RUNS"); do
    for a in "${!AGENTS[@]}"; do one_run "$run" "$a"; done
done
echo "results: $OUT" >&2
