#!/usr/bin/env bash
# `make deploy-check` (and .ci/run): the deploy files as shipped are valid.
#   1. hadolint (the PyPI wheel pinned in requirements-dev.txt) on the Dockerfile: no warning unless ignored in it
#      with its reason;
#   2. `docker-compose config -q` (Debian's docker-compose) on docker-compose.yml with deploy/.env.example;
#   3. `nginx -t` (Debian's nginx) on the proxy's config rendered from deploy/nginx/default.conf.template with the
#      very environment compose gives the proxy (a scratch self-signed pair for the certificate paths).
# Installs what is missing (apt-get, `make install-dev`). A few seconds once installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
HADOLINT=${HADOLINT:-.venv/bin/hadolint}
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]} (Debian)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        || { echo "make deploy-check needs Debian's ${missing[*]} (apt-get install ${missing[*]})"; exit 1; }
fi
[ -x "$HADOLINT" ] || make install-dev
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

scratch=$(mktemp -d /tmp/thebot-deploy-check-XXXXXX)
trap 'rm -rf "$scratch"' EXIT

echo "== hadolint Dockerfile"
"$HADOLINT" --failure-threshold warning Dockerfile
echo "ok"

echo "== docker-compose config (docker-compose.yml with deploy/.env.example)"
docker-compose --env-file deploy/.env.example -f docker-compose.yml config -q
docker-compose --env-file deploy/.env.example -f docker-compose.yml config > "$scratch/compose.yml"
echo "ok"

echo "== nginx -t on the proxy's rendered config"
deploy/selfsigned-cert.sh "$scratch/tls" localhost >/dev/null
"$PYTHON" - "$scratch" <<'PY'
import sys
from pathlib import Path

import yaml

sys.path.insert(0, "deploy")
import render_nginx

scratch = Path(sys.argv[1])
proxy = yaml.safe_load((scratch / "compose.yml").read_text())["services"]["proxy"]
values = {name: str(value) for name, value in proxy["environment"].items()}
assert set(render_nginx.VARIABLES) <= set(values), set(render_nginx.VARIABLES) - set(values)
mounted = {volume.split(":")[1] for volume in proxy["volumes"]}
assert {"/etc/nginx/tls", "/etc/nginx/templates/default.conf.template", values["MEDIA_ROOT"]} <= mounted, mounted
# The container's paths, but for the certificate pair (a scratch one) and the log folder.
values |= {"TLS_CERT": f"{scratch}/tls/fullchain.pem", "TLS_KEY": f"{scratch}/tls/privkey.pem", "NGINX_LOG_DIR": str(scratch)}
render_nginx.write(scratch / "nginx", values)
PY
"$NGINX" -t -q -e "$scratch/nginx/error.log" -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf"
echo "ok"
