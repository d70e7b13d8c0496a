#!/usr/bin/env bash
# Builds mailer's Debian package with cargo-deb, installs it on this machine with dpkg,
# checks what a user gets (the binary, its man page, the completions, the example
# config), and removes it again. Needs root and cargo-deb (installed when missing).
# PROFILE=dev (as CI runs it) packages the debug build instead of building a release.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'deb: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "installing a package needs root"
command -v cargo-deb >/dev/null || cargo install --locked cargo-deb

profile=${PROFILE:-release}
dir=target/deb
mkdir -p "$dir"
# The man page and completions come from the binary itself.
cargo build --locked --profile "$profile" >/dev/null 2>&1 || cargo build --locked --profile "$profile"
bin=target/$([[ $profile == dev ]] && echo debug || echo "$profile")/mailer
rm -rf "$dir/man"
"$bin" man --dir "$dir/man"
"$bin" completions bash >"$dir/mailer.bash"
"$bin" completions zsh >"$dir/_mailer"
"$bin" completions fish >"$dir/mailer.fish"

deb=$(cargo deb --no-build --profile "$profile" --output "$dir" 2>/dev/null | tail -n 1)
[[ -f $deb ]] || die "cargo deb made no package"
say "built $deb"

dpkg -i "$deb" >/dev/null
trap 'dpkg -r mailer >/dev/null 2>&1 || true' EXIT
version=$(/usr/bin/mailer --version | head -n 1)
[[ $version == "mailer $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)" ]] ||
    die "mailer --version printed: $version"
man -l /usr/share/man/man1/mailer.1* 2>/dev/null | grep -q "EXIT STATUS" ||
    die "the man page does not render"
man -l /usr/share/man/man1/mailer-send.1* 2>/dev/null | grep -q "mailer-send" ||
    die "the page of mailer send does not render"
for f in /usr/share/bash-completion/completions/mailer /usr/share/zsh/vendor-completions/_mailer \
    /usr/share/fish/vendor_completions.d/mailer.fish /usr/share/doc/mailer/examples/mailer.example.toml; do
    [[ -s $f ]] || die "the package has no $f"
done
say "installed and checked: $version, man pages, completions, example config"
