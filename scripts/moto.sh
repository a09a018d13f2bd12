#!/usr/bin/env bash
# The local AWS emulator (moto) that development and the tests talk to instead
# of DynamoDB and SQS.
#
#   scripts/moto.sh install   venv at .venv with moto[server] and waitress pinned (no-op when present)
#   scripts/moto.sh start     scripts/moto_server.py on 127.0.0.1:$MOTO_PORT in the background
#   scripts/moto.sh stop      stop the server this script started
#   scripts/moto.sh status    exit 0 when something answers on the port
#
# Every subcommand is idempotent. Only Python 3 is needed: no curl, no Docker.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly MOTO_VERSION=5.2.5
# The HTTP server moto_server.py runs moto in (werkzeug's development server
# costs ~1 ms per request; waitress ~0.3 ms).
readonly WAITRESS_VERSION=3.0.2
readonly HOST=127.0.0.1
readonly PORT=${MOTO_PORT:-5005}
readonly URL="http://$HOST:$PORT"
readonly VENV=.venv
readonly PID_FILE=.dev/moto-$PORT.pid
readonly LOG_FILE=.dev/moto-$PORT.log
readonly START_TIMEOUT_S=30

# True when moto and its server extras are installed at the pinned version.
# Reads package metadata only, so it is fast enough to run before every test.
installed() {
    [[ -x $VENV/bin/python ]] &&
        "$VENV/bin/python" - "$MOTO_VERSION" "$WAITRESS_VERSION" <<'EOF' 2>/dev/null
import importlib.metadata, importlib.util, sys
ok = importlib.metadata.version("moto") == sys.argv[1] and importlib.metadata.version("waitress") == sys.argv[2] and all(
    importlib.util.find_spec(m) for m in ("flask", "flask_cors"))
sys.exit(0 if ok else 1)
EOF
}

# True when anything answers HTTP on the port; any status code counts.
answers() {
    python3 - "$URL" <<'EOF' 2>/dev/null
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
EOF
}

# The pid of the server this script started, if it is still alive.
our_pid() {
    local pid
    [[ -f $PID_FILE ]] || return 1
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install() {
    if installed; then
        return
    fi
    # A venv left half-made by an interrupted run has no pip: start over.
    if [[ ! -x $VENV/bin/pip ]]; then
        rm -rf "$VENV"
        python3 -m venv "$VENV" || {
            echo "moto: 'python3 -m venv' failed; on Debian/Ubuntu install the python3-venv package" >&2
            exit 1
        }
    fi
    echo "moto: installing moto[server]==$MOTO_VERSION waitress==$WAITRESS_VERSION into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" "waitress==$WAITRESS_VERSION"
}

start() {
    if answers; then
        echo "moto: already answering on $URL"
        return
    fi
    installed || {
        echo "moto: not installed; run 'scripts/moto.sh install' first" >&2
        exit 1
    }
    # A server we started earlier may still be booting: wait for it rather
    # than start a second one on the same port.
    if ! our_pid >/dev/null; then
        mkdir -p .dev
        # moto_server.py is moto's server with DynamoDB calls serialised (see
        # its docstring). nohup and </dev/null: it outlives this shell and `make`.
        nohup "$VENV/bin/python" scripts/moto_server.py "$HOST" "$PORT" </dev/null >"$LOG_FILE" 2>&1 &
        echo $! >"$PID_FILE"
    fi
    local waited=0
    until answers; do
        if ! our_pid >/dev/null || ((waited >= START_TIMEOUT_S * 2)); then
            echo "moto: did not come up on $URL; last lines of $LOG_FILE:" >&2
            tail -n 20 "$LOG_FILE" >&2 || true
            stop >/dev/null
            exit 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    echo "moto: answering on $URL (pid $(<"$PID_FILE"), log $LOG_FILE)"
}

stop() {
    local pid
    if ! pid=$(our_pid); then
        rm -f "$PID_FILE"
        if answers; then
            echo "moto: something answers on $URL but this script did not start it; left alone"
        else
            echo "moto: not running"
        fi
        return
    fi
    kill "$pid"
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid"
    fi
    rm -f "$PID_FILE"
    echo "moto: stopped (pid $pid)"
}

status() {
    if answers; then
        if pid=$(our_pid); then
            echo "moto: answering on $URL (pid $pid)"
        else
            echo "moto: something answers on $URL (not started by this script)"
        fi
    else
        echo "moto: nothing answers on $URL"
        exit 3
    fi
}

case "${1:-}" in
install | start | stop | status) "$1" ;;
*)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
