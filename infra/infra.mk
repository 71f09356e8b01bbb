# Infrastructure tests (tests/infra): every Bicep file parses, Checkov passes offline, and the
# project's own checks and the settings drift test pass. Included from the Makefile.
#
# Checkov pins many packages at versions that clash with the app's, so it lives in its own
# virtual environment, $(INFRA_VENV). The tests run under the app's $(VENV) (they import
# shared.settings and shared.storage_layout) and run $(INFRA_VENV)/bin/checkov as a subprocess,
# offline: --skip-download and CKV_SKIP_PACKAGE_UPDATE_CHECK=true.

INFRA_PYTHON ?= $(shell command -v python3.11 || command -v python3)
INFRA_VENV ?= .venv-infra
VENV ?= .venv

.PHONY: test-infra

$(INFRA_VENV)/.installed: requirements-infra.txt
	@test -x $(INFRA_VENV)/bin/python || $(INFRA_PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	@touch $@

test-infra: $(VENV)/.installed $(INFRA_VENV)/.installed
	CHECKOV=$(abspath $(INFRA_VENV))/bin/checkov $(VENV)/bin/python -m pytest tests/infra
