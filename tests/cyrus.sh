#!/usr/bin/env bash
# A private Cyrus IMAP 3.6 (imapd + pop3d) for mailer's interop tests: a second
# IMAP/POP3 implementation beside the Dovecot of mailstack.sh.
#
# Debian's Cyrus packages conflict with Dovecot and Postfix (imap-server,
# pop3-server, mail-transport-agent): apt-get install would remove those. So
# install only downloads and unpacks them into a cache under target/, and start
# runs Cyrus in a private mount namespace in which overlay mounts lay the
# unpacked /usr, /etc and /var over the real ones. The real system is never
# changed, and the system's own Postfix and Dovecot keep running.
set -euo pipefail

PATH="$PATH:/usr/sbin:/sbin"
export PATH

PROG=$0
# shellcheck source=tests/stack-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-common.sh"
HERE=$(cd "$(dirname "$0")" && pwd -P)
DOMAIN=example.test
TEST_USERS=(alice bob carol dave)
# What install downloads, besides the libraries of these that are not installed.
PACKAGES=(cyrus-common cyrus-imapd cyrus-pop3d sasl2-bin)
# Libraries cyrus-common depends on that imapd, pop3d and master never load
# (cyr_virusscan's ClamAV, notifyd's Zephyr): not worth downloading.
UNNEEDED=(libclamav12 libzephyr4)
# What the servers and the tools start runs must find, checked after unpacking.
BINARIES=(usr/lib/cyrus/bin/master usr/lib/cyrus/bin/imapd usr/lib/cyrus/bin/pop3d
          usr/lib/cyrus/bin/ctl_cyrusdb usr/sbin/saslpasswd2)
PORT_KEYS=(IMAP_PORT IMAPS_PORT POP3_PORT POP3S_PORT)
# The directories the namespace lays its overlays over.
OVERLAID=(usr etc var run dev)
READY_TIMEOUT=30
STOP_TIMEOUT=15

usage() {
    cat >&2 <<EOF
usage: $PROG COMMAND [ARGS]

A private Cyrus IMAP (imapd, pop3d) for tests, run from Debian's packages in a
private mount namespace. Everything lives under DIR and listens on free
127.0.0.1 ports. Test users: ${TEST_USERS[*]} @$DOMAIN, passwords NAMEpw
(alicepw, bobpw, ...). Hierarchy separator ".", altnamespace off: a user's
folders are INBOX.NAME.

commands:
  install                    download and unpack the Cyrus packages (and the
                             libraries they need that are not installed) into
                             target/cyrus-imapd (\$CARGO_TARGET_DIR/cyrus-imapd
                             if set); nothing is installed on the system. Does
                             nothing when already done
  start DIR                  set up and start Cyrus under DIR (needs root); one
                             already running in DIR is stopped first, mail in DIR
                             is kept. Writes DIR/cyrus.env and prints it
  stop DIR                   stop the Cyrus in DIR; succeeds if none is running
  env DIR                    print DIR/cyrus.env
  seed DIR USER N [MAILBOX]  APPEND N generated unread messages (those of
                             mailstack.sh seed: plain, HTML, attachments, UTF-8
                             subjects) to USER's INBOX or to MAILBOX (created and
                             subscribed), e.g. INBOX.Archive
  append DIR USER MAILBOX [FILE...]
                             APPEND each FILE (or standard input) as it is, but
                             with LF line ends made CRLF, as IMAP wants them
  messages DIR USER MAILBOX OUTDIR
                             write every message of MAILBOX as Cyrus serves it
                             (UID FETCH BODY.PEEK[], CRLF) to OUTDIR/UID.eml

USER is a local part or a full address in $DOMAIN.

ports, named as in cyrus.env:
  IMAP_PORT, POP3_PORT    plain text, STARTTLS/STLS offered, plain-text login allowed
  IMAPS_PORT, POP3S_PORT  implicit TLS

TLS clients verify the server against CA_FILE (a self-signed certificate for
localhost and 127.0.0.1). Cyrus's syslog lines go to DIR/log/cyrus.log.
EOF
    exit 64
}

say() { printf 'cyrus: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }


# The unpacked packages live with the build, so that reruns find them.
cache_dir() {
    local target=${CARGO_TARGET_DIR:-$(dirname "$HERE")/target}
    printf '%s/cyrus-imapd\n' "$(abs_path "$target")"
}

CACHE=$(cache_dir)
ROOT=$CACHE/root
STAMP=$CACHE/installed

# Paths with blanks or quotes would break the configs; a DIR below one of the
# overlaid directories would be hidden by its own overlay.
check_dir_name() {
    [[ $1 =~ ^[A-Za-z0-9/._+-]+$ ]] ||
        die "DIR must be a path of letters, digits and ./_+- only: $1"
    local top
    for top in "${OVERLAID[@]}"; do
        [[ $1 != "/$top" && $1 != /$top/* ]] ||
            die "DIR may not be below /$top, which the namespace overlays: $1"
    done
}


# ---------------------------------------------------------------- install

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# The library packages (lib*) that PACKAGES depend on, directly or through
# other such libraries, and that are not installed. Alternatives and virtual
# packages are left out: none of them is a library.
missing_libraries() {
    local -A seen=()
    local queue=("${PACKAGES[@]}") pkg dep skip
    for skip in "${UNNEEDED[@]}"; do seen[$skip]=1; done
    while ((${#queue[@]})); do
        pkg=${queue[0]}
        queue=("${queue[@]:1}")
        while read -r dep; do
            [[ -n ${seen[$dep]:-} ]] && continue
            seen[$dep]=1
            installed "$dep" && continue
            printf '%s\n' "$dep"
            queue+=("$dep")
        done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts \
                     --no-breaks --no-replaces --no-enhances "$pkg" 2>/dev/null |
                     sed -n 's/^  \(Pre\)\{0,1\}Depends: \(lib[^ <>]*\)$/\2/p' | sed 's/:any$//')
    done
}

multiarch_dir() {  # ROOT
    local d
    for d in "$1"/usr/lib/*-linux-gnu; do
        [[ -d $d ]] && { printf '%s\n' "$d"; return 0; }
    done
    return 1
}

# Every binary must find all its libraries, in the tree or on the system.
check_libraries() {  # ROOT
    local lib bin missing
    lib=$(multiarch_dir "$1") || { echo "no usr/lib/*-linux-gnu in $1"; return 1; }
    missing=0
    for bin in "${BINARIES[@]}"; do
        [[ -x $1/$bin ]] || { echo "$bin is missing from $1"; missing=1; continue; }
        LD_LIBRARY_PATH=$lib ldd "$1/$bin" 2>&1 | sed -n "s|^\t*\(.*\) => not found|$bin needs \1, found neither on the system nor in the packages|p" |
            grep . && missing=1
    done
    return "$missing"
}

stamp_text() {
    printf 'packages: %s\n' "${PACKAGES[*]}"
}

download() {  # DIR PACKAGE...
    local dir=$1
    shift
    # apt fetches as _apt when it can write the directory, else it warns.
    if id _apt >/dev/null 2>&1; then chown _apt "$dir" 2>/dev/null || true; fi
    (cd "$dir" && apt-get download -q "$@") >"$dir.log" 2>&1
}

cmd_install() {
    local started=$SECONDS pkgs debs new d sudo=()
    if [[ -r $STAMP && $(head -n 1 "$STAMP") == "$(stamp_text)" ]] &&
        check_libraries "$ROOT" >/dev/null; then
        say "already unpacked in $ROOT ($(sed -n 's/^versions: //p' "$STAMP"))"
        return 0
    fi
    if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
        die "install needs apt-get and dpkg-deb (Debian, Ubuntu)"
    fi
    command -v python3 >/dev/null || die "python3 is needed: apt-get install python3"
    if ((EUID != 0)) && command -v sudo >/dev/null; then sudo=(sudo); fi
    # Without package lists (a fresh machine) apt knows no Cyrus at all.
    if ! apt-cache show cyrus-imapd >/dev/null 2>&1; then
        say "apt knows no cyrus-imapd: running apt-get update"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    fi
    mkdir -p "$CACHE"
    mapfile -t pkgs < <(printf '%s\n' "${PACKAGES[@]}"; missing_libraries)
    debs=$CACHE/debs
    rm -rf "$debs" "$debs.log"
    mkdir -p "$debs"
    say "downloading ${pkgs[*]}"
    if ! download "$debs" "${pkgs[@]}"; then
        # Stale package lists name versions the mirror no longer has.
        say "apt-get download failed; running apt-get update and trying again"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        rm -rf "$debs"
        mkdir -p "$debs"
        download "$debs" "${pkgs[@]}" || { sed 's/^/apt-get: /' "$debs.log" >&2; die "apt-get download failed"; }
    fi
    new=$CACHE/root.new
    rm -rf "$new"
    mkdir -p "$new"
    for d in "$debs"/*.deb; do
        dpkg-deb -x "$d" "$new"
    done
    # Debian's /lib, /bin and /sbin are links into /usr, which is the one
    # directory of these that the namespace overlays: move them there.
    for d in lib lib64 bin sbin; do
        if [[ -d $new/$d && ! -L $new/$d ]]; then
            mkdir -p "$new/usr/$d"
            cp -a "$new/$d/." "$new/usr/$d/"
            rm -rf "${new:?}/$d"
        fi
    done
    if ! check_libraries "$new" >"$CACHE/libraries.log"; then
        sed 's/^/cyrus: /' "$CACHE/libraries.log" >&2
        die "the unpacked Cyrus cannot run here; install the missing libraries with apt-get"
    fi
    rm -rf "$ROOT"
    mv "$new" "$ROOT"
    {
        stamp_text
        printf 'versions:'
        for d in "$debs"/*.deb; do d=${d##*/}; printf ' %s' "${d%_*}"; done
        printf '\n'
    } >"$STAMP"
    rm -rf "$debs" "$debs.log"
    say "unpacked ${#pkgs[@]} packages into $ROOT in $((SECONDS - started)) s"
}

# ---------------------------------------------------------------- layout

set_layout() {
    D=$1
    CONF=$D/conf/imapd.conf
    CYRUS_CONF=$D/conf/cyrus.conf
    SASLDB=$D/conf/sasldb2
    TLS_DIR=$D/tls
    LOG_DIR=$D/log
    RUN=$D/run
    NS_DIR=$D/ns
    HOLDER_PID=$RUN/namespace.pid
    MASTER_PID=$RUN/master.pid
    SYSLOG_PID=$RUN/syslog.pid
    ENV_FILE=$D/cyrus.env
}

# A live process (not a zombie) with this command name.
alive() {  # PID COMM
    [[ -n $1 && $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]] &&
        ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

pid_in() {  # PIDFILE
    [[ -r $1 ]] && tr -dc '0-9' <"$1"
}

# The holder of this DIR's namespace: a sleep started in DIR, in another mount
# namespace than ours. A recycled pid is never taken for it.
holder_pid() {
    local pid
    pid=$(pid_in "$HOLDER_PID") || return 1
    alive "$pid" sleep && [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$D" ]] &&
        [[ $(readlink "/proc/$pid/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]] || return 1
    printf '%s\n' "$pid"
}

# Processes of DIR's namespace, other than its holder.
namespace_pids() {  # HOLDER
    local ns p
    ns=$(readlink "/proc/$1/ns/mnt") || return 0
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p != "$1" && $(readlink "/proc/$p/ns/mnt" 2>/dev/null) == "$ns" ]] &&
            ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null && printf '%s\n' "$p"
    done
}

# Cyrus's master works in its configdirectory, DIR/lib.
master_pid() {
    local pid
    pid=$(pid_in "$MASTER_PID") || return 1
    alive "$pid" master && [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$D"/* ]] || return 1
    printf '%s\n' "$pid"
}

in_ns() {  # HOLDER CMD...
    local pid=$1
    shift
    nsenter -t "$pid" -m -- "$@"
}

running() {
    holder_pid >/dev/null || master_pid >/dev/null
}

wait_pids_gone() {  # SECONDS PID...
    local deadline=$((SECONDS + $1)) pid left
    shift
    while :; do
        left=()
        for pid in "$@"; do
            [[ -e /proc/$pid ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null &&
                left+=("$pid")
        done
        ((${#left[@]})) || return 0
        ((SECONDS < deadline)) || { printf '%s\n' "${left[@]}"; return 1; }
        sleep 0.1
    done
}


# SIGTERM to master ends it and its imapd and pop3d children; then whatever
# else runs in the namespace (the syslog catcher), each by its pid; then the
# namespace's holder, with which the namespace and its mounts go away.
stop_cyrus() {
    local holder master rest=() left
    holder=$(holder_pid) || holder=
    master=$(master_pid) || master=
    [[ -n $holder || -n $master ]] || return 0
    if [[ -n $master ]]; then
        kill -TERM "$master" 2>/dev/null || true
        if ! wait_pids_gone "$STOP_TIMEOUT" "$master" >/dev/null; then
            say "master (pid $master) did not stop in ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$master" 2>/dev/null || true
        fi
    fi
    if [[ -n $holder ]]; then
        mapfile -t rest < <(namespace_pids "$holder")
        if ((${#rest[@]})); then
            kill -TERM "${rest[@]}" 2>/dev/null || true
            if left=$(wait_pids_gone 5 "${rest[@]}"); then :; else
                # shellcheck disable=SC2086  # one pid a line
                kill -KILL $left 2>/dev/null || true
            fi
        fi
        kill -TERM "$holder" 2>/dev/null || true
        wait_pids_gone 5 "$holder" >/dev/null || kill -KILL "$holder" 2>/dev/null || true
    fi
    wait_ports_closed
}

# ---------------------------------------------------------------- start




# A uid for the namespace's cyrus user that no user of the system has.
free_uid() {
    local uid=200
    while getent passwd "$uid" >/dev/null; do uid=$((uid + 1)); done
    printf '%s\n' "$uid"
}

# The private mount namespace: a sleep holds it, and every command runs in it
# through nsenter. Its /usr, /etc and /var show the unpacked packages over the
# system's; its /etc, /var, /run and /dev write into DIR/ns, never to the system.
start_namespace() {
    local holder d lower
    rm -rf "$NS_DIR"
    for d in "${OVERLAID[@]}"; do mkdir -p "$NS_DIR/$d/upper" "$NS_DIR/$d/work"; done
    (cd "$D" && exec unshare -m --propagation private sleep infinity) </dev/null >/dev/null 2>&1 &
    echo $! >"$HOLDER_PID"
    local deadline=$((SECONDS + 5))
    until holder=$(holder_pid); do
        ((SECONDS < deadline)) || die "unshare -m did not start a mount namespace (is this root?)"
        sleep 0.05
    done
    for d in "${OVERLAID[@]}"; do
        lower=/$d
        [[ -d $ROOT/$d ]] && lower=$ROOT/$d:/$d
        in_ns "$holder" mount -t overlay overlay \
            -o "lowerdir=$lower,upperdir=$NS_DIR/$d/upper,workdir=$NS_DIR/$d/work" "/$d" ||
            die "could not mount an overlay on /$d in the namespace"
    done
    in_ns "$holder" sh -c "printf 'cyrus:x:%s:%s:Cyrus IMAP:%s:/usr/sbin/nologin\n' \
        $CYRUS_UID $(getent group mail | cut -d: -f3) $D/lib >>/etc/passwd"
    # Cyrus logs only to syslog; the namespace's /dev/log takes it to a file.
    nsenter -t "$holder" -m -- python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
with open(sys.argv[1], "ab", buffering=0) as log:
    while True:
        log.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' "$LOG_DIR/cyrus.log" </dev/null >/dev/null 2>>"$LOG_DIR/syslog.err" &
    echo $! >"$SYSLOG_PID"
    deadline=$((SECONDS + 5))
    until in_ns "$holder" test -S /dev/log; do
        ((SECONDS < deadline)) || die "the syslog catcher did not start: $(cat "$LOG_DIR/syslog.err")"
        sleep 0.05
    done
    HOLDER=$holder
}

write_conf() {
    cat >"$CONF" <<EOF
# Written by cyrus.sh start; rewritten on every start.
configdirectory: $D/lib
defaultpartition: default
partition-default: $D/spool
proc_path: $RUN/proc
mboxname_lockpath: $RUN/lock
lmtpsocket: $RUN/socket/lmtp
idlesocket: $RUN/socket/idle
notifysocket: $RUN/socket/notify
servername: localhost
syslog_prefix: cyrus-$INSTANCE

# Folders are INBOX.NAME: the netnews separator, no alternate namespace.
altnamespace: no
unixhierarchysep: no
# carol@$DOMAIN logs in as such; her INBOX is created at her first login.
virtdomains: userid
autocreate_quota: 0
admins: cyrus

# Plain-text login on the non-TLS ports too, as the tests of Dovecot have it.
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $SASLDB
sasl_mech_list: PLAIN LOGIN
# Tests of wrong passwords and of many POP3 logins must not wait.
failedloginpause: 0
popminpoll: 0

tls_server_cert: $TLS_DIR/cert.pem
tls_server_key: $TLS_DIR/key.pem
EOF
    local bin=/usr/lib/cyrus/bin
    cat >"$CYRUS_CONF" <<EOF
# Written by cyrus.sh start; rewritten on every start.
START {
  recover cmd="$bin/ctl_cyrusdb -C $CONF -r"
}
SERVICES {
  imap  cmd="$bin/imapd -C $CONF" listen="127.0.0.1:$IMAP_PORT" prefork=0
  imaps cmd="$bin/imapd -C $CONF -s" listen="127.0.0.1:$IMAPS_PORT" prefork=0
  pop3  cmd="$bin/pop3d -C $CONF" listen="127.0.0.1:$POP3_PORT" prefork=0
  pop3s cmd="$bin/pop3d -C $CONF -s" listen="127.0.0.1:$POP3S_PORT" prefork=0
}
EVENTS {
  checkpoint cmd="$bin/ctl_cyrusdb -C $CONF -c" period=30
}
EOF
}

write_env() {
    local key u
    {
        printf 'CYRUS_DIR=%s\n' "$D"
        for key in "${PORT_KEYS[@]}"; do
            printf '%s=%s\n' "$key" "${!key}"
        done
        printf 'CA_FILE=%s\n' "$TLS_DIR/cert.pem"
        printf 'DOMAIN=%s\n' "$DOMAIN"
        printf 'SEPARATOR=.\n'
        printf 'USERS="%s"\n' "$(for u in "${TEST_USERS[@]}"; do printf '%s@%s ' "$u" "$DOMAIN"; done | sed 's/ $//')"
        for u in "${TEST_USERS[@]}"; do
            printf 'PASSWORD_%s=%spw\n' "$u" "$u"
        done
    } >"$ENV_FILE.tmp"
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# Waits until every port greets as it should (TLS verified against CA_FILE),
# and every user can log in over IMAPS, which also creates their INBOXes.
# Prints one line per problem; gives up early once master has exited or Cyrus
# has logged a fatal error.
wait_ready() {
    python3 - "$READY_TIMEOUT" "$TLS_DIR/cert.pem" "$MASTER_PID" "$LOG_DIR/cyrus.log" \
        "$LOG_DIR/master.log" "${TEST_USERS[*]}" "$DOMAIN" \
        "IMAP_PORT:$IMAP_PORT:plain:* OK" "IMAPS_PORT:$IMAPS_PORT:tls:* OK" \
        "POP3_PORT:$POP3_PORT:plain:+OK" "POP3S_PORT:$POP3S_PORT:tls:+OK" <<'PY'
import imaplib, os, poplib, re, socket, ssl, sys, time
timeout, cafile, pidfile, log, master_log, users, domain = sys.argv[1:8]
deadline = time.monotonic() + float(timeout)
ctx = ssl.create_default_context(cafile=cafile)
pending = {}
ports = {}
for spec in sys.argv[8:]:
    name, port, kind, greeting = spec.split(":", 3)
    ports[name] = int(port)
    pending[name] = (int(port), kind, greeting.encode(), "no attempt")
for user in users.split():
    pending["login " + user] = (None, "login", user, "no attempt")

def hopeless():
    try:
        pid = int(open(pidfile).read().strip())
    except (OSError, ValueError):
        return None  # master has not written its pid yet
    try:
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
        if "\nState:\tZ" not in status and status.startswith("Name:\tmaster"):
            pid = None
    except OSError:
        pass
    if pid is not None:
        return f"master (pid {pid}) has exited"
    for path in (log, master_log):
        try:
            with open(path, errors="replace") as f:
                m = re.search(r".*(\b(fatal|FATAL|panic)\b|error initializing TLS).*", f.read())
        except OSError:
            continue
        if m:
            return f"{path}: {m.group(0)}"
    return None

def probe(port, kind, greeting):
    if kind == "login":
        user = greeting
        with imaplib.IMAP4_SSL("localhost", ports["IMAPS_PORT"], ssl_context=ctx, timeout=5) as m:
            m.login(f"{user}@{domain}", f"{user}pw")
            typ, data = m.select("INBOX", readonly=True)
            if typ != "OK":
                raise OSError(f"SELECT INBOX: {data}")
            m.logout()
        return
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        sock = ctx.wrap_socket(raw, server_hostname="localhost") if kind == "tls" else raw
        sock.settimeout(2)
        line = sock.recv(512)
        if not line.startswith(greeting):
            raise OSError(f"greeting {line[:60]!r}, expected {greeting.decode()!r}")

why = None
while pending:
    for name, (port, kind, greeting, _) in list(pending.items()):
        if kind == "login" and any(k.endswith("_PORT") for k in pending):
            continue
        try:
            probe(port, kind, greeting)
            del pending[name]
        except (OSError, ssl.SSLError, imaplib.IMAP4.error) as e:
            pending[name] = (port, kind, greeting, str(e) or type(e).__name__)
    if not pending:
        break
    if time.monotonic() > deadline:
        why = f"not ready after {timeout}s"
        break
    why = hopeless()
    if why:
        break
    time.sleep(0.1)
for name, (port, _, _, err) in pending.items():
    where = f"{name} {port}" if port else name
    print(f"{where}: {why}: {err}")
sys.exit(1 if pending else 0)
PY
}

# Cyrus repeats its complaints once per connection: the distinct ones.
log_digest() {  # FILE
    [[ -s $1 ]] || return 0
    sed -E 's/^<[0-9]+>//; s/^[A-Z][a-z]{2} +[0-9]+ [0-9:]+ //; s/\[[0-9]+\]//; s/sessionid=<[^>]*>//' "$1" |
        grep -iE 'fatal|panic|error|fail|unable|denied|cannot' |
        # saslpasswd2 -c finds no old entry to delete: not a problem.
        grep -v 'saslpasswd2: error deleting entry' | awk '!seen[$0]++' | tail -n 8 |
        sed "s|^|$1: |"
}

# Starts master with the ports chosen. Returns 0 when all is ready, 2 when a
# port was taken meanwhile, else 1; the explanation is in $PROBLEMS.
launch() {
    PROBLEMS=$LOG_DIR/start-problems
    : >"$PROBLEMS"
    : >"$LOG_DIR/master.log"
    rm -f "$MASTER_PID"
    chown "$CYRUS_UID:mail" "$LOG_DIR/master.log"
    if ! in_ns "$HOLDER" /usr/lib/cyrus/bin/master -C "$CONF" -M "$CYRUS_CONF" -p "$MASTER_PID" \
        -d -L "$LOG_DIR/master.log" </dev/null >"$LOG_DIR/master.start" 2>&1; then
        {
            echo "Cyrus's master failed to start:"
            sed 's/^/master: /' "$LOG_DIR/master.start"
            log_digest "$LOG_DIR/cyrus.log"
        } >>"$PROBLEMS"
    elif ! wait_ready >>"$PROBLEMS" 2>&1; then
        {
            log_digest "$LOG_DIR/cyrus.log"
            log_digest "$LOG_DIR/master.log"
        } >>"$PROBLEMS"
    else
        return 0
    fi
    if grep -qi 'address already in use' "$PROBLEMS" "$LOG_DIR/cyrus.log" "$LOG_DIR/master.log"; then
        return 2
    fi
    return 1
}

require_commands() {
    local cmd missing=()
    for cmd in unshare nsenter mount openssl python3; do
        command -v "$cmd" >/dev/null || missing+=("$cmd")
    done
    ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]}"
    [[ -r $STAMP && -x $ROOT/usr/lib/cyrus/bin/master ]] ||
        die "Cyrus is not unpacked in $ROOT: run $PROG install"
}

cmd_start() {
    local dir attempt rc u k ports master sub
    require_commands
    ((EUID == 0)) || die "start needs root: it makes a mount namespace, and Cyrus's master drops privileges itself"
    dir=$(abs_path "$1")
    check_dir_name "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    check_dir_name "$dir"
    set_layout "$dir"
    if running; then
        say "Cyrus is already running in $D: stopping it first"
        stop_cyrus
    fi
    START_OK=0
    trap 'if ((START_OK == 0)); then stop_cyrus; rm -f "$ENV_FILE"; fi' EXIT
    trap 'exit 130' INT TERM
    check_reachable "$D" "the cyrus user"
    chmod 755 "$D"
    ((${#RUN} + 30 <= 107)) ||
        die "DIR is too long (${#D} characters) for Cyrus's Unix sockets under $RUN: use a path of at most 70 characters"
    rm -rf "$RUN"
    # The configdirectory's layout, as the package's postinst makes it.
    mkdir -p "$D/conf" "$D/spool" "$RUN/proc" "$RUN/lock" "$RUN/socket" "$TLS_DIR" "$LOG_DIR"
    for sub in db socket log msg proc quota sieve user ptclient; do mkdir -p "$D/lib/$sub"; done
    : >"$LOG_DIR/cyrus.log"
    INSTANCE=$(printf '%s' "$D" | cksum | cut -d' ' -f1)
    CYRUS_UID=$(free_uid)
    make_cert 640
    start_namespace

    rm -f "$SASLDB"
    for u in "${TEST_USERS[@]}"; do
        printf '%spw' "$u" | in_ns "$HOLDER" saslpasswd2 -p -c -f "$SASLDB" -u "$DOMAIN" "$u" ||
            die "saslpasswd2 could not add $u"
    done
    # Cyrus runs as the namespace's cyrus user and must own its files.
    chown -R "$CYRUS_UID:mail" "$D/conf" "$D/lib" "$D/spool" "$RUN" "$TLS_DIR/key.pem" "$LOG_DIR/cyrus.log"

    for attempt in 1 2 3; do
        read -r IMAP_PORT IMAPS_PORT POP3_PORT POP3S_PORT <<<"$(pick_ports)"
        write_conf
        write_env
        rc=0
        launch || rc=$?
        ((rc == 0)) && break
        if master=$(master_pid); then
            kill -TERM "$master" 2>/dev/null || true
            wait_pids_gone "$STOP_TIMEOUT" "$master" >/dev/null || kill -KILL "$master" 2>/dev/null || true
        fi
        ((rc == 2 && attempt < 3)) && { say "a port was taken meanwhile; trying new ports"; continue; }
        sed 's/^/cyrus: /' "$PROBLEMS" >&2
        exit 1
    done
    # shellcheck disable=SC2034  # read by the EXIT trap
    START_OK=1
    ports=$(for k in "${PORT_KEYS[@]}"; do printf ' %s' "${!k}"; done)
    say "Cyrus running in $D (ports$ports)"
    cat "$ENV_FILE"
}

dir_arg() {
    local dir
    dir=$(abs_path "$1")
    [[ -d $dir ]] || return 1
    (cd "$dir" && pwd -P)
}

cmd_stop() {
    local dir
    dir=$(dir_arg "$1") || return 0
    set_layout "$dir"
    stop_cyrus
}

cmd_env() {
    local dir
    dir=$(dir_arg "$1") || die "no such directory: $1"
    set_layout "$dir"
    [[ -r $ENV_FILE ]] || die "no cyrus.env in $D: run $PROG start $1"
    cat "$ENV_FILE"
}

# ---------------------------------------------------------------- mail

running_env() {  # DIR
    local dir
    dir=$(dir_arg "$1") || die "no such directory: $1"
    set_layout "$dir"
    if [[ ! -r $ENV_FILE ]] || ! master_pid >/dev/null; then
        die "Cyrus is not running in $D: run $PROG start $1"
    fi
    IMAPS_PORT=$(sed -n 's/^IMAPS_PORT=//p' "$ENV_FILE")
}

check_mailbox() {
    [[ $1 =~ ^[A-Za-z0-9\&][A-Za-z0-9\ ._\&+,-]*$ ]] ||
        die "MAILBOX must be ASCII letters, digits, space and ._-&+, (a dot nests folders; modified UTF-7 for other scripts): $1"
}

# The IMAP client all mail commands share: logs USER in over IMAPS and runs
# the Python code given, which finds the connection in `m`.
imap_client() {  # USER CODE ARGS...
    local user=$1 code=$2
    shift 2
    # The program goes in -c: standard input is append's message.
    python3 -c "$(cat <<PY
import imaplib, os, ssl, sys, time
port, cafile, user, password = sys.argv[1:5]
args = sys.argv[5:]
m = imaplib.IMAP4_SSL("localhost", int(port), ssl_context=ssl.create_default_context(cafile=cafile), timeout=30)
m.login(user, password)

def check(what, reply):
    typ, data = reply
    if typ != "OK":
        sys.exit(f"cyrus: {what}: {typ} {data}")
    return data

def ensure(mailbox):
    if mailbox.upper() == "INBOX":
        return "INBOX"
    typ, data = m.create(mailbox)
    if typ != "OK" and b"already exists" not in b" ".join(data).lower():
        sys.exit(f"cyrus: CREATE {mailbox}: {typ} {data}")
    check(f"SUBSCRIBE {mailbox}", m.subscribe(mailbox))
    return mailbox

def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

$code
m.logout()
PY
)" "$IMAPS_PORT" "$TLS_DIR/cert.pem" "$user" "${user%@*}pw" "$@"
}

cmd_seed() {
    local user n mailbox folder seed_dir out
    running_env "$1"
    user=$(normalize_user "$2")
    n=$3
    mailbox=${4:-INBOX}
    [[ $n =~ ^[0-9]+$ ]] || die "N must be a number: $n"
    check_mailbox "$mailbox"
    [[ ${mailbox^^} == INBOX ]] && mailbox=INBOX
    # mailstack.sh seed makes the messages, as Maildir files in a directory
    # where no Dovecot runs; they stay there, so that numbering goes on from
    # one seed to the next. Its cur/ holds those not yet appended, new/ the rest.
    seed_dir=$D/seed
    mkdir -p "$seed_dir"
    # One seed at a time: tests seed in parallel, and the generator's first run
    # in a user's Maildir makes directories that a second would make too.
    exec 9>"$seed_dir/.lock"
    flock 9
    folder=$("$HERE/mailstack.sh" maildir "$seed_dir" "$user")
    [[ $mailbox == INBOX ]] || folder="$folder/.$mailbox"
    out=$("$HERE/mailstack.sh" seed "$seed_dir" "$user" "$n" "$mailbox" 2>&1) ||
        die "mailstack.sh seed failed: $out"
    imap_client "$user" '
mailbox = ensure(args[0])
cur, new = os.path.join(args[1], "cur"), os.path.join(args[1], "new")
# File names start with the arrival time, then .M and the number in the run.
def order(name):
    when, rest = name.split(".", 1)
    return (int(when), int(rest[1:].split("P", 1)[0]))
for name in sorted(os.listdir(cur), key=order):
    path = os.path.join(cur, name)
    with open(path, "rb") as f:
        data = crlf(f.read())
    check(f"APPEND to {mailbox}", m.append(mailbox, None, os.stat(path).st_mtime, data))
    os.rename(path, os.path.join(new, name))
' "$mailbox" "$folder"
}

cmd_append() {
    local user mailbox
    running_env "$1"
    user=$(normalize_user "$2")
    mailbox=$3
    check_mailbox "$mailbox"
    shift 3
    imap_client "$user" '
mailbox = ensure(args[0])
for path in args[1:] or ["-"]:
    data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    check(f"APPEND to {mailbox}", m.append(mailbox, None, None, crlf(data)))
' "$mailbox" "$@"
}

cmd_messages() {
    local user mailbox out
    running_env "$1"
    user=$(normalize_user "$2")
    mailbox=$3
    out=$4
    check_mailbox "$mailbox"
    mkdir -p "$out"
    imap_client "$user" '
mailbox, out = args
check(f"EXAMINE {mailbox}", m.select(mailbox, readonly=True))
data = check("UID FETCH", m.uid("FETCH", "1:*", "(UID BODY.PEEK[])"))
for item in data:
    if not isinstance(item, tuple):
        continue
    head, body = item
    uid = head.split(b"UID ", 1)[1].split()[0].decode()
    with open(os.path.join(out, uid + ".eml"), "wb") as f:
        f.write(body)
' "$mailbox" "$out"
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
        append) (($# >= 3)) || usage; cmd_append "$@" ;;
        messages) (($# == 4)) || usage; cmd_messages "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
