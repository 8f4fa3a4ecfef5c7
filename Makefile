# The two commands a new user needs: `make run` and `make test`.
# Both create .venv on first use and install the package into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RAW    ?= raw
OUT    ?= clean

.PHONY: run stages test check-clean bench eval clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's metadata changes.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/cleaner run $(RAW) $(OUT)

# The same output, stage by stage through the JSON Lines commands, with make
# deciding what to redo: the recipe of docs/makefile.md, kept in cleaner.mk.
stages: $(VENV)/.installed
	$(MAKE) --no-print-directory cleaner-all

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# Fails when the committed clean/ is not what `make run` writes today.
check-clean: $(VENV)/.installed
	rm -rf .check-clean && $(BIN)/cleaner run $(RAW) .check-clean/$(OUT) --quiet
	diff -r $(OUT) .check-clean/$(OUT) && rm -rf .check-clean

# Speed against a baseline timed in the same run; see benchmarks/README.md.
bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks

# Cleaning quality on generated pages with known truth; see benchmarks/README.md.
eval: $(VENV)/.installed
	$(BIN)/python -m benchmarks cleaning

clean-venv:
	rm -rf $(VENV)

CLEANER := $(BIN)/cleaner
include cleaner.mk
