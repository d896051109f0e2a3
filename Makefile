# processmaker.core: every entry point a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt sandbox/pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: help setup demo test test-unit test-sandbox test-integration bench lint-py clean docs

help:
	@echo "make demo   - start a local pm_sandbox, run playbooks/demo.yml against it, stop it"
	@echo "make test   - set up and run every test (unit, sandbox, integration)"
	@echo "make bench  - run the benchmarks in bench/ and print their figures"
	@echo "make setup  - create $(VENV) with everything the tests and the demo need"
	@echo "make docs   - build the documentation site into docs/_build/html"

$(STAMP): requirements.txt requirements-dev.txt sandbox/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)

demo: setup
	$(PY) tools/demo.py

test: setup lint-py
	$(PY) -m pytest $(PYTEST_ARGS) tests/unit sandbox/tests tests/integration

test-unit: setup
	$(PY) -m pytest $(PYTEST_ARGS) tests/unit

test-sandbox: setup
	$(PY) -m pytest $(PYTEST_ARGS) sandbox/tests

test-integration: setup
	$(PY) -m pytest $(PYTEST_ARGS) tests/integration

lint-py: setup
	$(VENV)/bin/ruff check plugins sandbox tests tools bench

bench: setup
	$(PY) bench/sandbox_throughput.py

clean:
	rm -rf $(VENV) tests/output .pytest_cache .demo

# The documentation site (antsibull-docs reference of every plugin and role, plus the guides in
# docs/) into docs/_build/html; tests/docs/test_docs_site.py opens it in headless Chromium.
docs: setup
	$(PY) tools/build_docs.py
