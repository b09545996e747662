# Two commands a newcomer needs: `make run` and `make test`. Everything else
# they depend on is set up here, so a clean clone on Debian with python3 works.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
FLASK  := $(BIN)/flask --app peerapp
CHROMIUM := /usr/bin/chromium
PG_BIN   := /usr/lib/postgresql/15/bin
# Both cores; each half lists its 15 slowest tests, so a slow one shows where it crept in.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=15

.PHONY: run test test-sqlite test-postgres setup setup-dev browser postgres bench clean

# apt-get as root, or through sudo for a developer's own account.
apt_install = if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(1) >/dev/null

# Marker files let make skip the install when the lock files have not changed.
$(VENV)/.installed: requirements.lock pyproject.toml
	@# Debian's python3 has no venv module until python3-venv is installed.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); $(call apt_install,python3-venv) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	@# The project itself runs from this folder: a .pth file puts it on the path
	@# (what an editable install does, without building anything).
	echo "$(CURDIR)" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/peerapp.pth"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev browser

# Debian's own Chromium: Playwright never downloads a browser here.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(call apt_install,chromium); \
	fi

# Debian's PostgreSQL 15 server binaries for the second half of the tests; the
# tests start a throwaway cluster of their own (tests/with_postgres.sh), never a service.
postgres:
	@if [ ! -x $(PG_BIN)/initdb ]; then \
	  echo "Installing Debian's postgresql for the PostgreSQL half of the tests"; \
	  $(call apt_install,postgresql); \
	fi

run: setup
	$(FLASK) init-db
	$(FLASK) demo-data --if-empty
	@echo "peerapp on http://$(HOST):$(PORT)  (Ctrl-C stops it)"
	@# Two sweeps run beside the server and stop with it: presence every minute
	@# (late-visit e-mails, forgotten sign-outs) and the report figures every 2
	@# minutes (this and last quarter's, worked out before a reader asks). The demo's logins
	@# are published: only this demo may serve them (ALLOW_DEMO).
	@$(FLASK) presence-sweep --every 60 >/dev/null & sweep=$$!; \
	$(FLASK) report-figures --every 120 >/dev/null & figures=$$!; \
	trap 'kill $$sweep $$figures 2>/dev/null' EXIT INT TERM; \
	PEERAPP_ALLOW_DEMO=true $(BIN)/waitress-serve --host=$(HOST) --port=$(PORT) --call peerapp:create_app

# The whole suite on SQLite, then again on a throwaway PostgreSQL 15 cluster that
# the tests start and stop themselves. Both halves always run; either failing fails.
# pytest exits 5 when it collected no test: that is a failure here, not a pass.
test: setup-dev postgres
	@sqlite=0; postgres=0; \
	$(MAKE) --no-print-directory test-sqlite || sqlite=$$?; \
	$(MAKE) --no-print-directory test-postgres || postgres=$$?; \
	echo "make test: SQLite $$([ $$sqlite = 0 ] && echo passed || echo FAILED), PostgreSQL $$([ $$postgres = 0 ] && echo passed || echo FAILED)"; \
	[ $$sqlite = 0 ] && [ $$postgres = 0 ]

run_pytest = start=$$(date +%s); $(1) $(PYTEST) $(3) $(PYTEST_ARGS); status=$$?; \
	echo "$(2): pytest exit $$status in $$(( $$(date +%s) - start )) s"; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: treating that as a failure"; exit 1; fi; \
	exit $$status

test-sqlite: setup-dev
	@echo "== the suite on SQLite =="
	@$(call run_pytest,,SQLite)

test-postgres: setup-dev postgres
	@echo "== the suite on PostgreSQL 15 (throwaway cluster) =="
	@# Browser journeys test the pages, not the engine: they run on the SQLite half only.
	@$(call run_pytest,PG_BIN=$(PG_BIN) tests/with_postgres.sh,PostgreSQL,--ignore=tests/browser)

# Figures, not pass/fail: matching at team and Trust size, then 40 users on loopback.
bench: setup-dev
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/load.py --users 40 --seconds 30

clean:
	rm -rf $(VENV)
