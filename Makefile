# FamilyStory: `make run` for the local stack, `make test` for every test tier.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.DEFAULT_GOAL := help
.PHONY: help install install-test run test test-unit test-functional test-integration lint typecheck bench fuzz load clean

help:
	@echo "make run    - install what is missing, start the emulators and the app on :7071"
	@echo "make test   - install what is missing and run every test tier against real emulators"
	@echo "make fuzz   - a longer Schemathesis run against the local stack (FUZZ_SEED=<n> to vary)"
	@echo "make load   - 50 devices writing and syncing for 60 s, then every invariant checked (LOAD_DEVICES, LOAD_SECONDS)"
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

include infra/infra.mk

install: $(VENV)/.installed node_modules/.installed

install-test: install $(INFRA_VENV)/.installed $(SPEECH_VOICE)

run: install
	@$(PY) -m local.run

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy .

test-unit: install-test
	$(PY) -m pytest tests/unit

test-functional: install-test
	$(PY) -m pytest tests/functional

test-integration: install-test
	$(PY) -m pytest tests/integration

test: install-test lint typecheck
	CHECKOV=$(abspath $(INFRA_VENV))/bin/checkov $(PY) -m pytest

bench: install-test
	$(PY) bench/report.py $(BENCH_ARGS)

fuzz: install
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-100} FUZZ_MAX_STEPS=$${FUZZ_MAX_STEPS:-30} FUZZ_COVERAGE=every FUZZ_TIMEOUT=3000 \
		$(PY) -m pytest tests/integration/test_contract_fuzzing.py --timeout=3600 -s

load: install
	$(PY) bench/load.py

clean:
	rm -rf .local .pytest_cache .mypy_cache .ruff_cache
