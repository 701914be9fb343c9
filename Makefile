# The README's commands. `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
SCALE  ?= small
# The server we ship: Daphne with the per-route body limits enforced while a body streams in (config/server.py;
# it takes every `daphne` option). Daphne's own plain-text access log is off (-v 0): config.middleware writes one
# JSON line per request.
DAPHNE := $(BIN)/python -m config.server -v 0

# Test processes for `make test` (pytest-xdist; `auto` is one per CPU): 3 on 2 cores (measured: the suite waits on
# subprocesses and sockets as much as it computes).
TEST_WORKERS ?= 3

.PHONY: help install install-dev install-load install-browser lock run serve worker migrate test test-slow test-faults test-fast perf lint format check-deploy deploy-check install-nginx prod-local prod-local-stop prod-local-test clean soak

## List the targets with what each does (the first sentence of the `##` lines above it).
help:
	@awk '/^## /{ doc = doc (doc == "" ? "" : " ") substr($$0, 4); next } \
		/^[a-z][a-z0-9_-]*:/{ split($$0, t, ":"); if (doc != "") { end = index(doc, ". "); \
			if (end) doc = substr(doc, 1, end); sub(/\.$$/, "", doc); printf "  %-14s %s\n", t[1], doc }; \
			doc = ""; next } \
		/^$$/{ doc = "" }' $(MAKEFILE_LIST)

# Three hash-checked lock files made by `make lock` (pip-tools) from the *.in files: requirements.txt (runtime:
# server and worker), requirements-dev.txt (+ tests, lint, pip-tools, pre-commit), requirements-load.txt
# (+ locust, matplotlib, py-spy, gunicorn). Each stamp file skips its install while its lock is unchanged.
PIP_INSTALL := $(BIN)/python -m pip install --quiet --require-hashes

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

$(BIN)/.installed-load: $(BIN)/.installed requirements-load.txt
	$(PIP_INSTALL) -r requirements-load.txt
	touch $@

## Runtime packages only (what run, serve and worker need).
install: $(BIN)/.installed

## Runtime + test and lint tooling.
install-dev: $(BIN)/.installed-dev

## Runtime + load and benchmark tooling.
install-load: $(BIN)/.installed-load

## Recompile the lock files from requirements*.in against PyPI alone (this machine's extra indexes and wheel
## folders ignored), with hashes. Keeps the current pins where the inputs allow; LOCK_ARGS=--upgrade moves all.
PIP_COMPILE := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	$(LOCK_ARGS)
lock: $(BIN)/.installed-dev
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in
	$(PIP_COMPILE) -o requirements-load.txt requirements-load.in

## Apply the migrations to the configured database.
migrate: install
	$(BIN)/python manage.py migrate --noinput

## Set up everything, load demo data and serve on http://127.0.0.1:8000 (Daphne + one job worker; HOST, PORT).
run: migrate
	$(BIN)/python manage.py seed_demo --scale $(SCALE)
	@echo "Serving on http://$(HOST):$(PORT)/  (API docs: /api/docs/, admin: /admin/)"
	@$(BIN)/python manage.py run_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DAPHNE) -b $(HOST) -p $(PORT) config.asgi:application

## The server alone (Daphne with the body limits of config/server.py, no worker).
serve: migrate
	$(DAPHNE) -b $(HOST) -p $(PORT) config.asgi:application

## The job worker alone (`manage.py run_worker`).
worker: migrate
	$(BIN)/python manage.py run_worker

## The whole test suite in parallel but the long proofs of `make test-slow` (set DATABASE_URL / REDIS_URL to run
## it on PostgreSQL and Redis). TEST_WORKERS (default 3) processes, each on its own copy of a database migrated once.
test: install-dev install-load
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not heavy" $(PYTEST_ARGS)

## Debian's Chromium for the admin's browser test (apt-get install chromium when /usr/bin/chromium is missing;
## Playwright drives it, its own browser download is never used).
install-browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| { echo "the admin's browser test needs Debian's chromium package (apt-get install chromium)"; exit 1; }

## The long proofs (tests marked heavy: fault suite, API fuzzing per role, the admin in a browser, race state
## machines); CI runs them after `make test`.
test-slow: install-dev install-load install-browser install-nginx
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup -m "heavy and not prodlocal and not ownprocess" $(PYTEST_ARGS)

## The fault suite alone (serial, real processes: Redis, PostgreSQL, Daphne and the worker broken under load); prints
## its table and writes reports/faults.md (docs/operations.md "Faults").
test-faults: install-dev install-load
	$(BIN)/python -m pytest -p no:xdist -s tests/faults $(PYTEST_ARGS)

## The suite without the tests marked slow or heavy (end-to-end processes, the load-test smoke run).
test-fast: install-dev install-load
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not slow and not heavy" $(PYTEST_ARGS)

## Performance tests with their wall-clock targets asserted and tabled (serial; run on an idle machine, not in CI).
perf: install-dev install-load
	$(BIN)/python -m pytest -p no:xdist -m perf --perf $(PYTEST_ARGS)

## Lint and format check (ruff), and bandit over the project's code (configured in pyproject.toml).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -c pyproject.toml -r . -q

## Fix what ruff can and format the code.
format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## `manage.py check --deploy` under production settings.
check-deploy: install
	DJANGO_ENV=production SECRET_KEY=$$($(BIN)/python -c 'import secrets;print(secrets.token_urlsafe(64))') \
	ALLOWED_HOSTS=example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

## The deploy files as shipped: hadolint on the Dockerfile, docker-compose config on docker-compose.yml with
## deploy/.env.example, nginx -t on the proxy's rendered config (installs Debian's nginx and docker-compose if missing).
deploy-check: install-dev
	deploy/check.sh

PROD_LOCAL_PORT_BASE ?= 28400
PROD_LOCAL_PG_PREFIX ?= thebot-prod-local-pg-
## Debian's nginx for prod-local (apt-get install nginx when missing).
install-nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends nginx; } || { echo "make prod-local needs Debian's nginx"; exit 1; }

## The production topology as processes on 127.0.0.1 (nginx with TLS, two Daphnes, two workers, Redis, PostgreSQL
## primary + streaming replica), migrated and seeded; prints the HTTPS URL and the demo logins (state in var/prod-local/).
prod-local: install install-nginx
	$(BIN)/python deploy/prod_local.py start --port-base $(PROD_LOCAL_PORT_BASE) --pg-prefix $(PROD_LOCAL_PG_PREFIX)

## Stop what `make prod-local` started and remove its clusters, Redis and nginx files.
prod-local-stop:
	$(BIN)/python deploy/prod_local.py stop

## The topology's proofs (tests/deploy, marked prodlocal; CI runs them after make test-slow): HTTPS through nginx, HTTP redirected, chat across the two
## Daphnes, a throttle counted across both, the replica streaming. Uses a running `make prod-local`, else starts one.
prod-local-test: install-dev install-nginx
	$(BIN)/python -m pytest -p no:xdist -m "prodlocal and not killproof" tests/deploy $(PYTEST_ARGS)

## One Daphne killed, then one stopped, under load (tests/deploy/test_kill.py): not in CI yet, as a run of the
## merged tree answered 502s through nginx (see the test's docstring).
## The response cache under a paused and a killed Redis (tests/core/test_cache_outage.py), alone in its process.
.PHONY: test-cache-outage
test-cache-outage: install-dev install-load
	$(BIN)/python -m pytest -p no:xdist -m ownprocess $(PYTEST_ARGS)

.PHONY: prod-local-kill-test
prod-local-kill-test: install-dev install-nginx
	$(BIN)/python -m pytest -p no:xdist -m killproof tests/deploy $(PYTEST_ARGS)

## Back up PostgreSQL (pg_dump, custom format, in one snapshot with every table's row count) and MEDIA_ROOT (tar and a
## checksum manifest) into a new folder of BACKUP_DIR (var/backups); from DATABASE_URL (docs/operations.md).
.PHONY: backup restore
backup: install
	$(BIN)/python manage.py backup

## Restore the newest backup of BACKUP_DIR (or BACKUP=<folder>) into DATABASE_URL, an empty database, and an empty
## MEDIA_ROOT; every row count and file checksum is compared with the manifest.
restore: install
	$(BIN)/python manage.py restore $(if $(BACKUP),--from "$(BACKUP)")

## Remove .venv, the SQLite files, var/ and collected static files.
clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var staticfiles

## Chat benchmark (prints figures): one Daphne on core 0, clients on core 1, Redis channel layer.
## REDIS_URL is required (e.g. redis://127.0.0.1:6379/0); DATABASE_URL optional (default: a fresh SQLite file).
.PHONY: bench-chat
bench-chat: install-dev
	ulimit -n 20000 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	$(BIN)/python tests/performance/bench_chat.py

## CPU instructions per request of each list endpoint against an earlier commit (BENCH_REF), counted by callgrind:
## unaffected by a busy machine (bench/instructions.py).
.PHONY: bench-instructions
bench-instructions: install-load
	@command -v valgrind >/dev/null || (apt-get update -qq && apt-get install -y -qq valgrind) || \
		{ echo "make bench-instructions needs valgrind (Debian package valgrind)"; exit 1; }
	$(BIN)/python -m bench.instructions

## Side by side with an earlier commit (BENCH_REF, default 51527be), in requests per CPU-second: see bench/compare.py.
.PHONY: bench-compare
bench-compare: install-load
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || \
		{ echo "make bench-compare needs wrk (Debian package wrk)"; exit 1; }
	$(BIN)/python -m bench.compare

## Scale-out (issue 18): the locust mix on one Daphne (one core) and on nginx + two, CPU per component, the
## cross-process chat delay, the capacity curve's knee, and every list against 51527be (bench/scale.py; needs
## nginx, redis-server, PostgreSQL binaries, taskset, wrk). SCALE_USERS, SCALE_SECONDS, SCALE_STEPS, SCALE_PORT_BASE.
.PHONY: bench-scale
bench-scale: install-load install-nginx
	$(BIN)/python -m bench.scale

## Benchmarks (issue 9): RPS per core on Daphne vs gunicorn (WSGI) and a bare ASGI app; needs `wrk` and `taskset`.
## Options: BENCH_DURATION, BENCH_REPEAT, BENCH_SERVERS=daphne,daphne-stock,gunicorn, BENCH_DATABASE_URL (see bench/run.py).
.PHONY: bench
bench: install-load
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || \
		{ echo "make bench needs wrk (Debian package wrk)"; exit 1; }
	$(BIN)/python -m bench.run

## Load test: the stack (DB=postgres|sqlite, Redis when reachable, Daphne + worker) seeded at SCALE, locust
## headless for DURATION after WARMUP seconds; results in reports/ (performance.md, locust.html, CSVs, latency.png).
USERS      ?= 20
SPAWN_RATE ?= 5
DURATION   ?= 60s
WARMUP     ?= 15
DB         ?= postgres
.PHONY: loadtest
loadtest: install-load
	$(BIN)/python tests/load/run_loadtest.py --users $(USERS) --spawn-rate $(SPAWN_RATE) --duration $(DURATION) --warmup $(WARMUP) \
		--scale $(SCALE) --db $(DB)

## Scaling (issue 9): p95 and query counts of the list endpoints on `large` against `small` (PostgreSQL; databases
## thebot_scaling_<scale> are seeded once and kept). Options: SCALES, SCALING_REQUESTS, SCALING_PG_URL (bench/scaling.py).
.PHONY: bench-scaling
bench-scaling: install-load
	$(BIN)/python -m bench.scaling

## Soak, by hand (not in CI): the load test's stack under the locust mix for SOAK_MINUTES (15) at SOAK_USERS (20),
## then SOAK_HALF_MINUTES (60) at half; verdicts (5xx, errors per minute, memory growth, DB connections) in
## reports/soak.md. Also SOAK_SAMPLE_SECONDS, SOAK_SPAWN_RATE, SOAK_SCALE, LOADTEST_PG_URL, LOADTEST_REDIS_URL.
.PHONY: soak
soak: install-load
	$(BIN)/python tests/load/soak.py

## Translations (issue 19): extract the messages into locale/ru/LC_MESSAGES/django.po (existing translations kept;
## translate the new msgstr "" entries), then compile django.mo. Both files are committed; tests/config/test_i18n.py
## fails on an untranslated message or a stale .mo.
.PHONY: messages
messages: install-dev
	$(BIN)/python manage.py makemessages -l ru --ignore=.venv --ignore=tests --ignore=bench --ignore=deploy --ignore=var --no-location
	$(BIN)/python manage.py compilemessages -l ru --ignore=.venv
