# The two set-up commands of the README: `make run` and `make test`. Each creates the virtual
# environment and installs the pinned requirements on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench evaluate clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/python -m geo gazetteer build
	touch $@

run: $(BIN)/.installed
	$(BIN)/streamlit run dashboard.py

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q tests

bench: $(BIN)/.installed
	$(BIN)/python -m geo bench

evaluate: $(BIN)/.installed
	$(BIN)/python -m geo evaluate

clean:
	rm -rf $(VENV)
