# THE_BOT's image: one image for web (Daphne), worker and migrate (docker-compose.yml builds it once).
# Two stages: the virtualenv is built in the first, the second gets it without pip's caches or build files.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
RUN python -m venv /opt/venv
COPY requirements.txt .
# Wheels only, hash-checked: the lock file of `make lock`.
RUN /opt/venv/bin/pip install --require-hashes --only-binary=:all: -r requirements.txt

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_ENV=production \
    MEDIA_ROOT=/data/media
# libmagic1: python-magic's library (uploads are checked by content). Not pinned to a version: the base image
# pins the Debian release, and a pinned package version disappears from the mirror at the next point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmagic1 \
    && rm -rf /var/lib/apt/lists/*
# The runtime user, and the media folder it owns (a new named volume mounted there takes this owner).
RUN groupadd --system --gid 10001 thebot \
    && useradd --system --uid 10001 --gid thebot --home-dir /app --no-create-home --shell /usr/sbin/nologin thebot \
    && mkdir -p /data/media \
    && chown thebot:thebot /data/media
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code stays root's (read-only for the server); .dockerignore keeps out .venv, .git, databases, var/, tests.
COPY . .
RUN SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0123456789abcdef ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput --verbosity 0
USER 10001:10001
VOLUME ["/data/media"]
EXPOSE 8000
# The server we ship (config/server.py: Daphne with the per-route body limits). -v 0: no plain-text access log,
# the application writes one JSON line per request. No --proxy-headers: the client address and the scheme are
# taken from X-Forwarded-* by the application, only as far as NUM_PROXIES trusts them.
CMD ["python", "-m", "config.server", "-v", "0", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
