#!/bin/sh
# cron-wrapper.sh: one catch-up run of personalize-tail from cron, with its exit status turned into log lines and
# alerts. No flock needed: the agent locks its state directory itself (a second run exits with status 5, or waits
# with --wait-lock).
#
# Environment (all optional):
#   PERSONALIZE_TAIL      the binary                     (default /usr/local/bin/personalize-tail)
#   PERSONALIZE_CONFIG    the configuration              (default /etc/personalize-tail/config.json)
#   PERSONALIZE_LOG       where this wrapper's lines and the agent's stderr go (default /var/log/personalize-tail/cron.log)
#   PERSONALIZE_ALERT     a command run with the alert text as its argument, e.g. "logger -p user.crit -t personalize-tail"
#                         or a script that posts to your pager (default: the text on stderr, which cron mails)
#   PERSONALIZE_LOCKED_ALERT_AFTER  alert when this many runs in a row found the lock held: a stuck run (default 3)
#   PERSONALIZE_WRAPPER_STATE  where the count of those runs is kept (default: beside the log, else $TMPDIR or /tmp)
set -u

BIN=${PERSONALIZE_TAIL:-/usr/local/bin/personalize-tail}
CONFIG=${PERSONALIZE_CONFIG:-/etc/personalize-tail/config.json}
LOG=${PERSONALIZE_LOG:-/var/log/personalize-tail/cron.log}

LOCKED_AFTER=${PERSONALIZE_LOCKED_ALERT_AFTER:-3}

# A log that cannot be written must not swallow the lines and alerts: they go to stderr (cron mails it) instead,
# and the alerts say where the log really is.
log_problem=""
if ! mkdir -p "$(dirname "$LOG")" 2>/dev/null || ! { : >>"$LOG"; } 2>/dev/null; then
    log_problem="cannot write the log $LOG (check the directory and its permissions); logging to stderr"
    LOG=/dev/stderr
fi
STATE=${PERSONALIZE_WRAPPER_STATE:-}
if [ -z "$STATE" ]; then
    if [ "$LOG" != /dev/stderr ]; then STATE="$(dirname "$LOG")/cron-wrapper.locked-runs"; else STATE="${TMPDIR:-/tmp}/personalize-tail-cron-wrapper.locked-runs"; fi
fi

log() {
    printf '%s cron-wrapper: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$LOG"
}

alert() {
    log "ALERT: $*"
    if [ -n "${PERSONALIZE_ALERT:-}" ]; then
        # shellcheck disable=SC2086 # the command is meant to be split into words
        $PERSONALIZE_ALERT "personalize-tail on $(hostname): $*" || log "the alert command failed"
    else
        echo "personalize-tail on $(hostname): $*" >&2
    fi
}

if [ -n "$log_problem" ]; then alert "$log_problem"; fi
log "start: $BIN run --once --config $CONFIG"
"$BIN" run --once --config "$CONFIG" 2>>"$LOG"
status=$?

# The exit codes are documented in README.md, "Exit codes".
case $status in
    0) log "done: everything read was delivered" ;;
    2) alert "configuration or credential error (exit 2); nothing more is delivered until it is fixed: see $LOG" ;;
    3) log "done, but some records were dead-lettered (exit 3): see the dead-letter file in the state directory" ;;
    4) log "stopped before everything was delivered (exit 4); the rest is sent on the next run" ;;
    5) log "another personalize-tail holds the state directory (exit 5); skipping this run" ;;
    *) alert "unexpected exit status $status (1 = internal error): see $LOG" ;;
esac

# Runs that keep finding the lock held mean a run that does not end (or a live agent on the same state directory).
locked=0
if [ "$status" -eq 5 ]; then
    locked=$(($(cat "$STATE" 2>/dev/null || echo 0) + 1))
    if [ "$locked" -ge "$LOCKED_AFTER" ]; then
        alert "$locked runs in a row found the state directory locked (exit 5): a run may be stuck; see $LOG for the holder's pid"
    fi
fi
echo "$locked" >"$STATE" 2>/dev/null || log "cannot write $STATE (the count of runs that found the lock held)"

# cron treats any output or non-zero status as news; only the statuses that need a person are reported as failures.
case $status in
    0 | 3 | 4 | 5) exit 0 ;;
    *) exit "$status" ;;
esac
