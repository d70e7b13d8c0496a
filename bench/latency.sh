#!/usr/bin/env bash
# The everyday commands at 0 and 50 ms round-trip time, beside their peers, in one run
# on one private mail stack. Not part of CI (it takes a few minutes):
#
#   bench/latency.sh [RUNS]      # runs per command and delay, default 7
#
# Each client goes through bench/delay_proxy.rs (25 ms each way, TCP's own round trip
# included), and the runs of mailer and its peer alternate. Printed: the median wall
# time of each, and mailer's as a ratio of the peer's.
#
#   send one message   mailer send            msmtp 1.8 (Debian's), the same account
#                      over implicit TLS (465) and over STARTTLS (587), AUTH PLAIN
#   list --limit 50    mailer list            himalaya 2.2 `envelope list -s 50`, when it
#                      over IMAPS             is on PATH (cargo install himalaya --locked)
#   queue flush of 100 mailer queue flush     100 msmtp runs, one message each, at 50 ms RTT
#                      over STARTTLS
#   send + Sent copy   mailer send, keeping   msmtp over implicit TLS, which keeps no
#                      its copy in Sent       copy: what the copy costs on top
#   fetch of 1,000     mailer fetch --inbox   mbsync (isync 1.4, Debian's) into an empty
#                      over IMAPS, into an    Maildir, FSync on (its default)
#                      empty Maildir
#   fetch of 1,000     mailer fetch --inbox   fetchmail 6 (Debian's), keeping the mail
#                      over POP3S             and discarding it; a poplib RETR loop.
#                                             At 50 ms, one run of each (a minute or so)
#
# Before the fetches it waits (up to six minutes) for the filesystem to settle from any
# earlier deletion, and prints the machine's state as bench/fetch.sh does. The whole run
# takes about eight minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}

# shellcheck source=bench/common.sh
source bench/common.sh
need msmtp msmtp
need isync mbsync
need fetchmail fetchmail

echo "seeding 60 messages for list, 1,000 for fetch ..."
tests/mailstack.sh seed "$stack" alice 60 >/dev/null
tests/mailstack.sh seed "$stack" carol 1000 >/dev/null
fetched=1000
retr_loop

declare -A port
for delay in 0 25; do
    for target in SUBMISSIONS_PORT SUBMISSION_PORT IMAPS_PORT POP3S_PORT; do
        port[$delay-$target]=$(delay_proxy "$delay" "${!target}")
    done
done

# servers NAME DELAY: the account's SMTP and IMAP sections, over implicit TLS.
servers() {
    local kind port_of
    for kind in smtp imap; do
        port_of=SUBMISSIONS_PORT
        [[ $kind == imap ]] && port_of=IMAPS_PORT
        printf '[accounts.%s.%s]\nhost = "localhost"\nport = %s\nsecurity = "tls"\nca_file = "%s"\n' \
            "$1" "$kind" "${port[$2-$port_of]}" "$CA_FILE"
    done
}

# The same account for every client, once per delay.
for delay in 0 25; do
    cat >"$work/mailer-$delay.toml" <<TOML
[accounts.tls]
email = "alice@example.test"
password = "alicepw"
# msmtp keeps no copy in Sent either: the same work on both sides.
save_sent = false
$(servers tls "$delay")

# The same, keeping a copy in Sent, as an IMAP account does by default.
[accounts.copy]
email = "alice@example.test"
password = "alicepw"
sent_mailbox = "Sent"
$(servers copy "$delay")

[accounts.starttls]
email = "alice@example.test"
password = "alicepw"
[accounts.starttls.smtp]
host = "localhost"
port = ${port[$delay-SUBMISSION_PORT]}
security = "starttls"
ca_file = "$CA_FILE"
TOML
    cat >"$work/msmtp-$delay" <<RC
defaults
auth plain
user alice@example.test
password alicepw
from alice@example.test
tls_trust_file $CA_FILE
host localhost

account tls
port ${port[$delay-SUBMISSIONS_PORT]}
tls on
tls_starttls off

account starttls
port ${port[$delay-SUBMISSION_PORT]}
tls on
tls_starttls on
RC
    cat >"$work/himalaya-$delay.toml" <<TOML
[accounts.alice]
default = true
email = "alice@example.test"
imap.server = "localhost:${port[$delay-IMAPS_PORT]}"
imap.tls.cert = "$CA_FILE"
imap.sasl.plain.username = "alice@example.test"
imap.sasl.plain.password.raw = "alicepw"
TOML
    chmod 600 "$work/mailer-$delay.toml" "$work/msmtp-$delay" "$work/himalaya-$delay.toml"
done

# An empty folder with fresh state for every fetch, $work/fetch/PROTOCOL/DELAY/N, with
# each client's configuration in it (enough for three clients' runs).
for delay in 0 25; do
    for run in $(seq 1 "$((3 * runs))"); do
        IMAPS_PORT=${port[$delay-IMAPS_PORT]} configure_clients "$work/fetch/imap/$delay/$run"
        POP3S_PORT=${port[$delay-POP3S_PORT]} pop3_clients "$work/fetch/pop3/$delay/$run"
    done
done
# The server's caches warmed for both protocols before anything is timed.
configure_clients "$work/fetch/warm-imap"
pop3_clients "$work/fetch/warm-pop3"
for protocol in imap pop3; do
    XDG_STATE_HOME=$work/fetch/warm-$protocol/state \
        "$mailer" -c "$work/fetch/warm-$protocol/mailer.toml" fetch --inbox >/dev/null
done

# The mailbox the copy account's copies go to.
"$mailer" -c "$work/mailer-0.toml" -a copy mailboxes create Sent >/dev/null

# The starttls account with its server down, to queue messages for a flush.
sed "s/^port = ${port[0-SUBMISSION_PORT]}\$/port = 1/" "$work/mailer-0.toml" >"$work/mailer-down.toml"
chmod 600 "$work/mailer-down.toml"

echo "waiting for the filesystem to settle, if it must ..."
settle_filesystem
machine_state

message='To: bob@example.test
Subject: latency

one message
'

# Runs both commands of each pair RUNS times, alternating, and prints the medians.
python3 - "$runs" "$mailer" "$work" "$message" "$CA_FILE" "$fetched" \
    "${port[0-POP3S_PORT]}" "${port[25-POP3S_PORT]}" <<'PY'
import itertools, os, shutil, statistics, subprocess, sys, time

runs, mailer, work, message, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
fetched, pop3s_port = int(sys.argv[6]), {0: sys.argv[7], 25: sys.argv[8]}
env = dict(os.environ, SSL_CERT_FILE=ca)

def timed(cmd, stdin=None, **extra):
    start = time.monotonic()
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=dict(env, **extra))
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed: {(done.stderr or done.stdout).strip()[-300:]}")
    return time.monotonic() - start

def send_mailer(delay, account):
    return lambda: timed([mailer, "-c", f"{work}/mailer-{delay}.toml", "-a", account,
                          "send", "--to", "bob@example.test", "-s", "latency", "--body", "one message"])

def send_msmtp(delay, account):
    return lambda: timed(["msmtp", "-C", f"{work}/msmtp-{delay}", "-a", account, "-t"], message)

def list_mailer(delay):
    return lambda: timed([mailer, "-c", f"{work}/mailer-{delay}.toml", "-a", "tls", "list", "--limit", "50"])

def list_himalaya(delay):
    return lambda: timed(["himalaya", "-c", f"{work}/himalaya-{delay}.toml", "envelope", "list", "-s", "50"])

def queue(n):
    for i in range(n):
        subprocess.run([mailer, "-c", f"{work}/mailer-down.toml", "-a", "starttls", "send",
                        "--to", "bob@example.test", "-s", f"queued {i}", "--body", "later"],
                       capture_output=True, env=env)

def flush_mailer(delay, n):
    def run():
        queue(n)
        return timed([mailer, "-c", f"{work}/mailer-{delay}.toml", "-a", "starttls", "queue", "flush"])
    return run

def flush_msmtp(delay, n):
    return lambda: sum(send_msmtp(delay, "starttls")() for _ in range(n))

unused = {}

def folder(protocol, delay):
    """The next prepared empty folder of one protocol and delay: each run has its own."""
    runs_of = unused.setdefault((protocol, delay), itertools.count(1))
    return f"{work}/fetch/{protocol}/{delay}/{next(runs_of)}"

def stored(*maildir):
    """Fails the benchmark unless the Maildir holds every message."""
    count = sum(len(os.listdir(os.path.join(*maildir, sub))) for sub in ("new", "cur"))
    if count != fetched:
        sys.exit(f"bench: {os.path.join(*maildir)} holds {count} of {fetched} messages")

def fetch_mailer(protocol, delay):
    def run():
        d = folder(protocol, delay)
        took = timed([mailer, "-c", f"{d}/mailer.toml", "fetch", "--inbox"], XDG_STATE_HOME=f"{d}/state")
        stored(d, "mailer-mail")
        return took
    return run

def fetch_mbsync(delay):
    def run():
        d = folder("imap", delay)
        took = timed(["mbsync", "-c", f"{d}/mbsyncrc", "-a"])
        stored(d, "mbsync-mail", "INBOX")
        return took
    return run

def fetch_fetchmail(delay):
    def run():
        d = folder("pop3", delay)
        return timed(["fetchmail", "-f", f"{d}/fetchmailrc", "--nodetach", "--pidfile",
                      f"{d}/fetchmail.pid", "-s"], HOME=d)
    return run

def fetch_poplib(delay):
    return lambda: timed(["python3", f"{work}/retr_loop.py", pop3s_port[delay], ca])

def compare(label, ours, peer, theirs, their_runs=runs):
    """Runs both in turn, RUNS times each (the peer THEIR_RUNS times), and adds the row."""
    a, b = [], []
    for run in range(runs):
        a.append(ours())
        if run < their_runs:
            b.append(theirs())
    rows.append((label, statistics.median(a), peer, statistics.median(b)))

rows = []
# The fetches first, while the filesystem is as settle_filesystem left it.
for delay in (0, 25):
    rtt = 2 * delay
    once = 1 if delay else runs
    compare(f"fetch {fetched:,}, IMAPS, {rtt} ms RTT", fetch_mailer("imap", delay), "mbsync", fetch_mbsync(delay))
    compare(f"fetch {fetched:,}, POP3S, {rtt} ms RTT", fetch_mailer("pop3", delay), "fetchmail",
            fetch_fetchmail(delay), once)
    compare(f"fetch {fetched:,}, POP3S, {rtt} ms RTT", fetch_mailer("pop3", delay), "poplib RETR loop",
            fetch_poplib(delay), once)

for delay in (0, 25):
    rtt = 2 * delay
    pairs = [
        (f"send, implicit TLS, {rtt} ms RTT", send_mailer(delay, "tls"), "msmtp", send_msmtp(delay, "tls")),
        (f"send, STARTTLS, {rtt} ms RTT", send_mailer(delay, "starttls"), "msmtp", send_msmtp(delay, "starttls")),
        (f"send + Sent copy, TLS, {rtt} ms", send_mailer(delay, "copy"), "msmtp, no copy", send_msmtp(delay, "tls")),
    ]
    if shutil.which("himalaya"):
        pairs.append((f"list --limit 50, {rtt} ms RTT", list_mailer(delay), "himalaya", list_himalaya(delay)))
    else:
        rows.append((f"list --limit 50, {rtt} ms RTT", statistics.median(list_mailer(delay)() for _ in range(runs)), "himalaya not on PATH", None))
    for label, ours, peer, theirs in pairs:
        compare(label, ours, peer, theirs)

# A flush of 100 queued messages over STARTTLS beside 100 runs of msmtp, at 50 ms: the
# flush three times, msmtp's hundred runs once (about 50 s).
flushes = statistics.median(flush_mailer(25, 100)() for _ in range(3))
rows.append(("queue flush of 100, STARTTLS, 50 ms", flushes, "100 msmtp runs", flush_msmtp(25, 100)()))

print()
print(f"medians of {runs} alternating runs, release build, loopback through bench/delay_proxy.rs")
print(f"{'':34} {'mailer':>9} {'peer':>9}  ratio")
for label, ours, peer, theirs in rows:
    if theirs is None:
        print(f"{label:34} {ours * 1000:7.0f}ms {'':>9}  ({peer})")
    else:
        print(f"{label:34} {ours * 1000:7.0f}ms {theirs * 1000:7.0f}ms  {ours / theirs:.2f}  ({peer})")
PY
