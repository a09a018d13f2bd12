#!/usr/bin/env bash
# Debian's OpenSSH server, the real SFTP peer of the reconciliation tests
# (shared/sftp's test_support starts it on a free loopback port).
#
#   scripts/sftp.sh install   install openssh-server (and ssh-keygen) when missing
set -euo pipefail

install() {
    if [[ -x /usr/sbin/sshd ]] && command -v ssh-keygen >/dev/null; then
        return 0
    fi
    local sudo=()
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    echo "sftp: installing openssh-server (Debian package)"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q openssh-server openssh-client >/dev/null ||
        { "${sudo[@]}" apt-get update -q >/dev/null &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q openssh-server openssh-client >/dev/null; }
    # The package starts a system-wide sshd where it can; the tests run their own.
    "${sudo[@]}" mkdir -p /run/sshd
}

case ${1:-} in
install) install ;;
*)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
