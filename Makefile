# processmaker.core: every entry point a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt sandbox/pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: help setup demo test test-deep test-unit test-sandbox test-integration test-faults bench lint-py clean lint docs doc-fragment

help:
	@echo "make setup            - create $(VENV) with everything the tests and the demo need"
	@echo "make demo             - start a local pm_sandbox, run playbooks/demo.yml against it, stop it"
	@echo "make test             - ruff, then the tests (unit, sandbox, integration, docs site) on every core"
	@echo "make test-deep        - the long scenarios and the full property runs (CI runs both)"
	@echo "make test-unit        - only the unit tests (tests/unit)"
	@echo "make test-sandbox     - only pm_sandbox's own tests (sandbox/tests)"
	@echo "make test-integration - only the integration tests (tests/integration: real ansible-playbook runs)"
	@echo "make test-faults      - the reliability scenarios: faults, latency, races (tests/faults)"
	@echo "make test-matrix      - the tests on the oldest and newest supported ansible-core ($(MATRIX))"
	@echo "  PYTEST_ARGS='...'   - extra pytest arguments for any test target, e.g. PYTEST_ARGS='-x -k doc_snippets'"
	@echo "make lint-py          - ruff over the Python code"
	@echo "make doc-fragment     - render plugins/doc_fragments/connection.py from the option table"
	@echo "make lint             - sanity, ansible-lint, galaxy-importer, changelog and EE checks"
	@echo "make collection-build - build the collection tarball into $(DIST)"
	@echo "make changelog        - CHANGELOG.rst from changelogs/fragments"
	@echo "make bench            - run the benchmarks in bench/ and print their figures"
	@echo "make docs             - build the documentation site into docs/_build/html"
	@echo "make clean            - remove $(VENV), tests/output and the demo's files"

$(STAMP): requirements.txt requirements-dev.txt sandbox/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)

demo: setup
	$(PY) tools/demo.py

# Tests run on every core (pytest-xdist; each worker has its own sandboxes) and print the 15 slowest. One
# worker more than the cores: the tests wait on playbooks, servers and clocks, and a third worker fills the
# two cores' idle time (make test 295 s with 2 workers, 276 s with 3, on a quiet 2-core machine).
TEST_WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN) + 1 )))
XDIST := -n $(TEST_WORKERS) --dist worksteal
SUITES := tests/unit sandbox/tests tests/integration tests/docs

test: setup lint-py
	$(PY) -m pytest $(XDIST) -m "not deep" $(PYTEST_ARGS) $(SUITES)

# The long scenarios (molecule, TLS, many hosts...) and every property test in full; CI runs it too.
test-deep: setup
	PM_TEST_DEEP=1 $(PY) -m pytest $(XDIST) -m "deep or property" $(PYTEST_ARGS) $(SUITES)

test-unit: setup
	$(PY) -m pytest $(PYTEST_ARGS) tests/unit

test-sandbox: setup
	$(PY) -m pytest $(PYTEST_ARGS) sandbox/tests

test-integration: setup
	$(PY) -m pytest $(PYTEST_ARGS) tests/integration

# Slower scenarios with injected faults and latency (docs/reliability.md); .ci/run runs them too.
test-faults: setup
	$(PY) -m pytest $(PYTEST_ARGS) tests/faults

lint-py: setup
	$(VENV)/bin/ruff check plugins sandbox tests tools bench

# The connection doc fragment is static YAML rendered from the option table (plugins/module_utils/options.py).
doc-fragment: setup
	$(PY) tools/render_doc_fragment.py

bench: setup
	$(PY) bench/sandbox_throughput.py

clean:
	rm -rf $(VENV) tests/output .pytest_cache .demo

# The documentation site (antsibull-docs reference of every plugin and role, plus the guides in
# docs/) into docs/_build/html; tests/docs/test_docs_site.py opens it in headless Chromium.
docs: setup
	$(PY) tools/build_docs.py


# ---------------------------------------------------------------------------------------------
# Ecosystem checks: `make lint` (ansible-test sanity, ansible-lint, galaxy-importer, changelog
# fragments, execution environment), `make changelog`, `make test-matrix`. Each tool gets its own
# virtualenv under tests/output/ (gitignored, outside the built collection, removed by `make clean`),
# so their pins never meet the test venv's. See docs/awx.md and tools/sanity.sh for the why.
OUT := tests/output
LINT_PYTHON_VERSION ?= 3.13
LINT_VENV := $(OUT)/venv-lint
LINT_PACKAGES := "ansible-core==2.21.*" "ansible-lint==26.10.*" "antsibull-changelog==0.36.*" "ansible-builder==3.2.*"
LINT_STAMP := $(LINT_VENV)/.installed-$(shell echo '$(LINT_PACKAGES) $(LINT_PYTHON_VERSION)' | sha1sum | cut -c1-12)
IMPORTER_VENV := $(OUT)/venv-importer
IMPORTER_PACKAGES := "galaxy-importer==0.4.*"
IMPORTER_STAMP := $(IMPORTER_VENV)/.installed-$(shell echo '$(IMPORTER_PACKAGES)' | sha1sum | cut -c1-12)
SANITY_PYTHON ?= $(LINT_PYTHON_VERSION)
SANITY_ARGS ?=
DIST := $(OUT)/dist
# oldest and newest ansible-core that meta/runtime.yml claims (requires_ansible: ">=2.17.0"),
# each on a Python it supports as a controller: "<ansible-core minor>:<python version>"
MATRIX ?= 2.17:3.11 2.21:3.13
MATRIX_EXTRA := "ansible-runner>=2.4,<3"
MATRIX_TESTS ?= tests/unit sandbox/tests tests/integration

.PHONY: lint lint-tools lint-sanity lint-ansible lint-galaxy lint-changelog lint-ee collection-build changelog test-matrix sanity-matrix

$(LINT_STAMP):
	@rm -rf $(LINT_VENV)
	$$(tools/find_python.sh $(LINT_PYTHON_VERSION)) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(LINT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(LINT_PACKAGES)
	@touch $@

$(IMPORTER_STAMP):
	@rm -rf $(IMPORTER_VENV)
	$$(tools/find_python.sh 3.11) -m venv $(IMPORTER_VENV)
	$(IMPORTER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(IMPORTER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(IMPORTER_PACKAGES)
	@touch $@

lint-tools: $(LINT_STAMP) $(IMPORTER_STAMP)

# The tarball users get: files git knows (tracked + untracked-not-ignored), minus galaxy.yml's build_ignore.
collection-build: $(LINT_STAMP)
	tools/build_collection.sh $(LINT_VENV)/bin/ansible-galaxy $(DIST)

# Every check runs even when an earlier one fails; the target fails if any failed, and says which.
lint: lint-tools
	@failed=""; \
	for step in lint-py lint-changelog lint-sanity lint-ansible lint-galaxy lint-ee; do \
	  echo "=== make $$step"; start=$$(date +%s); \
	  if $(MAKE) --no-print-directory $$step; then echo "=== $$step: passed ($$(( $$(date +%s) - start ))s)"; \
	  else echo "=== $$step: FAILED ($$(( $$(date +%s) - start ))s)"; failed="$$failed $$step"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "lint: failed:$$failed"; exit 1; fi; echo "lint: all passed"

# ansible-test sanity on the built tarball (plus tests/sanity/ ignore files), in ansible-test's own venvs.
lint-sanity: collection-build
	tools/sanity.sh $(LINT_VENV) $$(ls -t $(DIST)/processmaker-core-*.tar.gz | head -1) $(SANITY_PYTHON) $(SANITY_ARGS)

# ansible-lint, production profile (.ansible-lint), over the playbooks and roles of the checkout.
lint-ansible: $(LINT_STAMP)
	@mkdir -p $(OUT)/collections/ansible_collections/processmaker  # the view tests/conftest.py makes too
	@test -e $(OUT)/collections/ansible_collections/processmaker/core || ln -s $(CURDIR) $(OUT)/collections/ansible_collections/processmaker/core
	PATH="$(CURDIR)/$(LINT_VENV)/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/$(OUT)/collections" \
	  $(LINT_VENV)/bin/ansible-lint --profile production --nocolor playbooks roles

# galaxy-importer on the tarball, without its ansible-test step (needs a container engine).
lint-galaxy: collection-build $(IMPORTER_STAMP)
	cd $(OUT) && GALAXY_IMPORTER_CONFIG="$(CURDIR)/tools/galaxy-importer.cfg" PATH="$(CURDIR)/$(IMPORTER_VENV)/bin:$$PATH" \
	  $(CURDIR)/$(IMPORTER_VENV)/bin/python -m galaxy_importer.main $$(ls -t dist/processmaker-core-*.tar.gz | head -1) \
	  | tee importer.log
	@! grep -E '^(ERROR|CRITICAL)' $(OUT)/importer.log

lint-changelog: $(LINT_STAMP)
	$(LINT_VENV)/bin/antsibull-changelog lint

# meta/execution-environment.yml: ansible-builder introspects the built collection (requirements.txt,
# bindep.txt found through the EE file) and writes a build context from it (no image: no container engine).
lint-ee: collection-build
	tools/check_ee.sh $(LINT_VENV) $$(ls -t $(DIST)/processmaker-core-*.tar.gz | head -1)

# CHANGELOG.rst from changelogs/fragments/ for the version in galaxy.yml (refreshes that release's entry).
changelog: $(LINT_STAMP)
	PATH="$(CURDIR)/$(LINT_VENV)/bin:$$PATH" $(LINT_VENV)/bin/antsibull-changelog release --update-existing \
	  --version $$(sed -n 's/^version: *//p' galaxy.yml)

# ansible-test sanity (no ignore file) on every ansible-core the collection supports, each in a venv of
# its own with just that ansible-core: "<ansible-core minor>:<python version>".
SANITY_MATRIX ?= 2.17:3.11 2.19:3.11 2.21:3.13

sanity-matrix:
	@failed=""; \
	for entry in $(SANITY_MATRIX); do \
	  core=$${entry%%:*}; py=$${entry##*:}; venv=$(OUT)/venv-sanity-$$core; \
	  echo "=== ansible-test sanity, ansible-core $$core on Python $$py"; \
	  if [ ! -x $$venv/bin/ansible-test ]; then \
	    rm -rf $$venv && $$(tools/find_python.sh $$py) -m venv $$venv && \
	    $$venv/bin/python -m pip install --quiet --disable-pip-version-check "ansible-core==$$core.*" \
	      || { failed="$$failed $$core(install)"; continue; }; \
	  fi; \
	  tools/build_collection.sh $$venv/bin/ansible-galaxy $(OUT)/dist-$$core >/dev/null && \
	  SANITY_ROOT=$${TMPDIR:-/tmp}/processmaker-core-sanity-$$core tools/sanity.sh $$venv \
	    $$(ls -t $(OUT)/dist-$$core/processmaker-core-*.tar.gz | head -1) $$py \
	    && echo "=== sanity $$core: passed" || { echo "=== sanity $$core: FAILED"; failed="$$failed $$core"; }; \
	done; \
	if [ -n "$$failed" ]; then echo "sanity-matrix: failed:$$failed"; exit 1; fi; echo "sanity-matrix: all passed"

# The suite on the oldest and newest ansible-core meta/runtime.yml claims, each in its own venv with
# requirements-dev.txt and the ansible-core pin overridden, then sanity on 2.17, 2.19 and 2.21 (above).
# Runs every entry, then fails if any failed.
test-matrix: sanity-matrix
	@failed=""; \
	for entry in $(MATRIX); do \
	  core=$${entry%%:*}; py=$${entry##*:}; venv=$(OUT)/venv-matrix-$$core; \
	  stamp=$$venv/.installed-$$(cat requirements.txt requirements-dev.txt sandbox/pyproject.toml | sha1sum | cut -c1-12); \
	  echo "=== ansible-core $$core on Python $$py ($$venv)"; start=$$(date +%s); \
	  if [ ! -e $$stamp ]; then \
	    rm -rf $$venv && $$(tools/find_python.sh $$py) -m venv $$venv && \
	    $$venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip && \
	    $$venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt \
	      "ansible-core==$$core.*" $(MATRIX_EXTRA) && touch $$stamp || { failed="$$failed $$core(install)"; continue; }; \
	  fi; \
	  $$venv/bin/ansible --version | head -1; \
	  if $$venv/bin/python -m pytest -p no:cacheprovider --continue-on-collection-errors $(XDIST) $(PYTEST_ARGS) $(MATRIX_TESTS); then \
	    echo "=== ansible-core $$core: passed ($$(( $$(date +%s) - start ))s)"; \
	  else echo "=== ansible-core $$core: FAILED ($$(( $$(date +%s) - start ))s)"; failed="$$failed $$core"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "test-matrix: failed:$$failed"; exit 1; fi; echo "test-matrix: all passed"
