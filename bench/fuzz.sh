#!/usr/bin/env bash
# A long run of mailer's property-based fuzz tests (proptest, stable Rust): the POP3
# reply parser, the IMAP response tap, the config loader, the message parse-and-render
# path of `read --file`, attachment-name sanitising, modified UTF-7 and the sendmail
# argument parser. CI runs the same tests with proptest's default 256 cases each; this
# script runs N cases each (default 20000) on a release build and prints the figures.
#
#   bench/fuzz.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-20000}
cargo test --release --locked --lib --no-run >/dev/null 2>&1
start=$(date +%s.%N)
log=$(mktemp)
PROPTEST_CASES=$cases cargo test --release --locked --lib fuzz_ -- --test-threads 2 2>&1 | tee "$log" | grep -E '^test .*fuzz_' || true
end=$(date +%s.%N)
targets=$(grep -c '^test .*fuzz_.* ok$' "$log" || true)
failed=$(grep -c '^test .*fuzz_.* FAILED$' "$log" || true)
printf '\nfuzz: %s targets x %s cases: %s passed, %s failed, %.1f s\n' \
    "$((targets + failed))" "$cases" "$targets" "$failed" "$(echo "$end - $start" | bc)"
rm -f "$log"
[[ $failed -eq 0 ]]
