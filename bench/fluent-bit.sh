#!/usr/bin/env bash
# Fluent Bit side by side with personalize-tail on the `plain` workload. See bench/README.md ("Fluent Bit").
#
#   FLUENT_BIT=/path/to/fluent-bit bench/fluent-bit.sh [--runs N] [--lines N]
#
# Each round runs, in turn: Fluent Bit tail -> http (https to nginx), personalize-tail `run --once` (https to the
# same nginx), Fluent Bit tail -> null (the floor: reading and JSON parsing only). Every run starts from a fresh
# state directory (Fluent Bit: a fresh tail DB file; read_from_head on), runs as uid/gid 65534 without capabilities
# when the script runs as root, and is timed by /usr/bin/time (CPU and peak RSS of the whole process).
#
# Fluent Bit does not stop by itself (tail keeps following), so the script polls its HTTP server
# (/api/v1/metrics, every 50 ms) until the output's proc_records (records whose flush the output reported done,
# i.e. nginx answered 2xx) reaches the number of lines, then sends SIGTERM. Its events/s is lines / (that moment -
# launch); its CPU-s and RSS are the whole process's, shutdown included. nginx's stub_status counts the requests.
#
# FLUENT_BIT: the fluent-bit binary (required; it needs the tail input, the http and null outputs, the HTTP server).
# BENCH_RELEASE_DIR: where the personalize-tail release binary is (default .build/release).
# BENCH_WORK: workloads and results (default /tmp/personalize-tail-bench), shared with bench/run.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
REL=${BENCH_RELEASE_DIR:-$ROOT/.build/release}
WORK=${BENCH_WORK:-/tmp/personalize-tail-bench}
RUNS=3 LINES=1000000
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift ;;
        --lines) LINES=$2; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
    shift
done
[ -x "${FLUENT_BIT:-}" ] || { echo "set FLUENT_BIT to the fluent-bit binary (see bench/README.md for a build)" >&2; exit 64; }
[ -x "$REL/personalize-tail" ] || { echo "no $REL/personalize-tail: build it or set BENCH_RELEASE_DIR" >&2; exit 64; }
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_PERSONALIZE_EVENTS || true
TIME=/usr/bin/time
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- the workload: the same file as run.sh's `plain` ----------------------------------------------------------
DATA=$WORK/data-$(md5sum "$BENCH/generate.py" | cut -c1-8)
PLAIN=$DATA/web-$LINES.jsonl
mkdir -p "$DATA"
if [ ! -s "$PLAIN" ]; then
    echo "== generating $PLAIN" >&2
    python3 "$BENCH/generate.py" lines "$PLAIN.tmp" "$LINES" && mv "$PLAIN.tmp" "$PLAIN"
fi
OUT=$WORK/fluent-bit-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT/bin"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"
install -m 0755 "$REL/personalize-tail" "$OUT/bin/personalize-tail"
install -m 0755 "$FLUENT_BIT" "$OUT/bin/fluent-bit"
AS_USER=()
if [ "$(id -u)" = 0 ]; then
    AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs --)
    chmod 0755 "$WORK" "$OUT" "$OUT/bin"
fi
own() { if [ ${#AS_USER[@]} -gt 0 ]; then chown -R 65534:65534 "$1"; fi; }

# ---- TLS and nginx, as in run.sh (https only), plus stub_status on a plain port to count requests -------------
PKI=$OUT/pki
. "$BENCH/pki.sh"
. "$BENCH/nginx.sh"
make_pki "$PKI"
CA=$PKI/ca.pem
NGX=$OUT/nginx STATUS_PORT=$(free_port) TLS_PORT=$(free_port)
nginx_conf "$NGX" "$PKI" "" "$TLS_PORT" "    client_max_body_size 64m;
    server {
        listen 127.0.0.1:$STATUS_PORT;
        location = /status { stub_status; }
    }"
nginx -p "$NGX" -c "$NGX/nginx.conf" 2>> "$OUT/nginx.log" &
NGINX_PID=$!
FB_PID=
trap 'kill -TERM $NGINX_PID 2>/dev/null; [ -n "$FB_PID" ] && kill -TERM $(pgrep -P $FB_PID) 2>/dev/null; true' EXIT
wait_ports "$STATUS_PORT" "$TLS_PORT"
URL=https://127.0.0.1:$TLS_PORT
# nginx_requests: requests nginx has handled so far (this query included).
nginx_requests() { python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$STATUS_PORT/status').read().decode().split()[9])"; }
sink_ticks() { awk '{ print $14 + $15 }' "/proc/$NGINX_PID/stat"; }

# ---- Fluent Bit ------------------------------------------------------------------------------------------------
# fluent_bit OUTPUT RUN: OUTPUT is http (https to nginx) or null.
fluent_bit() {
    local output=$1 run=$2 dir port; dir=$(mktemp -d "$WORK/fb.XXXXXX"); port=$(free_port)
    mkdir -p "$dir/state"
    cat > "$dir/parsers.conf" <<EOF
[PARSER]
    Name        json_ts
    Format      json
    Time_Key    ts
    Time_Format %Y-%m-%dT%H:%M:%S.%LZ
    Time_Keep   On
EOF
    local out_section
    if [ "$output" = http ]; then
        out_section="[OUTPUT]
    Name           http
    Match          *
    Host           127.0.0.1
    Port           $TLS_PORT
    URI            /
    Format         json
    json_date_key  false
    tls            On
    tls.verify     On
    tls.ca_file    $CA"
    else
        out_section="[OUTPUT]
    Name  null
    Match *"
    fi
    cat > "$dir/fluent-bit.conf" <<EOF
[SERVICE]
    Log_Level    warn
    Parsers_File $dir/parsers.conf
    HTTP_Server  On
    HTTP_Listen  127.0.0.1
    HTTP_Port    $port

[INPUT]
    Name           tail
    Path           $PLAIN
    Read_from_Head On
    DB             $dir/state/tail.db
    Parser         json_ts

$out_section
EOF
    chmod 0755 "$dir"; chmod 0644 "$dir"/*.conf; own "$dir/state"
    local load requests0 ticks0 t0
    sync; load=$(cut -d' ' -f1 /proc/loadavg); requests0=$(nginx_requests); ticks0=$(sink_ticks)
    t0=$(date +%s.%N)
    $TIME -f '%e %U %S %M' -o "$dir/time" "${AS_USER[@]}" "$OUT/bin/fluent-bit" -c "$dir/fluent-bit.conf" \
        > "$dir/stdout" 2> "$dir/stderr" &
    FB_PID=$!
    local rc=0
    python3 "$BENCH/lib.py" fbwait "http://127.0.0.1:$port/api/v1/metrics" "$output.0" "$LINES" "$t0" 600 \
        > "$dir/wait.json" || rc=$?
    # FB_PID is /usr/bin/time's; signal Fluent Bit itself (time's child) so time still reports.
    kill -TERM "$(pgrep -P "$FB_PID")" 2>/dev/null || true
    wait "$FB_PID" || true; FB_PID=
    local requests=0 ticks1; ticks1=$(sink_ticks)
    [ "$output" = http ] && requests=$(( $(nginx_requests) - requests0 - 1 ))
    python3 "$BENCH/lib.py" record "$RESULTS" plain "fluent-bit-$output" "$run" "$dir/time" /dev/null "$rc" \
        "$((ticks1 - ticks0))" "$load" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$dir/wait.json")" \
        "$requests" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$dir/wait.json")"
    cp "$dir/wait.json" "$OUT/fluent-bit-$output-$run.metrics.json"
    if [ $rc != 0 ] || [ -s "$dir/stderr" ]; then cp "$dir/stderr" "$OUT/fluent-bit-$output-$run.stderr"; fi
    rm -rf "$dir"
}

# ---- personalize-tail, as run.sh's `plain` over https ------------------------------------------------------------
personalize_tail() {
    local run=$1 state; state=$(mktemp -d "$WORK/state.XXXXXX")
    python3 "$BENCH/lib.py" render "$BENCH/config.json" "$state/config.json" "$URL" "$state/state" "$PLAIN" "" "$CA"
    own "$state"
    local load rc=0 ticks0 ticks1 requests0
    sync; load=$(cut -d' ' -f1 /proc/loadavg); requests0=$(nginx_requests); ticks0=$(sink_ticks)
    $TIME -f '%e %U %S %M' -o "$state/time" "${AS_USER[@]}" "$OUT/bin/personalize-tail" run --once \
        --config "$state/config.json" > /dev/null 2> "$state/stderr" || rc=$?
    ticks1=$(sink_ticks)
    python3 "$BENCH/lib.py" record "$RESULTS" plain personalize-tail "$run" "$state/time" "$state/stderr" "$rc" \
        "$((ticks1 - ticks0))" "$load" "" "$(( $(nginx_requests) - requests0 - 1 ))"
    [ $rc != 0 ] && cp "$state/stderr" "$OUT/personalize-tail-$run.stderr"
    rm -rf "$state"
}

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(cd "$ROOT" && git rev-parse --short HEAD)"
    echo "uname: $(uname -a)"
    echo "nproc: $(nproc)   cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "fluent-bit: $("$OUT/bin/fluent-bit" --version 2>/dev/null | head -1) ($FLUENT_BIT)"
    echo "personalize-tail: $("$OUT/bin/personalize-tail" --version)"
    echo "user: $([ ${#AS_USER[@]} -gt 0 ] && echo "uid/gid 65534 through setpriv, no capabilities" || id -un)"
    echo "workload: $PLAIN ($LINES lines, $(( $(stat -c %s "$PLAIN") / LINES )) bytes/line avg); runs $RUNS; sink nginx https $URL"
} | tee "$OUT/machine.txt" >&2

for run in $(seq "$RUNS"); do
    fluent_bit http "$run"
    personalize_tail "$run"
    fluent_bit null "$run"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt" >&2
echo >&2
{ cat "$OUT/machine.txt"; echo; python3 "$BENCH/lib.py" report "$RESULTS"; } | tee "$OUT/report.md"
echo >&2
echo "results: $OUT" >&2
