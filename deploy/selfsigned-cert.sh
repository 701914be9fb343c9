#!/bin/sh
# A self-signed certificate for local use: deploy/selfsigned-cert.sh [DIR] [HOST …]
# writes DIR/fullchain.pem and DIR/privkey.pem (default DIR deploy/tls, hosts localhost and 127.0.0.1), valid
# 30 days, for the names given. Browsers warn about it; curl needs --cacert DIR/fullchain.pem (or -k).
# In production mount the real pair instead (TLS_DIR in deploy/.env).
set -eu
dir=${1:-deploy/tls}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- localhost 127.0.0.1
san=""
for host in "$@"; do
    case $host in
        *[!0-9.]*) entry="DNS:$host" ;;
        *) entry="IP:$host" ;;
    esac
    san="${san:+$san,}$entry"
done
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 -subj "/CN=$1" -addext "subjectAltName=$san" \
    -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
chmod 644 "$dir/fullchain.pem"
# The proxy's worker processes (a non-root user) never read the key: nginx's master reads it at start.
echo "wrote $dir/fullchain.pem and $dir/privkey.pem for $*"
