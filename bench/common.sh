# Shared by the benchmarks: sourced, not run. Installs what is missing (as root), builds
# mailer in release mode, starts a private mail stack in a temporary directory (stopped
# and removed on exit), and offers `measure`.

# need PACKAGE COMMAND...: install PACKAGE when a COMMAND is missing (as root), else fail.
need() {
    local package=$1 cmd
    shift
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null && continue
        if [[ $(id -u) -eq 0 ]]; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
        else
            echo "bench: $cmd is missing: apt-get install $package" >&2
            exit 69
        fi
    done
}

if [[ $(id -u) -eq 0 ]]; then
    tests/mailstack.sh install
fi
need python3 python3
need time /usr/bin/time

cargo build --release --locked -q --bin mailer --example delay-proxy
mailer=$PWD/target/release/mailer

# Deleting thousands of files leaves ext4 slower to create files for minutes after (with
# no journal, as on these machines, it passes over inodes freed in the last one to six
# minutes, one by one, for every new file): a benchmark run right after another one's
# cleanup stores mail several times slower. BENCH_KEEP=DIR moves each run's folder into
# DIR instead of deleting it, for runs back to back; `creates_ms` shows the pace.
work=$(mktemp -d /tmp/mailer-bench.XXXXXX)
chmod 755 "$work"
stack=$work/stack
# Helpers a benchmark starts in the background (delay proxies) note their pid in
# $work/helpers.pid, from subshells too; they are ended with the stack.
cleanup() {
    if [[ -f $work/helpers.pid ]]; then
        while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/helpers.pid"
    fi
    tests/mailstack.sh stop "$stack" >/dev/null 2>&1 || true
    if [[ -n ${BENCH_KEEP:-} ]]; then
        mkdir -p "$BENCH_KEEP" && mv "$work" "$BENCH_KEEP/"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
tests/mailstack.sh start "$stack" >/dev/null
# shellcheck disable=SC1091
source "$stack/stack.env"
export XDG_STATE_HOME=$work/state

# delay_proxy ONE_WAY_MS TARGET_PORT: starts bench/delay_proxy.rs on a free port in
# front of TARGET_PORT, prints that port once it listens (ended with the stack).
delay_proxy() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    target/release/examples/delay-proxy "$port" "$2" "$1" >"$work/proxy-$port" 2>&1 &
    echo $! >>"$work/helpers.pid"
    for _ in $(seq 1 100); do
        grep -q ready "$work/proxy-$port" 2>/dev/null && break
        sleep 0.05
    done
    grep -q ready "$work/proxy-$port" || { echo "bench: the delay proxy did not start" >&2; exit 1; }
    echo "$port"
}

# measure COMMAND...: prints its wall seconds and peak RSS in MB, from GNU time.
measure() {
    /usr/bin/time -o "$work/time" -f "%e %M" "$@" >/dev/null 2>"$work/stderr" ||
        { echo "bench: $* failed: $(tail -n 3 "$work/stderr")" >&2; exit 1; }
    local out
    out=$(tail -n 1 "$work/time")
    printf '%s %s\n' "${out% *}" "$(( ${out#* } / 1024 ))"
}

# median X...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# ratio A B: A / B with two decimals.
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# creates_ms: how long 1,000 empty files take to create here, in ms: about 10 when the
# filesystem is as it should be, 100 and more after a large deletion (see BENCH_KEEP).
creates_ms() {
    python3 - "$work" <<'PY'
import os, sys, tempfile, time
d = tempfile.mkdtemp(dir=sys.argv[1])
t = time.perf_counter()
for i in range(1000):
    os.close(os.open(os.path.join(d, str(i)), os.O_CREAT | os.O_WRONLY, 0o600))
print(f"{(time.perf_counter() - t) * 1000:.0f}")
PY
}

# pagecache_ms: how long writing 64 MB into a new file (the page cache, no sync) takes
# here, in ms: about 20 where the machine's memory is in use already; several times that
# on a virtual machine whose host takes back the memory the guest frees, as on these
# machines, where each page's first touch costs a trip to the host. Every client pays it
# per byte stored, which weighs most on the fastest.
pagecache_ms() {
    python3 - "$work" <<'PY'
import os, sys, time
block = b"x" * (1 << 20)
t = time.perf_counter()
with open(os.path.join(sys.argv[1], "pagecache-probe"), "wb") as f:
    for _ in range(64):
        f.write(block)
    took = time.perf_counter() - t
    # Written out before the runs, so that the first syncfs of a run has not 64 MB
    # more to write.
    os.fsync(f.fileno())
print(f"{took * 1000:.0f}")
PY
}

# machine_state: the two figures above as the benchmarks print them, measured when
# called (before the runs), so that runs on different days can be told apart.
machine_state() {
    local creates pagecache
    creates=$(creates_ms)
    pagecache=$(pagecache_ms)
    echo "filesystem: 1,000 file creations took ${creates} ms before the runs (~10 on a settled"
    echo "            filesystem; far more within minutes of a large deletion: see BENCH_KEEP)"
    echo "memory:     writing 64 MB into the page cache took ${pagecache} ms (~20 when memory is"
    echo "            warm; far more on a VM whose host takes freed memory back: see common.sh)"
}

# settle_filesystem: waits, up to six minutes, until 1,000 file creations take at most
# 40 ms, so that the runs after it do not pay for files an earlier run deleted (see
# BENCH_KEEP), and prints what it found. It deletes nothing itself.
settle_filesystem() {
    local waited=0 ms
    ms=$(creates_ms)
    while ((ms > 40 && waited < 360)); do
        sleep 15
        waited=$((waited + 15))
        ms=$(creates_ms)
    done
    if ((ms > 40)); then
        echo "filesystem: not settled after ${waited} s (1,000 file creations ${ms} ms): runs slowed"
    else
        echo "filesystem: settled after ${waited} s of waiting (1,000 file creations ${ms} ms)"
    fi
}

# configure_clients DIR: mailer's and mbsync's configuration for carol's INBOX over
# IMAPS_PORT, each storing into an empty folder of its own under DIR: mailer with a fresh
# state (no hints from an earlier session), mbsync with its sync state in its folder.
configure_clients() {
    local dir=$1
    mkdir -p "$dir/mbsync-mail"
    cat >"$dir/mailer.toml" <<TOML
[accounts.carol]
email = "carol@example.test"
password = "carolpw"
maildir = "$dir/mailer-mail"
[accounts.carol.imap]
host = "localhost"
port = $IMAPS_PORT
ca_file = "$CA_FILE"
TOML
    chmod 600 "$dir/mailer.toml"
    cat >"$dir/mbsyncrc" <<RC
IMAPAccount carol
Host localhost
Port $IMAPS_PORT
User carol@example.test
Pass carolpw
SSLType IMAPS
CertificateFile $CA_FILE

IMAPStore remote
Account carol

MaildirStore local
Path $dir/mbsync-mail/
Inbox $dir/mbsync-mail/INBOX

Channel carol
Far :remote:
Near :local:
Patterns INBOX
Sync Pull
Create Near
SyncState *
RC
}

# measure_client mailer|mbsync DIR: `measure` of one fetch by that client, configured
# by configure_clients DIR.
measure_client() {
    case $1 in
    mailer) measure env XDG_STATE_HOME="$2/state" "$mailer" -c "$2/mailer.toml" fetch --inbox ;;
    mbsync) measure mbsync -c "$2/mbsyncrc" -a ;;
    esac
}

# record WHO SECONDS MB: adds SECONDS to the array WHO_all and keeps the largest MB in
# WHO_mb.
record() {
    eval "$1_all+=($2)"
    eval "(( $3 > $1_mb )) && $1_mb=$3" || true
}

# pop3_clients DIR: mailer's and fetchmail's configuration for carol's INBOX over
# POP3S_PORT: mailer storing into an empty Maildir with a fresh state under DIR,
# fetchmail keeping every message on the server and handing each to an MDA that
# discards it.
pop3_clients() {
    mkdir -p "$1"
    cat >"$1/mailer.toml" <<TOML
[accounts.carol]
email = "carol@example.test"
password = "carolpw"
maildir = "$1/mailer-mail"
[accounts.carol.pop3]
host = "localhost"
port = $POP3S_PORT
ca_file = "$CA_FILE"
TOML
    cat >"$1/fetchmailrc" <<RC
poll localhost protocol POP3 port $POP3S_PORT
  user "carol@example.test" password "carolpw"
  ssl sslcertck sslcertfile "$CA_FILE"
  keep fetchall mda "cat >/dev/null"
RC
    chmod 600 "$1/mailer.toml" "$1/fetchmailrc"
}

# retr_loop: writes $work/retr_loop.py, a one-command-at-a-time POP3S RETR loop over
# carol's INBOX (Python's poplib, bodies discarded), run as `retr_loop.py PORT CA_FILE`.
retr_loop() {
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
}
