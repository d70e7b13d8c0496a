#!/usr/bin/env bash
# The README's quick start: install the mail servers, build mailer, start a private mail
# stack on loopback, send a message from alice to bob through Postfix, fetch it back over
# IMAP into bob's Maildir, and show it. The stack is stopped at the end; pass --keep to leave it running
# (its config and ports are printed) and stop it later with
#   tests/mailstack.sh stop target/quickstart/stack
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false
[[ ${1:-} == --keep ]] && keep=true

if ! command -v cargo >/dev/null; then
    echo "quickstart: Rust's cargo is not on PATH; install a Rust toolchain (rustup) first" >&2
    exit 69
fi
if [[ $(id -u) -eq 0 ]]; then
    tests/mailstack.sh install
fi

# CI runs this script after the test suite with MAILER_PROFILE=dev, reusing its build.
profile=${MAILER_PROFILE:-release}
echo "== building mailer ($profile)"
cargo build --profile "$profile" --locked
if [[ $profile == dev ]]; then
    mailer=target/debug/mailer
else
    mailer=target/$profile/mailer
fi

work=$PWD/target/quickstart
stack=$work/stack
mkdir -p "$work"
echo "== starting the mail stack in $stack"
tests/mailstack.sh start "$stack" >/dev/null
$keep || trap 'tests/mailstack.sh stop "$stack" >/dev/null' EXIT
# shellcheck disable=SC1091
source "$stack/stack.env"

config=$work/mailer.toml
export XDG_STATE_HOME=$work/state
rm -rf "$work/bob-mail" "$XDG_STATE_HOME"
cat >"$config" <<TOML
default_account = "alice"

[accounts.alice]
email = "alice@example.test"
name = "Alice"
password_command = "echo alicepw"
maildir = "$work/alice-mail"

[accounts.alice.smtp]
host = "localhost"
port = $SUBMISSION_PORT
security = "starttls"
ca_file = "$CA_FILE"

[accounts.bob]
email = "bob@example.test"
name = "Bob"
password_command = "echo bobpw"
maildir = "$work/bob-mail"

[accounts.bob.smtp]
host = "localhost"
port = $SUBMISSIONS_PORT
security = "tls"
ca_file = "$CA_FILE"

[accounts.bob.imap]
host = "localhost"
port = $IMAPS_PORT
security = "tls"
ca_file = "$CA_FILE"
TOML
chmod 600 "$config"

echo "== alice sends bob a message over SMTP submission (STARTTLS + AUTH)"
printf 'Hello Bob,\n\nthe quarterly numbers are attached.\n你好！\n' >"$work/body.txt"
printf 'quarter,revenue\nQ3,1024\n' >"$work/季度报告.csv"
set -x
id=$("$mailer" -c "$config" -a alice send --to "Bob <bob@example.test>" \
    --subject "周报: quarterly numbers" --body-file "$work/body.txt" --attach "$work/季度报告.csv")
{ set +x; } 2>/dev/null
echo "sent $id"

echo "== bob fetches his inbox over IMAP into his Maildir (polling until the message is there)"
found=
for _ in $(seq 1 100); do
    out=$("$mailer" -c "$config" -a bob --json fetch --inbox)
    if grep -qF "\"message_id\":\"$id\"" <<<"$out"; then
        found=$(python3 -c 'import json,sys; m=[x for x in json.load(sys.stdin) if x["message_id"]==sys.argv[1]][0]; print(m["path"])' "$id" <<<"$out")
        break
    fi
    sleep 0.2
done
if [[ -z $found ]]; then
    echo "quickstart: the message did not arrive within 20 s; see $stack/log" >&2
    exit 1
fi
echo "== stored in bob's Maildir: $found"
set -x
"$mailer" -c "$config" -a bob read --file "$found"
{ set +x; } 2>/dev/null
echo
echo "quick start done: mailer sent a message through Postfix, Dovecot delivered it, and mailer fetched it back."
if $keep; then
    echo "the stack is still running; config: $config; stop it with: tests/mailstack.sh stop $stack"
fi
exit 0
