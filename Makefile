# Postroom: `make run` starts everything, `make test` runs the whole suite.
# Both bootstrap from a fresh Debian machine with only Python 3.11: the virtualenv, the Python
# packages and (as root) the Debian packages the product and its tests need.

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
# Recipes are multi-line scripts; they announce their steps with "==>" lines instead.
.SILENT:
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app portal
PORT ?= 5000
HOST ?= 127.0.0.1
PG_PROBE_URL ?= postgresql://postgres@127.0.0.1:5432/test

# apt_need COMMAND PACKAGE: install PACKAGE when COMMAND is missing (as root), else explain.
define apt_need
	if ! command -v $(1) >/dev/null 2>&1 && [ ! -x "$(1)" ]; then
	  if [ "$$(id -u)" = 0 ]; then
	    echo "==> installing Debian package $(2)"
	    if [ ! -f $(VENV)/.apt-updated ]; then apt-get update -qq; mkdir -p $(VENV); touch $(VENV)/.apt-updated; fi
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(2) >/dev/null
	  else
	    echo "$(1) is missing. Install it with: sudo apt-get install $(2)"; exit 1
	  fi
	fi
endef

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	if ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then
	  $(call apt_need,/nonexistent-venv-probe,python3-venv)
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create .venv and install Postroom with its dev tools

.PHONY: system-run
system-run:
	if [ -z "$${REDIS_URL:-}" ]; then $(call apt_need,redis-server,redis-server); fi

.PHONY: system-test
system-test:
	$(call apt_need,redis-server,redis-server)
	$(call apt_need,chromium,chromium)
	$(call apt_need,/usr/sbin/knotd,knot)

.PHONY: system-bench
system-bench:
	$(call apt_need,redis-server,redis-server)
	if [ ! -x /usr/sbin/smtp-sink ]; then
	  # Only smtp-sink and smtp-source are wanted, never a configured mail system.
	  if [ "$$(id -u)" = 0 ]; then
	    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	  fi
	  $(call apt_need,/usr/sbin/smtp-sink,postfix)
	  if /usr/sbin/postfix status >/dev/null 2>&1; then
	    echo "==> stopping the postfix daemon the package started (port 25 stays free)"
	    /usr/sbin/postfix stop >/dev/null 2>&1 || true
	  fi
	fi

.PHONY: run
run: $(STAMP) system-run ## Start Redis (unless REDIS_URL is set), a worker and the web app on PORT
	mkdir -p instance
	export DATABASE_URL="$${DATABASE_URL:-sqlite:///$(CURDIR)/instance/postroom.db}"
	pids=()
	cleanup() { trap - EXIT INT TERM; kill "$${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; echo "Postroom stopped."; }
	trap cleanup EXIT INT TERM
	if [ -z "$${REDIS_URL:-}" ]; then
	  redis_port=$$($(BIN)/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	  redis-server --port "$$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
	    --logfile "$(CURDIR)/instance/redis.log" & pids+=($$!)
	  export REDIS_URL="redis://127.0.0.1:$$redis_port/0"
	  for _ in $$(seq 50); do redis-cli -p "$$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
	  echo "==> private Redis on $$REDIS_URL"
	fi
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) worker & pids+=($$!)
	$(BIN)/gunicorn --bind "$(HOST):$(PORT)" --workers 2 --access-logfile - wsgi:app & pids+=($$!)
	echo "==> Postroom is starting on http://$(HOST):$(PORT)/  (Ctrl-C stops everything)"
	wait -n

.PHONY: test
test: $(STAMP) system-test ## Run the whole suite on SQLite, then on PostgreSQL
	export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
	echo "==> test suite on SQLite"
	env -u TEST_DATABASE_URL $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)
	pg_url="$${TEST_DATABASE_URL:-}"
	if [ -z "$$pg_url" ] && $(BIN)/python -c 'import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()' "$(PG_PROBE_URL)" 2>/dev/null; then
	  pg_url="$(PG_PROBE_URL)"
	fi
	if [ -z "$$pg_url" ]; then
	  printf '\n%s\n%s\n%s\n\n' "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" \
	    "!! No PostgreSQL: set TEST_DATABASE_URL or run one on 127.0.0.1:5432 (db test). Ran SQLite only." \
	    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
	  exit 0
	fi
	echo "==> test suite on PostgreSQL"
	TEST_DATABASE_URL="$$pg_url" $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

.PHONY: clean
clean: ## Remove the virtualenv and caches (keeps instance/ data)
	rm -rf $(VENV) .pytest_cache *.egg-info

.PHONY: bench
bench: $(STAMP) system-bench ## Send throughput into smtp-sink vs naive smtplib and smtp-source (BENCH_ARGS)
	echo "==> send throughput on SQLite"
	env -u BENCH_DATABASE_URL $(BIN)/python bench/send_throughput.py $(BENCH_ARGS)
	pg_url="$${BENCH_DATABASE_URL:-}"
	if [ -z "$$pg_url" ] && $(BIN)/python -c 'import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()' "$(PG_PROBE_URL)" 2>/dev/null; then
	  pg_url="$(PG_PROBE_URL)"
	fi
	if [ -z "$$pg_url" ]; then
	  echo "==> no PostgreSQL (set BENCH_DATABASE_URL or run one on 127.0.0.1:5432): SQLite only"
	  exit 0
	fi
	echo "==> send throughput on PostgreSQL"
	$(BIN)/python bench/send_throughput.py --database "$$pg_url" $(BENCH_ARGS)
