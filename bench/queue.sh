#!/usr/bin/env bash
# Batch submission benchmark, in one run on one private mail stack. Not part of CI:
#
#   bench/queue.sh [N]        # N messages, default 1000
#
# Times `mailer queue flush` sending N queued messages over one connection (STARTTLS
# submission with AUTH) beside N runs of msmtp, one message each, same server.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}

# shellcheck source=bench/common.sh
source bench/common.sh
need msmtp msmtp

account() {  # PORT
    cat <<TOML
[accounts.alice]
email = "alice@example.test"
password = "alicepw"
[accounts.alice.smtp]
host = "localhost"
port = $1
security = "starttls"
ca_file = "$CA_FILE"
TOML
}
# Queue N messages by sending them while the account points at a closed port.
account 1 >"$work/down.toml"
account "$SUBMISSION_PORT" >"$work/up.toml"
chmod 600 "$work/down.toml" "$work/up.toml"
echo "queueing $n messages ..."
for i in $(seq 1 "$n"); do
    "$mailer" -c "$work/down.toml" send --to bob@example.test --subject "queued $i" \
        --body "message $i of the batch" 2>/dev/null && { echo "bench: not queued" >&2; exit 1; }
done

cat >"$work/msmtprc" <<RC
account alice
host localhost
port $SUBMISSION_PORT
tls on
tls_starttls on
tls_trust_file $CA_FILE
auth plain
user alice@example.test
password alicepw
from alice@example.test
account default : alice
RC
chmod 600 "$work/msmtprc"

start=$(date +%s.%N)
"$mailer" -c "$work/up.toml" queue flush || echo "bench: some messages were not sent" >&2
mailer_s=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
left=$("$mailer" -c "$work/up.toml" queue list | wc -l)

start=$(date +%s.%N)
for i in $(seq 1 "$n"); do
    printf 'To: bob@example.test\nSubject: msmtp %s\n\nmessage %s of the batch\n' "$i" "$i" |
        msmtp -C "$work/msmtprc" -t
done
msmtp_s=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")

echo
echo "submission of $n messages over STARTTLS + AUTH, loopback"
printf '%-24s %9s\n' "" "wall (s)"
printf '%-24s %9s   (%s left in the queue)\n' "mailer queue flush" "$mailer_s" "$left"
printf '%-24s %9s\n' "msmtp, one run each" "$msmtp_s"
echo
echo "mailer / msmtp: $(python3 -c "print(f'{$mailer_s / $msmtp_s:.3f}')")   (target <= 0.20)"
