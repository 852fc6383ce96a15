#!/usr/bin/env bash
# personalize-tail benchmark suite. See bench/README.md.
#
#   bench/run.sh [--quick] [--runs N] [--lines N] [--sink nginx|standin|both] [--scheme https|http|both]
#                [--only LIST] [--big] [--concurrency N] [--no-build] [--as-root]
#
#   --quick        100k lines, 1,000 small files, 1 run, 5 s of live appends: a smoke test
#   --runs N       runs per scenario (default 3); the table shows medians
#   --lines N      lines of the plain/gzip workload (default 1,000,000)
#   --sink S       nginx (default: answers 200 to every POST, like the reference figures; installed with apt-get
#                  when missing), standin (verifies SigV4 and validates every body), or both
#   --scheme S     https (TLS with a certificate this script makes, trusted through aws.caBundle), http, or
#                  both (default: each run does https, then http, alternating)
#   --only LIST    comma-separated subset of: plain,gzip,files,parsemap,live,baselines,big,follow-files
#                  (follow-files, not in the default set: follow mode over the files workload, for peak RSS)
#   --big          also the ~2 GiB (8.4M lines) catch-up, 1 run, for peak RSS
#   --concurrency  aws.maxConcurrentRequests (default: bench/config.json's)
#   --no-build     use the existing .build/release binaries
#   --as-root      run the agent as the invoking user (default when root: uid 65534 without capabilities)
#
# The agent is the README's install: the release binary built with --static-swift-stdlib, copied out of the build
# tree, run (when the script runs as root) through setpriv as uid/gid 65534 with every capability dropped.
#
# BENCH_RELEASE_DIR: with --no-build, where the release binaries are (default .build/release).
# Workloads and results go to $BENCH_WORK (default /tmp/personalize-tail-bench); workloads are generated once
# (deterministically, seed 42) and reused while bench/generate.py is unchanged.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
REL=${BENCH_RELEASE_DIR:-$ROOT/.build/release}   # --no-build with binaries built elsewhere (a --scratch-path)
WORK=${BENCH_WORK:-/tmp/personalize-tail-bench}
RUNS=3 LINES=1000000 FILES=10000 PER_FILE=20 BOTO_LINES=100000 LIVE_RATE=2000 LIVE_SECONDS=20
SINKS=nginx SCHEMES="https http" ONLY=plain,gzip,files,parsemap,live,baselines BUILD=1 CONCURRENCY= AS_ROOT=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) LINES=100000 FILES=1000 RUNS=1 BOTO_LINES=10000 LIVE_SECONDS=5 ;;
        --runs) RUNS=$2; shift ;;
        --lines) LINES=$2; shift ;;
        --sink) SINKS=$2; shift ;;
        --scheme) SCHEMES=$2; shift ;;
        --as-root) AS_ROOT=1 ;;
        --only) ONLY=$2; shift ;;
        --big) ONLY=$ONLY,big ;;
        --concurrency) CONCURRENCY=$2; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
    shift
done
[ "$SINKS" = both ] && SINKS="nginx standin"
[ "$SCHEMES" = both ] && SCHEMES="https http"
want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_PERSONALIZE_EVENTS || true
TIME=/usr/bin/time
if [ ! -x $TIME ]; then apt-get install -y time >/dev/null; fi

# ---- build ---------------------------------------------------------------------------------------------------
if [ $BUILD = 1 ]; then
    echo "== building (release)" >&2
    # One --product per invocation: given twice, swift build builds only the last one. The same flags for both, so
    # the second build does not redo the first.
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --product personalize-tail >&2 && \
        swift build -c release --static-swift-stdlib --product personalize-standin >&2)
fi
if readelf -d "$REL/personalize-tail" | grep -E 'R(UN)?PATH' | grep -q swift; then
    echo "$REL/personalize-tail finds the Swift runtime through the toolchain: build it with --static-swift-stdlib" >&2
    exit 1
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
if { want files || want follow-files; } && [ ! -e "$FILESDIR/.done" ]; then
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

# ---- the agent as installed: a copy of the static binary, run as an unprivileged user -------------------------
mkdir -p "$OUT/bin"
install -m 0755 "$REL/personalize-tail" "$OUT/bin/personalize-tail"
AGENT=$OUT/bin/personalize-tail
AS_USER=()
if [ "$(id -u)" = 0 ] && [ $AS_ROOT = 0 ]; then
    command -v setpriv >/dev/null || { echo "setpriv (util-linux) is needed to run the agent unprivileged; or --as-root" >&2; exit 1; }
    AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs --)
    # The agent's user must reach the binary, the workloads and the certificate.
    chmod 0755 "$WORK" "$OUT" "$OUT/bin"
fi
# own DIR: hands a state directory to the agent's user.
own() { if [ ${#AS_USER[@]} -gt 0 ]; then chown -R 65534:65534 "$1"; fi; }

# ---- TLS: a CA and a certificate for 127.0.0.1, made for this run; the agent trusts the CA through aws.caBundle --
PKI=$OUT/pki
. "$BENCH/pki.sh"
. "$BENCH/nginx.sh"
make_pki "$PKI"
CA=$PKI/ca.pem

# ---- sinks ---------------------------------------------------------------------------------------------------
# Per scheme (https, http): the sink's pid and URL. nginx serves both schemes from one process; the stand-in runs
# one process per scheme.
declare -A SINK_PID=() SINK_URL=()
start_standin() { # start_standin SCHEME [stand-in options...]
    local scheme=$1; shift
    local tls=(); [ "$scheme" = https ] && tls=(--tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key")
    rm -f "$OUT/standin-$scheme.url"
    "$REL/personalize-standin" --threads 1 "${tls[@]}" "$@" > "$OUT/standin-$scheme.url" 2>> "$OUT/standin.log" &
    SINK_PID[$scheme]=$!
    for _ in $(seq 100); do [ -s "$OUT/standin-$scheme.url" ] && break; sleep 0.05; done
    SINK_URL[$scheme]=$(head -1 "$OUT/standin-$scheme.url")
}
start_nginx() {
    if ! command -v nginx >/dev/null; then
        echo "== installing nginx" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light >/dev/null 2>&1 || \
            DEBIAN_FRONTEND=noninteractive apt-get install -y nginx >/dev/null 2>&1 || return 1
    fi
    local port tlsport prefix=$OUT/nginx
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    tlsport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    nginx_conf "$prefix" "$PKI" "$port" "$tlsport"
    nginx -p "$prefix" -c "$prefix/nginx.conf" 2>> "$OUT/nginx.log" &
    SINK_PID[http]=$! SINK_PID[https]=$!
    SINK_URL[http]=http://127.0.0.1:$port SINK_URL[https]=https://127.0.0.1:$tlsport
    wait_ports "$port" "$tlsport"
}
start_sink() {
    case "$1" in
        standin) for scheme in $SCHEMES; do start_standin "$scheme"; done ;;
        nginx) start_nginx ;;
    esac
}
stop_sink() {
    local pid
    for pid in $(printf '%s\n' "${SINK_PID[@]}" | sort -u); do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    SINK_PID=() SINK_URL=()
}
sink_ticks() { # sink_ticks SCHEME: user+system clock ticks of that scheme's sink process so far
    local pid=${SINK_PID[$1]:-}
    if [ -n "$pid" ] && [ -r /proc/$pid/stat ]; then
        awk '{ print $14 + $15 }' "/proc/$pid/stat"
    else echo 0; fi
}
trap 'stop_sink; [ -n "${AGENT_PID:-}" ] && kill -TERM $(pgrep -P $AGENT_PID) $AGENT_PID 2>/dev/null; true' EXIT

# ---- one measured catch-up run -------------------------------------------------------------------------------
# measure SCENARIO SINK SCHEME RUN PATHS [prefix command words...]  (prefix e.g. "taskset -c 0"; DRY=1 for
# --dry-run; SCHEME picks the sink's https or http endpoint, "-" for none)
measure() {
    local scenario=$1 sink=$2 scheme=$3 run=$4 paths=$5; shift 5
    local state; state=$(mktemp -d "$WORK/state.XXXXXX")
    python3 "$BENCH/lib.py" render "$BENCH/config.json" "$state/config.json" "${SINK_URL[$scheme]:-http://127.0.0.1:9}" \
        "$state/state" "$paths" "$CONCURRENCY" "$CA"
    own "$state"
    local extra=() ; [ "${DRY:-0}" = 1 ] && extra=(--dry-run)
    local load t0 t1 rc=0 label=$sink; [ "$scheme" != - ] && label=$sink-$scheme
    sync; load=$(cut -d' ' -f1 /proc/loadavg); t0=$(sink_ticks "$scheme")
    "$@" $TIME -f '%e %U %S %M' -o "$state/time" "${AS_USER[@]}" "$AGENT" run --once "${extra[@]}" \
        --config "$state/config.json" > "${STDOUT:-/dev/null}" 2> "$state/stderr" || rc=$?
    t1=$(sink_ticks "$scheme")
    python3 "$BENCH/lib.py" record "$RESULTS" "$scenario" "$label" "$run" "$state/time" "$state/stderr" "$rc" \
        "$((t1 - t0))" "$load" ""
    if [ $rc != 0 ]; then cp "$state/stderr" "$OUT/$scenario-$label-$run.stderr"; tail -3 "$state/stderr" >&2; fi
    rm -rf "$state"
}

# measure_cmd SCENARIO SINK SCHEME RUN command...: any command under /usr/bin/time; its stdout's last line is taken
# as the number of events (or lines) it handled.
measure_cmd() {
    local scenario=$1 sink=$2 scheme=$3 run=$4; shift 4
    local tmp rc=0 load t0 t1 label=$sink; tmp=$(mktemp -d "$WORK/cmd.XXXXXX")
    [ "$scheme" != - ] && label=$sink-$scheme
    load=$(cut -d' ' -f1 /proc/loadavg); t0=$(sink_ticks "$scheme")
    $TIME -f '%e %U %S %M' -o "$tmp/time" "$@" > "$tmp/stdout" 2> "$tmp/stderr" || rc=$?
    t1=$(sink_ticks "$scheme")
    python3 "$BENCH/lib.py" record "$RESULTS" "$scenario" "$label" "$run" "$tmp/time" /dev/null "$rc" \
        "$((t1 - t0))" "$load" "$(tail -1 "$tmp/stdout" | tr -dc 0-9)"
    [ $rc != 0 ] && tail -5 "$tmp/stderr" >&2
    rm -rf "$tmp"
}

# ---- live latency ----------------------------------------------------------------------------------------------
live_latency() {
    local run=$1 scheme=$2 dir; dir=$(mktemp -d "$WORK/live.XXXXXX")
    mkdir -p "$dir/logs"; : > "$dir/logs/live.jsonl"
    start_standin "$scheme" --latency-log "$dir/latency.log"
    python3 "$BENCH/lib.py" render "$BENCH/config.json" "$dir/config.json" "${SINK_URL[$scheme]}" "$dir/state" \
        "$dir/logs/*.jsonl" "$CONCURRENCY" "$CA"
    chmod 0755 "$dir" "$dir/logs"; chmod 0644 "$dir/logs/live.jsonl" "$dir/config.json"
    mkdir -p "$dir/state"; own "$dir/state"
    $TIME -f '%e %U %S %M' -o "$dir/time" "${AS_USER[@]}" "$AGENT" run --config "$dir/config.json" \
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
    local latencies=$OUT/latency-standin-$scheme-${LIVE_RATE}per-s.jsonl
    cat "$dir/latency.json" >> "$latencies"; echo >> "$latencies"
    python3 "$BENCH/lib.py" record "$RESULTS" "live-follow" "standin-$scheme" "$run" "$dir/time" "$dir/stderr" 0 "-" \
        "$load" "$sent"
    rm -rf "$dir"
}

# ---- follow mode over many files (memory) ---------------------------------------------------------------------
# follow_files RUN: `run` (follow mode, default follow settings) over the $FILES small files until every line is
# delivered, then one more line in each file, then SIGTERM; peak RSS is the figure (the bound is 64 MiB).
follow_files() {
    local run=$1 scheme=http dir; dir=$(mktemp -d "$WORK/follow.XXXXXX")
    mkdir -p "$dir/logs"; cp "$FILESDIR"/*.jsonl "$dir/logs/"
    start_standin "$scheme" --latency-log "$dir/latency.log"
    python3 "$BENCH/lib.py" render "$BENCH/config.json" "$dir/config.json" "${SINK_URL[$scheme]}" "$dir/state" \
        "$dir/logs/*.jsonl" "$CONCURRENCY" "$CA"
    chmod 0755 "$dir" "$dir/logs"; chmod 0644 "$dir"/logs/*.jsonl "$dir/config.json"
    mkdir -p "$dir/state"; own "$dir/state"
    $TIME -f '%e %U %S %M' -o "$dir/time" "${AS_USER[@]}" "$AGENT" run --config "$dir/config.json" \
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
    python3 "$BENCH/lib.py" record "$RESULTS" "follow-files-$FILES" "standin-$scheme" "$run" "$dir/time" "$dir/stderr" 0 "-" \
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
    echo "agent: $AGENT (--static-swift-stdlib; needs $(readelf -d "$AGENT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '))"
    echo "agent user: $([ ${#AS_USER[@]} -gt 0 ] && echo "uid/gid 65534 through setpriv, no capabilities" || echo "$(id -un) (--as-root or not root)")"
    echo "schemes: $SCHEMES (https: TLS with a certificate made for this run, trusted through aws.caBundle)"
    echo "workload: $LINES lines, $(( $(stat -c %s "$PLAIN") / LINES )) bytes/line avg; gzip $(( $(stat -c %s "$GZ") >> 20 )) MiB; files $FILES x $PER_FILE lines; runs $RUNS"
} | tee "$OUT/machine.txt" >&2

# Each run measures every scheme in turn (https first: the headline rows), so the host's drift hits both alike.
for sink in $SINKS; do
    start_sink "$sink" || { echo "sink $sink unavailable" >&2; continue; }
    for scheme in $SCHEMES; do echo "== sink $sink at ${SINK_URL[$scheme]}" >&2; done
    for run in $(seq "$RUNS"); do
        for scheme in $SCHEMES; do want plain && measure plain "$sink" "$scheme" "$run" "$PLAIN"; done
        for scheme in $SCHEMES; do want gzip && measure gzip "$sink" "$scheme" "$run" "$GZ"; done
        for scheme in $SCHEMES; do want files && measure "files-$FILES" "$sink" "$scheme" "$run" "$FILESDIR/*.jsonl"; done
    done
    if want big; then for scheme in $SCHEMES; do measure big-8.4M "$sink" "$scheme" 1 "$BIGFILE"; done; fi
    if want baselines; then
        for run in $(seq "$RUNS"); do
            for scheme in $SCHEMES; do
                AWS_CA_BUNDLE=$CA measure_cmd "boto3-${BOTO_LINES}" "$sink" "$scheme" "$run" python3 \
                    "$BENCH/boto3_baseline.py" "$PLAIN" "${SINK_URL[$scheme]}" "$BOTO_LINES"
            done
        done
        if command -v fluent-bit >/dev/null; then
            echo "fluent-bit found: bench/fluent-bit.sh runs it side by side (FLUENT_BIT=$(command -v fluent-bit))" >&2
        fi
    fi
    stop_sink
done
if want parsemap; then
    echo "== parse+map+encode only (run --once --dry-run > /dev/null, taskset -c 0)" >&2
    for run in $(seq "$RUNS"); do DRY=1 measure parsemap-dryrun none - "$run" "$PLAIN" taskset -c 0; done
fi
if want baselines; then
    for run in $(seq "$RUNS"); do
        measure_cmd "zcat|wc-l" none - "$run" sh -c "zcat '$GZ' | wc -l"
    done
    command -v fluent-bit >/dev/null || echo "fluent-bit: not installed and not in apt; bench/fluent-bit.sh runs a source build side by side" | tee -a "$OUT/machine.txt" >&2
fi
if want follow-files; then
    echo "== following $FILES files (peak RSS)" >&2
    for run in $(seq "$RUNS"); do follow_files "$run"; done
fi
if want live; then
    echo "== live following: $LIVE_RATE lines/s for $LIVE_SECONDS s" >&2
    for run in $(seq "$RUNS"); do live_latency "$run" "${SCHEMES%% *}"; done
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt" >&2
echo >&2
{
    cat "$OUT/machine.txt"; echo
    python3 "$BENCH/lib.py" report "$RESULTS" "$OUT"/latency-*.jsonl
} | tee "$OUT/report.md"
echo >&2
echo "results: $OUT" >&2
