#!/usr/bin/env bash
# Install what the replica test (tests/deploy/test_replicas.py, marker `replicas`) needs,
# idempotently: Debian's nginx from apt. The test starts its own nginx with deploy/nginx.conf.
# Usage: .ci/nginx.sh
set -euo pipefail

NGINX="${VOXCLONE_NGINX:-/usr/sbin/nginx}"

if [ ! -x "$NGINX" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
            echo "nginx.sh: $NGINX is missing and this user cannot run apt-get (no root, no sudo)" >&2
            exit 1
        fi
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx
fi
"$NGINX" -v 2>&1 | head -n 1 || { echo "nginx.sh: $NGINX does not run" >&2; exit 1; }
