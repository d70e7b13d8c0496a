#!/usr/bin/env bash
# Fetch benchmark: mailer against mbsync and against the server's own pace, in one run,
# on one private mail stack. Not part of CI; run by hand:
#
#   bench/fetch.sh [N] [RTT] [RUNS]  # N messages, default 10000 (~70 KB each); RTT
#                                    # in ms, default 0: through bench/delay_proxy.rs
#                                    # when set; RUNS of each, default 5: medians
#
# Prints wall time and peak RSS of:
#   raw     one `UID FETCH 1:* BODY.PEEK[]` over IMAPS, bodies discarded (Python imaplib)
#   mailer  `mailer fetch --inbox` into an empty Maildir (durable: batched syncfs)
#   mbsync  isync into an empty Maildir with its default FSync on
# and `mailer list --limit 50` (best of 10, after the server caches are warm).
# BENCH_KEEP=DIR keeps the run's folders (moved into DIR) instead of deleting them, so
# that a run straight after does not find ext4 slowed by the deletion (see common.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
rtt=${2:-0}
runs=${3:-5}

# shellcheck source=bench/common.sh
source bench/common.sh
need isync mbsync

echo "seeding $n messages ..."
tests/mailstack.sh seed "$stack" carol "$n" >/dev/null
size=$(du -sm "$(tests/mailstack.sh maildir "$stack" carol)" | cut -f1)

raw_fetch() {
    python3 - "$IMAPS_PORT" "$CA_FILE" <<'PY'
import imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
m = imaplib.IMAP4_SSL("localhost", int(sys.argv[1]), ssl_context=ctx)
m.login("carol@example.test", "carolpw")
m.select("INBOX", readonly=True)
typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
assert typ == "OK"
m.logout()
PY
}

echo "warming the server's caches ..."
raw_fetch
raw_fetch

if [[ $rtt -gt 0 ]]; then
    IMAPS_PORT=$(delay_proxy $((rtt / 2)) "$IMAPS_PORT")
    echo "through a delay proxy: $rtt ms round-trip time"
fi

echo "waiting for the filesystem to settle, if it must ..."
settled=$(settle_filesystem)
state=$(machine_state)
export -f raw_fetch
export IMAPS_PORT CA_FILE
raw_all=() mailer_all=() mbsync_all=() mailer_mb=0 raw_mb=0 mbsync_mb=0
for run in $(seq 1 "$runs"); do
    dir=$work/run$run
    configure_clients "$dir"
    # The order turns each run, so that none of the three always goes first.
    for who in $(python3 -c "w=['raw','mailer','mbsync']; r=$run % 3; print(' '.join(w[r:]+w[:r]))"); do
        case $who in
        raw) read -r s mb < <(measure bash -c raw_fetch) ;;
        *) read -r s mb < <(measure_client "$who" "$dir") ;;
        esac
        record "$who" "$s" "$mb"
    done
    stored_mailer=$(find "$dir/mailer-mail/new" "$dir/mailer-mail/cur" -type f | wc -l)
    stored_mbsync=$(find "$dir/mbsync-mail/INBOX/new" "$dir/mbsync-mail/INBOX/cur" -type f | wc -l)
    [[ $stored_mailer -eq $n && $stored_mbsync -eq $n ]] ||
        { echo "bench: run $run stored $stored_mailer (mailer) and $stored_mbsync (mbsync) of $n" >&2; exit 1; }
    # Kept until the end: files deleted in the last half minute slow ext4's choice of
    # inodes for new ones, which would weigh on whichever client comes next.
done
raw_s=$(median "${raw_all[@]}")
mailer_s=$(median "${mailer_all[@]}")
mbsync_s=$(median "${mbsync_all[@]}")
cp "$dir/mailer.toml" "$work/mailer.toml"

# list --limit 50: the whole command, and the part after the TLS handshake (from the
# timestamps of mailer's own -vv log), best of 10 each.
read -r best_list best_after_tls < <(python3 - "$mailer" "$work/mailer.toml" <<'PY'
import re, subprocess, sys, time
whole, after = [], []
for _ in range(10):
    t = time.perf_counter()
    r = subprocess.run([sys.argv[1], "-c", sys.argv[2], "-vv", "list", "--limit", "50"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    whole.append(time.perf_counter() - t)
    stamps = {}
    for line in r.stderr.splitlines():
        m = re.search(r"([0-9.]+)s\S*\s+\S*(?:DEBUG|INFO)\S*\s+(.*)", line)
        if m:
            stamps[m.group(2)[:12]] = float(m.group(1))
    tls = next(v for k, v in stamps.items() if k.startswith("TLS establis"))
    done = next(v for k, v in stamps.items() if k.startswith("listed"))
    after.append(done - tls)
print(f"{min(whole) * 1000:.0f} {min(after) * 1000:.0f}")
PY
)

echo
echo "fetch of $n messages ($size MB in the server's Maildir), IMAPS on loopback, $rtt ms RTT;"
echo "medians of $runs alternating runs, each into an empty folder"
printf '%-8s %9s %9s %10s\n' "" "wall (s)" "RSS (MB)" "stored"
printf '%-8s %9s %9s %10s\n' raw "$raw_s" "$raw_mb" "-"
printf '%-8s %9s %9s %10s\n' mailer "$mailer_s" "$mailer_mb" "$stored_mailer"
printf '%-8s %9s %9s %10s\n' mbsync "$mbsync_s" "$mbsync_mb" "$stored_mbsync"
echo "all runs (s): raw ${raw_all[*]}; mailer ${mailer_all[*]}; mbsync ${mbsync_all[*]}"
echo
echo "$settled"
echo "$state"
echo "mailer / mbsync wall time: $(ratio "$mailer_s" "$mbsync_s")   (target <= 0.40 at 50 ms RTT)"
echo "mailer / raw wall time:    $(ratio "$mailer_s" "$raw_s")"
echo "mailer peak RSS:           ${mailer_mb} MB   (target <= 64)"
# The 50 ms target is for a server on loopback: with a delay, one round trip is the RTT.
list_target="target <= 50"
[[ $rtt -gt 0 ]] && list_target="no target at $rtt ms RTT: at least one round trip"
echo "mailer list --limit 50:    ${best_after_tls} ms after the TLS handshake ($list_target); ${best_list} ms for the whole command; best of 10"
