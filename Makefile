# Two commands: `make run` (the whole system, locally, with demo data) and `make test` (the suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test bench install clean vendor

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Tovholder needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

# Reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,test]'
	@touch $@

install: $(VENV)/.installed

# npm packages (package-lock.json): htmx for the portal (vendored by `make vendor`), and for the tests
# the OpenID provider and axe-core. Reinstalled when the lock file changes.
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

node_modules: node_modules/.installed

# Copy the pinned htmx files into the portal (committed; the portal never loads them from a CDN).
vendor: node_modules/.installed
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.min.js services/portal/static/vendor/

# make run BROKER=kafka runs Apache Kafka (Java 17+) instead of the embedded Tansu.
run: $(VENV)/.installed
	$(BIN)/tovholder up $(if $(BROKER),--broker $(BROKER))

# The npm packages only when Node.js is here; without it the tests that need them say so and skip.
test: $(VENV)/.installed $(if $(shell command -v npm),node_modules/.installed)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf .tovholder node_modules
