#!/usr/bin/env bash
# POP3 fetch benchmark, in one run on one private mail stack. Not part of CI; by hand:
#
#   bench/pop3.sh [N] [RTT] [RUNS]  # N messages, default 10000 (~70 KB each); RTT in
#                                   # ms, default 0: through bench/delay_proxy.rs when
#                                   # set; RUNS of each, default 1: medians
#
# Prints wall time and peak RSS, over POP3S, of:
#   poplib     a one-command-at-a-time RETR loop (Python's poplib), bodies discarded
#   mailer     `mailer fetch --inbox` into an empty Maildir (durable, pipelined RETR)
#   before     the same, by the mailer binary BENCH_BEFORE names (an earlier build), if set
#   fetchmail  `fetchmail -k` (keep) handing each message to an MDA that discards it
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
rtt=${2:-0}
runs=${3:-1}
before=${BENCH_BEFORE:-}
[[ -z $before || -x $before ]] || { echo "bench: BENCH_BEFORE=$before is not an executable" >&2; exit 66; }

# shellcheck source=bench/common.sh
source bench/common.sh
need fetchmail fetchmail
echo "seeding $n messages ..."
tests/mailstack.sh seed "$stack" carol "$n" >/dev/null
size=$(du -sm "$(tests/mailstack.sh maildir "$stack" carol)" | cut -f1)

retr_loop

echo "warming the server's caches ..."
python3 "$work/retr_loop.py" "$POP3S_PORT" "$CA_FILE"

if [[ $rtt -gt 0 ]]; then
    POP3S_PORT=$(delay_proxy $((rtt / 2)) "$POP3S_PORT")
    echo "through a delay proxy: $rtt ms round-trip time"
fi

# stored_in DIR: how many messages the Maildir DIR/mailer-mail holds.
stored_in() { find "$1/mailer-mail/new" "$1/mailer-mail/cur" -type f | wc -l; }

echo "waiting for the filesystem to settle, if it must ..."
settled=$(settle_filesystem)
state=$(machine_state)
clients=(poplib mailer fetchmail)
[[ -n $before ]] && clients=(poplib mailer before fetchmail)
poplib_all=() mailer_all=() before_all=() fetchmail_all=() poplib_mb=0 mailer_mb=0 before_mb=0 fetchmail_mb=0
for run in $(seq 1 "$runs"); do
    # The order turns each run, so that none always goes first.
    r=$((run % ${#clients[@]}))
    for who in "${clients[@]:r}" "${clients[@]:0:r}"; do
        dir=$work/run$run-$who
        pop3_clients "$dir"
        case $who in
        poplib) read -r s mb < <(measure python3 "$work/retr_loop.py" "$POP3S_PORT" "$CA_FILE") ;;
        mailer) read -r s mb < <(measure env XDG_STATE_HOME="$dir/state" "$mailer" -c "$dir/mailer.toml" fetch --inbox) ;;
        before) read -r s mb < <(measure env XDG_STATE_HOME="$dir/state" "$before" -c "$dir/mailer.toml" fetch --inbox) ;;
        fetchmail) read -r s mb < <(measure env HOME="$dir" fetchmail -f "$dir/fetchmailrc" --nodetach --pidfile "$dir/fetchmail.pid" -s) ;;
        esac
        record "$who" "$s" "$mb"
        if [[ $who == mailer || $who == before ]]; then
            got=$(stored_in "$dir")
            [[ $got -eq $n ]] || { echo "bench: run $run: $who stored $got of $n" >&2; exit 1; }
        fi
    done
done
poplib_s=$(median "${poplib_all[@]}")
mailer_s=$(median "${mailer_all[@]}")
fm_s=$(median "${fetchmail_all[@]}")

echo
echo "POP3S retrieval of $n messages ($size MB in the server's Maildir), loopback, $rtt ms RTT;"
echo "medians of $runs run(s) in turn, each into an empty Maildir with a fresh state"
printf '%-10s %9s %9s\n' "" "wall (s)" "RSS (MB)"
printf '%-10s %9s %9s\n' poplib "$poplib_s" "$poplib_mb"
printf '%-10s %9s %9s   (%s stored each run)\n' mailer "$mailer_s" "$mailer_mb" "$n"
if [[ -n $before ]]; then
    before_s=$(median "${before_all[@]}")
    printf '%-10s %9s %9s   (%s)\n' before "$before_s" "$before_mb" "$("$before" --version | head -n 1)"
fi
printf '%-10s %9s %9s\n' fetchmail "$fm_s" "$fetchmail_mb"
echo "all runs (s): poplib ${poplib_all[*]}; mailer ${mailer_all[*]}; fetchmail ${fetchmail_all[*]}${before:+; before ${before_all[*]}}"
echo
echo "$settled"
echo "$state"
echo "mailer / poplib RETR loop: $(ratio "$mailer_s" "$poplib_s")   (target <= 0.50)"
echo "mailer / fetchmail:        $(ratio "$mailer_s" "$fm_s")"
[[ -n $before ]] && echo "mailer / before:           $(ratio "$mailer_s" "$before_s")   (target <= 1: no slower)"
echo "mailer peak RSS:           ${mailer_mb} MB   (target <= 64)"
