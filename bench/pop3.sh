#!/usr/bin/env bash
# POP3 fetch benchmark, in one run on one private mail stack. Not part of CI; by hand:
#
#   bench/pop3.sh [N]        # N messages, default 10000 (~70 KB each)
#
# Prints wall time and peak RSS, over POP3S, of:
#   poplib     a one-command-at-a-time RETR loop (Python's poplib), bodies discarded
#   mailer     `mailer fetch --inbox` into an empty Maildir (durable, pipelined RETR)
#   fetchmail  `fetchmail -k` (keep) handing each message to an MDA that discards it
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}

# shellcheck source=bench/common.sh
source bench/common.sh
need fetchmail fetchmail
echo "seeding $n messages ..."
tests/mailstack.sh seed "$stack" carol "$n" >/dev/null
size=$(du -sm "$(tests/mailstack.sh maildir "$stack" carol)" | cut -f1)

cat >"$work/retr_loop.py" <<'PY'
import poplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
p = poplib.POP3_SSL("localhost", int(sys.argv[1]), context=ctx)
p.user("carol@example.test")
p.pass_("carolpw")
count, _ = p.stat()
for i in range(1, count + 1):
    p.retr(i)
p.quit()
PY

cat >"$work/mailer.toml" <<TOML
[accounts.carol]
email = "carol@example.test"
password = "carolpw"
maildir = "$work/mailer-mail"
[accounts.carol.pop3]
host = "localhost"
port = $POP3S_PORT
ca_file = "$CA_FILE"
TOML
chmod 600 "$work/mailer.toml"

cat >"$work/fetchmailrc" <<RC
poll localhost protocol POP3 port $POP3S_PORT
  user "carol@example.test" password "carolpw"
  ssl sslcertck sslcertfile "$CA_FILE"
  keep fetchall mda "cat >/dev/null"
RC
chmod 600 "$work/fetchmailrc"

echo "warming the server's caches ..."
python3 "$work/retr_loop.py" "$POP3S_PORT" "$CA_FILE"

state=$(machine_state)
read -r poplib_s poplib_mb < <(measure python3 "$work/retr_loop.py" "$POP3S_PORT" "$CA_FILE")
read -r mailer_s mailer_mb < <(measure env XDG_STATE_HOME="$work/state" "$mailer" -c "$work/mailer.toml" fetch --inbox)
read -r fm_s fm_mb < <(measure env HOME="$work" fetchmail -f "$work/fetchmailrc" --nodetach --pidfile "$work/fetchmail.pid" -s)
stored=$(find "$work/mailer-mail/new" "$work/mailer-mail/cur" -type f | wc -l)

echo
echo "POP3S retrieval of $n messages ($size MB in the server's Maildir), loopback"
printf '%-10s %9s %9s\n' "" "wall (s)" "RSS (MB)"
printf '%-10s %9s %9s\n' poplib "$poplib_s" "$poplib_mb"
printf '%-10s %9s %9s   (%s stored)\n' mailer "$mailer_s" "$mailer_mb" "$stored"
printf '%-10s %9s %9s\n' fetchmail "$fm_s" "$fm_mb"
echo
echo "$state"
echo "mailer / poplib RETR loop: $(ratio "$mailer_s" "$poplib_s")   (target <= 0.50)"
echo "mailer / fetchmail:        $(ratio "$mailer_s" "$fm_s")"
echo "mailer peak RSS:           ${mailer_mb} MB   (target <= 64)"
