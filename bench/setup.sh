#!/usr/bin/env bash
# Setup benchmark, by hand, not in CI:
#
#   bench/setup.sh [N]        # N runs of each, default 20
#
# Times `mailer account add ADDRESS --yes --no-check` with a preset (the target is
# under 100 ms), `mailer config check` of the file it wrote, and `mailer check` of an
# account on the private stack (IMAPS and SMTPS) beside `mailer list` of the same
# account, which makes one connection: check's extra connections show as the difference.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}

# shellcheck source=bench/common.sh
source bench/common.sh

# median_ms COMMAND...: the median wall time of N runs, in milliseconds.
median_ms() {
    python3 - "$n" "$@" <<'PY'
import subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for i in range(n):
    args = [a.replace("{i}", str(i)) for a in cmd]
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - start) * 1000)
times.sort()
print(f"{times[len(times) // 2]:.1f}")
PY
}

add=$(median_ms "$mailer" -c "$work/add-{i}.toml" account add alice@fastmail.com --yes --no-check)
config=$(median_ms "$mailer" -c "$work/add-0.toml" config check)

cat >"$work/stack.toml" <<TOML
[accounts.carol]
email = "carol@example.test"
password_command = "echo carolpw"
[accounts.carol.imap]
host = "localhost"
port = $IMAPS_PORT
ca_file = "$CA_FILE"
[accounts.carol.smtp]
host = "localhost"
port = $SUBMISSIONS_PORT
ca_file = "$CA_FILE"
TOML
chmod 600 "$work/stack.toml"
check=$(median_ms "$mailer" -c "$work/stack.toml" check)
list=$(median_ms "$mailer" -c "$work/stack.toml" list --limit 1)

printf 'account add (preset, --no-check): %s ms (target: under 100)\n' "$add"
printf 'config check:                      %s ms\n' "$config"
printf 'check (SMTP and IMAP, all steps):  %s ms; list --limit 1 of the same account: %s ms\n' "$check" "$list"
