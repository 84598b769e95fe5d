# Sourced by the .ci install scripts: `apt_install NAME BINARY PACKAGE...` installs the Debian
# PACKAGEs with apt-get (through sudo when not root) unless BINARY is already executable.
# NAME prefixes the error message.
apt_install() {
    local name="$1" binary="$2"
    shift 2
    [ -x "$binary" ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            echo "$name: $binary is missing and this user cannot run apt-get (no root, no sudo)" >&2
            exit 1
        fi
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}
