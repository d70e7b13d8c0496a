#!/usr/bin/env bash
# The cut-point sweep of tests/cut_points.rs with many cut points. Not part of CI; run it
# by hand, as root (the test binary starts a private mail stack):
#
#   bench/cut-sweep.sh [POINTS]     # cut points per protocol, default 200
#
# Runs the same test binary as CI with MAILER_CUT_POINTS=POINTS and prints the summary
# table: per protocol the cut points tried, messages lost, messages duplicated (and how
# many of those fell where SMTP allows it: the server took the whole DATA and its reply
# was lost), the exit codes of the cut runs, and the problems found. Then the problems by
# kind, and where the full log is: each problem there names the protocol, the direction,
# N, the phase of the session and what both runs printed on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
points=${1:-200}
[[ $points =~ ^[0-9]+$ && $points -gt 0 ]] || {
    echo "usage: bench/cut-sweep.sh [POINTS]" >&2
    exit 64
}
if [[ $(id -u) -ne 0 ]]; then
    echo "bench: run this as root: the sweep starts a private Postfix and Dovecot" >&2
    exit 77
fi
tests/mailstack.sh install

log=$(mktemp /tmp/mailer-cut-sweep.XXXXXX)
start=$SECONDS
status=0
MAILER_CUT_POINTS=$points cargo test --locked --test cut_points -- --nocapture \
    >"$log" 2>&1 || status=$?
took=$((SECONDS - start))

echo "cut-point sweep: $points cut points per protocol, $took s"
echo
grep -m 1 '^cut-sweep: | protocol' "$log" | sed 's/^cut-sweep: //' ||
    { echo "bench: the sweep printed no summary; see $log" >&2; exit 1; }
echo "| --- | ---: | ---: | ---: | ---: | --- | ---: |"
grep '^cut-sweep: |' "$log" | grep -v '^cut-sweep: | protocol' | sed 's/^cut-sweep: //' | sort

allowed=$(grep -A1 -E '^cut-sweep: [^|]+: cut ' "$log" | sed 's/^cut-sweep: //' || true)
if [[ -n $allowed ]]; then
    echo
    echo "duplicates SMTP allows (the server took the whole DATA and its reply was lost):"
    echo "$allowed" | grep -v '^--$'
fi

problems=$(grep -E '^[A-Za-z0-9 ()-]+: cut (client|server)->' "$log" || true)
if [[ -n $problems ]]; then
    echo
    echo "problems by kind (count, protocol: what):"
    sed -E 's/: cut [^ ]+ after [0-9]+ bytes \([^)]*\)//; s/"[^"]*"/"..."/g; s/<[^>]*>/<...>/g' \
        <<<"$problems" | sort | uniq -c | sort -rn
    echo
    echo "what the cut runs with a problem printed (count, message):"
    grep -A1 -E '^[A-Za-z0-9 ()-]+: cut (client|server)->' "$log" |
        sed -n 's/^    cut run: //p' |
        sed -E 's/localhost:[0-9]+/localhost:PORT/g; s/<[^>]*>/<...>/g' |
        sort | uniq -c | sort -rn
fi
echo
echo "full log: $log"
if ((status != 0)); then
    echo "the sweep failed (cargo test exit $status)"
fi
exit "$status"
