#!/usr/bin/env bash
# The headless browser of the browser test (tests/it/browser.rs): Debian's
# `chromium`, installed with apt-get when it is missing.
#
#   scripts/browser.sh install   apt-get install chromium (no-op when /usr/bin/chromium is there)
#   scripts/browser.sh path      prints the browser's path
#
# The test finds the browser at $CHROMIUM, else /usr/bin/chromium.
set -euo pipefail

readonly CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

install() {
    if [[ -x $CHROMIUM ]]; then
        return
    fi
    if ! command -v apt-get >/dev/null; then
        echo "browser: $CHROMIUM is missing and there is no apt-get; install Chromium and set CHROMIUM" >&2
        exit 1
    fi
    local sudo=()
    if [[ $(id -u) != 0 ]]; then
        sudo=(sudo)
    fi
    echo "browser: installing Debian's chromium"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
    "$CHROMIUM" --version
}

case ${1:-} in
    install) install ;;
    path) echo "$CHROMIUM" ;;
    *)
        echo "usage: $0 install|path" >&2
        exit 2
        ;;
esac
