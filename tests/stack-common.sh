# What tests/mailstack.sh and tests/cyrus.sh share: sourced by both, which define
# say and die, DOMAIN, PORT_KEYS, D, ENV_FILE, STOP_TIMEOUT, TLS_DIR and LOG_DIR.
# shellcheck shell=bash

# A path made absolute without requiring it to exist.
abs_path() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "${1#./}" ;;
    esac
}

normalize_user() {
    local user=${1,,}
    [[ $user == *@* ]] || user="$user@$DOMAIN"
    [[ $user =~ ^[a-z0-9._+-]+@[a-z0-9.-]+$ ]] || die "not a user name or address: $1"
    printf '%s\n' "$user"
}

pick_ports() {
    python3 - "${#PORT_KEYS[@]}" <<'PY'
import socket, sys
# Hold every socket until all are chosen so that no port is handed out twice.
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

# Login and smtpd children inherit the listening sockets, so a port that still
# accepts connections means some process of the stack is still alive.
wait_ports_closed() {
    local ports=() key
    [[ -r $ENV_FILE ]] || return 0
    for key in "${PORT_KEYS[@]}"; do
        ports+=("$(sed -n "s/^$key=//p" "$ENV_FILE")")
    done
    python3 - "$STOP_TIMEOUT" "${ports[@]}" <<'PY' || say "ports of $D still open after ${STOP_TIMEOUT}s"
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[1])
ports = [int(p) for p in sys.argv[2:] if p]
while ports and time.monotonic() < deadline:
    still = []
    for port in ports:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            still.append(port)
        except OSError:
            pass
    ports = still
    if ports:
        time.sleep(0.1)
sys.exit(1 if ports else 0)
PY
}

# The servers' unprivileged users (WHO) must be able to reach DIR; a private
# temporary parent would lock them out.
check_reachable() {  # DIR WHO
    local p=$1 mode problems=()
    while [[ $p != / && -n $p ]]; do
        p=$(dirname "$p")
        mode=$(stat -c '%a' "$p")
        (( (8#$mode & 1) != 0 )) ||
            problems+=("$p has mode $mode: $2 cannot enter it (chmod o+x $p, or choose another DIR)")
    done
    ((${#problems[@]} == 0)) && return 0
    for p in "${problems[@]}"; do say "$p"; done
    exit 1
}

# An existing certificate is kept across restarts, so that a CA_FILE copied
# elsewhere stays valid; a broken or expiring one is replaced.
make_cert() {  # [KEY_MODE]: 600 unless the server reads the key through its group
    if openssl x509 -in "$TLS_DIR/cert.pem" -noout -checkend 86400 >/dev/null 2>&1 &&
        openssl pkey -in "$TLS_DIR/key.pem" -noout >/dev/null 2>&1; then
        return 0
    fi
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" >"$LOG_DIR/openssl.log" 2>&1 ||
        die "openssl could not make a certificate: $(tail -n 3 "$LOG_DIR/openssl.log")"
    chmod "${1:-600}" "$TLS_DIR/key.pem"
    chmod 644 "$TLS_DIR/cert.pem"
}
