#!/usr/bin/env bash
# A private Exim 4.96 for mailer's interop tests: a second SMTP server beside the
# Postfix of mailstack.sh, taking submissions (AUTH PLAIN over TLS) and keeping
# them in its queue, where the tests read them.
#
# Debian's Exim packages conflict with Postfix (mail-transport-agent): apt-get
# install would remove it. So install only downloads and unpacks them into a cache
# under target/ (and installs the libraries they need, which conflict with
# nothing), and start runs the unpacked exim4 in a private mount namespace whose
# /etc/passwd and /etc/group also name the user Exim was built to run as. The real
# system is never changed.
set -euo pipefail

PATH="$PATH:/usr/sbin:/sbin"
export PATH

PROG=$0
# shellcheck source=tests/stack-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-common.sh"
HERE=$(cd "$(dirname "$0")" && pwd -P)
DOMAIN=example.test
TEST_USERS=(alice bob carol)
PACKAGES=(exim4-daemon-light exim4-base)
# SUBMISSION_PORT: STARTTLS; SUBMISSIONS_PORT: implicit TLS; BARE_PORT: implicit
# TLS with neither PIPELINING nor CHUNKING offered.
PORT_KEYS=(SUBMISSION_PORT SUBMISSIONS_PORT BARE_PORT)
READY_TIMEOUT=20
STOP_TIMEOUT=15

usage() {
    cat >&2 <<EOF
usage: $PROG COMMAND [ARGS]

A private Exim 4.96 for tests, run from Debian's packages in a private mount
namespace. Everything lives under DIR and listens on free 127.0.0.1 ports. Users
${TEST_USERS[*]} @$DOMAIN, passwords NAMEpw, log in with AUTH PLAIN; only a
client that logged in may send, and what it sends stays in Exim's queue.

commands:
  install      download and unpack Exim into target/exim (\$CARGO_TARGET_DIR/exim
               if set), installing the libraries it needs; does nothing when done
  start DIR    start Exim under DIR (needs root); writes DIR/exim.env, prints it
  stop DIR     stop the Exim in DIR; succeeds if none is running
  queued DIR   print the header files of the queued messages (DIR/spool/input/*-H)

ports, named as in exim.env: SUBMISSION_PORT (STARTTLS), SUBMISSIONS_PORT
(implicit TLS), BARE_PORT (implicit TLS, offering neither PIPELINING nor
CHUNKING). TLS clients verify the server against CA_FILE (a self-signed
certificate for localhost and 127.0.0.1). Exim's log: DIR/log/mainlog.
EOF
    exit 64
}

say() { printf 'exim: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

CACHE=$(abs_path "${CARGO_TARGET_DIR:-$(dirname "$HERE")/target}")/exim
ROOT=$CACHE/root
EXIM=$ROOT/usr/sbin/exim4

cmd_install() {
    if [[ -x $EXIM ]] && ! ldd "$EXIM" | grep -q 'not found'; then
        say "already unpacked in $ROOT"
        return 0
    fi
    command -v apt-get >/dev/null || die "install needs apt-get and dpkg-deb (Debian, Ubuntu)"
    ((EUID == 0)) || die "install needs root (it installs Exim's libraries)"
    export DEBIAN_FRONTEND=noninteractive
    apt-cache show exim4-daemon-light >/dev/null 2>&1 || apt-get update -q >&2
    local debs=$CACHE/debs libs
    rm -rf "$debs" "$ROOT.new"
    mkdir -p "$debs" "$ROOT.new"
    (cd "$debs" && apt-get download "${PACKAGES[@]}" >"$debs.log" 2>&1) ||
        { apt-get update -q >&2 && (cd "$debs" && apt-get download "${PACKAGES[@]}" >"$debs.log" 2>&1); } ||
        { sed 's/^/apt-get: /' "$debs.log" >&2; die "apt-get download failed"; }
    for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$ROOT.new"; done
    # The libraries exim4 links (GnuTLS, PCRE2, ...) that are missing: plain library
    # packages (those installed are left as they are, not upgraded).
    mapfile -t libs < <(apt-cache depends --no-recommends exim4-daemon-light |
        sed -n 's/^  Depends: \(lib[^ <>]*\)$/\1/p' |
        while read -r lib; do
            dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q 'install ok installed' ||
                printf '%s\n' "$lib"
        done)
    if ((${#libs[@]})); then
        apt-get install -y -q --no-install-recommends "${libs[@]}" >"$debs.log" 2>&1 ||
            { sed 's/^/apt-get: /' "$debs.log" >&2; die "installing ${libs[*]} failed"; }
    fi
    if ldd "$ROOT.new/usr/sbin/exim4" | grep 'not found' >&2; then
        die "the unpacked exim4 cannot run here: libraries missing"
    fi
    rm -rf "$ROOT" "$debs" "$debs.log"
    mv "$ROOT.new" "$ROOT"
    say "unpacked ${PACKAGES[*]} into $ROOT"
}

set_layout() {  # DIR
    D=$(abs_path "$1")
    [[ $D =~ ^[A-Za-z0-9/._+-]+$ ]] || die "DIR must be a path of letters, digits and ./_+- only: $1"
    ENV_FILE=$D/exim.env
    TLS_DIR=$D/tls
    LOG_DIR=$D/log
    PID_FILE=$D/exim.pid
}

exim_pid() {
    local pid
    [[ -r $PID_FILE ]] || return 1
    pid=$(cat "$PID_FILE")
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == exim4 ]] && printf '%s\n' "$pid"
}

cmd_stop() {
    set_layout "$1"
    local pid
    pid=$(exim_pid) || return 0
    kill "$pid"
    for _ in $(seq 1 $((STOP_TIMEOUT * 10))); do
        [[ -d /proc/$pid ]] || { rm -f "$PID_FILE"; return 0; }
        sleep 0.1
    done
    die "Exim (pid $pid) did not stop within $STOP_TIMEOUT s"
}

# Exim's configuration: AUTH PLAIN against DIR/users, RCPT only after a login,
# every message kept in the queue (never delivered anywhere).
write_conf() {  # UID
    local -a p=($PORTS)
    cat >"$D/exim.conf" <<EOF
primary_hostname = exim.$DOMAIN
exim_user = $1
exim_group = $1
spool_directory = $D/spool
log_file_path = $LOG_DIR/%slog
pid_file_path = $PID_FILE
local_interfaces = 127.0.0.1
daemon_smtp_ports = ${p[0]} : ${p[1]} : ${p[2]}
tls_on_connect_ports = ${p[1]} : ${p[2]}
tls_advertise_hosts = *
tls_certificate = $TLS_DIR/cert.pem
tls_privatekey = $TLS_DIR/key.pem
auth_advertise_hosts = *
pipelining_advertise_hosts = \${if eq{\$received_port}{${p[2]}}{:}{*}}
chunking_advertise_hosts = \${if eq{\$received_port}{${p[2]}}{:}{*}}
queue_only = true
host_lookup = :
acl_smtp_rcpt = rcpt
keep_environment =

begin acl
rcpt:
  accept authenticated = *
  deny message = authentication required

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if eq{\$auth3}{\${lookup{\$auth2}lsearch{$D/users}}}}
  server_set_id = \$auth2
EOF
}

cmd_start() {
    set_layout "$1"
    ((EUID == 0)) || die "start needs root (a mount namespace)"
    [[ -x $EXIM ]] || die "Exim is not unpacked: run '$PROG install' first"
    cmd_stop "$1"
    mkdir -p "$D/spool" "$LOG_DIR" "$TLS_DIR"
    # Exim's receiving processes run as its own user: they must reach the spool.
    chmod 755 "$D"
    make_cert 644
    local uid=64990 user
    while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do uid=$((uid + 1)); done
    { cat /etc/passwd; echo "Debian-exim:x:$uid:$uid::/nonexistent:/usr/sbin/nologin"; } >"$D/passwd"
    { cat /etc/group; echo "Debian-exim:x:$uid:"; } >"$D/group"
    : >"$D/users"
    for user in "${TEST_USERS[@]}"; do echo "$user@$DOMAIN: ${user}pw" >>"$D/users"; done
    chown -R "$uid:$uid" "$D/spool" "$LOG_DIR"
    PORTS=$(pick_ports)
    write_conf "$uid"
    chmod 644 "$D/exim.conf"
    # Exim runs in the foreground (-bdf) as the namespace's only process: its pid is
    # the one to stop, and the namespace ends with it.
    setsid unshare -m sh -c "mount --bind '$D/passwd' /etc/passwd &&
        mount --bind '$D/group' /etc/group &&
        exec '$EXIM' -C '$D/exim.conf' -bdf -oP '$PID_FILE'" \
        >"$LOG_DIR/daemon.log" 2>&1 </dev/null &
    local -a p=($PORTS)
    for _ in $(seq 1 $((READY_TIMEOUT * 10))); do
        if exim_pid >/dev/null && python3 -c "import socket,sys
for p in sys.argv[1:]: socket.create_connection(('127.0.0.1', int(p)), 1).close()" "${p[@]}" 2>/dev/null; then
            {
                echo "EXIM_DIR=$D"
                echo "SUBMISSION_PORT=${p[0]}"
                echo "SUBMISSIONS_PORT=${p[1]}"
                echo "BARE_PORT=${p[2]}"
                echo "CA_FILE=$TLS_DIR/cert.pem"
            } >"$ENV_FILE"
            cat "$ENV_FILE"
            return 0
        fi
        sleep 0.1
    done
    cat "$LOG_DIR/daemon.log" "$LOG_DIR/paniclog" 2>/dev/null | tail -n 5 >&2
    die "Exim did not listen within $READY_TIMEOUT s"
}

cmd_queued() {
    set_layout "$1"
    cat "$D"/spool/input/*-H 2>/dev/null || true
}

main() {
    (($#)) || usage
    local cmd=$1
    shift
    case $cmd in
    install) cmd_install ;;
    start | stop | queued) (($# == 1)) || usage; "cmd_$cmd" "$1" ;;
    *) usage ;;
    esac
}

main "$@"
