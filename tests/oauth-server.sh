#!/usr/bin/env bash
# A real OAuth2 authorization server (oidc-provider, tests/oauth-server.mjs) on
# 127.0.0.1 for mailer's tests, whose JWT access tokens the Dovecot of
# tests/mailstack.sh accepts, and the user's part of each flow (approve,
# approve-device) played with curl, so that tests need no browser.
set -euo pipefail

PROG=$0
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/stack-common.sh
source "$HERE/stack-common.sh"
DOMAIN=example.test
PORT_KEYS=(OAUTH_PORT)
OIDC_PROVIDER_VERSION=9.13.3
PUBLIC_CLIENT=mailer-test
SECRET_CLIENT=mailer-secret
SECRET=mailer-secret-pw
READY_TIMEOUT=20
STOP_TIMEOUT=10
MAX_HOPS=20

usage() {
    cat >&2 <<EOF
usage: $PROG COMMAND [ARGS]

A real OAuth2 authorization server (oidc-provider $OIDC_PROVIDER_VERSION) on a
free 127.0.0.1 port, whose RS256 JWT access tokens (sub = the full address,
e.g. alice@$DOMAIN) the Dovecot of tests/mailstack.sh validates locally.
Clients: $PUBLIC_CLIENT (public, native) and $SECRET_CLIENT (secret $SECRET,
client_secret_basic or client_secret_post), each with authorization_code (PKCE S256 required),
refresh_token and device_code, redirect http://127.0.0.1:ANYPORT/. Scopes: mail,
offline_access, openid; every grant gets a refresh token. Any user name logs in.

commands:
  install                 npm install oidc-provider $OIDC_PROVIDER_VERSION into
                          target/oauth-server (\$CARGO_TARGET_DIR/oauth-server if
                          set); does nothing when that version is there
  start DIR KEYDIR        start the server with its state and log under DIR,
                          its public key written to KEYDIR (the stack's
                          dovecot/keys); one already running in DIR is stopped
                          first. Writes DIR/oauth.env and prints it
  stop DIR                stop the server of DIR; succeeds if none is running
  env DIR                 print DIR/oauth.env
  approve DIR URL USER    be the user's browser: open the authorization URL, log
                          in as USER, and follow the redirects until the one
                          to the client's loopback redirect_uri has been
                          requested. Exit 0 when it brought a code, 2 when it
                          brought an error, 1 when it never reached the client
  approve-device DIR USER_CODE USER
                          enter USER_CODE on the device verification page,
                          confirm it, log in as USER; exit 0 on the success page
  revoke DIR TOKEN [CLIENT_ID]
                          revoke the refresh token TOKEN as CLIENT_ID
                          ($PUBLIC_CLIENT; $SECRET_CLIENT authenticates with its secret)

start reads, from the environment: OAUTH_ACCESS_TTL (seconds, default 3600),
OAUTH_REFRESH_TTL (seconds, default 14 days) and OAUTH_ROTATE (1, the default:
each refresh returns a new refresh token and the old one stops working; 0: the
refresh token stays the same). All state is in memory: a restart forgets every
token. USER is a local part or a full address; a local part gets @$DOMAIN.
EOF
    exit 64
}

say() { printf 'oauth-server: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# The package lives with the build, as Cyrus's does, so that reruns find it.
cache_dir() {
    local target=${CARGO_TARGET_DIR:-$(dirname "$HERE")/target}
    printf '%s/oauth-server\n' "$(abs_path "$target")"
}

CACHE=$(cache_dir)

set_layout() {
    D=$1
    PID_FILE=$D/oauth.pid
    LOG=$D/oauth.log
    ENV_FILE=$D/oauth.env
}

# A recycled pid, or the server of another DIR, is never taken for ours: ours
# runs oauth-server.mjs with DIR as its working directory.
is_ours() {  # PID
    [[ $(cat "/proc/$1/comm" 2>/dev/null) == node ]] &&
        [[ $(readlink "/proc/$1/cwd" 2>/dev/null) == "$D" ]] &&
        tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'oauth-server\.mjs'
}

live_pid() {
    local pid
    [[ -r $PID_FILE ]] || return 1
    pid=$(tr -dc '0-9' <"$PID_FILE")
    [[ -n $pid ]] && is_ours "$pid" || return 1
    printf '%s\n' "$pid"
}

wait_gone() {  # PID SECONDS
    local deadline=$((SECONDS + $2))
    while is_ours "$1"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

stop_server() {
    local pid
    pid=$(live_pid) || { rm -f "$PID_FILE"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
        say "the server (pid $pid) did not stop in ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || say "the server (pid $pid) is still running"
    fi
    rm -f "$PID_FILE"
}

installed_version() {
    local pkg=$CACHE/node_modules/oidc-provider/package.json
    [[ -r $pkg ]] && node -p 'require(process.argv[1]).version' "$pkg" 2>/dev/null
}

# oidc-provider 9 calls URL.parse and crypto.hash, which Node has since 20.18.
require_node() {
    command -v node >/dev/null || die "node is not installed: install Node.js 20.18 or later"
    node -e 'process.exit(typeof URL.parse === "function" && typeof require("crypto").hash === "function" ? 0 : 1)' ||
        die "node $(node --version) is too old for oidc-provider 9: install Node.js 20.18 or later"
}

cmd_install() {
    local version
    require_node
    version=$(installed_version) || version=
    if [[ $version == "$OIDC_PROVIDER_VERSION" ]]; then
        say "oidc-provider $version already in $CACHE"
        return 0
    fi
    command -v npm >/dev/null || die "npm is not installed"
    mkdir -p "$CACHE"
    # A package.json of its own keeps npm from settling on a parent directory's
    # project; --ignore-scripts, since this may run as root.
    printf '{ "private": true, "description": "for tests/oauth-server.sh", "dependencies": {} }\n' \
        >"$CACHE/package.json"
    say "installing oidc-provider $OIDC_PROVIDER_VERSION into $CACHE"
    npm install --prefix "$CACHE" --save-exact --no-audit --no-fund --no-update-notifier --ignore-scripts \
        --loglevel=error "oidc-provider@$OIDC_PROVIDER_VERSION" >&2
    version=$(installed_version) || version=
    [[ $version == "$OIDC_PROVIDER_VERSION" ]] ||
        die "npm install left oidc-provider ${version:-absent} in $CACHE, not $OIDC_PROVIDER_VERSION"
}

dir_arg() {  # an existing DIR, made absolute
    local dir
    dir=$(abs_path "$1")
    [[ -d $dir ]] || return 1
    (cd "$dir" && pwd -P)
}

# Polls the discovery document. Returns 0 when it is served, 2 when the port was
# taken (worth another), 1 when the server exited or never answered.
wait_ready() {  # PID PORT
    local deadline=$((SECONDS + READY_TIMEOUT)) rc
    while ((SECONDS < deadline)); do
        if ! kill -0 "$1" 2>/dev/null; then
            rc=0
            wait "$1" || rc=$?
            ((rc == 98)) && return 2
            say "the server exited (status $rc):"
            sed 's/^/  /' "$LOG" >&2
            return 1
        fi
        curl -sf --max-time 2 -o "$D/discovery.json" \
            "http://127.0.0.1:$2/.well-known/openid-configuration" 2>/dev/null && return 0
        sleep 0.1
    done
    say "the server did not answer within ${READY_TIMEOUT}s; its log:"
    sed 's/^/  /' "$LOG" >&2
    return 1
}

# Every URL comes from the discovery document, so that oidc-provider's routes
# are not repeated here.
write_env() {
    python3 - "$D/discovery.json" "$PUBLIC_CLIENT" "$SECRET_CLIENT" "$SECRET" <<'PY' >"$ENV_FILE.tmp"
import json, sys
d = json.load(open(sys.argv[1]))
for key, value in [
    ("OAUTH_ISSUER", d["issuer"]),
    ("OAUTH_AUTH_URL", d["authorization_endpoint"]),
    ("OAUTH_TOKEN_URL", d["token_endpoint"]),
    ("OAUTH_DEVICE_URL", d["device_authorization_endpoint"]),
    ("OAUTH_REVOKE_URL", d["revocation_endpoint"]),
    ("OAUTH_INTROSPECT_URL", d["introspection_endpoint"]),
    ("OAUTH_VERIFY_URL", d["issuer"] + "/device"),
    ("OAUTH_CLIENT_ID", sys.argv[2]),
    ("OAUTH_SECRET_CLIENT_ID", sys.argv[3]),
    ("OAUTH_SECRET", sys.argv[4]),
]:
    print(f"{key}={value}")
PY
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

cmd_start() {
    local dir keydir attempt rc pid OAUTH_PORT
    require_node
    command -v curl >/dev/null || die "curl is not installed"
    [[ $(installed_version) == "$OIDC_PROVIDER_VERSION" ]] ||
        die "oidc-provider $OIDC_PROVIDER_VERSION is not installed in $CACHE: run $PROG install"
    keydir=$(dir_arg "$2") || die "no such key directory: $2 (start the mail stack first)"
    dir=$(abs_path "$1")
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    set_layout "$dir"
    if live_pid >/dev/null; then
        say "a server is already running in $D: stopping it first"
        stop_server
    fi
    # Whatever ends start early must not leave a server running.
    START_OK=0
    trap 'if ((START_OK == 0)); then stop_server; rm -f "$ENV_FILE"; fi' EXIT
    trap 'exit 130' INT TERM
    for attempt in 1 2 3; do
        OAUTH_PORT=$(pick_ports)
        # setsid: a Ctrl-C meant for the caller's test run leaves it alone.
        (cd "$D" && OAUTH_PORT=$OAUTH_PORT OAUTH_KEYDIR=$keydir OAUTH_MODULES=$CACHE \
            exec setsid node "$HERE/oauth-server.mjs") </dev/null >"$LOG" 2>&1 &
        pid=$!
        printf '%s\n' "$pid" >"$PID_FILE"
        rc=0
        wait_ready "$pid" "$OAUTH_PORT" || rc=$?
        ((rc == 0)) && break
        stop_server
        # Another program may take the port between our choosing it and the
        # server binding it; a new port is then worth a try.
        ((rc == 2 && attempt < 3)) && { say "port $OAUTH_PORT was taken meanwhile; trying another"; continue; }
        ((rc == 2)) && die "every port tried was taken"
        exit 1
    done
    write_env
    # shellcheck disable=SC2034  # read by the EXIT trap
    START_OK=1
    say "running in $D (pid $pid, port $OAUTH_PORT, log $LOG)"
    cat "$ENV_FILE"
}

cmd_stop() {
    local dir
    dir=$(dir_arg "$1") || return 0
    set_layout "$dir"
    stop_server
}

load_env() {  # DIR
    local dir
    dir=$(dir_arg "$1") || die "no such directory: $1"
    set_layout "$dir"
    [[ -r $ENV_FILE ]] || die "no oauth.env in $D: run $PROG start $1 KEYDIR"
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    live_pid >/dev/null || die "no server is running in $D: run $PROG start $1 KEYDIR"
}

cmd_env() {
    local dir
    dir=$(dir_arg "$1") || die "no such directory: $1"
    set_layout "$dir"
    [[ -r $ENV_FILE ]] || die "no oauth.env in $D: run $PROG start $1 KEYDIR"
    cat "$ENV_FILE"
}

# --- the user's browser -------------------------------------------------------
# Each approve has its own cookie jar, so that one user's session never logs
# in the next one.
new_browser() {
    BROWSER=$(mktemp -d "$D/browser.XXXXXX")
    trap 'rm -rf "$BROWSER"' EXIT
    JAR=$BROWSER/cookies
    PAGE=$BROWSER/page.html
}

# Requests URL (a GET, or a POST of the given form fields) and follows the
# server's redirects. Leaves the last page in $PAGE and its status in STATUS;
# sets LEFT_TO to a redirect that leaves the server, which is not followed.
browse() {  # URL [FIELD=VALUE...]
    local url=$1 hops=0 out location data=() f
    shift
    for f in "$@"; do data+=(--data-urlencode "$f"); done
    LEFT_TO=
    while :; do
        out=$(curl -sS --max-time 10 -o "$PAGE" -w '%{http_code} %{redirect_url}' \
            -b "$JAR" -c "$JAR" "${data[@]}" "$url") || die "cannot reach ${url%%\?*}"
        data=()
        read -r STATUS location <<<"$out"
        [[ $STATUS == 30[1237] && -n $location ]] || return 0
        if [[ $location != "$OAUTH_ISSUER"/* ]]; then
            LEFT_TO=$location
            return 0
        fi
        url=$location
        ((++hops < MAX_HOPS)) || die "more than $MAX_HOPS redirects at ${url%%\?*}"
    done
}

# What the page says went wrong: our error page's text, the device pages'
# red line, else the status.
page_error() {
    python3 - "$PAGE" "$STATUS" <<'PY'
import html, re, sys
page = open(sys.argv[1], errors="replace").read()
m = (re.search(r'<pre id="error">(.*?)</pre>', page, re.S)
     or re.search(r'<p class="red">(.*?)</p>', page, re.S))
print(html.unescape(m.group(1)).strip() if m else f"HTTP {sys.argv[2]}, no error text")
PY
}

# The form in $PAGE (the one with id ID, else the first): its absolute action
# on the first line, then its hidden fields as NAME=VALUE lines.
read_form() {  # [ID]
    python3 - "$PAGE" "$OAUTH_ISSUER" "${1:-}" <<'PY'
import html.parser, sys, urllib.parse
page, base, want = open(sys.argv[1], errors="replace").read(), sys.argv[2] + "/", sys.argv[3]
class Form(html.parser.HTMLParser):
    action, fields, inside = None, [], False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None and (not want or a.get("id") == want):
            self.action, self.inside = a.get("action") or "", True
        elif tag == "input" and self.inside and a.get("type") == "hidden" and a.get("name"):
            self.fields.append(f"{a['name']}={a.get('value') or ''}")
    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
f = Form()
f.feed(page)
if f.action is None:
    sys.exit(1)
print(urllib.parse.urljoin(base, f.action))
print("\n".join(f.fields))
PY
}

# Submits the form in $PAGE with its hidden fields and FIELD=VALUE...
submit() {  # ID WHAT [FIELD=VALUE...]
    local form id=$1 what=$2
    shift 2
    mapfile -t form < <(read_form "$id")
    ((${#form[@]} > 0)) || die "$what: the server showed no form: $(page_error)"
    browse "${form[0]}" "${form[@]:1}" "$@"
}

login_as() {  # USER
    grep -q 'name="login"' "$PAGE" || die "expected the login page: $(page_error)"
    submit "" "login" "login=$1"
}

cmd_approve() {
    local url=$2 user=$3 rc
    load_env "$1"
    [[ $url == "$OAUTH_AUTH_URL"\?* ]] || die "not an authorization URL of $OAUTH_ISSUER: ${url%%\?*}"
    new_browser
    browse "$url"
    [[ -n $LEFT_TO ]] || login_as "$user"
    [[ -n $LEFT_TO ]] || die "the server did not send the browser back to the client: $(page_error)"
    # Only the client under test, on loopback, is ever contacted.
    [[ $LEFT_TO =~ ^http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?/ ]] ||
        die "refusing to follow a redirect off loopback: ${LEFT_TO%%\?*}"
    rc=0
    curl -sS --max-time 10 -o /dev/null "$LEFT_TO" 2>"$BROWSER/curl.err" || rc=$?
    # 52: the client read the request and closed without an answer, which
    # still counts as having reached it.
    ((rc == 0 || rc == 52)) ||
        die "the redirect did not reach the client at ${LEFT_TO%%\?*}: $(cat "$BROWSER/curl.err")"
    if [[ $LEFT_TO =~ [?\&]error=([^\&]*) ]]; then
        say "the client got error=${BASH_REMATCH[1]} from the server"
        exit 2
    fi
    [[ $LEFT_TO =~ [?\&]code= ]] || { say "the redirect to the client carried no code"; exit 2; }
    say "approved as $user: the client got its code"
}

cmd_approve_device() {
    local code=$2 user=$3
    load_env "$1"
    new_browser
    browse "$OAUTH_VERIFY_URL"
    submit op.deviceInputForm "the user code page" "user_code=$code"
    grep -q 'op.deviceConfirmForm' "$PAGE" || die "user code $code refused: $(page_error)"
    submit op.deviceConfirmForm "the confirmation page"
    login_as "$user"
    grep -q 'Sign-in Success' "$PAGE" || die "no success page after logging in: $(page_error)"
    say "approved user code $code as $user"
}

cmd_revoke() {
    local token=$2 client=${3:-$PUBLIC_CLIENT} auth=() status
    load_env "$1"
    case $client in
        "$PUBLIC_CLIENT") auth=(--data-urlencode "client_id=$client") ;;
        "$SECRET_CLIENT") auth=(-u "$client:$SECRET") ;;
        *) die "unknown client: $client" ;;
    esac
    RESPONSE=$(mktemp)
    trap 'rm -f "$RESPONSE"' EXIT
    # The token goes through standard input: it stays out of curl's command line.
    status=$(printf '%s' "$token" | curl -sS --max-time 10 -o "$RESPONSE" -w '%{http_code}' \
        "${auth[@]}" --data-urlencode "token@-" -d token_type_hint=refresh_token \
        "$OAUTH_REVOKE_URL") || die "cannot reach $OAUTH_REVOKE_URL"
    [[ $status == 200 ]] || die "revocation refused (HTTP $status): $(cat "$RESPONSE")"
    say "revoked the refresh token of $client"
}

main() {
    (($# >= 1)) || usage
    local cmd=$1
    shift
    case $cmd in
        install) (($# == 0)) || usage; cmd_install ;;
        start) (($# == 2)) || usage; cmd_start "$@" ;;
        stop) (($# == 1)) || usage; cmd_stop "$1" ;;
        env) (($# == 1)) || usage; cmd_env "$1" ;;
        approve) (($# == 3)) || usage; cmd_approve "$@" ;;
        approve-device) (($# == 3)) || usage; cmd_approve_device "$@" ;;
        revoke) (($# == 2 || $# == 3)) || usage; cmd_revoke "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
