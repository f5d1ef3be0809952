# Prescore's developer entry points. `make demo` and `make test` do everything on a fresh machine.
#
# The servers are project-local: PostgreSQL under .run/pg and Redis under .run/redis, bound to
# 127.0.0.1 on non-default ports so they never meet a system-wide server.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT        := $(abspath .)
RUN         := $(ROOT)/.run
PG_PORT     ?= 55432
REDIS_PORT  ?= 56379
# PostgreSQL refuses to run as root, so as root it runs as `postgres`, which must reach its data folder.
# When the work tree is not readable to that user (a clone under /root), the data lives in a folder of
# this checkout's own under /var/tmp instead. Recursive (=): evaluated after `setup` created the user.
PG_FALLBACK  = /var/tmp/prescore-$(shell printf '%s' '$(ROOT)' | md5sum | cut -c1-12)
PG_DIR       = $(shell if [ "$$(id -u)" = 0 ] && ! runuser -u postgres -- test -r '$(ROOT)/Makefile' 2>/dev/null; \
                 then echo '$(PG_FALLBACK)/pg'; else echo '$(RUN)/pg'; fi)
PG_DATA      = $(PG_DIR)/data
REDIS_DIR   := $(RUN)/redis
PG_USER     := prescore
PG_PASSWORD := prescore-dev
PG_DB       := prescore
DATABASE_URL ?= postgresql://$(PG_USER):$(PG_PASSWORD)@127.0.0.1:$(PG_PORT)/$(PG_DB)
REDIS_URL    ?= redis://127.0.0.1:$(REDIS_PORT)/0
export DATABASE_URL REDIS_URL

APT_PACKAGES := libpq-dev libhiredis-dev libcurl4-openssl-dev pkg-config postgresql redis-server curl binutils
PG_BIN       = $(shell ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
# When run as root, PostgreSQL runs as the unprivileged `postgres` user that Debian's package creates.
# `env -C /`: the server's user may not be allowed into the current folder either.
AS_PG        = $(if $(filter 0,$(shell id -u)),runuser -u postgres -- env -C /,)
VENV         := $(RUN)/venv
# Seldon MLServer (PyPI) for the remote-model tests and benchmark: a venv of its own, as its
# dependencies (FastAPI, uvicorn, gRPC) have nothing to do with the training venv's.
MLSERVER_VENV := $(RUN)/mlserver-venv
ENTITIES     ?= 1000000
DEMO_ENTITIES ?= 200000
DEMO_PORT     ?= 18080
# The bearer token the demo's serve takes outcomes with (production: a secret in the environment).
DEMO_TOKEN    ?= demo-token
PRESCORE_DEBUG := .build/debug/prescore

.PHONY: help setup services services-stop build test check-avx2 demo bench venv model clean

help:
	@echo "make demo           the main job end to end on local PostgreSQL and Redis"
	@echo "make test           install, start servers, build and run the whole test suite (and check-avx2)"
	@echo "make check-avx2     release build; its AVX2 scoring kernel isolated and bit-identical to the baseline"
	@echo "make bench          release build and benchmarks (ENTITIES=$(ENTITIES))"
	@echo "make setup          install missing system packages (apt-get)"
	@echo "make services       start PostgreSQL and Redis under .run/ (prints DATABASE_URL, REDIS_URL)"
	@echo "make services-stop  stop them"
	@echo "make model          retrain the demo model and its parity fixture (Python XGBoost)"

## Installs only what is missing: one apt-get update, then the missing packages.
setup:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  $$sudo apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "setup: all system packages present"; fi

## Starts PostgreSQL and Redis if they are not running; the last two lines are ready to `export`.
services: setup
	@mkdir -p $(PG_DIR) $(REDIS_DIR)
	@if [ ! -f $(PG_DATA)/PG_VERSION ]; then \
	  echo "initdb $(PG_DATA)"; \
	  echo "$(PG_PASSWORD)" > $(PG_DIR)/pwfile; \
	  if [ -n "$(AS_PG)" ]; then chown -R postgres:postgres $(PG_DIR); fi; \
	  $(AS_PG) $(PG_BIN)/initdb -D $(PG_DATA) -U $(PG_USER) --pwfile=$(PG_DIR)/pwfile \
	    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >$(PG_DIR)/initdb.log; \
	  rm -f $(PG_DIR)/pwfile; \
	fi
	@if ! $(AS_PG) $(PG_BIN)/pg_ctl -D $(PG_DATA) status >/dev/null 2>&1; then \
	  echo "starting PostgreSQL on 127.0.0.1:$(PG_PORT)"; \
	  $(AS_PG) $(PG_BIN)/pg_ctl -D $(PG_DATA) -l $(PG_DIR)/server.log -w -t 60 \
	    -o "-c listen_addresses=127.0.0.1 -p $(PG_PORT) -k $(PG_DIR) -c max_connections=200 \
	        -c shared_buffers=256MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
	    start >/dev/null; \
	else echo "PostgreSQL already running"; fi
	@$(PG_BIN)/psql -h $(PG_DIR) -p $(PG_PORT) -U $(PG_USER) -d postgres -Atqc \
	  "SELECT 1 FROM pg_database WHERE datname = '$(PG_DB)'" | grep -q 1 || \
	  $(PG_BIN)/psql -h $(PG_DIR) -p $(PG_PORT) -U $(PG_USER) -d postgres -qc "CREATE DATABASE $(PG_DB)"
	@if ! redis-cli -h 127.0.0.1 -p $(REDIS_PORT) ping >/dev/null 2>&1; then \
	  echo "starting Redis on 127.0.0.1:$(REDIS_PORT)"; \
	  redis-server --bind 127.0.0.1 --port $(REDIS_PORT) --dir $(REDIS_DIR) --daemonize yes \
	    --pidfile $(REDIS_DIR)/redis.pid --logfile $(REDIS_DIR)/redis.log --save "" --appendonly no; \
	  for i in $$(seq 50); do redis-cli -p $(REDIS_PORT) ping >/dev/null 2>&1 && break; sleep 0.1; done; \
	else echo "Redis already running"; fi
	@echo "DATABASE_URL=$(DATABASE_URL)"
	@echo "REDIS_URL=$(REDIS_URL)"

services-stop:
	@if [ -f $(PG_DATA)/PG_VERSION ]; then $(AS_PG) $(PG_BIN)/pg_ctl -D $(PG_DATA) -m fast stop >/dev/null 2>&1 \
	  && echo "PostgreSQL stopped" || echo "PostgreSQL was not running"; fi
	@redis-cli -p $(REDIS_PORT) shutdown nosave >/dev/null 2>&1 && echo "Redis stopped" || echo "Redis was not running"

build: setup
	swift build

## The whole suite against the real servers. Swift Testing runs tests in parallel; tests that disturb
## a server use a database or key prefix of their own.
# The HTML lift report is checked by rendering it in headless Chromium.
test: APT_PACKAGES += chromium python3-venv
test: services $(MLSERVER_VENV)/.ready
	$(MAKE) check-avx2
	swift build --build-tests
	swift test --skip-build

## The release build's AVX2 scoring kernel: isolated from the baseline code, and scoring the same
## bits (scripts/check-avx2-kernel.sh says why).
check-avx2:
	swift build -c release --product prescore
	scripts/check-avx2-kernel.sh

## The main job end to end: migrate, seed, validate the jobs, score a sample, print what happened.
demo: services build
	@echo; echo "== check the servers"; $(PRESCORE_DEBUG) check
	@echo; echo "== migrate"; $(PRESCORE_DEBUG) migrate
	@echo; echo "== seed $(DEMO_ENTITIES) demo entities"; $(PRESCORE_DEBUG) demo seed --entities $(DEMO_ENTITIES)
	@echo; echo "== validate jobs/"; $(PRESCORE_DEBUG) jobs validate
	@echo; echo "== jobs"; $(PRESCORE_DEBUG) jobs list
	@mkdir -p $(RUN)/demo
	@$(PG_BIN)/psql "$(DATABASE_URL)" -qc "\copy (SELECT user_id AS key, f_amount_avg_30d, f_amount_max_30d, \
	  f_txn_count_7d, f_txn_count_30d, f_account_age_days, f_distinct_merchants_30d, f_distinct_countries_30d, \
	  f_night_txn_ratio, f_declined_ratio_30d, f_chargebacks_365d, f_avg_ticket_change, f_device_count_30d, \
	  f_ip_risk_score, f_email_age_days, f_failed_logins_7d, f_velocity_1h FROM demo.users ORDER BY user_id LIMIT 10) \
	  TO '$(RUN)/demo/sample.csv' CSV HEADER"
	@echo; echo "== score 10 demo users with the fraud_risk model"
	@$(PRESCORE_DEBUG) model predict --model jobs/models/fraud_risk.json --input $(RUN)/demo/sample.csv \
	  --output $(RUN)/demo/scores.csv
	@paste -d, <(cut -d, -f1-4 $(RUN)/demo/sample.csv) <(cut -d, -f2 $(RUN)/demo/scores.csv)
	@echo; echo "== run the fraud_risk batch job: every user scored into Redis, then published (debug build; make bench times the release build)"
	@$(PRESCORE_DEBUG) run fraud_risk
	@echo; echo "== the scheduler: queue a manual run, let a scheduler daemon start it, stop the daemon with SIGTERM"
	@$(PRESCORE_DEBUG) trigger fraud_risk
	@timeout -s TERM 12 $(PRESCORE_DEBUG) scheduler --instance demo 2>&1 | sed 's/^/  scheduler: /' || true
	@echo; echo "== recent runs"; $(PRESCORE_DEBUG) runs fraud_risk --limit 3
	@echo; echo "== read scores back from Redis (users 1 and 2 match the predictions above)"
	@for key in 1 2 42 $(DEMO_ENTITIES); do $(PRESCORE_DEBUG) get fraud_risk $$key; done
	@echo; echo "== prescore serve: a hit, a miss answered by the realtime fallback (then a hit), the metrics"
	@$(PG_BIN)/psql "$(DATABASE_URL)" -qc "DELETE FROM demo.users WHERE user_id = $(DEMO_ENTITIES) + 1; \
	  INSERT INTO demo.users SELECT $(DEMO_ENTITIES) + 1, f_amount_avg_30d, f_amount_max_30d, f_txn_count_7d, \
	  f_txn_count_30d, f_account_age_days, f_distinct_merchants_30d, f_distinct_countries_30d, f_night_txn_ratio, \
	  f_declined_ratio_30d, f_chargebacks_365d, f_avg_ticket_change, f_device_count_30d, f_ip_risk_score, \
	  f_email_age_days, f_failed_logins_7d, f_velocity_1h, is_fraud FROM demo.users WHERE user_id = 42"
	@$(PG_BIN)/psql "$(DATABASE_URL)" -qc "DELETE FROM prescore.exposures WHERE experiment = 'fraud_rt_vs_batch'; \
	  DELETE FROM prescore.outcomes WHERE experiment = 'fraud_rt_vs_batch'"
	@PRESCORE_API_TOKEN=$(DEMO_TOKEN) $(PRESCORE_DEBUG) serve --port $(DEMO_PORT) --exposure-spool $(RUN)/demo/spool \
	  > $(RUN)/demo/serve.log 2>&1 & echo $$! > $(RUN)/demo/serve.pid; \
	  for i in $$(seq 100); do curl -sf localhost:$(DEMO_PORT)/readyz >/dev/null && break; sleep 0.1; done; \
	  echo "GET /v1/scores/fraud_risk/43 (published by the batch run; user 42 would be scored fresh: the experiment puts it in the realtime arm):"; curl -s localhost:$(DEMO_PORT)/v1/scores/fraud_risk/43; echo; \
	  echo "GET /v1/scores/fraud_risk/$$(( $(DEMO_ENTITIES) + 1 )) (a user added after the run: scored in real time, written back):"; \
	  curl -s localhost:$(DEMO_PORT)/v1/scores/fraud_risk/$$(( $(DEMO_ENTITIES) + 1 )); echo; sleep 0.2; \
	  echo "the same again (now a hit):"; curl -s localhost:$(DEMO_PORT)/v1/scores/fraud_risk/$$(( $(DEMO_ENTITIES) + 1 )); echo; \
	  echo "metrics:"; curl -s localhost:$(DEMO_PORT)/metrics | grep -E '^prescore_(score_hits|score_misses|fallback_total\{job="fraud_risk",outcome="scored"|breaker_state|http_request_duration_seconds_count\{route="score")' ; \
	  echo; echo "== an experiment (jobs/fraud_risk.yaml, experiment:): 20000 users read through serve, 10% scored in real time, then outcomes with a known effect posted to /v1/outcomes"; \
	  PRESCORE_API_TOKEN=$(DEMO_TOKEN) $(PRESCORE_DEBUG) demo experiment --serve-url http://127.0.0.1:$(DEMO_PORT) \
	    --experiment fraud_rt_vs_batch --entities 20000 --population $(DEMO_ENTITIES); \
	  kill -TERM $$(cat $(RUN)/demo/serve.pid); wait $$(cat $(RUN)/demo/serve.pid) 2>/dev/null || true
	@echo; echo "== the lift report (README: For analysts), also written as $(RUN)/demo/lift.html"
	@$(PRESCORE_DEBUG) report lift --experiment fraud_rt_vs_batch --metric converted --metric revenue
	@$(PRESCORE_DEBUG) report lift --experiment fraud_rt_vs_batch --metric converted --metric revenue \
	  --format html --output $(RUN)/demo/lift.html
	@echo; echo "demo done: $(DEMO_ENTITIES) scores published in Redis (layout: docs/storage.md), served over HTTP (README: Serving scores), an experiment reported (README: For analysts)"

## A virtual environment with Python XGBoost, for the benchmark's reference and for training.
venv: $(VENV)/.ready
$(VENV)/.ready: jobs/models/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r jobs/models/requirements.txt
	touch $@

$(MLSERVER_VENV)/.ready:
	python3 -m venv $(MLSERVER_VENV)
	$(MLSERVER_VENV)/bin/pip install -q mlserver==1.7.1 mlserver-xgboost==1.7.1
	touch $@

## Retrains the committed demo model and parity fixture from the seeded demo data.
model: services venv build
	$(PRESCORE_DEBUG) migrate
	$(PRESCORE_DEBUG) demo seed --entities 200000
	$(VENV)/bin/python jobs/models/train_fraud_risk.py --database-url "$(DATABASE_URL)" \
	  --psql $(PG_BIN)/psql --out jobs/models --fixture Tests/PrescoreCoreTests/Fixtures

## Benchmarks: scoring throughput against XGBoost's own inplace_predict, on the same rows (the demo
## model and two other shapes: depth 8 × 300 trees, and features with about a thousand thresholds).
bench: services venv $(MLSERVER_VENV)/.ready check-avx2
	swift build -c release --product prescore-bench
	.build/release/prescore migrate
	.build/release/prescore demo seed --entities $(ENTITIES)
	.build/release/prescore-bench scoring --model jobs/models/fraud_risk.json --rows $(ENTITIES) \
	  --python $(VENV)/bin/python --psql $(PG_BIN)/psql --work-dir $(RUN)/bench
	@mkdir -p $(RUN)/bench/shapes
	$(VENV)/bin/python Sources/PrescoreBench/xgboost_train_shape.py --database-url "$(DATABASE_URL)" \
	  --psql $(PG_BIN)/psql --depth 8 --trees 300 --out $(RUN)/bench/shapes/depth8.json
	.build/release/prescore-bench scoring --model $(RUN)/bench/shapes/depth8.json --target 2 \
	  --rows $(ENTITIES) --python $(VENV)/bin/python --psql $(PG_BIN)/psql --work-dir $(RUN)/bench
	$(VENV)/bin/python Sources/PrescoreBench/xgboost_train_shape.py --database-url "$(DATABASE_URL)" \
	  --psql $(PG_BIN)/psql --rows 1000000 --depth 6 --trees 200 --max-bin 8192 \
	  --out $(RUN)/bench/shapes/bins8192.json
	.build/release/prescore-bench scoring --model $(RUN)/bench/shapes/bins8192.json --target 2 \
	  --rows $(ENTITIES) --python $(VENV)/bin/python --psql $(PG_BIN)/psql --work-dir $(RUN)/bench
	.build/release/prescore-bench copy --rows $(ENTITIES) --psql $(PG_BIN)/psql
	.build/release/prescore-bench batch --entities $(ENTITIES) --psql $(PG_BIN)/psql \
	  --work-dir $(RUN)/bench/jobs
	.build/release/prescore-bench scheduler --jobs 10000 --work-dir $(RUN)/bench/scheduler
	@command -v wrk >/dev/null || { sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
	.build/release/prescore-bench lift --exposures 10000000 --units 1000000
	@mkdir -p $(RUN)/bench/remote
	.build/release/prescore-bench remote --entities 100000 --work-dir $(RUN)/bench/remote \
	  --mlserver $(MLSERVER_VENV)/bin/mlserver
	.build/release/prescore-bench serve --entities $(ENTITIES) --work-dir $(RUN)/bench/serve --redis-url $(REDIS_URL)

clean: services-stop
	rm -rf $(RUN) $(PG_FALLBACK)
