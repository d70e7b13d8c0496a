#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the mail servers the tests start
# (Postfix, Dovecot) when they are missing and unpacks Cyrus IMAP for the interop
# tests, checks formatting and lints, then runs every test against private servers
# on loopback, then the quick start.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -eq 0 ]]; then
    tests/mailstack.sh install
    tests/cyrus.sh install
elif ! command -v postfix >/dev/null && [[ ! -x /usr/sbin/postfix ]]; then
    echo "tests/run.sh: Postfix and Dovecot are missing: run 'sudo tests/mailstack.sh install' first" >&2
    exit 69
fi

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
# The README's first command must keep working and end with exit status 0.
MAILER_PROFILE=dev tests/quickstart.sh
