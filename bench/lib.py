#!/usr/bin/env python3
"""Helpers for bench/run.sh: render a config, record one measured run, latency percentiles, the medians table."""
import json
import re
import statistics
import sys


def render(template, out, endpoint, state, paths, concurrency, ca_bundle=""):
    text = open(template).read()
    text = text.replace("@ENDPOINT@", endpoint).replace("@STATE@", state).replace("@PATHS@", paths)
    config = json.loads(text)
    if concurrency:
        config["aws"]["maxConcurrentRequests"] = int(concurrency)
    if ca_bundle and endpoint.startswith("https://"):
        config["aws"]["caBundle"] = ca_bundle
    json.dump(config, open(out, "w"), indent=2)


def summary_fields(stderr_path):
    """Counters from personalize-tail's last `summary` line (read=, sent=, requests=, ...)."""
    fields = {}
    try:
        for line in open(stderr_path, errors="replace"):
            if "summary" in line:
                fields = {k: v for k, v in re.findall(r"(\w+)=([\w.]+)", line)}
    except FileNotFoundError:
        pass
    return fields


def record(results, scenario, sink, run, time_file, stderr_path, rc, sink_ticks, load, events_override,
           requests_override="", wall_override=""):
    """Appends one run to results.jsonl. time_file holds `/usr/bin/time -f '%e %U %S %M'` output; the overrides
    (from bench/fluent-bit.sh) replace the summary's requests and /usr/bin/time's wall seconds."""
    lines = [l for l in open(time_file).read().splitlines() if re.match(r"^[\d.]+ [\d.]+ [\d.]+ \d+$", l)]
    wall, user, sys_, rss_kb = lines[-1].split()
    fields = summary_fields(stderr_path)
    events = int(events_override) if events_override else int(fields.get("sent", 0))
    row = {
        "scenario": scenario, "sink": sink, "run": int(run), "rc": int(rc),
        "wall": float(wall_override or wall), "cpu": float(user) + float(sys_), "user": float(user), "sys": float(sys_),
        "rss_mib": int(rss_kb) / 1024.0, "events": events,
        "requests": int(requests_override) if requests_override else int(fields.get("requests", 0) or 0), "retries": int(fields.get("retries", 0) or 0),
        "dead_lettered": int(fields.get("dead_lettered", 0) or 0),
        "sink_cpu": int(sink_ticks) / 100.0 if sink_ticks not in ("", "-") else None,
        "load": float(load),
    }
    with open(results, "a") as f:
        f.write(json.dumps(row) + "\n")
    print("  %-14s %-8s run %s: rc=%d events=%d wall=%.2fs cpu=%.2fs rss=%.1fMiB requests=%d dl=%d load=%.2f"
          % (scenario, sink, run, row["rc"], events, row["wall"], row["cpu"], row["rss_mib"], row["requests"],
             row["dead_lettered"], row["load"]), file=sys.stderr)


def latency(log_path, out_json, sent):
    """Percentiles of (first seen accepted by the stand-in) - (appended by the generator), in ms."""
    values = []
    pattern = re.compile(r'tsNs\\*"\s*:\s*\\*"(\d+)')
    for line in open(log_path, errors="replace"):
        stamp, _, rest = line.partition("\t")
        m = pattern.search(rest)
        if m and stamp.isdigit():
            values.append((int(stamp) - int(m.group(1))) / 1e6)
    values.sort()

    def pct(p):
        return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))] if values else float("nan")

    result = {"received": len(values), "appended": int(sent), "p50": pct(50), "p90": pct(90), "p99": pct(99),
              "max": values[-1] if values else float("nan")}
    json.dump(result, open(out_json, "w"))
    print("  latency: received %(received)d of %(appended)d  p50 %(p50).1f ms  p90 %(p90).1f ms  "
          "p99 %(p99).1f ms  max %(max).1f ms" % result, file=sys.stderr)


def fbwait(url, output, want, t0, timeout):
    """Polls Fluent Bit's /api/v1/metrics every 50 ms until output OUTPUT (e.g. "http.0") has processed WANT
    records (or failed the rest); prints the records, the seconds since T0 (epoch seconds) and the metrics."""
    import time
    import urllib.request
    want, t0, deadline = int(want), float(t0), time.time() + float(timeout)
    metrics, records = {}, 0
    while time.time() < deadline:
        try:
            metrics = json.loads(urllib.request.urlopen(url, timeout=2).read())
        except (OSError, ValueError):
            metrics = metrics or {}
        out = metrics.get("output", {}).get(output, {})
        records = int(out.get("proc_records", 0))
        failed = int(out.get("dropped_records", 0)) + int(out.get("retries_failed", 0))
        if records + failed >= want:
            print(json.dumps({"records": records, "seconds": round(time.time() - t0, 3), "metrics": metrics}))
            return 0 if records >= want else 2
        time.sleep(0.05)
    print(json.dumps({"records": records, "seconds": round(time.time() - t0, 3), "metrics": metrics,
                      "timeout": True}))
    return 1


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def report(results, latency_files):
    rows = [json.loads(l) for l in open(results)] if results else []
    groups = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["sink"]), []).append(r)
    print("| scenario | sink | runs | events | events/s | CPU-s per M events | peak RSS MiB | sink CPU-s per M "
          "| requests | wall s | load avg |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (scenario, sink), rs in groups.items():
        ok = [r for r in rs if r["rc"] == 0] or rs
        events = median([r["events"] for r in ok])
        wall = median([r["wall"] for r in ok])
        rate = median([r["events"] / r["wall"] if r["wall"] else 0 for r in ok])
        cpu_m = median([r["cpu"] / r["events"] * 1e6 if r["events"] else None for r in ok])
        sink_m = median([r["sink_cpu"] / r["events"] * 1e6 if r["events"] and r["sink_cpu"] is not None else None
                         for r in ok])
        fmt = lambda v, f: (f % v) if v is not None else "-"
        failed = len(rs) - len([r for r in rs if r["rc"] == 0])
        print("| %s | %s | %d%s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            scenario, sink, len(rs), (" (%d failed)" % failed) if failed else "", fmt(events, "%d"),
            "{:,.0f}".format(rate) if rate else "-",
            fmt(cpu_m, "%.2f"), fmt(median([r["rss_mib"] for r in ok]), "%.1f"), fmt(sink_m, "%.2f"),
            fmt(median([r["requests"] for r in ok]), "%d"), fmt(wall, "%.2f"),
            fmt(median([r["load"] for r in ok]), "%.2f")))
    for path in latency_files:
        try:
            runs = [json.loads(l) for l in open(path)]
        except FileNotFoundError:
            continue
        if not runs:
            continue
        print()
        print("| live latency (append -> accepted by sink) | runs | received/appended | p50 ms | p90 ms | p99 ms | max ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        print("| %s | %d | %d/%d | %.1f | %.1f | %.1f | %.1f |" % (
            path.rsplit("/", 1)[-1].replace(".jsonl", ""), len(runs),
            median([r["received"] for r in runs]), median([r["appended"] for r in runs]),
            median([r["p50"] for r in runs]), median([r["p90"] for r in runs]),
            median([r["p99"] for r in runs]), median([r["max"] for r in runs])))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "render":
        render(*args)
    elif command == "record":
        record(*args)
    elif command == "fbwait":
        sys.exit(fbwait(*args))
    elif command == "latency":
        latency(*args)
    elif command == "report":
        report(args[0] if args else None, args[1:])
    else:
        sys.exit("unknown command " + command)
