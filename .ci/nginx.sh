#!/usr/bin/env bash
# Install what the replica test (tests/deploy/test_replicas.py, marker `replicas`) needs,
# idempotently: Debian's nginx from apt. The test starts its own nginx with deploy/nginx.conf.
# Usage: .ci/nginx.sh
set -euo pipefail
# shellcheck source=.ci/apt.sh
. "$(dirname "$0")/apt.sh"

NGINX="${VOXCLONE_NGINX:-/usr/sbin/nginx}"

apt_install nginx.sh "$NGINX" nginx
"$NGINX" -v 2>&1 | head -n 1 || { echo "nginx.sh: $NGINX does not run" >&2; exit 1; }
