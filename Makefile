# FamilyStory: `make run` for the local stack, `make test` for every test tier.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.DEFAULT_GOAL := help
.PHONY: help install install-test run test test-unit test-functional test-integration test-client test-web lint typecheck bench fuzz load clean

help:
	@echo "make run    - install what is missing, start the emulators, the API on :7071 and the web app on :4280"
	@echo "make test   - install what is missing and run every test tier against real emulators"
	@echo "make fuzz   - a longer Schemathesis run against the local stack (FUZZ_SEED=<n> to vary)"
	@echo "make load   - 50 devices writing and syncing for 60 s, then every invariant checked (LOAD_DEVICES, LOAD_SECONDS)"
	@echo "make test-web    - the web app's browser tests (Chromium, against the local stack)"
	@echo "make test-client - the client library's tests"
	@echo "make lint | typecheck | bench | clean"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json clients/typescript/package.json clients/web/package.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Festival and its kal voice synthesise the speech the transcription tests recognise.
SPEECH_VOICE := /usr/share/festival/voices/english/kal_diphone
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(SPEECH_VOICE):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends festival festvox-kallpc16k

# Debian's Chromium runs the web app's browser tests (playwright-core drives it; Playwright's own
# browser download is not used). CHROMIUM=<path> uses a Chromium-based browser already installed
# (GitHub's Ubuntu runners have Google Chrome; Ubuntu's chromium package is only a snap).
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium

# The web app, built again whenever its sources or the library's change.
WEB_DIST := clients/web/dist/index.html
WEB_SOURCES := $(shell find clients/web/src clients/web/public clients/typescript/src -type f 2>/dev/null) \
	clients/web/index.html clients/web/vite.config.ts clients/web/tsconfig.json

$(WEB_DIST): node_modules/.installed $(WEB_SOURCES)
	npm run build --silent -w clients/web
	@touch $@

include infra/infra.mk

install: $(VENV)/.installed node_modules/.installed

install-test: install $(INFRA_VENV)/.installed $(SPEECH_VOICE) $(CHROMIUM)

run: install $(WEB_DIST)
	@$(PY) -m local.run

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/mypy .
	npm run typecheck --silent -w clients/typescript -w clients/web

test-unit: install-test
	$(PY) -m pytest tests/unit

test-functional: install-test
	$(PY) -m pytest tests/functional

test-integration: install-test
	$(PY) -m pytest tests/integration

test-client: install
	cd clients/typescript && npx vitest run

test-web: install-test $(WEB_DIST)
	cd clients/web && CHROMIUM_PATH=$(CHROMIUM) PYTHON=$(abspath $(PY)) node --test --test-concurrency=1 tests/

test: install-test lint typecheck $(WEB_DIST)
	CHECKOV=$(abspath $(INFRA_VENV))/bin/checkov $(PY) -m pytest
	cd clients/typescript && npx vitest run
	cd clients/web && CHROMIUM_PATH=$(CHROMIUM) PYTHON=$(abspath $(PY)) node --test --test-concurrency=1 tests/

bench: install-test
	$(PY) bench/report.py $(BENCH_ARGS)

fuzz: install
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-100} FUZZ_MAX_STEPS=$${FUZZ_MAX_STEPS:-30} FUZZ_COVERAGE=every FUZZ_TIMEOUT=3000 \
		$(PY) -m pytest tests/integration/test_contract_fuzzing.py --timeout=3600 -s

load: install
	$(PY) bench/load.py

clean:
	rm -rf .local .pytest_cache .mypy_cache .ruff_cache
