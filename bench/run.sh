#!/usr/bin/env bash
# personalize-tail benchmark suite. See bench/README.md.
#
#   bench/run.sh [--quick] [--runs N] [--lines N] [--sink standin|nginx|both] [--only LIST] [--big]
#                [--concurrency N] [--no-build]
#
#   --quick        100k lines, 1,000 small files, 1 run, 5 s of live appends: a smoke test
#   --runs N       runs per scenario (default 3); the table shows medians
#   --lines N      lines of the plain/gzip workload (default 1,000,000)
#   --sink S       standin (default: verifies SigV4 and validates every body), nginx (answers 200 to every POST,
#                  like the reference figures; installed with apt-get when missing), or both
#   --only LIST    comma-separated subset of: plain,gzip,files,parsemap,live,baselines,big,follow-files
#                  (follow-files, not in the default set: follow mode over the files workload, for peak RSS)
#   --big          also the ~2 GiB (8.4M lines) catch-up, 1 run, for peak RSS
#   --concurrency  aws.maxConcurrentRequests (default: bench/config.json's)
#   --no-build     use the existing .build/release binaries
#
# Workloads and results go to $BENCH_WORK (default /tmp/personalize-tail-bench); workloads are generated once
# (deterministically, seed 42) and reused while bench/generate.py is unchanged.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
REL=$ROOT/.build/release
WORK=${BENCH_WORK:-/tmp/personalize-tail-bench}
RUNS=3 LINES=1000000 FILES=10000 PER_FILE=20 BOTO_LINES=100000 LIVE_RATE=2000 LIVE_SECONDS=20
SINKS=standin ONLY=plain,gzip,files,parsemap,live,baselines BUILD=1 CONCURRENCY=
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) LINES=100000 FILES=1000 RUNS=1 BOTO_LINES=10000 LIVE_SECONDS=5 ;;
        --runs) RUNS=$2; shift ;;
        --lines) LINES=$2; shift ;;
        --sink) SINKS=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --big) ONLY=$ONLY,big ;;
        --concurrency) CONCURRENCY=$2; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
    shift
done
[ "$SINKS" = both ] && SINKS="standin nginx"
want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_PERSONALIZE_EVENTS || true
TIME=/usr/bin/time
if [ ! -x $TIME ]; then apt-get install -y time >/dev/null; fi

# ---- build ---------------------------------------------------------------------------------------------------
if [ $BUILD = 1 ]; then
    echo "== building (release)" >&2
    # One --product per invocation: given twice, swift build builds only the last one.
    (cd "$ROOT" && swift build -c release --product personalize-tail >&2 && \
        swift build -c release --product personalize-standin >&2)
fi

# ---- workloads -----------------------------------------------------------------------------------------------
GEN_ID=$(md5sum "$BENCH/generate.py" | cut -c1-8)
DATA=$WORK/data-$GEN_ID
mkdir -p "$DATA"
PLAIN=$DATA/web-$LINES.jsonl
GZ=$DATA/gz-$LINES/web-$LINES.jsonl.gz
FILESDIR=$DATA/files-$FILES-$PER_FILE
BIGFILE=$DATA/big-8400000.jsonl
if [ ! -s "$PLAIN" ]; then
    echo "== generating $PLAIN" >&2
    python3 "$BENCH/generate.py" lines "$PLAIN.tmp" "$LINES" && mv "$PLAIN.tmp" "$PLAIN"
fi
if [ ! -s "$GZ" ]; then
    echo "== compressing $GZ" >&2
    mkdir -p "$(dirname "$GZ")"; gzip -6 -c "$PLAIN" > "$GZ.tmp" && mv "$GZ.tmp" "$GZ"
fi
if want files && [ ! -e "$FILESDIR/.done" ]; then
    echo "== generating $FILES files of $PER_FILE lines" >&2
    rm -rf "$FILESDIR"; python3 "$BENCH/generate.py" files "$FILESDIR" "$FILES" "$PER_FILE" && touch "$FILESDIR/.done"
fi
if want big && [ ! -s "$BIGFILE" ]; then
    echo "== generating $BIGFILE (~2.2 GB)" >&2
    python3 "$BENCH/generate.py" lines "$BIGFILE.tmp" 8400000 && mv "$BIGFILE.tmp" "$BIGFILE"
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$WORK/results-$STAMP
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"

# ---- sinks ---------------------------------------------------------------------------------------------------
SINK_PID= SINK_URL=
start_standin() {
    "$REL/personalize-standin" --threads 1 "$@" > "$OUT/standin.url" 2>> "$OUT/standin.log" &
    SINK_PID=$!
    for _ in $(seq 100); do [ -s "$OUT/standin.url" ] && break; sleep 0.05; done
    SINK_URL=$(head -1 "$OUT/standin.url")
}
start_nginx() {
    if ! command -v nginx >/dev/null; then
        echo "== installing nginx" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light >/dev/null 2>&1 || \
            DEBIAN_FRONTEND=noninteractive apt-get install -y nginx >/dev/null 2>&1 || return 1
    fi
    local port prefix=$OUT/nginx
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$prefix/logs"
    cat > "$prefix/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $prefix/logs/error.log warn;
pid $prefix/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 75s;
    client_body_buffer_size 1m;
    client_body_temp_path $prefix/body;
    proxy_temp_path $prefix/proxy; fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi; scgi_temp_path $prefix/scgi;
    server {
        listen 127.0.0.1:$port;
        location / { default_type application/json; return 200 '{}'; }
    }
}
EOF
    nginx -p "$prefix" -c "$prefix/nginx.conf" 2>> "$OUT/nginx.log" &
    SINK_PID=$!
    SINK_URL=http://127.0.0.1:$port
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.1)" 2>/dev/null && break
        sleep 0.05
    done
}
start_sink() { case "$1" in standin) start_standin ;; nginx) start_nginx ;; esac; }
stop_sink() {
    if [ -n "$SINK_PID" ]; then
        kill -TERM "$SINK_PID" 2>/dev/null || true
        wait "$SINK_PID" 2>/dev/null || true
    fi
    SINK_PID= SINK_URL=
}
sink_ticks() { # user+system clock ticks of the sink process so far
    if [ -n "$SINK_PID" ] && [ -r /proc/$SINK_PID/stat ]; then
        awk '{ print $14 + $15 }' "/proc/$SINK_PID/stat"
    else echo 0; fi
}
trap 'stop_sink; [ -n "${AGENT_PID:-}" ] && kill -TERM $(pgrep -P $AGENT_PID) $AGENT_PID 2>/dev/null; true' EXIT

# ---- one measured catch-up run -------------------------------------------------------------------------------
# measure SCENARIO SINK RUN PATHS [prefix command words...]  (prefix e.g. "taskset -c 0"; DRY=1 for --dry-run)
measure() {
    local scenario=$1 sink=$2 run=$3 paths=$4; shift 4
    local state; state=$(mktemp -d "$WORK/state.XXXXXX")
    python3 "$BENCH/lib.py" render "$BENCH/config.json" "$state/config.json" "${SINK_URL:-http://127.0.0.1:9}" \
        "$state/state" "$paths" "$CONCURRENCY"
    local extra=() ; [ "${DRY:-0}" = 1 ] && extra=(--dry-run)
    local load t0 t1 rc=0
    sync; load=$(cut -d' ' -f1 /proc/loadavg); t0=$(sink_ticks)
    "$@" $TIME -f '%e %U %S %M' -o "$state/time" "$REL/personalize-tail" run --once "${extra[@]}" \
        --config "$state/config.json" > "${STDOUT:-/dev/null}" 2> "$state/stderr" || rc=$?
    t1=$(sink_ticks)
    python3 "$BENCH/lib.py" record "$RESULTS" "$scenario" "$sink" "$run" "$state/time" "$state/stderr" "$rc" \
        "$((t1 - t0))" "$load" ""
    if [ $rc != 0 ]; then cp "$state/stderr" "$OUT/$scenario-$sink-$run.stderr"; tail -3 "$state/stderr" >&2; fi
    rm -rf "$state"
}

# measure_cmd SCENARIO SINK RUN EVENTS_FILE command...: any command under /usr/bin/time; its stdout's last line
# is taken as the number of events (or lines) it handled.
measure_cmd() {
    local scenario=$1 sink=$2 run=$3; shift 3
    local tmp rc=0 load t0 t1; tmp=$(mktemp -d "$WORK/cmd.XXXXXX")
    load=$(cut -d' ' -f1 /proc/loadavg); t0=$(sink_ticks)
    $TIME -f '%e %U %S %M' -o "$tmp/time" "$@" > "$tmp/stdout" 2> "$tmp/stderr" || rc=$?
    t1=$(sink_ticks)
    python3 "$BENCH/lib.py" record "$RESULTS" "$scenario" "$sink" "$run" "$tmp/time" /dev/null "$rc" \
        "$((t1 - t0))" "$load" "$(tail -1 "$tmp/stdout" | tr -dc 0-9)"
    [ $rc != 0 ] && tail -5 "$tmp/stderr" >&2
    rm -rf "$tmp"
}

# ---- live latency ----------------------------------------------------------------------------------------------
live_latency() {
    local run=$1 dir; dir=$(mktemp -d "$WORK/live.XXXXXX")
    mkdir -p "$dir/logs"; : > "$dir/logs/live.jsonl"
    start_standin --latency-log "$dir/latency.log"
    python3 "$BENCH/lib.py" render "$BENCH/config.json" "$dir/config.json" "$SINK_URL" "$dir/state" \
        "$dir/logs/*.jsonl" "$CONCURRENCY"
    $TIME -f '%e %U %S %M' -o "$dir/time" "$REL/personalize-tail" run --config "$dir/config.json" \
        > /dev/null 2> "$dir/stderr" &
    AGENT_PID=$!
    sleep 2
    local load; load=$(cut -d' ' -f1 /proc/loadavg)
    local sent; sent=$(python3 "$BENCH/generate.py" live "$dir/logs/live.jsonl" "$LIVE_RATE" "$LIVE_SECONDS" --seed 7)
    for _ in $(seq 100); do
        [ "$(wc -l < "$dir/latency.log")" -ge "$sent" ] && break; sleep 0.1
    done
    # AGENT_PID is /usr/bin/time's; signal the agent itself (time's child) so time still reports.
    local agent; agent=$(pgrep -P "$AGENT_PID" || true)
    [ -n "$agent" ] && kill -TERM "$agent"
    wait "$AGENT_PID" || true; AGENT_PID=
    stop_sink
    python3 "$BENCH/lib.py" latency "$dir/latency.log" "$dir/latency.json" "$sent"
    cat "$dir/latency.json" >> "$OUT/latency-standin-${LIVE_RATE}per-s.jsonl"; echo >> "$OUT/latency-standin-${LIVE_RATE}per-s.jsonl"
    python3 "$BENCH/lib.py" record "$RESULTS" "live-follow" standin "$run" "$dir/time" "$dir/stderr" 0 "-" \
        "$load" "$sent"
    rm -rf "$dir"
}

# ---- follow mode over many files (memory) ---------------------------------------------------------------------
# follow_files RUN: `run` (follow mode, default follow settings) over the $FILES small files until every line is
# delivered, then one more line in each file, then SIGTERM; peak RSS is the figure (the bound is 64 MiB).
follow_files() {
    local run=$1 dir; dir=$(mktemp -d "$WORK/follow.XXXXXX")
    mkdir -p "$dir/logs"; cp "$FILESDIR"/*.jsonl "$dir/logs/"
    start_standin --latency-log "$dir/latency.log"
    python3 "$BENCH/lib.py" render "$BENCH/config.json" "$dir/config.json" "$SINK_URL" "$dir/state" \
        "$dir/logs/*.jsonl" "$CONCURRENCY"
    $TIME -f '%e %U %S %M' -o "$dir/time" "$REL/personalize-tail" run --config "$dir/config.json" \
        > /dev/null 2> "$dir/stderr" &
    AGENT_PID=$!
    local load; load=$(cut -d' ' -f1 /proc/loadavg)
    local want_lines=$(( FILES * PER_FILE ))
    for _ in $(seq 1200); do [ "$(wc -l < "$dir/latency.log")" -ge "$want_lines" ] && break; sleep 0.5; done
    local line; line=$(head -1 "$(ls "$dir"/logs/*.jsonl | head -1)")
    for f in "$dir"/logs/*.jsonl; do printf '%s\n' "$line" >> "$f"; done
    want_lines=$(( want_lines + FILES ))
    for _ in $(seq 1200); do [ "$(wc -l < "$dir/latency.log")" -ge "$want_lines" ] && break; sleep 0.5; done
    local agent; agent=$(pgrep -P "$AGENT_PID" || true)
    [ -n "$agent" ] && kill -TERM "$agent"
    wait "$AGENT_PID" || true; AGENT_PID=
    stop_sink
    python3 "$BENCH/lib.py" record "$RESULTS" "follow-files-$FILES" standin "$run" "$dir/time" "$dir/stderr" 0 "-" \
        "$load" "$(wc -l < "$dir/latency.log")"
    rm -rf "$dir"
}

# ---- scenarios ---------------------------------------------------------------------------------------------
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- Sources Package.swift || echo ' (uncommitted changes)')"
    echo "uname: $(uname -a)"
    echo "nproc: $(nproc)   cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)   swift: $(swift --version 2>/dev/null | head -1)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "workload: $LINES lines, $(( $(stat -c %s "$PLAIN") / LINES )) bytes/line avg; gzip $(( $(stat -c %s "$GZ") >> 20 )) MiB; files $FILES x $PER_FILE lines; runs $RUNS"
} | tee "$OUT/machine.txt" >&2

for sink in $SINKS; do
    start_sink "$sink" || { echo "sink $sink unavailable" >&2; continue; }
    echo "== sink $sink at $SINK_URL" >&2
    for run in $(seq "$RUNS"); do
        want plain && measure plain "$sink" "$run" "$PLAIN"
        want gzip && measure gzip "$sink" "$run" "$GZ"
        want files && measure "files-$FILES" "$sink" "$run" "$FILESDIR/*.jsonl"
    done
    if want big; then measure big-8.4M "$sink" 1 "$BIGFILE"; fi
    if want baselines; then
        for run in $(seq "$RUNS"); do
            measure_cmd "boto3-${BOTO_LINES}" "$sink" "$run" python3 "$BENCH/boto3_baseline.py" "$PLAIN" "$SINK_URL" "$BOTO_LINES"
        done
        if command -v fluent-bit >/dev/null; then
            echo "fluent-bit found but no scenario is wired yet" >&2
        fi
    fi
    stop_sink
done
if want parsemap; then
    echo "== parse+map+encode only (run --once --dry-run > /dev/null, taskset -c 0)" >&2
    for run in $(seq "$RUNS"); do DRY=1 measure parsemap-dryrun none "$run" "$PLAIN" taskset -c 0; done
fi
if want baselines; then
    for run in $(seq "$RUNS"); do
        measure_cmd "zcat|wc-l" none "$run" sh -c "zcat '$GZ' | wc -l"
    done
    command -v fluent-bit >/dev/null || echo "fluent-bit: not installed and not in apt (apt-cache policy fluent-bit finds no candidate)" | tee -a "$OUT/machine.txt" >&2
fi
if want follow-files; then
    echo "== following $FILES files (peak RSS)" >&2
    for run in $(seq "$RUNS"); do follow_files "$run"; done
fi
if want live; then
    echo "== live following: $LIVE_RATE lines/s for $LIVE_SECONDS s" >&2
    for run in $(seq "$RUNS"); do live_latency "$run"; done
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt" >&2
echo >&2
{
    cat "$OUT/machine.txt"; echo
    python3 "$BENCH/lib.py" report "$RESULTS" "$OUT"/latency-*.jsonl
} | tee "$OUT/report.md"
echo >&2
echo "results: $OUT" >&2
