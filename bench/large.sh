#!/usr/bin/env bash
# One large message: mailer's peak memory and time to fetch it, beside mbsync's, in one
# run on one private mail stack. Not part of CI; run by hand, as root:
#
#   bench/large.sh [MB] [RUNS]   # a message of about MB megabytes (default 205), a
#                                # base64 attachment of random bytes; RUNS of each,
#                                # default 3, alternating: medians, and the peak RSS
#
# The target is mailer's peak RSS at most 64 MB whatever the size of one message: over
# IMAP a message larger than 8 MiB comes in pieces, each written to the Maildir's tmp/
# file as it comes. BENCH_KEEP=DIR keeps the run's folders (see common.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-205}
runs=${2:-3}

# shellcheck source=bench/common.sh
source bench/common.sh
need isync mbsync

# The message goes straight into carol's Maildir, as Dovecot's LMTP would put it there.
inbox=$(tests/mailstack.sh maildir "$stack" carol)
mkdir -p "$inbox/tmp" "$inbox/new"
python3 - "$inbox" "$mb" <<'PY'
import base64, os, sys
inbox, mb = sys.argv[1], int(sys.argv[2])
name = "large.bench"
tmp = os.path.join(inbox, "tmp", name)
with open(tmp, "wb") as f:
    f.write(b"From: Bench <bench@example.test>\r\nTo: carol@example.test\r\n"
            b"Subject: one large message\r\nMessage-ID: <large.bench@example.test>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
            b"--b\r\nContent-Type: text/plain\r\n\r\nThe attachment is random bytes.\r\n"
            b"--b\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"random.bin\"\r\n\r\n")
    block = base64.encodebytes(os.urandom(57 << 10)).replace(b"\n", b"\r\n")
    for _ in range(max(1, mb * 10**6 // len(block))):
        f.write(block)
    f.write(b"--b--\r\n")
os.rename(tmp, os.path.join(inbox, "new", name))
PY
chown -R --reference="$inbox" "$inbox"
size=$(($(stat -c %s "$inbox/new/large.bench") / 1000000))

state=$(machine_state)
export IMAPS_PORT CA_FILE
mailer_all=() mbsync_all=() mailer_mb=0 mbsync_mb=0
for run in $(seq 1 "$runs"); do
    dir=$work/run$run
    configure_clients "$dir"
    order="mailer mbsync"
    [[ $((run % 2)) -eq 0 ]] && order="mbsync mailer"
    for who in $order; do
        read -r s m < <(measure_client "$who" "$dir")
        record "$who" "$s" "$m"
    done
    stored=$(find "$dir/mailer-mail/new" "$dir/mailer-mail/cur" -type f -size +$((size / 4))M | wc -l)
    [[ $stored -eq 1 ]] || { echo "bench: run $run: mailer did not store the message" >&2; exit 1; }
done

echo
echo "fetch of one ${size} MB message over IMAPS on loopback; medians of $runs alternating runs"
printf '%-8s %9s %14s\n' "" "wall (s)" "peak RSS (MB)"
printf '%-8s %9s %14s\n' mailer "$(median "${mailer_all[@]}")" "$mailer_mb"
printf '%-8s %9s %14s\n' mbsync "$(median "${mbsync_all[@]}")" "$mbsync_mb"
echo "all runs (s): mailer ${mailer_all[*]}; mbsync ${mbsync_all[*]}"
echo
echo "$state"
echo "mailer peak RSS: ${mailer_mb} MB   (target <= 64 whatever the size of one message)"
