#!/usr/bin/env bash
# A private Postfix + Dovecot mail stack for mailer's integration tests and for
# trying mailer by hand. Every file of a stack lives under one directory and
# every port is a free one on 127.0.0.1, so stacks never touch the system's own
# mail setup, several can run side by side, and nothing is ever delivered off
# the machine.
set -euo pipefail

# Postfix and Dovecot install their commands in sbin, which a normal user's
# PATH (and some CI shells) leave out.
PATH="$PATH:/usr/sbin:/sbin"
export PATH

PROG=$0
# shellcheck source=tests/stack-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-common.sh"
DOMAIN=example.test
TEST_USERS=(alice bob carol)
PACKAGES=(postfix dovecot-imapd dovecot-pop3d dovecot-lmtpd openssl)
PORT_KEYS=(SMTP_PORT SUBMISSION_PORT SUBMISSIONS_PORT IMAP_PORT IMAPS_PORT
           POP3_PORT POP3S_PORT LMTP_PORT AUTH_PORT)
READY_TIMEOUT=30
STOP_TIMEOUT=15

usage() {
    cat >&2 <<EOF
usage: $PROG COMMAND [ARGS]

A private Postfix + Dovecot mail stack for tests. Everything lives under DIR
and listens on free 127.0.0.1 ports; nothing is delivered off the machine.
Test users: alice, bob, carol @$DOMAIN, passwords alicepw, bobpw, carolpw;
and dora, whose password dörapw is not ASCII (IMAP and POP3 only).

commands:
  install                    apt-get install the packages the stack needs, if
                             any is missing (needs root)
  start DIR                  set up and start a stack under DIR (created if
                             missing); a stack already running in DIR is stopped
                             first. Mail already in DIR is kept. Writes DIR/stack.env
                             and prints it (shell-sourceable KEY=VALUE lines)
  stop DIR                   stop the stack in DIR; succeeds if none is running
  env DIR                    print DIR/stack.env
  seed DIR USER N [MAILBOX]  add N generated unread messages (plain, HTML,
                             attachments, UTF-8 subjects; ~70 KB on average) to
                             USER's INBOX, or to the folder MAILBOX (created and
                             subscribed); the same N gives the same messages
  maildir DIR USER           print the path of USER's Maildir (the INBOX)
  postfix DIR stop|start     stop or start only Postfix (the MTA is down / back)
  token DIR USER [SECONDS]   print an OAuth2 bearer token (a JWT) for USER that Dovecot accepts,
                             valid SECONDS (3600; negative: already expired)

USER is a local part or a full address in $DOMAIN.

ports, named as in stack.env:
  SMTP_PORT         like port 25: STARTTLS offered, no AUTH, takes mail for $DOMAIN
  SUBMISSION_PORT   STARTTLS required, then AUTH (PLAIN, LOGIN) required to send
  SUBMISSIONS_PORT  implicit TLS, AUTH (PLAIN, LOGIN) required to send
  IMAP_PORT, POP3_PORT    plain text, STARTTLS/STLS offered, plain-text login allowed
  IMAPS_PORT, POP3S_PORT  implicit TLS
  LMTP_PORT, AUTH_PORT    Dovecot's LMTP and SASL services that Postfix uses

Postfix refuses a recipient outside $DOMAIN at RCPT time, even after AUTH, and
unknown users of $DOMAIN too. TLS clients verify the server against
CA_FILE (a self-signed certificate for localhost and 127.0.0.1).
EOF
    exit 64
}

say() { printf 'mailstack: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }


# Blanks, quotes, % (Dovecot's variables) and : (a separator in its mail
# settings) in paths break the servers' configs: refuse them rather than
# produce a stack that half works.
check_dir_name() {
    [[ $1 =~ ^[A-Za-z0-9/._+-]+$ ]] ||
        die "DIR must be a path of letters, digits and ./_+- only: $1"
}


maildir_of() {  # DIR USER@DOMAIN; matches Dovecot's home=DIR/mail/%d/%n
    printf '%s/mail/%s/%s/Maildir\n' "$1" "${2#*@}" "${2%@*}"
}

# Whether PID is a master of this stack: both masters work inside DIR, so a
# recycled pid, or a master of another stack, is never taken for ours.
is_ours() {  # PID COMM
    [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]] &&
        [[ $(readlink "/proc/$1/cwd" 2>/dev/null) == "$D"/* ]]
}

live_pid() {  # PIDFILE COMM
    local pid
    [[ -r $1 ]] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [[ -n $pid ]] && is_ours "$pid" "$2" || return 1
    printf '%s\n' "$pid"
}

# Where a stack keeps things; set for the DIR the command is about.
set_layout() {
    D=$1
    TLS_DIR=$D/tls
    LOG_DIR=$D/log
    DOVECOT_CONF=$D/dovecot/dovecot.conf
    DOVECOT_USERS=$D/dovecot/users
    OAUTH2_KEY=$D/dovecot/oauth2.key
    # Dovecot puts its Unix sockets here; kept short because a socket path
    # may not exceed 107 bytes.
    DOVECOT_RUN=$D/run
    DOVECOT_PID=$DOVECOT_RUN/master.pid
    POSTFIX_CONF=$D/postfix/conf
    POSTFIX_QUEUE=$D/postfix/queue
    POSTFIX_PID=$POSTFIX_QUEUE/pid/master.pid
    ENV_FILE=$D/stack.env
}

stack_running() {
    live_pid "$DOVECOT_PID" dovecot >/dev/null || live_pid "$POSTFIX_PID" master >/dev/null
}

wait_gone() {  # PID COMM SECONDS
    local deadline=$((SECONDS + $3))
    while is_ours "$1" "$2"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

ensure_gone() {  # NAME PID COMM
    wait_gone "$2" "$3" "$STOP_TIMEOUT" && return 0
    # The orderly stop hung: end our own master by its pid, which takes its
    # children with it.
    say "$1 (pid $2) did not stop in ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$2" 2>/dev/null || true
    wait_gone "$2" "$3" 5 || say "$1 (pid $2) is still running"
}


stop_stack() {
    local pf_pid dv_pid
    pf_pid=$(live_pid "$POSTFIX_PID" master) || pf_pid=
    dv_pid=$(live_pid "$DOVECOT_PID" dovecot) || dv_pid=
    [[ -n $pf_pid || -n $dv_pid ]] || return 0
    mkdir -p "$LOG_DIR"
    # Both at once: each master takes one to three seconds to exit. Mail that
    # Postfix cannot hand to Dovecot meanwhile just stays in its queue.
    if [[ -n $pf_pid ]]; then
        postfix -c "$POSTFIX_CONF" stop >>"$LOG_DIR/stop.log" 2>&1 &
    fi
    if [[ -n $dv_pid ]]; then
        doveadm -c "$DOVECOT_CONF" stop >>"$LOG_DIR/stop.log" 2>&1 &
    fi
    wait || true
    if [[ -n $pf_pid ]]; then ensure_gone postfix "$pf_pid" master; fi
    if [[ -n $dv_pid ]]; then ensure_gone dovecot "$dv_pid" dovecot; fi
    wait_ports_closed
}

missing_packages() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            printf '%s\n' "$pkg"
    done
    command -v python3 >/dev/null || printf '%s\n' python3
}

cmd_install() {
    local missing sudo=()
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)); then
        say "all packages present: ${PACKAGES[*]}"
        return 0
    fi
    command -v apt-get >/dev/null ||
        die "install knows only apt-get (Debian, Ubuntu); install these yourself: ${missing[*]}"
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "installing needs root: ${missing[*]}"
        sudo=(sudo)
    fi
    say "installing: ${missing[*]}"
    # "No configuration" keeps the package from writing a system main.cf
    # that would run its own Postfix next to ours.
    echo "postfix postfix/main_mailer_type select No configuration" |
        "${sudo[@]}" debconf-set-selections
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}




write_dovecot_conf() {
    cat >"$DOVECOT_CONF" <<EOF
# Written by mailstack.sh start; rewritten on every start.
instance_name = mailstack-$INSTANCE
base_dir = $DOVECOT_RUN
state_dir = $D/dovecot/state
log_path = $LOG_DIR/dovecot.log
listen = 127.0.0.1
protocols = imap pop3 lmtp

ssl = yes
ssl_cert = <$TLS_DIR/cert.pem
ssl_key = <$TLS_DIR/key.pem
# Tests exercise plain-text login on the non-TLS ports too.
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
# Dovecot normally stalls a wrong password 2 s, and further failures from the
# same IP up to 15 s (its anvil penalty, which also hits Postfix's AUTH);
# tests of wrong passwords must not slow down the tests after them.
auth_failure_delay = 0
# Without the penalty socket, auth skips the penalty (login_trusted_networks
# does not, in 2.3.19).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

first_valid_uid = $MAIL_UID
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%Lu $DOVECOT_USERS
}
# OAuth2 bearer tokens (XOAUTH2, OAUTHBEARER): JWTs that Dovecot validates itself
# against the stack's HS256 key (the token command makes one).
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $D/dovecot/oauth2.conf.ext
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$D/mail/%d/%n allow_all_users=yes
}
mail_location = maildir:~/Maildir
# The special-use mailboxes (RFC 6154) of a real account, there once created:
# what delete (\Trash), the Sent copy (\Sent) and drafts (\Drafts) look for.
namespace inbox {
  inbox = yes
  mailbox Trash {
    special_use = \Trash
  }
  mailbox Sent {
    special_use = \Sent
  }
  mailbox Drafts {
    special_use = \Drafts
  }
}
# Stable across re-syncs, so POP3 clients do not download everything again.
pop3_uidl_format = %08Xu%08Xv

protocol imap {
  mail_max_userip_connections = 100
}
protocol pop3 {
  mail_max_userip_connections = 100
}
protocol lmtp {
  # Keep the whole address as the user name so that %d/%n resolve.
  auth_username_format = %Lu
}

service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $POP3_PORT
  }
  inet_listener pop3s {
    port = $POP3S_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    port = $LMTP_PORT
  }
}
service auth {
  inet_listener postfix-sasl {
    port = $AUTH_PORT
  }
}
EOF
}

write_postfix_conf() {
    local u
    : >"$POSTFIX_CONF/vmailbox"
    for u in "${TEST_USERS[@]}"; do
        printf '%s@%s ok\n' "$u" "$DOMAIN" >>"$POSTFIX_CONF/vmailbox"
    done
    cat >"$POSTFIX_CONF/main.cf" <<EOF
# Written by mailstack.sh start; rewritten on every start.
compatibility_level = 3.6
queue_directory = $POSTFIX_QUEUE
data_directory = $D/postfix/data
syslog_name = mailstack-$INSTANCE
# There is no syslog here: without these, errors of Postfix go nowhere.
maillog_file = $LOG_DIR/postfix.log
maillog_file_prefixes = $LOG_DIR

myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = \$mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
readme_directory = no
message_size_limit = 52428800
mailbox_size_limit = 0
virtual_mailbox_limit = 0

# The one domain this stack serves, handed to Dovecot over LMTP. Listing the
# users makes unknown ones fail at RCPT instead of bouncing later.
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = texthash:$POSTFIX_CONF/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT

# Nothing may leave the machine: every other route ends in an error.
default_transport = error:mailstack delivers only to $DOMAIN
relay_transport = error:mailstack delivers only to $DOMAIN
local_transport = error:mailstack delivers only to $DOMAIN
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no

# No permit_sasl_authenticated: even an authenticated client gets its
# out-of-domain recipient refused at RCPT, with the server's own text.
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =

smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
smtpd_sasl_auth_enable = no
smtpd_tls_auth_only = yes
smtpd_tls_cert_file = $TLS_DIR/cert.pem
smtpd_tls_key_file = $TLS_DIR/key.pem
smtpd_tls_security_level = may
EOF
    # chroot is "n" everywhere: a chroot would need copies of system files
    # inside the queue directory.
    cat >"$POSTFIX_CONF/master.cf" <<EOF
# Written by mailstack.sh start; rewritten on every start.
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=mailstack-$INSTANCE/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$SUBMISSIONS_PORT inet n - n - - smtpd
  -o syslog_name=mailstack-$INSTANCE/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
pickup     unix  n  -  n  60    1  pickup
cleanup    unix  n  -  n  -     0  cleanup
qmgr       unix  n  -  n  300   1  qmgr
tlsmgr     unix  -  -  n  1000? 1  tlsmgr
rewrite    unix  -  -  n  -     -  trivial-rewrite
bounce     unix  -  -  n  -     0  bounce
defer      unix  -  -  n  -     0  bounce
trace      unix  -  -  n  -     0  bounce
verify     unix  -  -  n  -     1  verify
flush      unix  n  -  n  1000? 0  flush
proxymap   unix  -  -  n  -     -  proxymap
proxywrite unix  -  -  n  -     1  proxymap
smtp       unix  -  -  n  -     -  smtp
relay      unix  -  -  n  -     -  smtp
showq      unix  n  -  n  -     -  showq
error      unix  -  -  n  -     -  error
retry      unix  -  -  n  -     -  error
discard    unix  -  -  n  -     -  discard
lmtp       unix  -  -  n  -     -  lmtp
anvil      unix  -  -  n  -     1  anvil
scache     unix  -  -  n  -     1  scache
postlog    unix-dgram n - n -   1  postlogd
EOF
}

write_env() {
    local key u
    {
        printf 'MAILSTACK_DIR=%s\n' "$D"
        for key in "${PORT_KEYS[@]}"; do
            printf '%s=%s\n' "$key" "${!key}"
        done
        printf 'CA_FILE=%s\n' "$TLS_DIR/cert.pem"
        printf 'DOMAIN=%s\n' "$DOMAIN"
        printf 'USERS="%s"\n' "$(for u in "${TEST_USERS[@]}"; do printf '%s@%s ' "$u" "$DOMAIN"; done | sed 's/ $//')"
        for u in "${TEST_USERS[@]}"; do
            printf 'PASSWORD_%s=%spw\n' "$u" "$u"
        done
    } >"$ENV_FILE.tmp"
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# Waits until every port answers like its server should (TLS ports verified
# against the stack's certificate). Prints one line per port that did not.
# Gives up early once a master has exited or a server has logged a fatal error.
wait_ready() {
    python3 - "$READY_TIMEOUT" "$TLS_DIR/cert.pem" \
        "$DOVECOT_PID" "$POSTFIX_PID" "$LOG_DIR/dovecot.log" "$LOG_DIR/postfix.log" \
        "SMTP_PORT:$SMTP_PORT:plain:220" \
        "SUBMISSION_PORT:$SUBMISSION_PORT:plain:220" \
        "SUBMISSIONS_PORT:$SUBMISSIONS_PORT:tls:220" \
        "IMAP_PORT:$IMAP_PORT:plain:* OK" \
        "IMAPS_PORT:$IMAPS_PORT:tls:* OK" \
        "POP3_PORT:$POP3_PORT:plain:+OK" \
        "POP3S_PORT:$POP3S_PORT:tls:+OK" \
        "LMTP_PORT:$LMTP_PORT:plain:220" \
        "AUTH_PORT:$AUTH_PORT:plain:VERSION" <<'PY'
import re, socket, ssl, sys, time
deadline = time.monotonic() + float(sys.argv[1])
ctx = ssl.create_default_context(cafile=sys.argv[2])
pidfiles, logs = sys.argv[3:5], sys.argv[5:7]
pids = [int(open(f).read().strip()) for f in pidfiles]
pending = {}
for spec in sys.argv[7:]:
    name, port, kind, greeting = spec.split(":", 3)
    pending[name] = (int(port), kind, greeting.encode(), "no attempt")

def hopeless():
    for pid, name in zip(pids, ("dovecot", "postfix")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() in ("dovecot", "master"):
                    continue
        except OSError:
            pass
        return f"the {name} master (pid {pid}) has exited"
    for log in logs:
        with open(log, errors="replace") as f:
            if re.search(r"\b(fatal|panic)\b", f.read(), re.I):
                return f"{log} reports a fatal error"
    return None

def probe(port, kind, greeting):
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        sock = ctx.wrap_socket(raw, server_hostname="localhost") if kind == "tls" else raw
        sock.settimeout(2)
        line = sock.recv(512)
        if not line.startswith(greeting):
            raise OSError(f"greeting {line[:60]!r}, expected {greeting.decode()!r}")

while pending:
    for name, (port, kind, greeting, _) in list(pending.items()):
        try:
            probe(port, kind, greeting)
            del pending[name]
        except (OSError, ssl.SSLError) as e:
            pending[name] = (port, kind, greeting, str(e) or type(e).__name__)
    if not pending or time.monotonic() > deadline:
        why = f"not ready after {sys.argv[1]}s"
        break
    why = hopeless()
    if why:
        break
    time.sleep(0.1)
for name, (port, _, _, err) in pending.items():
    print(f"{name} {port}: {why}: {err}")
sys.exit(1 if pending else 0)
PY
}

# The distinct problems a server logged (both repeat one error per client
# connection), else its last lines.
log_digest() {  # FILE
    [[ -s $1 ]] || return 0
    awk -v file="$1" '
        { line = $0; sub(/^[A-Z][a-z][a-z] +[0-9]+ [0-9:]+ /, "", line)
          gsub(/\[[0-9]+\]|, session=<[^>]*>/, "", line) }
        tolower(line) ~ /fatal|panic|error|warning/ && !seen[line]++ { bad[++n] = line }
        { last[NR % 5] = line }
        END {
            if (n) for (i = (n > 8 ? n - 7 : 1); i <= n; i++) print file ": " bad[i]
            else for (i = NR - 4; i <= NR; i++) if (i > 0) print file ": " last[i % 5]
        }' "$1"
}

postfix_check_output() {
    # postfix check reports its fatal errors only to syslog or a terminal;
    # a pseudo-terminal from script(1) brings them out.
    script -qc "postfix -c $POSTFIX_CONF check" /dev/null 2>&1 | tr -d '\r' | sed 's/^/postfix check: /'
}

# Starts Dovecot then Postfix with the ports already chosen. Returns 0 when all
# ports answer, 2 when a port was taken meanwhile (worth another try), else 1;
# the explanation is in $PROBLEMS.
launch() {
    PROBLEMS=$LOG_DIR/start-problems
    : >"$PROBLEMS"
    : >"$LOG_DIR/dovecot.log"
    : >"$LOG_DIR/postfix.log"
    if ! dovecot -c "$DOVECOT_CONF" >"$LOG_DIR/dovecot.start" 2>&1; then
        {
            echo "dovecot failed to start:"
            sed 's/^/dovecot: /' "$LOG_DIR/dovecot.start"
            log_digest "$LOG_DIR/dovecot.log"
        } >>"$PROBLEMS"
    elif ! postfix -c "$POSTFIX_CONF" start >"$LOG_DIR/postfix.start" 2>&1; then
        {
            echo "postfix failed to start:"
            sed 's/^/postfix: /' "$LOG_DIR/postfix.start"
            log_digest "$LOG_DIR/postfix.log"
            postfix_check_output
        } >>"$PROBLEMS"
    elif ! wait_ready >>"$PROBLEMS" 2>&1; then
        {
            log_digest "$LOG_DIR/dovecot.log"
            log_digest "$LOG_DIR/postfix.log"
        } >>"$PROBLEMS"
    else
        return 0
    fi
    if grep -qi 'address already in use' "$PROBLEMS" "$LOG_DIR/dovecot.log" "$LOG_DIR/postfix.log"; then
        return 2
    fi
    return 1
}

require_commands() {
    local cmd missing=()
    for cmd in dovecot doveadm postfix postconf openssl python3 script; do
        command -v "$cmd" >/dev/null || missing+=("$cmd")
    done
    if ((${#missing[@]})); then
        for cmd in "${missing[@]}"; do
            say "$cmd is not installed: run $PROG install"
        done
        exit 1
    fi
}

cmd_start() {
    local dir attempt rc u md ports k
    require_commands
    ((EUID == 0)) || die "start needs root: Postfix's master and Dovecot run as root and drop privileges themselves"
    dir=$(abs_path "$1")
    check_dir_name "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    set_layout "$dir"
    if stack_running; then
        say "a stack is already running in $D: stopping it first"
        stop_stack
    fi
    # Whatever ends start early (an error, Ctrl-C) must not leave half a
    # stack running.
    START_OK=0
    trap 'if ((START_OK == 0)); then stop_stack; rm -f "$ENV_FILE"; fi' EXIT
    trap 'exit 130' INT TERM
    check_reachable "$D" "the mail, postfix and dovecot users"
    # The servers' unprivileged users must enter DIR itself too.
    chmod 755 "$D"
    ((${#DOVECOT_RUN} + 30 <= 107)) ||
        die "DIR is too long (${#D} characters) for Dovecot's Unix sockets under $DOVECOT_RUN: use a path of at most 70 characters"

    # A socket left over from an earlier run is not removed by Dovecot: a stale
    # anvil-auth-penalty would make its auth process retry it for 5 s.
    rm -rf "$DOVECOT_RUN"
    mkdir -p "$TLS_DIR" "$LOG_DIR" "$D/dovecot/state" "$DOVECOT_RUN" "$POSTFIX_CONF" \
        "$POSTFIX_QUEUE" "$D/mail/$DOMAIN"
    INSTANCE=$(printf '%s' "$D" | cksum | cut -d' ' -f1)
    MAIL_UID=$(id -u mail)
    make_cert 600

    : >"$DOVECOT_USERS"
    for u in "${TEST_USERS[@]}"; do
        printf '%s@%s:{PLAIN}%spw\n' "$u" "$DOMAIN" "$u" >>"$DOVECOT_USERS"
        md=$(maildir_of "$D" "$u@$DOMAIN")
        mkdir -p "$md/cur" "$md/new" "$md/tmp"
    done
    # One IMAP/POP3 login whose password is not ASCII (UTF-8, as SASL PLAIN carries it).
    printf '%s@%s:{PLAIN}%s\n' dora "$DOMAIN" 'dörapw' >>"$DOVECOT_USERS"
    # Dovecot's auth process reads this as the dovecot user.
    chmod 644 "$DOVECOT_USERS"
    make_oauth2_key
    chown -R mail:mail "$D/mail"

    for attempt in 1 2 3; do
        read -r SMTP_PORT SUBMISSION_PORT SUBMISSIONS_PORT IMAP_PORT IMAPS_PORT \
            POP3_PORT POP3S_PORT LMTP_PORT AUTH_PORT <<<"$(pick_ports)"
        write_dovecot_conf
        write_postfix_conf
        write_env
        rc=0
        launch || rc=$?
        ((rc == 0)) && break
        stop_stack
        # Another program may take a port between our choosing it and the
        # servers binding it; new ports are then worth a try.
        ((rc == 2 && attempt < 3)) && { say "a port was taken meanwhile; trying new ports"; continue; }
        sed 's/^/mailstack: /' "$PROBLEMS" >&2
        exit 1
    done
    # shellcheck disable=SC2034  # read by the EXIT trap
    START_OK=1
    ports=$(for k in "${PORT_KEYS[@]}"; do printf ' %s' "${!k}"; done)
    say "stack running in $D (ports$ports)"
    cat "$ENV_FILE"
}

dir_arg() {  # an existing DIR, made absolute
    local dir
    dir=$(abs_path "$1")
    [[ -d $dir ]] || return 1
    (cd "$dir" && pwd -P)
}

cmd_stop() {
    local dir
    dir=$(dir_arg "$1") || return 0
    set_layout "$dir"
    stop_stack
}

# The HS256 key Dovecot checks bearer tokens with: the secret for `token`, and its
# base64 where Dovecot's key dictionary looks for it.
make_oauth2_key() {
    local keys=$D/dovecot/keys/default/HS256
    mkdir -p "$keys"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$OAUTH2_KEY"
    chmod 600 "$OAUTH2_KEY"
    python3 -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(open(sys.argv[1]).read())).decode(), end="")' \
        "$OAUTH2_KEY" >"$keys/default"
    chmod -R a+rX "$D/dovecot/keys"
    printf '%s\n' "introspection_mode = local" \
        "local_validation_key_dict = fs:posix:prefix=$D/dovecot/keys/" \
        "username_attribute = sub" >"$D/dovecot/oauth2.conf.ext"
    chmod 644 "$D/dovecot/oauth2.conf.ext"
}

# Prints a bearer token for USER that Dovecot accepts, valid for SECONDS (default
# 3600; negative for one that has expired).
cmd_token() {
    local dir user secs
    dir=$(dir_arg "$1") || die "no such directory: $1"
    set_layout "$dir"
    user=$(normalize_user "$2")
    secs=${3:-3600}
    [[ -r $OAUTH2_KEY ]] || die "no OAuth2 key in $D: run $PROG start $1"
    python3 -c '
import base64, hashlib, hmac, json, sys, time
key = bytes.fromhex(open(sys.argv[1]).read())
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": sys.argv[2], "iat": now, "exp": now + int(sys.argv[3])}).encode())
sig = b64(hmac.new(key, (head + "." + body).encode(), hashlib.sha256).digest())
print(head + "." + body + "." + sig)
' "$OAUTH2_KEY" "$user" "$secs"
}

cmd_env() {
    local dir
    dir=$(dir_arg "$1") || die "no such directory: $1"
    set_layout "$dir"
    [[ -r $ENV_FILE ]] || die "no stack.env in $D: run $PROG start $1"
    cat "$ENV_FILE"
}

cmd_maildir() {
    local dir user
    dir=$(dir_arg "$1") || die "no such directory: $1"
    user=$(normalize_user "$2")
    maildir_of "$dir" "$user"
}

cmd_seed() {
    local dir user n mailbox md folder
    dir=$(dir_arg "$1") || die "no such directory: $1"
    set_layout "$dir"
    user=$(normalize_user "$2")
    n=$3
    mailbox=${4:-INBOX}
    [[ $n =~ ^[0-9]+$ ]] || die "N must be a number: $n"
    # & + , let a name be given in IMAP's modified UTF-7 (&XfJT0ZAB- is 已发送).
    [[ $mailbox =~ ^[A-Za-z0-9\&][A-Za-z0-9\ ._\&+,-]*$ ]] ||
        die "MAILBOX must be ASCII letters, digits, space and ._-&+, (a dot nests folders; modified UTF-7 for other scripts): $mailbox"
    [[ ${mailbox^^} == INBOX ]] && mailbox=INBOX
    md=$(maildir_of "$D" "$user")
    if [[ $mailbox == INBOX ]]; then folder=$md; else folder="$md/.$mailbox"; fi
    command -v python3 >/dev/null || die "python3 is not installed: run $PROG install"
    python3 - "$md" "$folder" "$user" "$n" "$mailbox" <<'PY'
import base64, datetime, os, pwd, random, sys, textwrap, time, zlib
from email.utils import format_datetime

maildir, folder, user, n, mailbox = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
mail = pwd.getpwnam("mail")
UID, GID = mail.pw_uid, mail.pw_gid

def mkdirs(path):
    # Every directory on the way must belong to mail: Dovecot runs as mail.
    if os.path.isdir(path):
        return
    mkdirs(os.path.dirname(path))
    os.mkdir(path, 0o700)
    os.chown(path, UID, GID)

for sub in ("cur", "new", "tmp"):
    mkdirs(os.path.join(maildir, sub))
    mkdirs(os.path.join(folder, sub))
if folder != maildir:
    marker = os.path.join(folder, "maildirfolder")
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.chown(marker, UID, GID)

# Content depends on N only; numbering continues after the messages already
# there, so seeding twice never repeats a Message-ID.
already = len(os.listdir(os.path.join(folder, "cur"))) + len(os.listdir(os.path.join(folder, "new")))
rng = random.Random(f"mailstack-seed-{n}")
tag = "%08x" % zlib.crc32(f"{user}/{mailbox}".encode())

WORDS = ("the a report meeting schedule budget project review draft update team customer "
         "release server client invoice quarter plan notes agenda decision follow up please "
         "attached thanks regards data result test build deploy issue ticket summary week "
         "monday friday deadline proposal contract design feedback question answer today "
         "tomorrow morning office remote call minutes action item owner status risk").split()
CJK_LINES = ["本周工作进展顺利，请查阅附件中的详细数据。", "会议纪要已整理完毕，如有遗漏请补充。",
             "下周一上午十点召开项目评审会议。", "请各位在周五之前提交季度预算草案。",
             "客户反馈的问题已经修复并完成测试。", "感谢大家的辛勤工作，祝周末愉快！"]
CJK_SUBJECTS = ["周报", "会议纪要", "项目进度更新", "季度预算草案", "客户反馈汇总", "下周工作安排"]
EN_SUBJECTS = ["Weekly report", "Meeting notes", "Budget review", "Release plan", "Invoice",
               "Design feedback", "Quarterly numbers", "Server maintenance window",
               "Lunch on Friday?", "Contract draft", "Action items from today's call", "Status update"]
PEOPLE = [("Alice Martin", "alice@example.test"), ("Bob Chen", "bob@example.test"),
          ("Carol Diaz", "carol@example.test"), ("王小明", "wang.xiaoming@example.test"),
          ("李娜", "li.na@example.test"), ("Dave O'Neil", "dave@example.test"),
          ("Erin Fischer", "erin@example.test"), ("张伟", "zhang.wei@example.test")]
ATTACH = [("report.pdf", "application/pdf"), ("photo.jpg", "image/jpeg"), ("diagram.png", "image/png"),
          ("data.zip", "application/zip"), ("budget.xlsx",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("周报.pdf", "application/pdf"),
          ("notes.bin", "application/octet-stream")]

def paragraph():
    words = rng.choices(WORDS, k=rng.randint(20, 90))
    words[0] = words[0].capitalize()
    return textwrap.fill(" ".join(words) + ".", 72)

# Building text from a pool keeps 10,000 messages fast.
PARAS = [paragraph() for _ in range(300)]
POOL = rng.randbytes(4 << 20)

def ew(text):
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="

def addr(person):
    name, email = person
    if name.isascii():
        return f'"{name}" <{email}>' if "'" in name else f"{name} <{email}>"
    return f"{ew(name)} <{email}>"

def text_body(cjk):
    paras = rng.choices(PARAS, k=rng.randint(1, 12))
    if cjk:
        paras = ["\n".join(rng.choices(CJK_LINES, k=rng.randint(2, 6)))] + paras[:3]
    return "Hello,\n\n" + "\n\n".join(paras) + "\n\nBest regards\n"

def text_part(body):
    if body.isascii():
        return f"Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n{body}"
    return ("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(body.encode()).decode())

def html_part(body):
    html = "".join(f"<p>{p}</p>\n" for p in body.split("\n\n"))
    html = f"<html><head><meta charset=\"utf-8\"></head><body>\n{html}</body></html>\n"
    if html.isascii():
        return f"Content-Type: text/html; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n{html}"
    return ("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(html.encode()).decode())

def multipart(subtype, boundary, parts):
    out = [f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\n\nThis is a multi-part message in MIME format.\n"]
    for p in parts:
        out.append(f"--{boundary}\n{p}\n")
    out.append(f"--{boundary}--\n")
    return "".join(out)

def attachment():
    name, ctype = rng.choice(ATTACH)
    # Mostly tens of KB, sometimes up to ~200 KB, as mail attachments tend to be.
    size = min(int(rng.lognormvariate(10.8, 0.9)) + 2048, 200 * 1024)
    start = rng.randrange(len(POOL) - size)
    data = base64.encodebytes(POOL[start:start + size]).decode()
    if name.isascii():
        disp = f"attachment; filename=\"{name}\""
        ctname = f"; name=\"{name}\""
    else:
        quoted = "".join("%%%02X" % b for b in name.encode())
        disp = f"attachment; filename*=UTF-8''{quoted}"
        ctname = f"; name=\"{ew(name)}\""
    return f"Content-Type: {ctype}{ctname}\nContent-Disposition: {disp}\nContent-Transfer-Encoding: base64\n\n{data}"

tzs = [datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=8)),
       datetime.timezone(datetime.timedelta(hours=-5)), datetime.timezone(datetime.timedelta(hours=2))]
when = 1704067200  # 2024-01-01; fixed so that the same N gives the same mail
earlier = []  # (message-id, subject) that later messages may reply to
pid, stamp = os.getpid(), time.time_ns()
tmpdir, curdir = os.path.join(folder, "tmp"), os.path.join(folder, "cur")
rcpt = next((p for p in PEOPLE if p[1] == user), (user.split("@")[0].capitalize(), user))

for i in range(n):
    when += rng.randint(120, 6 * 3600)
    num = already + i
    msgid = f"<mailstack.{n}.{num}.{tag}@example.test>"
    sender = rng.choice([p for p in PEOPLE if p[1] != user])
    cjk = rng.random() < 0.25
    reply = earlier and rng.random() < 0.2
    if reply:
        parent_id, subj = rng.choice(earlier)
        subject_text = subj if subj.startswith("Re: ") else "Re: " + subj
    else:
        parent_id = None
        subject_text = rng.choice(CJK_SUBJECTS if cjk else EN_SUBJECTS)
        if rng.random() < 0.5:
            subject_text += f" #{num}"
    if subject_text.isascii():
        subject = subject_text
    elif subject_text.startswith("Re: "):
        subject = "Re: " + ew(subject_text[4:])
    else:
        subject = ew(subject_text)
    if len(earlier) < 500:
        earlier.append((msgid, subject_text))
    date = datetime.datetime.fromtimestamp(when, rng.choice(tzs))
    headers = [f"Return-Path: <{sender[1]}>",
               f"Received: from mail.example.test (localhost [127.0.0.1])\n\tby mail.example.test with ESMTPS; {format_datetime(date)}",
               f"Date: {format_datetime(date)}", f"From: {addr(sender)}", f"To: {addr(rcpt)}"]
    if rng.random() < 0.15:
        headers.append(f"Cc: {addr(rng.choice(PEOPLE))}")
    headers += [f"Subject: {subject}", f"Message-ID: {msgid}"]
    if parent_id:
        headers += [f"In-Reply-To: {parent_id}", f"References: {parent_id}"]
    headers.append("MIME-Version: 1.0")
    if rng.random() < 0.3:
        headers.append(rng.choice(["X-Mailer: mailstack seed", "User-Agent: Mozilla Thunderbird",
                                   "X-Mailer: Foxmail 7.2"]))
    body = text_body(cjk)
    kind = rng.random()
    if kind < 0.3:
        content = text_part(body)
    elif kind < 0.55:
        content = multipart("alternative", f"=_alt_{num}", [text_part(body), html_part(body)])
    else:
        inner = (multipart("alternative", f"=_alt_{num}", [text_part(body), html_part(body)])
                 if rng.random() < 0.4 else text_part(body))
        parts = [inner] + [attachment() for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        content = multipart("mixed", f"=_mix_{num}", parts)
    data = ("\n".join(headers) + "\n" + content).encode()
    # S= and W= (size with CRLF line ends) spare Dovecot from reading files
    # to learn their sizes.
    base = f"{when}.M{i}P{pid}Q{stamp}.mailstack,S={len(data)},W={len(data) + data.count(10)}"
    tmp = os.path.join(tmpdir, base)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fchown(fd, UID, GID)
        # Dovecot takes a Maildir file's mtime as the message's arrival time.
        os.utime(fd, (when, when))
    finally:
        os.close(fd)
    os.rename(tmp, os.path.join(curdir, base + ":2,"))
PY
    if ! live_pid "$DOVECOT_PID" dovecot >/dev/null; then
        # doveadm needs the running instance for user lookups; Dovecot will
        # index the new files on first access instead.
        say "dovecot is not running in $D: skipped force-resync"
        return 0
    fi
    doveadm -c "$DOVECOT_CONF" force-resync -u "$user" "$mailbox"
    if [[ $mailbox != INBOX ]]; then
        doveadm -c "$DOVECOT_CONF" mailbox subscribe -u "$user" "$mailbox"
    fi
}

# Stops or starts only Postfix, leaving Dovecot up: what a test of "the MTA is
# down" needs. Ports stay as they were, so stack.env stays true.
cmd_postfix() {
    local dir pid
    dir=$(dir_arg "$1") || die "no stack in $1"
    set_layout "$dir"
    case $2 in
        stop)
            pid=$(live_pid "$POSTFIX_PID" master) || return 0
            postfix -c "$POSTFIX_CONF" stop >>"$LOG_DIR/stop.log" 2>&1 || true
            ensure_gone postfix "$pid" master
            ;;
        start)
            live_pid "$POSTFIX_PID" master >/dev/null && return 0
            postfix -c "$POSTFIX_CONF" start >"$LOG_DIR/postfix.start" 2>&1 ||
                die "postfix failed to start: $(tail -n 3 "$LOG_DIR/postfix.start")"
            # shellcheck disable=SC1091
            source "$D/stack.env"
            wait_ready >&2 || die "postfix did not become ready"
            ;;
        *) usage ;;
    esac
}

main() {
    (($# >= 1)) || usage
    local cmd=$1
    shift
    case $cmd in
        install) (($# == 0)) || usage; cmd_install ;;
        start) (($# == 1)) || usage; cmd_start "$1" ;;
        stop) (($# == 1)) || usage; cmd_stop "$1" ;;
        env) (($# == 1)) || usage; cmd_env "$1" ;;
        seed) (($# == 3 || $# == 4)) || usage; cmd_seed "$@" ;;
        maildir) (($# == 2)) || usage; cmd_maildir "$@" ;;
        postfix) (($# == 2)) || usage; cmd_postfix "$@" ;;
        token) (($# == 2 || $# == 3)) || usage; cmd_token "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
