#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the mail servers the tests start
# (Postfix, Dovecot) when they are missing, unpacks Cyrus IMAP and Exim for the
# interop tests, installs GNOME Keyring (a Secret Service for the keyring tests), dnsmasq
# (a DNS server for the SRV tests), Chromium (to render the digest at a phone's width),
# Python 3 (whose email package the corpus test compares with) and the OAuth2
# authorization server (oidc-provider, from npm), checks formatting and lints, then
# runs every test against private servers on loopback, builds and tries the Debian
# package (as root), then the quick start.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -eq 0 ]]; then
    tests/mailstack.sh install
    tests/cyrus.sh install
    tests/exim.sh install
    # GNOME Keyring and D-Bus for the keyring tests, dnsmasq for the SRV lookups.
    # Chromium and the Noto CJK fonts render the digest at a phone's width.
    if [[ ! -x /usr/bin/gnome-keyring-daemon || ! -x /usr/bin/dbus-send || ! -x /usr/sbin/dnsmasq ||
        ! -x /usr/bin/chromium || ! -d /usr/share/fonts/opentype/noto ]]; then
        extras=(gnome-keyring dbus-daemon dbus-bin dnsmasq-base chromium fonts-noto-cjk)
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends "${extras[@]}" >/dev/null ||
            { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${extras[@]}" >/dev/null; }
    fi
    # Python's email package, which the corpus test compares mailer's reading with.
    if ! command -v python3 >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 >/dev/null
    fi
elif ! command -v postfix >/dev/null && [[ ! -x /usr/sbin/postfix ]]; then
    echo "tests/run.sh: Postfix and Dovecot are missing: run 'sudo tests/mailstack.sh install' first" >&2
    exit 69
fi

tests/oauth-server.sh install

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
# The Debian package: built with cargo-deb, installed with dpkg, tried, removed.
if [[ $(id -u) -eq 0 ]]; then
    PROFILE=dev tests/deb.sh
fi
# The README's first command must keep working and end with exit status 0.
MAILER_PROFILE=dev tests/quickstart.sh
